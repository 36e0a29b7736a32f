/// @file
/// Fingerprints of certificates that are not our own (a peer's certificate saved to a file, a
/// certificate in a test, what `openssl s_client -showcerts` printed).
#pragma once

#include <lanyard/core/error_detail.hpp>
#include <lanyard/core/fingerprint.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <system_error>

namespace lanyard::tls {

/// The Lanyard fingerprint of an X.509 certificate: SHA-256 of its DER SubjectPublicKeyInfo,
/// the same value as
/// `openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | sha256sum`.
/// `cert` is one certificate, DER or PEM (a PEM text must end with its NUL terminator or not;
/// both are accepted).
///
/// Errors: tls_errc::bad_identity_file if the bytes are not a certificate, in `error` with
/// one sentence ("not an X.509 certificate: mbedTLS: ...") and the field
/// core::field_key::mbedtls_error (mbedTLS's negative return code); `error` is cleared on
/// success. Thread-safety: pure function.
core::fingerprint certificate_fingerprint(std::span<const std::uint8_t> cert,
                                          core::error_detail& error);

/// Kept for compatibility: as above with only the code in `ec` and the sentence in `*detail`
/// if not null.
core::fingerprint certificate_fingerprint(std::span<const std::uint8_t> cert, std::error_code& ec,
                                          std::string* detail = nullptr);

/// The subject CN of an X.509 certificate (DER or PEM), e.g. a device id; empty if it has none.
/// Errors as certificate_fingerprint(). Thread-safety: pure function.
std::string certificate_subject_cn(std::span<const std::uint8_t> cert, core::error_detail& error);
/// As above with only the code.
std::string certificate_subject_cn(std::span<const std::uint8_t> cert, std::error_code& ec);

} // namespace lanyard::tls
