#include <lanyard/tls/identity.hpp>

#include <lanyard/core/device_id.hpp>
#include <lanyard/tls/certificate.hpp>
#include <lanyard/tls/error.hpp>

#include "identity_impl.hpp"
#include "mbedtls_util.hpp"

#include <mbedtls/ecp.h>
#include <mbedtls/oid.h>
#include <mbedtls/pem.h>
#include <mbedtls/x509_crt.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

namespace lanyard::tls {
namespace {

namespace fs = std::filesystem;

namespace fk = core::field_key;
namespace step = identity_step;

// Collects the error, the sentence and the fields for the caller.
struct failure {
  core::error_detail& out;

  // `step` is an identity_step; `fields` follow it.
  identity operator()(tls_errc e, std::string why, std::string_view step,
                      std::vector<core::field> fields = {}) const {
    out.code = e;
    out.detail = std::move(why);
    out.fields.clear();
    out.fields.push_back({fk::step, std::string(step)});
    for (core::field& f : fields)
      out.fields.push_back(std::move(f));
    return identity{};
  }
};

core::field file_field(const fs::path& p) {
  return {fk::file, p.string()};
}
core::field os_field(int err) {
  return {fk::os_error, std::int64_t{err}};
}
core::field mbedtls_field(int ret) {
  return {fk::mbedtls_error, std::int64_t{ret}};
}

std::string os_error(int err) {
  return std::generic_category().message(err);
}

// A file descriptor that closes itself.
struct fd_guard {
  int fd = -1;
  ~fd_guard() {
    if (fd >= 0) ::close(fd);
  }
};

bool write_all(int fd, const void* data, std::size_t size) {
  const auto* p = static_cast<const unsigned char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// Makes a rename/link durable: fsync the directory entry.
void fsync_dir(const fs::path& dir) {
  fd_guard d{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (d.fd >= 0) ::fsync(d.fd);
}

// Writes `text` to `target` durably: a temp file with `mode`, fsync, then either rename (replace)
// or link (create only if absent, so a concurrent creator's key is never overwritten).
// Returns 0, or errno; EEXIST with `exclusive` means someone else created `target` first.
int write_file_atomically(const fs::path& target, std::string_view text, mode_t mode,
                          bool exclusive) {
  // A unique temp name (mkstemp creates it 0600), so concurrent writers never share one.
  std::string tmp = target.string() + ".tmp-XXXXXX";
  int err = 0;
  {
    fd_guard f{::mkstemp(tmp.data())};
    if (f.fd < 0) return errno;
    // The umask may have removed bits we want (0644 for the cert); never adds any.
    if (::fchmod(f.fd, mode) != 0 || !write_all(f.fd, text.data(), text.size()) ||
        ::fsync(f.fd) != 0)
      err = errno;
  }
  if (err == 0) {
    if (exclusive) {
      if (::link(tmp.c_str(), target.c_str()) != 0) err = errno;
    } else if (::rename(tmp.c_str(), target.c_str()) != 0) {
      err = errno;
    }
  }
  ::unlink(tmp.c_str());
  if (err == 0) fsync_dir(target.parent_path());
  return err;
}

// Fills impl's derived fields from its parsed certificate.
void finish(identity::impl& id) {
  id.fp = detail::spki_fingerprint(id.cert);
  id.device_id = detail::subject_cn(id.cert);
  id.cert_der.assign(id.cert.raw.p, id.cert.raw.p + id.cert.raw.len);
}

bool is_p256_ec_key(const mbedtls_pk_context& pk) {
  if (mbedtls_pk_get_type(&pk) != MBEDTLS_PK_ECKEY) return false;
  return mbedtls_pk_ec(pk)->grp.id == MBEDTLS_ECP_DP_SECP256R1;
}

// Issues a self-signed certificate for `key` naming `device_id`; PEM into `pem`.
int issue_certificate(mbedtls_pk_context& key, std::string_view device_id, detail::drbg& rng,
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

int generate_key(mbedtls_pk_context& key, detail::drbg& rng) {
  int ret = mbedtls_pk_setup(&key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
  if (ret != 0) return ret;
  return mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(key), mbedtls_ctr_drbg_random,
                             rng.ctr());
}

int parse_pem_cert(mbedtls_x509_crt& crt, const std::string& pem) {
  return mbedtls_x509_crt_parse(&crt, reinterpret_cast<const unsigned char*>(pem.c_str()),
                                pem.size() + 1);
}

int seed(detail::drbg& rng, std::string_view device_id) {
  std::string pers = "lanyard identity " + std::string(device_id);
  return rng.seed(pers);
}

// Loads the key file after checking its mode; on failure fills fail.out and returns false.
bool load_key(const fs::path& path, mbedtls_pk_context& key, const failure& fail) {
  auto unreadable = [&](int err) {
    fail(tls_errc::identity_io, "cannot read " + path.string() + ": " + os_error(err),
         step::read_key, {file_field(path), os_field(err)});
    return false;
  };
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return unreadable(errno);
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    fail(tls_errc::identity_permissions,
         path.string() + " is accessible by group/others (mode " + mode +
             "); a private key must be mode 0600. Run: chmod 600 " + path.string(),
         step::read_key, {file_field(path), {fk::mode, std::string(mode)}});
    return false;
  }
  if (::access(path.c_str(), R_OK) != 0) return unreadable(errno);
  int ret = mbedtls_pk_parse_keyfile(&key, path.c_str(), nullptr);
  if (ret != 0) {
    fail(tls_errc::bad_identity_file,
         path.string() + " is not a readable private key (" + detail::mbedtls_error_text(ret) +
             "); restore it from a backup",
         step::read_key, {file_field(path), mbedtls_field(ret)});
    return false;
  }
  if (!is_p256_ec_key(key)) {
    fail(tls_errc::bad_identity_file,
         path.string() + " is not an ECDSA P-256 key; Lanyard identities use P-256", step::read_key,
         {file_field(path)});
    return false;
  }
  return true;
}

// The common path of load / load_or_create / reissue.
//   create_if_missing: make dir and both files when neither exists.
//   reissue: always issue a new certificate for the existing key.
identity load_impl(const fs::path& dir, std::string_view device_id, bool create_if_missing,
                   bool reissue, core::error_detail& error) {
  error = {};
  const failure fail{error};
  if (create_if_missing && !core::is_valid_device_id(device_id))
    return fail(tls_errc::invalid_device_id,
                "invalid device id \"" + std::string(device_id) +
                    "\": use 1-64 characters of A-Z a-z 0-9 . _ : -",
                step::issue_certificate, {{fk::device_id, std::string(device_id)}});

  const fs::path key_path = dir / identity::key_file_name;
  const fs::path cert_path = dir / identity::cert_file_name;

  std::error_code fec;
  bool dir_exists = fs::is_directory(dir, fec);
  if (!dir_exists) {
    if (!create_if_missing) {
      // Not found is no error for is_directory(); something else than a directory is ENOTDIR.
      std::error_code xec;
      const int err = fec ? fec.value() : fs::exists(dir, xec) ? ENOTDIR : ENOENT;
      return fail(tls_errc::identity_io, "identity directory " + dir.string() + " does not exist",
                  step::directory, {file_field(dir), os_field(err)});
    }
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      const int err = errno;
      return fail(tls_errc::identity_io,
                  "cannot create identity directory " + dir.string() + ": " + os_error(err),
                  step::directory, {file_field(dir), os_field(err)});
    }
  }
  // Certificate first: the key is always written before its certificate, so a certificate
  // seen here implies its key is already visible (no false "key lost" during a concurrent
  // first start).
  bool cert_exists = fs::exists(cert_path, fec);
  bool key_exists = fs::exists(key_path, fec);

  auto out = std::make_shared<identity::impl>();
  detail::drbg rng;
  std::string want_id(device_id);

  if (!key_exists && cert_exists)
    return fail(tls_errc::bad_identity_file,
                key_path.string() + " is missing but " + cert_path.string() +
                    " exists: the private key of this identity is lost. Restore it from a "
                    "backup, or remove " +
                    cert_path.string() +
                    " to create a new identity (peers that pinned the old key will refuse it)",
                step::read_key, {file_field(key_path), os_field(ENOENT)});
  if (!key_exists) {
    if (!create_if_missing)
      return fail(tls_errc::identity_io, key_path.string() + " does not exist", step::read_key,
                  {file_field(key_path), os_field(ENOENT)});
    int ret = seed(rng, device_id);
    if (ret == 0) ret = generate_key(out->key, rng);
    if (ret != 0)
      return fail(tls_errc::crypto_failure,
                  "cannot generate an ECDSA P-256 key: " + detail::mbedtls_error_text(ret),
                  step::generate_key, {mbedtls_field(ret)});
    std::array<unsigned char, 1024> pem{};
    ret = mbedtls_pk_write_key_pem(&out->key, pem.data(), pem.size());
    if (ret != 0)
      return fail(tls_errc::crypto_failure,
                  "cannot encode the new key: " + detail::mbedtls_error_text(ret),
                  step::generate_key, {mbedtls_field(ret)});
    int err = write_file_atomically(key_path, reinterpret_cast<const char*>(pem.data()), 0600,
                                    /*exclusive=*/true);
    if (err == EEXIST) {
      // Another process created the identity at the same moment: use theirs.
      // Their key exists now, so this cannot recurse again; if their certificate is not
      // written yet, we issue one for their key (same fingerprint).
      return load_impl(dir, device_id, true, false, error);
    }
    if (err != 0)
      return fail(tls_errc::identity_io, "cannot write " + key_path.string() + ": " + os_error(err),
                  step::write_key, {file_field(key_path), os_field(err)});
    cert_exists = false; // a certificate must match the new key
    reissue = true;
  } else {
    if (!load_key(key_path, out->key, fail)) return identity{};
    if (!cert_exists && !create_if_missing && !reissue)
      return fail(tls_errc::identity_io, cert_path.string() + " does not exist",
                  step::read_certificate, {file_field(cert_path), os_field(ENOENT)});
    if (!cert_exists) reissue = true;
  }

  if (cert_exists) {
    int ret = mbedtls_x509_crt_parse_file(&out->cert, cert_path.c_str());
    if (ret != 0)
      return fail(tls_errc::bad_identity_file,
                  cert_path.string() + " is not a readable certificate (" +
                      detail::mbedtls_error_text(ret) + "); remove it to re-issue it from " +
                      key_path.string() + " (the fingerprint stays the same)",
                  step::read_certificate, {file_field(cert_path), mbedtls_field(ret)});
    if (mbedtls_pk_check_pair(&out->cert.pk, &out->key) != 0)
      return fail(tls_errc::bad_identity_file,
                  cert_path.string() + " does not belong to " + key_path.string() +
                      " (different public key); remove it to re-issue it from the key",
                  step::check_certificate, {file_field(cert_path)});
    std::string cn = detail::subject_cn(out->cert);
    if (want_id.empty()) want_id = cn;
    if (!want_id.empty() && cn != want_id)
      return fail(tls_errc::bad_identity_file,
                  cert_path.string() + " is the identity of device \"" + cn + "\", not \"" +
                      want_id + "\"; use another directory for another device id",
                  step::check_certificate, {file_field(cert_path), {fk::device_id, cn}});
  }

  if (reissue) {
    if (want_id.empty()) {
      return fail(tls_errc::bad_identity_file,
                  "cannot re-issue " + cert_path.string() +
                      ": the device id is unknown (no readable certificate and none given)",
                  step::issue_certificate, {file_field(cert_path)});
    }
    if (!core::is_valid_device_id(want_id))
      return fail(tls_errc::invalid_device_id, "invalid device id \"" + want_id + "\"",
                  step::issue_certificate, {{fk::device_id, want_id}});
    int ret = seed(rng, want_id);
    std::string pem;
    if (ret == 0) ret = issue_certificate(out->key, want_id, rng, pem);
    if (ret != 0)
      return fail(tls_errc::crypto_failure,
                  "cannot issue a certificate: " + detail::mbedtls_error_text(ret),
                  step::issue_certificate, {mbedtls_field(ret)});
    int err = write_file_atomically(cert_path, pem, 0644, /*exclusive=*/false);
    if (err != 0)
      return fail(tls_errc::identity_io,
                  "cannot write " + cert_path.string() + ": " + os_error(err),
                  step::write_certificate, {file_field(cert_path), os_field(err)});
    mbedtls_x509_crt_free(&out->cert);
    mbedtls_x509_crt_init(&out->cert);
    ret = parse_pem_cert(out->cert, pem);
    if (ret != 0)
      return fail(tls_errc::crypto_failure,
                  "cannot parse the issued certificate: " + detail::mbedtls_error_text(ret),
                  step::issue_certificate, {mbedtls_field(ret)});
  }

  finish(*out);
  return identity_access::make(std::move(out));
}

} // namespace

identity identity::load_or_create(const std::filesystem::path& dir, std::string_view device_id,
                                  core::error_detail& error) {
  return load_impl(dir, device_id, true, false, error);
}

identity identity::load_or_create(const std::filesystem::path& dir, std::string_view device_id) {
  core::error_detail error;
  identity id = load_impl(dir, device_id, true, false, error);
  if (error) throw std::system_error(error.code, error.detail);
  return id;
}

identity identity::load(const std::filesystem::path& dir, core::error_detail& error) {
  return load_impl(dir, {}, false, false, error);
}

identity identity::reissue_certificate(const std::filesystem::path& dir,
                                       core::error_detail& error) {
  return load_impl(dir, {}, false, true, error);
}

namespace {

// The compatibility forms: the code and the sentence of an error_detail.
identity split(identity id, core::error_detail&& error, std::error_code& ec, std::string* detail) {
  ec = error.code;
  if (detail != nullptr) *detail = std::move(error.detail);
  return id;
}

} // namespace

identity identity::load_or_create(const std::filesystem::path& dir, std::string_view device_id,
                                  std::error_code& ec, std::string* detail) {
  core::error_detail error;
  identity id = load_or_create(dir, device_id, error);
  return split(std::move(id), std::move(error), ec, detail);
}

identity identity::load(const std::filesystem::path& dir, std::error_code& ec,
                        std::string* detail) {
  core::error_detail error;
  identity id = load(dir, error);
  return split(std::move(id), std::move(error), ec, detail);
}

identity identity::reissue_certificate(const std::filesystem::path& dir, std::error_code& ec,
                                       std::string* detail) {
  core::error_detail error;
  identity id = reissue_certificate(dir, error);
  return split(std::move(id), std::move(error), ec, detail);
}

identity identity::generate(std::string_view device_id, std::error_code& ec) {
  ec.clear();
  if (!core::is_valid_device_id(device_id)) {
    ec = tls_errc::invalid_device_id;
    return {};
  }
  auto out = std::make_shared<identity::impl>();
  detail::drbg rng;
  std::string pem;
  int ret = seed(rng, device_id);
  if (ret == 0) ret = generate_key(out->key, rng);
  if (ret == 0) ret = issue_certificate(out->key, device_id, rng, pem);
  if (ret == 0) ret = parse_pem_cert(out->cert, pem);
  if (ret != 0) {
    ec = tls_errc::crypto_failure;
    return {};
  }
  finish(*out);
  return identity_access::make(std::move(out));
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
