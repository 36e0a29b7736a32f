# lanyard advertise on the accessory is found, with its TXT record, by avahi-browse on the
# phone; withdrawing (SIGINT) removes it.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

big=$(printf 'v%.0s' $(seq 251)) # "big=" + 251 bytes = 255, the longest TXT string
pid=$(advertise accessory "$LAB_DIR/adv.log" "Lamp" _lanyard._tcp 4433 id=acc-1 flag empty= \
  "big=$big")
wait_for_text "$LAB_DIR/adv.log" '^registered Lamp$'

acc=$(lab_hostname accessory)
end=$((SECONDS + 20))
until lab_exec phone avahi-browse -rpt _lanyard._tcp >"$LAB_DIR/ab.txt" 2>/dev/null &&
  grep -q "^=;wlan0;IPv4;Lamp;_lanyard._tcp;local;$acc.local;198.18.1.3;4433;" "$LAB_DIR/ab.txt"; do
  ((SECONDS < end)) || { echo "FAILED: avahi-browse did not resolve Lamp"; cat "$LAB_DIR/ab.txt"; exit 1; }
  sleep 0.5
done
line=$(grep "^=;wlan0;IPv4;Lamp;" "$LAB_DIR/ab.txt")
for want in '"id=acc-1"' '"flag"' '"empty="' "\"big=$big\""; do
  [[ $line == *"$want"* ]] || { echo "FAILED: TXT $want missing in: $line"; exit 1; }
done

stop_pid "$pid"
grep -q '^withdrawn Lamp$' "$LAB_DIR/adv.log" || { echo "FAILED: no 'withdrawn'"; cat "$LAB_DIR/adv.log"; exit 1; }
end=$((SECONDS + 10))
while lab_exec phone avahi-browse -rpt _lanyard._tcp 2>/dev/null | grep -q ';Lamp;'; do
  ((SECONDS < end)) || { echo "FAILED: Lamp still listed after withdraw"; exit 1; }
  sleep 0.5
done
pass "lanyard advertise -> avahi-browse (TXT flag, empty, 255-byte), withdraw"
