// Private: a client channel's way through the relay (docs/design/relay.md, "On the app"): one
// MQTT connection to the broker the accessory's ticket names, as the household account, with
// this app's inbox (the inbox id of its own key) under that account, and a tunnel hub on it.
// The channel keeps it while it runs, so that the relay path is ready when the local ones go
// (the fallback then costs an OPEN and a TLS handshake through the broker, not a broker
// connection too); open() makes the tunnels its path racer hands to TLS.
//
// Thread-safety: the channel's executor only.
#pragma once

#include "path_racer.hpp"

#include <lanyard/channel/tunnel_io.hpp>
#include <lanyard/core/fingerprint.hpp>
#include <lanyard/core/relay_settings.hpp>
#include <lanyard/relay/mqtt_client.hpp>
#include <lanyard/relay/tunnel_hub.hpp>

#include <asio/any_io_executor.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <system_error>

namespace lanyard::client::detail {

class relay_link {
public:
  using state_handler = std::function<void(relay::mqtt_state, std::error_code)>;

  /// `ca_file`: the ticket's broker CA as a file (trust_store::relay_ca_path()). `self`: this
  /// app's key fingerprint (its inbox).
  relay_link(asio::any_io_executor ex, core::relay_ticket ticket, std::string ca_file,
             const core::fingerprint& self);
  ~relay_link();
  relay_link(const relay_link&) = delete;
  relay_link& operator=(const relay_link&) = delete;

  /// Connects (and keeps reconnecting) to the broker. Errors: bad_address (an inbox that
  /// cannot be a topic), mqtt_errc::bad_settings.
  std::error_code start(state_handler on_state);

  /// True while the broker connection is up (a relay path is worth racing).
  bool ready() const noexcept;
  const core::relay_ticket& ticket() const noexcept { return ticket_; }

  /// The relay's candidate path: kind relay, the broker's host and port.
  path_target target() const;

  /// Opens a tunnel to the accessory (its OPEN tagged with this app's relay key); `done` once,
  /// never inside the call: the tunnel, or std::errc::timed_out (no ACCEPT within `timeout`),
  /// mqtt_errc::not_connected.
  void open(std::chrono::milliseconds timeout,
            std::function<void(std::error_code, std::unique_ptr<channel::tunnel_io>)> done);

private:
  core::relay_ticket ticket_;
  std::string inbox_;
  std::unique_ptr<relay::mqtt_client> mqtt_;
  std::unique_ptr<relay::tunnel_hub> hub_;
};

} // namespace lanyard::client::detail
