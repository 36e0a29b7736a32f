// channel_controller under a fake clock, the channel's life: start, retries and their backoff,
// failures, the session's end, cancel, stale results (docs/design/connection-controller.md
// §4.1). Each case feeds literal timestamps and compares the exact actions.
#include "lanyard/core/channel_controller.hpp"

#include "lanyard/core/error_condition.hpp"
#include "support/controller_script.hpp"

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using namespace lanyard::core;
using namespace lanyard::test;

TEST_CASE("controller: the codes the tests use are classified as the channel classifies them") {
  CHECK(not_paired == condition::permanent);
  CHECK(wrong_proof == condition::permanent);
  CHECK_FALSE(busy == condition::permanent);
  CHECK_FALSE(pairing_timeout == condition::permanent);
  CHECK_FALSE(peer_dead == condition::permanent);
  CHECK(aborted == condition::cancelled);
}

TEST_CASE("controller: start connects at the deadline, not in the caller's frame (T1)") {
  channel_controller c(defaults());
  c.paths_changed(snap({wifi()}), paths_trigger::refresh, t0);
  c.start(t0);
  CHECK(drain(c).empty());
  CHECK(c.next_deadline() == t0);
  c.handle_deadline(t0);
  CHECK(drain(c) == lines{state(channel_state::preparing), "race 1 [0] connected"});
  CHECK(c.attempt_pending(1));
  c.race_won(1, 0, t0 + 5ms);
  CHECK(drain(c).empty()); // admission (pairing, pin) is the executor's
  c.attached(1, t0 + 6ms);
  CHECK(drain(c) == lines{"path - -> wlan0 (connected)"});
  CHECK(c.has_connection());
  CHECK_FALSE(c.attempt_pending(1));
  c.established(t0 + 7ms);
  CHECK(drain(c) == lines{state(channel_state::ready)});
  REQUIRE(c.active_path());
  CHECK(c.active_path()->same_path(wifi()));
  CHECK(c.next_deadline() == time_point::max());
}

TEST_CASE("controller: a second start is ignored, and start after cancel (T2)") {
  channel_controller c(defaults());
  c.paths_changed(snap({wifi()}), paths_trigger::refresh, t0);
  c.start(t0);
  c.start(t0 + 1s);
  CHECK(c.next_deadline() == t0);
  c.cancel(t0 + 2s);
  CHECK(drain(c) == lines{state(channel_state::cancelled)});
  c.start(t0 + 3s);
  c.handle_deadline(t0 + 3s);
  CHECK(drain(c).empty());
  CHECK(c.next_deadline() == time_point::max());
}

TEST_CASE("controller: invalid arguments fail the channel without an attempt (T2)") {
  channel_controller c(defaults());
  c.start(t0);
  const auto invalid = std::make_error_code(std::errc::invalid_argument);
  c.fail(invalid, t0);
  CHECK(drain(c) == lines{"give up: " + invalid.message(), state(channel_state::failed, invalid)});
  CHECK(c.next_deadline() == time_point::max());
  c.handle_deadline(t0);
  c.start(t0);
  CHECK(drain(c).empty());
}

TEST_CASE("controller: a lost connection waits out the jitter, then races again (T3)") {
  channel_controller c(defaults());
  ready_on(c, {wifi()}, 0, t0);
  c.connection_lost(reset, t0 + 10s);
  CHECK(drain(c) == lines{notice_lost(reset), state(channel_state::waiting, reset)});
  CHECK(c.next_deadline() == t0 + 10s + 100ms);
  c.handle_deadline(t0 + 10s + 99ms);
  CHECK(drain(c).empty());
  c.handle_deadline(t0 + 10s + 100ms);
  CHECK(drain(c) == lines{state(channel_state::preparing), "race 2 [0] path failed"});
}

