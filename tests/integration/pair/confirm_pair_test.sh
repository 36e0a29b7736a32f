#!/bin/bash
# Confirmation pairing (trust on first use that is not blind) end to end on loopback, with the
# real simulator as an accessory that has no setup secret at all (--pairing-method confirm,
# provisioned, listening on 127.0.0.1, no avahi) and the real CLI:
#  1. bad flags: an unknown method, --pairing-method confirm on an accessory that has setup
#     secrets, and on a state directory holding a setup-credentials file, are refused naming
#     the flag (exit 2), and leave nothing behind;
#  2. the accessory makes, prints and loads no setup secret: no payload, no code, no
#     setup-credentials or setup-label; `ctl status` says pairing_method confirm, setup_code null;
#  3. `lanyard pair --tofu ID@127.0.0.1:PORT --yes` pairs as admin (pin method tofu) and the
#     six-digit code the CLI showed is the one the accessory printed; `lanyard controllers list`
#     shows the controller as the accessory's admin;
#  4. the CLI asks only once the accessory shows its code; an app whose user answers "n" pins
#     nothing (exit 1) (the accessory, which cannot confirm, has paired it);
#  5. a payload or a setup code is refused as a method the accessory does not offer, and costs
#     no attempt;
#  6. the pairing window still rules: another app pairs as user while it is open; once closed,
#     the next one is refused;
#  7. the method is kept in device.conf: a contradicting --pairing-method secret is refused,
#     and a restart without the flag pairs by confirmation again, its controllers kept.
#
#   confirm_pair_test.sh   (BUILD names the build directory)
set -u
BUILD=${BUILD:?BUILD must name the build directory}
LANYARD=$BUILD/bin/lanyard
SIM=$BUILD/bin/lanyard-accessory-sim
HELPER=$BUILD/tests/make_payload
for t in "$LANYARD" "$SIM" "$HELPER"; do
  [ -x "$t" ] || { echo "FAILED: $t not built"; exit 1; }
done
command -v jq >/dev/null || { echo "FAILED: jq is not installed (scripts/bootstrap)"; exit 1; }

dir=$(mktemp -d /tmp/lanyard-confirm.XXXXXX)
sim_pid=
cleanup() {
  [ -n "$sim_pid" ] && kill -9 "$sim_pid" 2>/dev/null && wait "$sim_pid" 2>/dev/null
  if [ -n "${LANYARD_PAIR_KEEP:-}" ]; then echo "kept: $dir"; else rm -rf "$dir"; fi
}
# INT and TERM end the script (a bare cleanup trap would return into it and carry on).
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

# expect STATUS CMD...: runs CMD with standard input from $stdin_file (default: nothing), keeps
# $out and $err, and fails unless it exited STATUS.
stdin_file=/dev/null
expect() {
  want=$1; shift
  "$@" >"$dir/out" 2>"$dir/err" <"$stdin_file"; got=$?
  out=$(cat "$dir/out"); err=$(cat "$dir/err")
  [ "$got" -eq "$want" ] || fail "'$*' exited $got, expected $want (stdout: $out stderr: $err)"
}
contains() { case "$1" in *"$2"*) ;; *) fail "expected '$2' in: $1" ;; esac; }

# Events of a simulator log (--json-events; anything else on the line is skipped).
events() { jq -R -c "fromjson? | select($2)" "$1" 2>/dev/null; }
count() { events "$1" "$2" | wc -l; }
# start_sim STATE LOG READY-COUNT [FLAGS...]: starts the accessory on 127.0.0.1 (a port of its
# own choosing, read from its ready line) and waits for its READY-COUNTth ready line.
start_sim() {
  local state=$1 log=$2 n=$3
  shift 3
  "$SIM" --state-dir "$state" --kind lamp --id lamp-9 --no-advertise --json-events \
    --listen 127.0.0.1:0 --pairing-delay-ms 20 "$@" >>"$log" 2>&1 &
  sim_pid=$!
  i=0
  until [ "$(count "$log" '.event=="ready"')" -ge "$n" ]; do
    i=$((i + 1))
    kill -0 "$sim_pid" 2>/dev/null && [ $i -lt 200 ] || {
      echo "FAILED: the simulator did not start"; cat "$log"; exit 1
    }
    sleep 0.05
  done
  port=$(events "$log" '.event=="ready"' | tail -n 1 | jq -r .port)
  addr="127.0.0.1:$port"
}
stop_sim() {
  kill -TERM "$sim_pid"
  wait "$sim_pid"; got=$?
  sim_pid=
  [ "$got" -eq 0 ] || fail "the simulator exited $got after SIGTERM, expected 0"
}
ts() { echo "--trust-store $dir/$1.ts --identity-dir $dir/$1.id --timeout 10"; }
# The verification code the CLI showed ("  verification code: 123 456" on stderr), as 6 digits.
cli_code() { printf '%s\n' "$1" | sed -n 's/^ *verification code: \([0-9]\{3\}\) \([0-9]\{3\}\)$/\1\2/p'; }

