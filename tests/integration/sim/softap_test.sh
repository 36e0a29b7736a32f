# lanyard-accessory-sim in the netns lab, unprovisioned: setup mode on its SoftAP (ap0,
# 198.18.4.1). The phone joins the SoftAP (sap0), sees `_lanyard._tcp` with sf=1 there, pairs
# with `lanyard pair PAYLOAD` by DNS-SD (verified against the printed payload), turns the lamp
# on with sim_app, provisions it (failures first, then the home LAN: the accessory restarts
# there and is found on wlan0); then the pairing window is closed (TXT sf=0; an unpaired app is
# refused) and the key rotated (the paired app refuses it). Run through run-in-lab. Needs BUILD.
here=$(dirname "${BASH_SOURCE[0]}")
# shellcheck source=common.sh
source "$here/common.sh"
sim_mdns_lab_setup
LANYARD=$BUILD/bin/lanyard
[[ -x $LANYARD ]] || { echo "FAILED: $LANYARD not built"; exit 1; }
export LANYARD_INTERFACE_KINDS=wlan0=wifi,p2p0=p2p,ap0=softap,sap0=softap,cell0=cellular

acc=$LAB_DIR/acc
log=$LAB_DIR/sim.log
ctl() { lab_exec accessory "$SIM" ctl --state-dir "$acc" "$@"; }

# Provisioning maps SSIDs to lab links: HomeLAN is the accessory's wlan0; "Attic" is out of
# reach (an interface that never comes up: timeout).
lab_spawn accessory "$log" "$SIM" "${SIM_MDNS_ARGS[@]}" --state-dir "$acc" --kind lamp --id lamp-lab --name "Lab Lamp" \
  --network "HomeLAN=correct-horse@wlan0" --network "Attic=correct-horse@nowhere0" \
  --join-timeout-ms 1000 --softap-grace-ms 300 --json-events >/dev/null
wait_for "$log" '.event=="ready"' 20
jq -e -R 'fromjson? | select(.event=="ready") | .mode=="setup" and .address=="198.18.4.1"
          and .port==5577 and .pairing_window' "$log" >/dev/null ||
  { echo "FAILED: not in setup mode on the SoftAP address"; cat "$log"; exit 1; }
payload=$(jq -R -r 'fromjson? | select(.event=="payload") | .value' "$log")
[[ $payload == LNY1:* ]] || { echo "FAILED: no payload"; exit 1; }
# The QR code is drawn (on stderr with --json-events), or a note says qrencode is missing.
if command -v qrencode >/dev/null; then
  grep -q '█' "$log" || { echo "FAILED: no QR code drawn"; exit 1; }
fi
pass "setup mode on 198.18.4.1:5577, payload printed"

# The phone joins the SoftAP and sees the accessory there with sf=1.
lab_join_softap
# shellcheck disable=SC2016 # $0 is expanded by the inner bash
lab_spawn phone "$LAB_DIR/browse.err" bash -c \
  'exec "$0" browse _lanyard._tcp --json > "'"$LAB_DIR/browse.json"'"' "$LANYARD" >/dev/null
wait_for "$LAB_DIR/browse.json" '.event=="added" and .txt.id=="lamp-lab" and .txt.sf=="1"
  and .interface=="sap0" and (.addresses|index("198.18.4.1"))' 30
pass "advertised on the SoftAP with sf=1"

out=$(lab_exec phone "$LANYARD" pair "$payload" --trust-store "$LAB_DIR/ts" \
  --identity-dir "$LAB_DIR/ctl" --timeout 20 --json) || { echo "FAILED: pair: $out"; exit 1; }
jq -e '.device_id=="lamp-lab" and .pinned_by=="verified" and .address=="198.18.4.1:5577"' \
  <<<"$out" >/dev/null || { echo "FAILED: pair result $out"; exit 1; }
pass "paired by DNS-SD over the SoftAP, verified against the payload"

# The paired app turns the lamp on.
out=$(printf 'v1 set on=1 brightness=30\n' | lab_exec phone timeout 30 "$SIM_APP" \
  --payload "$payload" --connect 198.18.4.1:5577 --identity-dir "$LAB_DIR/ctl" \
  --trust-store "$LAB_DIR/ts") || { echo "FAILED: sim_app: $out"; exit 1; }
grep -q '"text":"v1 state re=0 kind=lamp on=1 brightness=30"' <<<"$out" ||
  { echo "FAILED: no state reply: $out"; exit 1; }
ctl status | jq -e '.lamp.on and .lamp.brightness==30 and (.controllers|length)==1' >/dev/null ||
  { echo "FAILED: lamp state"; ctl status; exit 1; }
pass "lamp turned on by the app"

