# shellcheck shell=bash
# The demo's story, run inside a fresh lab by tests/lab/run-in-lab (scripts/demo, and the lab
# test demo.story): what a companion app lives through with one accessory, every step
# asserted. Needs BUILD (the build directory); DEMO_STEP=1 pauses between steps.
#
#   accessory (lanyard-accessory-sim, a sensor)      phone (the lanyard CLI)
#   ap0 198.18.4.1 ── SoftAP ──────────────────────── sap0 (down until the app "joins")
#   wlan0 198.18.1.3 ── home LAN bridge ──────────── wlan0 198.18.1.2
#   p2p0 (link-local) ── direct peer-to-peer link ──── p2p0
#   (via the home router) ── cloud 198.18.5.2: mosquitto, the relay ── cell0 (cellular)
source "$(dirname "${BASH_SOURCE[0]}")/../../tests/integration/discovery/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../../tests/integration/relay/broker.sh"
SIM=$BUILD/bin/lanyard-accessory-sim
[[ -x $SIM ]] || { echo "FAILED: $SIM not built"; exit 1; }

ID=demo-sensor
ACC=$LAB_DIR/accessory-state # the accessory's identity, paired controllers, Wi-Fi
APP=$LAB_DIR/app             # the app's key and trust store
SIMLOG=$LAB_DIR/sim.log
BROWSE=$LAB_DIR/browse.json
CHAN=$LAB_DIR/channel.json
mkdir -p "$APP"
T0=$(date +%s%3N)

now_ms() { date +%s%3N; }
at() { printf '%+7d ms' $(($1 - T0)); }   # a time as an offset from the demo's start
say() { printf '  %s  %s\n' "$(at "$(now_ms)")" "$*"; }
step() {
  if [[ ${DEMO_STEP:-0} == 1 && -t 0 ]]; then read -r -p $'\n(press Enter for the next step) '; fi
  printf '\n\033[1m== %s\033[0m\n' "$*"
}
die() { echo "FAILED: $*"; exit 1; }
# last FILE JQ_CONDITION: the last matching JSON line.
last() { matching "$1" "$2" | tail -n 1; }
first() { matching "$1" "$2" | head -n 1; }
ctl() { lab_exec accessory "$SIM" ctl --state-dir "$1" "${@:2}"; }
# Pushed readings ("v1 reading n=N ..."), not replies to "v1 get" (those carry re=).
PUSHED='.event=="message" and (.text|startswith("v1 reading")) and (.text|contains(" re=")|not)'
# readings FROM_LINE: the n= of each pushed reading in the channel log after line FROM_LINE.
readings() {
  tail -n +"$(($1 + 1))" "$CHAN" | jq -R -r "fromjson? | select($PUSHED)"' | .text
    | capture("n=(?<n>[0-9]+)").n'
}
consecutive() { awk 'NR > 1 && $1 != prev + 1 { bad = 1 } { prev = $1 } END { exit bad }'; }
lines() { wc -l <"$CHAN"; }
send() { echo "$1" >&8; sent=$((sent + 1)); }
# path_event K IFACE SECONDS: waits for the K-th path event after step 4's (paths_before + K),
# prints it; fails (saying why on stderr: it runs in $(...)) unless it went to IFACE.
path_event() {
  wait_for "$CHAN" '.event=="path"' "$3" $((paths_before + $1)) >/dev/null ||
    { echo "FAILED: no move to $2" >&2; return 1; }
  local e
  e=$(matching "$CHAN" '.event=="path"' | sed -n "$((paths_before + $1))p")
  [[ $(jq -r .to.interface <<<"$e") == "$2" ]] ||
    { echo "FAILED: moved elsewhere than $2: $e" >&2; return 1; }
  echo "$e"
}
sent=0

# ---------------------------------------------------------------------------------------------
step "1. A new accessory boots unprovisioned: setup mode and its setup payload"
sim_pid=$(lab_spawn accessory "$SIMLOG" "$SIM" --state-dir "$ACC" --kind sensor --id "$ID" \
  --name "Demo Sensor" --network "HomeLAN=correct-horse-battery@wlan0" \
  --sensor-interval-ms 200 --softap-grace-ms 1000 --json-events)
