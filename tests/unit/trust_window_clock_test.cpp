#include <lanyard/trust/window_clock.hpp>

#include <lanyard/core/pairing_window.hpp>

#include <catch2/catch.hpp>

#include <chrono>

using namespace std::chrono_literals;
using lanyard::trust::monotonic_wall_clock;

TEST_CASE("the window's clock follows the monotonic clock, not the wall clock's jumps") {
  // An RTC-less accessory: its wall clock says 1970 when the process starts.
  const auto wall0 = std::chrono::system_clock::time_point{} + 10s;
  const auto steady0 = std::chrono::steady_clock::time_point{} + 1000h;
  const monotonic_wall_clock clock(wall0, steady0);
  CHECK(clock.at(steady0) == wall0);
  CHECK(clock.at(steady0 + 5min) == wall0 + 5min);

  // The window opened at start times out after 15 monotonic minutes, whatever the wall clock
  // does meanwhile (NTP setting it to 2026 after provisioning would otherwise close it at once).
  lanyard::core::pairing_window w;
  REQUIRE_FALSE(w.open(clock.at(steady0), 15min));
  CHECK_FALSE(w.admit(clock.at(steady0 + 14min)));
  CHECK(w.admit(clock.at(steady0 + 15min)) == lanyard::core::pairing_errc::window_closed);
}

TEST_CASE("this process's window clock starts at the wall clock and advances monotonically") {
  const auto before = std::chrono::system_clock::now();
  const auto a = lanyard::trust::window_clock::now();
  const auto b = lanyard::trust::window_clock::now();
  CHECK(b >= a);
  CHECK(a - before < 5s);
  CHECK(before - a < 5s);
}
