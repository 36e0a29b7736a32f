# Lab test (sourced by tests/lab/run-in-lab): the relay under a hostile broker and a stranger,
# with the real node (examples/minimal_accessory) and `lanyard connect` away from home.
#
#  - A stranger with valid broker credentials (its own account) subscribed to everything it
#    may read gets nothing; a second app that is not paired, with the household's own
#    credentials, opens no tunnel (its OPEN is unanswered).
#  - The broker's operator sees everything: no topic names the device id or a fingerprint, and
#    no payload carries a line of the stream in clear.
#  - The operator forges a DATA frame into the accessory's inbox: the TLS connection ends, the
#    session does not (the channel reconnects through the relay and resumes).
#  - The broker restarts mid-stream: the channel reconnects through the relay and resumes.
# Every line is acknowledged and echoed exactly once, in order; no session reset.
source "$(dirname "${BASH_SOURCE[0]}")/broker.sh"
source "$(dirname "${BASH_SOURCE[0]}")/relay_node.sh"
PEER="$BUILD/tests/relay_tunnel_peer"
PROBE="$BUILD/tests/relay_mqtt_probe"
[[ -x $PEER && -x $PROBE ]] || { echo "FAILED: relay test tools not built"; exit 1; }
relay_node_setup "operator:operator-secret" "stranger:stranger-secret"
# The operator's view of everything (a deployment's broker has one too).
printf 'user operator\ntopic readwrite #\n' >>"$BROKER_DIR/acl"
broker_restart
# The accessory back on the broker: a second "connected" line.
for _ in $(seq 300); do (($(grep -c '^relay: connected' "$LAB_DIR/acc.log") >= 2)) && break; sleep 0.1; done
(($(grep -c '^relay: connected' "$LAB_DIR/acc.log") >= 2)) ||
  { echo "FAILED: the accessory did not reconnect to the broker"; tail "$LAB_DIR/acc.log"; exit 1; }
acc_fp=$(jq -r .fingerprint "$LAB_DIR/pair.json")
lab_exec cloud mosquitto_sub -h "$BROKER_HOST" -p "$BROKER_PORT" --cafile "$BROKER_DIR/ca.crt" \
  -u operator -P operator-secret -t '#' -v -F '%t %x' >"$LAB_DIR/operator.log" 2>&1 &
operator=$!
lab_spawn phone "$LAB_DIR/stranger.log" "$PROBE" --host "$BROKER_HOST" --ca "$BROKER_DIR/ca.crt" \
  --user stranger --password stranger-secret --subscribe '#' --subscribe 'lanyard/v1/#' \
  --expect 1 --timeout 170 >/dev/null

# A user (a second app the admin let pair) may not change the relay; the admin may, again
# (its answer is told from the ticket the accessory sends unasked after the handshake).
lab_exec phone "$LANYARD" controllers window minimal-1 open "${TS[@]}" >/dev/null ||
  { echo "FAILED: opening the pairing window"; exit 1; }
payload=$(sed -n 's/^pairing window open; setup payload: //p' "$LAB_DIR/acc.log" | head -n 1)
TS2=(--trust-store "$LAB_DIR/ts2" --identity-dir "$LAB_DIR/controller2")
lab_exec phone env LANYARD_INTERFACE_KINDS=$KINDS "$LANYARD" pair "$payload" "${TS2[@]}" \
  --timeout 30 >/dev/null || { echo "FAILED: the second app did not pair"; exit 1; }
set_relay() { # TRUST_STORE_ARGS...
  lab_exec phone "$LANYARD" relay set minimal-1 "$@" --broker "$BROKER_HOST" \
    --ca "$BROKER_DIR/ca.crt" --accessory-password-file "$LAB_DIR/acc.pw" \
    --household-account home1 --household-password-file "$LAB_DIR/home.pw" --timeout 30
}
if set_relay "${TS2[@]}" >"$LAB_DIR/user-set.out" 2>&1; then
  echo "FAILED: a user changed the relay settings:"; cat "$LAB_DIR/user-set.out"; exit 1
fi
grep -q 'not_admin' "$LAB_DIR/user-set.out" ||
  { echo "FAILED: the user's refusal does not say not_admin:"; cat "$LAB_DIR/user-set.out"; exit 1; }
