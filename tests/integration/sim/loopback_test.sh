#!/bin/bash
# lanyard-accessory-sim as a normal process on 127.0.0.1 (no lab, no avahi: --no-advertise),
# with sim_app as the app. Checks: the payload line, lamp state changed by messages, sensor
# readings pushed in order, and each control-socket fault with the app's expected reaction:
# reboot and crash → session reset; radio-sleep and drop → the channel waits and resumes the
# same session with nothing lost or repeated; slow → replies still arrive; pairing window
# closed → an unpaired app is refused; rotate-key → the app refuses the new key.
set -euo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
# shellcheck source=common.sh
source "$here/common.sh"

dir=$(mktemp -d /tmp/lanyard-sim.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  # LANYARD_SIM_KEEP=1 keeps the logs and state directories for a look afterwards.
  if [[ -n ${LANYARD_SIM_KEEP:-} ]]; then echo "kept: $dir"; else rm -rf "$dir"; fi
}
trap cleanup EXIT

# start_sim NAME ARGS...: runs the simulator with --state-dir $dir/NAME, JSON events to
# $dir/NAME.log; sets sim_pid, port, payload.
start_sim() {
  local name=$1 before
  shift
  before=$(count "$dir/$name.log" '.event=="ready"')
  "$SIM" --state-dir "$dir/$name" --no-advertise --listen 127.0.0.1:0 --json-events "$@" \
    >>"$dir/$name.log" 2>&1 &
  sim_pid=$!
  pids+=("$sim_pid")
  wait_for "$dir/$name.log" '.event=="ready"' 20 $((before + 1))
  port=$(jq -R -r 'fromjson? | select(.event=="ready") | .port' "$dir/$name.log" | tail -n 1)
  payload=$(jq -R -r 'fromjson? | select(.event=="payload") | .value' "$dir/$name.log" | tail -n 1)
}

# start_app NAME: sim_app for $payload/$port, stdin from the fifo $dir/NAME.in (held open on
# fd 3 so the app keeps running), events to $dir/NAME.log; sets app_pid.
start_app() {
  local name=$1
  mkfifo "$dir/$name.in"
  "$SIM_APP" --payload "$payload" --connect "127.0.0.1:$port" --identity-dir "$dir/$name.id" \
    --trust-store "$dir/$name.ts" <"$dir/$name.in" >"$dir/$name.log" 2>&1 &
  app_pid=$!
  pids+=("$app_pid")
  exec 3>"$dir/$name.in"
}

ctl() { "$SIM" ctl --state-dir "$dir/$1" "${@:2}"; }

# --- bad flags and state files are refused with a clear message ------------------------------
if out=$("$SIM" --state-dir "$dir/x" 2>&1); then echo "FAILED: no --kind accepted"; exit 1; fi
[[ $out == *"--kind lamp|sensor is required"* ]] || { echo "FAILED: message: $out"; exit 1; }
if out=$("$SIM" --state-dir "$dir/x" --kind kettle 2>&1); then echo "FAILED: kettle"; exit 1; fi
[[ $out == *"--kind must be lamp or sensor"* ]] || { echo "FAILED: message: $out"; exit 1; }
mkdir -p "$dir/bad" && echo "garbage" >"$dir/bad/device.conf"
if out=$("$SIM" --state-dir "$dir/bad" 2>&1); then echo "FAILED: bad device.conf"; exit 1; fi
[[ $out == *"device.conf:1"* ]] || { echo "FAILED: message: $out"; exit 1; }
pass "bad flags and a damaged device.conf are refused"

# --- the sensor: readings, reboot, radio-sleep, drop, slow, crash -----------------------------
"$SIM" set-wifi --state-dir "$dir/sensor" --ssid HomeLAN >/dev/null
start_sim sensor --kind sensor --id sensor-1 --sensor-interval-ms 100
[[ $payload == LNY1:* ]] || { echo "FAILED: no payload line"; exit 1; }
start_app app
wait_for "$dir/app.log" '.event=="message" and (.text|startswith("v1 reading"))' 20 3
readings "$dir/app.log" | consecutive || { echo "FAILED: readings out of order"; exit 1; }
pass "sensor readings arrive in order"

ctl sensor reboot 200 >/dev/null
wait_for "$dir/app.log" '.event=="reset"' 20
mark=$(wc -l <"$dir/app.log")
wait_for "$dir/app.log" '.event=="message" and (.text|startswith("v1 reading"))' 20 \
  $(($(count "$dir/app.log" '.event=="message"') + 2))
tail -n +"$mark" "$dir/app.log" | readings /dev/stdin | consecutive ||
  { echo "FAILED: readings after the reboot out of order"; exit 1; }
pass "reboot: the app got a session reset and readings go on in the new session"

