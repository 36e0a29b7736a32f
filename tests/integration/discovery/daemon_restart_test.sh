# Killing and restarting avahi-daemon on either side recovers without restarting the apps:
# the advertiser publishes again by itself, the browser browses again by itself, in both
# views of `lanyard browse` (instances on discovery::browser; accessories, --directory, on
# app::accessory_browser, which tells the daemon's departure and return too).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

browse_json phone "$LAB_DIR/browse.json" _lanyard._tcp --interface wlan0 >/dev/null
browse_json phone "$LAB_DIR/dir.json" _lanyard._tcp --interface wlan0 --directory >/dev/null
mkfifo "$LAB_DIR/txt.fifo"
adv=$(lab_spawn accessory "$LAB_DIR/adv.log" bash -c 'exec "$0" "$@" < "'"$LAB_DIR/txt.fifo"'"' \
  "$LANYARD" advertise "Lamp" _lanyard._tcp 4433 id=acc-1 c#=1 --txt-from-stdin)
exec 7>"$LAB_DIR/txt.fifo"
present='.event=="added" and .name=="Lamp" and .protocol=="ipv4"'
wait_for "$LAB_DIR/browse.json" "$present"
wait_for "$LAB_DIR/dir.json" '.event=="added" and .id=="acc-1"'

# 1. The accessory's daemon crashes (SIGKILL: no goodbye) and comes back.
lab_avahi_stop accessory KILL
wait_for_text "$LAB_DIR/adv.log" 'avahi-daemon is not running: start it' 10
lab_avahi_start accessory
wait_for_text "$LAB_DIR/adv.log" '^lanyard advertise: avahi-daemon is back$' 20
(($(grep -c '^registered Lamp$' "$LAB_DIR/adv.log") == 2)) || {
  sleep 5
  (($(grep -c '^registered Lamp$' "$LAB_DIR/adv.log") == 2)) ||
    { echo "FAILED: not registered again"; cat "$LAB_DIR/adv.log"; exit 1; }
}
# Proof that the browser sees the re-published service: a TXT update goes through.
echo "id=acc-1 c#=2" >&7
wait_for "$LAB_DIR/browse.json" '.event=="updated" and .txt["c#"]=="2"' 20

# 2. The phone's daemon is stopped and restarted under the running browser.
dir_removed=$(count "$LAB_DIR/dir.json" '.event=="removed"')
lab_avahi_stop phone
wait_for "$LAB_DIR/browse.json" '.event=="daemon_unavailable" and .code=="lanyard.discovery.daemon_unavailable"' 10
wait_for "$LAB_DIR/dir.json" '.event=="daemon_unavailable" and .code=="lanyard.discovery.daemon_unavailable"' 10
lab_avahi_start phone
wait_for "$LAB_DIR/browse.json" '.event=="daemon_available"' 20
wait_for "$LAB_DIR/dir.json" '.event=="daemon_available"' 20
# The service, still there, is not reported removed; changes keep arriving.
sleep 2
echo "id=acc-1 c#=3" >&7
wait_for "$LAB_DIR/browse.json" '.event=="updated" and .txt["c#"]=="3"' 20
wait_for "$LAB_DIR/dir.json" '.event=="updated" and .id=="acc-1" and .txt["c#"]=="3"' 20
(($(count "$LAB_DIR/dir.json" '.event=="removed"') == dir_removed)) ||
  { echo "FAILED: the accessory view removed acc-1 over a restart"; cat "$LAB_DIR/dir.json"; exit 1; }
(($(count "$LAB_DIR/browse.json" '.event=="removed" and .protocol=="ipv4"') <= 1)) ||
  { echo "FAILED: spurious removals"; cat "$LAB_DIR/browse.json"; exit 1; }

# 3. A service that vanished while the phone's daemon was down is reported removed once the
# browse has been reconciled.
removed_ipv4='.event=="removed" and .name=="Lamp" and .protocol=="ipv4"'
before=$(count "$LAB_DIR/browse.json" "$removed_ipv4")
lab_avahi_stop phone
stop_pid "$adv"
lab_avahi_start phone
wait_for "$LAB_DIR/browse.json" '.event=="daemon_available"' 20 2
wait_for "$LAB_DIR/browse.json" "$removed_ipv4" 15 $((before + 1))
wait_for "$LAB_DIR/dir.json" '.event=="daemon_available"' 20 2
wait_for "$LAB_DIR/dir.json" '.event=="removed" and .id=="acc-1" and .instances==0' 15
pass "avahi-daemon restarts on either side: re-published, re-browsed, reconciled"
