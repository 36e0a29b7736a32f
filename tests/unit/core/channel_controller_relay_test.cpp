// channel_controller under a fake clock: the relay path (docs/design/relay.md, "On the app"):
// ranked last, raced only when no local path is viable or the last race without it failed, and
// left for a local path, make-before-break, once one is viable for the move-back hold.
#include "lanyard/core/channel_controller.hpp"

#include "support/controller_script.hpp"

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using namespace lanyard::core;
using namespace lanyard::test;

namespace {

// The relay's candidate: the broker, no interface of its own.
tracked_path relay() {
  return path_over(0, "relay", interface_kind::relay, "198.18.5.2", 8883);
}

// The connection is lost at `at`: the race that follows (at once or after the retry delay).
std::string race_after_loss(channel_controller& c, time_point at) {
  c.connection_lost(reset, at);
  lines all = drain(c);
  c.handle_deadline(at + 100ms);
  for (std::string& l : drain(c))
    all.push_back(std::move(l));
  for (const std::string& l : all)
    if (l.rfind("race ", 0) == 0) return l;
  return "no race";
}

} // namespace

TEST_CASE("controller: the relay is left out while a local path is viable") {
  channel_controller c(defaults());
  start_racing(c, {relay(), wifi()});
  CHECK(drain(c) == lines{state(channel_state::preparing), "race 1 [1] connected"});
}

TEST_CASE("controller: the relay is raced when no local path is viable") {
  channel_controller c(defaults());
  start_racing(c, {down(wifi()), relay()});
  CHECK(drain(c) == lines{state(channel_state::preparing), "race 1 [1] connected"});
  c.race_won(1, 1, t0 + 50ms);
  c.attached(1, t0 + 50ms);
  CHECK(drain(c) == lines{"path - -> relay (connected)"});
}

TEST_CASE("controller: after a failed race over local paths the next one adds the relay, last") {
  channel_controller c(defaults());
  start_racing(c, {wifi(), relay()});
  drain(c);
  c.attempt_failed(1, reset, no_path_worked, t0 + 10s);
  CHECK(drain(c) ==
        lines{notice_failed(no_path_worked, reset), state(channel_state::waiting, reset)});
  c.handle_deadline(t0 + 10s + 100ms);
  CHECK(drain(c) == lines{state(channel_state::preparing), "race 2 [0 1] connected"});
  // Won over the relay, the session lives there; a race that failed with the relay in it does
  // not make the next one leave it out.
  c.race_won(2, 1, t0 + 11s);
  c.attached(2, t0 + 11s);
  c.established(t0 + 11s);
  drain(c);
  CHECK(race_after_loss(c, t0 + 20s) == "race 3 [0 1] path failed");
  // Back on a local path, the relay is the last resort again.
  c.race_won(3, 0, t0 + 21s);
  c.attached(3, t0 + 21s);
  c.established(t0 + 21s);
  drain(c);
  CHECK(race_after_loss(c, t0 + 30s) == "race 4 [0] path failed");
}

TEST_CASE("controller: back home, the session moves from the relay to Wi-Fi after the hold") {
  channel_controller c(defaults());
  ready_on(c, {down(wifi()), relay()}, 1, t0);
  c.paths_changed(snap({wifi(), relay()}), paths_trigger::interfaces, t0 + 10s);
  CHECK(drain(c).empty());
  CHECK(c.next_deadline() == t0 + 15s);
  c.handle_deadline(t0 + 15s);
  CHECK(drain(c) == lines{"notice moving to wlan0 (preferred path available)",
                          "move 2 to 0 (preferred path available)"});
  c.race_won(2, 0, t0 + 15s + 10ms);
  c.attached(2, t0 + 15s + 10ms);
  CHECK(drain(c) == lines{"path relay -> wlan0 (preferred path available)"});
  CHECK(c.active_path()->same_path(wifi()));
}

TEST_CASE("controller: a policy that prohibits the relay never races it") {
  channel_controller_settings s = defaults();
  s.paths.policy.prohibited = {interface_kind::relay};
  channel_controller c(s);
  start_racing(c, {down(wifi()), relay()});
  const std::string reason =
      rank_paths(std::vector{down(wifi()).facts, relay().facts}, s.paths.policy).reason;
  CHECK(drain(c) == lines{state(channel_state::preparing), notice_failed(reason, no_viable),
                          state(channel_state::waiting, no_viable)});
}

TEST_CASE("controller: a key refused through the relay alone never ends the channel") {
  // Away from home, a static path that cannot be used and the relay: the broker's operator
  // answers the OPEN with a key of its own. A refusal on a static path is final; on the relay
  // (anyone running the broker can answer there) it is not.
  channel_controller c(defaults());
  tracked_path own = wifi("198.18.1.9"); // the app's own static path, not discovered
  own.facts.interface_up = false;
  tracked_path r = relay();
  r.facts.discovered = true; // as the client marks it
  start_racing(c, {own, r});
  CHECK(drain(c) == lines{state(channel_state::preparing), "race 1 [1] connected"});
  const auto refused = make_error_code(lanyard::core::channel_errc::not_paired);
  c.attempt_failed(1, refused, no_path_worked, t0 + 1s);
  CHECK(drain(c) ==
        lines{notice_failed(no_path_worked, refused), state(channel_state::waiting, refused)});
  CHECK(c.state() == channel_state::waiting);
}
