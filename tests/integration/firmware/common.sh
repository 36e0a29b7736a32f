# shellcheck shell=bash
# Shared helpers for the firmware mDNS lab tests (sourced by each test after lab.sh): the
# embedded responder on real sockets (examples/firmware_lamp/firmware_mdns_publish) on the
# accessory, which runs NO avahi-daemon, against independent mDNS implementations on the phone.
# Needs PUBLISH (the firmware_mdns_publish binary) in the environment.
PUBLISH=${PUBLISH:?PUBLISH must name the firmware_mdns_publish binary}
[[ -x $PUBLISH ]] || { echo "FAILED: $PUBLISH not built"; exit 1; }
command -v jq >/dev/null || lanyard_skip "jq is not installed (apt-get install jq)"
# shellcheck disable=SC2034 # used by the tests that source this file
FIRMWARE_TESTS=$(dirname "${BASH_SOURCE[0]}")

# Lab addresses of the accessory's wlan0 (tests/lab/README.md).
# shellcheck disable=SC2034
{
  ACC_IPV4=198.18.1.3
  ACC_IPV6=2001:2:0:1::3
}

# no_avahi_on_accessory: stop the accessory's avahi-daemon and check that no avahi-daemon is
# left in its namespace: the responder under test is the only mDNS stack on that host.
no_avahi_on_accessory() {
  local p
  lab_avahi_stop accessory
  for p in $(ip netns pids "$(lab_ns accessory)"); do
    if [[ $(cat "/proc/$p/comm" 2>/dev/null) == avahi-daemon ]]; then
      echo "FAILED: avahi-daemon (pid $p) still runs on the accessory"
      exit 1
    fi
  done
}

# publish NAME ARGS...: firmware_mdns_publish on the accessory's wlan0 in the background;
# JSON to $LAB_DIR/NAME.json, stderr to $LAB_DIR/NAME.err. Its stdin is the FIFO
# $LAB_DIR/NAME.in, opened read-write by the publisher itself, so it never sees end of input
# and `txt_update NAME ...` never blocks. Prints the pid (lab_down kills it if the test does
# not).
publish() {
  local name=$1 fifo=$LAB_DIR/$1.in
  shift
  mkfifo "$fifo"
  # shellcheck disable=SC2016 # $0 and $@ belong to the inner bash
  lab_spawn accessory "$LAB_DIR/$name.err" bash -c 'exec "$0" "$@" <>"'"$fifo"'" >"'"$LAB_DIR/$name.json"'"' \
    "$PUBLISH" --interface wlan0 "$@"
}

# txt_update NAME STRINGS...: the publisher's new TXT record, through its stdin.
txt_update() {
  local fifo=$LAB_DIR/$1.in
  shift
  echo "$*" >"$fifo"
}

# wait_json NAME JQ_CONDITION [TIMEOUT_S=20]: until a JSON line of publisher NAME matches.
wait_json() {
  local file=$LAB_DIR/$1.json cond=$2 end=$((SECONDS + ${3:-20}))
  until [[ -f $file ]] && jq -e -s "any(.[]; $cond)" "$file" >/dev/null 2>&1; do
    if ((SECONDS >= end)); then
      echo "FAILED: publisher $1 printed no line matching '$cond' within ${3:-20}s; it printed:"
      cat "$file" "$LAB_DIR/$1.err" 2>/dev/null || true
      exit 1
    fi
    sleep 0.2
  done
}

# no_json NAME JQ_CONDITION: fails if a JSON line of publisher NAME matches.
no_json() {
  if jq -e -s "any(.[]; $2)" "$LAB_DIR/$1.json" >/dev/null 2>&1; then
    echo "FAILED: publisher $1 printed a line matching '$2':"
    cat "$LAB_DIR/$1.json"
    exit 1
  fi
}

# terminate WHAT PID: SIGTERM, then until the process has exited (or is a zombie), 10 s at most.
terminate() {
  local end=$((SECONDS + 10))
  kill -TERM "$2"
  while kill -0 "$2" 2>/dev/null && [[ $(cat "/proc/$2/stat" 2>/dev/null) != *") Z "* ]]; do
    ((SECONDS < end)) || { echo "FAILED: $1 (pid $2) still runs 10 s after SIGTERM"; exit 1; }
    sleep 0.1
  done
}

