/// @file
/// The ids and field keys of what the TLS engine reports (core::diagnostic, through
/// tls::context_options::diagnostics) and records (engine::last_error(), stream::last_error()).
/// docs/diagnostics.md § TLS lists each id with its level, code and fields.
///
/// Every TLS diagnostic carries `role` ("client"/"server") and, where the engine knows them,
/// core::field_key::device_id (the peer id the stream was given, set_peer_id()),
/// core::field_key::fingerprint_presented (the peer key's fingerprint, once a certificate or a
/// session was seen) and `peer_name` (the subject CN the peer claims, escaped). The engine does
/// no I/O and never learns the peer's address: the accessory server's and the client channel's
/// own diagnostics carry core::field_key::peer.
///
/// `text` is the line context_options::log received before diagnostics existed (and still
/// receives when no `diagnostics` handler is set); never parse it.
///
/// Thread-safety: constants only.
#pragma once

#include <string_view>

namespace lanyard::tls::diag {

/// The handshake failed (warning): refused by the pin verifier, a fatal alert from the peer, no
/// common ALPN, an unusable certificate, the peer closed mid-handshake, or mbedTLS's own
/// failure. `code` is what the handshake completed with (the verifier's own code for a refusal,
/// else a tls_errc); `cause` says which of these it was.
inline constexpr std::string_view handshake_failed = "tls.handshake_failed";
/// The pin verifier threw (error: a bug in the application's verifier, which must not throw).
/// The peer is refused with std::errc::state_not_recoverable; tls.handshake_failed follows.
/// Only where lanyard::tls_engine is built with exceptions (the app build; not firmware).
inline constexpr std::string_view verifier_threw = "tls.verifier_threw";
/// A cached session (client) or a ticket (server) was not resumed because the pin verifier
/// refused its key (notice): only the abbreviated handshake is lost; a full handshake follows
/// and shows the verifier the key the peer really has. `code` is the verifier's.
inline constexpr std::string_view session_not_resumed = "tls.session_not_resumed";
/// mbedTLS could not set the connection up (error; tls_errc::crypto_failure).
inline constexpr std::string_view setup_failed = "tls.setup_failed";
/// Reading application data failed (warning): a fatal alert from the peer (tls_errc::peer_alert),
/// a record that failed authentication (bad_record) or another protocol error.
inline constexpr std::string_view read_failed = "tls.read_failed";
/// Writing application data failed (warning; tls_errc::protocol_error).
inline constexpr std::string_view write_failed = "tls.write_failed";
/// Sending close_notify failed (warning; tls_errc::protocol_error).
inline constexpr std::string_view close_notify_failed = "tls.close_notify_failed";
/// The peer closed the connection after the handshake without close_notify (notice;
/// tls_errc::stream_truncated): an app killed by its OS, or a cut an attacker made.
inline constexpr std::string_view stream_truncated = "tls.stream_truncated";

/// Field keys of the TLS area, next to core::field_key's (mbedtls_error, tls_alert,
/// device_id, fingerprint_presented).
namespace key {
/// "client" or "server": this end's side of the handshake.
inline constexpr std::string_view role = "role";
/// Which failure of tls.handshake_failed, one of the `cause` constants below.
inline constexpr std::string_view cause = "cause";
/// The TLS alert number this end sent (core::field_key::tls_alert is the one received).
inline constexpr std::string_view alert_sent = "alert_sent";
/// The subject CN of the peer's certificate (the device id it claims), escaped for display:
/// the peer wrote it.
inline constexpr std::string_view peer_name = "peer_name";
} // namespace key

/// Values of key::cause.
namespace cause {
/// The pin verifier refused the peer's key (`code` is the verifier's).
inline constexpr std::string_view pin_verifier = "pin_verifier";
/// The peer sent a fatal alert (core::field_key::tls_alert).
inline constexpr std::string_view peer_alert = "peer_alert";
/// No common ALPN protocol.
inline constexpr std::string_view alpn = "alpn";
/// The client sent no certificate, or the session carries none.
inline constexpr std::string_view no_certificate = "no_certificate";
/// The peer's certificate is unusable (core::field_key::mbedtls_error says why).
inline constexpr std::string_view bad_certificate = "bad_certificate";
/// The peer closed the connection without an alert.
inline constexpr std::string_view peer_closed = "peer_closed";
/// mbedTLS failed the handshake for another reason (no common version, suite or curve...).
inline constexpr std::string_view mbedtls = "mbedtls";
} // namespace cause

} // namespace lanyard::tls::diag
