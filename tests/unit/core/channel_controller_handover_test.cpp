// channel_controller under a fake clock: losing a path and moving between paths (handover at
// once, suspect links, make-before-break moves back, the endpoint's single path; §4.1
// T19-T28, T34).
#include "lanyard/core/channel_controller.hpp"

#include "support/controller_script.hpp"

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using namespace lanyard::core;
using namespace lanyard::test;

TEST_CASE("controller: a silent link hands over to another interface at once (T19)") {
  channel_controller c(defaults());
  ready_on(c, {wifi(), p2p()}, 0, t0);
  const auto t1 = t0 + 20s;
  c.connection_lost(peer_dead, t1);
  CHECK(drain(c) == lines{notice_lost(peer_dead), state(channel_state::waiting, peer_dead),
                          notice_reconnect(attempt_trigger::path_failed),
                          state(channel_state::preparing), "race 2 [1 0] path failed"});
  c.race_won(2, 1, t1 + 10ms);
  c.attached(2, t1 + 20ms);
  CHECK(drain(c) == lines{"path wlan0 -> p2p0 (path failed: " + peer_dead.message() + ")"});
}

TEST_CASE("controller: an interface going down moves at once, in one race (T20)") {
  channel_controller c(defaults());
  ready_on(c, {wifi(), p2p()}, 0, t0);
  const std::string why = "wlan0 (wifi) is down";
  c.path_lost(why, t0 + 1s);
  CHECK(drain(c) == lines{"notice active path lost: " + why, "drop connection"});
  // The executor's drop reports the loss back (synchronously, in the same drain).
  c.connection_lost(network_down, t0 + 1s);
  CHECK(drain(c) == lines{notice_lost(network_down), state(channel_state::waiting, network_down),
                          notice_reconnect(attempt_trigger::path_failed),
                          state(channel_state::preparing),
                          "race 2 [0 1] path failed"}); // wlan0 not suspect: the link was fine
  c.race_won(2, 1, t0 + 1s + 10ms);
  c.attached(2, t0 + 1s + 10ms);
  CHECK(drain(c) == lines{"path wlan0 -> p2p0 (path failed: " + why + ")"});
  // Nothing more: a path lost without a connection is not reported.
  c.connection_lost(reset, t0 + 2s);
  drain(c);
  c.path_lost(why, t0 + 2s);
  CHECK(drain(c).empty());
}

TEST_CASE("controller: an interface going down races at once even with no other path") {
  channel_controller c(defaults());
  ready_on(c, {wifi()}, 0, t0);
  c.path_lost("wlan0 (wifi) is down", t0 + 1s);
  drain(c);
  c.paths_changed(snap({down(wifi())}), paths_trigger::refresh, t0 + 1s);
  c.connection_lost(network_down, t0 + 1s);
  const std::string reason = rank_paths(std::vector{down(wifi()).facts}, {}).reason;
  CHECK(drain(c) == lines{notice_lost(network_down), state(channel_state::waiting, network_down),
                          notice_reconnect(attempt_trigger::path_failed),
                          state(channel_state::preparing), notice_failed(reason, no_viable),
                          state(channel_state::waiting, no_viable)});
  CHECK(c.next_deadline() == t0 + 1s + 100ms);
}

TEST_CASE("controller: unpinned paths over two interfaces hand over at once (T21)") {
  channel_controller c(defaults());
  auto if1 = path_over(5, "if1", interface_kind::softap, "192.168.4.1");
  auto if2 = path_over(6, "if2", interface_kind::softap, "192.168.5.1");
  ready_on(c, {if1, if2}, 0, t0);
  c.connection_lost(reset, t0 + 1s);
  CHECK(drain(c) == lines{notice_lost(reset), state(channel_state::waiting, reset),
                          notice_reconnect(attempt_trigger::path_failed),
                          state(channel_state::preparing), "race 2 [1 0] path failed"});
}

