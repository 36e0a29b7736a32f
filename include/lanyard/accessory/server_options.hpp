/// @file
/// Configuration of an accessory::server.
///
/// Thread-safety: value types.
#pragma once

#include <lanyard/channel/receive_mode.hpp>
#include <lanyard/core/diagnostic.hpp>
#include <lanyard/core/pairing_initiator.hpp>
#include <lanyard/core/session_settings.hpp>
#include <lanyard/link/mptcp.hpp>
#include <lanyard/trust/controller_store.hpp>
#include <lanyard/trust/setup_credentials.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

namespace lanyard::accessory {

/// How a controller the accessory does not know pairs (docs/trust.md § Pairing). While the
/// pairing window is open, its TLS connection is held in a pairing state — nothing but pairing
/// frames, no session — until it proves the setup secret (QR payload) or the setup code
/// (SPAKE2+), bound to that connection. Only failed proofs count against the window.
struct pairing_options {
  /// The accessory's setup secret and setup-code verifier. Without them nobody can prove
  /// anything, so unknown controllers cannot pair (unless allow_confirmation).
  std::optional<trust::setup_credentials> credentials;
  /// For an accessory that has no setup secret at all (no label, no display): pair whoever
  /// asks while the window is open, after the user compared the six-digit verification code
  /// that both sides show (on_verification_code here). Ignored when `credentials` are set: an
  /// accessory with a code never pairs without its proof.
  bool allow_confirmation = false;
  std::function<void(std::uint32_t code)> on_verification_code;
  /// Limits of one exchange (30 s in all by default).
  core::pairing_settings exchange;
  /// The wait before the next proof is evaluated after a failed one: `failure_delay_first`
  /// after one failure, doubling up to `failure_delay_max` (core::pairing_throttle). A burst of
  /// guesses slows to one per 8 s; an owner who mistyped once waits a quarter second. Test labs
  /// shorten them; products keep them.
  std::chrono::milliseconds failure_delay_first{250};
  std::chrono::milliseconds failure_delay_max{8000};
  /// Pairing exchanges at once. A new one beyond it closes the oldest (reported at most once per
  /// second, server.pairings_evicted), so connections that never finish cannot keep the owner out.
  /// 8: more than one household pairs at once, few enough to bound what strangers make the
  /// accessory hold.
  std::size_t max_pending = 8;
};

/// See the members.
struct server_options {
  /// Settings of every controller's session. new_session_id and is_foreign_session are
  /// supplied by the server (random ids from the system's CSPRNG; a HELLO naming another
  /// controller's session is refused with core::channel_errc::session_not_owned).
  core::session_settings session;

  /// push (the default): the message handler gets every controller's messages as they
  /// arrive, acknowledged on receipt. pull: the accessory takes each controller's messages
  /// with server::async_receive(controller), and its session acknowledges a message only once
  /// it was taken (session.acknowledge becomes on_consume): a busy accessory holds that
  /// controller to the window and loses nothing (lanyard/channel/receive_mode.hpp).
  channel::receive_mode receive = channel::receive_mode::push;

  /// How long a controller's session is kept after its connection is lost, so that the app
  /// resumes it (nothing lost) when it comes back. 10 min: covers a phone's Wi-Fi sleep and an
  /// app in the background, while bounding the memory kept for controllers that went away.
  std::chrono::milliseconds session_linger{std::chrono::minutes(10)};

  /// TCP_USER_TIMEOUT for accepted connections; zero = the session's peer_timeout.
  std::chrono::milliseconds tcp_user_timeout{0};

  /// Pairing of unknown controllers (proof of the setup secret or code).
  pairing_options pairing;

  /// At most this many sessions (one per paired controller). When a controller without a
  /// session connects at the cap, the session that has been disconnected longest is dropped;
  /// if every session has a live connection, the newcomer is closed with
  /// core::channel_errc::too_many_sessions. 16: the controller store's default cap.
  std::size_t max_sessions = 16;

  /// Bound on pushes waiting for room in a session's replay buffer (send_mode::wait).
  std::size_t max_waiting_sends = 1024;

  /// At most this many TLS handshakes run at once. A connection beyond it evicts the oldest
  /// handshake in progress (closed, reported at most once per second: server.handshakes_evicted),
  /// so that a flood of clients that never finish cannot lock out a controller that does: to keep
  /// it out, an attacker must open connections faster than its handshake completes. Paired
  /// controllers' established connections never count. 32: far above what one home's controllers
  /// reconnecting at once need, and it bounds the sockets and TLS contexts (tens of KiB each) an
  /// unauthenticated peer can make the accessory hold. Zero is treated as one.
  ///
  /// How long each may take is the server context's tls::context_options::handshake_timeout
  /// (10 s by default): absolute from accept, so slow-loris clients trickling bytes are
  /// dropped too. Zero there disables it, leaving only this limit to free a stuck slot.
  std::size_t max_pending_handshakes = 32;

  /// At most this many TLS handshakes run at once over relay tunnels (adopt_tunnel()), counted
  /// apart from max_pending_handshakes: one beyond evicts the oldest relayed handshake, never
  /// a local one, and a flood on the local network never evicts a relayed one. Why apart: a
  /// tunnel's OPEN is checked against the paired controllers' relay keys, but the broker's
  /// operator sees OPENs and can replay them once the accessory has forgotten them (after a
  /// restart; docs/design/relay.md), and it must not be able to keep the household's phones
  /// at home from connecting. It can delay or drop relayed traffic anyway, so what it takes
  /// here, the relay, it had already. 4: a home's phones away at once. Zero is treated as one.
  std::size_t max_pending_relayed_handshakes = 4;

  /// TCP, or kernel Multipath TCP (link/mptcp.hpp): an MPTCP listener serves MPTCP and plain
  /// TCP clients alike (the kernel falls back per connection), so enabling it never locks an
  /// app out. Falls back to a TCP listener where the kernel has no MPTCP.
  link::transport_protocol transport = link::transport_protocol::tcp;

  /// Each notable event (refused controller, failed handshake, pairing, protocol error,
  /// takeover, expiry) as a core::diagnostic: an id from lanyard/accessory/diagnostics.hpp
  /// (server.connection_refused, server.session_cap_refused, ...), its level, the error code
  /// and fields (peer, controller, the limit that decided); docs/diagnostics.md § Accessory
  /// server lists them. Called on the server's executor; must not call back into the server.
  /// May be empty. The TLS engine's own reports go to the context's
  /// tls::context_options::diagnostics.
  core::diagnostics_handler diagnostics;

  /// One line per notable event: the `text` of each diagnostic above, when `diagnostics` is
  /// empty (the lines are unchanged since before diagnostics existed).
  std::function<void(std::string_view line)> log;
};

} // namespace lanyard::accessory