TEST_CASE("controller: the backoff ceiling doubles per failed attempt up to 30 s (T4)") {
  channel_controller c(jitter({250ms, 500ms, 1s, 2s, 4s, 8s, 16s, 30s}));
  c.paths_changed(snap({wifi()}), paths_trigger::refresh, t0);
  c.start(t0);
  time_point now = t0;
  c.handle_deadline(now);
  std::uint64_t id = 1;
  for (auto expected : {250ms, 500ms, 1000ms, 2000ms, 4000ms, 8000ms, 16000ms, 30000ms, 30000ms}) {
    c.attempt_failed(id++, reset, no_path_worked, now);
    CHECK(c.next_deadline() - now == expected);
    now = c.next_deadline();
    c.handle_deadline(now);
  }
  CHECK(c.state() == channel_state::preparing);
}

TEST_CASE("controller: an established session starts the backoff over (T5)") {
  channel_controller c(jitter({400ms}));
  start_racing(c, {wifi()});
  c.attempt_failed(1, reset, no_path_worked, t0);
  CHECK(c.next_deadline() == t0 + 150ms - 1ns); // 400 ms % (250 ms + 1 ns)
  c.handle_deadline(t0 + 150ms - 1ns);
  c.attempt_failed(2, reset, no_path_worked, t0 + 1s);
  CHECK(c.next_deadline() == t0 + 1s + 400ms); // ceiling 500 ms
  c.handle_deadline(t0 + 1s + 400ms);
  c.race_won(3, 0, t0 + 2s);
  c.attached(3, t0 + 2s);
  c.established(t0 + 2s);
  c.connection_lost(reset, t0 + 10s);
  CHECK(c.next_deadline() == t0 + 10s + 150ms - 1ns); // 250 ms again, not 1 s
}

TEST_CASE("controller: network_changed reconnects at once unless connected (T6)") {
  channel_controller c(defaults());
  SECTION("waiting: at once, the retry is dropped") {
    ready_on(c, {wifi()}, 0, t0);
    c.connection_lost(reset, t0 + 10s);
    drain(c);
    c.network_changed(t0 + 10s + 1ms);
    CHECK(drain(c) == lines{notice_reconnect(attempt_trigger::network_changed),
                            state(channel_state::preparing), "race 2 [0] path failed"});
    CHECK(c.next_deadline() == t0 + 40s); // the retry is gone; wlan0's suspicion ends then
  }
  SECTION("ready: nothing") {
    ready_on(c, {wifi()}, 0, t0);
    c.network_changed(t0 + 1s);
    CHECK(drain(c).empty());
  }
  SECTION("racing: the race is abandoned for a new one") {
    start_racing(c, {wifi()});
    drain(c);
    c.network_changed(t0 + 1s);
    CHECK(drain(c) == lines{notice_reconnect(attempt_trigger::network_changed), "abort 1",
                            "race 2 [0] connected"});
    CHECK_FALSE(c.attempt_pending(1));
  }
  SECTION("admitting (race won, pairing): restarted too") {
    start_racing(c, {wifi()});
    c.race_won(1, 0, t0 + 1s);
    drain(c);
    c.network_changed(t0 + 2s);
    CHECK(drain(c) ==
          lines{notice_reconnect(attempt_trigger::network_changed), "race 2 [0] connected"});
    CHECK_FALSE(c.attempt_pending(1));
    c.attached(1, t0 + 3s); // the old admission finishing: stale
    CHECK(drain(c).empty());
    CHECK_FALSE(c.has_connection());
  }
}

