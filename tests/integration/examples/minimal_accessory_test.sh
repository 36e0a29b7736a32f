# examples/minimal_accessory (node::node) in the lab: on first boot it prints a setup payload
# and opens its pairing window, and a real avahi-browse on the phone sees TXT sf=1; the phone
# pairs through DNS-SD (`lanyard pair PAYLOAD`, verified against the payload), the pairing
# closes the window and avahi-browse sees sf=0 (the node re-publishes its TXT on the event: no
# timer, no polling); `lanyard connect` finds it by id and gets its lines echoed; after a
# restart it is paired, so it neither opens the window nor prints a payload.
# Run through run-in-lab. Needs BUILD and ACCESSORY.
LANYARD=${BUILD:?BUILD}/bin/lanyard
state=$LAB_DIR/minimal
pid=$(lab_spawn accessory "$LAB_DIR/acc1.log" "$ACCESSORY" "$state" 7443)
for _ in $(seq 100); do grep -q '^listening' "$LAB_DIR/acc1.log" && break; sleep 0.1; done
payload=$(sed -n 's/^pairing window open; setup payload: //p' "$LAB_DIR/acc1.log")
[[ $payload == LNY1:* ]] || { cat "$LAB_DIR/acc1.log"; echo "FAILED: no setup payload"; exit 1; }

# sf_seen VALUE: until the phone's avahi-browse resolves minimal-1 with TXT sf=VALUE (bounded
# only against hangs). Prints how long it took.
sf_seen() {
  local start=$SECONDS
  until lab_exec phone avahi-browse -rpt _lanyard._tcp >"$LAB_DIR/ab.txt" 2>/dev/null &&
    grep '^=;wlan0;IPv4;.*"id=minimal-1"' "$LAB_DIR/ab.txt" | grep -q "\"sf=$1\""; do
    ((SECONDS - start < 30)) ||
      { echo "FAILED: avahi-browse never saw sf=$1"; cat "$LAB_DIR/ab.txt" "$LAB_DIR/acc1.log"; exit 1; }
    sleep 0.2
  done
  echo "ok: avahi-browse sees sf=$1 (within $((SECONDS - start)) s)"
}
sf_seen 1

out=$(lab_exec phone "$LANYARD" pair "$payload" --trust-store "$LAB_DIR/ts" \
  --identity-dir "$LAB_DIR/controller" --timeout 30 --json) ||
  { echo "FAILED: pair: $out"; cat "$LAB_DIR/acc1.log"; exit 1; }
jq -e '.device_id=="minimal-1" and .pinned_by=="verified"' <<<"$out" >/dev/null ||
  { echo "FAILED: unexpected pairing result $out"; exit 1; }
echo "ok: paired: $out"
grep -q '^advertising: sf=0' "$LAB_DIR/acc1.log" ||
  { cat "$LAB_DIR/acc1.log"; echo "FAILED: the node did not re-publish sf=0 on pairing"; exit 1; }
sf_seen 0

# The channel, found by id through DNS-SD: two lines out, both acknowledged and echoed back.
out=$( (printf 'hello\nworld\n'; sleep 3) | lab_exec phone "$LANYARD" connect minimal-1 --json \
  --trust-store "$LAB_DIR/ts" --identity-dir "$LAB_DIR/controller" --timeout 30) ||
  { echo "FAILED: connect: $out"; exit 1; }
echo "$out"
jq -se '[.[]|select(.event=="acked")|.seq]==[0,1] and
        [.[]|select(.event=="message")|.text]==["hello","world"] and
        any(.[]; .event=="state" and .state=="ready")' <<<"$out" >/dev/null ||
  { echo "FAILED: connect did not get both lines acknowledged and echoed"; exit 1; }

kill "$pid"
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
lab_spawn accessory "$LAB_DIR/acc2.log" "$ACCESSORY" "$state" 7443 >/dev/null
for _ in $(seq 100); do grep -q '^listening' "$LAB_DIR/acc2.log" && break; sleep 0.1; done
grep -q '^listening' "$LAB_DIR/acc2.log" || { cat "$LAB_DIR/acc2.log"; echo "FAILED: restart"; exit 1; }
if grep -q 'setup payload' "$LAB_DIR/acc2.log"; then
  echo "FAILED: a paired accessory opened its pairing window again"; exit 1
fi
echo "PASSED: minimal accessory: payload, sf=1 -> sf=0 on pairing seen by avahi-browse, verified pairing over DNS-SD, paired state survives a restart"
