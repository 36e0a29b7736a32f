#!/bin/sh
# `lanyard pair` end to end on loopback against tls_echo_server as the accessory: malformed
# payloads refused before any network use, TOFU pinning, re-pairing with the same key, a changed
# key refused (pin unchanged), verified payload pairing, and a payload/key mismatch.
#
#   cli_pair_test.sh LANYARD TLS_ECHO_SERVER MAKE_PAYLOAD
set -u
LANYARD=${1:?lanyard}
SERVER=${2:?tls_echo_server}
HELPER=${3:?make_payload}
for t in "$LANYARD" "$SERVER" "$HELPER"; do
  [ -x "$t" ] || { echo "SKIP: $t not built"; exit 77; }
done

dir=$(mktemp -d /tmp/lanyard-pair.XXXXXX)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

expect() {
  want=$1; shift
  "$@" >"$dir/out" 2>"$dir/err"; got=$?
  out=$(cat "$dir/out"); err=$(cat "$dir/err")
  [ "$got" -eq "$want" ] || fail "'$*' exited $got, expected $want (stdout: $out stderr: $err)"
}
contains() { case "$1" in *"$2"*) ;; *) fail "expected '$2' in: $1" ;; esac; }

# start_server IDENTITY_DIR: an accessory "acc-1" trusting only this controller's key.
start_server() {
  kill_server
  : >"$dir/srv.out"
  "$SERVER" --dir "$1" --device-id acc-1 --pin "$ctl_fp" >"$dir/srv.out" 2>>"$dir/srv.err" &
  server_pid=$!
  i=0
  while ! grep -q '^fingerprint ' "$dir/srv.out"; do
    i=$((i + 1))
    [ $i -lt 200 ] || { echo "FAIL: tls_echo_server did not start"; exit 1; }
    sleep 0.05
  done
  port=$(sed -n 's/^port //p' "$dir/srv.out")
  acc_fp=$(sed -n 's/^fingerprint //p' "$dir/srv.out")
}
kill_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
    server_pid=
  fi
}

ctl="$dir/controller"
ctl_fp=$("$HELPER" identity "$ctl" controller-test) || { echo "FAIL: identity"; exit 1; }
start_server "$dir/acc-a"
fp_a=$acc_fp
store="$dir/state/trust-store"
common="--trust-store $store --identity-dir $ctl --timeout 10"

# 1. A malformed payload is refused before anything else: no store, no identity, no connection.
expect 2 "$LANYARD" pair "LNY1:NOT-A-PAYLOAD" --address "127.0.0.1:$port" \
  --trust-store "$store" --identity-dir "$dir/never"
contains "$err" "lanyard pair: "
[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "malformed payload: more than one line: $err"
[ ! -e "$dir/never" ] || fail "malformed payload created the controller identity"
[ ! -e "$store" ] || fail "malformed payload created the trust store"
if grep -q handshake "$dir/srv.err" 2>/dev/null; then fail "malformed payload reached the network"; fi
expect 2 "$LANYARD" pair "hello" --trust-store "$store" --identity-dir "$dir/never"

# 2. TOFU pins the presented key under the certificate's id.
expect 0 "$LANYARD" pair --tofu "127.0.0.1:$port" $common
contains "$out" "acc-1"
expect 0 "$LANYARD" trust show acc-1 --trust-store "$store" --json
contains "$out" '"pinned_by":"tofu"'
pinned=$(printf '%s' "$out")
expect 0 "$LANYARD" trust list --trust-store "$store"
contains "$out" "acc-1"

# 3. Pairing again with the same key is fine.
expect 0 "$LANYARD" pair --tofu "127.0.0.1:$port" $common --json
contains "$out" '"device_id":"acc-1"'
contains "$out" '"pinned_by":"tofu"'

# 4. The accessory comes back with a new key under the same id: refused, pin unchanged.
start_server "$dir/acc-b"
fp_b=$acc_fp
[ "$fp_a" != "$fp_b" ] || fail "the two accessory identities have the same key"
expect 1 "$LANYARD" pair --tofu "127.0.0.1:$port" $common
contains "$err" "presented a different key"
contains "$err" "lanyard trust forget acc-1"
expect 0 "$LANYARD" trust show acc-1 --trust-store "$store" --json
after=$(printf '%s' "$out")
[ "$(printf '%s' "$pinned" | sed 's/"last_seen":"[^"]*"//')" = \
  "$(printf '%s' "$after" | sed 's/"last_seen":"[^"]*"//')" ] || fail "key_changed altered the pin"

# 5. A payload with the accessory's real key + --address pins as verified (to_string(pin_method::verified_payload), as in `lanyard trust`).
store2="$dir/state/trust-store-2"
payload_b=$("$HELPER" payload acc-1 "$fp_b") || fail "make_payload"
expect 0 "$LANYARD" pair "$payload_b" --address "127.0.0.1:$port" --trust-store "$store2" \
  --identity-dir "$ctl" --json
contains "$out" '"pinned_by":"verified"'
contains "$out" '"address":"127.0.0.1:'"$port"'"'
expect 0 "$LANYARD" trust show acc-1 --trust-store "$store2" --json
contains "$out" '"pinned_by":"verified"'
contains "$out" "$fp_b"

# 6. A payload whose key is not the one presented: payload_mismatch, nothing pinned.
store3="$dir/state/trust-store-3"
payload_a=$("$HELPER" payload acc-1 "$fp_a") || fail "make_payload"
expect 1 "$LANYARD" pair "$payload_a" --address "127.0.0.1:$port" --trust-store "$store3" \
  --identity-dir "$ctl"
contains "$err" "lanyard pair: device \"acc-1\" presented key"
contains "$err" "but its setup payload says"
expect 1 "$LANYARD" trust show acc-1 --trust-store "$store3"

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "ok"
