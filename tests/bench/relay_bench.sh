# lanyard-bench relay's lab part, run by tests/lab/run-in-lab (bench_relay.cpp starts it): the
# relay against the direct path in the same run, same lab, same accessory, same app.
#
# The accessory is examples/minimal_accessory (a node: it echoes each line back); the app is
# `lanyard connect` (its JSON events carry time_us). The relay is set up as a deployment
# would (tests/integration/relay/relay_node.sh): Mosquitto in the cloud host, TLS, an account
# per accessory, the household's, the ACL. Each figure is measured over both contenders:
#   - direct: the channel over Wi-Fi (policy: relay prohibited);
#   - relay: the channel through the broker (policy: wifi, p2p and cellular prohibited, so the
#     relay is the one viable path), same channel settings.
# Figures:
#   - round trip: a 40-byte line echoed, ROUNDS times, one every 20 ms; time_us of the echo's
#     arrival minus the send time the line carries (both ends of the app; the clock is one);
#   - bulk: BULK_KB KiB in 1 KiB lines sent as fast as the channel takes them and echoed
#     back; from the first line's send time to the last echo's arrival;
#   - gap: a line every 5 ms on Wi-Fi with the relay allowed, then the phone leaves home
#     (cellular cut from the home, p2p0 down, wlan0 down): the longest pause between echoes
#     from the cut on, and the stall (the longest a line sent around the cut took to come
#     back); RUNS times;
#   - idle: IDLE idle accessories (relay_idle_accessories: one MQTT connection each, TLS,
#     subscribed) on the one Mosquitto process: how many connected, its resident memory before
#     and after, per accessory.
# Failed runs are counted (`failed_runs`), each with a reason on stderr; the goal
# (1,000 idle accessories on one Mosquitto) is a verdict in the JSON, not an exit status.
# Writes one JSON object to $RESULT.
source "$SRC/tests/integration/relay/broker.sh"
source "$SRC/tests/integration/relay/relay_node.sh"
ROUNDS=${ROUNDS:-200}
BULK_KB=${BULK_KB:-2048}
RUNS=${RUNS:-3}
IDLE=${IDLE:-1000}
ulimit -n 65536 2>/dev/null || ulimit -n 8192 2>/dev/null || true
failed=0
fail_run() { echo "lanyard-bench relay: run failed: $*" >&2; failed=$((failed + 1)); }

relay_node_setup
echo "relay-bench: relay set up; inbox $INBOX" >&2

# run_channel OUT POLICY FEEDER: `lanyard connect` with its lines from FEEDER (a function that
# waits for the channel to be ready, then prints lines), --prohibit POLICY.
run_channel() {
  local out=$1 policy=$2 feeder=$3
  : >"$out"
  "$feeder" "$out" | connect "$out" --prohibit "$policy" --timeout 120 || return 1
}
wait_ready() { # OUT
  local end=$((SECONDS + 30))
  until grep -q '"state":"ready"' "$1" 2>/dev/null; do
    ((SECONDS < end)) || return 1
    sleep 0.02
  done
}
# Times are ${EPOCHREALTIME/./}: Unix µs without a fork ($(date) would add a fork to every
# time it stamps).

round_trips() {
  wait_ready "$1" || return 0
  sleep 0.5
  local pad
  for i in $(seq 1 "$ROUNDS"); do
    printf -v pad '%020d' "$i"
    printf 'rt %s %s\n' "${EPOCHREALTIME/./}" "$pad"
    sleep 0.02
  done
  sleep 1
}
bulk() {
  wait_ready "$1" || return 0
  sleep 0.5
  local filler
  filler=$(head -c 1008 /dev/zero | tr '\0' 'x')
  printf 'bulk-start %s\n' "${EPOCHREALTIME/./}"
  for _ in $(seq 1 "$BULK_KB"); do printf 'b %s\n' "$filler"; done
  printf 'bulk-end %s\n' "${EPOCHREALTIME/./}"
  sleep 2
}