wait_for "$SIMLOG" '.event=="ready" and .mode=="setup"' 20 >/dev/null || die "no setup mode"
ready=$(first "$SIMLOG" '.event=="ready"')
PAYLOAD=$(jq -r 'select(.event=="payload") | .value' <(matching "$SIMLOG" '.event=="payload"') | head -n 1)
[[ $PAYLOAD == LNY1:* ]] || die "no setup payload"
say "accessory $ID in setup mode on its SoftAP $(jq -r '"\(.address):\(.port)"' <<<"$ready"), pairing window open"
say "its key: $(jq -r .fingerprint <<<"$ready")"
CODE=$(jq -r 'select(.event=="code") | .value' <(matching "$SIMLOG" '.event=="code"') | head -n 1)
[[ $CODE =~ ^[0-9]{4}-[0-9]{4}$ ]] || die "no setup code"
say "setup payload (its QR code; the 128-bit setup secret inside proves the app saw it):"
echo "      $PAYLOAD"
say "setup code on its label, for typing (the accessory keeps only a SPAKE2+ verifier): $CODE"
grep -v '^{' "$SIMLOG" | sed 's/^/      /' | head -n 40 || true

# The phone browses from now on: the accessory's arrival on the home LAN is timed from here.
browse_json phone "$BROWSE" _lanyard._tcp >/dev/null

# ---------------------------------------------------------------------------------------------
step "1b. A neighbour on the SoftAP, without the label, tries first: refused, nothing changes"
lab_exec phone ip link set sap0 up
NEIGHBOUR=$LAB_DIR/neighbour
mkdir -p "$NEIGHBOUR"
softap=$(jq -r '"\(.address):\(.port)"' <<<"$ready")
if out=$(lab_exec phone "$LANYARD" pair --tofu "$ID@$softap" --yes --identity-dir "$NEIGHBOUR/id" \
  --trust-store "$NEIGHBOUR/ts" --timeout 10 2>&1); then die "the neighbour paired by --tofu: $out"; fi
say "lanyard pair --tofu: refused: ${out#lanyard pair: }"
# A payload forged from what anyone sees (the id, the key any handshake shows), secret guessed.
forged=$("$BUILD/tests/make_payload" payload "$ID" "$(jq -r .fingerprint <<<"$ready")") ||
  die "make_payload"
printf 'evil-network-pass\n' >"$NEIGHBOUR/passphrase"
if out=$(lab_exec phone "$LANYARD" provision "$forged" --ssid EvilLAN --passphrase-file \
  "$NEIGHBOUR/passphrase" --softap-interface sap0 --identity-dir "$NEIGHBOUR/id" \
  --trust-store "$NEIGHBOUR/ts" --timeout 10 2>&1); then die "the neighbour provisioned: $out"; fi
say "lanyard provision with a forged payload: refused: ${out##*lanyard provision: }"
st=$(ctl "$ACC" status)
[[ $(jq -r .mode <<<"$st") == setup && $(jq '.controllers|length' <<<"$st") == 0 ]] ||
  die "the neighbour changed the accessory: $st"
say "accessory: still in setup mode, no controller paired; $(jq -r .pairing_window.describe <<<"$st")"

# ---------------------------------------------------------------------------------------------
step "2. The app joins the SoftAP, proves the payload, pairs as admin, provisions Wi-Fi"
printf 'correct-horse-battery\n' >"$APP/passphrase"
prov_start=$(now_ms)
lab_exec phone "$LANYARD" provision "$PAYLOAD" --ssid HomeLAN --passphrase-file "$APP/passphrase" \
  --join 'ip link set sap0 up' --softap-interface sap0 --identity-dir "$APP/id" \
  --trust-store "$APP/trust-store" --timeout 60 --json >"$LAB_DIR/provision.json" \
  2>"$LAB_DIR/provision.err" || { cat "$LAB_DIR/provision.json" "$LAB_DIR/provision.err"; die "provisioning"; }
