/// @file
/// trust::relay_state: what an accessory keeps for the relay (docs/design/relay.md, "Relay
/// settings and keys"), next to its identity in its state directory:
///
///  - `relay-secret`: 32 random bytes, made on first load and the same forever after (until a
///    factory reset deletes the state directory). Each paired controller's relay key is derived
///    from it (crypto::derive_relay_key()), so nothing per controller is stored, and a removed
///    controller's key opens nothing (OPENs are checked against the controllers still paired).
///  - `relay-settings`: the broker settings an admin provisioned (core::relay_settings'
///    encoding), absent until then; `relay-broker-ca.pem`, the broker's CA from them, for
///    libmosquitto (which reads it from a file).
///
/// The secret and the settings are secrets: mode 0600 in a 0700 directory, written atomically
/// (a crash leaves the old or the new file), refused when group or others may read or write
/// them or another user owns them, never printed (errors name the file and the reason, never a
/// value).
///
/// Thread-safety: none; one owner (the node's executor). Several processes must not share one
/// state directory (as for the controller store's writes, which do take a lock).
#pragma once

#include <lanyard/core/relay_settings.hpp>
#include <lanyard/crypto/primitives.hpp>
#include <lanyard/crypto/relay.hpp>
#include <lanyard/trust/error.hpp>

#include <filesystem>
#include <optional>

namespace lanyard::trust {

/// See the file comment.
class relay_state {
public:
  /// `dir`: the accessory's state directory. `random`: where a new secret comes from.
  explicit relay_state(std::filesystem::path dir,
                       crypto::random_source random = crypto::system_random());

  /// Reads both files, making and storing the secret if there is none (that is the one write:
  /// a new secret is stored before the settings are read). Errors: store_io,
  /// store_permissions, store_corrupt (a secret of another size, settings that do not decode:
  /// the detail names the field), crypto_errc::random_failure. On error nothing is kept and
  /// loaded() stays false.
  store_status load();
  /// True once load() succeeded: only then are the secret and the settings the accessory's.
  bool loaded() const noexcept { return loaded_; }

  /// The secret (after a successful load()).
  const crypto::relay_key& secret() const noexcept { return secret_; }
  /// The provisioned settings, if any (after load()).
  const std::optional<core::relay_settings>& settings() const noexcept { return settings_; }

  /// Stores `s` (encoded; bad_value for a field out of its bounds) and its CA file, and keeps
  /// it. Errors as load()'s writes; store_io before a successful load().
  store_status save_settings(const core::relay_settings& s);
  /// Deletes the settings (the relay is switched off); the secret stays, so relay keys (and the
  /// tickets apps hold) are the same if the relay comes back. The broker's CA file stays until
  /// remove_unused_ca() (a broker connection still open may reconnect with it). Nothing to
  /// delete is no error; store_io before a successful load().
  store_status clear_settings();
  /// Deletes the broker's CA file when no settings are stored (load() does too).
  store_status remove_unused_ca();

  const std::filesystem::path& secret_path() const noexcept { return secret_path_; }
  const std::filesystem::path& settings_path() const noexcept { return settings_path_; }
  /// The broker's CA of the stored settings, as a PEM file.
  const std::filesystem::path& ca_path() const noexcept { return ca_path_; }

private:
  std::filesystem::path secret_path_;
  std::filesystem::path settings_path_;
  std::filesystem::path ca_path_;
  crypto::random_source random_;
  bool loaded_ = false;
  crypto::relay_key secret_{};
  std::optional<core::relay_settings> settings_;
};

} // namespace lanyard::trust