TEST_CASE("controller: a permanent failure gives up, a transient one retries (T14, T37)") {
  channel_controller c(defaults());
  start_racing(c, {wifi()});
  drain(c);
  SECTION("refused (permanent): give up") {
    c.attempt_failed(1, not_paired, no_path_worked, t0 + 1s);
    CHECK(drain(c) == lines{notice_failed(no_path_worked, not_paired),
                            "give up: " + not_paired.message(),
                            state(channel_state::failed, not_paired)});
    CHECK(c.next_deadline() == time_point::max());
  }
  SECTION("pairing refused: give up") {
    c.race_won(1, 0, t0 + 1s);
    c.attempt_failed(1, wrong_proof, "pairing failed", t0 + 2s);
    CHECK(drain(c) == lines{notice_failed("pairing failed", wrong_proof),
                            "give up: " + wrong_proof.message(),
                            state(channel_state::failed, wrong_proof)});
  }
  SECTION("the accessory's storage failed while pairing: waiting, retry (error-model step 17)") {
    const std::error_code failed = pairing_errc::accessory_failure;
    c.race_won(1, 0, t0 + 1s);
    c.attempt_failed(1, failed, "pairing failed", t0 + 2s);
    CHECK(drain(c) ==
          lines{notice_failed("pairing failed", failed), state(channel_state::waiting, failed)});
    CHECK(c.next_deadline() == t0 + 2s + 100ms);
  }
  SECTION("pairing timed out while admitting: waiting, retry (T37)") {
    c.race_won(1, 0, t0 + 1s);
    c.attempt_failed(1, pairing_timeout, "pairing failed", t0 + 2s);
    CHECK(drain(c) == lines{notice_failed("pairing failed", pairing_timeout),
                            state(channel_state::waiting, pairing_timeout)});
    CHECK(c.next_deadline() == t0 + 2s + 100ms);
  }
}

TEST_CASE("controller: a race lost over discovered paths only never gives up: an impostor "
          "announcing the accessory's id cannot end the channel") {
  // Any permanent code (trust's refused is above the core): the path proved nothing.
  const std::error_code refused = not_paired;
  REQUIRE(refused == condition::permanent);
  channel_controller c(defaults());
  tracked_path announced = wifi();
  announced.facts.discovered = true;
  SECTION("every raced path was discovered: waiting with the refusal, then a retry") {
    start_racing(c, {announced});
    drain(c);
    c.attempt_failed(1, refused, no_path_worked, t0 + 1s);
    CHECK(drain(c) ==
          lines{notice_failed(no_path_worked, refused), state(channel_state::waiting, refused)});
    CHECK(c.next_deadline() == t0 + 1s + 100ms);
    c.handle_deadline(t0 + 1s + 100ms);
    CHECK(c.attempt_pending(2));
  }
  SECTION("one of the app's own (static) paths refused too: give up") {
    start_racing(c, {announced, wifi("198.18.1.9")});
    drain(c);
    c.attempt_failed(1, refused, no_path_worked, t0 + 1s);
    CHECK(drain(c) == lines{notice_failed(no_path_worked, refused), "give up: " + refused.message(),
                            state(channel_state::failed, refused)});
  }
  SECTION("the path proved the key (race won), then a final refusal: give up") {
    start_racing(c, {announced});
    drain(c);
    c.race_won(1, 0, t0 + 1s);
    c.attempt_failed(1, wrong_proof, "pairing failed", t0 + 2s);
    CHECK(drain(c) == lines{notice_failed("pairing failed", wrong_proof),
                            "give up: " + wrong_proof.message(),
                            state(channel_state::failed, wrong_proof)});
  }
}

TEST_CASE("controller: a loss the accessory calls permanent ends the channel (T15)") {
  channel_controller c(defaults());
  ready_on(c, {wifi()}, 0, t0);
  SECTION("not paired") {
    c.connection_lost(not_paired, t0 + 1s);
    CHECK(drain(c) == lines{notice_lost(not_paired), "give up: " + not_paired.message(),
                            state(channel_state::failed, not_paired)});
  }
  SECTION("too many sessions: waiting, retry") {
    c.connection_lost(busy, t0 + 1s);
    CHECK(drain(c) == lines{notice_lost(busy), state(channel_state::waiting, busy)});
    CHECK(c.next_deadline() == t0 + 1s + 100ms);
  }
}

