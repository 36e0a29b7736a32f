# Lab test (sourced by tests/lab/run-in-lab): TLS with both keys pinned, end to end through the
# relay's broker (relay::tunnel_hub, tls::stream<relay::tunnel_stream>). The phone is on
# cellular only (it cannot reach the home); the accessory reaches the broker through the home
# router. Then: an app whose relay key is not a paired controller's gets no tunnel (the
# accessory answers nothing), a DATA frame injected at the broker ends the TLS connection
# (the record's MAC fails) instead of reaching the application, and a flood of OPENs from an
# account holder costs the accessory a bounded number of checks and the owner a retry.
source "$(dirname "${BASH_SOURCE[0]}")/broker.sh"
PEER="$BUILD/tests/relay_tunnel_peer"
[[ -x $PEER ]] || { echo "FAILED: $PEER not built"; exit 1; }
D="$LAB_DIR/relay"
mkdir -p "$D/ok" "$D/stranger" "$D/tamper" "$D/flood"
ACC=V6VXVBK453VV45SV5WCBPUPTEC
PHONE=AAAAAAAAAAAAAAAAAAAAAAAAAA
SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
lab_cell_home off
# The broker operator's view (everything), for injecting a frame: a deployment has one too.
broker_start "$ACC:acc-secret" "home1:home-secret" "operator:operator-secret" \
  "stranger:stranger-secret"
printf 'user operator\ntopic readwrite #\n' >>"$BROKER_DIR/acl"
broker_restart
common=(--host "$BROKER_HOST" --ca "$BROKER_DIR/ca.crt")
acc_args=(--user "$ACC" --password acc-secret --inbox "$ACC")
app_args=(--user home1 --password home-secret --inbox "$PHONE" --peer-account "$ACC" --peer-inbox "$ACC")

# 1. Through the broker, pinned both ways.
acc=$(lab_spawn accessory "$D/ok/acc.log" "$PEER" accessory --dir "$D/ok" "${common[@]}" "${acc_args[@]}" --secret "$SECRET" --timeout 60)
lab_exec phone "$PEER" app --dir "$D/ok" "${common[@]}" "${app_args[@]}" --secret "$SECRET" --count 20 --timeout 30 >"$D/ok/app.log" 2>&1 ||
  { echo "FAILED: the app's tunnel run failed:"; tail -n 15 "$D/ok/app.log"; tail -n 10 "$D/ok/acc.log"; exit 1; }
grep -q 'tls established, accessory key pinned' "$D/ok/app.log" || { echo "FAILED: no pinned TLS on the app"; exit 1; }
[[ $(grep -c ' echo m[0-9]*$' "$D/ok/app.log") -eq 20 ]] || { echo "FAILED: not 20 echoes"; cat "$D/ok/app.log"; exit 1; }
wait_grep "$D/ok/acc.log" 'tls established'
echo "ok: 20 lines echoed through the broker over TLS pinned both ways (phone on cellular only)"
kill "$acc" 2>/dev/null || true

# 2. A stranger's relay key (another secret): no answer at all, so the app times out.
acc=$(lab_spawn accessory "$D/stranger/acc.log" "$PEER" accessory --dir "$D/stranger" "${common[@]}" "${acc_args[@]}" --secret "$SECRET" --timeout 60)
OTHER=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
if lab_exec phone "$PEER" app --dir "$D/stranger" "${common[@]}" "${app_args[@]}" --secret "$OTHER" --count 1 --timeout 20 >"$D/stranger/app.log" 2>&1; then
  echo "FAILED: an app without a paired controller's relay key got through:"; cat "$D/stranger/app.log"; exit 1
fi
grep -Eq 'open failed generic:[0-9]+ .*timed out|open failed .*timed out' "$D/stranger/app.log" || { echo "FAILED: the stranger's open did not time out:"; cat "$D/stranger/app.log"; exit 1; }
wait_grep "$D/stranger/acc.log" 'open refused'
if grep -q 'tunnel accepted' "$D/stranger/acc.log"; then echo "FAILED: the accessory accepted the stranger's tunnel"; exit 1; fi
echo "ok: a relay key of no paired controller opens nothing; the accessory answers nothing"
kill "$acc" 2>/dev/null || true