while read -r p; do
  case $(jq -r .state <<<"$p") in
    joining) say "joining the accessory's SoftAP $(jq -r .detail <<<"$p") (the lab's joiner: ip link set sap0 up)" ;;
    verified) say "joined; the accessory's key is the payload's, both proved the setup secret; paired as admin and pinned: $(jq -r .detail <<<"$p")" ;;
    connecting) say "credentials for HomeLAN sent over the secure channel; accessory: connecting" ;;
    connected) say "accessory: connected, home addresses $(jq -r '.addresses|join(", ")' <<<"$p")" ;;
    found) say "found on the home network by its id: $(jq -r .detail <<<"$p")" ;;
    *) say "$(jq -c . <<<"$p")" ;;
  esac
done < <(matching "$LAB_DIR/provision.json" '.event=="progress"')
jq -e -s '[.[]|select(.event=="progress")|.state]==["joining","verified","connecting","connected","found"]' \
  "$LAB_DIR/provision.json" \
  >/dev/null || die "provisioning steps: $(cat "$LAB_DIR/provision.json")"
wait_for "$SIMLOG" '.event=="softap-closed"' 20 >/dev/null || die "the SoftAP did not close"
say "accessory: operational on HomeLAN in the same boot; SoftAP closed after its grace period"
prov_ms=$(($(now_ms) - prov_start))

# ---------------------------------------------------------------------------------------------
step "2b. The admin sets up the relay: a cloud MQTT broker, for when the phone is away"
# The broker's accounts: the accessory's (its inbox id, derived from its key) and the
# household's that its apps share. A deployment registers them the same way.
INBOX=$(lab_exec phone "$LANYARD" relay inbox "$ID" --identity-dir "$APP/id" \
  --trust-store "$APP/trust-store") || die "lanyard relay inbox"
broker_start "$INBOX:acc-broker-secret" "home1:home-broker-secret" >/dev/null || die "the broker did not start"
say "mosquitto in the cloud ($BROKER_HOST:$BROKER_PORT): TLS only, an account per accessory, a household account, an ACL (each reads only its own tree)"
printf 'acc-broker-secret\n' >"$APP/acc.pw"
printf 'home-broker-secret\n' >"$APP/home.pw"
lab_exec phone "$LANYARD" relay set "$ID" --broker "$BROKER_HOST" --ca "$BROKER_DIR/ca.crt" \
  --accessory-password-file "$APP/acc.pw" --household-account home1 \
  --household-password-file "$APP/home.pw" --identity-dir "$APP/id" \
  --trust-store "$APP/trust-store" --timeout 30 >"$LAB_DIR/relay-set.out" 2>&1 ||
  { cat "$LAB_DIR/relay-set.out"; die "lanyard relay set"; }
wait_for "$SIMLOG" '.event=="relay" and .state=="connected"' 30 >/dev/null ||
  die "the accessory did not connect to the broker"
say "lanyard relay set (admin only): the accessory keeps one connection to the broker as $INBOX"
say "the app's ticket, stored with the pin: $(lab_exec phone "$LANYARD" relay show "$ID" \
  --identity-dir "$APP/id" --trust-store "$APP/trust-store" --json | jq -c .)"

# ---------------------------------------------------------------------------------------------
step "3. Discovery: the phone finds it on every shared link, with its TXT metadata"
wait_for "$BROWSE" '.event=="added" and .interface=="wlan0" and .txt.id=="'"$ID"'"' 30 >/dev/null ||
  die "not discovered on wlan0"
wait_for "$BROWSE" '.event=="added" and .interface=="p2p0" and .txt.id=="'"$ID"'"' 30 >/dev/null ||
  die "not discovered on p2p0"
advertised=$(last "$SIMLOG" '.event=="advertised"' | jq -r .time_ms)
found=$(first "$BROWSE" '.event=="added" and .interface=="wlan0" and .txt.id=="'"$ID"'"')
discovery_ms=$(($(jq -r .time_ms <<<"$found") - advertised))
for ifc in wlan0 p2p0; do
  e=$(first "$BROWSE" '.event=="added" and .interface=="'$ifc'" and .txt.id=="'"$ID"'"')
  say "$(jq -r '"\(.name) on \(.interface) (\(.interface_kind)): \(.addresses|join(", ")) port \(.port)"' <<<"$e")"
  say "   TXT $(jq -r '.txt|to_entries|map("\(.key)=\(.value)")|join(" ")' <<<"$e")"
