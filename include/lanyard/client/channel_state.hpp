/// @file
/// The states a client_channel reports, modelled on Network.framework's NWConnection.State.
///
///     setup ──start()──▶ preparing ──established──▶ ready
///                           ▲   │                     │ connection lost
///                           │   ▼ attempt failed      ▼
///                           └── waiting(reason) ◀─────┘
///     any state ──fatal error──▶ failed(error)      any state ──cancel()──▶ cancelled
///
/// Thread-safety: value types and pure functions.
#pragma once

#include <string_view>

namespace lanyard::client {

/// See the file comment.
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

} // namespace lanyard::client
