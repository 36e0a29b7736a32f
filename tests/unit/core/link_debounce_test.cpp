#include "lanyard/core/link_debounce.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace std::chrono_literals;
using lanyard::core::link_change;
using lanyard::core::link_debounce;
using lanyard::core::link_debounce_settings;

namespace {

const link_debounce::time_point t0{std::chrono::hours(1000)};

/// Drives a debouncer through a raw schedule with a fake clock that jumps from event to event
/// (and to every deadline in between), recording the stable changes and when they happened.
struct recorder {
  link_debounce d;
  std::vector<std::pair<link_change, link_debounce::time_point>> changes;
  link_debounce::time_point now = t0;

  explicit recorder(bool up, link_debounce_settings s = {}) : d(up, t0, s) {}

  void advance_to(link_debounce::time_point t) {
    while (d.next_deadline() <= t) {
      now = d.next_deadline();
      auto c = d.handle_deadline(now);
      if (c != link_change::none) changes.emplace_back(c, now);
    }
    now = t;
  }
  void raw(bool up, link_debounce::time_point t) {
    advance_to(t);
    auto c = d.on_raw(up, t);
    if (c != link_change::none) changes.emplace_back(c, t);
  }
};

} // namespace

TEST_CASE("initial state is stable without waiting", "[link_debounce]") {
  link_debounce up(true, t0);
  CHECK(up.stable_up());
  CHECK(up.next_deadline() == link_debounce::time_point::max());
  link_debounce down(false, t0);
  CHECK_FALSE(down.stable_up());
}

TEST_CASE("the flap 'up, down 8 s later for 2 s, up again' moves away once and back once",
          "[link_debounce]") {
  recorder r(true);
  r.raw(false, t0 + 8s);
  r.raw(true, t0 + 10s);
  r.advance_to(t0 + 60s);
  REQUIRE(r.changes.size() == 2);
  CHECK(r.changes[0].first == link_change::went_down);
  CHECK(r.changes[0].second == t0 + 8s + 20ms); // after the default grace
  CHECK(r.changes[1].first == link_change::went_up);
  CHECK(r.changes[1].second == t0 + 13s); // after the default 3 s hold-down
  CHECK(r.d.stable_up());
}

TEST_CASE("a drop shorter than the grace is absorbed", "[link_debounce]") {
  recorder r(true);
  r.raw(false, t0 + 1s);
  r.raw(true, t0 + 1s + 5ms);
  r.advance_to(t0 + 60s);
  CHECK(r.changes.empty());
  CHECK(r.d.stable_up());
}

TEST_CASE("a return shorter than the hold-down is not reported", "[link_debounce]") {
  recorder r(false);
  r.raw(true, t0 + 1s);
  r.raw(false, t0 + 2s); // up for 1 s < 3 s hold-down
  r.advance_to(t0 + 60s);
  CHECK(r.changes.empty());
  CHECK_FALSE(r.d.stable_up());
}

TEST_CASE("the deadline is exact and an early call changes nothing", "[link_debounce]") {
  link_debounce d(true, t0);
  CHECK(d.on_raw(false, t0) == link_change::none);
  CHECK(d.next_deadline() == t0 + 20ms);
  CHECK(d.handle_deadline(t0 + 19ms) == link_change::none);
  CHECK(d.stable_up());
  CHECK(d.handle_deadline(t0 + 20ms) == link_change::went_down);
  CHECK(d.next_deadline() == link_debounce::time_point::max());
  CHECK(d.handle_deadline(t0 + 21ms) == link_change::none); // spurious timer
}

TEST_CASE("repeating the raw state does not restart the wait", "[link_debounce]") {
  link_debounce d(true, t0);
  d.on_raw(false, t0);
  d.on_raw(false, t0 + 10ms);
  CHECK(d.next_deadline() == t0 + 20ms);
}

TEST_CASE("zero grace and hold-down report changes immediately", "[link_debounce]") {
  link_debounce_settings s;
  s.down_grace = 0s;
  s.up_hold_down = 0s;
  link_debounce d(true, t0, s);
  CHECK(d.on_raw(false, t0 + 1s) == link_change::went_down);
  CHECK(d.on_raw(true, t0 + 2s) == link_change::went_up);
  CHECK(d.next_deadline() == link_debounce::time_point::max());
}

TEST_CASE("a link that keeps flapping waits longer and longer, up to the cap", "[link_debounce]") {
  link_debounce_settings s;
  s.max_hold_down = 10s;
  recorder r(true, s);
  // Down for 1 s, up for 20 s, five times: each stable down is within 30 s of the previous one.
  auto t = t0;
  std::vector<std::chrono::nanoseconds> holds;
  for (int i = 0; i < 5; ++i) {
    r.raw(false, t);
    r.raw(true, t + 1s);
    holds.push_back(r.d.current_hold_down());
    t += 21s;
  }
  r.advance_to(t + 60s);
  CHECK(holds == std::vector<std::chrono::nanoseconds>{3s, 6s, 10s, 10s, 10s});
  // Every cycle still gives exactly one move away and one back (up lasts 20 s > hold).
  CHECK(r.changes.size() == 10);
  CHECK(r.changes[3].second == t0 + 21s + 1s + 6s);
}

TEST_CASE("a quiet link starts again from the base hold-down", "[link_debounce]") {
  recorder r(true);
  r.raw(false, t0);
  r.raw(true, t0 + 1s);
  r.raw(false, t0 + 10s);
  r.raw(true, t0 + 11s);
  CHECK(r.d.current_hold_down() == 6s);
  r.raw(false, t0 + 100s); // 90 s after the previous stable down
  r.raw(true, t0 + 101s);
  CHECK(r.d.current_hold_down() == 3s);
  r.advance_to(t0 + 104s);
  CHECK(r.d.stable_up());
}
