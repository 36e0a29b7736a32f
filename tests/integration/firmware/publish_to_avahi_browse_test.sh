# The embedded responder on the accessory (no avahi-daemon there) against the phone's real
# avahi-daemon: avahi-browse resolves the instance with its TXT record (a boolean key, an empty
# value, a 255-byte string), port, host name and the accessory's IPv4 address, and the host
# name resolves to both families; a TXT update from stdin is re-announced and seen; SIGTERM
# sends goodbyes and the phone drops the instance at once (the TTLs are 120 s and 75 min).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

no_avahi_on_accessory
# A browser that stays, to see the goodbye as a removal event (not only as an absence).
lab_spawn phone "$LAB_DIR/browse-live.txt" avahi-browse -rp _lanyard._tcp >/dev/null

big=$(printf 'v%.0s' $(seq 251)) # "big=" + 251 bytes = 255, the longest TXT string
pid=$(publish lamp --host fw-lamp --instance "Living Room Lamp" --port 4433 \
  --txt id=fw-1 c#=1 flag empty= "big=$big")
wait_json lamp '.event=="announced" and .interface=="wlan0" and .instance=="Living Room Lamp"'
no_json lamp '.event | test("renamed|conflict")'

# a. avahi-browse: TXT, port, host, IPv4 address
line=$(wait_browse "Living Room Lamp" ";fw-lamp\.local;$ACC_IPV4;4433;")
for want in '"id=fw-1"' '"c#=1"' '"flag"' '"empty="' "\"big=$big\""; do
  [[ $line == *"$want"* ]] || { echo "FAILED: TXT $want missing in: $line"; exit 1; }
done
echo "ok: avahi-browse resolved it: ${line:0:120}..."
# ... and the host name in both families (each answer is one of the accessory's addresses)
v4=$(lab_exec phone avahi-resolve -4 -n fw-lamp.local | awk '{print $2}')
v6=$(lab_exec phone avahi-resolve -6 -n fw-lamp.local | awk '{print $2}')
ll=$(lab_ll accessory wlan0)
[[ $v4 == "$ACC_IPV4" ]] || { echo "FAILED: avahi-resolve -4 fw-lamp.local gave '$v4'"; exit 1; }
[[ $v6 == "$ACC_IPV6" || $v6 == "$ll" ]] ||
  { echo "FAILED: avahi-resolve -6 fw-lamp.local gave '$v6', not $ACC_IPV6 or $ll"; exit 1; }
echo "ok: avahi-resolve: fw-lamp.local is $v4 and $v6"

# c. a TXT update on stdin is announced again and replaces the old record in Avahi's cache
txt_update lamp id=fw-1 c#=2 sf=0
wait_json lamp '.event=="txt_set" and .txt==["id=fw-1","c#=2","sf=0"]' 5
line=$(wait_browse "Living Room Lamp" '"c#=2"')
[[ $line == *'"sf=0"'* && $line != *'"c#=1"'* && $line != *'"flag"'* ]] ||
  { echo "FAILED: after the update avahi-browse shows: $line"; exit 1; }
echo "ok: TXT update seen: $line"

# e. goodbye: SIGTERM -> TTL-0 records -> the live browser reports the removal. Nothing may
# query the phone's avahi meanwhile: unanswered queries let Avahi flush the records on its own
# (RFC 6762 section 10.5), goodbye or not, and then this would prove nothing.
stop_publisher lamp "$pid"
name=$(avahi_escape "Living Room Lamp")
end=$((SECONDS + 10))
until grep -qF -- "-;wlan0;IPv4;$name;_lanyard._tcp;local" "$LAB_DIR/browse-live.txt"; do
  ((SECONDS < end)) || { echo "FAILED: no removal within 10 s of SIGTERM (the records' TTLs are 120 s and 75 min):"; cat "$LAB_DIR/browse-live.txt"; exit 1; }
  sleep 0.2
done
wait_unlisted "Living Room Lamp" 5
echo "ok: removed after SIGTERM (goodbye): $(grep -cF -- "-;wlan0;" "$LAB_DIR/browse-live.txt") removal lines in the live browser"
pass "firmware responder -> avahi-browse: TXT (flag, empty, 255 bytes), port, IPv4 + IPv6, TXT update, goodbye"