# 3. A frame forged at the broker: the operator watches the accessory's inbox and, while the
# app pauses, injects a DATA frame with the next sequence number and random bytes.
broker_sub cloud operator operator-secret "lanyard/v1/$ACC/$ACC" "$D/tamper/watch.log" -F '%x' >/dev/null
acc=$(lab_spawn accessory "$D/tamper/acc.log" "$PEER" accessory --dir "$D/tamper" "${common[@]}" "${acc_args[@]}" --secret "$SECRET" --timeout 60)
lab_spawn phone "$D/tamper/app.log" "$PEER" app --dir "$D/tamper" "${common[@]}" "${app_args[@]}" --secret "$SECRET" --count 10 --pause-after 5 --pause-ms 4000 --timeout 30 >/dev/null
wait_grep "$D/tamper/app.log" ' pause$'
sleep 0.5
# The last frame into the inbox (hex): version, type, tunnel id (16 B), seq (4 B).
last=$(grep -E '^0103' "$D/tamper/watch.log" | tail -n 1)
[[ -n $last ]] || { echo "FAILED: the operator saw no DATA frame"; exit 1; }
tunnel=${last:4:32}
seq=$((16#${last:36:8} + 1))
python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.argv[1]))' \
  "$(printf '0103%s%08x%s' "$tunnel" "$seq" "$(head -c 40 /dev/urandom | od -An -tx1 | tr -d ' \n')")" >"$D/tamper/forged.bin"
lab_exec cloud mosquitto_pub -h "$BROKER_HOST" -p "$BROKER_PORT" --cafile "$BROKER_DIR/ca.crt" -q 1 \
  -u operator -P operator-secret -t "lanyard/v1/$ACC/$ACC" -f "$D/tamper/forged.bin"
wait_grep "$D/tamper/acc.log" 'tls read ended'
wait_grep "$D/tamper/app.log" 'tls ended|timeout' 30
grep 'tls read ended' "$D/tamper/acc.log"
grep -Eq 'tls read ended lanyard\.tls\.' "$D/tamper/acc.log" || { echo "FAILED: the forged frame did not fail TLS on the accessory"; exit 1; }
if grep -q 'all echoed' "$D/tamper/app.log"; then echo "FAILED: the app's stream survived a forged frame"; exit 1; fi
echo "ok: a frame forged at the broker ends the TLS connection ($(grep -Eo 'lanyard\.tls\.[a-z_]+' "$D/tamper/acc.log" | head -n1))"
kill "$acc" 2>/dev/null || true

# 4. 300 OPENs from an account holder who knows the inbox, as fast as the broker takes them: the
# accessory checks a burst of them and sheds the rest unchecked; the owner's app, right after,
# gets through (a retry at most: the bucket refills at 4 a second).
acc=$(lab_spawn accessory "$D/flood/acc.log" "$PEER" accessory --dir "$D/flood" "${common[@]}" "${acc_args[@]}" --secret "$SECRET" --timeout 60)
wait_grep "$D/flood/acc.log" 'mqtt connected'
sleep 0.5 # its SUBSCRIBE follows the CONNACK
lab_exec phone "$PEER" flood --dir "$D/flood" "${common[@]}" --user stranger --password stranger-secret \
  --account stranger --inbox BBBBBBBBBBBBBBBBBBBBBBBBBB --peer-account "$ACC" --peer-inbox "$ACC" \
  --secret "$SECRET" --count 300 --timeout 20 >"$D/flood/flood.log" 2>&1 ||
  { echo "FAILED: the flood did not get out:"; tail -n 5 "$D/flood/flood.log"; exit 1; }
lab_exec phone "$PEER" app --dir "$D/flood" "${common[@]}" "${app_args[@]}" --secret "$SECRET" --count 3 --open-tries 4 --timeout 30 >"$D/flood/app.log" 2>&1 ||
  { echo "FAILED: the owner's app did not get through after the flood:"; tail -n 8 "$D/flood/app.log"; tail -n 5 "$D/flood/acc.log"; exit 1; }
checked=$(grep -c 'open refused' "$D/flood/acc.log" || true)
shed=$(grep -Eo 'OPENs shed so far: [0-9]+' "$D/flood/acc.log" | grep -Eo '[0-9]+$' | tail -n 1)
echo "flood: $checked of 300 OPENs checked, ${shed:-?} shed unchecked; the owner: $(grep -c 'open timed out' "$D/flood/app.log" || true) retries"
((checked <= 40)) || { echo "FAILED: the accessory checked $checked flooded OPENs (a bucket of 8, 4 a second)"; exit 1; }
((${shed:-0} >= 200)) || { echo "FAILED: only ${shed:-0} OPENs shed"; exit 1; }
echo "ok: an OPEN flood costs a bounded number of checks; the owner still gets through"
echo "PASSED"
