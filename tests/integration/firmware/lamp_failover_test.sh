# Failover with the firmware lamp (lanyard::firmware + the embedded mDNS responder on wlan0 and
# p2p0, no avahi-daemon on its host): the phone pairs by DNS-SD and streams commands over
# `lanyard connect`; wlan0 is cut on the phone: the channel moves to p2p0 (found through the
# lamp's own mDNS answers there) and every command is answered exactly once, in order, with
# no session reset; wlan0 returns and the channel moves back.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../paths/common.sh" # wait_path, settled_on_wlan0
LAMP=${LAMP:?LAMP must name the firmware-lamp binary}
[[ -x $LAMP && -x $LANYARD ]] || { echo "FAILED: $LAMP or $LANYARD not built"; exit 1; }

no_avahi_on_accessory
# shellcheck disable=SC2016
pid=$(lab_spawn accessory "$LAB_DIR/lamp.err" bash -c 'exec "$0" "$@" >"'"$LAB_DIR/lamp.json"'"' \
  "$LAMP" --interface wlan0 --interface p2p0 --state-dir "$LAB_DIR/lamp-state" --port 4433 \
  --device-id fw-lamp-1)
wait_json lamp '.event=="started" and (.setup_payload|startswith("LNY1:"))'
payload=$(jq -r 'select(.event=="started")|.setup_payload' "$LAB_DIR/lamp.json")
lab_exec phone env LANYARD_INTERFACE_KINDS=$KINDS "$LANYARD" pair "$payload" \
  --trust-store "$LAB_DIR/ts" --identity-dir "$LAB_DIR/ctl" --timeout 30 --json \
  >"$LAB_DIR/pair.json" || { cat "$LAB_DIR/pair.json" "$LAB_DIR/lamp.json"; echo "FAILED: pairing"; exit 1; }

n=200
(for i in $(seq 1 $n); do echo "brightness $((i % 101))"; sleep 0.05; done; sleep 4) |
  lab_exec phone env LANYARD_INTERFACE_KINDS=$KINDS "$LANYARD" connect fw-lamp-1 --json \
    --trust-store "$LAB_DIR/ts" --identity-dir "$LAB_DIR/ctl" --move-back-hold-ms 1000 \
    --timeout 100 >"$LAB_DIR/c.json" 2>"$LAB_DIR/c.json.err" &
app=$!
start=$(settled_on_wlan0 "$LAB_DIR/c.json") || exit 1
sleep 2
lab_link_down phone wlan0
wait_path "$LAB_DIR/c.json" $((start + 1)) '.to.interface=="p2p0" and .reason=="path failed"' 20 ||
  exit 1
sleep 2
lab_link_up phone wlan0
wait_path "$LAB_DIR/c.json" $((start + 2)) \
  '.to.interface=="wlan0" and .reason=="preferred path available"' 30 || exit 1
wait "$app" || { cat "$LAB_DIR/c.json" "$LAB_DIR/c.json.err"; echo "FAILED: lanyard connect failed"; exit 1; }

jq -c 'select(.event=="path" or .event=="state")' "$LAB_DIR/c.json"
jq -e -s --argjson n $n --argjson s "$start" '
  ([.[]|select(.event=="acked")|.seq] == [range(0; $n)]) and
  ([.[]|select(.event=="message")|.text] == [range(1; $n + 1)|"state off \(. % 101)"]) and
  ([.[]|select(.event=="session_reset")] | length) == 0 and
  ([.[]|select(.event=="path")|.to.interface][$s:] == ["wlan0", "p2p0", "wlan0"])' \
  "$LAB_DIR/c.json" >/dev/null ||
  { echo "FAILED: delivery or path sequence wrong"; cat "$LAB_DIR/c.json.err"; exit 1; }
stop_lamp lamp "$pid"
pass "firmware lamp failover: wlan0 -> p2p0 on cut, back after the hold; $n commands answered exactly once, in order, no reset; no C++ allocation after start-up"
