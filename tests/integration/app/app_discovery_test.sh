# app::controller's discovery in the lab, with real avahi-daemons on both hosts: an accessory
# (examples/minimal_accessory, a node) seen on the phone's wlan0 and p2p0 over IPv4 and IPv6
# is ONE accessory (merged by its TXT id), appearing once with sf=1; pairing it (lanyard pair)
# closes its window and the app hears `changed what=txt sf=0`; stopping it (goodbye packets)
# makes it disappear. Run through run-in-lab. Needs BUILD and ACCESSORY.
LANYARD=${BUILD:?BUILD}/bin/lanyard
PEER=$BUILD/tests/app_discovery_peer
app=$LAB_DIR/app.log
acc=$LAB_DIR/acc.log

# wait_for REGEX: until a line of the app matches (bounded only against hangs).
wait_for() {
  for _ in $(seq 300); do grep -qE "$1" "$app" && return 0; sleep 0.1; done
  echo "FAILED: the app never printed a line matching '$1'; it printed:"
  cat "$app" "$acc"
  exit 1
}

lab_spawn phone "$app" "$PEER" "$LAB_DIR/app-state" >/dev/null
wait_for '^browsing'
acc_pid=$(lab_spawn accessory "$acc" "$ACCESSORY" "$LAB_DIR/minimal" 7443)
for _ in $(seq 100); do grep -q '^listening' "$acc" && break; sleep 0.1; done
payload=$(sed -n 's/^pairing window open; setup payload: //p' "$acc")
[[ $payload == LNY1:* ]] || { cat "$acc"; echo "FAILED: no setup payload"; exit 1; }

wait_for '^appeared minimal-1 sf=1 paired=0 reachable=1 '
# Every instance (two interfaces, two address families) merges into the one accessory.
wait_for '^(appeared|changed) minimal-1 .*interfaces=p2p0,wlan0$'
appeared=$(grep -c '^appeared minimal-1 ' "$app")
((appeared == 1)) || { cat "$app"; echo "FAILED: minimal-1 appeared $appeared times"; exit 1; }
echo "ok: one accessory, sf=1, on p2p0 and wlan0: $(grep -E 'interfaces=p2p0,wlan0$' "$app" | head -n 1)"

out=$(lab_exec phone "$LANYARD" pair "$payload" --trust-store "$LAB_DIR/ts" \
  --identity-dir "$LAB_DIR/controller" --timeout 30 --json) ||
  { echo "FAILED: pair: $out"; cat "$acc"; exit 1; }
wait_for '^changed minimal-1 what=txt sf=0 '
echo "ok: paired by another app; the window closed: $(grep '^changed minimal-1 what=txt sf=0' "$app" | head -n 1)"

kill "$acc_pid"
wait_for '^disappeared minimal-1 .* reachable=0 '
echo "ok: $(grep '^disappeared minimal-1' "$app" | head -n 1)"
echo "PASSED: app::controller discovery: merged by id across interfaces, TXT sf followed, goodbye"
