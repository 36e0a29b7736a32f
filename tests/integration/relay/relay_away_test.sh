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
#  4. The admin switches the relay off (`lanyard relay off`): the accessory deletes its
#     settings and leaves the broker, the app's ticket is deleted, and a restart of the
#     accessory does not bring the relay back.
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
echo "ok: wlan0 -> relay away from home -> wlan0 back home; $n lines exactly once, in order ($relayed echoed)"

# The accessory's MQTT client, as the broker logged its last connection (`... as ID (..., u'INBOX')`).
acc_client=$(grep -F "u'$inbox'" "$BROKER_DIR/mosquitto.log" | tail -n 1 | sed -n 's/.* as \([^ ]*\) (.*/\1/p')
[[ -n $acc_client ]] || { echo "FAILED: the broker logged no connection of the accessory"; exit 1; }
log_before=$(wc -l <"$BROKER_DIR/mosquitto.log")
lab_exec phone "$LANYARD" relay off minimal-1 "${ts[@]}" --timeout 30 >"$LAB_DIR/relay-off.out" 2>&1 ||
  { cat "$LAB_DIR/relay-off.out"; echo "FAILED: relay off"; exit 1; }
grep -q 'relay off; ticket deleted' "$LAB_DIR/relay-off.out" ||
  { cat "$LAB_DIR/relay-off.out"; echo "FAILED: relay off said something else"; exit 1; }
wait_grep "$LAB_DIR/acc.log" '^relay: off'
[[ ! -e $LAB_DIR/acc/relay-settings ]] ||
  { ls -l "$LAB_DIR/acc"; echo "FAILED: the accessory kept its relay settings"; exit 1; }
[[ -e $LAB_DIR/acc/relay-secret ]] || { echo "FAILED: the relay secret went too"; exit 1; }
# It leaves once the app acknowledged the answer (well before its 10 s fallback): within 5 s,
# in what the broker logged since the request.
left=no
for _ in $(seq 50); do
  if tail -n +"$((log_before + 1))" "$BROKER_DIR/mosquitto.log" |
    grep -E -q "Client $acc_client (disconnected|closed its connection)"; then
    left=yes; break
  fi
  sleep 0.1
done
[[ $left == yes ]] || { tail -n 5 "$BROKER_DIR/mosquitto.log"; echo "FAILED: the accessory did not leave the broker within 5 s"; exit 1; }
if lab_exec phone "$LANYARD" relay show minimal-1 "${ts[@]}" >"$LAB_DIR/show-off.out" 2>&1; then
  cat "$LAB_DIR/show-off.out"; echo "FAILED: the app kept its ticket"; exit 1
fi
# No ticket while off: a new session (a line sent and echoed) brings none.
(echo "after-off"; sleep 2) | connect "$LAB_DIR/after-off.json" --timeout 30 ||
  { cat "$LAB_DIR/after-off.json" "$LAB_DIR/after-off.json.err"; echo "FAILED: lanyard connect after relay off"; exit 1; }
if lab_exec phone "$LANYARD" relay show minimal-1 "${ts[@]}" >"$LAB_DIR/show-off.out" 2>&1; then
  cat "$LAB_DIR/show-off.out"; echo "FAILED: the app got a ticket after relay off"; exit 1
fi
[[ ! -e $LAB_DIR/acc/relay-broker-ca.pem ]] || { echo "FAILED: the broker's CA file stayed"; exit 1; }
echo "ok: relay off: the accessory deleted its settings and left the broker; the app's ticket is gone and no new one comes"
# Off for good: after a restart the accessory does not connect to the broker again.
connections=$(grep -c -F "u'$inbox'" "$BROKER_DIR/mosquitto.log")
stop_accessory
start_accessory
sleep 3 # time to connect, had it kept its settings (it connects within a second at start)
(($(grep -c -F "u'$inbox'" "$BROKER_DIR/mosquitto.log") == connections)) &&
  ! grep -q '^relay:' "$LAB_DIR/acc.log" ||
  { cat "$LAB_DIR/acc.log"; echo "FAILED: the accessory went back to the broker after its restart"; exit 1; }
echo "PASSED: away and back home exactly once, in order; the relay switched off for good"
