/// @file
/// The accessory's delay between failed pairing proofs: each failure adds a wait before the
/// next proof is evaluated (0.25 s after the first, doubling to at most 8 s), so a burst of
/// guesses is slow while an owner who mistyped once barely notices. The count of failures is
/// the pairing window's (persisted); the wait runs on the monotonic clock within a boot.
///
/// Sans-IO: a value, every call takes `now`. Thread-safety: distinct objects safe, shared
/// objects unsafe.
#pragma once

#include <chrono>
#include <cstdint>

namespace lanyard::core {

class pairing_throttle {
public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;
  using duration = clock::duration;

  static constexpr std::chrono::milliseconds default_first_delay{250};
  static constexpr std::chrono::milliseconds default_max_delay{8000};

  pairing_throttle() noexcept = default;
  /// Other delays (a test lab shortens them; a product should keep the defaults).
  pairing_throttle(std::chrono::milliseconds first, std::chrono::milliseconds max) noexcept
      : first_(first), max_(max) {}

  /// The wait after `failures` failed proofs: 0 for none, `first` after one, doubling up to
  /// `max` (by default 250 ms, 0.5 s, 1 s, 2 s, 4 s, then 8 s).
  duration delay_after(std::uint32_t failures) const noexcept;

  /// A proof failed at `now`; `failures` is the count including it.
  void record_failure(time_point now, std::uint32_t failures) noexcept {
    not_before_ = now + delay_after(failures);
  }

  /// No proof is evaluated before this time.
  time_point not_before() const noexcept { return not_before_; }

  /// Puts back an earlier not_before() (a failure recorded ahead of a proof that then
  /// succeeded delays nobody).
  void restore(time_point not_before) noexcept { not_before_ = not_before; }

private:
  std::chrono::milliseconds first_ = default_first_delay;
  std::chrono::milliseconds max_ = default_max_delay;
  time_point not_before_{};
};

} // namespace lanyard::core
