/// @file
/// A device's or controller's identity: an ECDSA P-256 key and a self-signed X.509 certificate
/// whose subject CN is the device id, kept in a directory as `identity.key` (PEM, mode 0600) and
/// `identity.crt` (PEM). Its fingerprint (SHA-256 of the SubjectPublicKeyInfo) is what peers pin,
/// so re-issuing the certificate for the same key keeps the fingerprint.
#pragma once

#include <lanyard/core/fingerprint.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace lanyard::tls {

class context;

/// An identity: key + certificate. A cheap, copyable handle to immutable data (copies share the
/// key in memory). An identity is only obtained from the factory functions below; a
/// default-constructed one is empty (`!id`).
///
/// Files in `dir`:
///  - `identity.key`: the private key, PEM (SEC1 "EC PRIVATE KEY"), mode 0600. Created with
///    O_EXCL, so two processes starting at once never overwrite each other's key.
///  - `identity.crt`: the certificate, PEM, mode 0644. Subject = issuer = "CN=<device id>",
///    random 127-bit serial, valid from 2000-01-01 to 9999-12-31 (RFC 5280 "no expiry":
///    accessories often have no real-time clock, and the pin, not the validity, is the trust),
///    ECDSA with SHA-256, basicConstraints CA:FALSE, keyUsage digitalSignature.
///
/// Errors (every factory also fills `detail`, if not null, with one sentence naming the file
/// and what to do, e.g. "/var/lib/x/identity.key is readable by group/others (mode 0644); run:
/// chmod 600 /var/lib/x/identity.key"):
///  - tls_errc::identity_permissions: identity.key is group/other readable or writable.
///  - tls_errc::bad_identity_file: a file does not parse, the key is not ECDSA P-256, the
///    certificate is not for this key, the certificate names another device id, or the key is
///    missing while the certificate exists (the identity is lost; remove identity.crt to make a
///    new one - peers that pinned the old key will refuse the new one).
///  - tls_errc::identity_io: the directory or a file cannot be created/read/written.
///  - tls_errc::invalid_device_id, tls_errc::crypto_failure.
///
/// Thread-safety: an identity is immutable; distinct and shared objects are safe from any
/// thread. The factory functions are safe to call concurrently on different directories.
class identity {
public:
  static constexpr std::string_view key_file_name = "identity.key";
  static constexpr std::string_view cert_file_name = "identity.crt";

  /// Loads the identity in `dir`; on first use (no files) creates `dir` (mode 0700) if needed,
  /// a new key and a certificate for `device_id`. If only the certificate is missing, a new one
  /// is issued for the existing key (same fingerprint). An existing certificate for another
  /// device id is an error (bad_identity_file).
  static identity load_or_create(const std::filesystem::path& dir, std::string_view device_id,
                                 std::error_code& ec, std::string* detail = nullptr);

  /// As above; throws std::system_error whose what() carries the detail sentence.
  static identity load_or_create(const std::filesystem::path& dir, std::string_view device_id);

  /// Loads an existing identity from `dir`, never creating anything.
  static identity load(const std::filesystem::path& dir, std::error_code& ec,
                       std::string* detail = nullptr);

  /// Replaces `dir`/identity.crt with a newly issued certificate for the same key (new serial),
  /// keeping the device id; returns the reloaded identity. The fingerprint does not change.
  static identity reissue_certificate(const std::filesystem::path& dir, std::error_code& ec,
                                      std::string* detail = nullptr);

  /// A new identity in memory only (nothing written): for tests, benchmarks and ephemeral
  /// clients.
  static identity generate(std::string_view device_id, std::error_code& ec);

  identity() noexcept = default;

  /// True if this holds an identity.
  explicit operator bool() const noexcept { return impl_ != nullptr; }

  /// The device id (the certificate's subject CN). Precondition: not empty.
  const std::string& device_id() const noexcept;
  /// SHA-256 of the SubjectPublicKeyInfo: what peers pin. Precondition: not empty.
  const core::fingerprint& fingerprint() const noexcept;
  /// The certificate, DER. Precondition: not empty.
  std::span<const std::uint8_t> certificate_der() const noexcept;
  /// The certificate, PEM text. Precondition: not empty.
  std::string certificate_pem() const;

  struct impl; ///< Defined in src/tls; opaque to users.

private:
  friend class context;
  friend struct identity_access;
  explicit identity(std::shared_ptr<const impl> p) noexcept : impl_(std::move(p)) {}
  std::shared_ptr<const impl> impl_;
};

} // namespace lanyard::tls
