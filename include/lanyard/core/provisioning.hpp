/// @file
/// SoftAP provisioning messages: the app sends Wi-Fi credentials over the secure channel, the
/// accessory reports its progress the way ESP-IDF's provisioning does (connecting → connected
/// with its new addresses, or failed with a reason). They are texts in the application
/// message format (app_message.hpp, format v1) but travel as provisioning messages of the
/// session (CONTROL frames, message_kind::provisioning, docs/PROTOCOL.md § 2.7), never as
/// application data:
///
///     app → accessory:  v1 wifi_set ssid_hex=HEX passphrase_hex=HEX
///     accessory → app:  v1 wifi_status re=SEQ state=connecting
///                       v1 wifi_status re=SEQ state=connected addresses=198.18.1.3,2001:2:0:1::3
///                       v1 wifi_status re=SEQ state=failed
///                       reason=auth_error|network_not_found|timeout
///
/// SSID and passphrase are lowercase hex (SSIDs are arbitrary bytes; hex keeps a 63-byte
/// passphrase within the 128-byte value limit whatever it contains). SSID: 1..32 bytes.
/// Passphrase: empty (open network), 8..63 bytes (WPA2/WPA3 passphrase) or exactly 64 hex
/// characters (a raw PSK). `re` is the channel sequence number of the wifi_set being answered
/// (0 when unsolicited). Addresses: 1..8 IPv4/IPv6 literals, comma-separated, checked for
/// their characters only (the adapter layer parses them). The `re` sequence number is the
/// CONTROL frame's, which DATA and CONTROL share.
///
/// Thread-safety: value types and pure functions. No exceptions.
#pragma once

#include "lanyard/core/app_message.hpp"
#include "lanyard/core/app_message_view.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

