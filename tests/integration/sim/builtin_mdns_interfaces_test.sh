# lanyard-accessory-sim --mdns builtin follows its interfaces: a provisioned sensor with no
# avahi-daemon on its host starts with p2p0 down and is found on wlan0 only; p2p0 comes up
# and the responder finds it (its rescan) and announces there; p2p0 goes down (forgotten) and
# up again, after which a TXT change (window closed: sf=0) reaches the phone on p2p0 as well
# as on wlan0. Run through run-in-lab. Needs BUILD.
here=$(dirname "${BASH_SOURCE[0]}")
# shellcheck source=common.sh
source "$here/common.sh"
LANYARD=$BUILD/bin/lanyard
[[ -x $LANYARD ]] || { echo "FAILED: $LANYARD not built"; exit 1; }
[[ $SIM_MDNS == builtin ]] || { echo "FAILED: this test is for LANYARD_SIM_MDNS=builtin"; exit 1; }
export LANYARD_INTERFACE_KINDS=wlan0=wifi,p2p0=p2p,ap0=softap,sap0=softap,cell0=cellular
sim_mdns_lab_setup

acc=$LAB_DIR/acc
log=$LAB_DIR/sim.log
browse=$LAB_DIR/browse.json
lab_exec accessory "$SIM" set-wifi --state-dir "$acc" --ssid HomeLAN >/dev/null
lab_link_down accessory p2p0
lab_spawn accessory "$log" "$SIM" "${SIM_MDNS_ARGS[@]}" --state-dir "$acc" --kind sensor \
  --id sensor-if --json-events >/dev/null
wait_for "$log" '.event=="advertised"' 20
# shellcheck disable=SC2016 # $0 is expanded by the inner bash
lab_spawn phone "$LAB_DIR/browse.err" bash -c 'exec "$0" browse _lanyard._tcp --json > "'"$browse"'"' \
  "$LANYARD" >/dev/null
wait_for "$browse" '.event=="added" and .txt.id=="sensor-if" and .interface=="wlan0" and .txt.sf=="1"' 20
(($(count "$browse" '.interface=="p2p0"') == 0)) || { echo "FAILED: seen on p2p0 while it was down"; exit 1; }
pass "found on wlan0; p2p0 is down"
lab_link_up accessory p2p0
wait_for "$browse" '.event=="added" and .txt.id=="sensor-if" and .interface=="p2p0" and .txt.sf=="1"' 20
pass "p2p0 came up after the start: found there too"

# Down long enough for a rescan (every second) to take it away, then up again.
lab_link_down accessory p2p0
sleep 2.5
lab_link_up accessory p2p0
sleep 3
lab_exec accessory "$SIM" ctl --state-dir "$acc" pairing-window close | jq -e '.ok' >/dev/null
wait_for "$browse" '.event=="updated" and .txt.id=="sensor-if" and .interface=="p2p0" and .txt.sf=="0"' 20
wait_for "$browse" '.event=="updated" and .txt.id=="sensor-if" and .interface=="wlan0" and .txt.sf=="0"' 20
pass "p2p0 down and up: published there again (the TXT change reached p2p0)"
sim_mdns_check "$log"
