#include "lanyard/trust/window_clock.hpp"

namespace lanyard::trust {

const monotonic_wall_clock& monotonic_wall_clock::process() noexcept {
  static const monotonic_wall_clock clock(wall::now(), steady::now());
  return clock;
}

} // namespace lanyard::trust
