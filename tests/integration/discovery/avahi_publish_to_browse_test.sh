# avahi-publish on the accessory is reported by `lanyard browse --json` on the phone: added
# with every field and the TXT record (boolean, empty, binary as base64, 255-byte values);
# removed when avahi-publish exits.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

browse_json phone "$LAB_DIR/browse.json" _lanyard._tcp >/dev/null
big=$(printf 'w%.0s' $(seq 251))
pub=$(lab_spawn accessory "$LAB_DIR/pub.log" avahi-publish -s "Lamp" _lanyard._tcp 4433 \
  id=pub-1 flag empty= "big=$big" $'bin=\xff\xfe\x01')

acc=$(lab_hostname accessory)
added='.event=="added" and .interface=="wlan0" and .protocol=="ipv4"'
wait_for "$LAB_DIR/browse.json" "$added"
e=$(matching "$LAB_DIR/browse.json" "$added" | head -n1)
check() {
  jq -e "$1" <<<"$e" >/dev/null || { echo "FAILED: '$1' does not hold for: $e"; exit 1; }
}
check '.name=="Lamp" and .type=="_lanyard._tcp" and .domain=="local"'
check '.interface_kind=="wifi" and (.interface_index|type)=="number"'
check ".host==\"$acc.local\" and .port==4433"
check '.addresses|index("198.18.1.3")'
check '.txt.id=="pub-1" and .txt.flag==true and .txt.empty==""'
check ".txt.big==\"$big\""
check '.txt.bin=={"base64":"//4B"}'
# The p2p link reports its own instance, with the p2p kind.
wait_for "$LAB_DIR/browse.json" '.event=="added" and .interface=="p2p0" and .interface_kind=="p2p"'
# No instance is ever reported without its TXT record.
(($(count "$LAB_DIR/browse.json" '(.event=="added" or .event=="updated") and (.txt|length)==0') == 0)) ||
  { echo "FAILED: an event with an empty TXT record"; cat "$LAB_DIR/browse.json"; exit 1; }

kill "$pub"
wait_for "$LAB_DIR/browse.json" '.event=="removed" and .name=="Lamp" and .interface=="wlan0"'
pass "avahi-publish -> lanyard browse --json (fields, TXT kinds, removal)"
