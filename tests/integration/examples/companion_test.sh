# examples/companion (the product API: app::controller, app::device) in the lab, reading the
# lines a developer sees: the simulated sensor
# starts in setup mode; the app joins its SoftAP (sap0), pairs verified against the payload,
# provisions HomeLAN and follows the accessory to the home LAN (wlan0) in the SAME session (no
# reset); the readings arrive in order, none lost; with the phone's wlan0 down the channel
# moves to p2p0 and the readings go on with no gap, then back to wlan0 when it returns. SIGINT:
# exit 0. A second run with the operational payload (already pinned) exits after --readings 3.
# With LAMP set, the accessory is the firmware lamp (examples/firmware_lamp: lanyard::firmware
# and its own mDNS, no avahi-daemon on its host) as a sensor, instead of the simulator: the same
# app, the same checks. Run through run-in-lab. Needs BUILD and COMPANION (and LAMP).
SIM=${BUILD:?BUILD}/bin/lanyard-accessory-sim
APP=${COMPANION:?COMPANION}
export LANYARD_INTERFACE_KINDS=wlan0=wifi,p2p0=p2p,ap0=softap,sap0=softap,cell0=cellular
log=$LAB_DIR/sim.log
app=$LAB_DIR/app.log

count() { grep -c -E "$1" "$app" || true; }
# wait_for REGEX N: until N lines of the app match (bounded only against hangs).
wait_for() {
  for _ in $(seq 600); do (($(count "$1") >= $2)) && return 0; sleep 0.1; done
  echo "FAILED: no line matching '$1' (x$2) from the app; it printed:"
  tail -n 30 "$app" "$app.err"
  exit 1
}
more_readings() { wait_for '^reading ' $(($(count '^reading ') + $1)); }
# Each reading's number is the previous one + 1; a session reset (numbers start over) begins
# a new run.
consecutive() {
  awk '/^SESSION RESET/ { prev = ""; next } /^reading / { n = $2 + 0
       if (prev != "" && n != prev + 1) { print "gap: " prev " then " n; bad = 1 }
       prev = n } END { exit bad }' "$app"
}

# latest_payload: the accessory's newest setup payload (the simulator prints one per mode; the
# lamp one at start and one once provisioned).
if [[ -n ${LAMP:-} ]]; then
  lab_avahi_stop accessory
  # shellcheck disable=SC2016
  lamp_pid=$(lab_spawn accessory "$log.err" bash -c 'exec "$0" "$@" >"'"$log"'"' "$LAMP" \
    --state-dir "$LAB_DIR/acc" --setup-interface ap0 --interface p2p0 --port 5577 \
    --device-id sensor-co --network "HomeLAN=correct-horse@wlan0" --sensor-interval-ms 100 \
    --softap-grace-ms 1000)
  for _ in $(seq 200); do grep -q '"event":"started"' "$log" && break; sleep 0.1; done
  latest_payload() { jq -r 'select(.setup_payload)|.setup_payload' "$log" | tail -n 1; }
else
  lab_spawn accessory "$log" "$SIM" --state-dir "$LAB_DIR/acc" --kind sensor --id sensor-co \
    --network "HomeLAN=correct-horse@wlan0" --sensor-interval-ms 100 --softap-grace-ms 1000 \
    --no-qr >/dev/null
  for _ in $(seq 200); do grep -q '^ready: .*mode=setup' "$log" && break; sleep 0.1; done
  latest_payload() { sed -n 's/^payload: //p' "$log" | tail -n 1; }
fi
payload=$(latest_payload)
[[ $payload == LNY1:* ]] || { cat "$log"; echo "FAILED: the simulator printed no payload"; exit 1; }
printf 'correct-horse\n' >"$LAB_DIR/pass"

lab_exec phone "$APP" "$payload" --ssid HomeLAN --passphrase-file "$LAB_DIR/pass" \
  --join 'ip link set sap0 up' --softap-interface sap0 --state-dir "$LAB_DIR/ctl" \
  >"$app" 2>"$app.err" &
pid=$! # the subshell running lab_exec; the app is its child (its exit status: the subshell's)
wait_for '^provisioning: the accessory joined HomeLAN as .*198\.18\.1\.3' 1
cat "$app"
steps=$(sed -n '1,/^provisioning: the accessory joined/p' "$app" | sed -nE \
  's/^(joined|paired).*/\1/p; s/^path: (sap0).*/path-\1/p; s/^provisioning: the accessory (is joining|joined).*/\1/p' |
  tr '\n' ' ')
[[ $steps == "joined path-sap0 paired is joining joined " ]] ||
  { echo "FAILED: steps out of order: $steps"; exit 1; }
echo "ok: joined the SoftAP, paired (verified, pinned), provisioned HomeLAN"

wait_for '^path: wlan0 ' 1
more_readings 5
grep -E '^(path|SESSION|channel)' "$app" | tail -n +3
failed=0
if (($(count '^SESSION RESET') > 0)); then
  echo "FAILED: the session was reset when the accessory moved to the home LAN"
  failed=1
else
  echo "ok: moved to the home LAN on wlan0 in the same session"
fi

moves=$(count '^path: p2p0 .*path failed')
lab_link_down phone wlan0
wait_for '^path: p2p0 .*path failed' $((moves + 1))
more_readings 10
echo "ok: wlan0 down -> $(grep '^path: ' "$app" | tail -n 1)"
moves=$(count '^path: wlan0 ')
lab_link_up phone wlan0
wait_for '^path: wlan0 ' $((moves + 1))
more_readings 5
echo "ok: wlan0 back -> $(grep '^path: ' "$app" | tail -n 1)"

kill -INT "$(pgrep -P "$pid")"
status=0
wait "$pid" || status=$?
tail -n 1 "$app"
((status == 0)) || { tail -n 5 "$app.err"; echo "FAILED: exit status $status after SIGINT"; exit 1; }
consecutive || { echo "FAILED: a reading lost, repeated or reordered"; exit 1; }
(($(count 'GAP') == 0)) || { echo "FAILED: the app reported a gap"; exit 1; }
(($(count '^SESSION RESET') == 0)) || failed=1
echo "ok: $(count '^reading ') readings in order, none lost through the move and the failover"

# The next run: the pin and the identity from before, the accessory's latest payload.
payload=$(latest_payload)
lab_exec phone "$APP" "$payload" --state-dir "$LAB_DIR/ctl" --readings 3 >"$app" 2>"$app.err" || { cat "$app" "$app.err"; echo "FAILED: second run"; exit 1; }
tail -n 1 "$app"
(($(count '^reading ') == 3)) || { cat "$app"; echo "FAILED: the second run: not 3 readings"; exit 1; }
((failed == 0)) || { echo "FAILED: session reset (see above)"; exit 1; }
if [[ -n ${LAMP:-} ]]; then
  # The lamp runs in fixed memory (examples/firmware_lamp/allocation_count.hpp): its "stopped"
  # line counts the C++ allocations its loop made through all of the above.
  kill -TERM "$lamp_pid"
  for _ in $(seq 100); do grep -q '"event":"stopped"' "$log" && break; sleep 0.1; done
  allocations=$(jq -s '[.[]|select(.event=="stopped")][0].allocations_after_start' "$log")
  [[ $allocations == 0 ]] ||
    { echo "FAILED: the lamp made $allocations C++ allocations after start-up (none allowed)"; exit 1; }
  echo "ok: the lamp stopped; no C++ allocation after start-up"
fi
echo "PASSED: companion example: SoftAP, pairing, provisioning, one session, readings, failover"
