// Private helpers shared by src/tls_engine: every mbedTLS-specific detail that more than one file
// needs. Kept here (not in include/) so a port to mbedTLS 3.x touches only src/tls_engine.
#pragma once

#include <lanyard/core/fingerprint.hpp>
#include <lanyard/tls_engine/entropy.hpp>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/x509_crt.h>

#include <string>
#include <string_view>

namespace lanyard::tls::detail {

/// "mbedTLS: <mbedtls_strerror text> (-0x2700)".
std::string mbedtls_error_text(int ret);

/// SHA-256 of the certificate's SubjectPublicKeyInfo as it appears in the certificate
/// (crt.pk_raw is exactly the DER SubjectPublicKeyInfo).
core::fingerprint spki_fingerprint(const mbedtls_x509_crt& crt);

/// The subject CN of `crt`, or empty.
std::string subject_cn(const mbedtls_x509_crt& crt);
/// The same as a view into `crt` (valid as long as it is): nothing is allocated.
std::string_view subject_cn_view(const mbedtls_x509_crt& crt) noexcept;

/// An entropy source plus a CTR-DRBG seeded from it. One per tls::context (and one per
/// identity generation). mbedtls_ctr_drbg_random locks the DRBG's mutex (MBEDTLS_THREADING_C is
/// enabled in Debian's build), so a seeded drbg may be used from several threads.
class drbg {
public:
  drbg() noexcept;
  ~drbg();
  drbg(const drbg&) = delete;
  drbg& operator=(const drbg&) = delete;

  /// Seeds the DRBG from `source`, or from mbedTLS's default entropy source if it is empty;
  /// returns 0 or an mbedTLS error. `personalization` makes the stream distinct from other
  /// instances seeded at the same moment.
  int seed(std::string_view personalization, entropy_source source = {});

  /// For mbedtls_*(f_rng, p_rng) parameters.
  static int random(void* self, unsigned char* out, size_t len) noexcept;
  mbedtls_ctr_drbg_context* ctr() noexcept { return &ctr_; }

private:
  mbedtls_entropy_context entropy_;
  mbedtls_ctr_drbg_context ctr_;
};

} // namespace lanyard::tls::detail
