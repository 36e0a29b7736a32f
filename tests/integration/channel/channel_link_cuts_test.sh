# Lab test (sourced by tests/lab/run-in-lab): 100,000 messages each way across 50 link cuts.
# The app streams "m<i>" (4,000/s), the accessory echoes each; the phone's wlan0 is blackholed
# at a random moment (0.1-0.6 s after the channel came back), held until the channel noticed
# (waiting), then for a further random 0-0.3 s. The app may send at most 1,980 messages per
# connection so far (--epoch): 50 connections allow 99,000, so the stream cannot finish before
# the 50th cut, and every cut falls mid-stream (with 2,000 the stream could end on the 50th
# connection before its cut, a CI failure: "49 recoveries"). Both sides
# check exactly-once in-order delivery; every send must be acknowledged, every echo received.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
CUTS=50
start_accessory "$D/acc.log" >/dev/null
lab_exec phone "$STREAM_PEER" app --dir "$D" --host 198.18.1.3 --port 7443 --count 100000 \
  --tick-ms 5 --burst 20 --epoch 1980 --keepalive-ms 100 --peer-timeout-ms 400 \
  --connect-timeout-ms 500 --backoff-initial-ms 20 --backoff-cap-ms 200 \
  --min-recoveries $CUTS --timeout 160 >"$D/app.log" 2>&1 &
app=$!
for ((k = 1; k <= CUTS; k++)); do
  wait_line "$D/app.log" " connected $k\$" 20
  sleep "$(random_ms 100 600)"
  lab_blackhole phone wlan0
  wait_line "$D/app.log" " disconnected $k\$" 20
  sleep "$(random_ms 0 300)"
  lab_unblackhole phone wlan0
done
echo "$CUTS cuts done"
status=0
wait "$app" || status=$?
echo "--- app (tail)"; tail -n 8 "$D/app.log"
echo "--- accessory (tail)"; tail -n 4 "$D/acc.log"
no_violations "$D/app.log" "$D/acc.log"
[[ $status -eq 0 ]] || { echo "FAILED: app exited with $status"; exit 1; }
grep -q 'received 100000 last m99999$' "$D/acc.log" || { echo "FAILED: the accessory did not receive m0..m99999"; exit 1; }
grep -q 'done: sent 100000, acked 100000, echoes 100000,' "$D/app.log" || { echo "FAILED: not every message acknowledged and echoed"; exit 1; }
echo "PASSED"
