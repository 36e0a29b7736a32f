# Lab test (sourced by tests/lab/run-in-lab): relay::mqtt_client (libmosquitto on asio) against
# mosquitto in the cloud host. A stream of QoS 1 messages from the household's account into the
# accessory's inbox survives a broker restart: both clients report the loss, reconnect with
# backoff, the subscriber's subscription is renewed, and the stream's end arrives, in order.
# A wrong password, a broker certificate from another CA and a broker that is down each get
# their own error, and the client keeps retrying.
source "$(dirname "${BASH_SOURCE[0]}")/broker.sh"
PROBE="$BUILD/tests/relay_mqtt_probe"
[[ -x $PROBE ]] || { echo "FAILED: $PROBE not built"; exit 1; }
D="$LAB_DIR/relay"
mkdir -p "$D"
ACC=V6VXVBK453VV45SV5WCBPUPTEC
lab_cell_home off
broker_start "$ACC:acc-secret" "home1:home-secret"
CA=$BROKER_DIR/ca.crt

lab_spawn accessory "$D/acc.log" "$PROBE" --host "$BROKER_HOST" --ca "$CA" --user "$ACC" \
  --password acc-secret --subscribe "lanyard/v1/$ACC/#" --until m149 --timeout 60 --keepalive 5 >/dev/null
wait_grep "$D/acc.log" ' state connected$'
lab_exec phone "$PROBE" --host "$BROKER_HOST" --ca "$CA" --user home1 --password home-secret \
  --publish "lanyard/v1/$ACC/stream" --count 150 --interval-ms 100 --timeout 60 --keepalive 5 \
  >"$D/phone.log" 2>&1 &
phone=$!
wait_grep "$D/acc.log" ' recv lanyard/v1/[A-Z0-9]+/stream m20$'
broker_restart
echo "broker restarted after m20 arrived"
status=0
wait "$phone" || status=$?
wait_grep "$D/acc.log" ' recv lanyard/v1/[A-Z0-9]+/stream m149$' 30
wait_grep "$D/acc.log" ' done received'
echo "--- phone (state lines)"; grep -E ' state |unsent' "$D/phone.log" | head -n 12
echo "--- accessory (state lines)"; grep ' state ' "$D/acc.log"
((status == 0)) || { echo "FAILED: the publisher exited with $status"; exit 1; }
for f in acc phone; do
  grep -Eq ' state waiting lanyard\.mqtt\.connection_lost$' "$D/$f.log" || { echo "FAILED: $f did not report the lost connection"; exit 1; }
  (($(grep -c ' state connected$' "$D/$f.log") >= 2)) || { echo "FAILED: $f did not reconnect"; exit 1; }
done
# In order: what arrived is increasing (a QoS 1 redelivery may repeat the last one), and after
# the reconnection messages still arrive, so the subscription was renewed. (What the broker
# took while the accessory was away is not kept for it: its session is not persistent, and the
# channel above resends. The stream runs 15 s so that a slow restart and the subscriber's
# backoff, up to 5 s seen under ASan on a loaded machine, leave 30 messages and more after it.)
grep -Eo ' recv lanyard/v1/[A-Z0-9]+/stream m[0-9]+$' "$D/acc.log" | grep -Eo '[0-9]+$' >"$D/received"
sort -n -c "$D/received" 2>/dev/null || { echo "FAILED: messages arrived out of order:"; tr '\n' ' ' <"$D/received"; exit 1; }
after=$(awk '$1 > 20' "$D/received" | wc -l)
((after >= 30)) || { echo "FAILED: only $after messages after the restart"; exit 1; }
echo "ok: $(wc -l <"$D/received") messages arrived in order across a broker restart ($after after it)"

# A wrong password: not_authorized, and retried.
lab_exec phone "$PROBE" --host "$BROKER_HOST" --ca "$CA" --user home1 --password wrong \
  --expect 1 --timeout 4 >"$D/badpass.log" 2>&1 || true
(($(grep -c ' state waiting lanyard\.mqtt\.not_authorized$' "$D/badpass.log") >= 2)) ||
  { echo "FAILED: a wrong password was not reported (and retried) as not_authorized:"; cat "$D/badpass.log"; exit 1; }
# A broker whose certificate another CA signed: tls_failed.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "/CN=other CA" \
  -keyout "$D/other-ca.key" -out "$D/other-ca.crt" 2>/dev/null
lab_exec phone "$PROBE" --host "$BROKER_HOST" --ca "$D/other-ca.crt" --user home1 \
  --password home-secret --expect 1 --timeout 3 >"$D/badca.log" 2>&1 || true
grep -Eq ' state waiting lanyard\.mqtt\.tls_failed$' "$D/badca.log" ||
  { echo "FAILED: a broker certificate from another CA was not reported as tls_failed:"; cat "$D/badca.log"; exit 1; }
grep -q ' state connected' "$D/badca.log" && { echo "FAILED: connected to a broker the CA does not vouch for"; exit 1; }
# The broker down: connection_lost, retried with backoff.
broker_stop
lab_exec phone "$PROBE" --host "$BROKER_HOST" --ca "$CA" --user home1 --password home-secret \
  --expect 1 --timeout 3 >"$D/down.log" 2>&1 || true
(($(grep -c ' state waiting lanyard\.mqtt\.connection_lost$' "$D/down.log") >= 2)) ||
  { echo "FAILED: a broker that is down was not reported (and retried) as connection_lost:"; cat "$D/down.log"; exit 1; }
echo "ok: wrong password, foreign CA and a broker that is down each reported, and retried"
echo "PASSED"