if lab_exec phone "$LANYARD" relay off minimal-1 "${TS2[@]}" --timeout 30 >"$LAB_DIR/user-off.out" 2>&1; then
  echo "FAILED: a user switched the relay off:"; cat "$LAB_DIR/user-off.out"; exit 1
fi
grep -q 'not_admin' "$LAB_DIR/user-off.out" ||
  { echo "FAILED: the user's relay off: not refused with not_admin:"; cat "$LAB_DIR/user-off.out"; exit 1; }
[[ -e $LAB_DIR/acc/relay-settings && -e $LAB_DIR/acc/relay-broker-ca.pem ]] ||
  { echo "FAILED: the user's relay off deleted the settings"; exit 1; }
if grep -q '^relay: off' "$LAB_DIR/acc.log"; then echo "FAILED: the accessory switched off for a user"; exit 1; fi
set_relay "${TS[@]}" >"$LAB_DIR/admin-set.out" 2>&1 ||
  { echo "FAILED: the admin could not set the relay again:"; cat "$LAB_DIR/admin-set.out"; exit 1; }
echo "ok: a user may not change the relay nor switch it off (not_admin); the admin may, again"

# Whose key opens what: a tool that knows the accessory's relay secret (read from its state
# directory, as only someone with its file system could) stands in for a paired controller's
# relay key.
secret_hex=$(od -An -tx1 "$LAB_DIR/acc/relay-secret" | tr -d ' \n')
lab_exec phone "$LANYARD" controllers list minimal-1 "${TS[@]}" --json >"$LAB_DIR/controllers.json" ||
  { echo "FAILED: lanyard controllers list"; exit 1; }
admin_fp=$(jq -r '.[]|select(.role=="admin").fingerprint' "$LAB_DIR/controllers.json")
user_fp=$(jq -r '.[]|select(.role=="user").fingerprint' "$LAB_DIR/controllers.json")
[[ -n $admin_fp && -n $user_fp ]] || { echo "FAILED: controllers"; cat "$LAB_DIR/controllers.json"; exit 1; }
peer_app() { # NAME KEY_FOR: an app with a fresh key, opening with KEY_FOR's relay key
  mkdir -p "$LAB_DIR/$1"
  echo "$acc_fp" >"$LAB_DIR/$1/accessory.fp"
  lab_exec phone "$PEER" app --dir "$LAB_DIR/$1" --host "$BROKER_HOST" --ca "$BROKER_DIR/ca.crt" \
    --user home1 --password home-secret --inbox DDDDDDDDDDDDDDDDDDDDDDDDDD \
    --peer-account "$INBOX" --peer-inbox "$INBOX" --secret "$secret_hex" --key-for "$2" \
    --count 1 --open-tries 2 --timeout 20 >"$LAB_DIR/$1.log" 2>&1
}
# The admin's relay key with another key in TLS: the OPEN is taken, the handshake is not.
if peer_app borrowed-key "$admin_fp"; then
  echo "FAILED: a tunnel opened with the admin's relay key admitted another TLS key"; cat "$LAB_DIR/borrowed-key.log"; exit 1
fi
grep -q 'tls failed' "$LAB_DIR/borrowed-key.log" ||
  { echo "FAILED: the borrowed key's handshake did not fail:"; cat "$LAB_DIR/borrowed-key.log"; exit 1; }
echo "ok: a paired controller's relay key opens a tunnel for that controller's TLS key only"
# A controller the admin removed: its relay key opens nothing any more.
lab_exec phone "$LANYARD" controllers remove minimal-1 "$user_fp" "${TS[@]}" >/dev/null ||
  { echo "FAILED: removing the user"; exit 1; }
if peer_app removed-key "$user_fp"; then
  echo "FAILED: a removed controller's relay key opened a tunnel"; cat "$LAB_DIR/removed-key.log"; exit 1
fi
grep -q 'timed out' "$LAB_DIR/removed-key.log" ||
  { echo "FAILED: the removed controller's OPEN was answered:"; cat "$LAB_DIR/removed-key.log"; exit 1; }
echo "ok: a removed controller's relay key opens nothing"

