/// @file
/// Errors of lanyard::crypto, the pairing crypto layer (SPAKE2+, HKDF, HMAC, PBKDF2 over
/// mbedTLS): one category, "lanyard.crypto".
///
/// Thread-safety: the category is a stateless singleton; everything here is safe to use from any
/// thread.
#pragma once

#include <system_error>
#include <type_traits>

namespace lanyard::crypto {

/// What went wrong in a crypto call. 0 is not an error.
///
/// For pairing, the codes split in three: confirmation_mismatch is the expected failure (the
/// code was wrong: ask the person again); bad_point is a peer that does not speak SPAKE2+
/// correctly (abort, do not retry blindly); the others are local mistakes or failures.
enum class crypto_errc {
  /// An argument is out of range: a buffer of the wrong size, a scalar that is zero or not below
  /// the group order, an iteration count of zero, an output longer than the function can
  /// produce, a random_source without a fill function, or stored verifier data that is corrupt.
  bad_input = 1,
  /// A point received from the peer is not acceptable: not 65 bytes, not in uncompressed SEC1
  /// format, not on the P-256 curve, or the identity (RFC 9383 section 6: the protocol must
  /// abort).
  bad_point,
  /// SPAKE2+ key confirmation failed: the two sides did not derive the same keys, because the
  /// pairing code was wrong, the peer is not who it claims to be, or the context or identities
  /// differ between the two sides.
  confirmation_mismatch,
  /// A call came in the wrong order for the object's state (finish() before start(), start()
  /// twice, any call after the exchange finished or failed).
  wrong_state,
  /// mbedTLS reported a failure that is not the caller's fault (typically a failed allocation
  /// inside its bignum arithmetic).
  mbedtls_failure,
  /// The random_source reported a failure (getrandom(2) or the firmware's RNG).
  random_failure,
};

/// The "lanyard.crypto" category.
///
/// Thread-safety: the returned object is immutable and safe to use from any thread.
const std::error_category& crypto_category() noexcept;

/// Makes a std::error_code in crypto_category(); found by argument-dependent lookup, so a
/// crypto_errc converts implicitly to std::error_code.
inline std::error_code make_error_code(crypto_errc e) noexcept {
  return {static_cast<int>(e), crypto_category()};
}

} // namespace lanyard::crypto

template <>
struct std::is_error_code_enum<lanyard::crypto::crypto_errc> : std::true_type {};
