# Two hosts advertise the same instance name: one keeps "Lamp", the other is renamed
# "Lamp (2)" (RFC 6762 §9) and says so; a browser sees both.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

browse_json phone "$LAB_DIR/browse.json" _lanyard._tcp --interface wlan0 >/dev/null
advertise accessory "$LAB_DIR/a.log" "Lamp" _lanyard._tcp 4433 id=acc-1 >/dev/null
wait_for_text "$LAB_DIR/a.log" '^registered Lamp$'
advertise phone "$LAB_DIR/b.log" "Lamp" _lanyard._tcp 4434 id=acc-2 >/dev/null
wait_for_text "$LAB_DIR/b.log" '^registered Lamp \(2\)$' 30
grep -q '^renamed Lamp (2) (name conflict)$' "$LAB_DIR/b.log" ||
  { echo "FAILED: no renamed event"; cat "$LAB_DIR/b.log"; exit 1; }
grep -q '^renamed' "$LAB_DIR/a.log" && { echo "FAILED: both were renamed"; exit 1; }
wait_for "$LAB_DIR/browse.json" '.event=="added" and .name=="Lamp" and .txt.id=="acc-1"'
wait_for "$LAB_DIR/browse.json" '.event=="added" and .name=="Lamp (2)" and .txt.id=="acc-2"'
pass "name conflict between two hosts renames one to 'Lamp (2)'"
