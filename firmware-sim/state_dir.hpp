// The simulated accessory's state directory:
//
//   DIR/identity/identity.{key,crt}   its TLS identity (tls::identity; key mode 0600)
//   DIR/controllers                   paired controllers + pairing window (trust::controller_store)
//   DIR/device.conf                   id, kind, name and pairing method chosen on first start
//   DIR/setup-credentials, setup-label  the setup secrets (setup_secrets.hpp; none with
//                                     --pairing-method confirm)
//   DIR/wifi.conf                     the Wi-Fi configuration; missing = unprovisioned (setup mode)
//   DIR/old-identities/<time>/        identities replaced by `ctl rotate-key`
//   DIR/control.sock                  the control socket while running
//
// device.conf and wifi.conf are small text files ("key value" lines after a versioned first
// line), written atomically (temporary file + rename).
#pragma once

#include "options.hpp"

#include <filesystem>
#include <optional>
#include <string>

namespace lanyard::sim {

struct device_config {
  std::string id;
  device_kind kind = device_kind::lamp;
  std::string name;
  /// Written as "pairing confirm"; no line means secret (state directories made before the
  /// option existed all have setup secrets).
  pairing_mode pairing = pairing_mode::secret;
};

struct wifi_config {
  std::string ssid;
};

/// Paths inside a state directory.
struct state_paths {
  std::filesystem::path dir;
  std::filesystem::path identity() const { return dir / "identity"; }
  std::filesystem::path controllers() const { return dir / "controllers"; }
  std::filesystem::path device_conf() const { return dir / "device.conf"; }
  std::filesystem::path wifi_conf() const { return dir / "wifi.conf"; }
  std::filesystem::path setup_credentials() const { return dir / "setup-credentials"; }
  std::filesystem::path setup_label() const { return dir / "setup-label"; }
  std::filesystem::path old_identities() const { return dir / "old-identities"; }
  std::filesystem::path control_socket() const { return dir / "control.sock"; }
};

/// Creates DIR (0700) if missing. False with `error` naming the directory otherwise.
bool ensure_state_dir(const state_paths& p, std::string& error);

/// Reads device.conf (nullopt + empty error: missing; nullopt + error: damaged, naming
/// FILE:LINE and what to do).
std::optional<device_config> read_device_config(const state_paths& p, std::string& error);
bool write_device_config(const state_paths& p, const device_config& c, std::string& error);

/// Reads wifi.conf (nullopt + empty error: unprovisioned).
std::optional<wifi_config> read_wifi_config(const state_paths& p, std::string& error);
bool write_wifi_config(const state_paths& p, const wifi_config& c, std::string& error);

/// Moves DIR/identity to DIR/old-identities/<unix time>/ (so a new one is made at next boot).
bool retire_identity(const state_paths& p, std::string& error);

/// "sim-" + 8 random lowercase hex digits.
std::string random_device_id();

} // namespace lanyard::sim
