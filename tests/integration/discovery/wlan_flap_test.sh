# Taking wlan0 down and up on the browsing host (a Wi-Fi reconnect) keeps browsing working:
# the wlan0 instances are removed, then found again.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

browse_json phone "$LAB_DIR/browse.json" _lanyard._tcp >/dev/null
advertise accessory "$LAB_DIR/adv.log" "Lamp" _lanyard._tcp 4433 id=acc-1 >/dev/null
on_wlan='.name=="Lamp" and .interface=="wlan0" and .protocol=="ipv4"'
wait_for "$LAB_DIR/browse.json" ".event==\"added\" and $on_wlan"
lab_link_down phone wlan0
wait_for "$LAB_DIR/browse.json" ".event==\"removed\" and $on_wlan" 20
# p2p0 is untouched: its instance stays.
(($(count "$LAB_DIR/browse.json" '.event=="removed" and .interface=="p2p0"') == 0)) ||
  { echo "FAILED: p2p0 instance removed by a wlan0 flap"; exit 1; }
lab_link_up phone wlan0
wait_for "$LAB_DIR/browse.json" ".event==\"added\" and $on_wlan" 30 2
pass "wlan0 down/up on the browsing host: removed, then found again"
