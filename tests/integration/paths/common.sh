# Shared by the paths lab tests (sourced inside run-in-lab): start the echo accessory, pair the
# phone with it, and run `lanyard connect` on the phone with the lab's interface kinds.
LANYARD=${BUILD:?BUILD}/bin/lanyard
KINDS=wlan0=wifi,p2p0=p2p,cell0=cellular,sap0=softap,ap0=softap

# start_accessory: the echo accessory (ACCESSORY_ARGS, e.g. --mptcp, passed on); on its first
# start it prints a payload and the phone pairs with it.
start_accessory() {
  : >"$LAB_DIR/acc.log"
  # shellcheck disable=SC2086 # ACCESSORY_ARGS is a word list
  ACC_PID=$(lab_spawn accessory "$LAB_DIR/acc.log" env LANYARD_INTERFACE_KINDS=$KINDS \
    "$ACCESSORY" "$LAB_DIR/acc" 7443 ${ACCESSORY_ARGS:-})
  for _ in $(seq 100); do grep -q '^listening' "$LAB_DIR/acc.log" && break; sleep 0.1; done
  grep -q '^listening' "$LAB_DIR/acc.log" || { cat "$LAB_DIR/acc.log"; echo "FAILED: accessory"; exit 1; }
  [[ -s $LAB_DIR/pair.json ]] && return 0 # paired already (a restart)
  payload=$(sed -n 's/^pairing window open; setup payload: //p' "$LAB_DIR/acc.log")
  [[ $payload == LNY1:* ]] || { cat "$LAB_DIR/acc.log"; echo "FAILED: accessory did not start"; exit 1; }
  lab_exec phone env LANYARD_INTERFACE_KINDS=$KINDS "$LANYARD" pair "$payload" \
    --trust-store "$LAB_DIR/ts" --identity-dir "$LAB_DIR/controller" --timeout 30 --json \
    >"$LAB_DIR/pair.json" || { cat "$LAB_DIR/pair.json"; echo "FAILED: pairing"; exit 1; }
}

stop_accessory() {
  kill "$ACC_PID" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$ACC_PID" 2>/dev/null || break; sleep 0.1; done
}

# connect OUT [ARGS...]: `lanyard connect minimal-1 --json` on the phone, stdin from fd 0.
connect() {
  local out=$1
  shift
  lab_exec phone env LANYARD_INTERFACE_KINDS=$KINDS "$LANYARD" connect minimal-1 --json \
    --trust-store "$LAB_DIR/ts" --identity-dir "$LAB_DIR/controller" "$@" >"$out" 2>"$out.err"
}

wait_line() { # FILE JQ_FILTER SECONDS
  local end=$((SECONDS + $3))
  while ((SECONDS < end)); do
    jq -e -s "any(.[]; $2)" "$1" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "FAILED: no line matching '$2' in $1 within $3 s:"; cat "$1" "$1.err"
  return 1
}

# paths FILE: the number of path events so far.
paths() { jq -s '[.[] | select(.event=="path")] | length' "$1" 2>/dev/null || echo 0; }

# wait_path FILE N FILTER SECONDS: waits for path event number N+1 (counted from 1) and checks
# it against FILTER: earlier events cannot satisfy it (discovery may find p2p0 before wlan0, so
# a channel's first moves can be p2p0 then up to wlan0).
wait_path() {
  local file=$1 n=$2 filter=$3 end=$((SECONDS + $4))
  while ((SECONDS < end)); do
    if jq -e -s --argjson n "$n" '[.[] | select(.event=="path")] | length > $n' "$file" \
      >/dev/null 2>&1; then
      jq -e -s --argjson n "$n" "[.[] | select(.event==\"path\")][\$n] | $filter" "$file" \
        >/dev/null && return 0
      echo "FAILED: path event $((n + 1)) is not '$filter':"; cat "$file" "$file.err"
      return 1
    fi
    sleep 0.1
  done
  echo "FAILED: no path event $((n + 1)) ('$filter') within $4 s:"; cat "$file" "$file.err"
  return 1
}

# settled_on_wlan0 FILE: waits until the channel reached wlan0; prints the index of that path
# event.
settled_on_wlan0() {
  wait_line "$1" '.event=="path" and .to.interface=="wlan0"' 20 >&2 || return 1
  echo $(($(paths "$1") - 1))
}