done
say "resolved on wlan0 ${discovery_ms} ms after the accessory registered its service"
[[ $(jq -r '.txt.sf' <<<"$found") == 0 ]] || die "the pairing window is still advertised open"
say "sf=0: provisioning closed the pairing window; the owner opens it to add a second phone:"
c_before=$(jq -r '.txt["c#"]' <<<"$found")
ctl "$ACC" pairing-window open >/dev/null
wait_for "$BROWSE" '.event=="updated" and .interface=="wlan0" and .txt.sf=="1"' 20 >/dev/null ||
  die "the TXT update did not reach the phone"
upd=$(last "$BROWSE" '.event=="updated" and .interface=="wlan0" and .txt.sf=="1"')
say "updated in place: sf=$(jq -r .txt.sf <<<"$upd") c#=$(jq -r '.txt["c#"]' <<<"$upd") (was c#=$c_before; no remove/add)"
ctl "$ACC" pairing-window close >/dev/null
wait_for "$BROWSE" '.event=="updated" and .interface=="wlan0" and .txt.sf=="0"' 20 >/dev/null ||
  die "the window's closing did not reach the phone"
say "and closed again: sf=0"

# ---------------------------------------------------------------------------------------------
step "4. The channel: by device id, pinned key, sensor readings pushed by the accessory"
mkfifo "$LAB_DIR/app.in"
conn_start=$(now_ms)
conn=$(lab_spawn phone "$LAB_DIR/connect.err" bash -c 'exec "$0" "$@" <"'"$LAB_DIR/app.in"'" >"'"$CHAN"'"' \
  "$LANYARD" connect "$ID" --stay --json --identity-dir "$APP/id" --trust-store "$APP/trust-store" \
  --keepalive-ms 500 --peer-timeout-ms 1500 --move-back-hold-ms 2000)
exec 8>"$LAB_DIR/app.in" # what the app sends; kept open for the whole story
wait_for "$CHAN" '.event=="state" and .state=="ready"' 30 >/dev/null || die "channel not ready"
preparing=$(first "$CHAN" '.event=="state" and .state=="preparing"' | jq -r .time_ms)
ready_ms=$(($(first "$CHAN" '.event=="state" and .state=="ready"' | jq -r .time_ms) - preparing))
path=$(first "$CHAN" '.event=="path"')
say "ready in ${ready_ms} ms (TCP + TLS handshake + session), via $(jq -r '"\(.to.interface) \(.to.address):\(.to.port)"' <<<"$path")"
# The app's own browser may find the p2p link first: the channel then moves up to Wi-Fi.
wait_for "$CHAN" '.event=="path" and .to.interface=="wlan0"' 20 >/dev/null || die "never on wlan0"
if [[ $(jq -r .to.interface <<<"$path") != wlan0 ]]; then
  say "moved up to wlan0 once discovery found it there: $(last "$CHAN" '.event=="path"' | jq -r .reason)"
fi
paths_before=$(count "$CHAN" '.event=="path"') # later moves are counted from here
send "v1 info"
wait_for "$CHAN" '.event=="message" and (.text|startswith("v1 info"))' 20 >/dev/null || die "no info reply"
say "asked for its info: $(last "$CHAN" '.event=="message" and (.text|startswith("v1 info"))' | jq -r .text)"
wait_for "$CHAN" "$PUSHED" 20 5 >/dev/null || die "no readings"
matching "$CHAN" "$PUSHED" | head -n 3 |
  while read -r m; do say "< $(jq -r .text <<<"$m")"; done

# ---------------------------------------------------------------------------------------------
step "5. Wi-Fi drops on the phone: the channel moves to the p2p link, no reading lost"
before=$(count "$CHAN" "$PUSHED")
cut=$(now_ms)
lab_link_down phone wlan0
say "wlan0 down"
moved=$(path_event 1 p2p0 20) || exit 1
failover_ms=$(($(jq -r .time_ms <<<"$moved") - cut))
say "channel on p2p0 ($(jq -r '.to.address' <<<"$moved")) after ${failover_ms} ms: $(jq -r .reason <<<"$moved")"
send "v1 get"
wait_for "$CHAN" '.event=="message" and (.text|startswith("v1 reading")) and (.text|contains(" re="))' 20 >/dev/null ||
  die "no reply over p2p0"
