#include "lanyard/trust/window_clock.hpp"

#include <ctime>
#include <fstream>

namespace lanyard::trust {

const monotonic_wall_clock& monotonic_wall_clock::process() noexcept {
  static const monotonic_wall_clock clock(wall::now(), steady::now());
  return clock;
}

namespace {

// The boot id never changes while the system runs: read once. A 36-character UUID, or empty.
const std::string& this_boot_id() {
  static const std::string id = [] {
    std::ifstream in("/proc/sys/kernel/random/boot_id");
    std::string line;
    if (!in || !std::getline(in, line) || line.size() != 36) return std::string();
    for (char c : line)
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-')) return std::string();
    return line;
  }();
  return id;
}

} // namespace

boot_instant boot_instant::now() {
  boot_instant b;
  timespec ts{};
  if (::clock_gettime(CLOCK_BOOTTIME, &ts) != 0) return b; // no boot clock: no boot id either
  b.boot_id = this_boot_id();
  b.since_boot = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec));
  return b;
}

window_time window_time::sample() {
  window_time t;
  t.boot = boot_instant::now();
  t.now = window_clock::now();
  return t;
}

} // namespace lanyard::trust
