# lanyard-accessory-sim as a provisioned sensor on the lab's home LAN: the phone pairs with
# `lanyard pair PAYLOAD` (DNS-SD over wlan0), sim_app receives the pushed readings in order;
# then faults from the control socket and the app's reaction: radio-sleep → the channel waits
# and resumes the same session with no reading lost or repeated; crash (SIGKILL) + restart →
# session reset, readings go on in the new session. Run through run-in-lab. Needs BUILD.
here=$(dirname "${BASH_SOURCE[0]}")
# shellcheck source=common.sh
source "$here/common.sh"
sim_mdns_lab_setup
LANYARD=$BUILD/bin/lanyard
[[ -x $LANYARD ]] || { echo "FAILED: $LANYARD not built"; exit 1; }
export LANYARD_INTERFACE_KINDS=wlan0=wifi,p2p0=p2p,ap0=softap,sap0=softap,cell0=cellular

acc=$LAB_DIR/acc
log=$LAB_DIR/sim.log
app=$LAB_DIR/app.log
ctl() { lab_exec accessory "$SIM" ctl --state-dir "$acc" "$@"; }
start_sim() {
  lab_spawn accessory "$log" "$SIM" "${SIM_MDNS_ARGS[@]}" --state-dir "$acc" --kind sensor --id sensor-lab \
    --sensor-interval-ms 100 --json-events >/dev/null
}

lab_exec accessory "$SIM" set-wifi --state-dir "$acc" --ssid HomeLAN >/dev/null
start_sim
wait_for "$log" '.event=="advertised"' 20
payload=$(jq -R -r 'fromjson? | select(.event=="payload") | .value' "$log")
out=$(lab_exec phone "$LANYARD" pair "$payload" --trust-store "$LAB_DIR/ts" \
  --identity-dir "$LAB_DIR/ctl" --timeout 20 --json) || { echo "FAILED: pair: $out"; exit 1; }
jq -e '.device_id=="sensor-lab" and .pinned_by=="verified"' <<<"$out" >/dev/null ||
  { echo "FAILED: pair result $out"; exit 1; }
pass "paired by DNS-SD on the home LAN: $(jq -r .address <<<"$out")"

mkfifo "$LAB_DIR/app.in"
lab_exec phone "$SIM_APP" --payload "$payload" --connect 198.18.1.3:5577 \
  --identity-dir "$LAB_DIR/ctl" --trust-store "$LAB_DIR/ts" <"$LAB_DIR/app.in" >"$app" 2>&1 &
exec 3>"$LAB_DIR/app.in"
wait_for "$app" '.event=="message" and (.text|startswith("v1 reading"))' 20 5
readings "$app" | consecutive || { echo "FAILED: readings out of order"; exit 1; }
pass "sensor readings pushed to the app in order"

ctl radio-sleep 3 >/dev/null
wait_for "$app" '.event=="state" and .state=="waiting"' 20
wait_for "$app" '.event=="state" and .state=="ready"' 20 2
n=$(readings "$app" | tail -n 1)
wait_for "$app" ".event==\"message\" and (.text|startswith(\"v1 reading n=$((n + 3)) \"))" 20
(($(count "$app" '.event=="reset"') == 0)) || { echo "FAILED: radio-sleep reset the session"; exit 1; }
readings "$app" | consecutive || { echo "FAILED: a reading lost or repeated"; exit 1; }
pass "radio-sleep: waiting, then the same session resumed with every reading exactly once"

ctl crash >/dev/null
start_sim
wait_for "$app" '.event=="reset"' 30
mark=$(wc -l <"$app")
wait_for "$app" '.event=="message" and (.text|startswith("v1 reading"))' 20 \
  $(($(count "$app" '.event=="message"') + 3))
tail -n +"$mark" "$app" | readings /dev/stdin | consecutive ||
  { echo "FAILED: readings after the crash out of order"; exit 1; }
exec 3>&-
pass "crash + restart: session reset reported, readings go on in the new session"
sim_mdns_check "$log"
