# shellcheck shell=bash
# Shared helpers for the discovery lab tests (sourced by each test after lab.sh).
# Needs BUILD (the build directory) in the environment; LANYARD may point at another binary.
LANYARD=${LANYARD:-${BUILD:?BUILD must name the build directory}/bin/lanyard}
[[ -x $LANYARD ]] || { echo "FAILED: $LANYARD not built"; exit 1; }
command -v jq >/dev/null || lanyard_skip "jq is not installed (apt-get install jq)"
# The lab names its veths by kind (tests/lab/README.md).
export LANYARD_INTERFACE_KINDS=wlan0=wifi,p2p0=p2p,ap0=softap,sap0=softap,cell0=cellular

# matching FILE JQ_CONDITION: the JSON lines of FILE for which the condition holds (other
# lines, e.g. messages on stderr, are skipped).
matching() { [[ -f $1 ]] && jq -R -c "fromjson? | select($2)" "$1" 2>/dev/null || true; }

# count FILE JQ_CONDITION: how many lines match.
count() { matching "$1" "$2" | grep -c . || true; }

# wait_for FILE JQ_CONDITION [TIMEOUT_S=20] [N=1]: polls until at least N lines match.
wait_for() {
  local file=$1 cond=$2 timeout=${3:-20} n=${4:-1}
  local end=$((SECONDS + timeout))
  while ((SECONDS < end)); do
    (($(count "$file" "$cond") >= n)) && return 0
    sleep 0.2
  done
  echo "FAILED: no line matching '$cond' (x$n) in $file after ${timeout}s; it has:"
  cat "$file" 2>/dev/null || true
  return 1
}

# wait_for_text FILE REGEX [TIMEOUT_S=20]: polls until a line of FILE matches REGEX.
wait_for_text() {
  local file=$1 re=$2 timeout=${3:-20}
  local end=$((SECONDS + timeout))
  while ((SECONDS < end)); do
    grep -Eq -- "$re" "$file" 2>/dev/null && return 0
    sleep 0.2
  done
  echo "FAILED: no line matching /$re/ in $file after ${timeout}s; it has:"
  cat "$file" 2>/dev/null || true
  return 1
}

# browse_json HOST OUTFILE [ARGS...]: `lanyard browse --json` on HOST in the background,
# JSON to OUTFILE, messages to OUTFILE.err. Prints the pid.
browse_json() {
  local host=$1 out=$2
  shift 2
  lab_spawn "$host" "$out.err" bash -c 'exec "$0" browse "$@" --json > "'"$out"'"' \
    "$LANYARD" "$@"
}

# advertise HOST OUTFILE ARGS...: `lanyard advertise ARGS` on HOST in the background.
advertise() {
  local host=$1 out=$2
  shift 2
  lab_spawn "$host" "$out" "$LANYARD" advertise "$@"
}

# stop_pid PID: SIGINT, then wait for it to exit (≤ 5 s).
stop_pid() {
  kill -INT "$1" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  echo "FAILED: pid $1 did not exit after SIGINT"
  return 1
}

pass() { echo "PASSED: $*"; }
