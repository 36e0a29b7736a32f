/// @file
/// The clock an accessory runs its pairing window on: wall-clock time as it was when the
/// process started, advanced by the monotonic clock since. A wall clock that jumps while the
/// accessory runs (an RTC-less device booting in 1970, then set by NTP once on Wi-Fi; a user
/// changing the time) moves neither the window's deadline nor its opening; only a restart reads
/// the wall clock again. The persisted window (controller_store) keeps, besides wall-clock times,
/// the boot it was written in and its times on that boot's monotonic clock (CLOCK_BOOTTIME): a
/// restart within the same boot takes the window's age from there, so a wall-clock jump between
/// two runs neither closes nor extends it either. After a reboot only the wall-clock times are
/// left; a clock found behind the opening time then closes the window (fail-closed,
/// core::pairing_window).
///
/// Thread-safety: now() may be called from any thread (the anchor is taken once, thread-safely,
/// on first use); a monotonic_wall_clock object is a plain value.
#pragma once

#include <chrono>
#include <string>

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

/// Where in which boot this is: the kernel's boot id (/proc/sys/kernel/random/boot_id, new at
/// every boot) and the time since that boot on CLOCK_BOOTTIME (monotonic, counts suspend too).
struct boot_instant {
  std::string boot_id; ///< empty if unknown (not Linux, /proc not mounted)
  std::chrono::milliseconds since_boot{};

  /// This boot, now.
  static boot_instant now();
};

/// The window's clock and the boot's clock read together: how controller_store converts a
/// persisted window between the two (injectable, for tests of a restart).
struct window_time {
  window_clock::time_point now{};
  boot_instant boot;

  /// window_clock::now() and boot_instant::now().
  static window_time sample();
};

} // namespace lanyard::trust
