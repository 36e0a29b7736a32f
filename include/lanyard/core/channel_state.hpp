/// @file
/// The states a client channel reports, and why it changes paths. They live in the core so that
/// core::channel_controller (the sans-IO connection policy) can report them; the public
/// client headers (lanyard/client/channel_state.hpp, lanyard/client/path_options.hpp) keep
/// their names as aliases.
///
///     setup ──start()──▶ preparing ──established──▶ ready
///                           ▲   │                     │ connection lost
///                           │   ▼ attempt failed      ▼
///                           └── waiting(reason) ◀─────┘
///     any state ──fatal error──▶ failed(error)      any state ──cancel()──▶ cancelled
///
/// Thread-safety: value types and pure functions.
#pragma once

#include <cstdint>
#include <string_view>

namespace lanyard::core {

/// See the file comment; modelled on Network.framework's NWConnection.State.
enum class channel_state {
  /// Constructed, start() not yet called. Sends are queued in the session.
  setup,
  /// A connection attempt is under way (resolve, TCP connect, TLS handshake, HELLO/WELCOME).
  preparing,
  /// The session is established: messages and acknowledgements flow.
  ready,
  /// No usable connection; the reason is the last error. A new attempt is scheduled with
  /// backoff (or made at once on network_changed()). Sends still queue.
  waiting,
  /// A fatal error (trust refusal, the accessory refusing our certificate, the session closed by
  /// the peer): no more attempts. Terminal.
  failed,
  /// cancel() was called. Terminal.
  cancelled,
};

/// "setup", "preparing", "ready", "waiting", "failed", "cancelled".
constexpr std::string_view to_string(channel_state s) noexcept {
  switch (s) {
  case channel_state::setup:
    return "setup";
  case channel_state::preparing:
    return "preparing";
  case channel_state::ready:
    return "ready";
  case channel_state::waiting:
    return "waiting";
  case channel_state::failed:
    return "failed";
  case channel_state::cancelled:
    return "cancelled";
  }
  return "unknown";
}

/// Why the channel changed paths.
enum class path_change_reason : std::uint8_t {
  connected,                ///< the first path of the session, or after a disconnection
  path_failed,              ///< the active path failed; moved to the best other one
  preferred_path_available, ///< handover: back to a more preferred path (make-before-break)
  lower_rtt,                ///< interactive: to a clearly faster path (make-before-break)
};

/// "connected", "path failed", "preferred path available", "lower RTT".
constexpr std::string_view to_string(path_change_reason r) noexcept {
  switch (r) {
  case path_change_reason::connected:
    return "connected";
  case path_change_reason::path_failed:
    return "path failed";
  case path_change_reason::preferred_path_available:
    return "preferred path available";
  case path_change_reason::lower_rtt:
    return "lower RTT";
  }
  return "?";
}

} // namespace lanyard::core
