#include <lanyard/tls_engine/identity.hpp>

#include <lanyard/core/device_id.hpp>
#include <lanyard/core/display_text.hpp>
#include <lanyard/tls_engine/certificate.hpp>
#include <lanyard/tls_engine/error.hpp>

#include "identity_impl.hpp"
#include "mbedtls_util.hpp"

#include <mbedtls/ecp.h>
#include <mbedtls/oid.h>
#include <mbedtls/pem.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_crt.h>

#include <array>
#include <cstring>
#include <string>
#include <system_error>

// An identity in memory: generating one, its accessors, and the certificate functions. The
// file functions (load, create, re-issue) are in identity_files.cpp: a firmware link that never
// calls them never pulls in std::filesystem and POSIX file I/O.

namespace lanyard::tls {

namespace fk = core::field_key;

namespace detail {

// Fills impl's derived fields from its parsed certificate.
void finish(identity::impl& id) {
  id.fp = spki_fingerprint(id.cert);
  id.device_id = subject_cn(id.cert);
  id.cert_der.assign(id.cert.raw.p, id.cert.raw.p + id.cert.raw.len);
}

// Issues a self-signed certificate for `key` naming `device_id`; PEM into `pem`.
int issue_certificate(mbedtls_pk_context& key, std::string_view device_id, drbg& rng,
                      std::string& pem) {
  mbedtls_x509write_cert crt;
  mbedtls_x509write_crt_init(&crt);
  mbedtls_mpi serial;
  mbedtls_mpi_init(&serial);

  int ret = 0;
  std::string subject = "CN=" + std::string(device_id);
  std::array<unsigned char, 16> serial_bytes{};
  std::array<unsigned char, 4096> buf{};
  do {
    // A random positive serial: RFC 5280 wants serials unique per issuer; each identity is its
    // own issuer, and re-issues must differ, so 127 random bits.
    if ((ret = mbedtls_ctr_drbg_random(rng.ctr(), serial_bytes.data(), serial_bytes.size())) != 0)
      break;
    serial_bytes[0] = static_cast<unsigned char>((serial_bytes[0] & 0x7f) | 0x40);
    if ((ret = mbedtls_mpi_read_binary(&serial, serial_bytes.data(), serial_bytes.size())) != 0)
      break;
    mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&crt, &key);
    mbedtls_x509write_crt_set_issuer_key(&crt, &key);
    if ((ret = mbedtls_x509write_crt_set_serial(&crt, &serial)) != 0) break;
    if ((ret = mbedtls_x509write_crt_set_subject_name(&crt, subject.c_str())) != 0) break;
    if ((ret = mbedtls_x509write_crt_set_issuer_name(&crt, subject.c_str())) != 0) break;
    if ((ret = mbedtls_x509write_crt_set_validity(&crt, "20000101000000", "99991231235959")) != 0)
      break;
    if ((ret = mbedtls_x509write_crt_set_basic_constraints(&crt, 0, -1)) != 0) break;
    if ((ret = mbedtls_x509write_crt_set_key_usage(&crt, MBEDTLS_X509_KU_DIGITAL_SIGNATURE)) != 0)
      break;
    if ((ret = mbedtls_x509write_crt_set_subject_key_identifier(&crt)) != 0) break;
    if ((ret = mbedtls_x509write_crt_pem(&crt, buf.data(), buf.size(), mbedtls_ctr_drbg_random,
                                         rng.ctr())) != 0)
      break;
    pem.assign(reinterpret_cast<const char*>(buf.data()));
  } while (false);

