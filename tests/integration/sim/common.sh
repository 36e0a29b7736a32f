# shellcheck shell=bash
# Helpers for the simulated accessory's tests (sourced). Needs BUILD.
SIM=${BUILD:?BUILD must name the build directory}/bin/lanyard-accessory-sim
SIM_APP=$BUILD/tests/sim_app
for t in "$SIM" "$SIM_APP"; do [[ -x $t ]] || { echo "FAILED: $t not built"; exit 1; }; done
command -v jq >/dev/null || lanyard_skip "jq is not installed (apt-get install jq)"

# count FILE JQ_CONDITION: how many JSON lines of FILE match (other lines are skipped).
count() {
  if [[ -f $1 ]]; then jq -R -c "fromjson? | select($2)" "$1" 2>/dev/null | grep -c . || true
  else echo 0; fi
}

# wait_for FILE JQ_CONDITION [TIMEOUT_S=20] [N=1]: polls until at least N lines match.
wait_for() {
  local file=$1 cond=$2 timeout=${3:-20} n=${4:-1}
  local end=$((SECONDS + timeout))
  while ((SECONDS < end)); do
    (($(count "$file" "$cond") >= n)) && return 0
    sleep 0.1
  done
  echo "FAILED: no line matching '$cond' (x$n) in $file after ${timeout}s; it has:"
  tail -n 40 "$file" 2>/dev/null || true
  return 1
}

# readings FILE: the n= of every sensor reading the app received, one per line, in order.
readings() {
  jq -R -r 'fromjson? | select(.event=="message") | .text | select(startswith("v1 reading"))
            | capture("n=(?<n>[0-9]+)").n' "$1"
}

# consecutive: stdin holds numbers; true if each is the previous + 1.
consecutive() { awk 'NR > 1 && $1 != prev + 1 { bad = 1 } { prev = $1 } END { exit bad }'; }

pass() { echo "PASSED: $*"; }

# The accessory's mDNS backend: LANYARD_SIM_MDNS=avahi (default: the accessory host's
# avahi-daemon) or builtin (the embedded responder, --mdns builtin; CTest's *.builtin_mdns
# tests). Pass "${SIM_MDNS_ARGS[@]}" to every `$SIM` run. The phone keeps its avahi-daemon.
SIM_MDNS=${LANYARD_SIM_MDNS:-avahi}
case $SIM_MDNS in
  avahi | builtin) ;;
  *) echo "FAILED: LANYARD_SIM_MDNS must be avahi or builtin, not '$SIM_MDNS'"; exit 1 ;;
esac
# shellcheck disable=SC2034 # used by the tests that source this file
SIM_MDNS_ARGS=(--mdns "$SIM_MDNS")

# sim_no_avahi_on_accessory: fails if an avahi-daemon runs in the accessory's namespace.
sim_no_avahi_on_accessory() {
  local p
  for p in $(ip netns pids "$(lab_ns accessory)"); do
    if [[ $(cat "/proc/$p/comm" 2>/dev/null) == avahi-daemon ]]; then
      echo "FAILED: avahi-daemon (pid $p) runs on the accessory in builtin mDNS mode"
      exit 1
    fi
  done
}

# sim_mdns_lab_setup: in builtin mode, stops the accessory's avahi-daemon (the lab starts one
# per host) and checks that none is left: the embedded responder must be the only mDNS stack
# there, so a simulator that silently used avahi would not be found.
sim_mdns_lab_setup() {
  [[ $SIM_MDNS == builtin ]] || return 0
  lab_avahi_stop accessory || { echo "FAILED: cannot stop the accessory's avahi-daemon"; exit 1; }
  sim_no_avahi_on_accessory
  echo "NOTE: builtin mDNS: the accessory runs no avahi-daemon"
}

# sim_mdns_check LOG: the simulator reported the backend asked for (every "ready" line of LOG),
# and in builtin mode still no avahi-daemon runs on the accessory.
sim_mdns_check() {
  local bad
  bad=$(jq -R -c --arg m "$SIM_MDNS" 'fromjson? | select(.event=="ready" and .mdns!=$m)' "$1")
  [[ -z $bad ]] || { echo "FAILED: the simulator did not use $SIM_MDNS mDNS: $bad"; exit 1; }
  [[ $SIM_MDNS == builtin ]] && sim_no_avahi_on_accessory
  pass "mDNS backend: $SIM_MDNS"
}
