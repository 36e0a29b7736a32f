# Lab test (sourced by tests/lab/run-in-lab): the phone's Wi-Fi radio sleeps — wlan0 blackholed
# (link up, no errors, every frame dropped) for 30 s every 60 s, two cycles — while messages
# flow both ways: the app sends one every 100 ms (echoed back), the accessory pushes a tick
# every 100 ms. The channel must go waiting and recover after each sleep, with every message,
# echo and tick delivered exactly once in order, and no session reset.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
start_accessory "$D/acc.log" --tick-ms 100 >/dev/null
# 1000 messages at 10/s: the app sends for ~100 s, i.e. through both sleeps.
lab_exec phone "$STREAM_PEER" app --dir "$D" --host 198.18.1.3 --port 7443 --count 1000 \
  --tick-ms 100 --keepalive-ms 1000 --peer-timeout-ms 4000 --backoff-cap-ms 2000 \
  --connect-timeout-ms 3000 --min-recoveries 2 --timeout 150 >"$D/app.log" 2>&1 &
app=$!
wait_line "$D/app.log" ' connected 1$' 20
for cycle in 1 2; do
  sleep $((cycle == 1 ? 10 : 30))
  echo "cycle $cycle: Wi-Fi asleep (blackholed) for 30 s"
  lab_blackhole phone wlan0
  sleep 30
  lab_unblackhole phone wlan0
  echo "cycle $cycle: Wi-Fi awake"
done
status=0
wait "$app" || status=$?
echo "--- app (states)"; grep -E 'state |connected|done' "$D/app.log"
echo "--- accessory (tail)"; tail -n 10 "$D/acc.log"
no_violations "$D/app.log" "$D/acc.log"
[[ $status -eq 0 ]] || { echo "FAILED: app exited with $status"; exit 1; }
grep -q 'disconnected 2$' "$D/app.log" || { echo "FAILED: the channel did not lose its connection in both sleeps"; exit 1; }
ticks=$(grep -Eo 'ticks [0-9]+' "$D/app.log" | awk '{print $2}')
((ticks >= 700)) || { echo "FAILED: only $ticks ticks arrived (the accessory pushed for ~100 s)"; exit 1; }
echo "PASSED"
