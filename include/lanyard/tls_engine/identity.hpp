/// @file
/// A device's or controller's identity: an ECDSA P-256 key and a self-signed X.509 certificate
/// whose subject CN is the device id, kept in a directory as `identity.key` (PEM, mode 0600) and
/// `identity.crt` (PEM). Its fingerprint (SHA-256 of the SubjectPublicKeyInfo) is what peers pin,
/// so re-issuing the certificate for the same key keeps the fingerprint.
#pragma once

#include <lanyard/core/error_detail.hpp>
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

/// Values of core::field_key::step in the errors of identity's factories: which part of the
/// work failed.
namespace identity_step {
/// Finding or creating the identity directory.
inline constexpr std::string_view directory = "directory";
/// Generating or encoding a new key.
inline constexpr std::string_view generate_key = "generate_key";
/// Writing identity.key.
inline constexpr std::string_view write_key = "write_key";
/// Reading identity.key: missing, mode, parse, not P-256.
inline constexpr std::string_view read_key = "read_key";
/// Reading identity.crt: missing or not a certificate.
inline constexpr std::string_view read_certificate = "read_certificate";
/// identity.crt is for another key, or names another device id (`device_id` then).
inline constexpr std::string_view check_certificate = "check_certificate";
/// Issuing a certificate (the device id unknown or invalid, or mbedTLS failed).
inline constexpr std::string_view issue_certificate = "issue_certificate";
/// Writing identity.crt.
inline constexpr std::string_view write_certificate = "write_certificate";
} // namespace identity_step

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
/// Errors: the factories report a core::error_detail (`code`, one sentence naming the file and
/// what to do, e.g. "/var/lib/x/identity.key is accessible by group/others (mode 0644); a
/// private key must be mode 0600. Run: chmod 600 /var/lib/x/identity.key", and fields):
///  - tls_errc::identity_permissions: identity.key is group/other readable or writable
///    (fields: `file`, `mode`).
///  - tls_errc::bad_identity_file: a file does not parse (`mbedtls_error`), the key is not
///    ECDSA P-256, the certificate is not for this key, the certificate names another device id
///    (`device_id`: the one it names), or the key is missing while the certificate exists (the
///    identity is lost, `os_error` ENOENT; remove identity.crt to make a new one - peers that
///    pinned the old key will refuse the new one).
///  - tls_errc::identity_io: the directory or a file cannot be created/read/written, or does not
///    exist for load() (`file`, `os_error`: the errno).
///  - tls_errc::invalid_device_id (`device_id`: the invalid id), tls_errc::crypto_failure
///    (`mbedtls_error`).
///
/// Fields (core::field_key): `step` (one of identity_step above: where it failed), `file` (the
/// file or directory concerned), `os_error` (errno, signed), `mode` ("0644"), `mbedtls_error`
/// (mbedTLS's negative return code, signed: compare with MBEDTLS_ERR_*), `device_id`. Never key
/// material.
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
  /// device id is an error (bad_identity_file). On failure returns an empty identity and fills
  /// `error` (see Errors above); on success `error` is cleared.
  static identity load_or_create(const std::filesystem::path& dir, std::string_view device_id,
                                 core::error_detail& error);

  /// As above; throws std::system_error whose what() carries the detail sentence. Defined only
  /// when lanyard::tls_engine is built with exceptions (not in the core-freestanding build).
  static identity load_or_create(const std::filesystem::path& dir, std::string_view device_id);

  /// Loads an existing identity from `dir`, never creating anything. Errors as above.
  static identity load(const std::filesystem::path& dir, core::error_detail& error);

  /// Replaces `dir`/identity.crt with a newly issued certificate for the same key (new serial),
  /// keeping the device id; returns the reloaded identity. The fingerprint does not change.
  /// Errors as above.
  static identity reissue_certificate(const std::filesystem::path& dir, core::error_detail& error);

  /// Kept for compatibility: the forms above with only the code in `ec` and the sentence
  /// (error_detail::detail) in `*detail` if not null; the fields are dropped.
  static identity load_or_create(const std::filesystem::path& dir, std::string_view device_id,
                                 std::error_code& ec, std::string* detail = nullptr);
  /// Kept for compatibility (see above).
  static identity load(const std::filesystem::path& dir, std::error_code& ec,
                       std::string* detail = nullptr);
  /// Kept for compatibility (see above).
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
