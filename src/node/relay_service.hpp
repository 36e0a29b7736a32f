// Private: the accessory node's side of the relay (docs/design/relay.md): its relay state
// (trust::relay_state: the secret and the provisioned broker settings), one MQTT connection to
// the broker with its tunnel hub, the check of every OPEN against the relay keys of the
// controllers paired now, and service 3 (core::message_kind::relay): an admin's settings in,
// tickets out.
//
//  - An OPEN whose tag a paired controller's relay key gives becomes a tunnel; the node hands
//    it to the server (accessory::server::adopt_tunnel), which admits that controller's TLS key
//    only. Anything else is dropped unanswered (tunnel_hub).
//  - Service 3 from an admin: relay settings (core::relay_settings encoding) are stored, the
//    broker connection restarts with them, and the admin gets its ticket and then
//    `v1 ok re=SEQ` as the answer (the ok says which request the ticket answers: a ticket also
//    comes unasked after a handshake). Otherwise `v1 error re=SEQ reason=R`: not_admin (a user
//    sent them), bad_field detail=FIELD (they do not decode; a field's name, never a value),
//    accessory_failure (the relay state could not be loaded or stored).
//  - `v1 relay_off` from an admin: the settings are deleted and `v1 ok re=SEQ` answers; the
//    broker connection closes at finish_switching_off() (the node calls it once the answer is
//    acknowledged), and no OPEN is taken meanwhile. Another text: unknown_verb.
//  - Nothing works before the relay state loaded (open()): without its secret every relay key
//    would be derived from zeros.
//  - ticket_for(controller): what the node sends every controller after each session
//    handshake while settings are stored, so apps learn the relay without asking.
//
// Thread-safety: the node's executor only.
#pragma once

#include <lanyard/channel/transport.hpp>
#include <lanyard/core/fingerprint.hpp>
#include <lanyard/relay/mqtt_client.hpp>
#include <lanyard/relay/tunnel_hub.hpp>
#include <lanyard/trust/controller_store.hpp>
#include <lanyard/trust/relay_state.hpp>

#include <asio/any_io_executor.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

namespace lanyard::node::detail {

class relay_service {
public:
  struct hooks {
    /// A tunnel `opener` opened: hand it to the server.
    std::function<void(channel::transport t, const core::fingerprint& opener, std::string peer)>
        adopt;
    /// The broker connection's state changes.
    std::function<void(relay::mqtt_state state, std::error_code why)> on_state;
  };

  relay_service(asio::any_io_executor ex, std::filesystem::path state_dir,
                const core::fingerprint& accessory, std::shared_ptr<trust::controller_store> store,
                hooks h);
  ~relay_service();

  /// Loads the relay state (making the secret on first boot) and connects to the broker when
  /// settings are stored.
  trust::store_status open();
  void close();

  /// What a service 3 message comes to.
  struct answer {
    /// To send back on service 3, in order.
    std::vector<std::vector<std::uint8_t>> replies;
    /// New settings were stored (other controllers get their tickets now).
    bool stored = false;
    /// The relay was switched off (`v1 relay_off`): settings deleted; the broker connection
    /// closes at finish_switching_off().
    bool switched_off = false;
    /// Why the accessory itself failed (for its log; never sent).
    trust::store_status failure;
  };
  answer on_message(const core::fingerprint& from, bool admin, std::uint64_t seq,
                    std::span<const std::byte> message);

  /// After on_message() switched the relay off: closes the broker connection (its tunnels end),
  /// unless new settings came since. The node calls it once the admin acknowledged the answer.
  void finish_switching_off();

  /// The encoded ticket for `controller`; nullopt without settings.
  std::optional<std::vector<std::uint8_t>> ticket_for(const core::fingerprint& controller) const;

  bool configured() const noexcept { return state_.loaded() && state_.settings().has_value(); }
  /// The accessory's inbox (its broker user name and account).
  const std::string& inbox() const noexcept { return inbox_; }
  std::uint64_t opens_shed() const noexcept { return hub_ ? hub_->opens_shed() : 0; }
  std::size_t tunnel_count() const noexcept { return hub_ ? hub_->tunnel_count() : 0; }

private:
  answer on_text(std::uint64_t seq, std::span<const std::byte> message);
  trust::store_status start();
  void stop();
  std::optional<core::fingerprint> authenticate(const core::relay_frame& open) const;

  asio::any_io_executor ex_;
  std::shared_ptr<trust::controller_store> store_;
  hooks hooks_;
  trust::relay_state state_;
  std::string inbox_;
  std::unique_ptr<relay::mqtt_client> mqtt_;
  std::unique_ptr<relay::tunnel_hub> hub_;
};

} // namespace lanyard::node::detail