namespace lanyard::core {

/// What is wrong with a provisioning message.
enum class provisioning_errc {
  /// The application message is not a provisioning message (another verb): not an error of
  /// the message itself; the caller hands it to its other handlers.
  not_provisioning = 1,
  /// A required field is missing (ssid_hex, passphrase_hex, state, reason, addresses).
  missing_field,
  /// A field this verb does not have.
  unknown_field,
  /// ssid_hex is not hex, or the SSID is not 1..32 bytes.
  bad_ssid,
  /// passphrase_hex is not hex, or the passphrase is not empty, 8..63 bytes or a 64-hex PSK.
  bad_passphrase,
  /// state is not connecting, connected or failed.
  bad_state,
  /// reason is not auth_error, network_not_found or timeout (or is given with another state).
  bad_reason,
  /// addresses is empty, has more than 8 entries, or one that is not an IP literal's
  /// characters (0-9 a-f A-F . :), or is given with a state other than connected.
  bad_addresses,
  /// re is not a decimal number.
  bad_re,
  // Outcomes an app reports to its caller (not faults of a message): the accessory's answer.
  /// The accessory could not join: it refused the passphrase (provisioning_failure::auth_error).
  wrong_passphrase,
  /// The accessory sees no network with this SSID (provisioning_failure::network_not_found).
  network_not_found,
  /// The accessory did not get onto the network in time (provisioning_failure::timeout).
  join_timeout,
  /// The accessory refused: only its admin controller may provision it (`error reason=not_admin`).
  not_admin,
  /// The accessory refused the credentials for another reason it named (`error reason=R`).
  credentials_refused,
};

/// The error category of provisioning_errc, named "lanyard.provisioning". Any thread.
const std::error_category& provisioning_category() noexcept;

inline std::error_code make_error_code(provisioning_errc e) noexcept {
  return {static_cast<int>(e), provisioning_category()};
}

/// The app's request: join this network.
struct wifi_credentials {
  static constexpr std::size_t max_ssid_length = 32;
  /// 63 bytes of WPA passphrase, or the 64 hex characters of a raw PSK.
  static constexpr std::size_t max_passphrase_length = 64;
  std::string ssid;
  std::string passphrase;
  friend bool operator==(const wifi_credentials&, const wifi_credentials&) = default;
};

/// Credentials as views (what the firmware's Wi-Fi seam is handed): valid as long as what they
/// view.
struct wifi_credentials_view {
  std::string_view ssid;
  std::string_view passphrase;
};

/// Credentials hex-decoded into room of their own, as the accessory keeps them while its driver
/// joins: no allocation. Each is followed by a NUL, so C drivers may take them as C strings (the
/// length still counts: an SSID may contain any byte, NUL included).
class wifi_credentials_buffer {
public:
  wifi_credentials_view view() const noexcept {
    return {{ssid_.data(), ssid_size_}, {passphrase_.data(), passphrase_size_}};
  }

private:
  friend std::error_code decode_wifi_credentials(const app_message_view& m,
                                                 wifi_credentials_buffer& out) noexcept;
  std::array<char, wifi_credentials::max_ssid_length + 1> ssid_{};
  std::array<char, wifi_credentials::max_passphrase_length + 1> passphrase_{};
  std::uint8_t ssid_size_ = 0;
  std::uint8_t passphrase_size_ = 0;
};

enum class provisioning_state : std::uint8_t { connecting, connected, failed };

/// Why joining failed (ESP-IDF's wifi_prov_sta_fail_reason_t, plus a timeout).
enum class provisioning_failure : std::uint8_t {
  auth_error,        ///< wrong passphrase
  network_not_found, ///< no network with this SSID in range
  timeout,           ///< associated but no address in time, or no answer at all
};

/// The error a caller reports for a failed join: wrong_passphrase, network_not_found or
/// join_timeout.
std::error_code to_error_code(provisioning_failure f) noexcept;

/// "connecting", "connected", "failed".
std::string_view to_string(provisioning_state s) noexcept;
/// "auth_error", "network_not_found", "timeout".
std::string_view to_string(provisioning_failure f) noexcept;

/// The accessory's report.
struct provisioning_progress {
  static constexpr std::size_t max_addresses = 8;
  std::uint64_t re = 0;
  provisioning_state state = provisioning_state::connecting;
  /// connected: the addresses the accessory has on the new network.
  std::vector<std::string> addresses;
  /// failed: why (ignored, and not compared, for the other states).
  provisioning_failure reason = provisioning_failure::timeout;
  friend bool operator==(const provisioning_progress& a, const provisioning_progress& b) noexcept {
    return a.re == b.re && a.state == b.state && a.addresses == b.addresses &&
           (a.state != provisioning_state::failed || a.reason == b.reason);
  }
};

/// Builds "v1 wifi_set ..." (errors: bad_ssid, bad_passphrase; `out` untouched then).
std::error_code encode_wifi_credentials(const wifi_credentials& c, std::string& out);
/// Builds "v1 wifi_status ..." (errors: bad_addresses for connected without valid addresses).
std::error_code encode_provisioning_progress(const provisioning_progress& p, std::string& out);
/// The same built in `out` (emplaced here: fixed room), with the addresses as views: what the
/// accessory's responder builds its reports with, allocating nothing. `reason` counts for
/// failed only, `addresses` for connected only. Errors: as encode_provisioning_progress().
std::error_code write_provisioning_progress(std::uint64_t re, provisioning_state state,
                                            std::span<const std::string_view> addresses,
                                            provisioning_failure reason,
                                            std::optional<app_message_writer>& out) noexcept;

/// Reads a wifi_set message. not_provisioning if the verb is another one.
std::error_code decode_wifi_credentials(const app_message& m, wifi_credentials& out);
/// The same from a view (what the firmware accessory parses with).
std::error_code decode_wifi_credentials(const app_message_view& m, wifi_credentials& out);
/// The same into fixed room: the one decoder, the others copy from it. `out` is changed only
/// on success.
std::error_code decode_wifi_credentials(const app_message_view& m,
                                        wifi_credentials_buffer& out) noexcept;
/// Reads a wifi_status message. not_provisioning if the verb is another one.
std::error_code decode_provisioning_progress(const app_message& m, provisioning_progress& out);

/// Checks credentials (what encode and decode check): empty on success, else bad_ssid or
/// bad_passphrase.
std::error_code validate(const wifi_credentials& c) noexcept;

} // namespace lanyard::core

template <>
struct std::is_error_code_enum<lanyard::core::provisioning_errc> : std::true_type {};
