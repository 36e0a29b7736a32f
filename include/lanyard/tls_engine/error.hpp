/// @file
/// Errors of the TLS layer (identities, the sans-IO engine and tls::stream), category
/// "lanyard.tls". Part of lanyard::tls_engine: standard library only.
///
/// What is *not* here: a refusal by the pin verifier. When the verifier refuses a peer (for
/// example with trust::key_changed) the handshake fails with the verifier's own error_code,
/// unchanged, so the caller can tell "someone else answered" from "TLS broke".
///
/// Thread-safety: the category is a stateless singleton; everything here is safe from any thread.
#pragma once

#include <system_error>

namespace lanyard::tls {

/// What went wrong in the TLS layer. Values are stable (logged, compared by tools).
enum class tls_errc {
  // --- Handshake: the connection is unusable afterwards, close it. ---
  /// The handshake did not complete within the handshake timeout (the peer never answered, or
  /// answered too slowly). Set with context_options::handshake_timeout or
  /// stream::set_handshake_timeout().
  handshake_timeout = 1,
  /// The peer does not speak ALPN "lanyard/1" (it offered or selected another protocol, or
  /// none): it is not a Lanyard endpoint, or runs an incompatible protocol version.
  alpn_mismatch = 2,
  /// The peer sent no certificate. Lanyard's TLS is mutual: a controller must present its
  /// identity's certificate.
  peer_certificate_missing = 3,
  /// The peer refused our certificate (TLS alert bad_certificate / certificate_unknown /
  /// access_denied): it has pinned another key for us, or we are not a paired controller and
  /// its pairing window is closed.
  peer_rejected_certificate = 4,
  /// The peer aborted the handshake with a fatal TLS alert not covered above; the log line
  /// (last_error_detail()) names the alert.
  peer_alert = 5,
  /// The peer closed the TCP connection in the middle of the handshake without an alert.
  peer_closed_during_handshake = 6,
  /// TLS negotiation failed: no common version (Lanyard requires TLS 1.2), cipher suite
  /// (ECDHE-ECDSA with AES-128-GCM or ChaCha20-Poly1305) or curve (P-256). The log line
  /// carries mbedTLS's reason.
  handshake_failed = 7,
  /// The peer's certificate is unusable even though its key may be pinned: not ECDSA P-256,
  /// signed with a hash other than SHA-256/384, malformed, or wrong key usage.
  bad_peer_certificate = 8,
  /// No pin verifier was configured (neither in context_options nor on the stream), so no peer
  /// can be trusted. Lanyard never falls back to "accept anything".
  no_peer_verifier = 9,

  // --- After the handshake. ---
  /// A record failed authentication (bad MAC / AEAD tag) or was malformed: the bytes were
  /// corrupted or tampered with on the way. The connection is closed.
  bad_record = 20,
  /// The peer closed the TCP connection without a TLS close_notify: the last data may have
  /// been cut off by an attacker or a crash.
  stream_truncated = 21,
  /// read/write/shutdown before a successful handshake, or after the stream failed.
  not_connected = 22,
  /// handshake called on a stream that already did (or started) a handshake.
  already_handshaken = 23,
  /// Any other TLS protocol failure; the log line carries mbedTLS's reason.
  protocol_error = 24,
  /// The peer sent its close_notify: it ends the connection in order and sends no more data.
  /// engine::read() reports it; tls::stream reports asio::error::eof instead, as asio's own
  /// streams do at the end of a stream.
  closed_by_peer = 25,

  // --- Identity files. ---
  /// identity.key or identity.crt cannot be parsed, they do not belong together, or the
  /// certificate names another device id. The detail string names the file and what to do.
  bad_identity_file = 40,
  /// identity.key is readable or writable by group or others; it must be mode 0600. The detail
  /// string names the file and the chmod command.
  identity_permissions = 41,
  /// The identity directory or files cannot be created, read or written (permissions, disk
  /// full, read-only file system). The detail string names the path and the OS error.
  identity_io = 42,
  /// The device id is not a valid device id (1-64 characters of [A-Za-z0-9._:-]).
  invalid_device_id = 43,
  /// Key generation, signing or the random generator failed inside mbedTLS (should not
  /// happen; the log line carries mbedTLS's reason).
  crypto_failure = 44,
};

/// The "lanyard.tls" category.
const std::error_category& tls_category() noexcept;

/// Makes a std::error_code in tls_category(); found by ADL.
inline std::error_code make_error_code(tls_errc e) noexcept {
  return {static_cast<int>(e), tls_category()};
}

/// True for errors that mean "the peer is not who we trust, or does not trust us":
/// peer_rejected_certificate, peer_certificate_missing, bad_peer_certificate, no_peer_verifier.
/// (A verifier's own refusal is in its own category; check it there.)
bool is_authentication_error(std::error_code ec) noexcept;

} // namespace lanyard::tls

template <>
struct std::is_error_code_enum<lanyard::tls::tls_errc> : std::true_type {};
