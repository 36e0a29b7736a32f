// The inside of lanyard::tls::identity: mbedTLS key and certificate objects.
#pragma once

#include <lanyard/tls/identity.hpp>

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include <string>
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

/// Access for the rest of src/tls.
struct identity_access {
  static const identity::impl* get(const identity& id) noexcept { return id.impl_.get(); }
  static identity make(std::shared_ptr<const identity::impl> p) noexcept {
    return identity(std::move(p));
  }
};

} // namespace lanyard::tls
