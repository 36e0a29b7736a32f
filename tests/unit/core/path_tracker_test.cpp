// path_tracker under a fake clock: RTTs per interface, suspect links last and not moved back to
// until the suspicion ends, make-before-break moves only after the hold.
#include "lanyard/core/path_tracker.hpp"

#include "support/tracked_paths.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <vector>

using namespace std::chrono_literals;
using namespace lanyard::core;
using namespace lanyard::test;

namespace {

using viable = std::vector<std::size_t>;

path_tracker_settings interactive() {
  path_tracker_settings s;
  s.mode = ranking_mode::interactive;
  return s;
}

// Runs on p2p0 (index 1 of {wifi, p2p}) since `at`, with Wi-Fi viable.
path_tracker on_p2p_with_wifi(path_tracker_settings s, path_tracker::time_point at) {
  path_tracker t(std::move(s));
  t.update({wifi(), p2p()}, at);
  t.set_active(t.paths()[1], at);
  return t;
}

// Runs on p2p0 since t0 (nothing else viable then); Wi-Fi viable from t0 + 10 s.
path_tracker wifi_back_at_10s() {
  path_tracker t;
  t.update({p2p()}, t0);
  t.set_active(t.paths()[0], t0);
  t.update({p2p(), wifi()}, t0 + 10s);
  return t;
}

// No move is advised before `at`; at `at` the move to paths()[index] (the preferred path).
void moves_back_exactly_at(path_tracker& t, path_tracker::time_point at, std::size_t index) {
  CHECK(t.next_deadline() == at);
  t.handle_deadline(at - 1ns);
  CHECK_FALSE(t.poll_upgrade());
  t.handle_deadline(at);
  CHECK(t.poll_upgrade() == upgrade_advice{index, path_change_reason::preferred_path_available});
}

} // namespace

TEST_CASE("path_tracker: ranking fills in the RTT measured on each interface") {
  path_tracker t(interactive());
  t.update({wifi(), p2p()}, t0);
  CHECK(t.ranked().viable == viable{0, 1}); // nothing measured: handover order
  t.set_active(t.paths()[0], t0);
  t.rtt_sample(40ms, t0 + 1s);
  t.set_active(t.paths()[1], t0 + 2s);
  t.rtt_sample(20ms, t0 + 3s);
  CHECK(t.paths()[0].facts.rtt == 40ms);
  CHECK(t.paths()[1].facts.rtt == 20ms);
  CHECK(t.ranked().viable == viable{1, 0});
  // A new snapshot keeps them (they belong to the interface, not to the snapshot).
  t.update({wifi(), p2p()}, t0 + 4s);
  CHECK(t.paths()[0].facts.rtt == 40ms);
  CHECK(t.ranked().viable == viable{1, 0});
}

TEST_CASE("path_tracker: an RTT sample without an active path is dropped") {
  path_tracker t(interactive());
  t.update({wifi()}, t0);
  t.rtt_sample(40ms, t0);
  CHECK_FALSE(t.paths()[0].facts.rtt);
}

TEST_CASE("path_tracker: a move goes to the best path of the better interface, once") {
  path_tracker t;
  // wlan0 has two addresses; the IPv6 one ranks first (RFC 8305 §4).
  auto wifi6 = path_over(2, "wlan0", interface_kind::wifi, "2001:db8::3");
  wifi6.facts.family = address_family::ipv6;
  t.update({p2p(), wifi(), wifi6}, t0);
  t.set_active(t.paths()[0], t0);
  CHECK(t.next_deadline() == t0 + 5s); // one hold for the interface, not one per address
  t.handle_deadline(t0 + 5s);
  CHECK(t.poll_upgrade() == upgrade_advice{2, path_change_reason::preferred_path_available});
  CHECK_FALSE(t.poll_upgrade());
}

TEST_CASE("path_tracker: suspect links go last, the rest keeps its order") {
  path_tracker t;
  // Directory: wlan0, p2p0; then a static path over wlan0 again.
  t.update({wifi(), p2p(), wifi("198.18.1.4")}, t0);
  CHECK(t.ranked().viable == viable{0, 2, 1});
  t.set_active(t.paths()[0], t0);
  t.suspect_active(t0 + 1s);
  CHECK(t.ranked().viable == viable{1, 0, 2}); // directory before statics among equals
  CHECK(t.suspected(2, t0 + 1s));
}

TEST_CASE("path_tracker: a path without an interface is never suspect") {
  path_tracker t;
  t.update({endpoint_path()}, t0);
  t.set_active(t.paths()[0], t0);
  t.suspect_active(t0);
  CHECK_FALSE(t.suspected(0, t0));
  CHECK(t.next_deadline() == path_tracker::time_point::max());
}

