#include <lanyard/relay/mqtt_error.hpp>

#include <lanyard/core/error_condition.hpp>

#include <string>
#include <string_view>

namespace lanyard::relay {
namespace {

class mqtt_category_impl final : public core::lanyard_category {
public:
  const char* name() const noexcept override { return "lanyard.mqtt"; }

  std::string message(int value) const override {
    switch (static_cast<mqtt_errc>(value)) {
    case mqtt_errc::not_connected:
      return "not connected to the relay's MQTT broker (reconnecting)";
    case mqtt_errc::connection_lost:
      return "the connection to the relay's MQTT broker failed or broke (retrying with backoff)";
    case mqtt_errc::tls_failed:
      return "TLS to the relay's MQTT broker failed: is its certificate signed by the configured "
             "CA, and does it name the host connected to?";
    case mqtt_errc::not_authorized:
      return "the relay's MQTT broker refused the user name or password: check the relay "
             "settings the accessory was provisioned with";
    case mqtt_errc::refused:
      return "the relay's MQTT broker refused the connection (protocol version, client id or "
             "server unavailable)";
    case mqtt_errc::protocol:
      return "MQTT protocol error with the relay's broker";
    case mqtt_errc::bad_settings:
      return "relay settings cannot work: a host and port, a readable CA file, valid topics and "
             "payloads are needed";
    case mqtt_errc::no_memory:
      return "out of memory in the MQTT client";
    }
    return "unknown MQTT error " + std::to_string(value);
  }

  std::string_view code_name(int code) const noexcept override {
    switch (static_cast<mqtt_errc>(code)) {
    case mqtt_errc::not_connected:
      return "not_connected";
    case mqtt_errc::connection_lost:
      return "connection_lost";
    case mqtt_errc::tls_failed:
      return "tls_failed";
    case mqtt_errc::not_authorized:
      return "not_authorized";
    case mqtt_errc::refused:
      return "refused";
    case mqtt_errc::protocol:
      return "protocol";
    case mqtt_errc::bad_settings:
      return "bad_settings";
    case mqtt_errc::no_memory:
      return "no_memory";
    }
    return {};
  }

  core::condition_set conditions(int code) const noexcept override {
    using enum core::condition;
    switch (static_cast<mqtt_errc>(code)) {
    case mqtt_errc::not_connected:
    case mqtt_errc::connection_lost:
    case mqtt_errc::refused:
    case mqtt_errc::no_memory:
      return {transient};
    case mqtt_errc::tls_failed:
      return {authentication_failed, permanent};
    case mqtt_errc::not_authorized:
      return {refused_by_peer, authentication_failed, permanent};
    case mqtt_errc::protocol:
      return {protocol_violation};
    case mqtt_errc::bad_settings:
      return {permanent};
    }
    return {};
  }
};

} // namespace

const std::error_category& mqtt_category() noexcept {
  static const mqtt_category_impl category;
  return category;
}

} // namespace lanyard::relay
