# Handover in the lab: the phone's channel runs on Wi-Fi (wlan0) while it streams lines that
# the accessory echoes. wlan0 is cut: the session moves to p2p0 at once (path event "path
# failed") and delivery continues; wlan0 returns: after its debounce hold-down and the move-back
# hold the session moves back make-before-break ("preferred path available"). Every line is
# acknowledged and echoed exactly once, in order; no session reset; one move away, one back.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
start_accessory

n=300
(for i in $(seq 1 $n); do echo "m$i"; sleep 0.05; done; sleep 4) |
  connect "$LAB_DIR/c.json" --move-back-hold-ms 1000 --timeout 100 &
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
  ([.[]|select(.event=="message")|.text] == [range(1; $n + 1)|"m\(.)"]) and
  ([.[]|select(.event=="session_reset")] | length) == 0 and
  ([.[]|select(.event=="path")|.to.interface][$s:] == ["wlan0", "p2p0", "wlan0"])' \
  "$LAB_DIR/c.json" >/dev/null ||
  { echo "FAILED: delivery or path sequence wrong"; cat "$LAB_DIR/c.json.err"; exit 1; }
echo "PASSED: wlan0 -> p2p0 on cut, back to wlan0 after the hold; $n lines exactly once, in order"
