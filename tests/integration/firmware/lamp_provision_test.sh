# `lanyard provision` against the firmware lamp in setup mode (lanyard::firmware + its own
# mDNS, no avahi-daemon on its host): it serves on its SoftAP (ap0, 198.18.4.1:5577); the phone
# joins the SoftAP, verifies the lamp against its payload and pairs; a wrong passphrase fails
# with auth_error and an unknown network with network_not_found (setup mode goes on); the right
# credentials connect, the lamp reports its home addresses, announces itself on wlan0 and
# closes the SoftAP; `lanyard provision` finds it there by id, `lanyard connect` drives it, and
# after a restart it starts on the home network, paired, without setup mode.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
LAMP=${LAMP:?LAMP must name the firmware-lamp binary}
LANYARD=${BUILD:?BUILD}/bin/lanyard
[[ -x $LAMP && -x $LANYARD ]] || { echo "FAILED: $LAMP or $LANYARD not built"; exit 1; }
export LANYARD_INTERFACE_KINDS=wlan0=wifi,p2p0=p2p,ap0=softap,sap0=softap,cell0=cellular

no_avahi_on_accessory
lamp() { # NAME: the lamp in setup mode on ap0 (until DIR/wifi exists); prints the pid
  # shellcheck disable=SC2016
  lab_spawn accessory "$LAB_DIR/$1.err" bash -c 'exec "$0" "$@" >"'"$LAB_DIR/$1.json"'"' \
    "$LAMP" --state-dir "$LAB_DIR/lamp-state" --setup-interface ap0 --port 5577 \
    --device-id fw-lamp-1 --network "HomeLAN=correct-horse@wlan0" --join-timeout-ms 2000 \
    --softap-grace-ms 300
}
pid=$(lamp lamp1)
wait_json lamp1 '.event=="started" and (.setup_payload|startswith("LNY1:"))'
payload=$(jq -r 'select(.event=="started")|.setup_payload' "$LAB_DIR/lamp1.json")
printf 'wrong-horse\n' >"$LAB_DIR/wrong"
printf 'correct-horse\n' >"$LAB_DIR/right"
provision() { # OUT ARGS...
  local out=$1
  shift
  lab_exec phone "$LANYARD" provision "$@" --trust-store "$LAB_DIR/ts" \
    --identity-dir "$LAB_DIR/ctl" --softap-interface sap0 --join 'ip link set sap0 up' \
    --timeout 40 --json >"$out" 2>"$out.err"
}

if provision "$LAB_DIR/auth.json" "$payload" --ssid HomeLAN --passphrase-file "$LAB_DIR/wrong"; then
  echo "FAILED: a wrong passphrase was accepted"; exit 1
fi
jq -e 'select(.event=="error") | .code=="lanyard.provisioning.wrong_passphrase"' "$LAB_DIR/auth.json" \
  >/dev/null || { cat "$LAB_DIR/auth.json" "$LAB_DIR/auth.json.err" "$LAB_DIR/lamp1.json"; echo "FAILED: auth_error"; exit 1; }
if provision "$LAB_DIR/nf.json" "$payload" --ssid Elsewhere --passphrase-file "$LAB_DIR/right"; then
  echo "FAILED: an unknown network was accepted"; exit 1
fi
jq -e 'select(.event=="error") | .code=="lanyard.provisioning.network_not_found"' "$LAB_DIR/nf.json" \
  >/dev/null || { cat "$LAB_DIR/nf.json" "$LAB_DIR/nf.json.err"; echo "FAILED: network_not_found"; exit 1; }
echo "ok: auth_error and network_not_found reported; the lamp stays in setup mode"

provision "$LAB_DIR/ok.json" "$payload" --ssid HomeLAN --passphrase-file "$LAB_DIR/right" ||
  { cat "$LAB_DIR/ok.json" "$LAB_DIR/ok.json.err" "$LAB_DIR/lamp1.json"; echo "FAILED: provisioning"; exit 1; }
jq -e -s '[.[]|select(.event=="progress" and .state!="joining")] |
  [.[]|.state]==["verified","connecting","connected","found"] and
  (.[2].addresses|index("198.18.1.3")) and .[3].interface=="wlan0"' "$LAB_DIR/ok.json" \
  >/dev/null || { cat "$LAB_DIR/ok.json"; echo "FAILED: progress"; exit 1; }
wait_json lamp1 '.event=="provisioned" and .ssid=="HomeLAN" and .interface=="wlan0"' 5
wait_json lamp1 '.event=="softap_closed" and .interface=="ap0"' 5
echo "ok: provisioned: $(jq -c -s '[.[]|select(.event=="progress")|.state]' "$LAB_DIR/ok.json")"

# On the home network by id (DNS-SD on wlan0), same session, no new pairing.
out=$( (printf 'on\n'; sleep 2) | lab_exec phone "$LANYARD" connect fw-lamp-1 --json \
  --trust-store "$LAB_DIR/ts" --identity-dir "$LAB_DIR/ctl" --require wifi --timeout 30) ||
  { echo "FAILED: connect: $out"; exit 1; }
jq -se '[.[]|select(.event=="message")|.text]==["state on 100"]' <<<"$out" >/dev/null ||
  { echo "FAILED: the lamp did not answer at home: $out"; exit 1; }
echo "ok: driven on the home network"

stop_lamp lamp1 "$pid"
pid=$(lamp lamp2)
wait_json lamp2 '.event=="started" and .pairing_window_open==false and (has("setup_payload")|not)'
wait_json lamp2 '.event=="announced" and .interface=="wlan0"'
stop_lamp lamp2 "$pid"
pass "firmware lamp provisioning: SoftAP setup mode, verified pairing, auth_error / network_not_found recoverable, joined and found on wlan0 by id, restart on the home network; no C++ allocation after start-up"
