#include "lanyard/core/pairing_window.hpp"

#include <catch2/catch.hpp>

using namespace lanyard::core;
using namespace std::chrono_literals;

namespace {
const pairing_window::time_point t0{std::chrono::hours(490000)}; // some fixed wall-clock time
}

TEST_CASE("pairing window is closed until opened") {
  pairing_window w;
  CHECK(w.admit(t0) == pairing_errc::window_closed);
  CHECK_FALSE(w.is_open(t0));
  CHECK_FALSE(w.next_expiry());
  CHECK(w.describe(t0) == "pairing window closed: it was never opened");
}

TEST_CASE("pairing window opens for 15 minutes by default and times out") {
  pairing_window w;
  REQUIRE_FALSE(w.open(t0));
  CHECK(w.is_open(t0));
  CHECK(w.is_open(t0 + 15min - 1s));
  CHECK_FALSE(w.is_open(t0 + 15min));
  CHECK(w.admit(t0 + 15min) == pairing_errc::window_closed);
  CHECK(w.next_expiry() == t0 + 15min);
  CHECK(w.remaining(t0 + 5min) == 10min);
  CHECK(w.describe(t0 + 5min) == "pairing window open for 600 more seconds (0 of 20 attempts "
                                 "failed)");
  CHECK_FALSE(w.expire(t0 + 14min));
  CHECK(w.expire(t0 + 15min));
  CHECK_FALSE(w.state().open);
  CHECK(w.state().close_reason == window_close_reason::timed_out);
  CHECK_FALSE(w.expire(t0 + 16min)); // nothing changes any more
}

TEST_CASE("pairing window timeout must be within 3..15 minutes") {
  pairing_window w;
  CHECK(w.open(t0, 3min - 1s) == pairing_errc::invalid_timeout);
  CHECK(w.open(t0, 15min + 1s) == pairing_errc::invalid_timeout);
  CHECK_FALSE(w.state().open);
  CHECK_FALSE(w.open(t0, 3min));
  CHECK(w.next_expiry() == t0 + 3min);
  CHECK_FALSE(w.open(t0 + 1min, 15min)); // reopening moves the deadline
  CHECK(w.next_expiry() == t0 + 16min);
}

TEST_CASE("pairing window closes after 20 failures; the 21st attempt is refused") {
  pairing_window w;
  REQUIRE_FALSE(w.open(t0));
  for (int i = 1; i <= 20; ++i) {
    INFO("attempt " << i);
    REQUIRE_FALSE(w.admit(t0 + 1s * i)); // attempt i is admitted ...
    w.record_failure();                  // ... and fails
  }
  CHECK(w.state().failed_attempts == 20);
  CHECK_FALSE(w.state().open);
  CHECK(w.state().close_reason == window_close_reason::too_many_attempts);
  CHECK(w.admit(t0 + 30s) == pairing_errc::too_many_attempts); // the 21st
  CHECK(w.describe(t0) ==
        "pairing window closed after 20 failed attempts; press the accessory's pairing button (or "
        "open it from an admin controller)");
  w.record_failure(); // more failures don't overflow or reopen
  CHECK(w.state().failed_attempts == 20);

  // Setup mode (e.g. after a reboot) may not reopen it: power cycling buys no guesses.
  CHECK(w.open(t0 + 1min, 15min, window_opener::setup_mode) == pairing_errc::too_many_attempts);
  CHECK_FALSE(w.is_open(t0 + 1min));
  // An admin may, and that resets the count.
  REQUIRE_FALSE(w.open(t0 + 1min, 15min, window_opener::admin));
  CHECK(w.is_open(t0 + 2min));
  CHECK(w.state().failed_attempts == 0);
}

TEST_CASE("pairing window failure count survives a restart") {
  pairing_window w;
  REQUIRE_FALSE(w.open(t0));
  for (int i = 0; i < 19; ++i)
    w.record_failure();
  const pairing_window_state saved = w.state();

  pairing_window restarted(saved);
  CHECK_FALSE(restarted.expire(t0 + 1min));
  CHECK(restarted.is_open(t0 + 1min));
  REQUIRE_FALSE(restarted.open(t0 + 1min)); // setup mode reopens, count kept
  CHECK(restarted.state().failed_attempts == 19);
  restarted.record_failure();
  CHECK(restarted.admit(t0 + 2min) == pairing_errc::too_many_attempts);
}

TEST_CASE("pairing window treats a clock that went backwards as expired") {
  pairing_window w;
  REQUIRE_FALSE(w.open(t0));
  CHECK(w.admit(t0 - 1s) == pairing_errc::window_closed);
  CHECK(w.expire(t0 - 1h));
  CHECK_FALSE(w.is_open(t0 + 1min));
}

TEST_CASE("pairing window close keeps the count") {
  pairing_window w;
  REQUIRE_FALSE(w.open(t0));
  w.record_failure();
  w.close();
  CHECK(w.admit(t0) == pairing_errc::window_closed);
  CHECK(w.state().close_reason == window_close_reason::closed);
  CHECK(w.state().failed_attempts == 1);
  CHECK(std::string(pairing_category().name()) == "lanyard.pairing");
}
