# Lab test (sourced by tests/lab/run-in-lab): the channel under chaos. One long-lived app
# streams m0, m1, ... (1,500/s) to the accessory, which echoes each one back, until 100,000
# echoes arrived, while a driver cuts the phone's wlan0 (link down), blackholes it, reboots the
# accessory (SIGTERM: graceful; restart on the same state on disk), crashes it (SIGKILL,
# restart) and crashes it while the link is blackholed. ~2 minutes.
#
# The driver: rounds of the five actions in a random order (so each one happens every round),
# durations random; CHAOS_SEED=N reproduces the sequence of actions and durations (the seed is
# printed first, every action as it happens). Between actions it waits until the channel is
# ready again and messages flow (a new acknowledgement), then samples the app's open file
# descriptors and VmRSS. CHAOS_LOGS=DIR keeps a copy of all logs.
#
# What is proven, and how "100,000 each way" is counted. A restart loses the accessory's
# session: what the app sent meanwhile (often more than a thousand messages) is reported in the
# session reset, not delivered, so the app sends past m99999 until it got 100,000 echoes
# (--echo-target; at most 200,000 sends):
#  app → accessory: every send completes, acknowledged or listed in a session reset; the app
#   checks each reset's list is the run of messages right before its boundary and that the
#   lists are exactly the sends that failed with session_reset. Here: every message sent is
#   either acknowledged or listed, never both; every acknowledged one was received by an
#   accessory incarnation, and all incarnations' receive logs, concatenated in incarnation
#   order, are strictly increasing (each message received at most once, in order); a listed
#   one was received only if the incarnation that received it then died (its acknowledgement
#   died with it): within one incarnation no acknowledged message follows a listed one.
#   Delivered (acknowledged) + reported (listed) = sent (> 100,000; ~100,000 acknowledged).
#  accessory → app: every message an accessory received is echoed. ≥ 100,000 echoes are
#   delivered, exactly once, in order: the app checks each session's echoes are contiguous from
#   its first message; here: the app's echoes, concatenated, are strictly increasing and each
#   is of a received message; every echo the app acknowledged was delivered. An echo left
#   unacknowledged by an incarnation that terminated gracefully (the reboots, and the end of
#   the test) is reported failed by its push (operation_aborted), every one of them (checked).
#   From a crashed incarnation it is lost with the process — a crashed accessory has no memory
#   to report from, and no session left to report to (the app sees the loss as its reset);
#   such echoes are counted. Received = delivered + (reported, undelivered) + lost is checked.
#  Sessions: each accessory restart costs exactly one session reset; a link cut or blackhole
#   none (the session is resumed).
#  Leaks: the app's fd count and VmRSS are sampled after every cycle once the channel is ready
#   again (~25 cycles). The maximum of the first WARMUP (5) samples is the baseline: it covers
#   the first reconnects and resets, TLS state and the allocator's first high-water marks
#   (RSS rose ~1.3 MiB over the first 4 cycles in our runs). Afterwards: fds ≤ baseline + 2 (a
#   sample may catch a connection attempt racing the ready one; they were constant in our runs,
#   and a leak of one fd per cycle exceeds it within three cycles); VmRSS ≤ baseline + 2 MiB
#   (the remaining noise is the replay buffers' high-water: a 3 s outage at 1,500 messages/s
#   queues ~4,500 messages, some 100 bytes each with the bookkeeping, ~0.5 MiB; our runs stayed
#   within +0.7 MiB). A leak of ≥ 100 KiB per cycle — a lost connection with its TLS record
#   buffers and session, or a replay buffer kept across a reset — exceeds that over the ~20
#   sampled cycles; smaller leaks of unreachable memory are LeakSanitizer's job (ASan build).
#   In a sanitizer build (CHAOS_SANITIZED=1, set by CMake) VmRSS is printed but not bounded:
#   ASan's quarantine keeps freed memory (up to 256 MiB), so RSS grows by design; LeakSanitizer
#   checks the app and the gracefully ended accessories at exit instead (their reports fail the
#   test).
#  Trust: the accessory's identity files, the app's identity files and the app's trust store pin
#   (its device line without the last-seen time, which each handshake updates) are identical
#   before (after the first connection) and after; the trust store has exactly one pin, made
#   "verified" (the app pins only the key matching the accessory identity's fingerprint, given
#   as the setup payload's, and then holds every handshake to that pin); no trust error logged.
source "$(dirname "${BASH_SOURCE[0]}")/../channel/common.sh"
COUNT=100000 # echoes the app must receive; it sends m0, m1, ... until then (at most CAP)
CAP=200000
MIN_CYCLES=15 # 3 rounds: every action three times at least
WARMUP=5
SEED=${CHAOS_SEED:-$((10#${EPOCHREALTIME#*[.,]} % 32768))}
RANDOM=$SEED
echo "chaos seed $SEED (CHAOS_SEED=$SEED reproduces the action sequence)"
# CHAOS_LOGS=DIR: the logs are copied to DIR at the end (passed or not), for analysis.
if [[ -n ${CHAOS_LOGS:-} ]]; then trap 'mkdir -p "$CHAOS_LOGS" && cp -a "$D/." "$CHAOS_LOGS/"' EXIT; fi
# pick LO HI: a random number of milliseconds in [LO, HI] in $ms and, as seconds, in $secs.
# (Not a $(...) function: bash reseeds $RANDOM in subshells, losing reproducibility.)
pick() {
  ms=$(($1 + RANDOM % ($2 - $1 + 1)))
  secs=$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))
}
ACC_ARGS=(--log-recv --log-echo-acks --graceful-term)
n_acc=1
acc=$(start_accessory "$D/acc1.log" "${ACC_ARGS[@]}")
lab_exec phone "$STREAM_PEER" app --dir "$D" --host 198.18.1.3 --port 7443 --count $CAP \
  --echo-target $COUNT --tick-ms 10 --burst 15 --reset many --log-acks --log-echoes --progress-ms 100 \
  --trust-store "$D/trust-store" --keepalive-ms 250 --peer-timeout-ms 1000 \
  --connect-timeout-ms 500 --backoff-initial-ms 50 --backoff-cap-ms 500 --timeout 300 \
  >"$D/app.log" 2>&1 &
app_job=$!
wait_line "$D/app.log" ' connected 1$' 20
app=$(grep -Eo 'app pid [0-9]+' "$D/app.log" | awk '{print $3}')

# The trust state, identity files byte for byte and the pin without its last-seen time.
trust_state() {
  (cd "$D" && sha256sum "$ACC_IDENTITY"/* app/*)
  awk '$1 == "device" { $6 = ""; print }' "$D/trust-store"
  awk '$1 == "device" { n++; m = $4 } END { print n + 0, m }' "$D/trust-store"
}
wait_line "$D/trust-store" '^device ' 10
trust_state >"$D/trust.before"

# progress: the app's last progress line as "sent completed acked echoes resets connects state".
# (tac reads the file from its end: bursts of thousands of lines between two progress lines.)
progress() {
  { tac "$D/app.log" | grep -m 1 -E ' progress sent [0-9]+ completed [0-9]+ acked [0-9]+ echoes [0-9]+ resets [0-9]+ connects [0-9]+ state [a-z]+$' |
    awk '{print $4, $6, $8, $10, $12, $14, $16}'; } || true
}
app_alive() { kill -0 "$app" 2>/dev/null; }
# wait_flowing ACKED RESETS: until the app is ready with more than ACKED acknowledgements and at
# least RESETS resets (or has finished). 30 s: several backoff caps and handshakes.
wait_flowing() {
  local end=$((SECONDS + 30)) p
  while ((SECONDS < end)); do
    app_alive || return 0
    read -r -a p <<<"$(progress)"
    if ((${#p[@]} == 7)) && [[ ${p[6]} == ready ]] && ((p[2] > $1 && p[4] >= $2)); then
      return 0
    fi
    sleep 0.05
  done
  echo "FAILED: the channel did not come back (ready, acknowledging, $2 resets) within 30 s"
  tail -n 20 "$D/app.log"
  return 1
}
# restart_accessory SIGNAL DOWN_S: kills the accessory (TERM: must terminate gracefully within
# 5 s), waits for the process to be gone, DOWN_S seconds more, and starts the next incarnation
# on the same directory.
restart_accessory() {
  local sig=$1 end=$((SECONDS + 5))
  kill -"$sig" "$acc"
  while kill -0 "$acc" 2>/dev/null; do
    ((SECONDS < end)) || { echo "FAILED: accessory $acc did not end after SIG$sig"; return 1; }
    sleep 0.02
  done
  if [[ $sig == TERM ]]; then
    grep -q ' terminated$' "$D/acc$n_acc.log" || { echo "FAILED: no graceful termination"; return 1; }
    echo "$n_acc term" >>"$D/incarnations"
  else
    echo "$n_acc crash" >>"$D/incarnations"
  fi
  n_acc=$((n_acc + 1))
  sleep "$2"
  acc=$(start_accessory "$D/acc$n_acc.log" "${ACC_ARGS[@]}")
}

: >"$D/incarnations"
: >"$D/samples"
cycle=0 restarts=0 resets_expected=0
actions=(link_down blackhole reboot crash crash_in_blackhole)
order=()
while app_alive; do
  if ((${#order[@]} == 0)); then # a new round: the actions shuffled (Fisher-Yates)
    order=(0 1 2 3 4)
    for ((i = 4; i > 0; i--)); do
      j=$((RANDOM % (i + 1)))
      t=${order[i]} order[i]=${order[j]} order[j]=$t
    done
  fi
  a=${order[0]}
  order=("${order[@]:1}")
  pick 1000 2500
  sleep "$secs" # traffic (restarts lose what is sent while the accessory is away: ~1.5 s each)
  app_alive || break
  cycle=$((cycle + 1))
  read -r -a before <<<"$(progress)"
  ((${#before[@]} == 7)) || { echo "FAILED: no progress line from the app"; exit 1; }
  case ${actions[a]} in
    link_down)
      pick 200 3000
      echo "cycle $cycle: link down ${ms} ms"
      lab_link_down phone wlan0
      sleep "$secs"
      lab_link_up phone wlan0 ;;
    blackhole)
      pick 200 3000
      echo "cycle $cycle: blackhole ${ms} ms"
      lab_blackhole phone wlan0
      sleep "$secs"
      lab_unblackhole phone wlan0 ;;
    reboot | crash)
      pick 0 800
      echo "cycle $cycle: ${actions[a]}, down ${ms} ms"
      [[ ${actions[a]} == reboot ]] && sig=TERM || sig=KILL
      restart_accessory "$sig" "$secs"
      restarts=$((restarts + 1)) ;;
    crash_in_blackhole)
      pick 200 1500
      echo "cycle $cycle: crash during a blackhole of ${ms} ms"
      lab_blackhole phone wlan0
      sleep "$secs"
      restart_accessory KILL 0
      lab_unblackhole phone wlan0
      restarts=$((restarts + 1)) ;;
  esac
  [[ ${actions[a]} == reboot || ${actions[a]} == crash* ]] && want=$((before[4] + 1)) || want=${before[4]}
  wait_flowing "${before[2]}" "$want"
  app_alive || break
  read -r -a now <<<"$(progress)"
  ((${#now[@]} == 7)) || { echo "FAILED: no progress line from the app"; exit 1; }
  ((now[4] == want)) || { echo "FAILED: $((now[4] - before[4])) session resets in a ${actions[a]} cycle"; exit 1; }
  resets_expected=$want
  fds=$(find "/proc/$app/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l) || true
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$app/status" 2>/dev/null) || true
  if ! app_alive || [[ -z $rss ]]; then break; fi # it finished meanwhile: no sample
  echo "$cycle $fds $rss" >>"$D/samples"
  echo "cycle $cycle: back: acked ${now[2]} resets ${now[4]} fds $fds rss ${rss} kB"
done
echo "$n_acc final" >>"$D/incarnations"
status=0
wait "$app_job" || status=$?
# The last incarnation ends gracefully, reporting the echoes the app did not acknowledge.
kill -TERM "$acc"
wait_line "$D/acc$n_acc.log" ' terminated$' 10
for ((i = 0; i < 200; i++)); do kill -0 "$acc" 2>/dev/null || break; sleep 0.05; done
echo "--- app (tail)"; grep -v -E ' (acked|echo|progress|unacked|reset-failed) ' "$D/app.log" | tail -n 12
no_violations "$D"/app.log "$D"/acc*.log
# In a sanitizer build: what the processes that ended normally reported (LeakSanitizer at exit).
if grep -E 'ERROR: [A-Za-z]+Sanitizer|runtime error:' "$D"/app.log "$D"/acc*.log; then
  echo "FAILED: sanitizer reports (above)"; exit 1
fi
[[ $status -eq 0 ]] || { echo "FAILED: app exited with $status"; exit 1; }
((cycle >= MIN_CYCLES)) || { echo "FAILED: only $cycle cycles before the stream ended (want $MIN_CYCLES)"; exit 1; }
sent=$(grep -Eo 'done: sent [0-9]+,' "$D/app.log" | grep -Eo '[0-9]+' || true)
[[ -n $sent ]] || { echo "FAILED: the app did not finish"; exit 1; }
((sent < CAP)) || { echo "FAILED: the app sent its $CAP messages without receiving $COUNT echoes"; exit 1; }
resets=$(grep -c 'session reset:' "$D/app.log" || true)
# Every restart whose cycle completed cost one reset; the last cycle's restart may have come
# after the app finished (then the app never met that incarnation).
((resets == resets_expected || (resets == resets_expected + 1 && resets <= restarts))) ||
  { echo "FAILED: $resets session resets for $restarts accessory restarts ($resets_expected seen)"; exit 1; }

# --- exactly once, in order; every message accounted for
msgs() { grep -Eo " $1 m[0-9]+\$" "$2" | grep -Eo '[0-9]+$' || true; }
msgs acked "$D/app.log" >"$D/acked"
msgs unacked "$D/app.log" >"$D/unacked"
msgs echo "$D/app.log" >"$D/echoes"
for ((k = 1; k <= n_acc; k++)); do
  msgs 'recv [0-9]+' "$D/acc$k.log" | sed "s/^/$k /" # "incarnation index"
done >"$D/recv"
for ((k = 1; k <= n_acc; k++)); do
  msgs echo-acked "$D/acc$k.log" | sed "s/^/$k A /"
  grep -Eo ' echo-failed m[0-9]+' "$D/acc$k.log" | grep -Eo '[0-9]+$' | sed "s/^/$k F /" || true
done >"$D/echo_outcomes"
awk -v count="$sent" -v target=$COUNT '
  function fail(m) { print "FAILED: " m; bad = 1; exit 1 }
  FILENAME ~ /\/acked$/ { if ($1 in st) fail("m" $1 " acknowledged twice"); st[$1] = "A"; next }
  FILENAME ~ /\/unacked$/ {
    if ($1 in st) fail("m" $1 " both acknowledged and listed in a reset, or listed twice")
    st[$1] = "U"; nu++; next }
  FILENAME ~ /\/incarnations$/ { kind[$1] = $2; next }
  FILENAME ~ /\/recv$/ {
    if (!($2 in st)) fail("m" $2 " received but neither acknowledged nor listed in a reset")
    if (n_recv && $2 <= last) fail("m" $2 " received after m" last " (duplicate or out of order)")
    if (st[$2] == "U") unacked_seen[$1] = 1
    else if (unacked_seen[$1]) fail("acknowledged m" $2 " received after a listed one by incarnation " $1)
    last = $2; n_recv++; got[$2] = $1; if (st[$2] == "U") nu_recv++; next }
  FILENAME ~ /\/echoes$/ {
    if (n_echo && $1 <= last_e) fail("echo m" $1 " after echo m" last_e)
    if (!($1 in got)) fail("echo m" $1 " of a message no accessory received")
    last_e = $1; n_echo++; echoed[$1] = 1; next }
  FILENAME ~ /\/echo_outcomes$/ {
    if (got[$3] != $1) fail("incarnation " $1 " pushed an echo of m" $3 " it did not receive")
    if (($3 in outcome)) fail("two outcomes for the echo of m" $3)
    outcome[$3] = $2
    if ($2 == "A" && !($3 in echoed)) fail("the echo of m" $3 " was acknowledged but never delivered")
    if ($2 == "F") { n_failed++; if (!($3 in echoed)) n_failed_undelivered++ }
    next }
  END {
    if (bad) exit 1
    for (i = 0; i < count; i++) {
      if (!(i in st)) fail("m" i " neither acknowledged nor listed in a reset")
      if (st[i] == "A" && !(i in got)) fail("m" i " acknowledged but never received")
      na += (st[i] == "A")
    }
    for (i in got) if (!(i in outcome)) {
      if (kind[got[i]] != "crash") fail("incarnation " got[i] " (" kind[got[i]] ") neither acknowledged nor reported the echo of m" i)
      if (i in echoed) crash_delivered++; else lost++
    }
    printf "app -> accessory: %d acknowledged (each received once, in order) + %d listed in resets (%d of them had reached the dying incarnation) = %d\n", na, nu, nu_recv, na + nu
    printf "accessory -> app: %d echoes (one per message received): %d delivered exactly once in order (%d of them unacknowledged when a crash took their incarnation), %d reported failed by a graceful termination (%d of them delivered anyway), %d lost with crashed incarnations\n", n_recv, n_echo, crash_delivered + 0, n_failed, n_failed - n_failed_undelivered, lost + 0
    if (n_echo + n_failed_undelivered + lost != n_recv) fail("echo accounting does not add up")
    if (na + nu != count) fail("acknowledged + listed != " count)
    if (n_echo < target) fail("fewer than " target " echoes delivered")
  }' "$D/acked" "$D/unacked" "$D/incarnations" "$D/recv" "$D/echoes" "$D/echo_outcomes"

# --- leaks
echo "samples (cycle fds rss_kB):"; tr '\n' ';' <"$D/samples"; echo
awk -v w=$WARMUP -v sanitized="${CHAOS_SANITIZED:-0}" '
  NR <= w { if ($2 > fd0) fd0 = $2; if ($3 > rss0) rss0 = $3; next }
  { if ($2 > fdmax) fdmax = $2; if ($3 > rssmax) rssmax = $3; n++ }
  END {
    printf "fds: baseline %d, max after warm-up %d; VmRSS: baseline %d kB, max after warm-up %d kB (%+d kB)\n", fd0, fdmax, rss0, rssmax, rssmax - rss0
    if (n < 5) { print "FAILED: fewer than 5 samples after the warm-up"; exit 1 }
    if (fdmax > fd0 + 2) { print "FAILED: file descriptors grew (leak?)"; exit 1 }
    if (rssmax > rss0 + 2048 && sanitized != 1) { print "FAILED: VmRSS grew by more than 2 MiB (leak?)"; exit 1 }
  }' "$D/samples"

# --- trust
trust_state >"$D/trust.after"
diff "$D/trust.before" "$D/trust.after" || { echo "FAILED: the trust state changed"; exit 1; }
[[ $(tail -n 1 "$D/trust.after") == "1 verified" ]] ||
  { echo "FAILED: the trust store does not hold exactly one verified pin"; cat "$D/trust-store"; exit 1; }
# No diagnostic of the app's names a trust or policy failure (a refusal also fails the channel:
# a violation), nor a pin it could not record.
if grep -E ' diag [^ ]+ code=[^ ]+ conditions=[^ ]*(authentication_failed|policy)| diag channel\.(trust_refused|pin_not_recorded)' "$D/app.log"; then
  echo "FAILED: a trust refusal or warning in the app's diagnostics (above)"; exit 1
fi
echo "cycles $cycle, accessory incarnations $n_acc, restarts $restarts, resets $resets"
echo "PASSED"
