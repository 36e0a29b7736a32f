/// @file
/// Errors of the relay's connection to its MQTT broker (lanyard::relay, docs/design/relay.md).
#pragma once

#include <system_error>
#include <type_traits>

namespace lanyard::relay {

/// Why the MQTT connection to the broker failed or an MQTT operation was refused.
enum class mqtt_errc {
  /// Not connected to the broker now (publish, subscribe): a relay tunnel fails with it, and the
  /// channel resumes on its next connection. The client reconnects by itself.
  not_connected = 1,
  /// The broker could not be reached or the connection broke (refused, reset, unreachable,
  /// keep-alive timeout). Retried with backoff.
  connection_lost,
  /// The TLS handshake with the broker failed: its certificate is not signed by the configured
  /// CA, or does not name the host connected to.
  tls_failed,
  /// The broker refused the user name and password (CONNACK 4 or 5). Check the relay settings
  /// the accessory was provisioned with; retried with backoff, since a broker's accounts change.
  not_authorized,
  /// The broker refused the connection for another reason (CONNACK 1-3: protocol version,
  /// client id, server unavailable).
  refused,
  /// The broker broke the MQTT protocol, or a topic or payload was not acceptable to it.
  protocol,
  /// The settings cannot work: no host, a port of 0, a CA file that cannot be read, a topic
  /// that is not a valid MQTT topic, a payload over 256 MiB.
  bad_settings,
  /// libmosquitto ran out of memory.
  no_memory,
};

/// The category of mqtt_errc, "lanyard.mqtt".
const std::error_category& mqtt_category() noexcept;

inline std::error_code make_error_code(mqtt_errc e) noexcept {
  return {static_cast<int>(e), mqtt_category()};
}

} // namespace lanyard::relay

template <>
struct std::is_error_code_enum<lanyard::relay::mqtt_errc> : std::true_type {};
