// connection_race under a fake clock: the RFC 8305 schedule, winners, losers and failures.
#include "lanyard/core/connection_race.hpp"

#include "lanyard/core/channel_error.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <system_error>
#include <vector>

using namespace std::chrono_literals;
using lanyard::core::channel_errc;
using lanyard::core::connection_race;
using kind = connection_race::action::kind;
using race_state = connection_race::state;

namespace {

const connection_race::time_point t0{};

struct taken {
  std::vector<std::size_t> started, aborted;
};

taken drain(connection_race& r) {
  taken t;
  while (auto a = r.poll_action())
    (a->what == kind::start ? t.started : t.aborted).push_back(a->index);
  return t;
}

const std::error_code refused = std::make_error_code(std::errc::connection_refused);

} // namespace

TEST_CASE("connection_race starts the first candidate at once and the next after the delay") {
  connection_race r(3, {250ms});
  r.start(t0);
  CHECK(drain(r).started == std::vector<std::size_t>{0});
  CHECK(r.next_deadline() == t0 + 250ms);
  r.handle_deadline(t0 + 249ms); // early timer: nothing
  CHECK(drain(r).started.empty());
  r.handle_deadline(t0 + 250ms);
  CHECK(drain(r).started == std::vector<std::size_t>{1});
  CHECK(r.next_deadline() == t0 + 500ms);
  r.handle_deadline(t0 + 500ms);
  CHECK(drain(r).started == std::vector<std::size_t>{2});
  CHECK(r.next_deadline() == connection_race::time_point::max()); // nothing left to start
  CHECK(r.attempts_started() == 3);
}

TEST_CASE("connection_race: the first completed handshake wins and the others are aborted") {
  connection_race r(3, {250ms});
  r.start(t0);
  r.handle_deadline(t0 + 250ms);
  r.handle_deadline(t0 + 500ms);
  drain(r);
  r.on_attempt_succeeded(1, t0 + 510ms); // the second path's handshake finished first
  CHECK(r.current_state() == race_state::won);
  CHECK(r.winner() == 1u);
  CHECK(drain(r).aborted == std::vector<std::size_t>{0, 2});
  CHECK(r.next_deadline() == connection_race::time_point::max());
  r.on_attempt_succeeded(0, t0 + 520ms); // already aborted: ignored
  CHECK(r.winner() == 1u);
  CHECK(drain(r).aborted.empty());
}

TEST_CASE("connection_race: a winner before the delay means later candidates never start") {
  connection_race r(3, {250ms});
  r.start(t0);
  drain(r);
  r.on_attempt_succeeded(0, t0 + 40ms);
  CHECK(r.winner() == 0u);
  r.handle_deadline(t0 + 250ms);
  CHECK(drain(r).started.empty());
  CHECK(r.attempts_started() == 1);
}

TEST_CASE("connection_race: a failure with nothing in flight starts the next candidate at once") {
  connection_race r(3, {250ms});
  r.start(t0);
  drain(r);
  r.on_attempt_failed(0, refused, t0 + 5ms);
  CHECK(drain(r).started == std::vector<std::size_t>{1});
  CHECK(r.next_deadline() == t0 + 5ms + 250ms);
  SECTION("but not while another attempt is still running") {
    r.handle_deadline(t0 + 255ms);
    CHECK(drain(r).started == std::vector<std::size_t>{2});
    r.on_attempt_failed(1, refused, t0 + 300ms); // 2 still runs: no new start, no loss
    CHECK(r.current_state() == race_state::racing);
    r.on_attempt_succeeded(2, t0 + 320ms);
    CHECK(r.winner() == 2u);
  }
}

TEST_CASE("connection_race is lost with the last error when every candidate failed") {
  connection_race r(2, {250ms});
  r.start(t0);
  r.on_attempt_failed(0, refused, t0 + 1ms);
  const auto timeout = std::make_error_code(std::errc::timed_out);
  r.on_attempt_failed(1, timeout, t0 + 2ms);
  CHECK(r.current_state() == race_state::lost);
  CHECK(r.error() == timeout);
  CHECK(drain(r).started == std::vector<std::size_t>{0, 1});
  CHECK(r.next_deadline() == connection_race::time_point::max());
}

TEST_CASE("connection_race without candidates is lost with no_viable_path") {
  connection_race r(0);
  r.start(t0);
  CHECK(r.current_state() == race_state::lost);
  CHECK(r.error() == channel_errc::no_viable_path);
  CHECK_FALSE(r.poll_action());
}

TEST_CASE("connection_race::cancel aborts what runs and ignores later events") {
  connection_race r(3, {250ms});
  r.start(t0);
  r.handle_deadline(t0 + 250ms);
  drain(r);
  r.cancel();
  CHECK(r.current_state() == race_state::cancelled);
  CHECK(drain(r).aborted == std::vector<std::size_t>{0, 1});
  r.on_attempt_succeeded(0, t0 + 300ms); // aborted already
  r.handle_deadline(t0 + 500ms);
  CHECK_FALSE(r.poll_action());
  CHECK_FALSE(r.winner());
}

TEST_CASE("connection_race ignores events for attempts that never started") {
  connection_race r(2, {250ms});
  r.start(t0);
  drain(r);
  r.on_attempt_succeeded(1, t0 + 1ms);       // not started
  r.on_attempt_failed(7, refused, t0 + 1ms); // out of range
  CHECK(r.current_state() == race_state::racing);
  CHECK_FALSE(r.poll_action());
}
