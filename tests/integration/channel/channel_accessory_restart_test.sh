# Lab test (sourced by tests/lab/run-in-lab): the accessory process is killed with SIGKILL
# mid-stream and restarted with the same identity and controller store on disk. The app must
# get one session reset listing exactly the messages the accessory never acknowledged — checked
# here against what the killed accessory had actually received — and continue on the new
# session, every later message delivered exactly once, in order, and acknowledged.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
COUNT=200
# No echoes, acknowledgements every 16 messages (ack delay 1 s): when it dies, the accessory
# usually has received messages it has not acknowledged yet. At most 120 messages go out on
# the first connection (--epoch): however slowly the accessory restarts (under ASan it once took
# 4 s, and the app had sent all 200 before it came back), the new session carries the rest.
acc=$(start_accessory "$D/acc1.log" --log-recv --ack-delay-ms 1000 --no-echo)
lab_exec phone "$STREAM_PEER" app --dir "$D" --host 198.18.1.3 --port 7443 --count $COUNT \
  --epoch 120 --tick-ms 25 --reset expect --log-acks --no-echo --keepalive-ms 500 --peer-timeout-ms 2000 \
  --backoff-cap-ms 500 --timeout 60 >"$D/app.log" 2>&1 &
app=$!
wait_line "$D/acc1.log" ' recv [0-9]+ m40$' 30
kill -KILL "$acc"
while kill -0 "$acc" 2>/dev/null; do sleep 0.05; done
echo "accessory killed after: $(grep -Ec ' recv ' "$D/acc1.log") messages received"
sleep 1.5 # the app keeps sending: these messages cannot reach anyone
start_accessory "$D/acc2.log" --log-recv --ack-delay-ms 1000 --no-echo >/dev/null
status=0
wait "$app" || status=$?
echo "--- app (tail)"; tail -n 15 "$D/app.log"
echo "--- accessory, first run (tail)"; tail -n 5 "$D/acc1.log"
echo "--- accessory, after the restart (tail)"; tail -n 5 "$D/acc2.log"
no_violations "$D/app.log" "$D/acc1.log" "$D/acc2.log"
[[ $status -eq 0 ]] || { echo "FAILED: app exited with $status"; exit 1; }
[[ $(grep -c 'session reset:' "$D/app.log") -eq 1 ]] || { echo "FAILED: not exactly one session reset"; exit 1; }
boundary=$(grep -Eo 'boundary m[0-9]+' "$D/app.log" | grep -Eo '[0-9]+')
# msgs REGEX FILE: the message names ("m<i>") of FILE's lines ending in "REGEX m<i>".
msgs() { grep -Eo " $1 m[0-9]+\$" "$2" | awk '{print $NF}' || true; }
msgs 'recv [0-9]+' "$D/acc1.log" >"$D/recv1"
msgs 'recv [0-9]+' "$D/acc2.log" >"$D/recv2"
msgs unacked "$D/app.log" >"$D/unacked"
msgs acked "$D/app.log" | awk -v b="$boundary" '{ if (substr($1, 2) + 0 < b) print }' >"$D/acked_before"
msgs acked "$D/app.log" | awk -v b="$boundary" '{ if (substr($1, 2) + 0 >= b) print }' >"$D/acked_after"
n_recv1=$(wc -l <"$D/recv1") n_acked=$(wc -l <"$D/acked_before") n_unacked=$(wc -l <"$D/unacked")
echo "first run: received $n_recv1, acknowledged $n_acked; reset lists $n_unacked (m$(head -n1 "$D/unacked" | tr -d m)..m$((boundary - 1)))"
# Acknowledged ⇒ received by the accessory: the killed accessory's log starts with exactly the
# acknowledged messages...
((n_recv1 >= n_acked)) || { echo "FAILED: acknowledged messages the accessory never received"; exit 1; }
# ...followed by the first ones of the reset list (received, never acknowledged: may have
# reached the lost incarnation), and the rest of the list never reached it.
# (Through a file: under pipefail, `cat ... | head` fails when head is done before cat is, a
# SIGPIPE that made this check fail once when the log was exactly the acknowledged messages.)
cat "$D/acked_before" "$D/unacked" >"$D/expected_prefix"
if ! head -n "$n_recv1" "$D/expected_prefix" | diff - "$D/recv1"; then
  echo "FAILED: the accessory's log is not the acknowledged messages followed by a prefix of the reset list"; exit 1
fi
((n_acked + n_unacked == boundary)) || { echo "FAILED: acknowledged + reset ($n_acked + $n_unacked) != sent before the reset ($boundary)"; exit 1; }
((n_recv1 < boundary)) || { echo "FAILED: no message was sent while the accessory was down"; exit 1; }
((boundary < COUNT)) || { echo "FAILED: the new session carried no message"; exit 1; }
# The new session carries every later message exactly once, in order, all acknowledged.
seq "$boundary" $((COUNT - 1)) | sed 's/^/m/' >"$D/expected_after"
diff "$D/expected_after" "$D/recv2" || { echo "FAILED: the restarted accessory did not receive m$boundary..m$((COUNT - 1)) exactly once in order"; exit 1; }
diff "$D/expected_after" "$D/acked_after" || { echo "FAILED: not every message of the new session was acknowledged"; exit 1; }
echo "PASSED"