# radio-sleep longer than the app's peer timeout (2 s): the channel waits, then resumes the
# same session (no reset) and the readings go on without a gap or a repeat.
ctl sensor radio-sleep 3 >/dev/null
ctl sensor status | jq -e '.paused and .fault=="radio-sleep"' >/dev/null
resets=$(count "$dir/app.log" '.event=="reset"')
wait_for "$dir/app.log" '.event=="state" and .state=="waiting"' 20
wait_for "$dir/app.log" '.event=="state" and .state=="ready"' 20 3
n_before=$(readings "$dir/app.log" | tail -n 1)
wait_for "$dir/app.log" ".event==\"message\" and (.text|startswith(\"v1 reading n=$((n_before + 3)) \"))" 20
(($(count "$dir/app.log" '.event=="reset"') == resets)) || { echo "FAILED: radio-sleep reset the session"; exit 1; }
tail -n +"$mark" "$dir/app.log" | readings /dev/stdin | consecutive ||
  { echo "FAILED: readings lost or repeated across radio-sleep"; exit 1; }
pass "radio-sleep: the channel waited and resumed the session, nothing lost"

ctl sensor drop >/dev/null
out=$(ctl sensor pairing-window close || true)
jq -e '.ok==false and .reason=="paused"' <<<"$out" >/dev/null ||
  { echo "FAILED: a command other than undrop/status/crash ran during drop: $out"; exit 1; }
waits=$(count "$dir/app.log" '.event=="state" and .state=="waiting"')
wait_for "$dir/app.log" '.event=="state" and .state=="waiting"' 20 $((waits + 1))
readies=$(count "$dir/app.log" '.event=="state" and .state=="ready"')
ctl sensor undrop >/dev/null
wait_for "$dir/app.log" '.event=="state" and .state=="ready"' 20 $((readies + 1))
(($(count "$dir/app.log" '.event=="reset"') == resets)) || { echo "FAILED: drop reset the session"; exit 1; }
tail -n +"$mark" "$dir/app.log" | readings /dev/stdin | consecutive ||
  { echo "FAILED: readings lost or repeated across drop"; exit 1; }
pass "drop/undrop: the channel waited and resumed the session, nothing lost"

ctl sensor slow 300 | jq -e '.ok' >/dev/null
echo "v1 get" >&3
wait_for "$dir/app.log" '.event=="message" and (.text|test("^v1 reading re=[0-9]+ n="))' 20
ctl sensor slow 0 >/dev/null
pass "slow: replies still arrive"

resets=$(count "$dir/app.log" '.event=="reset"')
ctl sensor crash | jq -e '.ok' >/dev/null
wait "$sim_pid" 2>/dev/null && { echo "FAILED: the crashed simulator exited 0"; exit 1; }
[[ -S $dir/sensor/control.sock ]] || { echo "FAILED: crash removed the control socket (not a crash)"; exit 1; }
# Restarted on the same port (and state dir: the stale control socket must not stop it), the
# accessory no longer knows the session: the app gets a reset.
"$SIM" --state-dir "$dir/sensor" --no-advertise --listen "127.0.0.1:$port" --json-events \
  --sensor-interval-ms 100 >>"$dir/sensor.log" 2>&1 &
sim_pid=$!
pids+=("$sim_pid")
wait_for "$dir/app.log" '.event=="reset"' 30 $((resets + 1))
pass "crash (SIGKILL) + restart: the app got a session reset"

# rotate-key: the accessory comes back with a new identity; the app refuses it.
ctl sensor rotate-key | jq -e '.ok' >/dev/null
wait_for "$dir/app.log" '.event=="state" and .state=="failed"' 30
jq -R -e 'fromjson? | select(.event=="state" and .state=="failed") |
  select(.code=="lanyard.trust.key_changed" and (.conditions|index("authentication_failed")))' \
  "$dir/app.log" >/dev/null ||
  { echo "FAILED: the refusal is not key_changed"; tail "$dir/app.log"; exit 1; }
wait "$app_pid" 2>/dev/null && { echo "FAILED: sim_app exited 0 after a key change"; exit 1; }
exec 3>&-
pass "rotate-key: the app refused the new key"

# --- the lamp: state changed by messages; pairing window closed refuses an unpaired app ------
start_sim lamp --kind lamp --id lamp-1
start_app lampapp
echo "v1 set on=1 brightness=40" >&3
echo "v1 set brightness=101" >&3
wait_for "$dir/lampapp.log" '.event=="message" and .text=="v1 state re=0 kind=lamp on=1 brightness=40"' 20
wait_for "$dir/lampapp.log" '.event=="message" and (.text|startswith("v1 error re=1 reason=bad_field"))' 20
ctl lamp status | jq -e '.lamp.on==true and .lamp.brightness==40' >/dev/null ||
  { echo "FAILED: lamp state"; ctl lamp status; exit 1; }
pass "lamp: set changes the state; a bad value changes nothing and is answered with an error"

ctl lamp pairing-window close | jq -e '.ok' >/dev/null
exec 3>&-
if out=$(timeout 20 "$SIM_APP" --payload "$payload" --connect "127.0.0.1:$port" \
  --identity-dir "$dir/stranger.id" --trust-store "$dir/stranger.ts" <<<"v1 get"); then
  echo "FAILED: an unpaired app was admitted with the window closed: $out"; exit 1
