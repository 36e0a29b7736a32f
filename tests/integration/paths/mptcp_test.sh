# Kernel MPTCP as the channel's transport: app (--mptcp) and accessory (--mptcp) run MPTCP end
# to end; against an accessory listening with plain TCP the app falls back to TCP on the same
# socket and the lines still arrive exactly once.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
if ! ip netns exec "$(lab_ns phone)" sysctl -n net.mptcp.enabled 2>/dev/null | grep -q 1; then
  lanyard_skip "this kernel has no MPTCP (net.mptcp.enabled is not 1)"
fi
ACCESSORY_ARGS=--mptcp start_accessory

printf 'a\nb\n' | connect "$LAB_DIR/m.json" --mptcp --timeout 30 ||
  { cat "$LAB_DIR/m.json" "$LAB_DIR/m.json.err"; echo "FAILED: connect --mptcp"; exit 1; }
jq -e -s '([.[]|select(.event=="message")|.text]==["a","b"]) and
  ([.[]|select(.event=="path")|.to.transport]==["mptcp"])' "$LAB_DIR/m.json" >/dev/null ||
  { cat "$LAB_DIR/m.json"; echo "FAILED: not MPTCP end to end"; exit 1; }
echo "ok: MPTCP end to end"

stop_accessory
ACCESSORY_ARGS= start_accessory
printf 'c\nd\n' | connect "$LAB_DIR/t.json" --mptcp --timeout 30 ||
  { cat "$LAB_DIR/t.json" "$LAB_DIR/t.json.err"; echo "FAILED: connect --mptcp to TCP"; exit 1; }
jq -e -s '([.[]|select(.event=="message")|.text]==["c","d"]) and
  ([.[]|select(.event=="path")|.to.transport]==["tcp"])' "$LAB_DIR/t.json" >/dev/null ||
  { cat "$LAB_DIR/t.json"; echo "FAILED: no fallback to TCP"; exit 1; }
echo "PASSED: MPTCP end to end, and fallback to TCP against a TCP accessory"
