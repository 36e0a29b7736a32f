/// @file
/// relay::mqtt_client: one connection to the relay's MQTT broker on the application's
/// io_context (docs/design/relay.md). libmosquitto (Debian libmosquitto-dev) speaks MQTT and
/// TLS; this class drives it through its external-loop API (mosquitto_socket,
/// mosquitto_loop_read/write/misc) from asio, so no libmosquitto thread runs and every handler
/// runs on the client's executor.
///
/// It keeps the connection: a failed or broken connection is retried with backoff (full
/// jitter, 250 ms up to 30 s, core::backoff), the subscriptions are renewed on every new
/// connection, and each change is reported (on_state). Messages are QoS 1 both ways (at least
/// once, in order per topic); what the broker loses while the connection is down is the
/// relay tunnel's to notice (core::relay_sequence).
///
/// Usage:
///   relay::mqtt_client mqtt(io.get_executor(), settings);
///   mqtt.on_message([](std::string_view topic, std::span<const std::uint8_t> payload) {...});
///   mqtt.on_state([](relay::mqtt_state s, std::error_code why) {...});
///   mqtt.subscribe("lanyard/v1/<account>/<inbox>/#");
///   mqtt.start();
///   mqtt.publish(topic, bytes); // not_connected while the connection is down
///
/// The broker's host: an IP address, or a name that libmosquitto resolves when it connects,
/// blocking the io_context's thread for the lookup (getaddrinfo); give an address where that
/// matters. TLS is always on: the broker's certificate must be signed by the CA in
/// `ca_file` and name `host`.
///
/// Thread-safety: one object is used from its executor's thread only (as asio's I/O objects).
/// Errors: mqtt_errc (lanyard.mqtt).
#pragma once

#include "lanyard/relay/mqtt_error.hpp"

#include <asio/any_io_executor.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

namespace lanyard::relay {

/// Where the broker is and who this client is to it.
struct mqtt_settings {
  std::string host;
  std::uint16_t port = 8883;
  /// PEM file of the CA that signs the broker's certificate.
  std::string ca_file;
  std::string username;
  std::string password;
  /// MQTT keep-alive: the broker drops a client silent this long x 1.5; the client pings when
  /// it has sent nothing for this long and gives the connection up when no answer comes.
  std::chrono::seconds keepalive{30};
  /// Reconnect backoff bounds (full jitter between 0 and the bound, doubling per attempt).
  std::chrono::milliseconds backoff_initial{250};
  std::chrono::milliseconds backoff_cap{30000};
};

/// The connection's state.
enum class mqtt_state {
  /// start() not called yet, or stop() was.
  stopped,
  /// Connecting: TCP, TLS, then MQTT CONNECT until the broker's CONNACK.
  connecting,
  /// The broker accepted the connection; subscriptions are renewed.
  connected,
  /// The connection failed or broke (the reason comes with it); waiting to retry.
  waiting,
};
std::string_view to_string(mqtt_state s) noexcept;

/// See the file comment.
class mqtt_client {
public:
  using message_handler =
      std::function<void(std::string_view topic, std::span<const std::uint8_t> payload)>;
  using state_handler = std::function<void(mqtt_state state, std::error_code why)>;

  mqtt_client(asio::any_io_executor executor, mqtt_settings settings);
  ~mqtt_client();
  mqtt_client(const mqtt_client&) = delete;
  mqtt_client& operator=(const mqtt_client&) = delete;

  /// Each message that arrives on a subscribed topic. The views last for the call only.
  void on_message(message_handler handler);
  /// Each state change, with why (empty for connecting and connected).
  void on_state(state_handler handler);

  /// Starts connecting (and keeps doing so). bad_settings if the settings cannot work (no host,
  /// port 0, an unreadable CA file); no_memory.
  std::error_code start();
  /// Disconnects and stops retrying. Subscriptions are kept for a later start().
  void stop();

  /// Subscribes to `topic_filter` (QoS 1), now if connected and again on every connection.
  /// bad_settings if it is not a valid MQTT topic filter.
  std::error_code subscribe(std::string topic_filter);
  /// Publishes `payload` to `topic` at QoS 1. not_connected while not connected (nothing is
  /// queued across connections); bad_settings for an invalid topic (wildcards) or a payload
  /// over MQTT's 256 MiB.
  std::error_code publish(std::string_view topic, std::span<const std::uint8_t> payload);

  mqtt_state state() const noexcept;
  asio::any_io_executor get_executor() const noexcept;

private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

} // namespace lanyard::relay
