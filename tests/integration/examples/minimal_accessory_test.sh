# examples/minimal_accessory in the lab: on first boot it prints a setup payload and opens its
# pairing window; the phone pairs through DNS-SD (`lanyard pair PAYLOAD`, verified against the
# payload); `lanyard connect` finds it by id and gets its lines echoed; after a restart it is paired, so it neither opens the window nor prints a payload.
# Run through run-in-lab. Needs BUILD and ACCESSORY.
LANYARD=${BUILD:?BUILD}/bin/lanyard
state=$LAB_DIR/minimal
pid=$(lab_spawn accessory "$LAB_DIR/acc1.log" "$ACCESSORY" "$state" 7443)
for _ in $(seq 100); do grep -q '^listening' "$LAB_DIR/acc1.log" && break; sleep 0.1; done
payload=$(sed -n 's/^pairing window open; setup payload: //p' "$LAB_DIR/acc1.log")
[[ $payload == LNY1:* ]] || { cat "$LAB_DIR/acc1.log"; echo "FAILED: no setup payload"; exit 1; }

out=$(lab_exec phone "$LANYARD" pair "$payload" --trust-store "$LAB_DIR/ts" \
  --identity-dir "$LAB_DIR/controller" --timeout 30 --json) ||
  { echo "FAILED: pair: $out"; cat "$LAB_DIR/acc1.log"; exit 1; }
jq -e '.device_id=="minimal-1" and .pinned_by=="verified"' <<<"$out" >/dev/null ||
  { echo "FAILED: unexpected pairing result $out"; exit 1; }
echo "ok: paired: $out"

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
echo "PASSED: minimal accessory: payload, verified pairing over DNS-SD, paired state survives a restart"