# --- 1. bad flags --------------------------------------------------------------------------------
expect 2 "$SIM" --state-dir "$dir/bad" --kind lamp --pairing-method maybe
contains "$err" "--pairing-method must be secret"
[ ! -e "$dir/bad" ] || fail "a bad --pairing-method created the state directory"
# An accessory with setup secrets (the default) never starts pairing without their proof.
"$SIM" set-wifi --state-dir "$dir/secret" --ssid HomeLAN >/dev/null || fail "set-wifi"
start_sim "$dir/secret" "$dir/secret.log" 1
[ -s "$dir/secret/setup-credentials" ] || fail "the secret accessory made no setup-credentials"
stop_sim
expect 2 "$SIM" --state-dir "$dir/secret" --pairing-method confirm --no-advertise
contains "$err" "--pairing-method confirm contradicts it"
# A state directory without device.conf but with a setup secret in it (copied, or device.conf
# removed): refused before anything is written.
mkdir -m 700 "$dir/copied"
cp "$dir/secret/setup-credentials" "$dir/copied/"
expect 2 "$SIM" --state-dir "$dir/copied" --kind lamp --pairing-method confirm --no-advertise
contains "$err" "--pairing-method confirm: $dir/copied/setup-credentials holds a setup secret"
[ ! -e "$dir/copied/device.conf" ] || fail "a refused start wrote device.conf"
pass "bad --pairing-method values and accessories with setup secrets are refused, naming the flag"

# --- 2. an accessory without any setup secret ---------------------------------------------------
state="$dir/acc"
log="$dir/acc.log"
"$SIM" set-wifi --state-dir "$state" --ssid HomeLAN >/dev/null || fail "set-wifi"
start_sim "$state" "$log" 1 --pairing-method confirm
status() { "$SIM" ctl --state-dir "$state" status; }
attempts_failed() { status | jq -r '.pairing_window.describe' | sed -n 's/.*(\([0-9]*\) of 20 attempts failed).*/\1/p'; }
codes() { events "$log" '.event=="verification-code"' | jq -r .value; }
pairings() { count "$log" '.event=="pairing"'; }

[ "$(events "$log" '.event=="ready"' | jq -r .pairing_method)" = confirm ] || fail "ready does not say pairing_method confirm"
[ "$(count "$log" '.event=="payload" or .event=="code"')" = 0 ] || fail "the accessory printed a payload or code"
[ "$(status | jq -r .pairing_method)" = confirm ] || fail "ctl status: pairing_method is not confirm: $(status)"
[ "$(status | jq -r .setup_code)" = null ] || fail "ctl status claims a setup_code: $(status)"
[ "$(status | jq -r .payload)" = null ] || fail "ctl status claims a payload: $(status)"
[ "$(status | jq -r .pairing_window.open)" = true ] || fail "the window is not open on first boot"
for f in setup-credentials setup-label; do
  [ ! -e "$state/$f" ] || fail "the accessory made $f"
done
grep -qx "pairing confirm" "$state/device.conf" || fail "device.conf does not keep the method"
pass "no payload, no code, no setup secrets on disk; ctl status says pairing_method confirm"

# --- 3. the owner pairs by confirmation -----------------------------------------------------------
expect 0 "$LANYARD" pair --tofu "lamp-9@$addr" --yes --name owner-phone $(ts owner) --json
contains "$out" '"pinned_by":"tofu"'
contains "$out" '"role":"admin"'
contains "$out" "\"fingerprint\":\"$(status | jq -r .fingerprint)\""
shown=$(cli_code "$err")
printed=$(codes | tail -n 1)
case "$shown" in [0-9][0-9][0-9][0-9][0-9][0-9]) ;; *) fail "the CLI showed no six-digit code: $err" ;; esac
case "$printed" in [0-9][0-9][0-9][0-9][0-9][0-9]) ;; *) fail "the accessory printed no six-digit code" ;; esac
[ "$shown" = "$printed" ] || fail "the CLI showed $shown, the accessory printed $printed"
[ "$(codes | wc -l)" = 1 ] || fail "expected one verification-code line, got $(codes | wc -l)"
p=$(events "$log" '.event=="pairing"' | tail -n 1)
[ "$(printf '%s' "$p" | jq -r '.method + " " + .result + " " + .role')" = "confirmation paired admin" ] ||
  fail "unexpected pairing event: $p"
expect 0 "$LANYARD" controllers list lamp-9 --address "$addr" $(ts owner) --json
[ "$(printf '%s' "$out" | jq length)" = 1 ] || fail "controllers list: $out"
owner_fp=$(status | jq -r '.controllers[] | select(.name=="owner-phone") | .fingerprint')
[ -n "$owner_fp" ] || fail "the accessory does not list owner-phone: $(status)"
[ "$(printf '%s' "$out" | jq -r '.[] | select(.name=="owner-phone") | .role + " " + .fingerprint')" = "admin $owner_fp" ] ||
  fail "controllers list does not show owner-phone as admin ($owner_fp): $out"
pass "--tofu --yes pairs as admin, pinned by tofu; the CLI's code $shown is the accessory's; controllers list shows it"

