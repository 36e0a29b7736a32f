/// @file
/// The pin check: the one decision that makes a peer trusted. Lanyard validates no CA chain;
/// during the handshake the TLS layer hands the peer's key fingerprint to a peer_verifier
/// (typically the trust store's check, or the accessory's paired-controller store) and the
/// handshake continues only if it returns no error.
#pragma once

#include <lanyard/core/fingerprint.hpp>
#include <lanyard/tls_engine/role.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <system_error>

namespace lanyard::tls {

/// The longest subject CN a peer's certificate may have: RFC 5280's ub-common-name. The engine
/// keeps the CN in fixed room (a connection allocates nothing) and refuses a certificate with a
/// longer one (tls_errc::bad_peer_certificate). Lanyard's own device ids are far shorter.
inline constexpr std::size_t max_peer_subject = 64;

/// What the verifier is told about the presented certificate besides its fingerprint.
struct peer_cert_info {
  /// Our side of the handshake: role::client verifies an accessory, role::server a controller.
  role local_role = role::client;
  /// The certificate's subject CN: the device id the peer claims (not proof of anything; the
  /// key is what is pinned), at most max_peer_subject bytes. Valid only during the call.
  std::string_view subject_cn;
  /// The id this stream expects (stream::set_peer_id / engine::set_peer_id), empty if unset.
  /// Valid only during the call.
  std::string_view expected_peer_id;
  /// The presented certificate, DER. Valid only during the call.
  std::span<const std::uint8_t> der;
  /// True when the check runs for a resumed session (abbreviated handshake): no certificate was
  /// sent on the wire, the one from the original full handshake is checked again so that a
  /// pin removed since then also ends resumption.
  bool resumed = false;
};

/// Decides whether the peer whose key has fingerprint `presented` is trusted.
///
/// Returns an empty error_code to accept. Any error refuses: the handshake is aborted (a fatal
/// alert is sent), no application byte is sent or accepted, and the handshake completes with
/// exactly this error_code (e.g. trust::key_changed), not a generic TLS error.
///
/// Called synchronously on the thread running the stream's handshake (inside the
/// stream's executor), at most twice per handshake; it must not block for long. It may capture
/// state (e.g. to remember the fingerprint for a TOFU pin or to carry both fingerprints of a
/// key change to the caller).
using peer_verifier =
    std::function<std::error_code(const core::fingerprint& presented, const peer_cert_info& info)>;

} // namespace lanyard::tls
