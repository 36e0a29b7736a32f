# shellcheck shell=bash
# Lanyard network test lab: a bash library, to be `source`d (see README.md beside this file).
#
# It builds, per run, a small set of network namespaces wired with veths and a bridge,
# with one dbus-daemon + avahi-daemon per host, and tears all of it down again.
# Addresses come only from 198.18.0.0/15, 2001:2::/48 and link-local; nothing is created in
# the caller's network namespace, and nothing outside the lab's own namespaces is touched.
#
# Executed directly it is a small command-line tool: `lab.sh help`.
#
# All functions are safe under `set -euo pipefail`: they check what they do, print a clear
# "lab: ERROR: ..." on stderr and return non-zero on failure.

LAB_ROOT=${LAB_ROOT:-/run/lanyard-lab}
LAB_SH=$(readlink -f "${BASH_SOURCE[0]}")
export LAB_SH
# lanyard_skip: the one way a lab test says it cannot run here.
# shellcheck source=../lib/skip.sh
source "$(dirname "$LAB_SH")/../lib/skip.sh"

# host name -> "what runs there"; fixed for every run (only namespace names carry LAB_ID)
_LAB_HOSTS=(phone accessory wan lan cloud)

# Wiring: "hostA ifA hostB ifB" (veth pairs). Ports in `lan` are enslaved to br0.
_LAB_LINKS=(
  "phone wlan0 lan phone-wlan0"
  "accessory wlan0 lan acc-wlan0"
  "wan uplink lan wan-uplink"
  "phone p2p0 accessory p2p0"
  "accessory ap0 phone sap0"
  "phone cell0 wan cell0"
  "wan inet0 cloud eth0"
)

_lab_log() { printf 'lab: %s\n' "$*" >&2; }
_lab_err() { printf 'lab: ERROR: %s\n' "$*" >&2; return 1; }
_lab_now() { printf '%s' "${EPOCHREALTIME/[.,]/}"; }   # microseconds
_lab_ms_since() { echo $((($(_lab_now) - $1) / 1000)); }

# ---------------------------------------------------------------------------------------
# naming and lookup

_lab_need_lab() {
  [[ -n ${LAB_ID:-} && -n ${LAB_DIR:-} ]] || { _lab_err "no lab: call lab_up first (or set LAB_ID)"; return 1; }
  [[ -d $LAB_DIR ]] || { _lab_err "lab state dir $LAB_DIR is gone (lab $LAB_ID was torn down?)"; return 1; }
}

_lab_valid_host() {
  case "${1:-}" in
    phone | accessory | wan | lan | cloud) return 0 ;;
    *) _lab_err "unknown lab host '${1:-}' (expected phone, accessory, wan, lan or cloud)" ;;
  esac
}

# lab_ns HOST: name of HOST's network namespace (for `ip -n`, `ip netns exec`).
lab_ns() {
  _lab_need_lab || return 1
  _lab_valid_host "${1:-}" || return 1
  printf '%s-%s\n' "$LAB_ID" "$1"
}

# lab_hostname HOST: the mDNS host name of HOST's avahi-daemon (without .local).
lab_hostname() {
  _lab_need_lab || return 1
  case "${1:-}" in
    phone) printf 'phone-%s\n' "$LAB_ID" ;;
    accessory) printf 'acc-%s\n' "$LAB_ID" ;;
    *) _lab_err "lab_hostname: only phone and accessory run avahi (got '${1:-}')" ;;
  esac
}

_lab_need_if() { # HOST IF
  local ns
  ns=$(lab_ns "$1") || return 1
  [[ -n ${2:-} ]] || { _lab_err "missing interface name for host $1"; return 1; }
  ip -n "$ns" link show dev "$2" >/dev/null 2>&1 || { _lab_err "host $1 has no interface '$2'"; return 1; }
}

# _lab_peer HOST IF: prints "HOST2 IF2" of the other end of the veth, or nothing (br0, lo).
_lab_peer() {
  local l a b c d
  for l in "${_LAB_LINKS[@]}"; do
    read -r a b c d <<<"$l"
    if [[ $a == "$1" && $b == "$2" ]]; then echo "$c $d"; return 0; fi
    if [[ $c == "$1" && $d == "$2" ]]; then echo "$a $b"; return 0; fi
  done
}

# Static per-interface configuration, re-applied by lab_link_up (a link going down loses its
# routes). Lines are `ip -batch` commands.
_lab_if_addrs() { # HOST IF
  case "$1/$2" in
    phone/wlan0) echo "addr replace 198.18.1.2/24 dev wlan0"
                 echo "addr replace 2001:2:0:1::2/64 dev wlan0 nodad" ;;
    phone/p2p0)  echo "addr replace 198.18.2.2/24 dev p2p0" ;;
    phone/sap0)  echo "addr replace 198.18.4.2/24 dev sap0" ;;
    phone/cell0) echo "addr replace 198.18.3.2/24 dev cell0"
                 echo "addr replace 2001:2:0:3::2/64 dev cell0 nodad" ;;
    accessory/wlan0) echo "addr replace 198.18.1.3/24 dev wlan0"
                     echo "addr replace 2001:2:0:1::3/64 dev wlan0 nodad" ;;
    accessory/p2p0)  echo "addr replace 198.18.2.3/24 dev p2p0" ;;
    accessory/ap0)   echo "addr replace 198.18.4.1/24 dev ap0" ;;
    wan/cell0)  echo "addr replace 198.18.3.1/24 dev cell0"
                echo "addr replace 2001:2:0:3::1/64 dev cell0 nodad" ;;
    wan/uplink) echo "addr replace 198.18.1.254/24 dev uplink"
                echo "addr replace 2001:2:0:1::254/64 dev uplink nodad" ;;
    wan/inet0)  echo "addr replace 198.18.5.1/24 dev inet0"
                echo "addr replace 2001:2:0:5::1/64 dev inet0 nodad" ;;
    cloud/eth0) echo "addr replace 198.18.5.2/24 dev eth0"
                echo "addr replace 2001:2:0:5::2/64 dev eth0 nodad" ;;
  esac
}
_lab_if_routes() { # HOST IF
  case "$1/$2" in
    phone/cell0) echo "route replace 198.18.1.0/24 via 198.18.3.1 dev cell0 metric 500"
                 echo "route replace 2001:2:0:1::/64 via 2001:2:0:3::1 dev cell0 metric 500"
                 echo "route replace 198.18.5.0/24 via 198.18.3.1 dev cell0 metric 500"
                 echo "route replace 2001:2:0:5::/64 via 2001:2:0:3::1 dev cell0 metric 500" ;;
    accessory/wlan0) echo "route replace 198.18.3.0/24 via 198.18.1.254 dev wlan0"
                     echo "route replace 2001:2:0:3::/64 via 2001:2:0:1::254 dev wlan0"
                     echo "route replace 198.18.5.0/24 via 198.18.1.254 dev wlan0"
                     echo "route replace 2001:2:0:5::/64 via 2001:2:0:1::254 dev wlan0" ;;
    cloud/eth0) echo "route replace 198.18.0.0/15 via 198.18.5.1 dev eth0"
                echo "route replace 2001:2::/48 via 2001:2:0:5::1 dev eth0" ;;
  esac
}