# stop_publisher NAME PID: SIGTERM, then until it has exited (it prints "stopped" last) with
# nothing on stderr from a sanitizer.
stop_publisher() {
  terminate "publisher $1" "$2"
  wait_json "$1" '.event=="stopped" and .goodbye_packets > 0' 1
  # Under ASan/UBSan (scripts/test's asan stage) a report, leaks at exit included, fails here.
  if grep -qE 'Sanitizer|runtime error' "$LAB_DIR/$1.err" 2>/dev/null; then
    echo "FAILED: publisher $1 has a sanitizer report:"
    cat "$LAB_DIR/$1.err"
    exit 1
  fi
}

# stop_lamp NAME PID: SIGTERM to the firmware lamp, then until it has exited; its "stopped"
# line must say that its loop made no C++ allocation (fixed memory: examples/firmware_lamp/
# allocation_count.hpp), and nothing may be on stderr from a sanitizer.
stop_lamp() {
  local count
  terminate "lamp $1" "$2"
  wait_json "$1" '.event=="stopped"' 2
  count=$(jq -s '[.[]|select(.event=="stopped")][0].allocations_after_start' "$LAB_DIR/$1.json")
  if [[ $count != 0 ]]; then
    echo "FAILED: lamp $1 made $count C++ allocations after start-up (fixed memory: none allowed;"
    echo "  FIRMWARE_LAMP_TRACE_ALLOCATIONS=FILE in the lamp's environment writes where they are)"
    exit 1
  fi
  if grep -qE 'Sanitizer|runtime error' "$LAB_DIR/$1.err" 2>/dev/null; then
    echo "FAILED: lamp $1 has a sanitizer report:"
    cat "$LAB_DIR/$1.err"
    exit 1
  fi
  echo "ok: lamp $1 stopped; no C++ allocation after start-up"
}

# avahi_escape NAME: how `avahi-browse -p` prints a service name (avahi_escape_label: letters,
# digits, '-' and '_' as they are; '.' and '\' behind a backslash; any other byte as \DDD).
avahi_escape() {
  local s=$1 out='' c i
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    case $c in
      [A-Za-z0-9_-]) out+=$c ;;
      . | \\) out+="\\$c" ;;
      *) out+=$(printf '\\%03d' "'$c") ;;
    esac
  done
  printf '%s\n' "$out"
}

# browse_line INSTANCE [PROTOCOL=IPv4]: the phone avahi-daemon's resolved line for INSTANCE on
# wlan0 ("=;wlan0;IPv4;NAME;_lanyard._tcp;local;HOST;ADDRESS;PORT;TXT"), from one
# `avahi-browse -rpt` run; empty if it is not listed.
browse_line() {
  local name
  name=$(avahi_escape "$1")
  lab_exec phone avahi-browse -rpt _lanyard._tcp 2>/dev/null >"$LAB_DIR/avahi-browse.txt" || true
  grep -F "=;wlan0;${2:-IPv4};$name;_lanyard._tcp;local;" "$LAB_DIR/avahi-browse.txt" | head -n1 || true
}

# wait_browse INSTANCE GREP_E_REGEX [TIMEOUT_S=20]: until browse_line INSTANCE matches the
# regex (anchored as the caller likes); prints the line.
wait_browse() {
  local line end=$((SECONDS + ${3:-20}))
  while :; do
    line=$(browse_line "$1")
    if [[ -n $line ]] && grep -Eq -- "$2" <<<"$line"; then
      printf '%s\n' "$line"
      return 0
    fi
    if ((SECONDS >= end)); then
      echo "FAILED: the phone's avahi-browse never showed '$1' matching /$2/ within ${3:-20}s;" \
        "last line: '${line}'; whole output:" >&2
      cat "$LAB_DIR/avahi-browse.txt" >&2
      exit 1
    fi
    sleep 0.3
  done
}

# wait_unlisted INSTANCE [TIMEOUT_S=10]: until avahi-browse on the phone no longer lists it.
wait_unlisted() {
  local name end=$((SECONDS + ${2:-10}))
  name=$(avahi_escape "$1")
  while lab_exec phone avahi-browse -pt _lanyard._tcp 2>/dev/null | grep -qF ";$name;_lanyard._tcp;"; do
    ((SECONDS < end)) || { echo "FAILED: '$1' still listed by avahi-browse after ${2:-10}s"; exit 1; }
    sleep 0.3
  done
}

pass() { echo "PASSED: $*"; }
