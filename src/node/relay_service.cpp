#include "relay_service.hpp"

#include <lanyard/core/app_message.hpp>
#include <lanyard/crypto/relay.hpp>
#include <lanyard/relay/tunnel_stream.hpp>

#include <fstream>
#include <utility>

#include <sys/stat.h>

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

// The broker's CA for libmosquitto, which reads it from a file (0600: it is no secret, but the
// state directory's files all are private).
trust::store_status write_ca(const std::filesystem::path& path, const std::string& pem) {
  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << pem;
    if (!out.flush())
      return trust::store_status{make_error_code(trust::trust_errc::store_io),
                                 "cannot write the broker's CA to " + tmp.string()};
  }
  ::chmod(tmp.c_str(), 0600);
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec)
    return trust::store_status{make_error_code(trust::trust_errc::store_io),
                               "cannot write the broker's CA to " + path.string() + ": " +
                                   ec.message()};
  return {};
}

} // namespace

relay_service::relay_service(asio::any_io_executor ex, std::filesystem::path state_dir,
                             const core::fingerprint& accessory,
                             std::shared_ptr<trust::controller_store> store, hooks h)
    : ex_(std::move(ex)), ca_path_(state_dir / "relay-broker-ca.pem"), store_(std::move(store)),
      hooks_(std::move(h)), state_(std::move(state_dir)) {
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

void relay_service::stop() {
  hub_.reset(); // its tunnels end; the server's connections over them fail and resume later
  if (mqtt_) mqtt_->stop();
  mqtt_.reset();
}

trust::store_status relay_service::start() {
  stop();
  const core::relay_settings& s = *state_.settings();
  if (auto st = write_ca(ca_path_, s.broker.ca_pem); st.failed()) return st;
  relay::mqtt_settings ms;
  ms.host = s.broker.host;
  ms.port = s.broker.port;
  ms.ca_file = ca_path_.string();
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
  // rate-limits how many OPENs get this far.
  for (const trust::controller_record& c : store_->list()) {
    crypto::relay_key key{};
    if (crypto::derive_relay_key(state_.secret(), c.fingerprint, key)) continue;
    if (crypto::relay_open_tag_matches(key, inbox_, open)) return c.fingerprint;
  }
  return std::nullopt;
}

std::optional<std::vector<std::uint8_t>>
relay_service::ticket_for(const core::fingerprint& controller) const {
  if (!state_.settings()) return std::nullopt;
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

std::vector<std::uint8_t> relay_service::on_message(const core::fingerprint& from, bool admin,
                                                    std::uint64_t seq,
                                                    std::span<const std::byte> message,
                                                    trust::store_status& failure) {
  failure = {};
  if (!admin) return error_text(seq, "not_admin");
  core::relay_settings s;
  std::uint8_t field = 0;
  const auto* data = reinterpret_cast<const std::uint8_t*>(message.data());
  if (auto ec = core::decode_relay_settings({data, message.size()}, s, &field)) {
    std::string name = core::relay_settings_field_name(field);
    for (char& c : name)
      if (c == ' ') c = '_';
    return error_text(seq, "bad_field", field == 0 ? "header" : name);
  }
  if (auto st = state_.save_settings(s); st.failed()) {
    failure = std::move(st);
    return error_text(seq, "accessory_failure");
  }
  if (auto st = start(); st.failed()) failure = std::move(st);
  auto ticket = ticket_for(from);
  return ticket ? *ticket : error_text(seq, "accessory_failure");
}

} // namespace lanyard::node::detail
