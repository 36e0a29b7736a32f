#include "lanyard/core/pairing_throttle.hpp"

#include <algorithm>

namespace lanyard::core {

pairing_throttle::duration pairing_throttle::delay_after(std::uint32_t failures) const noexcept {
  if (failures == 0) return duration::zero();
  const std::uint32_t doublings = std::min<std::uint32_t>(failures - 1, 16);
  const auto d = std::chrono::milliseconds(first_.count() << doublings);
  return std::min<duration>(d, max_);
}

} // namespace lanyard::core
