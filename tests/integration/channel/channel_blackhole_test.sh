# Lab test (sourced by tests/lab/run-in-lab): the phone's Wi-Fi goes silent (blackholed, link
# up, no errors) for 5 s while the app streams messages to the accessory, which echoes them.
# The channel must go waiting (keep-alive timeout), recover when the link comes back, and every
# message must be acknowledged and echoed exactly once, in order, without a session reset.
# Needs BUILD (the build directory) in the environment.
PEER="$BUILD/tests/channel_lab_peer"
D="$LAB_DIR/channel"
mkdir -p "$D"

lab_spawn accessory "$D/accessory.log" "$PEER" accessory "$D" 7443 >/dev/null
for _ in $(seq 100); do grep -q listening "$D/accessory.log" 2>/dev/null && break; sleep 0.1; done
grep -q listening "$D/accessory.log" || { cat "$D/accessory.log"; echo "FAILED: accessory did not start"; exit 1; }

lab_exec phone "$PEER" app "$D" 198.18.1.3 7443 150 --expect-waiting >"$D/app.log" 2>&1 &
app=$!
for _ in $(seq 100); do grep -q "state ready" "$D/app.log" 2>/dev/null && break; sleep 0.1; done
sleep 2
lab_blackhole phone wlan0
sleep 5
lab_unblackhole phone wlan0
status=0
wait "$app" || status=$?
echo "--- app"; cat "$D/app.log"
echo "--- accessory"; cat "$D/accessory.log"
if [ "$status" -ne 0 ]; then echo "FAILED: app exited with $status"; exit 1; fi
grep -q "state waiting" "$D/app.log" || { echo "FAILED: the channel never went waiting"; exit 1; }
echo "PASSED"