_lab_batch() { # NS < commands ; runs `ip -batch -` if there is any command
  local ns=$1 cmds
  cmds=$(cat)
  [[ -z $cmds ]] && return 0
  printf '%s\n' "$cmds" | ip -n "$ns" -batch - || { _lab_err "ip -n $ns failed on: $(printf '%s; ' "$cmds")"; return 1; }
}

# _lab_if_apply HOST IF [up|noup]: addresses, link up, routes.
_lab_if_apply() {
  local host=$1 ifc=$2 mode=${3:-up} ns
  ns=$(lab_ns "$host") || return 1
  _lab_if_addrs "$host" "$ifc" | _lab_batch "$ns" || return 1
  [[ $mode == up ]] || return 0
  ip -n "$ns" link set dev "$ifc" up || { _lab_err "cannot bring up $host $ifc"; return 1; }
  _lab_if_routes "$host" "$ifc" | _lab_batch "$ns" || return 1
}

# pid liveness that survives pid reuse: "PID STARTTIME"; zombies count as dead.
_lab_starttime() { # PID
  local s
  s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  s=${s##*) }
  # fields after "comm)": state(1) ... starttime is field 22 overall = 20th here
  awk '{print $20}' <<<"$s"
}
_lab_alive() { # PID [STARTTIME]
  local s st
  [[ $1 =~ ^[0-9]+$ ]] || return 1
  s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  s=${s##*) }
  [[ ${s:0:1} == Z || ${s:0:1} == X ]] && return 1
  if [[ -n ${2:-} ]]; then
    st=$(awk '{print $20}' <<<"$s")
    [[ $st == "$2" ]] || return 1
  fi
  return 0
}

# ---------------------------------------------------------------------------------------
# prerequisites

# lab_can_run: 0 if this machine can host a lab; otherwise prints the reason, returns 1.
lab_can_run() {
  local c
  if [[ $(id -u) != 0 ]]; then echo "not root (the lab needs root for network namespaces)"; return 1; fi
  for c in ip nft tc sysctl unshare nsenter setsid timeout flock mount awk perl \
           dbus-daemon dbus-send avahi-daemon avahi-browse avahi-publish; do
    command -v "$c" >/dev/null 2>&1 || { echo "missing command: $c"; return 1; }
  done
  perl -MNet::Ping -e1 >/dev/null 2>&1 || command -v ping >/dev/null 2>&1 ||
    { echo "neither ping nor perl Net::Ping available"; return 1; }
  ip netns list >/dev/null 2>&1 || { echo "'ip netns' does not work"; return 1; }
  [[ -d /usr/share/dbus-1 || -d /etc/dbus-1 ]] || { echo "no dbus system configuration"; return 1; }
  # a throw-away namespace proves netns + veth + bridge + nft + tmpfs mounts work here
  if ! c=$(timeout 10 unshare -n -m --propagation private sh -c '
        ip link add lyprobe0 type veth peer name lyprobe1 || { echo "cannot create veth pairs"; exit 1; }
        ip link add lyprobe2 type bridge || { echo "cannot create bridges"; exit 1; }
        nft add table inet lyprobe || { echo "nftables does not work"; exit 1; }
        mount -t tmpfs lanyard-probe /mnt || { echo "cannot mount tmpfs in a mount namespace"; exit 1; }
      ' 2>&1); then
    echo "network namespaces unusable: ${c:-unshare -n -m failed}" | tr '\n' ' '; echo
    return 1
  fi
  return 0
}

# ---------------------------------------------------------------------------------------
# daemons: one dbus-daemon + avahi-daemon per host, in a private mount namespace

# Runs inside the host's netns and the daemons' mount namespace. $1 = host state dir.
# shellcheck disable=SC2016
_LAB_AVAHI_START='
d=$1
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$d/system_bus_socket
rm -f /run/avahi-daemon/pid
setsid avahi-daemon --no-drop-root --no-chroot --no-rlimits -f "$d/avahi.conf" </dev/null >>"$d/avahi.log" 2>&1 &
echo $! >"$d/avahi.pid"
'
# shellcheck disable=SC2016
_LAB_DAEMONS_START='
set -e
d=$1
mount -t tmpfs -o mode=0755,size=4m lanyard-lab /run/dbus
mount -t tmpfs -o mode=0755,size=4m lanyard-lab /run/avahi-daemon
# never publish the machine'"'"'s own static services
if [ -d /etc/avahi/services ]; then mount -t tmpfs -o mode=0755,size=1m lanyard-lab /etc/avahi/services; fi
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$d/system_bus_socket
dbus-daemon --system --fork --address="$DBUS_SYSTEM_BUS_ADDRESS" --print-pid=3 3>"$d/dbus.pid" </dev/null >>"$d/dbus.log" 2>&1
# clients that ignore DBUS_SYSTEM_BUS_ADDRESS but run in this mount namespace still find it
ln -sf "$d/system_bus_socket" /run/dbus/system_bus_socket
'"$_LAB_AVAHI_START"

_lab_avahi_conf() { # HOST
  local ifs
  case "$1" in
    phone) ifs=wlan0,p2p0,sap0 ;;
    accessory) ifs=wlan0,p2p0,ap0 ;;
  esac
  cat <<EOF
# generated by tests/lab/lab.sh for lab $LAB_ID, host $1
[server]
host-name=$(lab_hostname "$1")
domain-name=local
use-ipv4=yes
use-ipv6=yes
allow-interfaces=$ifs
enable-dbus=yes
disallow-other-stacks=no
ratelimit-interval-usec=1000000
ratelimit-burst=1000

[wide-area]
enable-wide-area=no

[publish]
publish-addresses=yes
publish-hinfo=no
publish-workstation=no
publish-domain=no
publish-aaaa-on-ipv4=yes
publish-a-on-ipv6=no

[reflector]
enable-reflector=no
EOF
}

_lab_daemons_start() { # HOST
  local host=$1 ns d
  ns=$(lab_ns "$host") || return 1
  d=$LAB_DIR/$host
  mkdir -p "$d" || return 1
  _lab_avahi_conf "$host" >"$d/avahi.conf" || return 1
  rm -f "$d/system_bus_socket" "$d/dbus.pid" "$d/avahi.pid"
  # mount points for the private tmpfs mounts (normally there already; created by systemd)
  mkdir -p /run/dbus /run/avahi-daemon || { _lab_err "cannot create /run/dbus, /run/avahi-daemon"; return 1; }
  timeout 15 ip netns exec "$ns" unshare -m --propagation slave bash -c "$_LAB_DAEMONS_START" lab-daemons "$d" \
    >>"$d/start.log" 2>&1 || { _lab_err "starting dbus/avahi for $host failed: $(tail -n 5 "$d/start.log" 2>/dev/null | tr '\n' ' ')"; return 1; }
  [[ -S $d/system_bus_socket ]] || { _lab_err "dbus-daemon for $host did not create $d/system_bus_socket"; return 1; }
}

_lab_pidfile_pid() { # FILE [expected comm substring]
  local p
  p=$(head -n1 "$1" 2>/dev/null) || return 1
  p=${p%% *}
  _lab_alive "$p" || return 1
  if [[ -n ${2:-} ]]; then tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q -- "$2" || return 1; fi
  echo "$p"
}

# lab_wait_avahi HOST [TIMEOUT_S=10]: wait until HOST's avahi-daemon answers on HOST's bus
# and has registered its host name (state RUNNING); also checks the daemon is the lab's.
lab_wait_avahi() {
  local host=${1:-} t=${2:-10} deadline out want
  case "$host" in phone | accessory) ;; *) _lab_err "lab_wait_avahi: host must be phone or accessory (got '$host')"; return 1 ;; esac
  _lab_need_lab || return 1
  deadline=$(($(_lab_now) + t * 1000000))
  while :; do
    out=$(lab_exec "$host" dbus-send --system --print-reply=literal --reply-timeout=1000 \
      --dest=org.freedesktop.Avahi / org.freedesktop.Avahi.Server.GetState 2>&1) || true
    [[ $out =~ int32\ 2$ ]] && break
    if [[ $out =~ int32\ ([34])$ ]]; then
      _lab_err "avahi on $host is in state ${BASH_REMATCH[1]} (3=collision, 4=failure); log: $LAB_DIR/$host/avahi.log"
      return 1
    fi
    if (($(_lab_now) > deadline)); then
      _lab_err "avahi on $host not running after ${t}s (last answer: ${out:-none}); log: $LAB_DIR/$host/avahi.log"
      return 1
    fi
    sleep 0.1
  done
  want=$(lab_hostname "$host")
  out=$(lab_exec "$host" dbus-send --system --print-reply=literal --reply-timeout=2000 \
    --dest=org.freedesktop.Avahi / org.freedesktop.Avahi.Server.GetHostName 2>&1) || true
  out=${out//[[:space:]]/}
  [[ $out == "$want" ]] || { _lab_err "bus of $host answers with host name '$out', expected '$want'"; return 1; }
}