TEST_CASE("path_tracker: the active path is found again in a new snapshot by identity") {
  path_tracker t;
  t.update({wifi(), p2p()}, t0);
  t.set_active(t.paths()[1], t0);
  t.update({wifi("198.18.1.9"), wifi(), p2p()}, t0 + 1s);
  CHECK(t.active() == 2u);
  auto moved = p2p();
  moved.port = 7444; // another port: another path
  t.update({wifi(), moved}, t0 + 2s);
  CHECK_FALSE(t.active());
  REQUIRE(t.active_path());
  CHECK(t.active_path()->same_path(p2p()));
}

TEST_CASE("path_tracker: another interface is viable only under another name") {
  path_tracker t;
  t.update({wifi(), wifi("198.18.1.4")}, t0);
  CHECK_FALSE(t.other_interface_viable("wlan0"));
  CHECK(t.other_interface_viable("p2p0"));
  t.update({wifi(), down(p2p())}, t0);
  CHECK_FALSE(t.other_interface_viable("wlan0")); // p2p0 is not viable
  CHECK(t.viable_kinds() == kind_set{interface_kind::wifi});
}

TEST_CASE("path_tracker: a suspect link is raced last until the suspicion ends (T22)") {
  path_tracker t;
  t.update({wifi(), p2p()}, t0);
  t.set_active(t.paths()[0], t0);
  const auto t1 = t0 + 2s;
  t.suspect_active(t1);
  t.set_active(std::nullopt, t1);
  CHECK(t.ranked().viable == viable{1, 0});
  CHECK(t.next_deadline() == t1 + 30s);
  t.handle_deadline(t1 + 30s - 1ns);
  CHECK(t.ranked().viable == viable{1, 0});
  t.handle_deadline(t1 + 30s);
  CHECK(t.ranked().viable == viable{0, 1});
  CHECK(t.next_deadline() == path_tracker::time_point::max());
}

TEST_CASE("path_tracker: an interface changing state is no longer suspect (T22)") {
  path_tracker t;
  t.update({wifi(), p2p()}, t0);
  t.set_active(t.paths()[0], t0);
  t.suspect_active(t0);
  t.interface_changed_state(3, t0 + 1s); // another interface: wlan0 stays suspect
  CHECK(t.ranked().viable == viable{1, 0});
  t.interface_changed_state(2, t0 + 1s);
  CHECK(t.ranked().viable == viable{0, 1});
}

TEST_CASE("path_tracker: no move back to a suspect link; the hold starts when it ends (T22)") {
  path_tracker t;
  t.update({wifi(), p2p()}, t0);
  t.set_active(t.paths()[0], t0);
  t.suspect_active(t0);
  t.set_active(std::nullopt, t0);
  t.set_active(t.paths()[1], t0 + 1s);  // reconnected over p2p0
  CHECK(t.next_deadline() == t0 + 30s); // only the suspicion: no hold for wlan0
  t.handle_deadline(t0 + 30s);
  CHECK_FALSE(t.poll_upgrade());
  moves_back_exactly_at(t, t0 + 35s, 0);
}

TEST_CASE("path_tracker: move back exactly at the end of the hold (T23)") {
  path_tracker t = wifi_back_at_10s();
  moves_back_exactly_at(t, t0 + 15s, 1);
  // A move that failed starts a new hold rather than retrying in a loop.
  CHECK(t.next_deadline() == t0 + 20s);
}

TEST_CASE("path_tracker: a flap within the hold restarts it (T24)") {
  path_tracker t = wifi_back_at_10s();
  t.update({p2p(), down(wifi())}, t0 + 12s);
  CHECK(t.next_deadline() == path_tracker::time_point::max());
  t.update({p2p(), wifi()}, t0 + 13s);
  t.handle_deadline(t0 + 15s);
  CHECK_FALSE(t.poll_upgrade());
  moves_back_exactly_at(t, t0 + 18s, 1);
}

TEST_CASE("path_tracker: interactive moves to a clearly faster path only (T25)") {
  SECTION("half the RTT: moves after the hold") {
    path_tracker t = on_p2p_with_wifi(interactive(), t0);
    t.rtt_sample(40ms, t0);
    t.set_active(t.paths()[0], t0 + 1s); // wifi measured at 20 ms earlier
    t.rtt_sample(20ms, t0 + 1s);
    t.set_active(t.paths()[1], t0 + 2s); // back on p2p (40 ms)
    CHECK(t.next_deadline() == t0 + 7s);
    t.handle_deadline(t0 + 7s);
    CHECK(t.poll_upgrade() == upgrade_advice{0, path_change_reason::lower_rtt});
  }
  SECTION("0.8 times the RTT: never") {
    path_tracker t = on_p2p_with_wifi(interactive(), t0);
    t.rtt_sample(40ms, t0);
    t.set_active(t.paths()[0], t0 + 1s);
    t.rtt_sample(32ms, t0 + 1s);
    t.set_active(t.paths()[1], t0 + 2s);
    CHECK(t.next_deadline() == path_tracker::time_point::max());
    t.handle_deadline(t0 + 1h);
    CHECK_FALSE(t.poll_upgrade());
  }
}