TEST_CASE("controller: a suspect link is raced last for 30 s or until it changes (T22)") {
  channel_controller c(defaults());
  ready_on(c, {wifi(), p2p()}, 0, t0);
  const auto t1 = t0 + 20s;
  c.connection_lost(peer_dead, t1);
  c.attempt_failed(2, reset, no_path_worked, t1); // p2p0 did not work either
  drain(c);
  SECTION("30 s") {
    c.network_changed(t1 + 30s - 1ns);
    CHECK(drain(c).back() == "race 3 [1 0] path failed");
    c.attempt_failed(3, reset, no_path_worked, t1 + 30s - 1ns);
    c.network_changed(t1 + 30s);
    CHECK(drain(c).back() == "race 4 [0 1] path failed");
  }
  SECTION("the interface changed state") {
    c.interface_changed_state(2, t1 + 1s);
    c.network_changed(t1 + 1s);
    CHECK(drain(c).back() == "race 3 [0 1] path failed");
  }
}

TEST_CASE("controller: no move back to a suspect link; the hold starts when it ends (T22)") {
  channel_controller c(defaults());
  ready_on(c, {wifi(), p2p()}, 0, t0);
  c.connection_lost(peer_dead, t0 + 1s);
  c.race_won(2, 1, t0 + 1s);
  c.attached(2, t0 + 1s);
  c.established(t0 + 1s);
  drain(c);
  CHECK(c.next_deadline() == t0 + 31s); // the suspicion's end
  c.handle_deadline(t0 + 31s);
  CHECK(drain(c).empty());
  CHECK(c.next_deadline() == t0 + 36s); // the hold, from there
  c.handle_deadline(t0 + 36s);
  CHECK(drain(c) == lines{"notice moving to wlan0 (preferred path available)",
                          "move 3 to 0 (preferred path available)"});
}

TEST_CASE("controller: moves back to the preferred path exactly after the hold (T23)") {
  channel_controller c(defaults());
  ready_on(c, {p2p()}, 0, t0);
  c.paths_changed(snap({p2p(), wifi()}), paths_trigger::interfaces, t0 + 10s);
  CHECK(drain(c).empty());
  CHECK(c.next_deadline() == t0 + 15s);
  c.handle_deadline(t0 + 15s - 1ns);
  CHECK(drain(c).empty());
  c.handle_deadline(t0 + 15s);
  CHECK(drain(c) == lines{"notice moving to wlan0 (preferred path available)",
                          "move 2 to 1 (preferred path available)"});
  CHECK(c.attempt_pending(2));
  c.race_won(2, 1, t0 + 15s + 10ms);
  c.attached(2, t0 + 15s + 10ms);
  CHECK(drain(c) == lines{"path p2p0 -> wlan0 (preferred path available)"});
  CHECK(c.state() == channel_state::ready);
  CHECK(c.active_path()->same_path(wifi()));
}

TEST_CASE("controller: a flap within the hold starts it again (T24)") {
  channel_controller c(defaults());
  ready_on(c, {p2p()}, 0, t0);
  c.paths_changed(snap({p2p(), wifi()}), paths_trigger::interfaces, t0 + 10s);
  c.paths_changed(snap({p2p(), down(wifi())}), paths_trigger::interfaces, t0 + 12s);
  c.paths_changed(snap({p2p(), wifi()}), paths_trigger::interfaces, t0 + 13s);
  c.handle_deadline(t0 + 15s);
  CHECK(drain(c).empty());
  CHECK(c.next_deadline() == t0 + 18s);
  c.handle_deadline(t0 + 18s);
  CHECK(drain(c).back() == "move 2 to 1 (preferred path available)");
}

TEST_CASE("controller: interactive mode moves to a clearly faster path (T25)") {
  channel_controller_settings s = defaults();
  s.paths.mode = ranking_mode::interactive;
  channel_controller c(std::move(s));
  ready_on(c, {wifi(), p2p()}, 0, t0);
  c.rtt_sample(20ms, t0 + 1s); // wlan0 measured at 20 ms
  c.path_lost("wlan0 (wifi) is down", t0 + 2s);
  c.connection_lost(network_down, t0 + 2s);
  c.race_won(2, 1, t0 + 2s); // on p2p0
  c.attached(2, t0 + 2s);
  c.established(t0 + 2s);
  drain(c);
  SECTION("twice as fast: after the hold") {
    // The first sample on p2p0 only tells the tracker the active RTT (path_upgrade_tracker
    // reads it while it walks the paths fastest first, after wlan0): the hold starts with
    // the second, as the client's former path manager's did.
    c.rtt_sample(40ms, t0 + 3s);
    CHECK(c.next_deadline() == time_point::max());
    c.rtt_sample(40ms, t0 + 4s);
    CHECK(c.next_deadline() == t0 + 9s);
    c.handle_deadline(t0 + 9s);
    CHECK(drain(c) == lines{"notice moving to wlan0 (lower RTT)", "move 3 to 0 (lower RTT)"});
  }
  SECTION("0.8 times the RTT: never") {
    c.rtt_sample(25ms, t0 + 3s);
    c.rtt_sample(25ms, t0 + 4s);
    CHECK(c.next_deadline() == time_point::max());
    c.handle_deadline(t0 + 1h);
    CHECK(drain(c).empty());
  }
}

