# lanyard advertise <-> lanyard browse: the TXT record survives the round trip byte for byte
# (boolean, empty, binary, 255-byte values), a TXT update arrives as an `updated` event with
# the new record, and withdrawing (SIGINT) arrives as `removed`.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

browse_json phone "$LAB_DIR/browse.json" _lanyard._tcp --interface wlan0 >/dev/null
big=$(printf 'x%.0s' $(seq 251))
mkfifo "$LAB_DIR/txt.fifo"
adv=$(lab_spawn accessory "$LAB_DIR/adv.log" bash -c 'exec "$0" "$@" < "'"$LAB_DIR/txt.fifo"'"' \
  "$LANYARD" advertise "Lamp" _lanyard._tcp 4433 id=acc-1 c#=1 flag empty= "big=$big" \
  $'bin=\x80\x01\xff' --txt-from-stdin)
exec 7>"$LAB_DIR/txt.fifo" # keep the advertiser's stdin open

added='.event=="added" and .name=="Lamp" and .protocol=="ipv4"'
wait_for "$LAB_DIR/browse.json" "$added"
e=$(matching "$LAB_DIR/browse.json" "$added" | head -n1)
want='{"id":"acc-1","c#":"1","flag":true,"empty":"","big":"'$big'","bin":{"base64":"gAH/"}}'
jq -e --argjson want "$want" '.txt==$want and (.txt|keys_unsorted)==($want|keys_unsorted)' \
  <<<"$e" >/dev/null || { echo "FAILED: TXT differs: $e"; exit 1; }
jq -e '.interface=="wlan0" and .interface_kind=="wifi"' <<<"$e" >/dev/null ||
  { echo "FAILED: --interface wlan0 reported $e"; exit 1; }
(($(count "$LAB_DIR/browse.json" '.interface!="wlan0"') == 0)) ||
  { echo "FAILED: events from another interface with --interface wlan0"; exit 1; }

# TXT update in place: the browser reports `updated` with the new record.
echo "id=acc-1 c#=2 flag sf=1" >&7
wait_for_text "$LAB_DIR/adv.log" '^txt-updated Lamp$'
wait_for "$LAB_DIR/browse.json" \
  '.event=="updated" and (.changed|index("txt")) and .txt=={"id":"acc-1","c#":"2","flag":true,"sf":"1"}'
(($(count "$LAB_DIR/browse.json" '.event=="removed"') == 0)) ||
  { echo "FAILED: the TXT update removed the service"; cat "$LAB_DIR/browse.json"; exit 1; }

stop_pid "$adv"
grep -q '^withdrawn Lamp$' "$LAB_DIR/adv.log" || { echo "FAILED: no 'withdrawn'"; exit 1; }
wait_for "$LAB_DIR/browse.json" '.event=="removed" and .name=="Lamp" and .protocol=="ipv4"' 10
pass "lanyard <-> lanyard: TXT round trip, update -> updated, withdraw -> removed"
