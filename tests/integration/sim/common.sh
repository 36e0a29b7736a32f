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
