# Lab test: sockets really bound to an interface. A socket bound to cell0 reaches the
# accessory's wlan0 address through the wan router and sends nothing on wlan0 (nft counters in
# the phone); binding to an interface without a suitable address fails with the precise error.
# shellcheck source=tests/integration/link/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

probe() { lab_exec phone env LANYARD_INTERFACE_KINDS="$LINK_KINDS" "$BUILD/tests/link_probe" "$@"; }
port=4711
echo_log=$LAB_DIR/echo.log
lab_spawn accessory "$echo_log" python3 "$LINK_TEST_DIR/echo_server.py" $port >/dev/null
for _ in $(seq 100); do grep -q listening "$echo_log" 2>/dev/null && break; sleep 0.1; done

# Count the phone's packets to the echo port per outgoing interface.
ns=$(lab_ns phone)
ip netns exec "$ns" nft -f - <<NFT
table inet lanyard_linktest {
  counter wlan0_out {}
  counter cell0_out {}
  chain out {
    type filter hook output priority 0; policy accept;
    oifname "wlan0" tcp dport $port counter name "wlan0_out"
    oifname "cell0" tcp dport $port counter name "cell0_out"
  }
}
NFT
packets() { ip netns exec "$ns" nft -j list counter inet lanyard_linktest "$1" | jq '.nftables[] | select(.counter) | .counter.packets'; }

# cell0 → the accessory's wlan0 address (IPv4 and IPv6), although wlan0 is up and has the
# better route: the source is cell0's address and wlan0 carries nothing.
out=$(probe --via cell0 198.18.1.3 $port --message v4)
expect_eq "IPv4 via cell0" "$out" "connected local=198.18.3.2 device=cell0 reply=198.18.3.2 v4"
out=$(probe --via cell0 2001:2:0:1::3 $port --message v6)
expect_eq "IPv6 via cell0" "$out" "connected local=2001:2:0:3::2 device=cell0 reply=2001:2:0:3::2 v6"
expect_eq "packets on wlan0 while bound to cell0" "$(packets wlan0_out)" 0
cell=$(packets cell0_out)
((cell > 0)) || { echo "FAILED: no packets counted on cell0" >&2; exit 1; }
echo "ok: $cell packets on cell0"

# The counters do count wlan0: the same via wlan0.
out=$(probe --via wlan0 198.18.1.3 $port --message wifi)
expect_eq "IPv4 via wlan0" "$out" "connected local=198.18.1.2 device=wlan0 reply=198.18.1.2 wifi"
wlan=$(packets wlan0_out)
((wlan > 0)) || { echo "FAILED: nft counter on wlan0 did not count a wlan0 connection" >&2; exit 1; }

# Link-local IPv6 over p2p0, with the interface as scope id.
acc_ll=$(lab_ll accessory p2p0)
phone_ll=$(lab_ll phone p2p0)
out=$(probe --via p2p0 "$acc_ll" $port --message ll)
expect_eq "link-local via p2p0" "$out" "connected local=$phone_ll%p2p0 device=p2p0 reply=$phone_ll ll"

# Precise errors. p2p0 has only a link-local IPv6 address; without its IPv4 address it has none.
set +e
out=$(probe --via p2p0 2001:2:0:1::3 $port); rc=$?
set -e
expect_eq "p2p0 to a routable IPv6 address (status)" "$rc" 3
expect_eq "p2p0 to a routable IPv6 address" "$out" "error lanyard.link:3: no route to 2001:2:0:1::3 via interface p2p0 (p2p): the interface has only a link-local IPv6 address, which cannot reach a routable one"
ip -n "$ns" -4 addr flush dev p2p0
set +e
out=$(probe --via p2p0 198.18.1.3 $port); rc=$?
set -e
expect_eq "p2p0 without IPv4 (status)" "$rc" 3
expect_eq "p2p0 without IPv4" "$out" "error lanyard.link:3: no route to 198.18.1.3 via interface p2p0 (p2p): the interface has no IPv4 address"
set +e
out=$(probe --via sap0 198.18.4.1 $port); rc=$?
set -e
expect_eq "sap0 down" "$out" "error lanyard.link:2: no route to 198.18.4.1 via interface sap0 (wifi): the interface is down (administratively down)"
set +e
out=$(probe --via nosuch0 198.18.1.3 $port); rc=$?
set -e
expect_eq "no such interface" "$out" "error lanyard.link:1: no route to 198.18.1.3 via interface nosuch0: there is no such interface on this host"
echo "PASSED"
