#include "lanyard/core/backoff.hpp"

#include <algorithm>

namespace lanyard::core {

std::chrono::nanoseconds backoff::ceiling() const noexcept {
  const auto cap = std::max<std::int64_t>(settings_.cap.count(), 0);
  auto bound = std::clamp<std::int64_t>(settings_.initial.count(), 0, cap);
  // Doubling stops at the cap, so this neither overflows nor loops more than ~63 times.
  for (std::uint32_t i = 0; i < attempts_ && bound < cap; ++i)
    bound = bound > cap / 2 ? cap : bound * 2;
  return std::chrono::nanoseconds(bound);
}

std::chrono::nanoseconds backoff::next_delay(std::uint64_t random) noexcept {
  const auto bound = static_cast<std::uint64_t>(ceiling().count());
  if (attempts_ < 64) ++attempts_;
  // Uniform in [0, bound]. The modulo bias is below 2^-20 for any bound under 2^44 ns (~4.9 h).
  const std::uint64_t d = bound == UINT64_MAX ? random : random % (bound + 1);
  return std::chrono::nanoseconds(static_cast<std::int64_t>(d));
}

} // namespace lanyard::core
