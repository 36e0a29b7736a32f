# shellcheck shell=bash
# Shared helpers of the link lab tests (sourced by them inside run-in-lab).
: "${BUILD:?BUILD must name the build directory (the CTest registration sets it)}"
export LINK_KINDS=wlan0=wifi,p2p0=p2p,cell0=cellular,sap0=wifi
export LINK_TEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# wait_json LOG JQ_FILTER [TIMEOUT_S=20]: waits until a JSON line of LOG matches the filter.
# (Polls for an event to arrive; no assertion depends on how long it takes.)
wait_json() {
  local log=$1 filter=$2 deadline=$((SECONDS + ${3:-20}))
  until grep '^{' "$log" 2>/dev/null | jq -e -s "map(select($filter)) | length > 0" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      echo "FAILED: no line matching [$filter] in $log:" >&2
      cat "$log" >&2
      return 1
    fi
    sleep 0.1
  done
}

# count_json LOG JQ_FILTER: how many JSON lines of LOG match the filter.
count_json() {
  grep '^{' "$1" | jq -s "map(select($2)) | length"
}

# expect_eq WHAT ACTUAL EXPECTED
expect_eq() {
  if [[ $2 != "$3" ]]; then
    echo "FAILED: $1: got [$2], expected [$3]" >&2
    return 1
  fi
  echo "ok: $1"
}
