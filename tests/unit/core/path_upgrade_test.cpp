// path_upgrade_tracker under a fake clock: move back only after the hold, never on flaps.
#include "lanyard/core/path_upgrade.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <vector>

using namespace std::chrono_literals;
using namespace lanyard::core;

namespace {

const path_upgrade_tracker::time_point t0{};
constexpr std::uint32_t wlan0 = 2, p2p0 = 3, cell0 = 4;
const upgrade_path wifi{wlan0, 1, std::nullopt};
const upgrade_path p2p{p2p0, 2, std::nullopt};
const upgrade_path cell{cell0, 4, std::nullopt};

} // namespace

TEST_CASE("path_upgrade: the preferred link must stay viable for the hold before moving back") {
  path_upgrade_tracker t({ranking_mode::handover, 5s});
  t.set_active(p2p, t0); // Wi-Fi was cut; the session runs on p2p
  std::vector<upgrade_path> viable{p2p};
  t.update(viable, t0);
  CHECK(t.next_deadline() == path_upgrade_tracker::time_point::max());
  viable = {wifi, p2p}; // Wi-Fi is back
  t.update(viable, t0 + 10s);
  CHECK(t.next_deadline() == t0 + 15s);
  t.handle_deadline(t0 + 14s);
  CHECK_FALSE(t.poll_upgrade());
  t.handle_deadline(t0 + 15s);
  auto u = t.poll_upgrade();
  REQUIRE(u);
  CHECK(u->interface_index == wlan0);
  CHECK(u->reason == upgrade_reason::preferred_path_available);
  CHECK_FALSE(t.poll_upgrade()); // advised once
}

TEST_CASE("path_upgrade: a flap restarts the hold, so a link that keeps going gets no move") {
  path_upgrade_tracker t({ranking_mode::handover, 5s});
  t.set_active(p2p, t0);
  std::vector<upgrade_path> both{wifi, p2p}, only_p2p{p2p};
  t.update(both, t0);
  t.update(only_p2p, t0 + 4s); // down again before the hold ended
  t.handle_deadline(t0 + 5s);
  CHECK_FALSE(t.poll_upgrade());
  t.update(both, t0 + 6s); // back: a new hold from here
  t.handle_deadline(t0 + 10s);
  CHECK_FALSE(t.poll_upgrade());
  t.handle_deadline(t0 + 11s);
  CHECK(t.poll_upgrade());
}

TEST_CASE("path_upgrade: worse or equally preferred paths are never worth a move") {
  path_upgrade_tracker t({ranking_mode::handover, 5s});
  t.set_active(wifi, t0);
  std::vector<upgrade_path> viable{wifi, p2p, cell};
  t.update(viable, t0);
  t.handle_deadline(t0 + 60s);
  CHECK_FALSE(t.poll_upgrade());
  CHECK(t.next_deadline() == path_upgrade_tracker::time_point::max());
}

TEST_CASE("path_upgrade: the best of several better paths is chosen") {
  path_upgrade_tracker t({ranking_mode::handover, 1s});
  t.set_active(cell, t0);
  std::vector<upgrade_path> viable{p2p, wifi, cell};
  t.update(viable, t0);
  t.handle_deadline(t0 + 1s);
  auto u = t.poll_upgrade();
  REQUIRE(u);
  CHECK(u->interface_index == wlan0);
}

TEST_CASE("path_upgrade: nothing is advised while disconnected, and a new active restarts") {
  path_upgrade_tracker t({ranking_mode::handover, 1s});
  std::vector<upgrade_path> viable{wifi, p2p};
  t.update(viable, t0);
  t.handle_deadline(t0 + 2s);
  CHECK_FALSE(t.poll_upgrade());
  t.set_active(p2p, t0 + 2s);
  t.update(viable, t0 + 2s);
  t.set_active(p2p, t0 + 2500ms); // reconnected (e.g. after a takeover): hold restarts
  t.update(viable, t0 + 2500ms);
  t.handle_deadline(t0 + 3s);
  CHECK_FALSE(t.poll_upgrade());
  t.handle_deadline(t0 + 3500ms);
  CHECK(t.poll_upgrade());
}

TEST_CASE("path_upgrade: interactive mode moves to a path that stays clearly faster") {
  path_upgrade_tracker t({ranking_mode::interactive, 2s, 0.75});
  t.set_active(upgrade_path{wlan0, 1, 40ms}, t0);
  std::vector<upgrade_path> viable{{wlan0, 1, 40ms}, {p2p0, 2, 35ms}}; // only 12% faster
  t.update(viable, t0);
  t.handle_deadline(t0 + 5s);
  CHECK_FALSE(t.poll_upgrade());
  viable = {{wlan0, 1, 40ms}, {p2p0, 2, 10ms}};
  t.update(viable, t0 + 5s);
  viable = {{wlan0, 1, 12ms}, {p2p0, 2, 10ms}}; // Wi-Fi recovered: no longer clearly faster
  t.update(viable, t0 + 6s);
  t.handle_deadline(t0 + 7s);
  CHECK_FALSE(t.poll_upgrade());
  viable = {{wlan0, 1, 50ms}, {p2p0, 2, 10ms}};
  t.update(viable, t0 + 8s);
  t.handle_deadline(t0 + 10s);
  auto u = t.poll_upgrade();
  REQUIRE(u);
  CHECK(u->interface_index == p2p0);
  CHECK(u->reason == upgrade_reason::lower_rtt);
}
