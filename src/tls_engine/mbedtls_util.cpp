#include "mbedtls_util.hpp"

#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/sha256.h>

#include <cstdio>
#include <cstring>

namespace lanyard::tls::detail {

std::string mbedtls_error_text(int ret) {
  char text[256];
  mbedtls_strerror(ret, text, sizeof text);
  char code[32];
  std::snprintf(code, sizeof code, " (-0x%04X)", static_cast<unsigned>(ret < 0 ? -ret : ret));
  return std::string("mbedTLS: ") + text + code;
}

core::fingerprint spki_fingerprint(const mbedtls_x509_crt& crt) {
  core::fingerprint fp;
  // pk_raw points into the certificate's own DER: the SubjectPublicKeyInfo exactly as signed,
  // which is what `openssl x509 -pubkey | openssl pkey -pubin -outform der` reproduces for
  // DER-encoded certificates.
  mbedtls_sha256_ret(crt.pk_raw.p, crt.pk_raw.len, fp.bytes.data(), 0);
  return fp;
}

std::string_view subject_cn_view(const mbedtls_x509_crt& crt) noexcept {
  for (const mbedtls_x509_name* n = &crt.subject; n != nullptr; n = n->next) {
    if (n->oid.p != nullptr && MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) == 0)
      return {reinterpret_cast<const char*>(n->val.p), n->val.len};
  }
  return {};
}

std::string subject_cn(const mbedtls_x509_crt& crt) {
  return std::string(subject_cn_view(crt));
}

drbg::drbg() noexcept {
  mbedtls_entropy_init(&entropy_);
  mbedtls_ctr_drbg_init(&ctr_);
}

drbg::~drbg() {
  mbedtls_ctr_drbg_free(&ctr_);
  mbedtls_entropy_free(&entropy_);
}

int drbg::seed(std::string_view personalization, entropy_source source) {
  // The platform's source replaces mbedTLS's entropy pool entirely: firmware may have none of
  // the pool's default sources. The DRBG calls it again on reseed.
  if (source)
    return mbedtls_ctr_drbg_seed(&ctr_, source.callback, source.user,
                                 reinterpret_cast<const unsigned char*>(personalization.data()),
                                 personalization.size());
  return mbedtls_ctr_drbg_seed(&ctr_, mbedtls_entropy_func, &entropy_,
                               reinterpret_cast<const unsigned char*>(personalization.data()),
                               personalization.size());
}

int drbg::random(void* self, unsigned char* out, size_t len) noexcept {
  return mbedtls_ctr_drbg_random(static_cast<drbg*>(self)->ctr(), out, len);
}

} // namespace lanyard::tls::detail
