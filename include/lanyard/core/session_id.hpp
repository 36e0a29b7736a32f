/// @file
/// The 16-byte identifier of a channel session.
///
/// The accessory (server) picks a fresh random id for every new session, so an id that
/// survives in the app but not in the accessory (it rebooted) is simply unknown to it and
/// the session is reset rather than confused with another. The all-zero id means "no session
/// yet" in a HELLO. The core never generates ids itself: randomness comes from the caller.
///
/// Thread-safety: a value type; distinct objects are safe, shared objects are read-only safe.
#pragma once

#include <array>
#include <cstddef>

namespace lanyard::core {

/// A session identifier: 16 opaque bytes, all zero meaning "none".
struct session_id {
  std::array<std::byte, 16> bytes{};

  /// True if this is the all-zero "no session" id.
  constexpr bool is_zero() const noexcept {
    for (std::byte b : bytes)
      if (b != std::byte{0}) return false;
    return true;
  }

  friend constexpr bool operator==(const session_id&, const session_id&) = default;
  /// Byte order; only for indexes (core::session_table), ids carry no order of their own.
  friend constexpr auto operator<=>(const session_id&, const session_id&) = default;
};

} // namespace lanyard::core