wait_for "$CHAN" "$PUSHED" 20 $((before + 5)) >/dev/null ||
  die "readings stopped on p2p0"
# Readings pushed while the path changed: the largest gap between two of them.
gap_ms=$(matching "$CHAN" "$PUSHED" |
  jq -s '[.[].time_ms] | [range(1; length) as $i | .[$i] - .[$i - 1]] | max')
say "readings go on over p2p0; largest gap between two readings so far: ${gap_ms} ms (one every 200 ms)"

# ---------------------------------------------------------------------------------------------
step "6. Wi-Fi comes back: the channel returns to it (make-before-break)"
lab_link_up phone wlan0
back_start=$(now_ms)
say "wlan0 up"
back=$(path_event 2 wlan0 30) || exit 1
say "back on wlan0 after $(($(jq -r .time_ms <<<"$back") - back_start)) ms ($(jq -r .reason <<<"$back"); the hold is 2000 ms)"
readings 0 | consecutive || die "readings were lost or repeated before the reboot: $(readings 0 | tr '\n' ' ')"
say "every reading so far arrived exactly once, in order: n=$(readings 0 | head -n1)..$(readings 0 | tail -n1)"
(($(count "$CHAN" '.event=="session_reset"') == 0)) || die "the session was reset"

# ---------------------------------------------------------------------------------------------
step "6b. The phone leaves home: the channel goes on through the relay over cellular"
before=$(count "$CHAN" "$PUSHED")
lab_cell_home off
lab_link_down phone p2p0
away=$(now_ms)
lab_link_down phone wlan0
say "cellular reaches the cloud, not the home; p2p0 and wlan0 down"
relayed=$(path_event 3 relay 30) || exit 1
relay_ms=$(($(jq -r .time_ms <<<"$relayed") - away))
say "channel on the relay (broker $(jq -r .to.address <<<"$relayed")) after ${relay_ms} ms: $(jq -r .reason <<<"$relayed"); TLS pinned end to end through it"
send "v1 get"
wait_for "$CHAN" "$PUSHED" 30 $((before + 10)) >/dev/null || die "readings stopped on the relay"
on_relay=$(($(count "$CHAN" "$PUSHED") - before))
say "readings keep arriving through the relay (${on_relay} so far)"
lab_link_up phone wlan0
lab_cell_home on
home=$(now_ms)
say "back home: wlan0 up"
back=$(path_event 4 wlan0 40) || exit 1
say "back on wlan0 after $(($(jq -r .time_ms <<<"$back") - home)) ms ($(jq -r .reason <<<"$back"), make-before-break)"
lab_link_up phone p2p0
readings 0 | consecutive || die "readings were lost or repeated across the relay: $(readings 0 | tr '\n' ' ')"
say "every reading so far arrived exactly once, in order: n=$(readings 0 | head -n1)..$(readings 0 | tail -n1)"
(($(count "$CHAN" '.event=="session_reset"') == 0)) || die "the session was reset"

# ---------------------------------------------------------------------------------------------
step "7. The accessory reboots: the app is told exactly what the accessory lost"
send "v1 ping"
ctl "$ACC" reboot 300 >/dev/null
say "ctl reboot (the accessory loses its sessions; its key and paired controllers are on disk)"
wait_for "$CHAN" '.event=="session_reset"' 30 >/dev/null || die "no session reset report"
reset=$(last "$CHAN" '.event=="session_reset"')
say "session reset reported: $(jq -r '.unacked|length' <<<"$reset") message(s) not delivered $(jq -c '[.unacked[].text]' <<<"$reset")"
wait_for "$CHAN" "$PUSHED" 20 $(($(count "$CHAN" "$PUSHED") + 3)) >/dev/null ||
  die "no readings after the reboot"
