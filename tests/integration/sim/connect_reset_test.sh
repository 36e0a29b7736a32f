#!/bin/bash
# `lanyard connect` through a session reset, on 127.0.0.1 (no lab, no avahi: --no-advertise):
# the CLI pairs with the simulated lamp, one line is acknowledged, the lamp stops answering
# (ctl drop) while two more lines are sent, then crashes and restarts without the session. The
# app must report the reset once, listing exactly the two unacknowledged lines, and must not
# also print "message N not delivered" for each of them (error-model.md §5: the sends complete
# with channel::errc::session_reset, which the command once compared with another category's
# session_reset).
set -euo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
# shellcheck source=common.sh
source "$here/common.sh"
LANYARD=$BUILD/bin/lanyard
[[ -x $LANYARD ]] || { echo "FAILED: $LANYARD not built"; exit 1; }

dir=$(mktemp -d /tmp/lanyard-connect-reset.XXXXXX)
pids=()
cleanup() {
  exec 3>&- 2>/dev/null || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ -n ${LANYARD_SIM_KEEP:-} ]]; then echo "kept: $dir"; else rm -rf "$dir"; fi
}
trap cleanup EXIT

# sim PORT: the lamp on 127.0.0.1:PORT (0: any); sets sim_pid. It must not hold the app's
# stdin (fd 3) open, or the app would never see its end.
sim() {
  "$SIM" --state-dir "$dir/lamp" --kind lamp --id lamp-1 --no-advertise --no-qr --json-events \
    --listen "127.0.0.1:$1" >>"$dir/lamp.log" 2>&1 3>&- &
  sim_pid=$!
  pids+=("$sim_pid")
}
ctl() { "$SIM" ctl --state-dir "$dir/lamp" "$@"; }
ids=(--identity-dir "$dir/app.id" --trust-store "$dir/app.ts")

"$SIM" set-wifi --state-dir "$dir/lamp" --ssid HomeLAN >/dev/null
sim 0
wait_for "$dir/lamp.log" '.event=="ready"' 20
port=$(jq -R -r 'fromjson? | select(.event=="ready") | .port' "$dir/lamp.log" | tail -n 1)
payload=$(jq -R -r 'fromjson? | select(.event=="payload") | .value' "$dir/lamp.log" | tail -n 1)
"$LANYARD" pair "$payload" --address "127.0.0.1:$port" "${ids[@]}" --json >"$dir/pair.json" ||
  { echo "FAILED: lanyard pair"; cat "$dir/pair.json"; exit 1; }

mkfifo "$dir/app.in"
"$LANYARD" connect lamp-1 --address "127.0.0.1:$port" "${ids[@]}" --json --keepalive-ms 300 \
  --peer-timeout-ms 1000 --timeout 60 <"$dir/app.in" >"$dir/app.json" 2>"$dir/app.err" &
app_pid=$!
pids+=("$app_pid")
exec 3>"$dir/app.in"
echo "v1 get" >&3
wait_for "$dir/app.json" '.event=="acked"' 20
ctl drop | jq -e '.ok' >/dev/null
echo "v1 set on=1" >&3
echo "v1 set brightness=7" >&3
sleep 0.5 # both lines are written to the connection the lamp no longer reads
ctl crash | jq -e '.ok' >/dev/null
wait "$sim_pid" 2>/dev/null && { echo "FAILED: the crashed simulator exited 0"; exit 1; }
sim "$port"
wait_for "$dir/app.json" '.event=="session_reset"' 30
exec 3>&-
wait "$app_pid" || { echo "FAILED: lanyard connect exited $?"; cat "$dir/app.err"; exit 1; }

unacked=$(jq -R -c 'fromjson? | select(.event=="session_reset") | [.unacked[].text]' "$dir/app.json")
[[ $unacked == '["v1 set on=1","v1 set brightness=7"]' ]] ||
  { echo "FAILED: the reset lists $unacked"; cat "$dir/app.json"; exit 1; }
pass "the reset lists exactly the two unacknowledged lines"
if grep -n "not delivered" "$dir/app.err"; then
  echo "FAILED: messages of the reset were reported again as not delivered (stderr above)"
  exit 1
fi
pass "no per-message 'not delivered' on top of the reset report"
