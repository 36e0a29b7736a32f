# Resolution delay in the lab (docs/paths.md, "Starting on the best kind"): a channel by device
# id that finds the accessory over p2p first waits a moment for Wi-Fi instead of starting on p2p
# and moving up later.
#
# The order of discovery is made deterministic by the accessory's links, not by timing: the
# accessory starts with its wlan0 down, so it is announced on p2p0 only; wlan0 is brought up
# once the app has reported the p2p0 path (its `discovery` JSON events), and the accessory's
# avahi then announces it there after probing (~1 s). The app runs with a resolution delay
# longer than that, so:
#   1. both paths already known (the phone's avahi cache): on wlan0 at once, no wait;
#   2. no Wi-Fi (the accessory's wlan0 stays down, the phone's is up): on p2p0, but only after
#      the delay counted from the first p2p0 path;
#   3. p2p0 first, Wi-Fi during the delay: the first connection is on wlan0 ("connected"), it
#      started as soon as wlan0 was found, and no later move ("preferred path available").
# Without the resolution delay, 2 connects at once and 3 starts on p2p0: both fail.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# app OUT DELAY_MS LINGER_S: `lanyard connect` in the background with one line to send; stdin
# stays open LINGER_S seconds (the channel stays up that long). Sets APP to its pid.
app() {
  local out=$1 delay=$2 linger=$3
  (echo "hello"; sleep "$linger") |
    connect "$out" --resolution-delay-ms "$delay" --move-back-hold-ms 500 --timeout 60 &
  APP=$!
}

# fail N OUT WHY: prints the app's output and log, then the verdict.
fail() { cat "$2" "$2.err"; echo "FAILED: $1: $3"; exit 1; }

finish_app() { # OUT
  wait "$APP" || fail "$(basename "$1")" "$1" "lanyard connect failed"
  jq -e -s '[.[]|select(.event=="acked")|.seq] == [0]' "$1" >/dev/null ||
    fail "$(basename "$1")" "$1" "the line was not acknowledged"
}

# first FILE FILTER: the first JSON line matching FILTER ("null" if none).
first() { jq -c -s "[.[] | select($2)][0]" "$1"; }
ms() { jq -r .time_ms <<<"$1"; }
path_found() { # IFACE: the filter for a discovery event that found a path over IFACE
  echo ".event==\"discovery\" and .change==\"path_added\" and .path.interface==\"$1\""
}

start_accessory # first start: pairs the phone (everything up)

# --- 1. Both kinds known when the channel starts: Wi-Fi at once. ------------------------------
app "$LAB_DIR/c1.json" 8000 2
wait_line "$LAB_DIR/c1.json" '.event=="path"' 20 || exit 1
finish_app "$LAB_DIR/c1.json"
p=$(first "$LAB_DIR/c1.json" '.event=="path"')
d=$(first "$LAB_DIR/c1.json" '.event=="discovery" and .change=="path_added"')
[[ $(jq -r .to.interface <<<"$p") == wlan0 ]] || fail 1 "$LAB_DIR/c1.json" "not started on wlan0"
((waited = $(ms "$p") - $(ms "$d"))) || true
((waited < 1000)) || fail 1 "$LAB_DIR/c1.json" "waited ${waited} ms with Wi-Fi already known"
echo "ok: 1. both kinds known: on wlan0 ${waited} ms after the first path"

# --- 2. Only p2p: the channel waits the whole delay, then starts on p2p0. ---------------------
stop_accessory                    # goodbyes: the phone's avahi forgets both paths
lab_link_down accessory wlan0     # the accessory is not on the home LAN
delay=1500
app "$LAB_DIR/c2.json" $delay 2
wait_line "$LAB_DIR/c2.json" '.event=="state"' 20 || exit 1 # browsing, nothing found yet
start_accessory
wait_line "$LAB_DIR/c2.json" '.event=="path"' 20 || exit 1
finish_app "$LAB_DIR/c2.json"
p=$(first "$LAB_DIR/c2.json" '.event=="path"')
d=$(first "$LAB_DIR/c2.json" '.event=="discovery" and .change=="path_added"')
[[ $(jq -r .path.interface <<<"$d") == p2p0 && $(jq -r .to.interface <<<"$p") == p2p0 ]] ||
  fail 2 "$LAB_DIR/c2.json" "not found and started on p2p0"
((waited = $(ms "$p") - $(ms "$d"))) || true
# The race starts at the deadline; the TLS handshake on p2p0 comes on top.
((waited >= delay - 5 && waited < delay + 3000)) ||
  fail 2 "$LAB_DIR/c2.json" "connected ${waited} ms after p2p0 was found (delay ${delay} ms)"
jq -e -s 'any(.[]; .event=="diagnostic" and .id=="channel.resolution_wait_started" and
  .fields.awaited=="wifi")' "$LAB_DIR/c2.json" >/dev/null ||
  fail 2 "$LAB_DIR/c2.json" "the wait was not logged"
echo "ok: 2. no Wi-Fi: on p2p0 ${waited} ms after p2p0 was found (resolution delay ${delay} ms)"

# --- 3. p2p first, Wi-Fi during the delay: the first connection is on Wi-Fi. ------------------
stop_accessory
app "$LAB_DIR/c3.json" 8000 10
wait_line "$LAB_DIR/c3.json" '.event=="state"' 20 || exit 1
start_accessory                   # wlan0 still down: announced on p2p0 only
wait_line "$LAB_DIR/c3.json" "$(path_found p2p0)" 20 || exit 1
lab_link_up accessory wlan0       # now the accessory joins the home LAN
wait_line "$LAB_DIR/c3.json" '.event=="path"' 20 || exit 1
finish_app "$LAB_DIR/c3.json"
jq -c 'select(.event=="discovery" or .event=="path")' "$LAB_DIR/c3.json"
d=$(first "$LAB_DIR/c3.json" '.event=="discovery" and .change=="path_added"')
w=$(first "$LAB_DIR/c3.json" "$(path_found wlan0)")
[[ $(jq -r .path.interface <<<"$d") == p2p0 && $w != null ]] ||
  fail 3 "$LAB_DIR/c3.json" "p2p0 was not found first, then wlan0"
# Exactly one path event over the whole run (the app stays up for seconds after connecting,
# the move-back hold is 0.5 s): it started on Wi-Fi and never moved.
jq -e -s '[.[] | select(.event=="path")] | length == 1 and .[0].to.interface == "wlan0" and
          .[0].reason == "connected" and .[0].from == null' "$LAB_DIR/c3.json" >/dev/null ||
  fail 3 "$LAB_DIR/c3.json" "the first connection was not on wlan0, or it moved later"
p=$(first "$LAB_DIR/c3.json" '.event=="path"')
((gap = $(ms "$w") - $(ms "$d"), started = $(ms "$p") - $(ms "$w"))) || true
((started < 1000)) ||
  fail 3 "$LAB_DIR/c3.json" "started ${started} ms after wlan0 was found, not at once"
jq -e -s 'any(.[]; .event=="diagnostic" and .id=="channel.resolution_wait_ended" and
  .fields.outcome=="found" and .fields.interface=="wlan0")' "$LAB_DIR/c3.json" >/dev/null ||
  fail 3 "$LAB_DIR/c3.json" "the end of the wait was not logged"
echo "ok: 3. p2p0 found ${gap} ms before wlan0, on wlan0 ${started} ms after it was found, no move"
echo "PASSED: the channel starts on the best kind: waits for Wi-Fi after p2p, up to the delay"