relay_leave_home
# A line the stream sends: long and unique, so that finding it in a payload is no accident.
line() { printf 'reading-%04d-of-the-kitchen-sensor\n' "$1"; }
# The stream pauses after line 100 until the forgery is done (go1), and after line 250 until
# the channel is back after the broker's restart (go2): quiet moments, whatever the timing.
(for i in $(seq 1 100); do line "$i"; sleep 0.05; done
 until [[ -f $LAB_DIR/go1 ]]; do sleep 0.1; done
 for i in $(seq 101 250); do line "$i"; sleep 0.05; done
 until [[ -f $LAB_DIR/go2 ]]; do sleep 0.1; done
 for i in $(seq 251 300); do line "$i"; sleep 0.05; done
 sleep 4) | connect "$LAB_DIR/c.json" --timeout 120 &
app=$!
wait_path "$LAB_DIR/c.json" 0 '.to.interface=="relay"' 30 || exit 1
echo "ok: the channel runs through the relay"

# A second app that is not paired, with the household's credentials: no answer to its OPEN.
mkdir -p "$LAB_DIR/stranger-app"
echo "$acc_fp" >"$LAB_DIR/stranger-app/accessory.fp"
if lab_exec phone "$PEER" app --dir "$LAB_DIR/stranger-app" --host "$BROKER_HOST" \
  --ca "$BROKER_DIR/ca.crt" --user home1 --password home-secret \
  --inbox CCCCCCCCCCCCCCCCCCCCCCCCCC --peer-account "$INBOX" --peer-inbox "$INBOX" \
  --secret "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" --count 1 --open-tries 2 \
  --timeout 20 >"$LAB_DIR/stranger-app.log" 2>&1; then
  echo "FAILED: an app that is not paired got a tunnel:"; cat "$LAB_DIR/stranger-app.log"; exit 1
fi
grep -q 'timed out' "$LAB_DIR/stranger-app.log" ||
  { echo "FAILED: the stranger app's open did not time out:"; cat "$LAB_DIR/stranger-app.log"; exit 1; }
echo "ok: an app that is not paired, with valid broker credentials, opens nothing"

# The forged frames: in the pause after line 100, the next DATA frames of the live tunnel into
# the accessory's inbox (three numbers, in case a keep-alive took the first), each a TLS record
# header and random bytes. The first one the accessory takes in order reaches TLS, whose record
# MAC fails.
wait_line "$LAB_DIR/c.json" '.event=="message" and .text=="reading-0100-of-the-kitchen-sensor"' 20 ||
  exit 1
sleep 1
before=$(jq -s '[.[]|select(.event=="state" and .state=="waiting")]|length' "$LAB_DIR/c.json")
last=$(grep -E "^lanyard/v1/$INBOX/$INBOX 0103" "$LAB_DIR/operator.log" | tail -n 1 | cut -d' ' -f2)
[[ -n $last ]] || { echo "FAILED: the operator saw no DATA frame into the accessory's inbox"; exit 1; }
tunnel=${last:4:32}
seq=$((16#${last:36:8} + 1))
for k in 0 1 2; do
  python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.argv[1]))' \
    "$(printf '0103%s%08x170303002c%s' "$tunnel" $((seq + k)) "$(head -c 44 /dev/urandom | od -An -tx1 | tr -d ' \n')")" \
    >"$LAB_DIR/forged.bin"
  lab_exec cloud mosquitto_pub -h "$BROKER_HOST" -p "$BROKER_PORT" --cafile "$BROKER_DIR/ca.crt" \
    -q 1 -u operator -P operator-secret -t "lanyard/v1/$INBOX/$INBOX" -f "$LAB_DIR/forged.bin"
done
waits() { jq -s '[.[]|select(.event=="state" and .state=="waiting")]|length' "$LAB_DIR/c.json"; }
for _ in $(seq 150); do (($(waits) > before)) && break; sleep 0.1; done
after=$(waits)
((after > before)) || { echo "FAILED: the forged frame did not end the connection"; cat "$LAB_DIR/c.json"; exit 1; }
# Ended by TLS (the record's MAC), not by anything else that might end a connection.
jq -e -s '[.[]|select(.event=="state" and .state=="waiting")][-1].code|startswith("lanyard.tls.")' \
  "$LAB_DIR/c.json" >/dev/null || { echo "FAILED: not a TLS error ended it"; tail -n 5 "$LAB_DIR/c.json"; exit 1; }
