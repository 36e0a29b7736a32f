/// @file
/// A device's or controller's identity: an ECDSA P-256 key and a self-signed X.509 certificate
/// whose subject CN is the device id, kept in a directory as `identity.key` (PEM, mode 0600) and
/// `identity.crt` (PEM) by the functions of identity_files.hpp, or as DER bytes in the
/// firmware's storage (from_der(), private_key_der()). No <filesystem> here: firmware includes
/// this header. Its fingerprint (SHA-256 of the SubjectPublicKeyInfo) is what peers pin,
/// so re-issuing the certificate for the same key keeps the fingerprint.
#pragma once

#include <lanyard/core/error_detail.hpp>
#include <lanyard/core/fingerprint.hpp>
#include <lanyard/tls_engine/entropy.hpp>

#include <cstdint>
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
/// key in memory). An identity is only obtained from the factory functions below (in memory:
/// generate(), from_der()) or from lanyard/tls_engine/identity_files.hpp (a directory of PEM
/// files, POSIX only); a default-constructed one is empty (`!id`).
///
/// The certificate: subject = issuer = "CN=<device id>", random 127-bit serial, valid from
/// 2000-01-01 to 9999-12-31 (RFC 5280 "no expiry": accessories often have no real-time clock,
/// and the pin, not the validity, is the trust), ECDSA with SHA-256, basicConstraints CA:FALSE,
/// keyUsage digitalSignature.
///
/// Storage without files (firmware, step 3's storage seam): store private_key_der() and
/// certificate_der() once, and make the identity again with from_der() at each start.
///
/// Errors: the factories report a core::error_detail (`code`, one sentence saying what is
/// wrong and what to do, and fields):
///  - tls_errc::bad_identity_file: the key or certificate does not parse (`mbedtls_error`), the
///    key is not ECDSA P-256, the certificate is not for this key, or it names another device id
///    (`device_id`: the one it names).
///  - tls_errc::invalid_device_id (`device_id`: the invalid id), tls_errc::crypto_failure
///    (`mbedtls_error`; a failing entropy callback is one).
///  - the file functions add tls_errc::identity_permissions and identity_io
///    (identity_files.hpp).
///
/// Fields (core::field_key): `step` (one of identity_step above: where it failed), `file` (the
/// file or directory concerned), `os_error` (errno, signed), `mode` ("0644"), `mbedtls_error`
/// (mbedTLS's negative return code, signed: compare with MBEDTLS_ERR_*), `device_id`. Never key
/// material.
///
/// Thread-safety: an identity is immutable; distinct and shared objects are safe from any
/// thread. The factory functions are safe to call concurrently (the file functions on
/// different directories).
class identity {
public:
  /// A new identity in memory only (nothing written): for tests, benchmarks and ephemeral
  /// clients.
  static identity generate(std::string_view device_id, std::error_code& ec);
  /// As above, the key and serial drawn from a DRBG seeded by `entropy` (the platform's source,
  /// firmware) instead of mbedTLS's default one; an empty `entropy` means the default. A failing
  /// callback is tls_errc::crypto_failure.
  static identity generate(std::string_view device_id, entropy_source entropy, std::error_code& ec);

  /// An identity from stored bytes: the private key (DER, SEC1 or PKCS#8, as private_key_der()
  /// gives it) and the certificate (DER, as certificate_der() gives it). Checks that the key is
  /// ECDSA P-256, that the certificate parses and is for this key (so the fingerprint, which is
  /// the key's, is what peers pinned), and that its CN is a valid device id. Errors: see above
  /// (steps read_key, read_certificate, check_certificate); on failure an empty identity.
  static identity from_der(std::span<const std::uint8_t> key_der,
                           std::span<const std::uint8_t> cert_der, core::error_detail& error);

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
  /// The private key, DER (SEC1 "EC PRIVATE KEY"), for storage: from_der() takes it back.
  /// A SECRET: never log it, print it or send it anywhere but the device's own protected
  /// storage; wipe the vector when stored. Empty if mbedTLS cannot encode it. Precondition:
  /// not empty.
  std::vector<std::uint8_t> private_key_der() const;

  struct impl; ///< Defined in src/tls; opaque to users.

private:
  friend class context;
  friend struct identity_access;
  explicit identity(std::shared_ptr<const impl> p) noexcept : impl_(std::move(p)) {}
  std::shared_ptr<const impl> impl_;
};

} // namespace lanyard::tls
