# shellcheck shell=bash
# Shared helpers for the channel lab tests (sourced by each test after lab.sh). Needs BUILD
# (the build directory) in the environment.
# Which API the stream peer runs on: STREAM_API=product (default; channel_product_peer:
# node::node and app::device, what apps and firmware use) or lower (channel_stream_peer:
# accessory::server and client::client_channel, push delivery). ACC_IDENTITY: where the
# accessory keeps its identity files, under $D.
case ${STREAM_API:-product} in
  product) STREAM_PEER="$BUILD/tests/channel_product_peer" ACC_IDENTITY=node/identity ;;
  lower) STREAM_PEER="$BUILD/tests/channel_stream_peer" ACC_IDENTITY=accessory ;;
  *) echo "FAILED: STREAM_API=$STREAM_API (want product or lower)"; exit 1 ;;
esac
echo "stream peer: ${STREAM_PEER##*/}"
[[ -x $STREAM_PEER ]] || { echo "FAILED: $STREAM_PEER not built"; exit 1; }
D="$LAB_DIR/channel"
mkdir -p "$D"

# wait_line FILE REGEX [TIMEOUT_S=20]: polls (50 ms) until a line of FILE matches REGEX.
wait_line() {
  local file=$1 re=$2 timeout=${3:-20}
  local end=$((SECONDS + timeout))
  while ((SECONDS < end)); do
    grep -Eq -- "$re" "$file" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "FAILED: no line matching /$re/ in $file after ${timeout}s; its tail:"
  tail -n 30 "$file" 2>/dev/null || true
  return 1
}

# start_accessory LOG ARGS...: the stream peer's accessory in the accessory namespace on port
# ${ACC_PORT:-7443}, with the identity and controller store in $D; waits until it listens and
# prints the pid of the peer process itself (not of a wrapper).
start_accessory() {
  local log=$1 port=${ACC_PORT:-7443}
  shift
  lab_spawn accessory "$log" "$STREAM_PEER" accessory --dir "$D" --port "$port" "$@" >/dev/null
  wait_line "$log" "listening on port $port pid [0-9]+" 10 >&2 || return 1
  grep -Eo "listening on port $port pid [0-9]+" "$log" | tail -n 1 | awk '{print $NF}'
}

# random_ms LO HI: a random number of milliseconds in [LO, HI], as seconds for sleep(1).
random_ms() {
  local ms=$(($1 + RANDOM % ($2 - $1 + 1)))
  printf '%d.%03d' $((ms / 1000)) $((ms % 1000))
}

# no_violations FILE...: fails (printing them) if any file has a VIOLATION line.
no_violations() {
  if grep -H VIOLATION "$@"; then
    echo "FAILED: exactly-once in-order delivery violated (lines above)"
    return 1
  fi
}
