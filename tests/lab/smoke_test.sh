# shellcheck shell=bash
# Smoke test of the network lab itself. Run it through the wrapper:
#   tests/lab/run-in-lab tests/lab/smoke_test.sh
# (sourced by run-in-lab under `set -euo pipefail`, with lab.sh loaded and a lab up)

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
ok() { echo "ok: $*"; }
t_start=$(_lab_now)

# --- each host's clients talk to that host's own avahi-daemon -------------------------
for h in phone accessory; do
  want=$(lab_hostname "$h")
  got=$(lab_exec "$h" dbus-send --system --print-reply=literal --reply-timeout=3000 \
    --dest=org.freedesktop.Avahi / org.freedesktop.Avahi.Server.GetHostName) ||
    fail "$h: no answer from avahi on its bus"
  got=${got//[[:space:]]/}
  [[ $got == "$want" ]] || fail "$h: avahi on its bus is '$got', expected '$want'"
  # libavahi-client (as used by the project) finds the same daemon: resolve our own name
  out=$(lab_exec "$h" timeout 10 avahi-resolve -4 -n "$want.local" 2>&1) ||
    fail "$h: avahi-resolve of its own name failed: $out"
done
ok "phone and accessory clients reach their own avahi-daemon ($(lab_hostname phone), $(lab_hostname accessory))"

# --- links and routing ------------------------------------------------------------------
phone_ns=$(lab_ns phone)
[[ -n $(ip -n "$phone_ns" -o link show dev sap0) ]] || fail "phone has no sap0"
[[ -z $(ip -n "$phone_ns" -o link show dev sap0 up) ]] || fail "phone sap0 is up at start (SoftAP must not be joined yet)"
ok "phone sap0 is down at start"

acc_p2p_ll=$(lab_ll accessory p2p0)
lab_ping phone wlan0 198.18.1.3 || fail "phone wlan0 -> accessory wlan0 (IPv4)"
lab_ping phone wlan0 2001:2:0:1::3 || fail "phone wlan0 -> accessory wlan0 (IPv6)"
lab_ping phone p2p0 198.18.2.3 || fail "phone p2p0 -> accessory p2p0 (IPv4)"
lab_ping phone p2p0 "$acc_p2p_ll%p2p0" || fail "phone p2p0 -> accessory p2p0 ($acc_p2p_ll%p2p0)"
[[ -z $(ip -n "$phone_ns" -6 -o addr show dev p2p0 scope global) ]] || fail "phone p2p0 has a global IPv6 address"
lab_ping phone cell0 198.18.1.3 || fail "phone cell0 -> accessory wlan0 via wan (IPv4)"
lab_ping phone cell0 2001:2:0:1::3 || fail "phone cell0 -> accessory wlan0 via wan (IPv6)"
ok "ping wlan0 v4/v6, p2p0 v4 and v6 link-local ($acc_p2p_ll%p2p0), cell0 -> 198.18.1.3 and 2001:2:0:1::3"

route=$(ip -n "$phone_ns" route get 198.18.1.3 oif cell0)
[[ $route == *"via 198.18.3.1 dev cell0"* ]] || fail "route via cell0 is not through the wan router: $route"
route=$(ip -n "$phone_ns" route get 198.18.1.3)
[[ $route == *"dev wlan0"* ]] || fail "unbound traffic to the LAN should use wlan0: $route"
# the cell0 path really crosses the wan router: cut the router's uplink
lab_blackhole wan uplink
if lab_ping phone cell0 198.18.1.3 1 2>/dev/null; then fail "cell0 path works without the wan uplink"; fi
lab_ping phone wlan0 198.18.1.3 || fail "wlan0 broken by blackholing the wan uplink"
lab_unblackhole wan uplink
lab_ping phone cell0 198.18.1.3 || fail "cell0 path not back after lab_unblackhole"
ok "cell0 traffic to the LAN goes through the wan router; blackhole/unblackhole work"

# the cloud host (the relay's broker): the accessory reaches it through the home router, the
# phone over cellular; with lab_cell_home off, cellular reaches the cloud and not the home
lab_ping accessory wlan0 198.18.5.2 || fail "accessory wlan0 -> cloud (IPv4)"
lab_ping accessory wlan0 2001:2:0:5::2 || fail "accessory wlan0 -> cloud (IPv6)"
lab_ping phone cell0 198.18.5.2 || fail "phone cell0 -> cloud (IPv4)"
lab_ping phone cell0 2001:2:0:5::2 || fail "phone cell0 -> cloud (IPv6)"
lab_cell_home off
if lab_ping phone cell0 198.18.1.3 1 2>/dev/null; then fail "cell0 reaches the home LAN after lab_cell_home off"; fi
if lab_ping phone cell0 2001:2:0:1::3 1 2>/dev/null; then fail "cell0 reaches the home LAN (IPv6) after lab_cell_home off"; fi
lab_ping phone cell0 198.18.5.2 || fail "cell0 lost the cloud with lab_cell_home off"
lab_ping accessory wlan0 198.18.5.2 || fail "the accessory lost the cloud with lab_cell_home off"
lab_ping phone wlan0 198.18.1.3 || fail "wlan0 broken by lab_cell_home off"
lab_cell_home on
lab_ping phone cell0 198.18.1.3 || fail "cell0 does not reach the home LAN again after lab_cell_home on"
ok "cloud reachable from accessory wlan0 and phone cell0; lab_cell_home off/on cuts and restores cell0 -> home"

lab_join_softap
lab_ping phone sap0 198.18.4.1 || fail "phone sap0 -> accessory SoftAP 198.18.4.1"
lab_leave_softap
[[ -z $(ip -n "$phone_ns" -o link show dev sap0 up) ]] || fail "sap0 still up after lab_leave_softap"
ok "SoftAP join (ping 198.18.4.1) and leave"

# --- mDNS: a service with TXT, seen over wlan0 and p2p0 (IPv4 and IPv6), not over cell0 --
svc="lanyard-smoke-$LAB_ID"
acc_host="$(lab_hostname accessory).local"
acc_wlan_ll=$(lab_ll accessory wlan0)
lab_spawn accessory "$LAB_DIR/publish.log" \
  avahi-publish -s "$svc" _lanyard._tcp 4242 id=smoke-1 pv=1 flag e= >/dev/null

# prints nothing when the resolved line for IF/PROTO is fine, else what is wrong
check_line() { # OUT IF PROTO ADDRESS-REGEX
  local line
  line=$(awk -F';' -v i="$2" -v p="$3" -v n="$svc" '$1=="=" && $2==i && $3==p && $4==n' <<<"$1" | head -n1)
  [[ -n $line ]] || { echo "$2/$3: not seen"; return; }
  IFS=';' read -r _ _ _ _ type _ host addr port txt <<<"$line"
  [[ $type == _lanyard._tcp ]] || echo "$2/$3: type $type"
  [[ $host == "$acc_host" ]] || echo "$2/$3: host $host, expected $acc_host"
  [[ $addr =~ $4 ]] || echo "$2/$3: address $addr does not match $4"
  [[ $port == 4242 ]] || echo "$2/$3: port $port"
  for kv in '"id=smoke-1"' '"pv=1"' '"flag"' '"e="'; do
    [[ " $txt " == *" $kv "* ]] || echo "$2/$3: TXT lacks $kv (TXT: $txt)"
  done
}

t_pub=$(_lab_now)
deadline=$((t_pub + 25 * 1000000))
problems=unknown
while (($(_lab_now) < deadline)); do
  out=$(lab_exec phone timeout 10 avahi-browse -r -p -t _lanyard._tcp 2>&1) || true
  problems=$(
    check_line "$out" wlan0 IPv4 '^198\.18\.1\.3$'
    check_line "$out" wlan0 IPv6 "^(2001:2:0:1::3|${acc_wlan_ll//./\\.})$"
    check_line "$out" p2p0 IPv4 '^198\.18\.2\.3$'
    check_line "$out" p2p0 IPv6 "^${acc_p2p_ll}$"
  )
  [[ -z $problems ]] && break
  sleep 0.5
done
if [[ -n $problems ]]; then
  echo "last avahi-browse output on phone:" >&2
  printf '    %s\n' "$out" >&2
  echo "accessory avahi log:" >&2
  tail -n 20 "$LAB_DIR/accessory/avahi.log" | sed 's/^/    /' >&2
  echo "avahi-publish log:" >&2
  sed 's/^/    /' "$LAB_DIR/publish.log" >&2 || true
  fail "service $svc not resolved correctly on phone: $(echo "$problems" | tr '\n' ';')"
fi
if grep -Eq "^[=+];(cell0|sap0|lo);" <<<"$out"; then fail "service seen on a non-mDNS interface: $(grep -E '^[=+];(cell0|sap0|lo);' <<<"$out")"; fi
ok "phone resolved $svc (TXT id=smoke-1 pv=1 flag e=) over wlan0 and p2p0, IPv4 and IPv6, in $(_lab_ms_since "$t_pub") ms; not over cell0"

# a resolution from the phone's own daemon via libavahi-client, across hosts
out=$(lab_exec phone timeout 10 avahi-resolve -4 -n "$acc_host" 2>&1) || fail "phone cannot resolve $acc_host: $out"
[[ $out =~ 198\.18\.(1\.3|2\.3)$ ]] || fail "phone resolved $acc_host to an unexpected address: $out"
ok "phone resolves $acc_host -> ${out##*[[:space:]]}"

echo "PASSED: lab smoke test in $(_lab_ms_since "$t_start") ms (lab $LAB_ID)"