# Provisioning over the channel: a wrong passphrase and an unreachable network fail with their
# reasons; the right credentials connect, the accessory reports its home-LAN addresses and
# restarts there, and the app finds it on wlan0 by its id.
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
mkfifo "$LAB_DIR/app.in"
lab_exec phone "$SIM_APP" --payload "$payload" --connect 198.18.4.1:5577 \
  --identity-dir "$LAB_DIR/ctl" --trust-store "$LAB_DIR/ts" <"$LAB_DIR/app.in" \
  >"$LAB_DIR/app.log" 2>&1 &
exec 3>"$LAB_DIR/app.in"
echo "@provisioning v1 wifi_set ssid_hex=$(hex HomeLAN) passphrase_hex=$(hex wrong-horse)" >&3
wait_for "$LAB_DIR/app.log" '.event=="control" and .text=="v1 wifi_status re=0 state=failed reason=auth_error"' 20
echo "@provisioning v1 wifi_set ssid_hex=$(hex Attic) passphrase_hex=$(hex correct-horse)" >&3
wait_for "$LAB_DIR/app.log" '.event=="control" and .text=="v1 wifi_status re=1 state=connecting"' 20
wait_for "$LAB_DIR/app.log" '.event=="control" and .text=="v1 wifi_status re=1 state=failed reason=timeout"' 20
ctl status | jq -e '.mode=="setup"' >/dev/null || { echo "FAILED: left setup mode"; exit 1; }
pass "provisioning failures reported (auth_error, timeout); still in setup mode"
echo "@provisioning v1 wifi_set ssid_hex=$(hex HomeLAN) passphrase_hex=$(hex correct-horse)" >&3
wait_for "$LAB_DIR/app.log" '.event=="control" and (.text|test("^v1 wifi_status re=2 state=connected addresses=.*198[.]18[.]1[.]3"))' 20
wait_for "$log" '.event=="ready" and .mode=="operational"' 20
exec 3>&-
wait_for "$LAB_DIR/browse.json" '.event=="added" and .txt.id=="lamp-lab" and .interface=="wlan0"
  and (.addresses|index("198.18.1.3"))' 30
out=$(printf 'v1 get\n' | lab_exec phone timeout 30 "$SIM_APP" --payload "$payload" \
  --connect 198.18.1.3:5577 --identity-dir "$LAB_DIR/ctl" --trust-store "$LAB_DIR/ts") ||
  { echo "FAILED: sim_app on the home LAN: $out"; exit 1; }
grep -q '"text":"v1 state re=0 kind=lamp' <<<"$out" || { echo "FAILED: no reply: $out"; exit 1; }
pass "provisioned: connected with its home-LAN addresses, advertised on wlan0, reachable there"

# Provisioning closed setup mode's pairing window: the home LAN sees sf=0. Opened and closed
# again, each change arrives as a TXT update; with it closed an unpaired controller is refused.
wait_for "$LAB_DIR/browse.json" '.event=="added" and .txt.id=="lamp-lab" and .interface=="wlan0"
  and .txt.sf=="0"' 5
ctl pairing-window open | jq -e '.ok' >/dev/null
wait_for "$LAB_DIR/browse.json" '.event=="updated" and .txt.id=="lamp-lab" and .txt.sf=="1"' 20
ctl pairing-window close | jq -e '.ok' >/dev/null
wait_for "$LAB_DIR/browse.json" '.event=="updated" and .txt.id=="lamp-lab" and .txt.sf=="0"' 20
if out=$(lab_exec phone "$LANYARD" pair "$payload" --address 198.18.1.3:5577 \
  --trust-store "$LAB_DIR/ts2" --identity-dir "$LAB_DIR/stranger" --timeout 20 2>&1); then
  echo "FAILED: an unpaired controller paired with the window closed: $out"; exit 1
fi
[[ $out == *"lanyard pair: "* ]] || { echo "FAILED: message: $out"; exit 1; }
wait_for "$log" '.event=="diagnostic" and .id=="server.connection_refused" and .code=="lanyard.trust.not_paired"' 10
pass "window closed: sf=0 advertised, unpaired controller refused ($out)"

# rotate-key: the accessory comes back with a new key; the app that pinned the old one refuses.
ctl rotate-key | jq -e '.ok' >/dev/null
wait_for "$log" '.event=="ready"' 20 3
# By address: right after the reboot the instance is being re-registered on the network.
if out=$(lab_exec phone "$LANYARD" pair "$payload" --address 198.18.1.3:5577 \
  --trust-store "$LAB_DIR/ts" --identity-dir "$LAB_DIR/ctl" --timeout 20 2>&1); then
  echo "FAILED: the new key was accepted: $out"; exit 1
fi
[[ $out == *"presented"* ]] || { echo "FAILED: message: $out"; exit 1; }
pass "rotate-key: the paired app refuses the new key ($out)"
sim_mdns_check "$log"
