# Malformed, oversized and impostor TXT records published on the LAN next to the real accessory
# (mDNS is unauthenticated: anyone on the link can do this). The browser keeps running, decodes
# them leniently (malformed strings dropped, first of duplicate keys kept), reports the hostile
# instances as what they are, and never loses the real accessory or its path.
source "$(dirname "${BASH_SOURCE[0]}")/../discovery/common.sh"

browse_pid=$(browse_json phone "$LAB_DIR/browse.json" _lanyard._tcp --interface wlan0)
browse_json phone "$LAB_DIR/dir.json" _lanyard._tcp --directory --interface wlan0 >/dev/null
advertise accessory "$LAB_DIR/adv.log" "Lamp" _lanyard._tcp 4433 id=acc-1 pv=1 >/dev/null
wait_for_text "$LAB_DIR/adv.log" '^registered Lamp$'
real='.name=="Lamp" and .port==4433 and .txt.id=="acc-1" and .txt.pv=="1"'
wait_for "$LAB_DIR/browse.json" ".event==\"added\" and $real"

# 1. Malformed strings: no key, control and non-ASCII bytes in keys, a boolean id, then the
#    same key again in other cases.
junk=$(lab_spawn accessory "$LAB_DIR/junk.log" avahi-publish -s "Junk" _lanyard._tcp 4000 \
  "=no-key" $'\x01ctl=1' $'k\xffy=v' "id" "ID=upper" "id=second" "ok=1")
# 2. Large: 5 strings of 250 bytes (1.25 KB, still one packet on a 1500-byte link) and
#    oversized: 30 of them (7.5 KB). avahi does not fragment, so nobody on the link can resolve
#    the oversized one (avahi-browse -r times out too): it must never be reported at all,
#    rather than half-resolved.
strings() { for i in $(seq -w "$1"); do printf '%s\n' "k$i=$(printf 'x%.0s' $(seq 246))"; done; }
mapfile -t large_args < <(strings 5)
mapfile -t big_args < <(strings 30)
large=$(lab_spawn accessory "$LAB_DIR/large.log" avahi-publish -s "Large" _lanyard._tcp 4001 \
  id=large-1 "${large_args[@]}")
big=$(lab_spawn accessory "$LAB_DIR/big.log" avahi-publish -s "Big" _lanyard._tcp 4002 \
  id=big-1 "${big_args[@]}")
# 3. An impostor claiming the real accessory's id on another port.
impostor=$(lab_spawn accessory "$LAB_DIR/impostor.log" avahi-publish -s "Lamp impostor" \
  _lanyard._tcp 4999 id=acc-1 pv=1)

# Malformed strings were dropped, the first id (a boolean) kept, the valid rest reported.
wait_for "$LAB_DIR/browse.json" '.event=="added" and .name=="Junk"' 30
e=$(matching "$LAB_DIR/browse.json" '.event=="added" and .name=="Junk"' | head -n1)
jq -e '.txt=={"id":true,"ok":"1"}' <<<"$e" >/dev/null ||
  { echo "FAILED: Junk's TXT not decoded leniently: $e"; exit 1; }
wait_for "$LAB_DIR/browse.json" '.event=="added" and .name=="Large" and (.txt|length)==6' 30
wait_for_text "$LAB_DIR/big.log" "^Established under name 'Big'"
wait_for "$LAB_DIR/browse.json" '.event=="added" and .name=="Lamp impostor"' 30

# The directory: Junk has no usable id so it is keyed by name; the impostor is merged into
# acc-1 as one more path (ids are unauthenticated hints: the pin decides, see docs/SECURITY.md);
# the real path is there throughout.
wait_for "$LAB_DIR/dir.json" '.id=="name:Junk"' 30
wait_for "$LAB_DIR/dir.json" '.id=="acc-1" and (.paths|map(select(.port==4999))|length)>=1' 30

# The hostile publishers go away: their instances are removed, the real one stays.
(($(count "$LAB_DIR/browse.json" '.name=="Big"') == 0)) ||
  { echo "FAILED: the unresolvable oversized instance was reported"; exit 1; }
kill "$junk" "$large" "$big" "$impostor"
wait_for "$LAB_DIR/browse.json" '.event=="removed" and .name=="Lamp impostor"' 30
wait_for "$LAB_DIR/browse.json" '.event=="removed" and .name=="Large"' 30
wait_for "$LAB_DIR/dir.json" '.id=="acc-1" and (.paths|map(select(.port==4999))|length)==0' 30
(($(count "$LAB_DIR/browse.json" '.event=="removed" and .name=="Lamp"') == 0)) ||
  { echo "FAILED: the real accessory was reported removed"; cat "$LAB_DIR/browse.json"; exit 1; }
(($(count "$LAB_DIR/dir.json" '.event=="removed" and .id=="acc-1"') == 0)) ||
  { echo "FAILED: acc-1 left the directory"; cat "$LAB_DIR/dir.json"; exit 1; }
e=$(matching "$LAB_DIR/dir.json" '.id=="acc-1"' | tail -n1)
jq -e '(.paths|map(select(.port==4433 and .reachable))|length)>=1' <<<"$e" >/dev/null ||
  { echo "FAILED: acc-1 lost its real path: $e"; exit 1; }
kill -0 "$browse_pid" 2>/dev/null || { echo "FAILED: lanyard browse exited"; exit 1; }
pass "malformed, oversized and impostor TXT records: lenient decode, real accessory kept"
