#include <lanyard/trust/relay_state.hpp>

#include "atomic_file.hpp"

#include <lanyard/crypto/error.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace lanyard::trust {

namespace {

store_status corrupt(const std::filesystem::path& path, const std::string& what) {
  return store_status{make_error_code(trust_errc::store_corrupt),
                      path.string() + ": " + what +
                          "; delete the file to start over (the relay must then be set up again)"}
      .with(core::field_key::file, path.string());
}

// Secrets: nobody but the owner may read them either (read_private_file() refuses only files
// others may write).
store_status require_private(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  if ((st.st_mode & 077) == 0) return {};
  return store_status{make_error_code(trust_errc::store_permissions),
                      path.string() + " may be read by group or others; it holds a secret: "
                                      "chmod 600 it"}
      .with(core::field_key::file, path.string());
}

} // namespace

relay_state::relay_state(std::filesystem::path dir, crypto::random_source random)
    : secret_path_(dir / "relay-secret"), settings_path_(dir / "relay-settings"),
      ca_path_(dir / "relay-broker-ca.pem"), random_(random) {}

store_status relay_state::load() {
  std::string bytes;
  bool exists = false;
  crypto::relay_key secret{};
  loaded_ = false;
  if (auto s = detail::read_private_file(secret_path_, bytes, exists); s.failed()) return s;
  if (auto s = require_private(secret_path_); s.failed()) return s;
  if (exists) {
    if (bytes.size() != secret.size())
      return corrupt(secret_path_, "the relay secret is " + std::to_string(bytes.size()) +
                                       " bytes, not " + std::to_string(secret.size()));
    std::memcpy(secret.data(), bytes.data(), secret.size());
  } else {
    if (!random_.fill || random_.fill(random_.ctx, secret.data(), secret.size()) != 0)
      return store_status{make_error_code(crypto::crypto_errc::random_failure),
                          "cannot make the relay secret: the random source failed"};
    const std::string_view text(reinterpret_cast<const char*>(secret.data()), secret.size());
    if (auto s = detail::write_file_atomically(secret_path_, text); s.failed()) return s;
  }
  std::optional<core::relay_settings> settings;
  bytes.clear();
  if (auto s = detail::read_private_file(settings_path_, bytes, exists); s.failed()) return s;
  if (auto s = require_private(settings_path_); s.failed()) return s;
  if (exists) {
    core::relay_settings decoded;
    std::uint8_t field = 0;
    const auto* data = reinterpret_cast<const std::uint8_t*>(bytes.data());
    if (auto ec = core::decode_relay_settings({data, bytes.size()}, decoded, &field))
      return corrupt(settings_path_, "the relay settings do not decode (" + ec.message() + ", " +
                                         core::relay_settings_field_name(field) + ")");
    settings = std::move(decoded);
    // The CA file follows the settings (a crash between the two writes, or a deleted file);
    // rewritten (with its fsyncs) only when it differs, not at every start.
    std::string on_disk;
    bool ca_exists = false;
    const bool same = !detail::read_private_file(ca_path_, on_disk, ca_exists).failed() &&
                      ca_exists && on_disk == settings->broker.ca_pem;
    if (!same) {
      if (auto s = detail::write_file_atomically(ca_path_, settings->broker.ca_pem); s.failed())
        return s;
    }
  }
  secret_ = secret;
  settings_ = std::move(settings);
  loaded_ = true;
  // Switched off before a restart, the CA file may still be there.
  if (!settings_) return remove_unused_ca();
  return {};
}

store_status relay_state::save_settings(const core::relay_settings& s) {
  if (!loaded_)
    return store_status{make_error_code(trust_errc::store_io),
                        "relay settings not stored: the relay state was not loaded"};
  std::vector<std::uint8_t> encoded;
  if (auto ec = core::encode_relay_settings(s, encoded))
    return store_status{ec, "relay settings not stored: " + ec.message()};
  const std::string_view text(reinterpret_cast<const char*>(encoded.data()), encoded.size());
  if (auto st = detail::write_file_atomically(ca_path_, s.broker.ca_pem); st.failed()) return st;
  if (auto st = detail::write_file_atomically(settings_path_, text); st.failed()) return st;
  settings_ = s;
  return {};
}

store_status relay_state::clear_settings() {
  if (!loaded_)
    return store_status{make_error_code(trust_errc::store_io),
                        "relay settings not cleared: the relay state was not loaded"};
  if (::unlink(settings_path_.c_str()) != 0 && errno != ENOENT)
    return detail::io_error(settings_path_, "cannot delete", errno);
  settings_.reset();
  return {};
}

store_status relay_state::remove_unused_ca() {
  if (settings_) return {};
  if (::unlink(ca_path_.c_str()) != 0 && errno != ENOENT)
    return detail::io_error(ca_path_, "cannot delete", errno);
  return {};
}

} // namespace lanyard::trust
