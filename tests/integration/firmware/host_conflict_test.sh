# Host name conflicts between the embedded responder (accessory, no avahi-daemon there) and the
# phone's avahi-daemon, both ways round:
#   1. The responder is started with the phone's own host name: Avahi defends it, the responder
#      renames its host "<name>-2" and publishes its service there; the phone keeps its name
#      and its addresses.
#   2. The phone's avahi-daemon is told to take "<name>-2" (avahi-set-host-name): the responder
#      defends it, Avahi reports a host name conflict and moves on to "<name>-3"; the responder
#      keeps "<name>-2".
# Each time the service resolves to the accessory's address and the names to the right hosts.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

no_avahi_on_accessory
phone_host=$(lab_hostname phone)

# addresses_of NAME: what the phone's avahi resolves NAME.local to, one line per family.
addresses_of() {
  lab_exec phone avahi-resolve -4 -n "$1.local" | awk '{print $2}'
  lab_exec phone avahi-resolve -6 -n "$1.local" | awk '{print $2}'
}
acc_ll=$(lab_ll accessory wlan0)

# 1. the responder comes second and renames
pid=$(publish lamp --host "$phone_host" --instance "Hall" --port 4433 --txt id=fw-3)
wait_json lamp ".event==\"host_renamed\" and .host==\"$phone_host-2\""
wait_json lamp ".event==\"announced\" and .host==\"$phone_host-2\" and .instance==\"Hall\""
no_json lamp '.event=="instance_renamed"'
wait_browse "Hall" ";$phone_host-2\.local;$ACC_IPV4;4433;\"id=fw-3\"$" >/dev/null
lab_wait_avahi phone 5 # still RUNNING, still called $phone_host
mapfile -t a < <(addresses_of "$phone_host")
[[ ${a[0]} =~ ^198\.18\.[12]\.2$ && ${a[1]} != "$ACC_IPV6" && ${a[1]} != "$acc_ll" ]] ||
  { echo "FAILED: $phone_host.local resolves to ${a[*]}, not to the phone"; exit 1; }
mapfile -t a < <(addresses_of "$phone_host-2")
[[ ${a[0]} == "$ACC_IPV4" && (${a[1]} == "$ACC_IPV6" || ${a[1]} == "$acc_ll") ]] ||
  { echo "FAILED: $phone_host-2.local resolves to ${a[*]}, not to the accessory"; exit 1; }
echo "ok: Avahi first: the responder renamed its host $phone_host-2; the phone kept $phone_host"

# 2. Avahi comes second and renames
lab_exec phone avahi-set-host-name "$phone_host-2"
end=$((SECONDS + 20))
until grep -q "Host name conflict, retrying with $phone_host-3" "$LAB_DIR/phone/avahi.log" &&
  [[ $(lab_exec phone dbus-send --system --print-reply=literal --reply-timeout=1000 \
    --dest=org.freedesktop.Avahi / org.freedesktop.Avahi.Server.GetHostName 2>/dev/null | tr -d ' ') == "$phone_host-3" ]]; do
  ((SECONDS < end)) || { echo "FAILED: Avahi did not move on to $phone_host-3:"; tail -n 8 "$LAB_DIR/phone/avahi.log"; exit 1; }
  sleep 0.2
done
[[ $(jq -s '[.[] | select(.event | test("renamed|conflict"))] | length' "$LAB_DIR/lamp.json") == 1 ]] ||
  { echo "FAILED: the responder renamed again:"; cat "$LAB_DIR/lamp.json"; exit 1; }
wait_browse "Hall" ";$phone_host-2\.local;$ACC_IPV4;4433;\"id=fw-3\"$" >/dev/null
echo "ok: responder first: it kept $phone_host-2, Avahi moved on to $phone_host-3"
stop_publisher lamp "$pid"
pass "host name conflicts with Avahi resolved both ways"
