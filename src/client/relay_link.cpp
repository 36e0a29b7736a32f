#include "relay_link.hpp"

#include <lanyard/core/relay_error.hpp>
#include <lanyard/crypto/relay.hpp>
#include <lanyard/relay/tunnel_stream.hpp>

#include <array>
#include <optional>
#include <utility>

namespace lanyard::client::detail {

relay_link::relay_link(asio::any_io_executor ex, core::relay_ticket ticket, std::string ca_file,
                       const core::fingerprint& self)
    : ticket_(std::move(ticket)) {
  std::array<char, core::relay_inbox_length> inbox{};
  if (!crypto::relay_inbox(self, inbox)) inbox_.assign(inbox.data(), inbox.size());
  relay::mqtt_settings ms;
  ms.host = ticket_.broker.host;
  ms.port = ticket_.broker.port;
  ms.ca_file = std::move(ca_file);
  ms.username = ticket_.household_account;
  ms.password = ticket_.household_password;
  mqtt_ = std::make_unique<relay::mqtt_client>(std::move(ex), std::move(ms));
  hub_ = std::make_unique<relay::tunnel_hub>(
      *mqtt_, relay::relay_endpoint{ticket_.household_account, inbox_});
}

relay_link::~relay_link() {
  hub_.reset();
  mqtt_->stop();
}

std::error_code relay_link::start(state_handler on_state) {
  if (inbox_.empty()) return core::relay_errc::bad_address;
  hub_->on_state(std::move(on_state));
  if (auto ec = hub_->start()) return ec;
  return mqtt_->start();
}

bool relay_link::ready() const noexcept {
  return mqtt_->state() == relay::mqtt_state::connected;
}

path_target relay_link::target() const {
  path_target t;
  t.path.interface_name = "relay";
  t.path.kind = core::interface_kind::relay;
  t.path.address = ticket_.broker.host;
  t.path.reachable = ready();
  // Anyone who runs the broker can answer an OPEN with another key, as anyone on the LAN can
  // announce the accessory's id: a refusal through the relay must not end the channel
  // (channel_controller treats such paths as unproven).
  t.path.discovered = true;
  t.endpoint = asio::ip::tcp::endpoint(asio::ip::address_v4(), ticket_.broker.port);
  return t;
}

void relay_link::open(
    std::chrono::milliseconds timeout,
    std::function<void(std::error_code, std::unique_ptr<channel::tunnel_io>)> done) {
  // The accessory's inbox lives under its own account, its inbox id.
  const relay::relay_endpoint accessory{ticket_.accessory_inbox, ticket_.accessory_inbox};
  crypto::relay_key key{};
  std::copy(ticket_.relay_key.begin(), ticket_.relay_key.end(), key.begin());
  hub_->async_open(
      accessory, key, timeout,
      [done = std::move(done)](std::error_code ec, std::optional<relay::tunnel_stream> t) {
        if (ec || !t) return done(ec ? ec : std::make_error_code(std::errc::io_error), nullptr);
        done({}, relay::make_tunnel_io(std::move(*t)));
      });
}

} // namespace lanyard::client::detail