TEST_CASE("controller: the session closing ends the channel (T16)") {
  channel_controller c(defaults());
  SECTION("closed by the peer: session_closed") {
    ready_on(c, {wifi()}, 0, t0);
    c.session_closed({}, t0 + 1s);
    const auto closed = make_error_code(channel_errc::session_closed);
    CHECK(drain(c) == lines{"give up: " + closed.message(), state(channel_state::failed, closed)});
  }
  SECTION("with an error, while racing: the race is aborted") {
    start_racing(c, {wifi()});
    drain(c);
    c.session_closed(peer_dead, t0 + 1s);
    CHECK(drain(c) == lines{"give up: " + peer_dead.message(),
                            state(channel_state::failed, peer_dead), "abort 1"});
  }
  SECTION("after cancel: nothing") {
    ready_on(c, {wifi()}, 0, t0);
    c.cancel(t0 + 1s);
    drain(c);
    c.session_closed(peer_dead, t0 + 2s);
    CHECK(drain(c).empty());
    CHECK(c.state() == channel_state::cancelled);
  }
}

TEST_CASE("controller: cancel aborts what is in flight and ignores what comes later (T17)") {
  channel_controller c(defaults());
  SECTION("before the first attempt") {
    c.start(t0);
    c.cancel(t0);
    CHECK(drain(c) == lines{state(channel_state::cancelled)});
    CHECK(c.next_deadline() == time_point::max());
  }
  SECTION("racing") {
    start_racing(c, {wifi()});
    drain(c);
    c.cancel(t0 + 1s);
    CHECK(drain(c) == lines{state(channel_state::cancelled), "abort 1"});
    CHECK_FALSE(c.attempt_pending(1));
    c.race_won(1, 0, t0 + 2s);
    c.attached(1, t0 + 2s);
    c.attempt_failed(1, reset, no_path_worked, t0 + 2s);
    c.network_changed(t0 + 3s);
    c.paths_changed(snap({wifi()}), paths_trigger::new_path, t0 + 3s);
    c.handle_deadline(t0 + 1h);
    CHECK(drain(c).empty());
  }
  SECTION("moving") {
    moving_back_to_wifi(c);
    c.cancel(t0 + 16s);
    CHECK(drain(c) == lines{state(channel_state::cancelled), "abort 2"});
    CHECK_FALSE(c.attempt_pending(2));
  }
  SECTION("waiting") {
    ready_on(c, {wifi()}, 0, t0);
    c.connection_lost(reset, t0 + 1s);
    drain(c);
    c.cancel(t0 + 1s);
    CHECK(drain(c) == lines{state(channel_state::cancelled)});
    CHECK(c.next_deadline() == time_point::max());
  }
}

TEST_CASE("controller: results of an abandoned race are ignored (T18)") {
  channel_controller c(defaults());
  start_racing(c, {wifi()});
  c.network_changed(t0 + 1s);
  drain(c);
  c.attempt_failed(1, reset, no_path_worked, t0 + 2s);
  c.race_won(1, 0, t0 + 2s);
  c.attached(1, t0 + 2s);
  CHECK(drain(c).empty());
  CHECK(c.state() == channel_state::preparing);
  CHECK(c.attempt_pending(2));
}

TEST_CASE("controller: waiting is reported again only for another reason (T35)") {
  channel_controller c(defaults());
  ready_on(c, {wifi()}, 0, t0);
  c.connection_lost(reset, t0 + 1s);
  CHECK(drain(c) == lines{notice_lost(reset), state(channel_state::waiting, reset)});
  c.connection_lost(reset, t0 + 1s + 1ms);
  CHECK(drain(c) == lines{notice_lost(reset)});
  c.connection_lost(busy, t0 + 1s + 2ms);
  CHECK(drain(c) == lines{notice_lost(busy), state(channel_state::waiting, busy)});
}

TEST_CASE("controller: one retry at a time (T36)") {
  channel_controller c(jitter({100ms, 50ms}));
  ready_on(c, {wifi()}, 0, t0);
  c.connection_lost(reset, t0 + 1s);
  c.connection_lost(peer_dead, t0 + 1s + 1ms);
  CHECK(c.next_deadline() == t0 + 1s + 100ms);
}
