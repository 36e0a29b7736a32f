# shellcheck shell=bash
# The one way a test script says it cannot run here (sourced by tests/lab/lab.sh and the
# integration tests' common.sh files).
#
# lanyard_skip REASON...: on a developer's machine, "SKIPPED: REASON" and exit 77, which CTest
# shows as skipped. Where tests are required to run (CI=true or LANYARD_LAB_REQUIRED=1, as
# scripts/test and .ci/run set them), "FAILED: ..." and exit 1: a CI run can never pass by
# skipping what it was meant to test.
lanyard_tests_required() {
  [[ ${CI:-} == true || ${LANYARD_LAB_REQUIRED:-0} == 1 ]]
}

lanyard_skip() {
  if lanyard_tests_required; then
    echo "FAILED: this test must run here (CI=${CI:-} LANYARD_LAB_REQUIRED=${LANYARD_LAB_REQUIRED:-}) but cannot: $*"
    exit 1
  fi
  echo "SKIPPED: $*"
  exit 77
}