TEST_CASE("controller: a failed move stays, and tries again after a new hold (T26)") {
  channel_controller c(defaults());
  moving_back_to_wifi(c);
  c.attempt_failed(2, reset, "TCP connect to 198.18.1.3 port 7443 failed", t0 + 16s);
  CHECK(drain(c) ==
        lines{"notice move failed, staying: TCP connect to 198.18.1.3 port 7443 failed"});
  CHECK(c.state() == channel_state::ready);
  CHECK(c.next_deadline() == t0 + 20s); // the hold restarted when the move was advised
  c.handle_deadline(t0 + 20s);
  CHECK(drain(c).back() == "move 3 to 1 (preferred path available)");
}

TEST_CASE("controller: a move cancelled by the executor is not logged as failed") {
  channel_controller c(defaults());
  moving_back_to_wifi(c);
  c.attempt_failed(2, aborted, "", t0 + 16s);
  CHECK(drain(c).empty());
}

TEST_CASE("controller: the old connection lost during a move waits for the move (T27)") {
  channel_controller c(defaults());
  moving_back_to_wifi(c);
  c.connection_lost(reset, t0 + 15s + 5ms);
  CHECK(drain(c) == lines{"notice old connection closed while moving: " + reset.message()});
  CHECK(c.state() == channel_state::ready);
  CHECK_FALSE(c.has_connection());
  c.attempt_failed(2, reset, "TLS handshake failed", t0 + 16s);
  CHECK(drain(c) == lines{"notice move failed, staying: TLS handshake failed",
                          notice_reconnect(attempt_trigger::move_failed),
                          state(channel_state::preparing), "race 3 [1 0] path failed"});
}

TEST_CASE("controller: a move that lands after the old connection went replaces the retry "
          "(T28)") {
  channel_controller c(defaults());
  moving_back_to_wifi(c);
  c.connection_lost(reset, t0 + 15s + 5ms);
  c.network_changed(t0 + 15s + 6ms); // ready without a connection: reconnect (T38)
  CHECK(drain(c) == lines{"notice old connection closed while moving: " + reset.message(),
                          notice_reconnect(attempt_trigger::network_changed),
                          state(channel_state::preparing), "race 3 [1 0] path failed"});
  c.attempt_failed(3, reset, no_path_worked, t0 + 15s + 7ms);
  drain(c);
  CHECK(c.next_deadline() == t0 + 15s + 107ms);
  c.race_won(2, 1, t0 + 15s + 8ms);
  // The retry is gone; p2p0 (its connection died) is suspect until then.
  CHECK(c.next_deadline() == t0 + 15s + 5ms + 30s);
  c.attached(2, t0 + 15s + 9ms);
  c.established(t0 + 15s + 9ms);
  CHECK(drain(c) ==
        lines{"path p2p0 -> wlan0 (preferred path available)", state(channel_state::ready)});
}

TEST_CASE("controller: an endpoint channel backs off, never suspects, never moves (T34)") {
  channel_controller c(defaults());
  start_racing(c, {endpoint_path()});
  CHECK(drain(c) == lines{state(channel_state::preparing), "race 1 [0] connected"});
  c.race_won(1, 0, t0);
  c.attached(1, t0);
  c.established(t0);
  CHECK(drain(c) == lines{"path - -> 127.0.0.1 (connected)", state(channel_state::ready)});
  c.connection_lost(peer_dead, t0 + 20s);
  CHECK(drain(c) == lines{notice_lost(peer_dead), state(channel_state::waiting, peer_dead)});
  CHECK(c.next_deadline() == t0 + 20s + 100ms); // no other path: backoff, no suspicion deadline
  c.handle_deadline(t0 + 20s + 100ms);
  CHECK(drain(c) == lines{state(channel_state::preparing), "race 2 [0] path failed"});
}
