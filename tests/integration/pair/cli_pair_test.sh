#!/bin/bash
# Pairing end to end on loopback with the real simulator (setup mode on 127.0.0.1, no avahi) and
# the real CLI, as the owner and as a neighbour on the same network would try it:
#  1. bad input (payload, code typo, --tofu without an id) is refused before any network use;
#  2. a stranger without the secret — `--tofu`, a forged payload, a channel without pairing,
#     `lanyard provision` — leaves the accessory unpaired and in setup mode, and costs the owner
#     at most the attempts it really made;
#  3. a flood of bare connections, garbage and TLS handshakes without proof locks nobody out;
#  4. the owner pairs with the payload (admin), a second app with the code (user); the user's
#     wifi_set is refused; re-pairing works and pins are kept;
#  5. 20 wrong codes close the window, across a SIGKILL of the accessory; the 21st (right) code is
#     refused; the pairing button (ctl pairing-window open) lets the owner in.
#
#   cli_pair_test.sh   (BUILD names the build directory)
set -u
BUILD=${BUILD:?BUILD must name the build directory}
LANYARD=$BUILD/bin/lanyard
SIM=$BUILD/bin/lanyard-accessory-sim
HELPER=$BUILD/tests/make_payload
for t in "$LANYARD" "$SIM" "$HELPER"; do
  [ -x "$t" ] || { echo "FAILED: $t not built"; exit 1; }
done
command -v jq >/dev/null || { echo "FAILED: jq is not installed (scripts/bootstrap)"; exit 1; }
command -v openssl >/dev/null || { echo "FAILED: openssl is not installed (scripts/bootstrap)"; exit 1; }

dir=$(mktemp -d /tmp/lanyard-pair.XXXXXX)
sim_pid=
tablet_pid=
cleanup() {
  [ -n "$tablet_pid" ] && kill -9 "$tablet_pid" 2>/dev/null
  [ -n "$sim_pid" ] && kill -9 "$sim_pid" 2>/dev/null && wait "$sim_pid" 2>/dev/null
  if [ -n "${LANYARD_PAIR_KEEP:-}" ]; then echo "kept: $dir"; else rm -rf "$dir"; fi
}
trap cleanup EXIT INT TERM
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

expect() {
  want=$1; shift
  "$@" >"$dir/out" 2>"$dir/err" </dev/null; got=$?
  out=$(cat "$dir/out"); err=$(cat "$dir/err")
  [ "$got" -eq "$want" ] || fail "'$*' exited $got, expected $want (stdout: $out stderr: $err)"
}
contains() { case "$1" in *"$2"*) ;; *) fail "expected '$2' in: $1" ;; esac; }
# With --json a failure prints an error event on stdout: the facts are checked there (code,
# fields); the stderr sentence is for people (one golden check per kind).
# shellcheck source=../../lib/error_event.sh
. "$(dirname "$0")/../../lib/error_event.sh"

port=$((20000 + RANDOM % 20000))
state="$dir/acc"
log="$dir/acc.log"
start_sim() {
  "$SIM" --state-dir "$state" --kind lamp --id lamp-7 --no-advertise --no-qr --json-events \
    --softap-address 127.0.0.1 --softap-port "$port" --pairing-delay-ms 20 >>"$log" 2>&1 &
  sim_pid=$!
  i=0
  until [ "$(jq -R -c 'fromjson? | select(.event=="ready")' "$log" 2>/dev/null | wc -l)" -ge "$1" ]; do
    i=$((i + 1))
    [ $i -lt 200 ] || { echo "FAILED: the simulator did not start"; cat "$log"; exit 1; }
    sleep 0.05
  done
}
status() { "$SIM" ctl --state-dir "$state" status; }
attempts_failed() { status | jq -r '.pairing_window.describe' | sed -n 's/.*(\([0-9]*\) of 20 attempts failed).*/\1/p'; }

start_sim 1
payload=$(jq -R -r 'fromjson? | select(.event=="payload") | .value' "$log" | tail -n 1)
code=$(jq -R -r 'fromjson? | select(.event=="code") | .value' "$log" | tail -n 1)
case "$payload" in LNY1:*) ;; *) echo "FAILED: no payload line"; cat "$log"; exit 1 ;; esac
case "$code" in [0-9][0-9][0-9][0-9]-[0-9][0-9][0-9][0-9]) ;; *) echo "FAILED: no code line"; exit 1 ;; esac
[ "$(status | jq -r .setup_code)" = "$code" ] || fail "ctl status has no setup_code"
[ "$(status | jq -r .payload)" = "$payload" ] || fail "ctl status has no payload"
[ "$(stat -c %a "$state/setup-credentials")" = 600 ] || fail "setup-credentials is not 0600"
[ "$(stat -c %a "$state/setup-label")" = 600 ] || fail "setup-label is not 0600"
if grep -q "${code%-*}${code#*-}" "$state/setup-credentials"; then fail "the code is stored in setup-credentials"; fi
addr="127.0.0.1:$port"

