# The embedded responder on the accessory against python-zeroconf on the phone: an mDNS
# implementation that shares no code with Avahi or Lanyard. No avahi-daemon runs on either
# host here, so every answer zeroconf gets comes from the responder. zeroconf browses
# _lanyard._tcp.local., resolves the instance and must see its port, host, TXT record and
# the accessory's IPv4, global IPv6 and link-local IPv6 addresses.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# Debian's python3-zeroconf is installed for Debian's interpreter (scripts/bootstrap).
/usr/bin/python3 -c 'import zeroconf' 2>/dev/null ||
  lanyard_skip "python3-zeroconf is not installed for /usr/bin/python3 (apt-get install python3-zeroconf)"

no_avahi_on_accessory
lab_avahi_stop phone

pid=$(publish lamp --host fw-lamp --instance "Lamp" --port 4433 --txt id=fw-1 pv=1 flag empty=)
wait_json lamp '.event=="announced" and .interface=="wlan0"'
ll=$(lab_ll accessory wlan0)
out=$(lab_exec phone /usr/bin/python3 "$FIRMWARE_TESTS/zeroconf_resolve.py" --bind 198.18.1.2 \
  --instance Lamp --expect-address "$ACC_IPV4" --expect-address "$ACC_IPV6" \
  --expect-address "$ll" --timeout 30) || { echo "FAILED: zeroconf did not resolve Lamp"; exit 1; }
echo "zeroconf: $out"
jq -e --arg ll "$ll" '.name=="Lamp._lanyard._tcp.local." and .server=="fw-lamp.local."
  and .port==4433 and .txt=={"id":"fw-1","pv":"1","flag":null,"empty":""}
  and .addresses==(["198.18.1.3","2001:2:0:1::3",$ll]|sort)' <<<"$out" >/dev/null ||
  { echo "FAILED: zeroconf's resolution differs from what was published"; exit 1; }
stop_publisher lamp "$pid"
pass "firmware responder -> python-zeroconf: port, host, TXT (flag, empty), IPv4 + IPv6 + link-local"