# rtt_summary OUT: {"median":..,"p95":..,"p99":..,"min":..,"max":..,"runs":n} in µs.
summary_of() { # jq array of numbers on stdin
  jq -c 'sort as $s | ($s|length) as $n | if $n == 0 then {runs: 0} else
    {median: $s[($n/2|floor)], p95: $s[((($n*95+99)/100|floor)-1)], p99: $s[((($n*99+99)/100|floor)-1)],
     min: $s[0], max: $s[-1], runs: $n} end'
}
rtts() { # OUT
  jq -s '[.[]|select(.event=="message" and (.text|startswith("rt ")))|
    .time_us - (.text|split(" ")[1]|tonumber)]' "$1"
}
bulk_rate() { # OUT: KiB/s echoed, or null
  jq -s --argjson kb "$BULK_KB" '
    ([.[]|select(.event=="message" and (.text|startswith("bulk-start ")))][0]) as $s
    | ([.[]|select(.event=="message" and (.text|startswith("bulk-end ")))][0]) as $e
    | ([.[]|select(.event=="message" and (.text|startswith("b ")))]|length) as $n
    | if $s == null or $e == null or $n != $kb then null else
        ($kb * 1000000 / ($e.time_us - ($s.text|split(" ")[1]|tonumber))) end' "$1"
}

declare -A rtt_json bulk_json path_of
for contender in direct relay; do
  if [[ $contender == direct ]]; then policy=relay; else policy=wifi,p2p,cellular; fi
  out=$LAB_DIR/rt-$contender.json
  run_channel "$out" "$policy" round_trips || fail_run "$contender round trips: lanyard connect failed"
  path_of[$contender]=$(jq -s -r '[.[]|select(.event=="path")][-1].to.interface // "none"' "$out")
  n=$(rtts "$out" | jq length)
  ((n == ROUNDS)) || fail_run "$contender round trips: $n of $ROUNDS echoed"
  rtt_json[$contender]=$(rtts "$out" | summary_of)
  out=$LAB_DIR/bulk-$contender.json
  run_channel "$out" "$policy" bulk || fail_run "$contender bulk: lanyard connect failed"
  rate=$(bulk_rate "$out")
  [[ $rate != null ]] || fail_run "$contender bulk: not every line came back"
  bulk_json[$contender]=$rate
  echo "relay-bench: $contender on ${path_of[$contender]}: round trip ${rtt_json[$contender]}, bulk $rate KiB/s" >&2
done
[[ ${path_of[direct]} == wlan0 && ${path_of[relay]} == relay ]] ||
  fail_run "paths: direct ran on ${path_of[direct]}, relay on ${path_of[relay]}"