# --- 1. bad input never reaches the network -------------------------------------------------
ts() { echo "--trust-store $dir/$1.ts --identity-dir $dir/$1.id --timeout 10"; }
expect 2 "$LANYARD" pair "LNY1:NOT-A-PAYLOAD" --address "$addr" $(ts never) --json
contains "$err" "lanyard pair: "
error_is '.code | startswith("lanyard.payload.")' true
error_is .exit 2
[ ! -e "$dir/never.id" ] || fail "a malformed payload created the controller identity"
wrong_digit=$(printf '%s' "$code" | sed 's/^\(.\)/X\1/; s/^X0/1/; s/^X[1-9]/0/')
expect 2 "$LANYARD" pair --code "$wrong_digit" --address "$addr" $(ts never) --json
contains "$err" "check digit"
error_is .code lanyard.setup_code.check_digit_mismatch
expect 2 "$LANYARD" pair --tofu "$addr" $(ts never) --json
error_is .code lanyard.cli.bad_argument
[ ! -e "$dir/never.id" ] || fail "a bad code created the controller identity"
[ "$(attempts_failed)" = 0 ] || fail "bad input cost attempts"
pass "bad input is refused before any network use"

# --- 2. the stranger -------------------------------------------------------------------------
expect 1 "$LANYARD" pair --tofu "lamp-7@$addr" --yes $(ts stranger) --json
contains "$err" "does not offer this way of pairing"
error_is .code lanyard.pairing.method_not_supported
acc_fp=$(status | jq -r .fingerprint)
if "$LANYARD" trust show lamp-7 --trust-store "$dir/stranger.ts" >/dev/null 2>&1; then
  fail "the stranger's --tofu pinned the accessory"
fi
# A payload forged from what anyone can see (id, the key from a TLS handshake), with a guessed secret.
fp_hex=$(openssl s_client -connect "$addr" -alpn lanyard/1 </dev/null 2>/dev/null |
  openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | sha256sum | cut -c1-64)
forged=$("$HELPER" payload lamp-7 "$fp_hex") || fail "make_payload"
expect 1 "$LANYARD" pair "$forged" --address "$addr" $(ts stranger) --json
contains "$err" "wrong setup code or payload"
error_is .code lanyard.pairing.wrong_proof
error_is '.conditions | index("authentication_failed") != null' true
error_is .fields.attempts_left 19
printf 'neighbour-pass\n' >"$dir/pass"
expect 1 "$LANYARD" provision "$forged" --ssid Evil --passphrase-file "$dir/pass" \
  --address "$addr" $(ts stranger2)
contains "$err" "wrong setup code or payload"
[ "$(status | jq -r .mode)" = setup ] || fail "the stranger moved the accessory out of setup mode"
[ "$(status | jq '.controllers | length')" = 0 ] || fail "the stranger got paired"
[ "$(attempts_failed)" = 2 ] || fail "expected the stranger's 2 wrong proofs to count, got $(attempts_failed)"
pass "a stranger without the secret pairs nothing, provisions nothing; its 2 guesses counted"

# --- 3. a flood that proves nothing -----------------------------------------------------------
for i in $(seq 1 30); do
  (exec 3<>/dev/tcp/127.0.0.1/$port && exec 3>&-) 2>/dev/null
  (exec 3<>/dev/tcp/127.0.0.1/$port && printf 'GET / HTTP/1.0\r\n\r\n' >&3 && exec 3>&-) 2>/dev/null
done
for i in $(seq 1 10); do
  openssl s_client -connect "$addr" -alpn lanyard/1 </dev/null >/dev/null 2>&1
done
sleep 0.5
[ "$(attempts_failed)" = 2 ] || fail "the flood counted as attempts: $(attempts_failed)"
pass "60 bare or garbage connections and 10 TLS handshakes without proof cost nothing"

# --- 4. the owner, a second app, roles --------------------------------------------------------
expect 0 "$LANYARD" pair "$payload" --address "$addr" $(ts owner) --json
contains "$out" '"pinned_by":"verified"'
contains "$out" '"role":"admin"'
expect 0 "$LANYARD" pair --code "$code" --address "$addr" $(ts second) --name tablet --json
contains "$out" '"pinned_by":"code"'
contains "$out" '"role":"user"'
contains "$out" "\"fingerprint\":\"$acc_fp\""
[ "$(attempts_failed)" = 2 ] || fail "a success changed the count of failed proofs: $(attempts_failed)"
expect 1 "$LANYARD" provision "$payload" --ssid HomeLAN --passphrase-file "$dir/pass" \
  --address "$addr" $(ts second)
contains "$err" "only its admin"
[ "$(status | jq -r .mode)" = setup ] || fail "the user's wifi_set provisioned the accessory"
expect 0 "$LANYARD" pair "$payload" --address "$addr" $(ts owner) --json
contains "$out" '"role":"admin"'
[ "$(status | jq '.controllers | length')" = 2 ] || fail "expected 2 controllers"
pass "the owner pairs by payload (admin), a second app by code (user); a user cannot provision"

