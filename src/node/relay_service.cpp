#include "relay_service.hpp"

#include <lanyard/core/app_message.hpp>
#include <lanyard/crypto/relay.hpp>
#include <lanyard/relay/tunnel_stream.hpp>

#include <utility>

namespace lanyard::node::detail {

namespace {

std::vector<std::uint8_t> error_text(std::uint64_t seq, std::string_view reason,
                                     std::string_view detail = {}) {
  core::app_message m("error");
  m.set("re", seq).set("reason", reason);
  if (!detail.empty()) m.set("detail", detail);
  std::string text;
  if (core::encode_app_message(m, text)) return {};
  return {text.begin(), text.end()};
}

std::vector<std::uint8_t> ok_text(std::uint64_t seq) {
  core::app_message m("ok");
  m.set("re", seq);
  std::string text;
  if (core::encode_app_message(m, text)) return {};
  return {text.begin(), text.end()};
}

} // namespace

relay_service::relay_service(asio::any_io_executor ex, std::filesystem::path state_dir,
                             const core::fingerprint& accessory,
                             std::shared_ptr<trust::controller_store> store, hooks h)
    : ex_(std::move(ex)), store_(std::move(store)), hooks_(std::move(h)),
      state_(std::move(state_dir)) {
  std::array<char, core::relay_inbox_length> inbox{};
  if (!crypto::relay_inbox(accessory, inbox)) inbox_.assign(inbox.data(), inbox.size());
}

relay_service::~relay_service() {
  stop();
}

trust::store_status relay_service::open() {
  if (inbox_.empty())
    return trust::store_status{make_error_code(core::relay_errc::bad_address),
                               "cannot derive the accessory's relay inbox"};
  if (auto s = state_.load(); s.failed()) return s;
  if (!state_.settings()) return {};
  return start();
}

void relay_service::close() {
  stop();
}

void relay_service::finish_switching_off() {
  if (configured()) return; // an admin set the relay up again meanwhile
  stop();
  (void)state_.remove_unused_ca(); // load() removes it at the next start if this fails
}

void relay_service::stop() {
  hub_.reset(); // its tunnels end; the server's connections over them fail and resume later
  if (mqtt_) mqtt_->stop();
  mqtt_.reset();
}

trust::store_status relay_service::start() {
  stop();
  if (!configured())
    return trust::store_status{make_error_code(trust::trust_errc::store_io),
                               "relay: no settings loaded"};
  const core::relay_settings& s = *state_.settings();
  relay::mqtt_settings ms;
  ms.host = s.broker.host;
  ms.port = s.broker.port;
  ms.ca_file = state_.ca_path().string();
  ms.username = inbox_;
  ms.password = s.accessory_password;
  mqtt_ = std::make_unique<relay::mqtt_client>(ex_, std::move(ms));
  hub_ = std::make_unique<relay::tunnel_hub>(*mqtt_, relay::relay_endpoint{inbox_, inbox_});
  hub_->on_state([this](relay::mqtt_state st, std::error_code why) {
    if (hooks_.on_state) hooks_.on_state(st, why);
  });
  hub_->set_acceptor([this](const core::relay_frame& open) { return authenticate(open); },
                     [this](relay::tunnel_stream t) {
                       const core::fingerprint opener = *t.opened_by();
                       auto io = relay::make_tunnel_io(std::move(t));
                       std::string peer = io->describe();
                       if (hooks_.adopt)
                         hooks_.adopt(channel::transport(std::move(io)), opener, std::move(peer));
                     });
  if (auto ec = hub_->start())
    return trust::store_status{ec,
                               "relay: cannot subscribe to the accessory's inbox: " + ec.message()};
  if (auto ec = mqtt_->start())
    return trust::store_status{ec, "relay: cannot start the broker connection: " + ec.message()};
  return {};
}

std::optional<core::fingerprint> relay_service::authenticate(const core::relay_frame& open) const {
  // Every paired controller's key is tried (at most the table's size, 255 HMACs); the hub
  // rate-limits how many OPENs get this far. Switched off (the connection still open for the
  // answer): no new tunnel.
  if (!configured()) return std::nullopt;
  for (const trust::controller_record& c : store_->list()) {
    crypto::relay_key key{};
    if (crypto::derive_relay_key(state_.secret(), c.fingerprint, key)) continue;
    if (crypto::relay_open_tag_matches(key, inbox_, open)) return c.fingerprint;
  }
  return std::nullopt;
}

std::optional<std::vector<std::uint8_t>>
relay_service::ticket_for(const core::fingerprint& controller) const {
  if (!configured()) return std::nullopt;
  const core::relay_settings& s = *state_.settings();
  core::relay_ticket t;
  t.broker = s.broker;
  t.household_account = s.household_account;
  t.household_password = s.household_password;
  t.accessory_inbox = inbox_;
  if (crypto::derive_relay_key(state_.secret(), controller, t.relay_key)) return std::nullopt;
  std::vector<std::uint8_t> out;
  if (core::encode_relay_ticket(t, out)) return std::nullopt;
  return out;
}

relay_service::answer relay_service::on_message(const core::fingerprint& from, bool admin,
                                                std::uint64_t seq,
                                                std::span<const std::byte> message) {
  answer out;
  if (!admin) {
    out.replies.push_back(error_text(seq, "not_admin"));
    return out;
  }
  if (!state_.loaded()) {
    out.failure = trust::store_status{make_error_code(trust::trust_errc::store_io),
                                      "relay settings refused: the relay state did not load"};
    out.replies.push_back(error_text(seq, "accessory_failure"));
    return out;
  }
  // A text (`v1 VERB ...`) asks something else than new settings: `v1 relay_off` (PROTOCOL.md
  // § 2.7). Settings are binary and start with their version byte, 1.
  if (!message.empty() && std::to_integer<char>(message[0]) == 'v') return on_text(seq, message);
  core::relay_settings s;
  std::uint8_t field = 0;
  const auto* data = reinterpret_cast<const std::uint8_t*>(message.data());
  if (auto ec = core::decode_relay_settings({data, message.size()}, s, &field)) {
    std::string name = core::relay_settings_field_name(field);
    for (char& c : name)
      if (c == ' ') c = '_';
    out.replies.push_back(error_text(seq, "bad_field", field == 0 ? "header" : name));
    return out;
  }
  if (auto st = state_.save_settings(s); st.failed()) {
    out.failure = std::move(st);
    out.replies.push_back(error_text(seq, "accessory_failure"));
    return out;
  }
  out.stored = true;
  // Stored: a broker that cannot be reached now is retried, and reported as relay events.
  if (auto st = start(); st.failed()) out.failure = std::move(st);
  if (auto ticket = ticket_for(from)) out.replies.push_back(std::move(*ticket));
  out.replies.push_back(ok_text(seq));
  return out;
}

relay_service::answer relay_service::on_text(std::uint64_t seq,
                                             std::span<const std::byte> message) {
  answer out;
  const auto parsed = core::parse_app_message(message);
  if (!parsed || parsed.message.verb != "relay_off") {
    out.replies.push_back(error_text(seq, "unknown_verb"));
    return out;
  }
  // Off: the settings go (if they cannot, the relay stays as it was and the admin hears so),
  // so no ticket goes out any more, no new tunnel opens and a restart does not connect; the
  // broker connection (with its CA file) stays until finish_switching_off(), so that the
  // answer reaches an admin who asked through the relay. The secret stays (relay_state).
  if (auto st = state_.clear_settings(); st.failed()) {
    out.failure = std::move(st);
    out.replies.push_back(error_text(seq, "accessory_failure"));
    return out;
  }
  out.switched_off = true;
  out.replies.push_back(ok_text(seq));
  return out;
}

} // namespace lanyard::node::detail
