/// @file
/// Errors of the relay's tunnel frames (docs/design/relay.md): what arrives from an MQTT
/// broker is untrusted, and each way it can be wrong has one code.
#pragma once

#include <system_error>
#include <type_traits>

namespace lanyard::core {

/// What is wrong with a relay frame, a relay address, or the order of a tunnel's frames.
/// Any of them ends the tunnel (its TLS connection fails); the channel's session does not.
enum class relay_errc {
  /// Fewer bytes than the frame's header or its type's body needs.
  truncated = 1,
  /// A version other than 1: the peer speaks a relay protocol this build does not.
  bad_version,
  /// A frame type that is none of OPEN, ACCEPT, DATA, CLOSE.
  bad_type,
  /// Bytes after the end of a frame whose body has a fixed size (OPEN, ACCEPT, CLOSE).
  trailing_bytes,
  /// A DATA frame's body is larger than relay_max_data, or empty.
  bad_data_size,
  /// An account or inbox name that cannot be part of a topic: empty, too long, or a byte
  /// outside A-Z, a-z, 0-9, '-', '_' (MQTT's '/', '+', '#' and NUL are never allowed).
  bad_address,
  /// A frame came out of order: a sequence number skipped (a frame was lost or forged).
  sequence_gap,
  /// The output buffer cannot take the frame.
  buffer_too_small,
};

/// The error category of relay_errc, named "lanyard.relay".
const std::error_category& relay_category() noexcept;

/// Makes a std::error_code of relay_category() (found by argument-dependent lookup).
inline std::error_code make_error_code(relay_errc e) noexcept {
  return {static_cast<int>(e), relay_category()};
}

} // namespace lanyard::core

template <>
struct std::is_error_code_enum<lanyard::core::relay_errc> : std::true_type {};
