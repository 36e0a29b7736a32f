/// @file
/// Configuration of an accessory::server.
///
/// Thread-safety: value types.
#pragma once

#include <lanyard/core/session_settings.hpp>
#include <lanyard/link/mptcp.hpp>
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

  /// At most this many TLS handshakes run at once. A connection beyond it evicts the oldest
  /// handshake in progress (closed, logged at most once per second), so that a flood of
  /// clients that never finish cannot lock out a controller that does: to keep it out, an
  /// attacker must open connections faster than its handshake completes. Paired controllers'
  /// established connections never count. 32: far above what one home's controllers
  /// reconnecting at once need, and it bounds the sockets and TLS contexts (tens of KiB each) an
  /// unauthenticated peer can make the accessory hold. Zero is treated as one.
  ///
  /// How long each may take is the server context's tls::context_options::handshake_timeout
  /// (10 s by default): absolute from accept, so slow-loris clients trickling bytes are
  /// dropped too. Zero there disables it, leaving only this limit to free a stuck slot.
  std::size_t max_pending_handshakes = 32;

  /// TCP, or kernel Multipath TCP (link/mptcp.hpp): an MPTCP listener serves MPTCP and plain
  /// TCP clients alike (the kernel falls back per connection), so enabling it never locks an
  /// app out. Falls back to a TCP listener where the kernel has no MPTCP.
  link::transport_protocol transport = link::transport_protocol::tcp;

  /// One line per notable event (refused controller, protocol error, takeover, expiry).
  std::function<void(std::string_view line)> log;
};

} // namespace lanyard::accessory