# The gap when the last local path goes.
stream() {
  wait_ready "$1" || return 0
  for _ in $(seq 1 600); do # 3 s at home, the cut, 0.5 s… then away
    printf 'g %s\n' "${EPOCHREALTIME/./}"
    sleep 0.005
  done
  sleep 2
}
gaps=() stalls=()
for run in $(seq 1 "$RUNS"); do
  out=$LAB_DIR/gap-$run.json
  : >"$out"
  (stream "$out" | connect "$out" --prohibit cellular --timeout 120) &
  app=$!
  wait_ready "$out" || { fail_run "gap $run: channel not ready"; wait "$app" || true; continue; }
  sleep 1.5
  cut=${EPOCHREALTIME/./}
  relay_leave_home
  wait "$app" || fail_run "gap $run: lanyard connect failed"
  to=$(jq -s -r '[.[]|select(.event=="path")][-1].to.interface // "none"' "$out")
  if [[ $to != relay ]]; then
    fail_run "gap $run: ended on $to, not the relay"
  else
    g=$(jq -s --argjson cut "$cut" '[.[]|select(.event=="message" and (.text|startswith("g ")))|.time_us]
      | [range(1; length) as $i | select(.[$i] > $cut) | .[$i] - .[$i - 1]] | max // null' "$out")
    s=$(jq -s --argjson cut "$cut" '[.[]|select(.event=="message" and (.text|startswith("g ")))
      | (.text|split(" ")[1]|tonumber) as $t | select($t > $cut - 1000000 and $t < $cut + 1000000)
      | .time_us - $t] | max // null' "$out")
    n=$(jq -s '[.[]|select(.event=="message" and (.text|startswith("g ")))]|length' "$out")
    ((n == 600)) || fail_run "gap $run: $n of 600 lines came back"
    [[ $g != null ]] && gaps+=("$g") && stalls+=("$s")
  fi
  lab_link_up phone wlan0
  lab_link_up phone p2p0
  lab_cell_home on
  sleep 3
done
gap_json=$(printf '%s\n' "${gaps[@]:-}" | jq -s '[.[]|numbers]' | summary_of)
stall_json=$(printf '%s\n' "${stalls[@]:-}" | jq -s '[.[]|numbers]' | summary_of)
echo "relay-bench: gap when the last local path goes (µs): $gap_json; stall $stall_json" >&2

# Idle accessories on one Mosquitto process.
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$BROKER_PID/status"; }
broker_stop
# Hashed in one go (mosquitto_passwd -U), then added: -U on the whole file would hash the
# hashes of the accounts already there.
for i in $(seq 0 $((IDLE - 1))); do printf 'idle%d:idle-secret\n' "$i"; done >"$LAB_DIR/idle.passwd"
mosquitto_passwd -U "$LAB_DIR/idle.passwd"
cat "$LAB_DIR/idle.passwd" >>"$BROKER_DIR/passwd"
broker_start || { echo '{"error":"the broker did not restart"}' >"$RESULT"; exit 1; }
sleep 1
rss_before=$(rss_kb)
idle_log=$LAB_DIR/idle.log
idle_pid=$(lab_spawn phone "$idle_log" "$BUILD/tests/relay_idle_accessories" --host "$BROKER_HOST" \
  --ca "$BROKER_DIR/ca.crt" --count "$IDLE" --password idle-secret --batch 50 --timeout 240)
end=$((SECONDS + 250))
until grep -q '^all connected\|^timeout' "$idle_log" 2>/dev/null || ((SECONDS > end)); do sleep 0.2; done
sleep 2
connected=$(grep -Eo '^connected [0-9]+' "$idle_log" | tail -n 1 | grep -Eo '[0-9]+' || echo 0)
took=$(sed -n 's/^all connected [0-9]* //p' "$idle_log")
rss_after=$(rss_kb)
client_rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$idle_pid/status" 2>/dev/null || echo 0)
kill "$idle_pid" 2>/dev/null || true
((connected == IDLE)) || fail_run "idle: $connected of $IDLE accessories connected"
per_kb=$(jq -n --argjson a "$rss_after" --argjson b "$rss_before" --argjson n "${connected:-0}" \
  'if $n > 0 then (($a - $b) * 1024 / $n | floor) else null end')
echo "relay-bench: $connected idle accessories on one Mosquitto: ${rss_before} KiB -> ${rss_after} KiB (${per_kb} B each)" >&2

jq -n --argjson rt_direct "${rtt_json[direct]}" --argjson rt_relay "${rtt_json[relay]}" \
  --argjson bulk_direct "${bulk_json[direct]:-null}" --argjson bulk_relay "${bulk_json[relay]:-null}" \
  --argjson gap "$gap_json" --argjson stall "$stall_json" \
  --argjson idle "$IDLE" --argjson connected "${connected:-0}" --argjson before "$rss_before" \
  --argjson after "$rss_after" --argjson per "${per_kb:-null}" --argjson client "${client_rss:-0}" \
  --arg took "${took:-}" --argjson failed "$failed" --argjson rounds "$ROUNDS" \
  --argjson bulk_kb "$BULK_KB" --argjson runs "$RUNS" '
{
  benchmark: "relay",
  setup: {rounds: $rounds, bulk_kib: $bulk_kb, gap_runs: $runs, idle_accessories: $idle,
          broker: "mosquitto (Debian), TLS 1.2, per-user ACL, set_tcp_nodelay", lab: "netns, veth, no added delay"},
  round_trip_us: {direct: $rt_direct, relay: $rt_relay,
                  relay_over_direct: (if $rt_direct.median then ($rt_relay.median / $rt_direct.median) else null end)},
  bulk_kib_per_s: {direct: $bulk_direct, relay: $bulk_relay,
                   relay_over_direct: (if $bulk_direct then ($bulk_relay / $bulk_direct) else null end)},
  last_local_path_goes_us: {gap: $gap, stall: $stall},
  idle: {accessories: $idle, connected: $connected, seconds_to_connect: ($took|tonumber? // null),
         broker_rss_kib_before: $before, broker_rss_kib_after: $after, broker_bytes_per_accessory: $per,
         client_process_rss_kib: $client,
         goal: {text: "1,000 idle accessories on one Mosquitto process", met: ($connected >= 1000)}},
  failed_runs: $failed
}' >"$RESULT"
