// channel_controller under a fake clock: the resolution delay, waiting a moment for a better
// interface kind after the accessory was found (§4.1 T29-T33).
#include "lanyard/core/channel_controller.hpp"

#include "support/controller_script.hpp"

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using namespace lanyard::core;
using namespace lanyard::test;

TEST_CASE("controller: p2p found first waits for Wi-Fi, which ends the wait (T29)") {
  channel_controller c(defaults());
  found_on_p2p_first(c);
  CHECK(drain(c) == lines{state(channel_state::preparing),
                          "notice found on p2p0 first; waiting up to 100 ms for a wifi path"});
  CHECK(c.next_deadline() == t0 + 100ms);
  // p2p0's second address: once per window.
  c.paths_changed(snap({p2p(), p2p("198.18.2.4")}, phone_links), paths_trigger::new_path,
                  t0 + 10ms);
  CHECK(drain(c).empty());
  // Wi-Fi: race now, Wi-Fi first. Today's behaviour, kept: the accessory's own event then
  // restarts that race once more ("new path in the directory").
  c.paths_changed(snap({p2p(), p2p("198.18.2.4"), wifi()}, phone_links), paths_trigger::new_path,
                  t0 + 40ms);
  CHECK(drain(c) == lines{"notice found on wlan0 within the resolution delay",
                          "race 1 [2 0 1] connected", notice_reconnect(attempt_trigger::new_path),
                          "abort 1", "race 2 [2 0 1] connected"});
}

TEST_CASE("controller: without Wi-Fi the race starts when the delay is over (T30, T31)") {
  channel_controller c(defaults());
  found_on_p2p_first(c);
  drain(c);
  c.handle_deadline(t0 + 100ms - 1ns);
  CHECK(drain(c).empty());
  c.handle_deadline(t0 + 100ms);
  CHECK(drain(c) ==
        lines{"notice no wifi path within the resolution delay (100 ms)", "race 1 [0] connected"});
  // T31: a reconnect long after discovery never waits.
  c.race_won(1, 0, t0 + 200ms);
  c.attached(1, t0 + 200ms);
  c.established(t0 + 200ms);
  c.connection_lost(reset, t0 + 60s);
  c.handle_deadline(t0 + 60s + 100ms);
  CHECK(drain(c).back() == "race 2 [0] path failed");
}

TEST_CASE("controller: the resolution window counts from the first path found (T30)") {
  channel_controller c(hourly_retries());
  c.paths_changed(snap({}, phone_links, not_discovered), paths_trigger::refresh, t0);
  c.start(t0);
  c.handle_deadline(t0);
  drain(c);
  c.paths_changed(snap({p2p()}, phone_links), paths_trigger::new_path, t0 + 5s);
  CHECK(drain(c) == lines{notice_reconnect(attempt_trigger::new_viable_path),
                          state(channel_state::preparing),
                          "notice found on p2p0 first; waiting up to 100 ms for a wifi path"});
  CHECK(c.next_deadline() == t0 + 5s + 100ms);
  c.handle_deadline(t0 + 5s + 100ms);
  CHECK(drain(c).back() == "race 1 [0] connected");
}

TEST_CASE("controller: no resolution wait when nothing better can come (T32)") {
  kind_set usable = phone_links;
  channel_controller_settings s = defaults();
  std::vector<tracked_path> paths{p2p()};
  lines expected{state(channel_state::preparing), "race 1 [0] connected"};
  SECTION("Wi-Fi first") {
    paths = {wifi()};
  }
  SECTION("p2p and Wi-Fi together") {
    paths = {p2p(), wifi()};
    expected.back() = "race 1 [1 0] connected";
  }
  SECTION("no usable Wi-Fi link on this host") {
    usable = {interface_kind::p2p};
  }
  SECTION("Wi-Fi prohibited") {
    s.paths.policy.prohibited = {interface_kind::wifi};
  }
  SECTION("delay 0") {
    s.resolution_delay = 0ms;
  }
  channel_controller c(std::move(s));
  c.paths_changed(snap(paths, usable), paths_trigger::new_path, t0);
  c.start(t0);
  c.handle_deadline(t0);
  CHECK(drain(c) == expected);
}

TEST_CASE("controller: the window closes when the accessory vanishes, reopens on return "
          "(T33)") {
  channel_controller c(jitter({10ms}));
  found_on_p2p_first(c);
  c.handle_deadline(t0 + 100ms);
  c.race_won(1, 0, t0 + 110ms);
  c.attached(1, t0 + 110ms);
  c.established(t0 + 110ms);
  SECTION("gone and back: the reconnect waits again") {
    c.paths_changed(snap({}, phone_links), paths_trigger::directory, t0 + 10s);
    c.paths_changed(snap({p2p()}, phone_links), paths_trigger::new_path, t0 + 20s);
    drain(c);
    c.connection_lost(reset, t0 + 20s + 1ms);
    c.handle_deadline(t0 + 20s + 11ms);
    CHECK(drain(c) == lines{notice_lost(reset), state(channel_state::waiting, reset),
                            state(channel_state::preparing),
                            "notice found on p2p0 first; waiting up to 89 ms for a wifi path"});
    CHECK(c.next_deadline() == t0 + 20s + 100ms);
  }
  SECTION("still there: no wait") {
    c.paths_changed(snap({p2p()}, phone_links), paths_trigger::directory, t0 + 10s);
    drain(c);
    c.connection_lost(reset, t0 + 20s + 1ms);
    c.handle_deadline(t0 + 20s + 11ms);
    CHECK(drain(c).back() == "race 2 [0] path failed");
  }
  SECTION("its interface down and up again: the window is discovery's, no wait") {
    c.paths_changed(snap({down(p2p())}, phone_links), paths_trigger::interfaces, t0 + 10s);
    c.paths_changed(snap({p2p()}, phone_links), paths_trigger::interfaces, t0 + 20s);
    drain(c);
    c.connection_lost(reset, t0 + 20s + 1ms);
    c.handle_deadline(t0 + 20s + 11ms);
    CHECK(drain(c).back() == "race 2 [0] path failed");
  }
}
