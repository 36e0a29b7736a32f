# The app side's discovery in the lab, with real avahi-daemons on both hosts, three ways at
# once on the phone: an app::controller, an app::accessory_browser (an app without an identity
# yet: no state at all) and `lanyard browse --directory` (on accessory_browser). An accessory
# (examples/minimal_accessory, a node) seen on the phone's wlan0 and p2p0 over IPv4 and IPv6 is
# ONE accessory (merged by its TXT id, several instances), appearing once with sf=1; pairing it
# (lanyard pair) closes its window and each hears `changed what=txt sf=0`; stopping it (goodbye
# packets) makes it disappear. Run through run-in-lab. Needs BUILD and ACCESSORY.
LANYARD=${BUILD:?BUILD}/bin/lanyard
PEER=$BUILD/tests/app_discovery_peer
app=$LAB_DIR/app.log         # app::controller
browser=$LAB_DIR/browser.log # app::accessory_browser
cli=$LAB_DIR/cli.log         # lanyard browse --directory (text)
acc=$LAB_DIR/acc.log

# wait_for FILE REGEX: until a line of FILE matches (bounded only against hangs).
wait_for() {
  for _ in $(seq 300); do grep -qE "$2" "$1" && return 0; sleep 0.1; done
  echo "FAILED: $(basename "$1") never printed a line matching '$2'; it printed:"
  cat "$1" "$acc"
  exit 1
}

lab_spawn phone "$app" "$PEER" "$LAB_DIR/app-state" >/dev/null
lab_spawn phone "$browser" env HOME="$LAB_DIR/browser-home" XDG_STATE_HOME="$LAB_DIR/browser-home/state" \
  "$PEER" --browser >/dev/null
lab_spawn phone "$cli.err" bash -c 'exec "$0" browse _lanyard._tcp --directory >"$1"' \
  "$LANYARD" "$cli" >/dev/null
wait_for "$app" '^browsing \(controller\)'
wait_for "$browser" '^browsing \(accessory_browser, status: running\)'
acc_pid=$(lab_spawn accessory "$acc" "$ACCESSORY" "$LAB_DIR/minimal" 7443)
for _ in $(seq 100); do grep -q '^listening' "$acc" && break; sleep 0.1; done
payload=$(sed -n 's/^pairing window open; setup payload: //p' "$acc")
[[ $payload == LNY1:* ]] || { cat "$acc"; echo "FAILED: no setup payload"; exit 1; }

for log in "$app" "$browser"; do
  wait_for "$log" '^appeared minimal-1 sf=1 paired=0 reachable=1 '
  # Every instance (two interfaces, two address families) merges into the one accessory.
  wait_for "$log" '^(appeared|changed) minimal-1 .* instances=([2-9]|[1-9][0-9]+) interfaces=p2p0,wlan0$'
  appeared=$(grep -c '^appeared minimal-1 ' "$log")
  ((appeared == 1)) || { cat "$log"; echo "FAILED: minimal-1 appeared $appeared times"; exit 1; }
  echo "ok ($(basename "$log")): one accessory, sf=1, on p2p0 and wlan0: $(grep -E 'interfaces=p2p0,wlan0$' "$log" | head -n 1)"
done
# The browser has no state: it read and created nothing (not even under its HOME).
[[ ! -e $LAB_DIR/browser-home ]] || { ls -lR "$LAB_DIR/browser-home"; echo "FAILED: the browser made state"; exit 1; }
# The command line's accessory view: the accessory with its paths and TXT.
wait_for "$cli" "^added minimal-1 '.*' paths: .* txt: .*sf=1"
wait_for "$cli" '^path_added minimal-1 .* p2p0/'
(($(grep -c '^added minimal-1 ' "$cli") == 1)) || { cat "$cli"; echo "FAILED: added twice"; exit 1; }
echo "ok (lanyard browse --directory): $(grep '^added minimal-1' "$cli" | head -n 1)"

out=$(lab_exec phone "$LANYARD" pair "$payload" --trust-store "$LAB_DIR/ts" \
  --identity-dir "$LAB_DIR/controller" --timeout 30 --json) ||
  { echo "FAILED: pair: $out"; cat "$acc"; exit 1; }
for log in "$app" "$browser"; do
  wait_for "$log" '^changed minimal-1 what=txt sf=0 '
  echo "ok ($(basename "$log")): paired by another app; the window closed: $(grep '^changed minimal-1 what=txt sf=0' "$log" | head -n 1)"
done
wait_for "$cli" "^updated minimal-1 .* txt: .*sf=0"

kill "$acc_pid"
for log in "$app" "$browser"; do
  wait_for "$log" '^disappeared minimal-1 .* reachable=0 instances=0 '
  echo "ok ($(basename "$log")): $(grep '^disappeared minimal-1' "$log" | head -n 1)"
done
wait_for "$cli" "^removed minimal-1 "
echo "PASSED: app discovery (controller, accessory_browser, lanyard browse --directory): merged by id across interfaces, TXT sf followed, goodbye"
