/// @file
/// Reconnect backoff: exponential growth, full jitter, a cap, reset on success.
///
/// Attempt n (from 0) waits a uniformly random time in [0, min(cap, initial · 2^n)] — "full
/// jitter" (AWS Architecture Blog, "Exponential Backoff And Jitter"), which spreads the
/// reconnects of many apps after an accessory reboot instead of synchronising them. The
/// randomness is an argument: the core never owns an RNG, and tests pass fixed values.
///
/// Errors: none. Thread-safety: distinct objects are safe, shared objects are unsafe.
#pragma once

#include <chrono>
#include <cstdint>

namespace lanyard::core {

/// Backoff parameters.
struct backoff_settings {
  /// Upper bound of the first delay. 250 ms: a flap of the Wi-Fi link usually heals within
  /// that, and it matches the RFC 8305 connection-attempt spacing used by the connector.
  std::chrono::nanoseconds initial = std::chrono::milliseconds(250);
  /// Upper bound of any delay. 30 s: an accessory that comes back is found within half a
  /// minute, while a dead one costs at most two attempts a minute.
  std::chrono::nanoseconds cap = std::chrono::seconds(30);
};

/// See the file comment.
class backoff {
public:
  explicit backoff(backoff_settings settings = {}) noexcept : settings_(settings) {}

  /// The delay before the next attempt, and counts the attempt. `random` is a uniformly
  /// distributed 64-bit value from the caller's RNG.
  std::chrono::nanoseconds next_delay(std::uint64_t random) noexcept;

  /// The current upper bound, min(cap, initial · 2^attempts()).
  std::chrono::nanoseconds ceiling() const noexcept;

  /// A connection succeeded: the next delay starts from `initial` again.
  void reset() noexcept { attempts_ = 0; }

  /// Attempts since construction or the last reset().
  std::uint32_t attempts() const noexcept { return attempts_; }

  const backoff_settings& settings() const noexcept { return settings_; }

private:
  backoff_settings settings_;
  std::uint32_t attempts_ = 0;
};

} // namespace lanyard::core