  mbedtls_mpi_free(&serial);
  mbedtls_x509write_crt_free(&crt);
  return ret;
}

int generate_key(mbedtls_pk_context& key, drbg& rng) {
  int ret = mbedtls_pk_setup(&key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
  if (ret != 0) return ret;
  return mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(key), mbedtls_ctr_drbg_random,
                             rng.ctr());
}

int parse_pem_cert(mbedtls_x509_crt& crt, const std::string& pem) {
  return mbedtls_x509_crt_parse(&crt, reinterpret_cast<const unsigned char*>(pem.c_str()),
                                pem.size() + 1);
}

int seed_for_identity(drbg& rng, std::string_view device_id, entropy_source entropy) {
  std::string pers = "lanyard identity " + std::string(device_id);
  return rng.seed(pers, entropy);
}

bool is_p256_ec_key(const mbedtls_pk_context& pk) {
  if (mbedtls_pk_get_type(&pk) != MBEDTLS_PK_ECKEY) return false;
  return mbedtls_pk_ec(pk)->grp.id == MBEDTLS_ECP_DP_SECP256R1;
}

} // namespace detail

identity identity::generate(std::string_view device_id, std::error_code& ec) {
  return generate(device_id, entropy_source{}, ec);
}

identity identity::generate(std::string_view device_id, entropy_source entropy,
                            std::error_code& ec) {
  ec.clear();
  if (!core::is_valid_device_id(device_id)) {
    ec = tls_errc::invalid_device_id;
    return {};
  }
  auto out = std::make_shared<identity::impl>();
  detail::drbg rng;
  std::string pem;
  int ret = detail::seed_for_identity(rng, device_id, entropy);
  if (ret == 0) ret = detail::generate_key(out->key, rng);
  if (ret == 0) ret = detail::issue_certificate(out->key, device_id, rng, pem);
  if (ret == 0) ret = detail::parse_pem_cert(out->cert, pem);
  if (ret != 0) {
    ec = tls_errc::crypto_failure;
    return {};
  }
  detail::finish(*out);
  return identity_access::make(std::move(out));
}

identity identity::from_der(std::span<const std::uint8_t> key_der,
                            std::span<const std::uint8_t> cert_der, core::error_detail& error) {
  error = {};
  auto fail = [&error](std::string why, std::string_view step, int ret = 0) {
    error = core::error_detail{tls_errc::bad_identity_file, std::move(why)}.with(fk::step,
                                                                                 std::string(step));
    if (ret != 0) error.with(fk::mbedtls_error, std::int64_t{ret});
    return identity{};
  };
  auto out = std::make_shared<identity::impl>();
  // mbedtls_pk_parse_key takes DER as is (PEM would need a NUL); no password.
  int ret = mbedtls_pk_parse_key(&out->key, key_der.data(), key_der.size(), nullptr, 0);
  if (ret != 0)
    return fail("the stored private key does not parse (" + detail::mbedtls_error_text(ret) +
                    "); the identity is lost unless a copy exists",
                identity_step::read_key, ret);
  if (!detail::is_p256_ec_key(out->key))
    return fail("the stored private key is not an ECDSA P-256 key; Lanyard identities use P-256",
                identity_step::read_key);
  ret = mbedtls_x509_crt_parse_der(&out->cert, cert_der.data(), cert_der.size());
  if (ret != 0)
    return fail("the stored certificate does not parse (" + detail::mbedtls_error_text(ret) +
                    "); issue a new one for the key (the fingerprint stays the same)",
                identity_step::read_certificate, ret);
  // The fingerprint is the certificate's key: a certificate of another key would make this
  // device present a key peers never pinned, while signing with the stored one.
  if (mbedtls_pk_check_pair(&out->cert.pk, &out->key) != 0)
    return fail("the stored certificate is not for the stored private key (different public "
                "key)",
                identity_step::check_certificate);
  detail::finish(*out);
  if (!core::is_valid_device_id(out->device_id)) {
    error = core::error_detail{tls_errc::invalid_device_id,
                               "the stored certificate names an invalid device id \"" +
                                   core::display_text(out->device_id, 64) + "\""}
                .with(fk::step, std::string(identity_step::check_certificate))
                .with(fk::device_id, core::display_text(out->device_id, 64));
    return identity{};
  }
  return identity_access::make(std::move(out));
}

