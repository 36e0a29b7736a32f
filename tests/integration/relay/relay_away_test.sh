# Lab test (sourced by tests/lab/run-in-lab): away from home and back with a stream running.
# The accessory is examples/minimal_accessory (a node: it echoes each line); the app is
# `lanyard connect`, which needs nothing new: it learns the relay from the accessory's ticket.
#
#  1. At home the phone pairs, the admin (the phone) sets the relay up with `lanyard relay set`
#     (the accessory's broker account is its inbox id, from `lanyard relay inbox`), and the
#     ticket is stored with the pin.
#  2. A stream of lines runs over Wi-Fi. The phone leaves home: cellular stops reaching the
#     home (lab_cell_home off), p2p0 and wlan0 go down. The channel moves to the relay (path
#     event to "relay") and the lines keep being echoed.
#  3. Back home (wlan0 up) the session moves to Wi-Fi, make-before-break.
# Every line is acknowledged and echoed exactly once and in order, with no session reset; the
# path sequence is wlan0, relay, wlan0.
source "$(dirname "${BASH_SOURCE[0]}")/broker.sh"
source "$(dirname "${BASH_SOURCE[0]}")/relay_node.sh"
relay_node_setup
inbox=$INBOX
ts=("${TS[@]}")
lab_exec phone "$LANYARD" relay show minimal-1 "${ts[@]}" --json >"$LAB_DIR/ticket.json" ||
  { echo "FAILED: relay show"; exit 1; }
jq -e --arg inbox "$inbox" '.accessory_inbox == $inbox and .household_account == "home1" and
  .broker_host == "198.18.5.2"' "$LAB_DIR/ticket.json" >/dev/null ||
  { cat "$LAB_DIR/ticket.json"; echo "FAILED: the stored ticket"; exit 1; }
if grep -q -e acc-secret -e home-secret "$LAB_DIR/ticket.json" "$LAB_DIR/relay-set.out" \
  "$LAB_DIR/acc.log"; then
  echo "FAILED: a password was printed"; exit 1
fi
echo "ok: relay set by the admin; the accessory is connected to the broker; ticket stored"

n=400
(for i in $(seq 1 $n); do echo "m$i"; sleep 0.05; done; sleep 4) |
  connect "$LAB_DIR/c.json" --move-back-hold-ms 1000 --timeout 100 &
app=$!
start=$(settled_on_wlan0 "$LAB_DIR/c.json") || exit 1
sleep 2
relay_leave_home
wait_path "$LAB_DIR/c.json" $((start + 1)) '.to.interface=="relay" and .to.kind=="relay"' 30 ||
  exit 1
echo "ok: away from home, the channel runs through the relay"
sleep 5
lab_link_up phone wlan0
lab_link_up phone p2p0
lab_cell_home on
wait_path "$LAB_DIR/c.json" $((start + 2)) \
  '.to.interface=="wlan0" and .reason=="preferred path available"' 40 || exit 1
echo "ok: back home, the channel moved to Wi-Fi"
wait "$app" || { cat "$LAB_DIR/c.json" "$LAB_DIR/c.json.err"; echo "FAILED: lanyard connect failed"; exit 1; }

jq -c 'select(.event=="path" or .event=="state")' "$LAB_DIR/c.json"
jq -e -s --argjson n $n --argjson s "$start" '
  ([.[]|select(.event=="acked")|.seq] == [range(0; $n)]) and
  ([.[]|select(.event=="message")|.text] == [range(1; $n + 1)|"m\(.)"]) and
  ([.[]|select(.event=="session_reset")] | length) == 0 and
  ([.[]|select(.event=="path")|.to.interface][$s:] == ["wlan0", "relay", "wlan0"])' \
  "$LAB_DIR/c.json" >/dev/null ||
  { echo "FAILED: delivery or path sequence wrong"; cat "$LAB_DIR/c.json.err"; exit 1; }
# Lines echoed while on the relay: the stream really went through it.
relayed=$(jq -s --argjson s "$start" '
  [.[]|select(.event=="path" or .event=="message")] as $e
  | [$e|to_entries[]|select(.value.event=="path")|.key] as $p
  | [$e[$p[$s + 1]:$p[$s + 2]][]|select(.event=="message")] | length' "$LAB_DIR/c.json")
((relayed > 0)) || { echo "FAILED: no line was echoed while on the relay"; exit 1; }
echo "PASSED: wlan0 -> relay away from home -> wlan0 back home; $n lines exactly once, in order ($relayed echoed)"
