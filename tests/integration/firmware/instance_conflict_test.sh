# Instance name conflicts between the embedded responder (accessory, no avahi-daemon there) and
# the phone's avahi-daemon, both ways round:
#   1. Avahi holds "Lamp" first: the responder's probe is answered, it renames itself
#      "Lamp (2)" (RFC 6762 section 9) and says so; Avahi keeps "Lamp".
#   2. The responder holds "Lamp (2)": Avahi probes for it, the responder defends its name and
#      Avahi renames its own service "Lamp (2) #2"; the responder does not rename again.
# After each step every instance is browsable with its own TXT record and host.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

no_avahi_on_accessory
phone_host=$(lab_hostname phone)

lab_spawn phone "$LAB_DIR/avahi-publish-1.log" avahi-publish -s "Lamp" _lanyard._tcp 4434 id=phone-1 >/dev/null
end=$((SECONDS + 20))
until grep -q "^Established under name 'Lamp'" "$LAB_DIR/avahi-publish-1.log" 2>/dev/null; do
  ((SECONDS < end)) || { echo "FAILED: avahi-publish did not establish Lamp"; cat "$LAB_DIR/avahi-publish-1.log"; exit 1; }
  sleep 0.2
done

# 1. the responder comes second and renames
pid=$(publish lamp --host fw-lamp --instance "Lamp" --port 4433 --txt id=fw-1)
wait_json lamp '.event=="instance_renamed" and .instance=="Lamp (2)"'
wait_json lamp '.event=="announced" and .instance=="Lamp (2)" and .host=="fw-lamp"'
wait_browse "Lamp (2)" ";fw-lamp\.local;$ACC_IPV4;4433;\"id=fw-1\"$" >/dev/null
wait_browse "Lamp" ";$phone_host\.local;198\.18\.1\.2;4434;\"id=phone-1\"$" >/dev/null
grep -qi collision "$LAB_DIR/avahi-publish-1.log" &&
  { echo "FAILED: Avahi renamed too:"; cat "$LAB_DIR/avahi-publish-1.log"; exit 1; }
echo "ok: Avahi first: the responder renamed itself 'Lamp (2)', Avahi kept 'Lamp'"

# 2. Avahi comes second and renames
lab_spawn phone "$LAB_DIR/avahi-publish-2.log" avahi-publish -s "Lamp (2)" _lanyard._tcp 4435 id=phone-2 >/dev/null
end=$((SECONDS + 20))
until grep -q "^Established under name 'Lamp (2) #2'" "$LAB_DIR/avahi-publish-2.log" 2>/dev/null; do
  ((SECONDS < end)) || { echo "FAILED: Avahi did not rename to 'Lamp (2) #2'"; cat "$LAB_DIR/avahi-publish-2.log"; exit 1; }
  sleep 0.2
done
wait_browse "Lamp (2) #2" ";$phone_host\.local;198\.18\.1\.2;4435;\"id=phone-2\"$" >/dev/null
wait_browse "Lamp (2)" ";fw-lamp\.local;$ACC_IPV4;4433;\"id=fw-1\"$" >/dev/null
wait_browse "Lamp" ";$phone_host\.local;198\.18\.1\.2;4434;\"id=phone-1\"$" >/dev/null
[[ $(jq -s '[.[] | select(.event | test("renamed"))] | length' "$LAB_DIR/lamp.json") == 1 ]] ||
  { echo "FAILED: the responder renamed again:"; cat "$LAB_DIR/lamp.json"; exit 1; }
echo "ok: responder first: it kept 'Lamp (2)', Avahi renamed its service 'Lamp (2) #2'"
stop_publisher lamp "$pid"
pass "instance name conflicts with Avahi resolved both ways; all three instances browsable"
