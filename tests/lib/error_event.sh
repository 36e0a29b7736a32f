# error_is JQ-FILTER EXPECTED: checks the CLI's --json error event in $out
# ({"event":"error","code":...,"conditions":[...],"fields":{...},"exit":N}, src/cli/report.hpp),
# so a script asserts on the code and fields, not on the sentence meant for people. Calls the
# sourcing script's `fail` on a mismatch. POSIX sh; needs jq.
error_is() {
  _error_is_v=$(printf '%s' "$out" | jq -r "select(.event==\"error\") | $1" 2>/dev/null)
  [ "$_error_is_v" = "$2" ] ||
    fail "expected $1 == $2 in the error event, got '$_error_is_v' (stdout: $out)"
}