# lab_avahi_stop HOST [SIGNAL=TERM]: stop (or e.g. KILL) HOST's avahi-daemon; waits until gone.
lab_avahi_stop() {
  local host=${1:-} sig=${2:-TERM} p i
  case "$host" in phone | accessory) ;; *) _lab_err "lab_avahi_stop: host must be phone or accessory"; return 1 ;; esac
  _lab_need_lab || return 1
  p=$(_lab_pidfile_pid "$LAB_DIR/$host/avahi.pid" avahi-daemon) || { _lab_log "avahi on $host is not running"; return 0; }
  kill -s "$sig" "$p" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do _lab_alive "$p" || return 0; sleep 0.1; done
  kill -s KILL "$p" 2>/dev/null || true
  for ((i = 0; i < 20; i++)); do _lab_alive "$p" || return 0; sleep 0.1; done
  _lab_err "avahi-daemon $p on $host does not die"
}

# lab_avahi_start HOST [TIMEOUT_S=10]: (re)start HOST's avahi-daemon and wait until it runs.
# Uses the existing dbus-daemon (and its mount namespace); starts both if dbus is gone too.
lab_avahi_start() {
  local host=${1:-} d dp ns
  case "$host" in phone | accessory) ;; *) _lab_err "lab_avahi_start: host must be phone or accessory"; return 1 ;; esac
  _lab_need_lab || return 1
  d=$LAB_DIR/$host
  if _lab_pidfile_pid "$d/avahi.pid" avahi-daemon >/dev/null; then
    _lab_log "avahi on $host already running"
  elif dp=$(_lab_pidfile_pid "$d/dbus.pid" dbus-daemon); then
    timeout 10 nsenter -t "$dp" -m -n bash -c "$_LAB_AVAHI_START" lab-avahi "$d" >>"$d/start.log" 2>&1 ||
      { _lab_err "restarting avahi for $host failed (see $d/start.log)"; return 1; }
  else
    ns=$(lab_ns "$host") || return 1
    [[ -e /run/netns/$ns ]] || { _lab_err "namespace $ns is gone"; return 1; }
    _lab_daemons_start "$host" || return 1
  fi
  lab_wait_avahi "$host" "${2:-10}"
}

# ---------------------------------------------------------------------------------------
# bring-up

