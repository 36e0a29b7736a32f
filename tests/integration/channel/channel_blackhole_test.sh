# Lab test (sourced by tests/lab/run-in-lab): the phone's Wi-Fi goes silent (blackholed, link
# up, no errors) for 5 s while the app streams messages to the accessory, which echoes them.
# The channel must go waiting (keep-alive timeout), recover when the link comes back, and every
# message must be acknowledged and echoed exactly once, in order, without a session reset.
# The stream peer of common.sh (the product API unless STREAM_API=lower).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
start_accessory "$D/acc.log" >/dev/null
# 150 messages at 10/s: ~15 s of sending, through the blackhole.
lab_exec phone "$STREAM_PEER" app --dir "$D" --host 198.18.1.3 --port 7443 --count 150 \
  --tick-ms 100 --keepalive-ms 500 --peer-timeout-ms 2000 --backoff-cap-ms 1000 \
  --min-recoveries 1 --timeout 90 >"$D/app.log" 2>&1 &
app=$!
wait_line "$D/app.log" ' connected 1$' 20
sleep 2
lab_blackhole phone wlan0
sleep 5
lab_unblackhole phone wlan0
status=0
wait "$app" || status=$?
echo "--- app (states)"; grep -E 'state |connected|done' "$D/app.log"
echo "--- accessory (tail)"; tail -n 5 "$D/acc.log"
no_violations "$D/app.log" "$D/acc.log"
[[ $status -eq 0 ]] || { echo "FAILED: app exited with $status"; exit 1; }
grep -q ' state waiting' "$D/app.log" || { echo "FAILED: the channel never went waiting"; exit 1; }
grep -q 'done: sent 150, acked 150, echoes 150,' "$D/app.log" ||
  { echo "FAILED: not every message acknowledged and echoed"; exit 1; }
echo "PASSED"
