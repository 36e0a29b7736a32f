// The inside of lanyard::tls::identity: mbedTLS key and certificate objects.
#pragma once

#include <lanyard/tls_engine/identity.hpp>

#include "mbedtls_util.hpp"

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include <string>
#include <string_view>
#include <vector>

namespace lanyard::tls {

struct identity::impl {
  impl() noexcept {
    mbedtls_pk_init(&key);
    mbedtls_x509_crt_init(&cert);
  }
  ~impl() {
    mbedtls_x509_crt_free(&cert);
    mbedtls_pk_free(&key);
  }
  impl(const impl&) = delete;
  impl& operator=(const impl&) = delete;

  // mutable: mbedtls_ssl_conf_own_cert() takes non-const pointers although the handshake only
  // reads them (ECDSA signing with a P-256 key uses the static precomputed generator tables and
  // does not write to the key), so one identity can serve many concurrent handshakes.
  mutable mbedtls_pk_context key;
  mutable mbedtls_x509_crt cert;
  std::string device_id;
  core::fingerprint fp;
  std::vector<std::uint8_t> cert_der;
};

namespace detail {
// Making an identity's parts, shared by identity.cpp (in memory) and identity_files.cpp. Each
// returns 0 or an mbedTLS error.

/// Fills impl's derived fields (fingerprint, device id, DER) from its parsed certificate.
void finish(identity::impl& id);
/// Seeds `rng` for work on `device_id`'s identity.
int seed_for_identity(drbg& rng, std::string_view device_id, entropy_source entropy = {});
/// A new ECDSA P-256 key.
int generate_key(mbedtls_pk_context& key, drbg& rng);
/// A self-signed certificate for `key` naming `device_id`, PEM into `pem`.
int issue_certificate(mbedtls_pk_context& key, std::string_view device_id, drbg& rng,
                      std::string& pem);
/// Parses a PEM certificate (NUL-terminated, as mbedTLS wants it).
int parse_pem_cert(mbedtls_x509_crt& crt, const std::string& pem);
/// True if `pk` is an ECDSA P-256 key, the only kind Lanyard identities use.
bool is_p256_ec_key(const mbedtls_pk_context& pk);
} // namespace detail

/// Access for the rest of src/tls_engine.
struct identity_access {
  static const identity::impl* get(const identity& id) noexcept { return id.impl_.get(); }
  static identity make(std::shared_ptr<const identity::impl> p) noexcept {
    return identity(std::move(p));
  }
};

} // namespace lanyard::tls