# lab_up: build a fresh lab; exports LAB_ID and LAB_DIR. The lab belongs to
# ${LAB_OWNER_PID:-$$}: when that process is dead, lab_reap_stale removes the lab.
lab_up() {
  local t0 id i owner ost
  t0=$(_lab_now)
  if [[ -n ${LAB_ID:-} && -d ${LAB_DIR:-/nonexistent} ]]; then
    _lab_err "a lab ($LAB_ID) is already up in this shell; lab_down first"; return 1
  fi
  [[ $(id -u) == 0 ]] || { _lab_err "lab_up needs root"; return 1; }
  lab_reap_stale || true
  mkdir -p "$LAB_ROOT" || { _lab_err "cannot create $LAB_ROOT"; return 1; }
  owner=${LAB_OWNER_PID:-$$}
  ost=$(_lab_starttime "$owner") || { _lab_err "owner pid $owner not found"; return 1; }
  id=
  for ((i = 0; i < 50; i++)); do
    # short: namespace names are "$LAB_ID-accessory"; the pid part keeps parallel runs apart,
    # mkdir makes the choice atomic.
    id="ly$$x$RANDOM"
    mkdir -m 0755 "$LAB_ROOT/$id" 2>/dev/null && break
    id=
  done
  [[ -n $id ]] || { _lab_err "could not allocate a lab id under $LAB_ROOT"; return 1; }
  export LAB_ID=$id LAB_DIR=$LAB_ROOT/$id
  # atomic, so a concurrent lab_reap_stale never sees a half-written owner
  if ! { echo "$owner $ost" >"$LAB_DIR/.owner" && mv -f "$LAB_DIR/.owner" "$LAB_DIR/owner"; }; then
    _lab_err "cannot write $LAB_DIR/owner"
    rm -rf -- "$LAB_DIR"
    unset LAB_ID LAB_DIR
    return 1
  fi
  : >"$LAB_DIR/pids"
  if ! _lab_build; then
    _lab_log "lab_up failed; tearing down $LAB_ID"
    lab_down
    return 1
  fi
  _lab_log "lab $LAB_ID up in $(_lab_ms_since "$t0") ms (state: $LAB_DIR)"
}

_lab_fail_at() { # test hook: LANYARD_LAB_FAIL_AT=netns|links|daemons
  if [[ ${LANYARD_LAB_FAIL_AT:-} == "$1" ]]; then _lab_err "failing on purpose after '$1' (LANYARD_LAB_FAIL_AT)"; return 1; fi
}

# interfaces of each host, in configuration order (routers first so gateways exist)
_lab_host_ifs() {
  case "$1" in
    wan) echo "cell0 uplink inet0" ;;
    cloud) echo "eth0" ;;
    accessory) echo "wlan0 p2p0 ap0" ;;
    phone) echo "wlan0 p2p0 cell0 sap0" ;;
  esac
}

_lab_build() {
  local h ns l a b c d i
  for h in "${_LAB_HOSTS[@]}"; do echo "$LAB_ID-$h"; done >"$LAB_DIR/netns"
  for h in "${_LAB_HOSTS[@]}"; do echo "netns add $LAB_ID-$h"; done | ip -batch - ||
    { _lab_err "ip netns add failed"; return 1; }
  for h in "${_LAB_HOSTS[@]}"; do
    ns=$LAB_ID-$h
    # no DAD (no tentative addresses), no RAs, static v6 addresses survive link down,
    # no reverse-path filter (phone's cell0 path to the LAN is asymmetric by design)
    local -a s=(
      net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
      net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0
      net.ipv6.conf.all.keep_addr_on_down=1 net.ipv6.conf.default.keep_addr_on_down=1
      net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
    )
    case $h in
      wan) s+=(net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1) ;;
      lan) s+=(net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1) ;;
    esac
    ip netns exec "$ns" sysctl -q -w "${s[@]}" >/dev/null || { _lab_err "sysctl in $ns failed"; return 1; }
  done
  _lab_fail_at netns || return 1

  # links: each veth is created from its first host straight into the peer's namespace
  {
    echo "link set lo up"
    echo "link add br0 type bridge mcast_snooping 0 stp_state 0 forward_delay 0"
  } | _lab_batch "$LAB_ID-lan" || return 1
  echo "link set lo up" | _lab_batch "$LAB_ID-cloud" || return 1
  for h in phone accessory wan; do
    {
      echo "link set lo up"
      for l in "${_LAB_LINKS[@]}"; do
        read -r a b c d <<<"$l"
        if [[ $a == "$h" ]]; then echo "link add $b type veth peer name $d netns $LAB_ID-$c"; fi
      done
    } | _lab_batch "$LAB_ID-$h" || return 1
  done
  {
    for l in "${_LAB_LINKS[@]}"; do
      read -r a b c d <<<"$l"
      if [[ $c == lan ]]; then echo "link set dev $d master br0 up"; fi
    done
    echo "link set dev br0 up"
  } | _lab_batch "$LAB_ID-lan" || return 1
  _lab_fail_at links || return 1

  # addresses, up, routes; sap0 stays DOWN (the SoftAP is not joined yet)
  for h in wan cloud accessory phone; do
    for i in $(_lab_host_ifs "$h"); do
      _lab_if_addrs "$h" "$i"
      [[ $h/$i == phone/sap0 ]] && continue
      echo "link set dev $i up"
      _lab_if_routes "$h" "$i"
    done | _lab_batch "$LAB_ID-$h" || return 1
  done

  _lab_daemons_start phone || return 1
  _lab_daemons_start accessory || return 1
  _lab_fail_at daemons || return 1
  _lab_wait_settled phone 5 wlan0 p2p0 cell0 || return 1
  _lab_wait_settled accessory 5 wlan0 p2p0 || return 1 # ap0: no carrier until sap0 is up
  lab_wait_avahi phone 10 || return 1
  lab_wait_avahi accessory 10 || return 1
}

# wait until no IPv6 address is tentative and the given interfaces have carrier
_lab_wait_settled() { # HOST TIMEOUT_S IF...
  local host=$1 t=$2 ns deadline i missing
  shift 2
  ns=$(lab_ns "$host") || return 1
  deadline=$(($(_lab_now) + t * 1000000))
  while :; do
    missing=
    for i in "$@"; do
      ip -n "$ns" -o link show dev "$i" 2>/dev/null | grep -q 'LOWER_UP' || missing+=" $i"
    done
    [[ -n $(ip -n "$ns" -6 addr show tentative 2>/dev/null) ]] && missing+=" (tentative IPv6 addresses)"
    [[ -z $missing ]] && return 0
    (($(_lab_now) > deadline)) && { _lab_err "$host: no carrier/still tentative after $t s:$missing"; return 1; }
    sleep 0.05
  done
}

# ---------------------------------------------------------------------------------------
# running things

_lab_env() { # HOST -> prints env assignments for that host
  case "$1" in
    phone | accessory) echo "DBUS_SYSTEM_BUS_ADDRESS=unix:path=$LAB_DIR/$1/system_bus_socket" ;;
    # hosts without a bus: point at nothing, so nobody reaches the machine's own bus by accident
    *) echo "DBUS_SYSTEM_BUS_ADDRESS=unix:path=$LAB_DIR/$1-has-no-bus" ;;
  esac
  echo "LAB_HOST=$1"
}

