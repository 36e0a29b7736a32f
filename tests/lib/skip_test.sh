#!/usr/bin/env bash
# lanyard_skip (skip.sh): exit 77 with "SKIPPED:" only where tests are not required; exit 1
# with "FAILED:" under CI=true or LANYARD_LAB_REQUIRED=1. scripts/test relies on this to fail a
# CI run that skipped anything.
set -uo pipefail
skip_sh=$(dirname "${BASH_SOURCE[0]}")/skip.sh
failures=0
check() { # EXPECTED_RC EXPECTED_PREFIX ENV...
  local want_rc=$1 want=$2 out rc
  shift 2
  out=$(env -u CI -u LANYARD_LAB_REQUIRED "$@" bash -c 'source "$1"; lanyard_skip "no frobnicator"; echo "not reached"' _ "$skip_sh")
  rc=$?
  if [[ $rc != "$want_rc" || $out != "$want"* || $out != *"no frobnicator" ]]; then
    echo "FAIL: with $* expected exit $want_rc and '$want...', got exit $rc: $out"
    failures=$((failures + 1))
  else
    echo "ok: $* -> $rc: $out"
  fi
}
check 77 "SKIPPED: "
check 77 "SKIPPED: " CI=false LANYARD_LAB_REQUIRED=0
check 1 "FAILED: " CI=true
check 1 "FAILED: " LANYARD_LAB_REQUIRED=1
exit $((failures > 0))
