# The same accessory, seen on wlan0 and on p2p0 over IPv4 and IPv6, is one directory entry
# with paths on both links (`lanyard browse --directory --json`).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

browse_json phone "$LAB_DIR/dir.json" _lanyard._tcp --directory >/dev/null
advertise accessory "$LAB_DIR/adv.log" "Lamp" _lanyard._tcp 4433 id=acc-1 pv=1 >/dev/null
ll=$(lab_ll accessory p2p0)

has_path() { # IF ADDRESS
  echo "(.paths|map(select(.interface==\"$1\" and .address==\"$2\" and .port==4433 and .reachable))|length)==1"
}
cond="$(has_path wlan0 198.18.1.3) and $(has_path wlan0 2001:2:0:1::3) and $(has_path p2p0 198.18.2.3) and $(has_path p2p0 "$ll%p2p0")"
# Instances (interface x protocol) share addresses, so the fourth instance may be merged without
# adding a path, and the directory reports only path changes: assert on paths, not instances.
wait_for "$LAB_DIR/dir.json" ".id==\"acc-1\" and $cond" 30
(($(count "$LAB_DIR/dir.json" '.event=="added"') == 1)) ||
  { echo "FAILED: more than one accessory added"; cat "$LAB_DIR/dir.json"; exit 1; }
(($(count "$LAB_DIR/dir.json" '.id!="acc-1"') == 0)) || { echo "FAILED: other ids"; exit 1; }
e=$(matching "$LAB_DIR/dir.json" ".id==\"acc-1\" and $cond" | tail -n1)
jq -e '.name=="Lamp" and .txt.pv=="1" and (.paths|length)==4 and .instances>=2' <<<"$e" >/dev/null ||
  { echo "FAILED: unexpected accessory: $e"; exit 1; }
jq -e '[.paths[]|select(.interface=="p2p0")|.interface_kind]|unique==["p2p"]' <<<"$e" >/dev/null ||
  { echo "FAILED: p2p0 paths not of kind p2p: $e"; exit 1; }

# Taking p2p0 down on the phone (the browsing host) removes those paths, not the accessory.
lab_link_down phone p2p0
wait_for "$LAB_DIR/dir.json" '.event=="path_removed" and .path.interface=="p2p0"' 30 2
(($(count "$LAB_DIR/dir.json" '.event=="removed"') == 0)) ||
  { echo "FAILED: accessory removed while reachable on wlan0"; exit 1; }
pass "one directory entry with wlan0 and p2p0 paths; path removal"
