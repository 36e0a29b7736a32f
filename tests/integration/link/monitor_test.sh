# Lab test: `lanyard monitor --json` in the phone host reports its interfaces with the right
# kinds, sees wlan0 go down and up (raw and debounced events) and addresses come and go.
# shellcheck source=tests/integration/link/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

log=$LAB_DIR/monitor.log
: >"$log"
pid=$(lab_spawn phone "$log" env LANYARD_INTERFACE_KINDS="$LINK_KINDS" \
  "$BUILD/bin/lanyard" monitor --json --hold-down-ms 500)
wait_json "$log" '.event == "snapshot_complete"'

# The initial snapshot names every interface with its kind (from LANYARD_INTERFACE_KINDS).
for pair in wlan0:wifi p2p0:p2p cell0:cellular sap0:wifi lo:loopback; do
  wait_json "$log" ".event == \"interface_added\" and .interface.name == \"${pair%%:*}\" and .interface.kind == \"${pair#*:}\"" 1
done
wait_json "$log" '.event == "address_added" and .interface.name == "wlan0" and .address.address == "198.18.1.2" and .address.family == "ipv4" and .address.prefix_length == 24' 1
wait_json "$log" '.event == "address_added" and .interface.name == "wlan0" and .address.address == "2001:2:0:1::2" and .address.scope == "global"' 1
wait_json "$log" '.event == "interface_added" and .interface.name == "sap0" and .interface.up == false' 1
echo "ok: initial snapshot"

# wlan0 down: raw interface_down at once, interface_unavailable after the grace.
lab_link_down phone wlan0
wait_json "$log" '.event == "interface_down" and .interface.name == "wlan0" and .interface.kind == "wifi" and .interface.admin_up == false'
wait_json "$log" '.event == "interface_unavailable" and .interface.name == "wlan0" and .interface.available == false'
echo "ok: wlan0 down"

# wlan0 up again: interface_up, then interface_available once the hold-down has passed.
lab_link_up phone wlan0
wait_json "$log" '.event == "interface_up" and .interface.name == "wlan0" and .interface.up == true'
wait_json "$log" '.event == "interface_available" and .interface.name == "wlan0" and .interface.available == true'
expect_eq "one move away from wlan0" "$(count_json "$log" '.event == "interface_unavailable" and .interface.name == "wlan0"')" 1
expect_eq "one move back to wlan0" "$(count_json "$log" '.event == "interface_available" and .interface.name == "wlan0"')" 1

# Addresses added and removed, IPv4 and IPv6, on the right interface with its kind.
ns=$(lab_ns phone)
ip -n "$ns" addr add 198.18.1.77/24 dev wlan0
ip -n "$ns" addr add 2001:2:0:3::77/64 dev cell0 nodad
wait_json "$log" '.event == "address_added" and .interface.name == "wlan0" and .interface.kind == "wifi" and .address.address == "198.18.1.77" and .address.family == "ipv4"'
wait_json "$log" '.event == "address_added" and .interface.name == "cell0" and .interface.kind == "cellular" and .address.address == "2001:2:0:3::77" and .address.family == "ipv6" and .address.tentative == false'
ip -n "$ns" addr del 198.18.1.77/24 dev wlan0
ip -n "$ns" addr del 2001:2:0:3::77/64 dev cell0
wait_json "$log" '.event == "address_removed" and .interface.name == "wlan0" and .address.address == "198.18.1.77"'
wait_json "$log" '.event == "address_removed" and .interface.name == "cell0" and .address.address == "2001:2:0:3::77"'
echo "ok: address add/remove"

# The far end of cell0 disappears (no carrier): cell0 stays admin-up but goes down.
lab_carrier_down phone cell0
wait_json "$log" '.event == "interface_down" and .interface.name == "cell0" and .interface.kind == "cellular" and .interface.admin_up == true and .interface.running == false'
lab_carrier_up phone cell0
wait_json "$log" '.event == "interface_up" and .interface.name == "cell0"'
echo "ok: cell0 carrier"

# Flapping: wlan0 goes down and up three times, each time up for much less than the hold-down
# (10 s here). The debounced view moves away once and back once, after the last return.
flap_log=$LAB_DIR/flap.log
: >"$flap_log"
lab_spawn phone "$flap_log" env LANYARD_INTERFACE_KINDS="$LINK_KINDS" \
  "$BUILD/bin/lanyard" monitor --json --hold-down-ms 10000 >/dev/null
wait_json "$flap_log" '.event == "snapshot_complete"'
for _ in 1 2 3; do
  lab_link_down phone wlan0
  wait_json "$flap_log" '.event == "interface_unavailable" and .interface.name == "wlan0"'
  lab_link_up phone wlan0
done
wait_json "$flap_log" '.event == "interface_available" and .interface.name == "wlan0"' 40
expect_eq "raw downs seen while flapping" "$(count_json "$flap_log" '.event == "interface_down" and .interface.name == "wlan0"')" 3
expect_eq "moves away while flapping" "$(count_json "$flap_log" '.event == "interface_unavailable" and .interface.name == "wlan0"')" 1
expect_eq "moves back while flapping" "$(count_json "$flap_log" '.event == "interface_available" and .interface.name == "wlan0"')" 1

# SIGTERM ends the monitor cleanly.
kill -TERM "$pid"
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then echo "FAILED: lanyard monitor ignored SIGTERM" >&2; exit 1; fi
echo "ok: SIGTERM"
echo "PASSED"
