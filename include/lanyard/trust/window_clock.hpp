/// @file
/// The clock an accessory runs its pairing window on: wall-clock time as it was when the
/// process started, advanced by the monotonic clock since. A wall clock that jumps while the
/// accessory runs (an RTC-less device booting in 1970, then set by NTP once on Wi-Fi; a user
/// changing the time) moves neither the window's deadline nor its opening; only a restart reads
/// the wall clock again. The persisted window (controller_store) keeps wall-clock times so that
/// a restart can tell how old it is; a clock found behind the opening time then closes the
/// window (fail-closed, core::pairing_window).
///
/// Thread-safety: now() may be called from any thread (the anchor is taken once, thread-safely,
/// on first use); a monotonic_wall_clock object is a plain value.
#pragma once

#include <chrono>

namespace lanyard::trust {

/// Wall time = `wall_anchor` + (steady now − `steady_anchor`).
class monotonic_wall_clock {
public:
  using wall = std::chrono::system_clock;
  using steady = std::chrono::steady_clock;

  monotonic_wall_clock(wall::time_point wall_anchor, steady::time_point steady_anchor) noexcept
      : wall_(wall_anchor), steady_(steady_anchor) {}

  /// The wall time that corresponds to monotonic time `t`.
  wall::time_point at(steady::time_point t) const noexcept {
    return wall_ + std::chrono::duration_cast<wall::duration>(t - steady_);
  }

  /// This process's clock, anchored on first use.
  static const monotonic_wall_clock& process() noexcept;

private:
  wall::time_point wall_;
  steady::time_point steady_;
};

/// The time the accessory's pairing window runs on: monotonic_wall_clock::process().at(now).
struct window_clock {
  using time_point = std::chrono::system_clock::time_point;
  static time_point now() noexcept {
    return monotonic_wall_clock::process().at(std::chrono::steady_clock::now());
  }
};

} // namespace lanyard::trust