# --- managing controllers from the app ---------------------------------------------------------
expect 0 "$LANYARD" controllers list lamp-7 --address "$addr" $(ts owner) --json
[ "$(printf '%s' "$out" | jq length)" = 2 ] || fail "controllers list: $out"
[ "$(printf '%s' "$out" | jq -r '.[]|select(.name=="tablet")|.role')" = user ] || fail "no tablet user: $out"
tablet_fp=$(printf '%s' "$out" | jq -r '.[]|select(.name=="tablet")|.fingerprint')
owner_fp=$(printf '%s' "$out" | jq -r '.[]|select(.role=="admin")|.fingerprint')
expect 1 "$LANYARD" controllers list lamp-7 --address "$addr" $(ts second)
contains "$err" "not an admin"
expect 1 "$LANYARD" controllers list lamp-7 --address "$addr" $(ts second) --json
error_is .code lanyard.trust.not_admin
error_is .fields.reason not_admin
error_is '.conditions | index("policy") != null' true
expect 1 "$LANYARD" controllers remove lamp-7 "$owner_fp" --address "$addr" $(ts owner) --json
error_is .code lanyard.trust.last_admin
error_is .exit 1
expect 2 "$LANYARD" controllers role lamp-7 "$tablet_fp" boss --address "$addr" $(ts owner) --json
error_is .code lanyard.cli.bad_argument
expect 0 "$LANYARD" controllers role lamp-7 "$tablet_fp" admin --address "$addr" $(ts owner)
expect 0 "$LANYARD" controllers role lamp-7 "$tablet_fp" user --address "$addr" $(ts owner)
# The tablet is connected when it is removed: it loses that session at once, not only its next
# connection.
mkfifo "$dir/tablet.in"
"$LANYARD" connect lamp-7 --address "$addr" $(ts second) --json <"$dir/tablet.in" \
  >"$dir/tablet-connect.out" 2>&1 &
tablet_pid=$!
exec 9>"$dir/tablet.in" # its stdin stays open (nothing to send) until closed below
for _ in $(seq 100); do
  [ "$(status | jq '[.controllers[]|select(.name=="tablet" and .connected)]|length')" = 1 ] && break
  sleep 0.1
done
[ "$(status | jq '[.controllers[]|select(.name=="tablet" and .connected)]|length')" = 1 ] ||
  fail "the tablet did not connect: $(cat "$dir/tablet-connect.out")"
sessions_before=$(status | jq .sessions)
expect 0 "$LANYARD" controllers remove lamp-7 "$tablet_fp" --address "$addr" $(ts owner)
[ "$(status | jq '.controllers | length')" = 1 ] || fail "the tablet was not removed"
for _ in $(seq 50); do
  [ "$(status | jq .sessions)" -lt "$sessions_before" ] && break
  sleep 0.1
done
[ "$(status | jq .sessions)" -lt "$sessions_before" ] ||
  fail "the removed tablet kept its session ($(status | jq -c '{sessions}'))"
exec 9>&-
kill "$tablet_pid" 2>/dev/null
wait "$tablet_pid" 2>/dev/null
tablet_pid=
expect 1 "$LANYARD" provision "$payload" --ssid HomeLAN --passphrase-file "$dir/pass" \
  --address "$addr" $(ts second)
contains "$err" "does not know this controller"
pass "an admin lists, promotes, demotes and removes controllers (a connected one loses its session at once); a user may not; the last admin stays"

# --- 5. 20 wrong codes, a crash in between, the button ---------------------------------------
# Another 8 digits with a valid check digit: a typo would be caught locally, a guess is not.
guess=$("$HELPER" guess-code "$code" "$RANDOM") || fail "make_payload guess-code"
# The pairing button forgives the stranger's 2 earlier guesses: 20 from here.
"$SIM" ctl --state-dir "$state" pairing-window open >/dev/null || fail "ctl pairing-window open"
[ "$(attempts_failed)" = 0 ] || fail "the button did not reset the count: $(attempts_failed)"
for i in $(seq 1 10); do
  expect 1 "$LANYARD" pair --code "$guess" --address "$addr" $(ts "guess$i") --json
done
contains "$err" "10 attempts left"
error_is .fields.attempts_left 10
kill -9 "$sim_pid"; wait "$sim_pid" 2>/dev/null; sim_pid=
start_sim 2
[ "$(attempts_failed)" = 10 ] || fail "the count did not survive SIGKILL: $(attempts_failed)"
for i in $(seq 11 20); do
  expect 1 "$LANYARD" pair --code "$guess" --address "$addr" $(ts "guess$i") --json
done
error_is .fields.attempts_left 0
[ "$(status | jq -r .pairing_window.open)" = false ] || fail "the window is still open after 20"
expect 1 "$LANYARD" pair --code "$code" --address "$addr" $(ts late) --json
contains "$err" "pairing window is closed"
error_is .code lanyard.tls.peer_rejected_certificate
error_is '.conditions | index("refused_by_peer") != null' true
"$SIM" ctl --state-dir "$state" pairing-window open >/dev/null || fail "ctl pairing-window open"
expect 0 "$LANYARD" pair --code "$code" --address "$addr" $(ts late) --json
contains "$out" '"role":"user"'
pass "20 wrong codes close the window across a SIGKILL; the button lets the owner in"

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s); accessory log:"
  tail -n 30 "$log"
  exit 1
fi
echo "PASSED"
