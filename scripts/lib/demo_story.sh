# shellcheck shell=bash
# The demo's story, run inside a fresh lab by tests/lab/run-in-lab (scripts/demo, and the lab
# test demo.story). Needs BUILD (the build directory).
source "$(dirname "${BASH_SOURCE[0]}")/../../tests/integration/discovery/common.sh"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { jq -c "$1" <<<"$2"; }

step "1. The accessory advertises itself on the home LAN and the direct p2p link"
echo "   lanyard advertise Lamp _lanyard._tcp 8443 id=lamp-1 pv=1 md=lamp sf=1 c#=1 (on accessory)"
browse_json phone "$LAB_DIR/browse.json" _lanyard._tcp >/dev/null
browse_json phone "$LAB_DIR/dir.json" _lanyard._tcp --directory >/dev/null
mkfifo "$LAB_DIR/txt.fifo"
adv=$(lab_spawn accessory "$LAB_DIR/adv.log" bash -c 'exec "$0" "$@" < "'"$LAB_DIR/txt.fifo"'"' \
  "$LANYARD" advertise Lamp _lanyard._tcp 8443 id=lamp-1 pv=1 md=lamp sf=1 c#=1 --txt-from-stdin)
exec 7>"$LAB_DIR/txt.fifo" # the advertiser reads TXT updates from here
wait_for_text "$LAB_DIR/adv.log" '^registered' 30 >/dev/null
cat "$LAB_DIR/adv.log"

step "2. The phone browses: every result carries its interface, addresses and TXT"
wait_for "$LAB_DIR/browse.json" '.event=="added" and .interface=="wlan0" and .txt.id=="lamp-1"' 30
wait_for "$LAB_DIR/browse.json" '.event=="added" and .interface=="p2p0" and .txt.id=="lamp-1"' 30
matching "$LAB_DIR/browse.json" '.event=="added"' | while read -r line; do
  show '{event, name, interface, protocol, host, port, addresses, txt}' "$line"
done

step "3. The directory merges them: one accessory, reachable by several paths"
ll=$(lab_ll accessory p2p0)
wait_for "$LAB_DIR/dir.json" '.id=="lamp-1" and ((.paths // [])|length)==4' 30
e=$(matching "$LAB_DIR/dir.json" '.id=="lamp-1" and ((.paths // [])|length)==4' | tail -n 1)
show '{event, id, name, paths: [.paths[] | "\(.interface) (\(.interface_kind)) \(.address)"]}' "$e"
(($(count "$LAB_DIR/dir.json" '.event=="added"') == 1)) || { echo "FAILED: more than one accessory"; exit 1; }
echo "   (the p2p0 link-local address is $ll)"

step "4. The accessory changes state: the TXT update reaches the phone as an update"
echo "   (pairing window closed: sf=0, configuration number bumped: c#=2; updated in place)"
echo "id=lamp-1 pv=1 md=lamp sf=0 c#=2" >&7
wait_for "$LAB_DIR/browse.json" '.txt.id=="lamp-1" and .txt["c#"]=="2"' 30
show '{event, name, interface, txt}' "$(matching "$LAB_DIR/browse.json" '.txt["c#"]=="2"' | tail -n 1)"

step "5. The phone loses its p2p link: the directory drops those paths, keeps the accessory"
lab_link_down phone p2p0
wait_for "$LAB_DIR/dir.json" '.event=="path_removed" and .path.interface=="p2p0"' 30
(($(count "$LAB_DIR/dir.json" '.event=="removed"') == 0)) || { echo "FAILED: accessory removed"; exit 1; }
echo "   p2p0 paths removed; lamp-1 still reachable over wlan0"

step "6. The accessory withdraws (goodbye): the phone sees it go at once"
kill -INT "$adv"
wait_for "$LAB_DIR/browse.json" '.event=="removed" and .name=="Lamp"' 30
wait_for_text "$LAB_DIR/adv.log" '^withdrawn' 10 >/dev/null
echo "   removed; the advertiser printed: $(grep '^withdrawn' "$LAB_DIR/adv.log")"

printf '\n\033[1mdemo: every step held.\033[0m What is still to come (pairing, the channel, failover,\n'
printf 'the simulated accessory) is listed in docs/STATUS.md.\n'
