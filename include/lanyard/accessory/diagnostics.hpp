/// @file
/// The ids and field keys of what the accessory server reports (core::diagnostic, through
/// server_options::diagnostics). docs/diagnostics.md § Accessory server lists each id with its
/// level, code and fields.
///
/// Who: core::field_key::peer is the connection's "ADDRESS:PORT", core::field_key::controller
/// the controller's key fingerprint (grouped base32), once TLS has shown it. Limits are the
/// option that decided (key::max_sessions, key::max_pending_handshakes, ...), so a program can
/// tell which knob to turn without reading `text`.
///
/// `text` is the line server_options::log received before diagnostics existed (and still
/// receives when no `diagnostics` handler is set); lab scripts grep some of them, so they do
/// not change. Never parse it.
///
/// The TLS engine's own diagnostics (mbedTLS's reason, alerts) go to the server context's
/// tls::context_options::diagnostics (lanyard/tls_engine/diagnostics.hpp); server.handshake_failed
/// repeats the connection's TLS fields next to the peer's address.
///
/// Thread-safety: constants only.
#pragma once

#include <string_view>

namespace lanyard::accessory::diag {

// --- Before TLS: sockets and listeners. ---

/// accept() failed (warning; the accept error): the server retries in 100 ms.
inline constexpr std::string_view accept_failed = "server.accept_failed";
/// Setting TCP options on an accepted connection failed (warning; the error); it is closed.
inline constexpr std::string_view socket_setup_failed = "server.socket_setup_failed";
/// server::listen() failed (error; the bind/listen error, also returned).
inline constexpr std::string_view listen_failed = "server.listen_failed";
/// An MPTCP listener was asked for and the kernel has none: listening with TCP (notice).
inline constexpr std::string_view mptcp_unavailable = "server.mptcp_unavailable";
/// server::stop_listening() closed a listener (info).
inline constexpr std::string_view stopped_listening = "server.stopped_listening";
/// server::end_connections_through() ended connections (info); their sessions linger.
inline constexpr std::string_view connections_ended = "server.connections_ended";

// --- TLS. ---

/// The controller store refused the client's key during the handshake (warning; its code:
/// not paired and the window closed, ...).
inline constexpr std::string_view connection_refused = "server.connection_refused";
/// A TLS handshake did not complete within tls::context_options::handshake_timeout (warning;
/// tls_errc::handshake_timeout). Absolute from accept: slow-loris clients end here too.
inline constexpr std::string_view handshake_timeout = "server.handshake_timeout";
/// A TLS handshake failed for another reason (warning; what it completed with).
inline constexpr std::string_view handshake_failed = "server.handshake_failed";
/// server_options::max_pending_handshakes were in progress (or, through the relay,
/// max_pending_relayed_handshakes; the report carries the key of the limit that decided): the
/// oldest of that kind were closed to admit new connections (warning; at most one report per
/// second and kind, key::count since the last one).
inline constexpr std::string_view handshakes_evicted = "server.handshakes_evicted";

// --- Between TLS and a session: the greeting and pairing. ---

/// pairing_options::max_pending pairing exchanges were in progress: the oldest were closed
/// (warning; at most one report per second, key::count since the last one).
inline constexpr std::string_view pairings_evicted = "server.pairings_evicted";
/// A handshaken connection sent no HELLO (nor pairing frame) in time (warning;
/// core::channel_errc::handshake_timeout).
inline constexpr std::string_view greeting_timeout = "server.greeting_timeout";
/// An unknown controller sent channel traffic without pairing (warning;
/// core::channel_errc::not_paired, also sent to it in a CLOSE frame).
inline constexpr std::string_view not_paired_traffic = "server.not_paired_traffic";
/// Pairing refused before the exchange started (warning;
/// core::pairing_errc::needs_full_handshake): nothing fresh to bind the proofs to.
inline constexpr std::string_view pairing_refused = "server.pairing_refused";
/// A pairing exchange failed (warning; core::pairing_errc or a frame error).
inline constexpr std::string_view pairing_failed = "server.pairing_failed";
/// A controller proved the setup secret or code and was paired (notice; no code).
inline constexpr std::string_view paired = "server.paired";

// --- Sessions. ---

/// A controller without a session connected while server_options::max_sessions sessions all
/// had live connections (warning; core::channel_errc::too_many_sessions, sent in a CLOSE).
inline constexpr std::string_view session_cap_refused = "server.session_cap_refused";
/// A controller's new connection took its session over from the old one (notice; no code).
inline constexpr std::string_view connection_takeover = "server.connection_takeover";
/// A connection could not be attached to its session (warning; the error).
inline constexpr std::string_view attach_failed = "server.attach_failed";
/// The session closed a connection on a protocol verdict (warning; the session's code, e.g.
/// core::channel_errc::session_not_owned, peer_dead, frame_too_large).
inline constexpr std::string_view connection_closed = "server.connection_closed";
/// A session's connection was lost for a reason the session did not report itself (notice;
/// the transport's error, or core::channel_errc::connection_replaced).
inline constexpr std::string_view link_lost = "server.link_lost";
/// A session without a connection for server_options::session_linger was dropped (notice;
/// core::channel_errc::session_expired, what its waiting pushes fail with).
inline constexpr std::string_view session_expired = "server.session_expired";
/// A session without a connection was dropped to make room for a new controller at
/// server_options::max_sessions (notice; core::channel_errc::session_expired).
inline constexpr std::string_view lingering_session_dropped = "server.lingering_session_dropped";

/// Field keys of the server, next to core::field_key's (peer, controller, attempts_left,
/// address, port).
namespace key {
/// server_options::max_sessions.
inline constexpr std::string_view max_sessions = "max_sessions";
/// server_options::max_pending_handshakes.
inline constexpr std::string_view max_pending_handshakes = "max_pending_handshakes";
/// server_options::max_pending_relayed_handshakes.
inline constexpr std::string_view max_pending_relayed_handshakes = "max_pending_relayed_handshakes";
/// pairing_options::max_pending.
inline constexpr std::string_view max_pending_pairings = "max_pending_pairings";
/// server_options::session_linger, in milliseconds.
inline constexpr std::string_view linger_ms = "linger_ms";
/// The timeout that expired, in milliseconds.
inline constexpr std::string_view timeout_ms = "timeout_ms";
/// How many (connections evicted since the last report, connections ended).
inline constexpr std::string_view count = "count";
/// The role a paired controller got: "admin" or "user".
inline constexpr std::string_view paired_role = "paired_role";
/// The pairing method: "setup_secret", "setup_code" or "confirmation".
inline constexpr std::string_view method = "method";
/// The display name a controller sent when pairing, escaped (the peer wrote it).
inline constexpr std::string_view name = "name";
/// True if the TLS connection resumed a session (server.pairing_refused).
inline constexpr std::string_view resumed = "resumed";
/// True if the connection had just paired and owed its HELLO (server.greeting_timeout).
inline constexpr std::string_view after_pairing = "after_pairing";
/// True if the app reported the error in a CLOSE frame (server.connection_closed).
inline constexpr std::string_view by_peer = "by_peer";
} // namespace key

} // namespace lanyard::accessory::diag
