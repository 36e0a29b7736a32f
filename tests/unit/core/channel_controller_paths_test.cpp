// channel_controller under a fake clock: which paths are raced and when a change of them starts
// an attempt (discovery, policy, order, restarts; §4.1 T7-T13).
#include "lanyard/core/channel_controller.hpp"

#include "support/controller_script.hpp"

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using namespace lanyard::core;
using namespace lanyard::test;

TEST_CASE("controller: not discovered waits; the accessory's new path races at once (T7, T8)") {
  channel_controller c(hourly_retries());
  c.paths_changed(snap({}, {}, not_discovered), paths_trigger::refresh, t0);
  c.start(t0);
  c.handle_deadline(t0);
  CHECK(drain(c) == lines{state(channel_state::preparing),
                          notice_failed("no reachable path in the directory", not_discovered),
                          state(channel_state::waiting, not_discovered)});
  CHECK(c.next_deadline() == t0 + 1h);
  // T8: another accessory's events: still nothing viable for this one.
  c.paths_changed(snap({}, {}, not_discovered), paths_trigger::directory, t0 + 500ms);
  CHECK(drain(c).empty());
  // Found. Today's behaviour, kept: the directory change makes a viable path ("a new path may
  // work") and the accessory's own event ("new path in the directory") each restart.
  c.paths_changed(snap({wifi()}), paths_trigger::new_path, t0 + 1s);
  CHECK(drain(c) == lines{notice_reconnect(attempt_trigger::new_viable_path),
                          state(channel_state::preparing), "race 1 [0] connected",
                          notice_reconnect(attempt_trigger::new_path), "abort 1",
                          "race 2 [0] connected"});
}

TEST_CASE("controller: an unreachable path is not raced until reachable again (T9)") {
  channel_controller c(defaults());
  start_racing(c, {unreachable(wifi())});
  const std::string why = rank_paths(std::vector{unreachable(wifi()).facts}, {}).reason;
  CHECK(drain(c) == lines{state(channel_state::preparing), notice_failed(why, no_viable),
                          state(channel_state::waiting, no_viable)});
  c.paths_changed(snap({wifi()}), paths_trigger::new_path, t0 + 50ms);
  const lines out = drain(c);
  REQUIRE(out.size() == 6);
  CHECK(out.back() == "race 2 [0] connected");
}

TEST_CASE("controller: the policy's reason is the waiting line's (T10)") {
  channel_controller_settings s = defaults();
  s.paths.policy.prohibited = {interface_kind::wifi};
  channel_controller c(std::move(s));
  start_racing(c, {wifi()});
  CHECK(drain(c) ==
        lines{state(channel_state::preparing),
              notice_failed("policy prohibits wifi; wlan0 (wifi) is prohibited", no_viable),
              state(channel_state::waiting, no_viable)});
}

TEST_CASE("controller: the viable paths are raced in order, equals as given (T11)") {
  channel_controller c(defaults());
  start_racing(c,
               {wifi(), unreachable(wifi("198.18.1.4")), wifi("198.18.1.5"), wifi("198.18.1.6")});
  CHECK(drain(c) == lines{state(channel_state::preparing), "race 1 [0 2 3] connected"});
}

TEST_CASE("controller: a new path of the accessory restarts a race in flight (T12)") {
  channel_controller c(defaults());
  start_racing(c, {p2p()});
  drain(c);
  c.paths_changed(snap({p2p(), wifi()}), paths_trigger::new_path, t0 + 1s);
  CHECK(drain(c) ==
        lines{notice_reconnect(attempt_trigger::new_path), "abort 1", "race 2 [1 0] connected"});
}

TEST_CASE("controller: an interface change helps only a waiting channel with a path (T13)") {
  channel_controller c(defaults());
  start_racing(c, {wifi()});
  drain(c);
  c.paths_changed(snap({wifi(), p2p()}), paths_trigger::interfaces, t0 + 1s);
  CHECK(drain(c).empty()); // racing: no restart
  c.attempt_failed(1, reset, no_path_worked, t0 + 2s);
  drain(c);
  c.paths_changed(snap({down(wifi())}), paths_trigger::interfaces, t0 + 2s + 1ms);
  CHECK(drain(c).empty()); // waiting, nothing viable
  c.paths_changed(snap({wifi()}), paths_trigger::interfaces, t0 + 2s + 2ms);
  CHECK(drain(c) == lines{notice_reconnect(attempt_trigger::new_viable_path),
                          state(channel_state::preparing), "race 2 [0] connected"});
}
