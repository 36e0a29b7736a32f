#include <lanyard/tls_engine/error.hpp>

#include <lanyard/core/error_condition.hpp>

#include <string>
#include <string_view>

namespace lanyard::tls {
namespace {

class tls_category_impl final : public core::lanyard_category {
public:
  const char* name() const noexcept override { return "lanyard.tls"; }

#if LANYARD_ERROR_MESSAGES // else lanyard_category::message() names the code
  std::string message(int value) const override {
    switch (static_cast<tls_errc>(value)) {
    case tls_errc::handshake_timeout:
      return "TLS handshake timed out: the peer did not complete the handshake in time (is it a "
             "Lanyard endpoint, and is the path alive?)";
    case tls_errc::alpn_mismatch:
      return "the peer does not speak ALPN \"lanyard/1\": it is not a Lanyard endpoint or runs "
             "an incompatible protocol version";
    case tls_errc::peer_certificate_missing:
      return "the peer presented no certificate; Lanyard requires mutual TLS (a controller must "
             "present its identity certificate)";
    case tls_errc::peer_rejected_certificate:
      return "the peer refused our certificate: it has pinned another key for this device, or "
             "we are not paired and its pairing window is closed";
    case tls_errc::peer_alert:
      return "the peer aborted the TLS handshake with a fatal alert (see the log for which)";
    case tls_errc::peer_closed_during_handshake:
      return "the peer closed the connection during the TLS handshake without saying why";
    case tls_errc::handshake_failed:
      return "TLS negotiation failed: no common version (TLS 1.2), cipher suite (ECDHE-ECDSA "
             "AES-128-GCM / ChaCha20-Poly1305) or curve (P-256); see the log for mbedTLS's "
             "reason";
    case tls_errc::bad_peer_certificate:
      return "the peer's certificate is unusable (not ECDSA P-256 with SHA-256, malformed, or "
             "wrong key usage)";
    case tls_errc::no_peer_verifier:
      return "no pin verifier configured: refusing to trust any peer (set "
             "context_options::verifier or stream::set_verifier)";
    case tls_errc::bad_record:
      return "a TLS record failed authentication or was malformed: the data was corrupted or "
             "tampered with; the connection was closed";
    case tls_errc::stream_truncated:
      return "the peer closed the connection without a TLS close_notify: data may have been cut "
             "off";
    case tls_errc::not_connected:
      return "the TLS stream is not connected (no successful handshake, or it already failed)";
    case tls_errc::already_handshaken:
      return "a TLS handshake was already performed on this stream; use a new stream per "
             "connection";
    case tls_errc::protocol_error:
      return "TLS protocol error (see the log for mbedTLS's reason)";
    case tls_errc::closed_by_peer:
      return "the peer closed the TLS connection (close_notify): it sends no more data";
    case tls_errc::bad_identity_file:
      return "the identity key or certificate file is damaged or inconsistent";
    case tls_errc::identity_permissions:
      return "the identity key file is readable by group or others; it must be mode 0600 "
             "(chmod 600 identity.key)";
    case tls_errc::identity_io:
      return "cannot read or write the identity directory or files";
    case tls_errc::invalid_device_id:
      return "invalid device id: use 1-64 characters of A-Z a-z 0-9 . _ : -";
    case tls_errc::crypto_failure:
      return "a cryptographic operation failed inside mbedTLS (see the log)";
    }
    return "unknown lanyard.tls error " + std::to_string(value);
  }
#endif

  std::string_view code_name(int code) const noexcept override {
    switch (static_cast<tls_errc>(code)) {
    case tls_errc::handshake_timeout:
      return "handshake_timeout";
    case tls_errc::alpn_mismatch:
      return "alpn_mismatch";
    case tls_errc::peer_certificate_missing:
      return "peer_certificate_missing";
    case tls_errc::peer_rejected_certificate:
      return "peer_rejected_certificate";
    case tls_errc::peer_alert:
      return "peer_alert";
    case tls_errc::peer_closed_during_handshake:
      return "peer_closed_during_handshake";
    case tls_errc::handshake_failed:
      return "handshake_failed";
    case tls_errc::bad_peer_certificate:
      return "bad_peer_certificate";
    case tls_errc::no_peer_verifier:
      return "no_peer_verifier";
    case tls_errc::bad_record:
      return "bad_record";
    case tls_errc::stream_truncated:
      return "stream_truncated";
    case tls_errc::not_connected:
      return "not_connected";
    case tls_errc::already_handshaken:
      return "already_handshaken";
    case tls_errc::protocol_error:
      return "protocol_error";
    case tls_errc::closed_by_peer:
      return "closed_by_peer";
    case tls_errc::bad_identity_file:
      return "bad_identity_file";
    case tls_errc::identity_permissions:
      return "identity_permissions";
    case tls_errc::identity_io:
      return "identity_io";
    case tls_errc::invalid_device_id:
      return "invalid_device_id";
    case tls_errc::crypto_failure:
      return "crypto_failure";
    }
    return {};
  }

  // What callers branch on (lanyard/core/error_condition.hpp); docs/design/error-model.md
  // §2.3 argues each row.
  core::condition_set conditions(int code) const noexcept override {
    using enum core::condition;
    switch (static_cast<tls_errc>(code)) {
    case tls_errc::handshake_timeout:
    case tls_errc::peer_alert:
    case tls_errc::peer_closed_during_handshake:
    case tls_errc::stream_truncated:
    case tls_errc::closed_by_peer:
    case tls_errc::crypto_failure:
      return {transient};
    case tls_errc::alpn_mismatch:
      return {protocol_violation, permanent};
    case tls_errc::peer_certificate_missing:
      return {authentication_failed, permanent};
    case tls_errc::bad_peer_certificate:
      // The design makes it permanent (the same certificate comes back on every retry); the
      // channel retries it today, and changing that is a behaviour change of its own.
      return {authentication_failed, transient};
    case tls_errc::peer_rejected_certificate:
      return {refused_by_peer, authentication_failed, permanent};
    case tls_errc::handshake_failed:
    case tls_errc::bad_record:
    case tls_errc::protocol_error:
      return {protocol_violation, transient};
    case tls_errc::no_peer_verifier:
      return {policy, authentication_failed, permanent};
    case tls_errc::not_connected:
    case tls_errc::already_handshaken:
    case tls_errc::bad_identity_file:
    case tls_errc::identity_io:
    case tls_errc::invalid_device_id:
      return {permanent};
    case tls_errc::identity_permissions:
      return {policy, permanent};
    }
    return {};
  }
};

} // namespace

const std::error_category& tls_category() noexcept {
  static const tls_category_impl category;
  return category;
}

bool is_authentication_error(std::error_code ec) noexcept {
  return ec == tls_errc::peer_rejected_certificate || ec == tls_errc::peer_certificate_missing ||
         ec == tls_errc::bad_peer_certificate || ec == tls_errc::no_peer_verifier;
}

} // namespace lanyard::tls
