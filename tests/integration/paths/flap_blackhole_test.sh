# Two ways Wi-Fi goes bad. (1) The flap "down, up, down again within the hold-down, up": the
# session moves to p2p0 once and back to wlan0 once, not on every change. (2) wlan0 silently
# blackholed (nftables, link up): the keep-alive timeout (here 2 s) declares the path dead and
# the session moves to p2p0. Lines stream throughout; each is acknowledged and echoed exactly
# once, in order, without a session reset.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
start_accessory

n=400
(for i in $(seq 1 $n); do echo "m$i"; sleep 0.05; done; sleep 3) |
  connect "$LAB_DIR/c.json" --move-back-hold-ms 1000 --keepalive-ms 500 --peer-timeout-ms 2000 \
    --timeout 110 &
app=$!
start=$(settled_on_wlan0 "$LAB_DIR/c.json") || exit 1
sleep 1
# (1) the flap
lab_link_down phone wlan0
wait_path "$LAB_DIR/c.json" $((start + 1)) '.to.interface=="p2p0"' 20 || exit 1
lab_link_up phone wlan0
sleep 1 # back for 1 s: less than the 3 s debounce hold-down
lab_link_down phone wlan0
sleep 1
lab_link_up phone wlan0
wait_path "$LAB_DIR/c.json" $((start + 2)) '.to.interface=="wlan0" and .reason=="preferred path available"' 30 || exit 1
# (2) the blackhole
sleep 1
lab_blackhole phone wlan0
wait_path "$LAB_DIR/c.json" $((start + 3)) '.to.interface=="p2p0" and .reason=="path failed"' 30 || exit 1
# Why: the keep-alive saw nothing on wlan0 (peer_dead), reported as data before the move.
jq -e -s 'any(.[]; .event=="diagnostic" and .code=="lanyard.channel.peer_dead" and
  .fields.interface=="wlan0")' "$LAB_DIR/c.json" >/dev/null ||
  { cat "$LAB_DIR/c.json"; echo "FAILED: no peer_dead on wlan0 reported"; exit 1; }
wait "$app" || { cat "$LAB_DIR/c.json" "$LAB_DIR/c.json.err"; echo "FAILED: lanyard connect failed"; exit 1; }
lab_unblackhole phone wlan0

jq -c 'select(.event=="path")' "$LAB_DIR/c.json"
jq -e -s --argjson n $n --argjson s "$start" '
  ([.[]|select(.event=="acked")|.seq] == [range(0; $n)]) and
  ([.[]|select(.event=="message")|.text] == [range(1; $n + 1)|"m\(.)"]) and
  ([.[]|select(.event=="session_reset")] | length) == 0 and
  ([.[]|select(.event=="path")|.to.interface][$s:$s + 4] == ["wlan0", "p2p0", "wlan0", "p2p0"])' \
  "$LAB_DIR/c.json" >/dev/null ||
  { echo "FAILED: delivery or path sequence wrong"; cat "$LAB_DIR/c.json.err"; exit 1; }
echo "PASSED: one move away and back for the flap; blackhole -> p2p0 on keep-alive timeout; $n lines exactly once"
