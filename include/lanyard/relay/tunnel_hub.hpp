/// @file
/// relay::tunnel_hub: the relay tunnels of one MQTT connection (docs/design/relay.md, "The
/// tunnel protocol"). It subscribes to this end's inbox, reads every frame the broker forwards
/// there (untrusted: core::parse_relay_frame), and hands them to their tunnels.
///
///  - App: async_open(accessory's address, the controller's relay key) publishes an OPEN whose
///    tag proves the key, and completes with a tunnel_stream when the accessory's ACCEPT
///    arrives (or with timed_out).
///  - Accessory: set_acceptor(authenticate, accepted): each OPEN is checked by `authenticate`
///    (the tag under each paired controller's key) before anything is allocated for it; one
///    that no key opens, a tunnel id seen before (a replay) or a full table is dropped without
///    an answer. Accepted ones are answered ACCEPT and handed over as tunnel_streams.
///
/// Owns the mqtt_client's message and state handlers (on_state forwards the latter). When the
/// MQTT connection is lost every tunnel ends with it.
///
/// Thread-safety: the mqtt_client's executor only.
#pragma once

#include "lanyard/core/fingerprint.hpp"
#include "lanyard/core/relay_frame.hpp"
#include "lanyard/crypto/relay.hpp"
#include "lanyard/relay/mqtt_client.hpp"
#include "lanyard/relay/tunnel_stream.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

namespace lanyard::relay {

/// An address of this library's own: account and inbox held as strings.
struct relay_endpoint {
  std::string account;
  std::string inbox;
  core::relay_address view() const noexcept { return {account, inbox}; }
};

/// See the file comment.
class tunnel_hub {
public:
  /// Who may open a tunnel: the controller whose relay key gives the OPEN's tag, or nothing.
  using authenticator = std::function<std::optional<core::fingerprint>(const core::relay_frame&)>;
  using accepted_handler = std::function<void(tunnel_stream)>;
  using open_handler = std::function<void(std::error_code, std::optional<tunnel_stream>)>;

  /// `self`: this end's inbox. `max_tunnels`: tunnels open at once (an OPEN beyond is dropped).
  tunnel_hub(mqtt_client& mqtt, relay_endpoint self, std::size_t max_tunnels = 16);
  ~tunnel_hub();
  tunnel_hub(const tunnel_hub&) = delete;
  tunnel_hub& operator=(const tunnel_hub&) = delete;

  /// Subscribes to this end's inbox; bad_address (core::relay_errc) for an invalid one.
  std::error_code start();
  /// The mqtt_client's state changes, forwarded.
  void on_state(mqtt_client::state_handler handler);

  /// Accessory: see the file comment.
  void set_acceptor(authenticator authenticate, accepted_handler accepted);

  /// App: opens a tunnel to `accessory`. Errors: bad_address, mqtt_errc::not_connected,
  /// std::errc::timed_out (no ACCEPT within `timeout`: a wrong key and an accessory offline
  /// look the same, on purpose).
  void async_open(const relay_endpoint& accessory, const crypto::relay_key& key,
                  std::chrono::milliseconds timeout, open_handler done);

  /// Tunnels open now.
  std::size_t tunnel_count() const noexcept;
  /// OPENs dropped unchecked because they came faster than 4 a second (after a burst of 8):
  /// checking one costs an HMAC per paired controller, and anyone with an account on the
  /// broker can send them.
  std::uint64_t opens_shed() const noexcept;

private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

} // namespace lanyard::relay
