#include <lanyard/firmware/identity_store.hpp>

#include <lanyard/firmware/error.hpp>

#include <array>
#include <cstddef>
#include <string>
#include <vector>

namespace lanyard::firmware {
namespace {

// A P-256 key in SEC1 DER is ~121 bytes; Lanyard's certificates are a few hundred bytes.
constexpr std::size_t max_blob = 2048;

core::error_detail failure(std::error_code code, std::string detail) {
  core::error_detail e;
  e.code = code;
  e.detail = std::move(detail);
  return e;
}

// 0 read, 1 none, -1 failed.
int load(const platform& p, const char* key, std::vector<std::uint8_t>& out) {
  out.resize(max_blob);
  std::size_t size = 0;
  const int r = p.load(p.user, key, reinterpret_cast<std::byte*>(out.data()), out.size(), &size);
  if (r == 0 && size <= out.size()) {
    out.resize(size);
    return 0;
  }
  out.clear();
  return r == 1 ? 1 : -1;
}

// True unless the platform says there is no controller table at all. Asked with no room: by
// the seam's contract a blob longer than that is a failure, so only "none" (1) means absent.
bool controllers_stored(const platform& p) {
  std::size_t size = 0;
  std::byte none[1];
  return p.load(p.user, storage_key::controllers, none, 0, &size) != 1;
}

bool save(const platform& p, const char* key, const std::vector<std::uint8_t>& bytes) {
  return p.save(p.user, key, reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()) == 0;
}

} // namespace

tls::identity load_or_create_identity(const platform& p, std::string_view device_id,
                                      core::error_detail& error) {
  error = {};
  if (!p.load || !p.save || !p.random.fill) {
    error = failure(firmware_errc::platform_incomplete,
                    "the identity needs the platform's load, save and random callbacks");
    return {};
  }
  std::vector<std::uint8_t> key;
  std::vector<std::uint8_t> cert;
  const int rk = load(p, storage_key::identity_key, key);
  const int rc = load(p, storage_key::identity_certificate, cert);
  if (rk < 0 || rc < 0) {
    error = failure(firmware_errc::storage_failed,
                    std::string("reading the identity failed (") +
                        (rk < 0 ? storage_key::identity_key : storage_key::identity_certificate) +
                        "): check the storage driver");
    return {};
  }
  if (rk == 0 && rc == 0) {
    core::error_detail why;
    tls::identity id = tls::identity::from_der(key, cert, why);
    if (!id)
      error = failure(firmware_errc::storage_corrupt,
                      "the stored identity is damaged (" + why.detail +
                          "); it was left as it is: controllers pinned its key");
    return id;
  }
  // The certificate without the key, and no controller table: the first boot was cut between
  // the two writes below (the certificate is written first). That key was never stored, so
  // the accessory never used it and nobody can have pinned it: a new identity replaces the
  // orphan certificate. With a controller table the accessory has run with a key, and a lost
  // key is storage damage, reported below like any other half identity.
  const bool interrupted_first_boot = rk == 1 && rc == 0 && !controllers_stored(p);
  if (rk != rc && !interrupted_first_boot) {
    // Half an identity: the other half was lost. Never make a new key silently.
    error = failure(firmware_errc::storage_corrupt,
                    std::string("the stored identity is incomplete: ") +
                        (rk == 0 ? storage_key::identity_certificate : storage_key::identity_key) +
                        " is missing; erase both to make a new identity (a factory reset)");
    return {};
  }
  // First boot: a new key from the platform's random source, stored before it is used.
  std::error_code ec;
  const tls::entropy_source entropy{p.random.fill, p.random.ctx};
  tls::identity id = tls::identity::generate(device_id, entropy, ec);
  if (!id) {
    error = failure(ec, "generating the identity failed: " + ec.message());
    return {};
  }
  const std::vector<std::uint8_t> key_der = id.private_key_der();
  const std::vector<std::uint8_t> cert_der(id.certificate_der().begin(),
                                           id.certificate_der().end());
  // The certificate first: a power cut between the writes leaves a certificate without a key,
  // which the next start recognises (interrupted_first_boot above) and replaces.
  if (!save(p, storage_key::identity_certificate, cert_der) ||
      !save(p, storage_key::identity_key, key_der)) {
    error = failure(firmware_errc::storage_failed, "storing the new identity failed");
    return {};
  }
  return id;
}

} // namespace lanyard::firmware