fi
grep -q '"state":"failed"' <<<"$out" || { echo "FAILED: $out"; exit 1; }
(($(count "$dir/lamp.log" '.event=="diagnostic" and .id=="server.connection_refused" and .code=="lanyard.trust.not_paired"') >= 1)) ||
  { echo "FAILED: no refusal reported"; exit 1; }
pass "pairing window closed: an unpaired app is refused"

kill -TERM "$sim_pid"
wait "$sim_pid" || { echo "FAILED: SIGTERM did not stop the lamp cleanly"; exit 1; }
[[ ! -e $dir/lamp/control.sock ]] || { echo "FAILED: control socket left after SIGTERM"; exit 1; }
pass "SIGTERM: clean shutdown"

# --- provisioning in setup mode (no SoftAP address here: served on 127.0.0.1) ---------------
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
pport=$((20000 + RANDOM % 20000))
start_sim prov --kind lamp --id lamp-2 --softap-port "$pport" --listen "127.0.0.1:$pport" \
  --network "HomeLAN=correct-horse" --softap-grace-ms 200 --no-qr
jq -e -R 'fromjson? | select(.event=="ready") | .mode=="setup" and .address=="127.0.0.1"' \
  "$dir/prov.log" >/dev/null || { echo "FAILED: not in setup mode"; exit 1; }
[[ ! -e $dir/prov/wifi.conf ]] || { echo "FAILED: wifi.conf before provisioning"; exit 1; }
start_app provapp
# Credentials sent as application data are the app's business, not provisioning: the lamp
# answers with an unknown verb and nothing is joined (provisioning is a CONTROL message).
echo "v1 wifi_set ssid_hex=$(hex HomeLAN) passphrase_hex=$(hex correct-horse)" >&3
wait_for "$dir/provapp.log" '.event=="message" and (.text|startswith("v1 error re=0 reason=unknown_verb"))' 20
(($(count "$dir/prov.log" '.event=="provisioning"') == 0)) ||
  { echo "FAILED: application data was taken for provisioning"; exit 1; }
pass "provisioning: credentials sent as application data are not provisioning"
echo "@provisioning v1 wifi_set ssid_hex=$(hex Elsewhere) passphrase_hex=$(hex correct-horse)" >&3
wait_for "$dir/provapp.log" '.event=="control" and .service=="provisioning" and .text=="v1 wifi_status re=1 state=failed reason=network_not_found"' 20
echo "@provisioning v1 wifi_set ssid_hex=$(hex HomeLAN) passphrase_hex=$(hex wrong-horse)" >&3
wait_for "$dir/provapp.log" '.event=="control" and .text=="v1 wifi_status re=2 state=failed reason=auth_error"' 20
echo "@provisioning v1 wifi_set ssid_hex=$(hex HomeLAN) passphrase_hex=$(hex short)" >&3
wait_for "$dir/provapp.log" '.event=="control" and (.text|startswith("v1 error re=3 reason=bad_field"))' 20
[[ ! -e $dir/prov/wifi.conf ]] || { echo "FAILED: a failed attempt wrote wifi.conf"; exit 1; }
# Provisioning never reaches the app as one of its messages.
(($(count "$dir/provapp.log" '.event=="message" and (.text|startswith("v1 wifi_status"))') == 0)) ||
  { echo "FAILED: a provisioning report arrived as application data"; exit 1; }
pass "provisioning: unknown network, wrong passphrase and a bad request are reported"
echo "@provisioning v1 wifi_set ssid_hex=$(hex HomeLAN) passphrase_hex=$(hex correct-horse)" >&3
wait_for "$dir/provapp.log" '.event=="control" and .text=="v1 wifi_status re=4 state=connecting"' 20
wait_for "$dir/provapp.log" '.event=="control" and .text=="v1 wifi_status re=4 state=connected addresses=127.0.0.1"' 20
wait_for "$dir/prov.log" '.event=="ready" and .mode=="operational"' 20
grep -q '^ssid HomeLAN$' "$dir/prov/wifi.conf" || { echo "FAILED: wifi.conf"; exit 1; }
# No reboot: the same server now listens on --listen (here the same port), the SoftAP's
# connection ends after the grace period, and the app resumes its session: no reset.
wait_for "$dir/prov.log" '.event=="softap-closed" and .connections_ended==1' 20
echo "v1 get" >&3
wait_for "$dir/provapp.log" '.event=="message" and (.text|test("^v1 state re=[0-9]+ kind=lamp"))' 20
(($(count "$dir/provapp.log" '.event=="reset"') == 0)) ||
  { echo "FAILED: provisioning reset the app's session"; exit 1; }
(($(count "$dir/prov.log" '.event=="session" and .state=="established" and .resumed') >= 1)) ||
  { echo "FAILED: the app's session was not resumed after the SoftAP closed"; exit 1; }
exec 3>&-
pass "provisioning: connecting → connected, operational in the same boot, the session resumed"