# --- 4. the user says no --------------------------------------------------------------------------
# The question comes once the accessory shows its code (the user can compare only then): the
# answer is written only after the accessory printed a second code, through a FIFO the CLI
# blocks on. A CLI that asked before pairing would never see the code appear and time out here.
mkfifo "$dir/answer"
"$LANYARD" pair --tofu "lamp-9@$addr" --name declined $(ts declined) \
  <"$dir/answer" >"$dir/out" 2>"$dir/err" &
cli=$!
exec 7>"$dir/answer"
shown_before_answer=no
for _ in $(seq 100); do
  if [ "$(codes | wc -l)" = 2 ]; then shown_before_answer=yes; break; fi
  sleep 0.1
done
printf 'n\n' >&7
exec 7>&-
wait "$cli"; got=$?
err=$(cat "$dir/err")
[ "$shown_before_answer" = yes ] || fail "the accessory showed no code while the CLI waited for the answer: $err"
[ "$got" = 1 ] || fail "declining exited $got, expected 1: $err"
contains "$err" "Same code? Trust this accessory? [y/N]"
contains "$err" "not confirmed; the accessory's key was not pinned"
[ "$(cli_code "$err")" = "$(codes | tail -n 1)" ] || fail "the declined app's code is not the accessory's: $err"
if "$LANYARD" trust show lamp-9 --trust-store "$dir/declined.ts" >/dev/null 2>&1; then
  fail "the declined app pinned the accessory"
fi
# The accessory has no way to confirm: it paired whoever asked while its window was open (the
# CLI's message says so, and what to do if the codes differed).
[ "$(status | jq '.controllers | length')" = 2 ] || fail "expected the declined app on the accessory: $(status)"
pass "the question comes after the accessory showed its code; answering n pins nothing"

# --- 5. a payload or a code: not what this accessory offers ----------------------------------------
forged=$("$HELPER" payload lamp-9 "$(status | jq -r .fingerprint)") || fail "make_payload payload"
expect 1 "$LANYARD" pair "$forged" --address "$addr" $(ts stranger)
contains "$err" "does not offer this way of pairing"
guess=$("$HELPER" guess-code none "$RANDOM") || fail "make_payload guess-code"
expect 1 "$LANYARD" pair --code "$guess" --address "$addr" $(ts stranger)
contains "$err" "does not offer this way of pairing"
if "$LANYARD" trust show lamp-9 --trust-store "$dir/stranger.ts" >/dev/null 2>&1; then
  fail "a refused payload or code pinned the accessory"
fi
[ "$(events "$log" '.event=="pairing" and .result=="failed"' | jq -r .method | sort | tr '\n' ' ')" = "code payload " ] ||
  fail "expected one failed payload and one failed code exchange in the accessory's log"
[ "$(status | jq '.controllers | length')" = 2 ] || fail "a payload or code got paired: $(status)"
[ "$(attempts_failed)" = 0 ] || fail "asking for a method it does not offer cost attempts: $(attempts_failed)"
pass "a payload or a setup code is refused (method not offered) and costs no attempt"

# --- 6. the pairing window still rules ------------------------------------------------------------
expect 0 "$LANYARD" pair --tofu "lamp-9@$addr" --yes --name tablet $(ts tablet) --json
contains "$out" '"role":"user"'
[ "$(cli_code "$err")" = "$(codes | tail -n 1)" ] || fail "second pairing: the codes differ"
[ "$(codes | wc -l)" = 3 ] || fail "expected a third verification-code line"
"$SIM" ctl --state-dir "$state" pairing-window close >/dev/null || fail "ctl pairing-window close"
expect 1 "$LANYARD" pair --tofu "lamp-9@$addr" --yes --name late $(ts late)
contains "$err" "pairing window is closed"
if "$LANYARD" trust show lamp-9 --trust-store "$dir/late.ts" >/dev/null 2>&1; then
  fail "the app refused by the closed window pinned the accessory"
fi
[ "$(status | jq '.controllers | length')" = 3 ] || fail "expected 3 controllers: $(status)"
pass "a second app pairs as user while the window is open; with the window closed it is refused"

# --- 7. the method is the accessory's ------------------------------------------------------------
stop_sim
expect 2 "$SIM" --state-dir "$state" --pairing-method secret --no-advertise
contains "$err" "--pairing-method secret contradicts it"
[ ! -e "$state/setup-credentials" ] || fail "the refused start made setup-credentials"
start_sim "$state" "$log" 2
[ "$(status | jq -r .pairing_method)" = confirm ] || fail "restarted without the flag, not confirm: $(status)"
[ "$(status | jq '.controllers | length')" = 3 ] || fail "the restart lost controllers: $(status)"
expect 0 "$LANYARD" controllers list lamp-9 --address "$addr" $(ts owner) --json
[ "$(printf '%s' "$out" | jq length)" = 3 ] || fail "controllers list after the restart: $out"
pass "device.conf keeps the method: --pairing-method secret is refused; a restart stays confirm"

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s); accessory log:"
  tail -n 30 "$log"
  exit 1
fi
echo "PASSED"