first_new=$(readings "$(grep -n '"session_reset"' "$CHAN" | tail -n 1 | cut -d: -f1)" | head -n 1)
# Every message the app sent is accounted for: acknowledged, or listed by the reset.
accounted() { echo $(($(count "$CHAN" '.event=="acked"') + $(matching "$CHAN" '.event=="session_reset"' | jq -s '[.[].unacked|length]|add // 0'))); }
end=$((SECONDS + 10))
while (($(accounted) != sent && SECONDS < end)); do sleep 0.2; done
(($(accounted) == sent)) || die "$sent messages sent, $(accounted) acknowledged or reported: $(cat "$CHAN")"
say "new session up; readings start again at n=${first_new:-?} (the counter lives in RAM; one pushed before the app was back had no session to go to)"

# ---------------------------------------------------------------------------------------------
step "8. An impostor takes the accessory's id (and address): refused by the pinned key, it cannot end the channel"
kill -TERM "$sim_pid"
wait_for "$SIMLOG" '.event=="stopped"' 20 >/dev/null || die "the accessory did not stop"
say "the real accessory is switched off"
IMP=$LAB_DIR/impostor-state
lab_exec accessory "$SIM" set-wifi --state-dir "$IMP" --ssid HomeLAN >/dev/null
imp_pid=$(lab_spawn accessory "$LAB_DIR/impostor.log" "$SIM" --state-dir "$IMP" --kind sensor \
  --id "$ID" --name "Demo Sensor" --sensor-interval-ms 200 --json-events)
wait_for "$LAB_DIR/impostor.log" '.event=="advertised"' 20 >/dev/null || die "impostor not up"
say "impostor advertises id=$ID on the same address with key $(first "$LAB_DIR/impostor.log" '.event=="ready"' | jq -r .fingerprint)"
REFUSED='.event=="state" and .state=="waiting" and .code=="lanyard.trust.key_changed"'
wait_for "$CHAN" "$REFUSED" 40 >/dev/null || die "the impostor was not refused"
refusal=$(last "$CHAN" "$REFUSED" | jq -r .reason)
say "channel refused it: $refusal"
grep -qiE 'key|fingerprint|pinned' <<<"$refusal" || die "the refusal does not name the key: $refusal"
(($(count "$LAB_DIR/impostor.log" '.event=="message"') == 0)) || die "the impostor received a message"
say "the impostor received nothing; the channel waits (discovery is no proof: a neighbour cannot end it)"
kill -TERM "$imp_pid"
wait_for "$LAB_DIR/impostor.log" '.event=="stopped"' 20 >/dev/null || die "the impostor did not stop"
readies=$(count "$CHAN" '.event=="state" and .state=="ready"')
lab_spawn accessory "$LAB_DIR/sim-back.log" "$SIM" --state-dir "$ACC" --kind sensor --id "$ID" \
  --name "Demo Sensor" --sensor-interval-ms 200 --json-events >/dev/null
say "the real accessory is switched on again"
wait_for "$CHAN" '.event=="state" and .state=="ready"' 60 $((readies + 1)) >/dev/null ||
  die "the channel did not come back to the real accessory: $(tail -n 5 "$CHAN")"
(($(count "$CHAN" '.event=="state" and .state=="failed"') == 0)) || die "the channel failed"
say "the channel is ready again with the real accessory, never having failed"
exec 8>&-

# ---------------------------------------------------------------------------------------------
received=$(count "$CHAN" '.event=="message"')
acked=$(count "$CHAN" '.event=="acked"')
readings_n=$(count "$CHAN" "$PUSHED")
printf '\n\033[1mdemo: every step held.\033[0m\n'
cat <<EOF_SUMMARY | tee "$LAB_DIR/summary.txt"
  provisioning (SoftAP join → found on HomeLAN)  ${prov_ms} ms
  discovery (service registered → resolved)       ${discovery_ms} ms
  channel ready (TCP + TLS + session)              ${ready_ms} ms
  failover (wlan0 down → on p2p0)                  ${failover_ms} ms
  away from home (wlan0 down → on the relay)       ${relay_ms} ms
  largest gap between readings across failover     ${gap_ms} ms
  messages sent by the app / acknowledged          ${sent} / ${acked}
  messages received (readings among them)          ${received} (${readings_n})
  session resets (the reboot)                      $(count "$CHAN" '.event=="session_reset"')
EOF_SUMMARY
