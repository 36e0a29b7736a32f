#include <lanyard/tls_engine/identity_files.hpp>

#include <lanyard/core/device_id.hpp>
#include <lanyard/tls_engine/error.hpp>

#include "identity_impl.hpp"
#include "mbedtls_util.hpp"

#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <string>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

// An identity's files (identity.key, identity.crt): load, create on first use, re-issue. Its
// own object file, apart from identity.cpp, so that firmware, which keeps its identity in its
// own storage, links none of this (std::filesystem, POSIX files).

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
  if (!detail::is_p256_ec_key(key)) {
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

  const fs::path key_path = dir / identity_files::key_file_name;
  const fs::path cert_path = dir / identity_files::cert_file_name;

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
    int ret = detail::seed_for_identity(rng, device_id);
    if (ret == 0) ret = detail::generate_key(out->key, rng);
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
    int ret = detail::seed_for_identity(rng, want_id);
    std::string pem;
    if (ret == 0) ret = detail::issue_certificate(out->key, want_id, rng, pem);
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
    ret = detail::parse_pem_cert(out->cert, pem);
    if (ret != 0)
      return fail(tls_errc::crypto_failure,
                  "cannot parse the issued certificate: " + detail::mbedtls_error_text(ret),
                  step::issue_certificate, {mbedtls_field(ret)});
  }

  detail::finish(*out);
  return identity_access::make(std::move(out));
}

} // namespace

identity identity_files::load_or_create(const std::filesystem::path& dir,
                                        std::string_view device_id, core::error_detail& error) {
  return load_impl(dir, device_id, true, false, error);
}

#if defined(__cpp_exceptions)
// Only where exceptions exist: firmware (built without them) uses the error_detail form.
identity identity_files::load_or_create(const std::filesystem::path& dir,
                                        std::string_view device_id) {
  core::error_detail error;
  identity id = load_impl(dir, device_id, true, false, error);
  if (error) throw std::system_error(error.code, error.detail);
  return id;
}
#endif

identity identity_files::load(const std::filesystem::path& dir, core::error_detail& error) {
  return load_impl(dir, {}, false, false, error);
}

identity identity_files::reissue_certificate(const std::filesystem::path& dir,
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

identity identity_files::load_or_create(const std::filesystem::path& dir,
                                        std::string_view device_id, std::error_code& ec,
                                        std::string* detail) {
  core::error_detail error;
  identity id = load_or_create(dir, device_id, error);
  return split(std::move(id), std::move(error), ec, detail);
}

identity identity_files::load(const std::filesystem::path& dir, std::error_code& ec,
                              std::string* detail) {
  core::error_detail error;
  identity id = load(dir, error);
  return split(std::move(id), std::move(error), ec, detail);
}

identity identity_files::reissue_certificate(const std::filesystem::path& dir, std::error_code& ec,
                                             std::string* detail) {
  core::error_detail error;
  identity id = reissue_certificate(dir, error);
  return split(std::move(id), std::move(error), ec, detail);
}

} // namespace lanyard::tls
