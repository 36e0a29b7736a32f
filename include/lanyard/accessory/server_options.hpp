/// @file
/// Configuration of an accessory::server.
///
/// Thread-safety: value types.
#pragma once

#include <lanyard/core/session_settings.hpp>
#include <lanyard/trust/controller_store.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <string_view>

namespace lanyard::accessory {

/// See the members.
struct server_options {
  /// Settings of every controller's session. new_session_id and is_foreign_session are
  /// supplied by the server (random ids from the system's CSPRNG; a HELLO naming another
  /// controller's session is refused with core::channel_errc::session_not_owned).
  core::session_settings session;

  /// How long a controller's session is kept after its connection is lost, so that the app
  /// resumes it (nothing lost) when it comes back. 10 min: covers a phone's Wi-Fi sleep and an
  /// app in the background, while bounding the memory kept for controllers that went away.
  std::chrono::milliseconds session_linger{std::chrono::minutes(10)};

  /// TCP_USER_TIMEOUT for accepted connections; zero = the session's peer_timeout.
  std::chrono::milliseconds tcp_user_timeout{0};

  /// A controller admitted by the open pairing window is paired (controller_store::pair,
  /// role user; the first controller becomes admin) once its TLS handshake completes.
  bool pair_in_window = true;

  /// Bound on pushes waiting for room in a session's replay buffer (send_mode::wait).
  std::size_t max_waiting_sends = 1024;

  /// One line per notable event (refused controller, protocol error, takeover, expiry).
  std::function<void(std::string_view line)> log;
};

} // namespace lanyard::accessory