std::vector<std::uint8_t> identity::private_key_der() const {
  // mbedtls_pk_write_key_der writes at the end of the buffer and returns the length. A P-256
  // SEC1 key is 121 bytes; the buffer is wiped either way, it held the secret.
  std::array<unsigned char, 256> buf{};
  std::vector<std::uint8_t> out;
  int len = mbedtls_pk_write_key_der(&impl_->key, buf.data(), buf.size());
  if (len > 0) out.assign(buf.end() - len, buf.end());
  mbedtls_platform_zeroize(buf.data(), buf.size());
  return out;
}

const std::string& identity::device_id() const noexcept {
  return impl_->device_id;
}

const core::fingerprint& identity::fingerprint() const noexcept {
  return impl_->fp;
}

std::span<const std::uint8_t> identity::certificate_der() const noexcept {
  return impl_->cert_der;
}

std::string identity::certificate_pem() const {
  std::array<unsigned char, 4096> buf{};
  size_t olen = 0;
  if (mbedtls_pem_write_buffer("-----BEGIN CERTIFICATE-----\n", "-----END CERTIFICATE-----\n",
                               impl_->cert_der.data(), impl_->cert_der.size(), buf.data(),
                               buf.size(), &olen) != 0)
    return {};
  return std::string(reinterpret_cast<const char*>(buf.data()));
}

namespace {

int parse_any_cert(mbedtls_x509_crt& crt, std::span<const std::uint8_t> cert) {
  // mbedtls_x509_crt_parse wants PEM NUL-terminated (length includes the NUL); accept PEM with
  // or without it.
  static constexpr std::string_view pem_begin = "-----BEGIN";
  std::string_view text(reinterpret_cast<const char*>(cert.data()), cert.size());
  if (text.find(pem_begin) != std::string_view::npos) {
    std::string copy(text);
    if (!copy.empty() && copy.back() == '\0') copy.pop_back();
    return mbedtls_x509_crt_parse(&crt, reinterpret_cast<const unsigned char*>(copy.c_str()),
                                  copy.size() + 1);
  }
  return mbedtls_x509_crt_parse_der(&crt, cert.data(), cert.size());
}

} // namespace

core::fingerprint certificate_fingerprint(std::span<const std::uint8_t> cert,
                                          core::error_detail& error) {
  error = {};
  mbedtls_x509_crt crt;
  mbedtls_x509_crt_init(&crt);
  core::fingerprint fp{};
  int ret = parse_any_cert(crt, cert);
  if (ret != 0) {
    error = core::error_detail{tls_errc::bad_identity_file,
                               "not an X.509 certificate: " + detail::mbedtls_error_text(ret)}
                .with(fk::mbedtls_error, std::int64_t{ret});
  } else {
    fp = detail::spki_fingerprint(crt);
  }
  mbedtls_x509_crt_free(&crt);
  return fp;
}

core::fingerprint certificate_fingerprint(std::span<const std::uint8_t> cert, std::error_code& ec,
                                          std::string* detail) {
  core::error_detail error;
  core::fingerprint fp = certificate_fingerprint(cert, error);
  ec = error.code;
  if (detail != nullptr) *detail = std::move(error.detail);
  return fp;
}

std::string certificate_subject_cn(std::span<const std::uint8_t> cert, core::error_detail& error) {
  error = {};
  mbedtls_x509_crt crt;
  mbedtls_x509_crt_init(&crt);
  std::string cn;
  int ret = parse_any_cert(crt, cert);
  if (ret != 0)
    error = core::error_detail{tls_errc::bad_identity_file,
                               "not an X.509 certificate: " + detail::mbedtls_error_text(ret)}
                .with(fk::mbedtls_error, std::int64_t{ret});
  else
    cn = detail::subject_cn(crt);
  mbedtls_x509_crt_free(&crt);
  return cn;
}

std::string certificate_subject_cn(std::span<const std::uint8_t> cert, std::error_code& ec) {
  core::error_detail error;
  std::string cn = certificate_subject_cn(cert, error);
  ec = error.code;
  return cn;
}

} // namespace lanyard::tls
