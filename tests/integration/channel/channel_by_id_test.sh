# Lab test (sourced by tests/lab/run-in-lab): the app connects by device id. The accessory
# advertises itself (_lanyard._tcp, TXT id=lab-lamp); the app browses into a discovery
# directory and starts its channel with the id — no address or port given. Mid-stream the
# accessory stops (SIGTERM: goodbye) and comes back on another port: the channel must find the
# new path through the directory (its retry backoff is an hour, so only a directory change can
# bring the reconnection), report the session reset, and deliver every later message exactly
# once, in order.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
COUNT=100
acc=$(ACC_PORT=7443 start_accessory "$D/acc1.log" --advertise "Lab Lamp" --log-recv)
lab_exec phone "$STREAM_PEER" app --dir "$D" --device-id lab-lamp --count $COUNT --tick-ms 50 \
  --reset expect --backoff-initial-ms 3600000 --backoff-cap-ms 3600000 --timeout 60 \
  >"$D/app.log" 2>&1 &
app=$!
wait_line "$D/app.log" ' connected 1$' 20
wait_line "$D/acc1.log" ' recv [0-9]+ m20$' 20
kill -TERM "$acc"
while kill -0 "$acc" 2>/dev/null; do sleep 0.05; done
ACC_PORT=7444 start_accessory "$D/acc2.log" --advertise "Lab Lamp" --log-recv >/dev/null
status=0
wait "$app" || status=$?
echo "--- app (directory and states)"; grep -E 'directory |state |connected|reconnecting|session reset|done' "$D/app.log"
echo "--- accessory after the move (tail)"; tail -n 3 "$D/acc2.log"
no_violations "$D/app.log" "$D/acc1.log" "$D/acc2.log"
[[ $status -eq 0 ]] || { echo "FAILED: app exited with $status"; exit 1; }
grep -Eq ' diag channel\.reconnecting_now( .*)? trigger=new_path( |$)' "$D/app.log" ||
  { echo "FAILED: no attempt triggered by the directory"; exit 1; }
grep -q ' connected 2$' "$D/app.log" || { echo "FAILED: the channel did not reconnect"; exit 1; }
boundary=$(grep -Eo 'boundary m[0-9]+' "$D/app.log" | grep -Eo '[0-9]+')
seq "$boundary" $((COUNT - 1)) | sed 's/^/m/' >"$D/expected_after"
grep -Eo ' recv [0-9]+ m[0-9]+$' "$D/acc2.log" | awk '{print $NF}' >"$D/recv2"
diff "$D/expected_after" "$D/recv2" || { echo "FAILED: the accessory on port 7444 did not receive m$boundary..m$((COUNT - 1)) exactly once in order"; exit 1; }
echo "PASSED"
