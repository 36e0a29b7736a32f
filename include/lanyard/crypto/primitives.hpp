/// @file
/// The symmetric building blocks of pairing, over mbedTLS's libmbedcrypto: SHA-256, HMAC-SHA256,
/// HKDF-SHA256 (RFC 5869), PBKDF2-HMAC-SHA256 (RFC 8018), a constant-time comparison, secret
/// wiping, and the random_source through which randomness is passed in.
///
/// Nothing here throws, logs, or keeps global state; every function is noexcept and reports
/// through crypto_errc (error.hpp). mbedTLS may allocate internally (its message-digest contexts
/// do); these functions allocate nothing else.
///
/// Thread-safety: every function is safe to call from any thread at the same time, as long as
/// threads do not write to the same output buffer.
#pragma once

#include <lanyard/crypto/error.hpp>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <system_error>

namespace lanyard::crypto {

/// Read-only bytes. Every input of this library is one.
using bytes_view = std::span<const std::uint8_t>;

/// Where randomness comes from: a function with the signature of mbedTLS's f_rng, so any mbedTLS
/// DRBG (mbedtls_ctr_drbg_random with its context) can be passed as it is.
///
/// The library never picks a global RNG: the app side passes system_random(), the firmware its
/// hardware RNG, tests a deterministic or failing one.
///
/// Thread-safety: whatever `fill` guarantees for `ctx`; the library calls it only from the thread
/// that called the library.
struct random_source {
  /// Writes `len` random bytes to `out`; returns 0 on success, anything else on failure (the
  /// library then reports crypto_errc::random_failure). Null means "no source": functions that
  /// need one report crypto_errc::bad_input.
  int (*fill)(void* ctx, unsigned char* out, std::size_t len) = nullptr;
  /// Passed to `fill` as its first argument.
  void* ctx = nullptr;
};

/// HMAC-SHA256 (RFC 2104) with `key` over the concatenation of `parts`, written to `out`.
///
/// The parts spare the caller a buffer: hmac_sha256(k, {a, b}, out) == hmac_sha256(k, {a ‖ b},
/// out). Any key length is accepted (longer than 64 bytes is hashed first, as RFC 2104 says).
///
/// Errors: crypto_errc::mbedtls_failure if mbedTLS fails (allocation). `out` is zeroed on error.
/// Thread-safety: pure function, safe from any thread.
std::error_code hmac_sha256(bytes_view key, std::initializer_list<bytes_view> parts,
                            std::span<std::uint8_t, 32> out) noexcept;

/// HKDF-SHA256 (RFC 5869): extract with `salt` (empty means HashLen zero bytes, as RFC 5869
/// section 2.2 says) from `ikm`, then expand with `info` into all of `out`.
///
/// Errors: crypto_errc::bad_input if `out` is empty or longer than 255 * 32 = 8160 bytes (the
/// most HKDF-SHA256 can produce); crypto_errc::mbedtls_failure if mbedTLS fails. `out` is zeroed
/// on error.
/// Thread-safety: pure function, safe from any thread.
std::error_code hkdf_sha256(bytes_view salt, bytes_view ikm, bytes_view info,
                            std::span<std::uint8_t> out) noexcept;

/// PBKDF2 (RFC 8018 section 5.2) with HMAC-SHA256 as the PRF: derives all of `out` from
/// `password` and `salt` with `iterations` rounds.
///
/// Errors: crypto_errc::bad_input if `iterations` is 0 or `out` is empty or longer than
/// 2^32 - 1 bytes; crypto_errc::mbedtls_failure if mbedTLS fails. `out` is zeroed on error.
/// Thread-safety: pure function, safe from any thread.
std::error_code pbkdf2_hmac_sha256(bytes_view password, bytes_view salt, std::uint32_t iterations,
                                   std::span<std::uint8_t> out) noexcept;

/// SHA-256 of the concatenation of `parts`, written to `out`.
///
/// Errors: crypto_errc::mbedtls_failure if mbedTLS fails (not expected with the software
/// implementation; a hardware-accelerated one may). `out` is zeroed on error.
/// Thread-safety: pure function, safe from any thread.
std::error_code sha256(std::initializer_list<bytes_view> parts,
                       std::span<std::uint8_t, 32> out) noexcept;

/// True if `a` and `b` hold the same bytes. When the sizes match, the time taken does not depend
/// on the content (use it for MACs and confirmation tags, never `==`); a size mismatch returns
/// false at once, because sizes are not secret.
///
/// Thread-safety: pure function, safe from any thread.
bool equal_constant_time(bytes_view a, bytes_view b) noexcept;

/// Overwrites `secret` with zeros in a way the compiler may not optimise away (unlike a memset
/// of a buffer that is never read again).
///
/// Thread-safety: safe from any thread, as long as no other thread uses `secret`.
void wipe(std::span<std::uint8_t> secret) noexcept;

/// A random_source backed by the Linux getrandom(2) system call (blocking only until the kernel
/// pool is first initialised, retrying on EINTR and short reads). The returned object needs no
/// context and stays valid for the life of the process. Where the C library has no
/// getrandom(2) (bare-metal toolchains), every call of the source fails: firmware passes its
/// platform's random source instead (firmware::platform::random).
///
/// Thread-safety: the source may be used from any number of threads at once.
random_source system_random() noexcept;

} // namespace lanyard::crypto