# lab_exec HOST CMD [ARGS...]: run CMD in HOST's netns (foreground), talking to HOST's
# avahi through HOST's system bus (DBUS_SYSTEM_BUS_ADDRESS). Returns CMD's status.
lab_exec() {
  local host=${1:-} ns
  ns=$(lab_ns "$host") || return 1
  shift
  (($# > 0)) || { _lab_err "lab_exec $host: no command"; return 1; }
  local -a envs
  mapfile -t envs < <(_lab_env "$host")
  ip netns exec "$ns" env "${envs[@]}" "$@"
}

# lab_spawn HOST LOGFILE CMD [ARGS...]: like lab_exec, in the background, in its own session;
# stdout+stderr appended to LOGFILE. Prints the pid; lab_down kills it.
lab_spawn() {
  local host=${1:-} log=${2:-} ns pid st
  ns=$(lab_ns "$host") || return 1
  [[ -n $log ]] || { _lab_err "lab_spawn $host: missing log file"; return 1; }
  shift 2
  (($# > 0)) || { _lab_err "lab_spawn $host: no command"; return 1; }
  local -a envs
  mapfile -t envs < <(_lab_env "$host")
  setsid ip netns exec "$ns" env "${envs[@]}" "$@" </dev/null >>"$log" 2>&1 &
  pid=$!
  st=$(_lab_starttime "$pid") || st=-
  echo "$pid $st $host" >>"$LAB_DIR/pids"
  echo "$pid"
}

# lab_ll HOST IF: IPv6 link-local address of IF (no scope suffix).
lab_ll() {
  local ns a
  _lab_need_if "${1:-}" "${2:-}" || return 1
  ns=$(lab_ns "$1")
  a=$(ip -n "$ns" -6 -o addr show dev "$2" scope link | awk '{print $4; exit}')
  [[ -n $a ]] || { _lab_err "$1 $2 has no IPv6 link-local address (is it up?)"; return 1; }
  echo "${a%/*}"
}

# lab_ping HOST IF ADDR [TRIES=3]: ICMP echo from HOST bound to IF (SO_BINDTODEVICE);
# link-local IPv6 gets IF as scope. Uses ping(8) if present, else perl Net::Ping.
lab_ping() {
  local host=${1:-} ifc=${2:-} addr=${3:-} tries=${4:-3} fam=4 i
  _lab_need_if "$host" "$ifc" || return 1
  [[ -n $addr ]] || { _lab_err "lab_ping: missing address"; return 1; }
  [[ $addr == *:* ]] && fam=6
  [[ $fam == 6 && ${addr,,} == fe80:* && $addr != *%* ]] && addr="$addr%$ifc"
  for ((i = 0; i < tries; i++)); do
    if command -v ping >/dev/null 2>&1; then
      lab_exec "$host" ping "-$fam" -n -q -c 1 -W 2 -I "$ifc" "$addr" >/dev/null 2>&1 && return 0
    else
      # shellcheck disable=SC2016
      lab_exec "$host" perl -MNet::Ping -e '
        my ($if, $a, $f) = @ARGV;
        my $p = Net::Ping->new($f == 6 ? "icmpv6" : "icmp", 2, 56, $if, undef, undef, $f == 6 ? "ipv6" : "ipv4");
        exit($p->ping($a) ? 0 : 1);' "$ifc" "$addr" "$fam" 2>/dev/null && return 0
    fi
  done
  _lab_err "ping from $host via $ifc to $addr failed ($tries tries)"
}

# ---------------------------------------------------------------------------------------
# faults

# lab_link_down HOST IF / lab_link_up HOST IF: admin down/up of HOST's IF. lab_link_up
# re-applies the interface's addresses and routes (the kernel drops routes on down).
lab_link_down() {
  _lab_need_if "${1:-}" "${2:-}" || return 1
  ip -n "$(lab_ns "$1")" link set dev "$2" down || { _lab_err "cannot set $1 $2 down"; return 1; }
}
lab_link_up() {
  _lab_need_if "${1:-}" "${2:-}" || return 1
  _lab_if_apply "$1" "$2" up || return 1
  _lab_wait_carrier "$1" "$2" 5 || true
}

_lab_wait_carrier() { # HOST IF TIMEOUT_S (returns 1 on timeout, e.g. peer is down)
  local ns deadline
  ns=$(lab_ns "$1") || return 1
  deadline=$(($(_lab_now) + $3 * 1000000))
  while ! ip -n "$ns" -o link show dev "$2" 2>/dev/null | grep -q 'LOWER_UP'; do
    (($(_lab_now) > deadline)) && return 1
    sleep 0.05
  done
}

# lab_carrier_down HOST IF / lab_carrier_up HOST IF: take the FAR end of HOST's IF down/up,
# so HOST sees carrier loss (IF stays admin-up, like an access point vanishing).
lab_carrier_down() {
  local peer
  _lab_need_if "${1:-}" "${2:-}" || return 1
  peer=$(_lab_peer "$1" "$2")
  [[ -n $peer ]] || { _lab_err "$1 $2 has no veth peer"; return 1; }
  # shellcheck disable=SC2086
  lab_link_down $peer
}
lab_carrier_up() {
  local peer
  _lab_need_if "${1:-}" "${2:-}" || return 1
  peer=$(_lab_peer "$1" "$2")
  [[ -n $peer ]] || { _lab_err "$1 $2 has no veth peer"; return 1; }
  # shellcheck disable=SC2086
  lab_link_up $peer
}

# SoftAP: the phone "joins" the accessory's access point by bringing sap0 up.
lab_join_softap() {
  lab_link_up phone sap0 || return 1
  _lab_wait_carrier phone sap0 5 || { _lab_err "sap0 has no carrier (is accessory ap0 down?)"; return 1; }
}
lab_leave_softap() { lab_link_down phone sap0; }

_lab_nft_table() { # KIND HOST IF
  local n="lanyard_${LAB_ID}_$1_$2_$3"
  echo "${n//[^A-Za-z0-9_]/_}"
}

# Install (RULE non-empty) or remove a netdev ingress filter named after KIND, HOST and IF on
# HOST:IF only (RULE may hold several lines).
_lab_nft_one() { # KIND HOST IF RULE [TABLE-HOST TABLE-IF]
  local kind=$1 host=$2 ifc=$3 rule=$4 t ns
  _lab_need_if "$host" "$ifc" || return 1
  t=$(_lab_nft_table "$kind" "${5:-$host}" "${6:-$ifc}")
  ns=$(lab_ns "$host") || return 1
  if [[ -n $rule ]]; then
    echo "$ns $t" >>"$LAB_DIR/nft"
    ip netns exec "$ns" nft -f - <<EOF || { _lab_err "nft on $host $ifc failed"; return 1; }
table netdev $t
delete table netdev $t
table netdev $t {
  chain ingress {
    type filter hook ingress device "$ifc" priority -500; policy accept;
    $rule
  }
}
EOF
  else
    ip netns exec "$ns" nft delete table netdev "$t" 2>/dev/null || true
  fi
}

# Install (RULE non-empty) or remove a netdev ingress filter on HOST:IF and on its veth
# peer, so both directions are affected and senders get no local error (silent).
_lab_nft_both() { # KIND HOST IF RULE
  local kind=$1 host=$2 ifc=$3 rule=$4 peer h i l
  _lab_need_if "$host" "$ifc" || return 1
  peer=$(_lab_peer "$host" "$ifc")
  local -a ends=("$host $ifc")
  [[ -n $peer ]] && ends+=("$peer")
  for l in "${ends[@]}"; do
    read -r h i <<<"$l"
    _lab_nft_one "$kind" "$h" "$i" "$rule" "$host" "$ifc" || return 1
  done
}

# lab_blackhole HOST IF / lab_unblackhole HOST IF: silently drop everything (IP, ARP, NDP)
# in and out of HOST's IF. The link stays up; sends "succeed"; nothing arrives.
lab_blackhole() { _lab_nft_both bh "${1:-}" "${2:-}" "counter drop"; }
lab_unblackhole() { _lab_nft_both bh "${1:-}" "${2:-}" ""; }

# lab_cell_home off|on: whether the phone's cell0 reaches the home LAN (the accessory's wlan0)
# through the wan router. Real carriers do not route into a home behind its router: "off" drops
# what the wan router would forward between cell0 and the LAN, both ways, so cell0 reaches only
# the cloud host (the relay's broker). "on" (the state after lab_up) is the lab's shortcut the
# path tests use to have a third path.
lab_cell_home() {
  case ${1:-} in
    off)
      _lab_nft_one home wan cell0 "ip daddr 198.18.1.0/24 counter drop
    ip6 daddr 2001:2:0:1::/64 counter drop" || return 1
      _lab_nft_one home wan uplink "ip daddr 198.18.3.0/24 counter drop
    ip6 daddr 2001:2:0:3::/64 counter drop" ;;
    on)
      _lab_nft_one home wan cell0 "" && _lab_nft_one home wan uplink "" ;;
    *) _lab_err "lab_cell_home: off or on (got '${1:-}')" ;;
  esac
}

# lab_loss HOST IF PERCENT: drop PERCENT % of frames in EACH direction on HOST's IF
# (so a round trip survives with (1-p)^2). PERCENT 0 removes the loss.
lab_loss() {
  local p=${3:-}
  if ! [[ $p =~ ^[0-9]+$ ]] || ((p > 100)); then _lab_err "lab_loss: PERCENT must be 0..100 (got '$p')"; return 1; fi
  if ((p == 0)); then
    _lab_nft_both loss "${1:-}" "${2:-}" ""
  else
    _lab_nft_both loss "${1:-}" "${2:-}" "numgen random mod 100 < $p counter drop"
  fi
}

# lab_rate HOST IF RATE|off: token-bucket rate limit (tc tbf), both directions, e.g. 1mbit.
lab_rate() {
  local host=${1:-} ifc=${2:-} rate=${3:-} peer h i l ns
  _lab_need_if "$host" "$ifc" || return 1
  [[ -n $rate ]] || { _lab_err "lab_rate: missing RATE (e.g. 1mbit, or off)"; return 1; }
  peer=$(_lab_peer "$host" "$ifc")
  local -a ends=("$host $ifc")
  [[ -n $peer ]] && ends+=("$peer")
  for l in "${ends[@]}"; do
    read -r h i <<<"$l"
    ns=$(lab_ns "$h") || return 1
    if [[ $rate == off ]]; then
      ip netns exec "$ns" tc qdisc del dev "$i" root 2>/dev/null || true
    else
      ip netns exec "$ns" tc qdisc replace dev "$i" root tbf rate "$rate" burst 16kb latency 200ms ||
        { _lab_err "tc tbf on $h $i failed"; return 1; }
    fi
  done
}

# ---------------------------------------------------------------------------------------
# teardown

# pids of all processes in the given named namespaces (one scan of /proc)
_lab_ns_pids() { # NS...
  local -a paths=() ns
  local inos
  for ns in "$@"; do [[ -e /run/netns/$ns ]] && paths+=("/run/netns/$ns"); done
  ((${#paths[@]})) || return 0
  inos=$(stat -L -c %i "${paths[@]}" 2>/dev/null) || true
  [[ -n $inos ]] || return 0
  stat -L -c '%i %n' /proc/[0-9]*/ns/net 2>/dev/null |
    awk -v inos="$inos" 'BEGIN { n = split(inos, a, "\n"); for (i = 1; i <= n; i++) want[a[i]] = 1 }
                         ($1 in want) { split($2, p, "/"); print p[3] }' || true
}

# kill every process in the given namespaces (TERM, then KILL)
_lab_kill_ns_procs() { # NS...
  local round pids
  for ((round = 0; round < 60; round++)); do
    pids=$(_lab_ns_pids "$@" | tr '\n' ' ')
    [[ -z ${pids// /} ]] && return 0
    if ((round == 0)); then
      # shellcheck disable=SC2086
      kill -TERM $pids 2>/dev/null || true
    elif ((round == 30)); then
      # shellcheck disable=SC2086
      kill -KILL $pids 2>/dev/null || true
    fi
    sleep 0.05
  done
  _lab_log "warning: processes still in $* after KILL: $pids"
}

# Tear down the lab whose state dir is DIR. Never fails; works on half-built labs.
_lab_teardown_dir() { # DIR
  local dir=$1 id ns p st rest t
  id=${dir%/}
  id=${id##*/}
  [[ $id =~ ^ly[0-9]+x[0-9]+$ ]] || { _lab_log "refusing to tear down '$dir' (not a lab dir)"; return 0; }
  local -a nss=()
  for p in "${_LAB_HOSTS[@]}"; do nss+=("$id-$p"); done
  # spawned processes first (normally inside the namespaces anyway; pid+starttime guards reuse)
  if [[ -r $dir/pids ]]; then
    while read -r p st rest; do
      [[ -n $p ]] && _lab_alive "$p" "$st" && kill -TERM "$p" 2>/dev/null
    done <"$dir/pids"
  fi
  _lab_kill_ns_procs "${nss[@]}"
  # nft tables the lab created (they would also vanish with their namespace)
  if [[ -r $dir/nft ]]; then
    sort -u "$dir/nft" | while read -r ns t; do
      [[ -e /run/netns/$ns ]] && ip netns exec "$ns" nft delete table netdev "$t" 2>/dev/null
    done
  fi
  for ns in "${nss[@]}"; do
    [[ -e /run/netns/$ns ]] || continue
    ip netns del "$ns" 2>/dev/null || _lab_log "warning: ip netns del $ns failed"
  done
  if [[ -r $dir/pids ]]; then
    while read -r p st rest; do
      [[ -n $p ]] && _lab_alive "$p" "$st" && kill -KILL "$p" 2>/dev/null
    done <"$dir/pids"
  fi
  rm -rf -- "$dir"
  return 0
}

# lab_down: tear the current lab down. Idempotent; never fails; fine on a half-built lab.
lab_down() {
  local dir=${LAB_DIR:-}
  [[ -n $dir && -d $dir ]] || return 0
  (
    set +e
    exec 9>>"$dir/lock" || exit 0
    flock -w 30 9 || true
    _lab_teardown_dir "$dir"
  ) || true
  return 0
}

# lab_reap_stale: remove labs whose owner process is dead (e.g. a run killed with SIGKILL),
# and lab namespaces whose state dir vanished. Labs marked to keep (LANYARD_LAB_KEEP) stay.
lab_reap_stale() {
  local d id p st age ns
  if [[ -d $LAB_ROOT ]]; then
    for d in "$LAB_ROOT"/ly*; do
      [[ -d $d ]] || continue
      id=${d##*/}
      [[ $id =~ ^ly[0-9]+x[0-9]+$ ]] || continue
      [[ -e $d/keep ]] && continue
      if [[ -s $d/owner ]]; then
        read -r p st <"$d/owner" || true
        _lab_alive "${p:-x}" "${st:-}" && continue
      else
        # being created right now? (the owner file follows mkdir immediately)
        age=$(($(date +%s) - $(stat -c %Y "$d" 2>/dev/null || echo 0)))
        ((age < 60)) && continue
      fi
      (
        set +e
        { exec 9>>"$d/lock"; } 2>/dev/null || exit 0
        flock -n 9 || exit 0
        [[ -d $d ]] || exit 0
        _lab_log "reaping stale lab $id (owner ${p:-?} is gone)"
        _lab_teardown_dir "$d"
      ) || true
    done
  fi
  # namespaces of a lab whose state dir is gone (state dir is created before and removed
  # after the namespaces, so such a namespace is always an orphan)
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
    [[ $ns =~ ^(ly[0-9]+x[0-9]+)-(phone|accessory|wan|lan|cloud)$ ]] || continue
    id=${BASH_REMATCH[1]}
    [[ -d $LAB_ROOT/$id ]] && continue
    _lab_log "reaping orphan namespace $ns"
    _lab_kill_ns_procs "$ns"
    ip netns del "$ns" 2>/dev/null || true
  done
  return 0
}

# lab_attach ID: make the current shell use an existing lab (for debugging a kept lab).
lab_attach() {
  local id=${1:-${LAB_ID:-}}
  [[ -n $id ]] || { _lab_err "lab_attach: which lab? (lab.sh list)"; return 1; }
  [[ -d $LAB_ROOT/$id ]] || { _lab_err "no lab $id under $LAB_ROOT"; return 1; }
  export LAB_ID=$id LAB_DIR=$LAB_ROOT/$id
}

# lab_list: one line per lab on this machine: ID OWNER-PID STATE
lab_list() {
  local d p st state
  for d in "$LAB_ROOT"/ly*; do
    [[ -d $d ]] || continue
    p='?' st=
    [[ -r $d/owner ]] && read -r p st <"$d/owner"
    if [[ -e $d/keep ]]; then state=kept
    elif _lab_alive "$p" "$st"; then state=running
    else state=stale; fi
    echo "${d##*/} $p $state"
  done
}

# ---------------------------------------------------------------------------------------
# self-test: teardown leaves nothing behind (used by CTest lab.teardown_leaves_nothing)

_lab_snapshot() { # prints facts about the current lab, to be checked after teardown
  local h ns f t p st rest
  echo "id $LAB_ID"
  for h in "${_LAB_HOSTS[@]}"; do
    ns=$LAB_ID-$h
    if [[ -e /run/netns/$ns ]]; then echo "nsino $(stat -L -c %i "/run/netns/$ns") $ns"; fi
    for t in $(ip netns exec "$ns" nft list tables 2>/dev/null | awk '{print $3}'); do echo "nft $ns $t"; done
  done
  for f in "$LAB_DIR"/*/dbus.pid "$LAB_DIR"/*/avahi.pid; do
    [[ -r $f ]] || continue
    p=$(head -n1 "$f")
    echo "pid $p $(_lab_starttime "$p") $f"
  done
  while read -r p st rest; do if [[ -n $p ]]; then echo "pid $p $st spawned"; fi; done <"$LAB_DIR/pids"
  return 0
}

_lab_check_gone() { # SNAPSHOT-FILE ; prints problems, returns 1 if any
  local snap=$1 id bad=0 k a b c
  id=$(awk '$1=="id"{print $2}' "$snap")
  [[ -n $id ]] || { echo "snapshot without id"; return 1; }
  [[ -e $LAB_ROOT/$id ]] && { echo "state dir $LAB_ROOT/$id still exists"; bad=1; }
  if ip netns list | awk '{print $1}' | grep -q "^$id-"; then echo "namespaces left: $(ip netns list | grep "^$id-" | tr '\n' ' ')"; bad=1; fi
  while read -r k a b c; do
    case $k in
      nsino)
        # the namespace itself must be gone, not merely unnamed (no process in it, no bind
        # mount of it in any mount namespace)
        if stat -L -c %i /proc/[0-9]*/ns/net 2>/dev/null | grep -qx "$a"; then echo "netns $b (inode $a) still has processes"; bad=1; fi
        if cat /proc/[0-9]*/mountinfo 2>/dev/null | grep -q "net:\[$a\]"; then echo "netns $b (inode $a) still mounted somewhere"; bad=1; fi ;;
      pid)
        if _lab_alive "$a" "$b"; then echo "process $a ($c) still alive: $(tr '\0' ' ' <"/proc/$a/cmdline" 2>/dev/null)"; bad=1; fi ;;
    esac
  done <"$snap"
  if pgrep -f -- "${id}[^0-9]" >/dev/null; then echo "processes mentioning $id: $(pgrep -af -- "${id}[^0-9]" | tr '\n' ';')"; bad=1; fi
  if nft list tables 2>/dev/null | grep -q -- "${id}_"; then echo "nft tables of $id in the root namespace"; bad=1; fi
  return $bad
}

lab_selftest_teardown() {
  local reason tmp rc=0 links_before links_after victim i snap t
  if ! reason=$(lab_can_run); then
    (lanyard_skip "no network lab here: $reason") # prints why; 77 or 1 as lanyard_skip decides
    return
  fi
  tmp=$(mktemp -d /tmp/lanyard-lab-selftest.XXXXXX)
  links_before=$(ip -o link show | awk -F': ' '{print $2}' | sort)
  t=$(_lab_now)
  _st_check() { # NAME SNAPSHOT
    local out
    if out=$(_lab_check_gone "$2"); then echo "ok: $1 ($(_lab_ms_since "$t") ms)"; else
      echo "FAIL: $1:"; printf '    %s\n' "$out"; rc=1; fi
    t=$(_lab_now)
  }

  # 1. lab_up + faults + a spawned process, then lab_down
  (
    set -e
    unset LAB_ID LAB_DIR
    LAB_OWNER_PID=$BASHPID
    export LAB_OWNER_PID
    lab_up
    lab_spawn accessory /dev/null sleep 300 >/dev/null
    lab_spawn phone /dev/null avahi-browse -rp _lanyard._tcp >/dev/null
    lab_blackhole phone wlan0
    lab_loss accessory p2p0 10
    lab_rate phone cell0 1mbit
    _lab_snapshot >"$tmp/1"
    lab_down
    lab_down # idempotent
  ) || { echo "FAIL: lab_up/lab_down sequence failed"; rc=1; }
  [[ -s $tmp/1 ]] && _st_check "lab_down removes everything" "$tmp/1"

  # 2. the owner is SIGKILLed mid-run; lab_reap_stale cleans up
  bash -c 'set -euo pipefail; source "$1"; unset LAB_ID LAB_DIR; lab_up
           lab_spawn accessory /dev/null sleep 300 >/dev/null; lab_blackhole phone wlan0
           _lab_snapshot >"$2/2.tmp"; mv "$2/2.tmp" "$2/2"; exec sleep 300' \
    selftest "$LAB_SH" "$tmp" </dev/null &
  victim=$!
  for ((i = 0; i < 300; i++)); do [[ -e $tmp/2 ]] && break; _lab_alive "$victim" || break; sleep 0.1; done
  if [[ -e $tmp/2 ]]; then
    kill -KILL "$victim"; wait "$victim" 2>/dev/null || true
    lab_reap_stale
    _st_check "SIGKILLed owner + lab_reap_stale removes everything" "$tmp/2"
  else
    echo "FAIL: SIGKILL variant: lab did not come up"; rc=1
    kill -KILL "$victim" 2>/dev/null || true; wait "$victim" 2>/dev/null || true
  fi

  # 3. half set up: lab_up fails after the daemons started, and cleans up after itself
  for snap in netns daemons; do
    (
      unset LAB_ID LAB_DIR
      LAB_OWNER_PID=$BASHPID LANYARD_LAB_FAIL_AT=$snap
      export LAB_OWNER_PID LANYARD_LAB_FAIL_AT
      if lab_up 2>"$tmp/3.err"; then echo "lab_up did not fail"; exit 1; fi
      echo "id $LAB_ID" >"$tmp/3-$snap"
    ) || rc=1
    [[ -s $tmp/3-$snap ]] && _st_check "lab_up failing after '$snap' cleans up" "$tmp/3-$snap"
  done

  # 4. state dir lost (rm -rf): lab_reap_stale still removes the namespaces and daemons
  (
    set -e
    unset LAB_ID LAB_DIR
    LAB_OWNER_PID=$BASHPID
    export LAB_OWNER_PID
    lab_up
    _lab_snapshot >"$tmp/4"
    rm -rf -- "$LAB_DIR"
  ) || { echo "FAIL: orphan variant: lab_up failed"; rc=1; }
  if [[ -s $tmp/4 ]]; then lab_reap_stale; _st_check "orphaned namespaces are reaped" "$tmp/4"; fi

  links_after=$(ip -o link show | awk -F': ' '{print $2}' | sort)
  if [[ $links_before != "$links_after" ]]; then
    echo "FAIL: interfaces in the root namespace changed:"; diff <(echo "$links_before") <(echo "$links_after") | sed 's/^/    /'; rc=1
  else
    echo "ok: no interface created or left in the root namespace"
  fi
  rm -rf -- "$tmp"
  ((rc == 0)) && echo "PASSED" || echo "FAILED"
  return $rc
}

# ---------------------------------------------------------------------------------------
# command-line use: lab.sh COMMAND [ARGS]

_lab_main() {
  local cmd=${1:-help}
  shift || true
  case $cmd in
    help | -h | --help)
      cat <<EOF
usage: lab.sh COMMAND [ARGS]        (as root; see tests/lab/README.md)
  can-run                 exit 0 if this machine can host a lab, else print why
  up                      build a lab that stays until 'down' (prints its LAB_ID)
  down [ID]               tear down lab ID (default: \$LAB_ID)
  list                    labs on this machine: ID OWNER STATE
  reap                    remove labs whose owner died
  exec ID HOST CMD...     run CMD on HOST of lab ID (e.g. exec ly123x45 phone bash)
  selftest-teardown       check that teardown leaves nothing behind (CTest)
  FUNC ARGS...            any lab_FUNC (link-down, blackhole, loss, ...) on lab \$LAB_ID
EOF
      ;;
    can-run) lab_can_run ;;
    up)
      LAB_OWNER_PID=$$ lab_up || return 1
      touch "$LAB_DIR/keep"
      echo "$LAB_ID"
      ;;
    down)
      lab_attach "${1:-}" || return 1
      lab_down
      ;;
    list) lab_list ;;
    reap) lab_reap_stale ;;
    exec)
      lab_attach "${1:-}" || return 1
      shift
      lab_exec "$@"
      ;;
    selftest-teardown) lab_selftest_teardown ;;
    *)
      local f="lab_${cmd//-/_}"
      declare -F "$f" >/dev/null || { _lab_err "unknown command '$cmd' (lab.sh help)"; return 2; }
      [[ -n ${LAB_ID:-} && -z ${LAB_DIR:-} ]] && export LAB_DIR=$LAB_ROOT/$LAB_ID
      "$f" "$@"
      ;;
  esac
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  set -euo pipefail
  _lab_main "$@"
fi