echo "ok: a frame forged at the broker ended the connection: $(jq -s -r '[.[]|select(.event=="state" and .state=="waiting")][-1].code' "$LAB_DIR/c.json")"
touch "$LAB_DIR/go1"

# The broker restarts while lines 101-250 stream.
wait_line "$LAB_DIR/c.json" '.event=="message" and .text=="reading-0150-of-the-kitchen-sensor"' 30 ||
  exit 1
restarted=$(jq -s '[.[]|select(.event=="path")]|length' "$LAB_DIR/c.json")
broker_restart
echo "broker restarted"
wait_path "$LAB_DIR/c.json" $((restarted - 1 + 1)) '.to.interface=="relay"' 40 || exit 1
echo "ok: after the broker's restart the channel is back on the relay"
touch "$LAB_DIR/go2"
wait "$app" || { cat "$LAB_DIR/c.json" "$LAB_DIR/c.json.err"; echo "FAILED: lanyard connect failed"; exit 1; }
kill "$operator" 2>/dev/null || true

jq -c 'select(.event=="path" or .event=="state")' "$LAB_DIR/c.json"
jq -e -s '
  ([.[]|select(.event=="acked")|.seq] == [range(0; 300)]) and
  ([.[]|select(.event=="message")|.text] ==
     [range(1; 301)|"reading-\(tostring|("000" + .)[-4:])-of-the-kitchen-sensor"]) and
  ([.[]|select(.event=="session_reset")] | length) == 0 and
  ([.[]|select(.event=="path")|.to.interface]|unique == ["relay"])' "$LAB_DIR/c.json" >/dev/null ||
  { echo "FAILED: delivery wrong (lost, repeated, out of order or reset)"; cat "$LAB_DIR/c.json.err"; exit 1; }
echo "ok: 300 lines exactly once, in order, across a forged frame and a broker restart"

# What the stranger and the operator learned.
if grep -q ' recv ' "$LAB_DIR/stranger.log"; then
  echo "FAILED: the stranger read messages:"; grep ' recv ' "$LAB_DIR/stranger.log" | head; exit 1
fi
grep -q ' state connected' "$LAB_DIR/stranger.log" ||
  { echo "FAILED: the stranger never connected (the check proves nothing)"; cat "$LAB_DIR/stranger.log"; exit 1; }
frames=$(grep -c '^lanyard/v1/' "$LAB_DIR/operator.log" || true)
((frames > 100)) || { echo "FAILED: the operator saw only $frames frames"; exit 1; }
# The app's key as the accessory printed it when it paired (a short form of its fingerprint).
app_fp=$(sed -n 's/^pairing \([^:]*\): paired$/\1/p' "$LAB_DIR/acc.log" | head -n 1)
[[ -n $app_fp ]] || { echo "FAILED: no pairing line in the accessory's log"; exit 1; }
for secret in minimal-1 "$acc_fp" "$(echo "$acc_fp" | tr -d '-')" "$app_fp" "$(echo "$app_fp" | tr -d '-')"; do
  if cut -d' ' -f1 "$LAB_DIR/operator.log" | grep -qiF -- "$secret"; then
    echo "FAILED: a topic names '$secret'"; exit 1
  fi
done
plain=$(printf 'reading-0' | od -An -tx1 | tr -d ' \n')
if cut -d' ' -f2 "$LAB_DIR/operator.log" | grep -qi "$plain"; then
  echo "FAILED: a payload carries a line of the stream in clear"; exit 1
fi
echo "ok: the stranger read nothing; the operator's $frames frames name no id and carry no clear text"
for f in "$LAB_DIR/acc.log" "$LAB_DIR/c.json" "$LAB_DIR/c.json.err" "$LAB_DIR"/*-set.out "$LAB_DIR"/*-off.out; do
  if grep -q -e acc-secret -e home-secret "$f"; then echo "FAILED: a password is in ${f##*/}"; exit 1; fi
done
echo "PASSED"
