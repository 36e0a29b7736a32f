#!/bin/sh
# `lanyard trust` end to end: listing, showing and forgetting pins, JSON output, exit codes, and
# refusals of damaged or unsafe store files (which must never be modified).
set -u
LANYARD="${BUILD:?BUILD must name the build directory}/bin/lanyard"
CORPUS="${CORPUS:?CORPUS must name tests/fuzz/corpus/trust_store}"
# An unbuilt binary is a broken build, never a reason to skip.
[ -x "$LANYARD" ] || { echo "FAILED: $LANYARD is not built (cmake --build build)"; exit 1; }
command -v jq >/dev/null || { echo "FAILED: jq is not installed (scripts/bootstrap)"; exit 1; }

dir=$(mktemp -d /tmp/lanyard-cli-trust.XXXXXX)
trap 'rm -rf "$dir"' EXIT INT TERM
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# expect STATUS CMD...: runs CMD, keeps stdout in $out and stderr in $err.
expect() {
  want=$1; shift
  "$@" >"$dir/out" 2>"$dir/err"; got=$?
  out=$(cat "$dir/out"); err=$(cat "$dir/err")
  [ "$got" -eq "$want" ] || fail "'$*' exited $got, expected $want (stderr: $err)"
}
contains() { case "$1" in *"$2"*) ;; *) fail "expected '$2' in: $1" ;; esac; }
# shellcheck source=../../lib/error_event.sh
. "$(dirname "$0")/../../lib/error_event.sh"

store="$dir/state/trust-store"
expect 0 "$LANYARD" trust list --trust-store "$store"
contains "$out" "no devices pinned in $store"
[ ! -e "$dir/state" ] || fail "listing a missing store created files"

mkdir -m 700 "$dir/state"
cp "$CORPUS/three_devices" "$store" && chmod 600 "$store"

expect 0 "$LANYARD" trust list --trust-store "$store"
[ "$(printf '%s\n' "$out" | wc -l)" -eq 3 ] || fail "list printed: $out"
contains "$out" "c_dev  AMCA-KBQH-BAEQ-UCYM-BUHA-6EAR-CIJR-IFIW-C4MB-SGQ3-DQOR-4HZA-EERA  tofu"

expect 0 "$LANYARD" trust list --json --trust-store "$store"
contains "$out" '"device_id":"b.dev"'
contains "$out" '"pinned_by":"verified"'
contains "$out" '"name":"-dash 100% é\n\t"'

expect 0 "$LANYARD" trust show a:dev --trust-store "$store"
contains "$out" "pinned by:    verified against its setup payload"
contains "$out" "sha256:01:02:03"

expect 1 "$LANYARD" trust show nobody --trust-store "$store"
contains "$err" "lanyard trust: device \"nobody\" is not in the trust store $store"
expect 1 "$LANYARD" trust show nobody --trust-store "$store" --json
error_is .code lanyard.trust.unknown_device
error_is .fields.device_id nobody

expect 0 "$LANYARD" trust forget b.dev --trust-store "$store"
contains "$out" "forgot b.dev (AIBQ-IBIG-"
expect 0 "$LANYARD" trust list --trust-store "$store"
[ "$(printf '%s\n' "$out" | wc -l)" -eq 2 ] || fail "after forget, list printed: $out"
[ "$(stat -c %a "$store")" = 600 ] || fail "store mode is $(stat -c %a "$store") after forget"
expect 1 "$LANYARD" trust forget b.dev --trust-store "$store"

expect 2 "$LANYARD" trust frobnicate --trust-store "$store" --json
error_is .code lanyard.cli.bad_argument
expect 2 "$LANYARD" trust forget --trust-store "$store"
expect 2 "$LANYARD" trust list extra --trust-store "$store"

# A damaged store is an error naming file and line, and is left exactly as it was.
head -c 120 "$store" >"$dir/damaged" && chmod 600 "$dir/damaged"
cp "$dir/damaged" "$dir/damaged.orig"
expect 1 "$LANYARD" trust list --trust-store "$dir/damaged" --json
contains "$err" "$dir/damaged:2: the last line"
error_is .code lanyard.trust.store_corrupt
error_is .fields.file "$dir/damaged"
error_is .fields.line 2
expect 1 "$LANYARD" trust forget a:dev --trust-store "$dir/damaged"
cmp -s "$dir/damaged" "$dir/damaged.orig" || fail "forget modified a damaged store"

# A store others can write is refused.
chmod 666 "$store"
expect 1 "$LANYARD" trust list --trust-store "$store" --json
contains "$err" "is writable by group or others (mode 0666)"
error_is .code lanyard.trust.store_permissions
error_is .fields.mode 0666
chmod 600 "$store"

# Default location: $XDG_STATE_HOME, else ~/.local/state.
mkdir -p "$dir/xdg/lanyard" && cp "$store" "$dir/xdg/lanyard/trust-store"
expect 0 env XDG_STATE_HOME="$dir/xdg" "$LANYARD" trust list
contains "$out" "a:dev"
mkdir -p "$dir/home/.local/state/lanyard" && cp "$store" "$dir/home/.local/state/lanyard/"
env -u XDG_STATE_HOME HOME="$dir/home" "$LANYARD" trust show c_dev >"$dir/out" 2>&1 ||
  fail "default HOME location: $(cat "$dir/out")"

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "PASS"
