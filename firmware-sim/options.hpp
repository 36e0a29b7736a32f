// Command line of lanyard-accessory-sim (see README.md): `run` flags, `ctl` and `set-wifi`.
#pragma once

#include <lanyard/node/node_options.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace lanyard::sim {

/// What the device is.
enum class device_kind { lamp, sensor };

const char* to_string(device_kind k) noexcept;

/// How unknown controllers pair with the accessory (--pairing-method; docs/trust.md § Pairing).
/// A mode here: core::pairing_method is what one exchange on the wire asks for.
enum class pairing_mode {
  /// Prove the setup secret: the payload (QR code) or the 8-digit setup code (SPAKE2+).
  secret,
  /// No setup secret at all (no label): both sides show a six-digit verification code, the
  /// user compares them and confirms (accessory::pairing_options::allow_confirmation).
  confirm,
};

const char* to_string(pairing_mode m) noexcept;

/// A Wi-Fi network the simulated radio can join (--network SSID=PASSPHRASE[@IFACE]): joining
/// it means waiting until IFACE is up with an address (the lab maps SSIDs to its links).
/// Without IFACE the accessory "joins" on loopback (127.0.0.1), for experiments.
struct network_entry {
  std::string ssid;
  std::string passphrase;
  std::string interface;
};

/// Flags of a running accessory.
struct run_options {
  std::filesystem::path state_dir;
  std::optional<device_kind> kind;  ///< required on first start; then from device.conf
  std::optional<std::string> id;    ///< device id (default: kept in device.conf, else generated)
  std::optional<std::string> name;  ///< display name / DNS-SD instance name
  std::string listen = "[::]:5577"; ///< operational mode listen address
  std::string softap_address = "198.18.4.1";
  std::uint16_t softap_port = 5577;
  bool advertise = true;
  /// --mdns avahi|builtin: who publishes the service (node_options::mdns).
  node::mdns_backend mdns = node::mdns_backend::avahi;
  std::chrono::milliseconds sensor_interval{1000};
  bool json_events = false;
  bool qr = true;
  std::chrono::minutes window_timeout{15};
  /// The longest wait after failed pairing proofs (accessory::pairing_options).
  std::chrono::milliseconds pairing_delay_max{8000};
  std::vector<network_entry> networks;
  std::chrono::milliseconds join_timeout{10000};
  std::chrono::milliseconds softap_grace{2000};
  /// --pairing-method: chosen on first start (default secret), then kept in device.conf;
  /// whether an accessory has a setup code is decided when it is made, not at each boot.
  std::optional<pairing_mode> pairing;
};

/// `ctl --state-dir DIR COMMAND [ARGS]`.
struct ctl_options {
  std::filesystem::path state_dir;
  std::vector<std::string> command;
};

/// `set-wifi --state-dir DIR --ssid SSID`.
struct set_wifi_options {
  std::filesystem::path state_dir;
  std::string ssid;
};

/// Parsers: on a bad flag they fill `error` with one sentence naming the flag and what to do.
std::optional<run_options> parse_run(const std::vector<std::string>& args, std::string& error);
std::optional<ctl_options> parse_ctl(const std::vector<std::string>& args, std::string& error);
std::optional<set_wifi_options> parse_set_wifi(const std::vector<std::string>& args,
                                               std::string& error);

/// Splits "HOST:PORT", "[V6]:PORT". False (with `error`) if malformed.
bool split_host_port(const std::string& text, std::string& host, std::uint16_t& port,
                     std::string& error);

extern const char* const usage_text;

} // namespace lanyard::sim
