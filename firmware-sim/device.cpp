#include "device.hpp"

#include "events.hpp"
#include "netif.hpp"
#include "qr.hpp"

#include <lanyard/core/display_text.hpp>
#include <lanyard/core/setup_payload.hpp>
#include <lanyard/discovery/error.hpp>
#include <lanyard/trust/window_clock.hpp>

#include <asio/ip/address.hpp>

#include <algorithm>
#include <cstdio>
#include <variant>

namespace lanyard::sim {
namespace {

// The pairing window's clock: monotonic while the accessory runs (trust/window_clock.hpp).
using clock = trust::window_clock;

// How the sim's log names a pairing method (its own words since the first release).
const char* method_name(core::pairing_method m) {
  static constexpr const char* methods[] = {"", "payload", "code", "confirmation"};
  return methods[static_cast<int>(m) & 3];
}

std::string short_fp(const core::fingerprint& fp) {
  return core::to_short_string(fp);
}

std::string text_of(std::span<const std::byte> p) {
  return std::string(reinterpret_cast<const char*>(p.data()), p.size());
}

template <class... F>
struct overloaded : F... {
  using F::operator()...;
};

} // namespace

device::device(asio::io_context& io, const run_options& opts, const state_paths& paths,
               const device_config& config, fault_settings& faults, std::function<void()> restart)
    : io_(io), opts_(opts), paths_(paths), config_(config), faults_(faults),
      restart_(std::move(restart)), behaviour_(config.kind, config.id, config.name),
      reading_timer_(io) {}

device::~device() {
  *alive_ = false;
  stop();
}

bool device::start(std::string& error) {
  // An accessory that pairs by confirmation has no setup secret: nothing is made or loaded
  // (secrets_ stays empty), so no payload, code or label can exist for it. Otherwise the
  // simulator makes the secrets itself, with the label the node does not keep (setup_secrets.hpp);
  // the node then loads the same DIR/setup-credentials.
  if (!confirmation_pairing() && !load_or_create_setup_secrets(paths_, secrets_, error)) {
    error = "setup secrets: " + error;
    return false;
  }
  wifi_ = read_wifi_config(paths_, error);
  if (!error.empty()) return false;
  setup_mode_ = !wifi_;
  asio::ip::tcp::endpoint ep;
  if (!listen_endpoint(ep, error)) return false;

  node::node_options o;
  o.state_dir = paths_.dir;
  o.device_id = config_.id;
  o.name = config_.name;
  o.listen = {ep};
  o.advertise = opts_.advertise;
  o.mdns = opts_.mdns;
  // In setup mode only the access point carries the service: the device is on no other network.
  if (setup_mode_) o.advertise_interface = softap_interface_;
  o.txt = product_txt();
  // c# follows sf inside the node's own update, so a change (the window opened, closed or timed
  // out, a pairing exchange started or ended) is published once, with both keys. Bumped in
  // answer to the node's window_event instead, it went out in a second publication: the event
  // is taken after the node has published sf.
  o.derive_txt = [this](const core::txt_record& advertised, core::txt_record& next) {
    const core::txt_entry* was = advertised.find("sf");
    const core::txt_entry* now = next.find("sf");
    if (was != nullptr && now != nullptr && was->value != now->value) ++config_number_;
    (void)next.set("c#", std::to_string(config_number_)); // a few digits: always fits
  };
  o.pairing =
      confirmation_pairing() ? node::pairing_mode::confirmation : node::pairing_mode::setup_secret;
  // Setup mode opens the window (a first boot too: a device nobody can pair is useless); it
  // stays open after a pairing (a second app may pair), provisioning closes it.
  o.open_window_when_unpaired = true;
  o.close_window_after_pairing = false;
  o.pairing_window = opts_.window_timeout;
  o.setup_mode = setup_mode_;
  if (setup_mode_) {
    // "Lanyard-" + the id's last 24 bytes: unique enough, within the 32-byte SSID limit.
    const std::string& id = config_.id;
    o.softap_ssid = "Lanyard-" + (id.size() > 24 ? id.substr(id.size() - 24) : id);
  }
  radio_ = std::make_shared<lab_radio>(io_.get_executor(), opts_, paths_);
  o.wifi = radio_;
  o.server.pairing.failure_delay_max = opts_.pairing_delay_max;
  o.server.pairing.failure_delay_first =
      std::min(o.server.pairing.failure_delay_first, opts_.pairing_delay_max);
  if (confirmation_pairing()) {
    // Stands for the accessory's display. The library calls it when the app's confirmation
    // request (PAIR_START) arrives and pairs the controller right after; `lanyard pair --tofu`
    // asks its user before sending that request, so this line comes after the user's yes.
    o.server.pairing.on_verification_code = [](std::uint32_t code) {
      char digits[8];
      std::snprintf(digits, sizeof digits, "%06u", static_cast<unsigned>(code % 1000000));
      emit("verification-code", {{"value", digits}});
    };
  }
  o.diagnostics = [](const core::diagnostic& d) { emit_diagnostic(d); };
  // The library's services (provisioning, controller management) are answered by the node;
  // the simulator only shows them.
  o.on_control = [this](const core::fingerprint& from, core::message_kind service,
                        std::uint64_t seq, std::span<const std::byte> payload) {
    ++messages_in_;
    emit("control", {{"controller", short_fp(from)},
                     {"service", std::string(core::to_string(service))},
                     {"seq", seq},
                     {"text", text_of(payload)}});
  };
  if (core::error_detail e = node::node::open(io_.get_executor(), std::move(o), node_)) {
    error = e.message();
    if (e.code == asio::error::address_in_use)
      error += std::string(" (another process uses the port: stop it or choose another with ") +
               (setup_mode_ ? "--softap-port)" : "--listen)");
    return false;
  }
  faults_.remembered_port = node_->local_endpoints().front().port();
  shown_window_open_ = window_open();
  emit("mode", {{"mode", setup_mode_ ? "setup" : "operational"},
                {"ssid", wifi_ ? wifi_->ssid : std::string()}});
  print_payload();
  emit_ready();
  next_event();
  if (config_.kind == device_kind::sensor) schedule_reading();
  return true;
}

bool device::listen_endpoint(asio::ip::tcp::endpoint& ep, std::string& error) {
  std::string host;
  std::uint16_t port = 0;
  if (setup_mode_) {
    host = opts_.softap_address;
    port = opts_.softap_port;
  } else if (!split_host_port(opts_.listen, host, port, error)) {
    error = "--listen: " + error;
    return false;
  }
  std::error_code ec;
  const auto addr = asio::ip::make_address(host, ec);
  if (ec) {
    error = (setup_mode_ ? "--softap-address '" : "--listen address '") + host +
            "' is not an IP address literal";
    return false;
  }
  if (port == 0) port = faults_.remembered_port;
  ep = asio::ip::tcp::endpoint(addr, port);
  if (setup_mode_) {
    softap_interface_ = interface_with_address(addr);
    if (softap_interface_.empty()) {
      // Outside the lab there is no access point: serve setup mode on loopback instead.
      emit("note", {{"value", "no interface has the SoftAP address " + host +
                                  "; serving setup mode on 127.0.0.1 instead"}});
      ep = asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), port);
    }
  }
  return true;
}

void device::emit_ready() {
  const asio::ip::tcp::endpoint ep = node_->local_endpoints().front();
  emit("ready", {{"id", config_.id},
                 {"kind", to_string(config_.kind)},
                 {"mode", setup_mode_ ? "setup" : "operational"},
                 {"address", ep.address().to_string()},
                 {"port", std::uint64_t{ep.port()}},
                 {"fingerprint", core::to_string(node_->fingerprint())},
                 {"pairing_window", window_open()},
                 {"pairing_method", to_string(config_.pairing)},
                 {"mdns", opts_.advertise ? node::to_string(opts_.mdns) : "none"}});
}

bool device::window_open() const {
  return core::pairing_window(node_->controllers().window()).is_open(clock::now());
}

core::txt_record device::product_txt() const {
  core::txt_record t;
  // id, pv and sf are the node's; listed here only to keep the record's order.
  (void)t.set("id", config_.id);
  (void)t.set("pv", "1");
  (void)t.set("md", std::string("lanyard-sim-") + to_string(config_.kind));
  (void)t.set("sf", "0");
  (void)t.set("c#", std::to_string(config_number_));
  return t;
}

// The node's events, one at a time, in order. The TXT record needs none of them: the node
// derives sf, and c# with it (derive_txt above); nothing polls.
void device::next_event() {
  node_->async_next_event(
      [this, alive = std::weak_ptr<bool>(alive_)](std::error_code ec, node::node_event e) {
        if (ec || alive.expired() || stopped_) return;
        on_event(e);
        next_event();
      });
}

void device::on_event(const node::node_event& event) {
  std::visit(
      overloaded{
          [this](const node::window_event& w) {
            if (w.open == shown_window_open_) return;
            shown_window_open_ = w.open;
            emit("pairing-window", {{"open", w.open}, {"c#", std::uint64_t{config_number_}}});
          },
          [](const node::pairing_started_event& p) {
            emit("pairing-started", {{"controller", short_fp(p.controller)},
                                     {"name", core::display_text(p.name, 64)},
                                     {"method", method_name(p.method)},
                                     {"peer", p.peer}});
          },
          [](const node::pairing_event& p) {
            std::vector<field> f{{"controller", short_fp(p.controller)},
                                 {"name", core::display_text(p.name, 64)},
                                 {"method", method_name(p.method)},
                                 {"result", p.error ? "failed" : "paired"},
                                 {"attempts_left", std::uint64_t{p.attempts_left}}};
            if (p.error)
              f.emplace_back("reason", p.error.message());
            else
              f.emplace_back("role", p.role == trust::controller_role::admin ? "admin" : "user");
            emit("pairing", f);
          },
          [this](const node::session_event& s) {
            if (s.open) {
              emit("session", {{"controller", short_fp(s.controller)},
                               {"state", "established"},
                               {"resumed", false}});
              receive_from(s.controller);
            } else {
              emit("session", {{"controller", short_fp(s.controller)},
                               {"state", "closed"},
                               {"error", s.why ? s.why.message() : std::string()}});
            }
          },
          [](const node::reconnect_event& r) {
            emit("session", {{"controller", short_fp(r.controller)},
                             {"state", "established"},
                             {"resumed", r.resumed}});
          },
          [this](const node::advertising_event& a) {
            // A new record, published (without avahi-daemon too: --no-advertise). Counted for
            // ctl status, not printed: scripts expect `ready` to end what a start prints.
            if (a.registered_name.empty() && !a.error)
              ++txt_published_;
            else if (!a.registered_name.empty())
              emit(a.renamed ? "advertise-renamed" : "advertised", {{"name", a.registered_name}});
            else if (a.error == discovery::discovery_errc::daemon_unavailable)
              warn("avahi-daemon: " + a.error.message(), a.error);
            else if (a.error)
              warn("advertising failed: " + a.error.message(), a.error);
          },
          [this](const node::provisioning_event& p) {
            emit("provisioning", {{"state", std::string(core::to_string(p.state))},
                                  {"reason", p.state == core::provisioning_state::failed
                                                 ? std::string(core::to_string(p.reason))
                                                 : std::string()}});
            if (p.state == core::provisioning_state::connected && radio_->joined()) {
              emit("provisioned",
                   {{"ssid", radio_->joined()->ssid}, {"interface", radio_->joined()->interface}});
              wifi_ = wifi_config{radio_->joined()->ssid};
              join_home_network();
            }
          },
          [this](const node::setup_listeners_closed_event& c) {
            // The radio leaves AP mode: the SoftAP link goes down, so nobody reaches the
            // accessory (or sees it advertised) there any more, as with a real one.
            std::string down_error;
            if (!softap_interface_.empty() && !set_link_down(softap_interface_, down_error))
              emit("warning",
                   {{"value", "closing the SoftAP " + softap_interface_ + ": " + down_error}});
            emit("softap-closed", {{"connections_ended", std::uint64_t{c.connections_ended}},
                                   {"interface", softap_interface_}});
          },
          [](const node::relay_event& r) {
            if (r.switched_off) {
              emit("relay-off", {{"admin", short_fp(*r.settings_by)}});
              return;
            }
            if (r.settings_by) {
              emit("relay-settings", {{"admin", short_fp(*r.settings_by)},
                                      {"error", r.error ? r.error.message() : std::string()}});
              return;
            }
            emit("relay", {{"state", std::string(relay::to_string(r.state))},
                           {"error", r.error ? r.error.message() : std::string()}});
          },
      },
      event);
}

// One loop per controller with a session: the node holds each app to its window until the
// simulator takes its messages.
void device::receive_from(const core::fingerprint& controller) {
  if (!receiving_.insert(controller).second) return;
  node_->async_receive(controller, [this, controller, alive = std::weak_ptr<bool>(alive_)](
                                       std::error_code ec, core::message m) {
    if (alive.expired() || stopped_) return;
    receiving_.erase(controller);
    if (!ec) {
      on_message(controller, m.seq, m.payload);
      return receive_from(controller);
    }
    // The session ended; a new one (already reported, or to come) gets its loop.
    const auto live = node_->sessions();
    if (std::find(live.begin(), live.end(), controller) != live.end() &&
        ec != asio::error::operation_aborted)
      receive_from(controller);
  });
}

void device::schedule_reading() {
  reading_timer_.expires_after(opts_.sensor_interval);
  reading_timer_.async_wait([this](std::error_code ec) {
    if (ec || stopped_) return;
    const core::app_message r = behaviour_.next_reading();
    for (const auto& c : node_->controllers().list())
      send(c.fingerprint, r);
    schedule_reading();
  });
}

void device::on_message(const core::fingerprint& from, std::uint64_t seq,
                        std::span<const std::byte> payload) {
  ++messages_in_;
  emit("message", {{"controller", short_fp(from)}, {"seq", seq}, {"text", text_of(payload)}});
  // Application messages only: provisioning and administration arrive as CONTROL messages
  // (the node answers them), so an app's "v1 wifi_set …" as data is just an unknown verb here.
  behaviour::outcome o = behaviour_.handle(payload, seq);
  auto deliver = [this, from, o] {
    send(from, o.reply);
    if (o.state_changed) push_to_others(from, behaviour_.state());
  };
  const unsigned slow = faults_.slow_ms.load();
  if (slow == 0) {
    deliver();
    return;
  }
  auto t = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(slow));
  std::weak_ptr<bool> alive = alive_;
  t->async_wait([t, alive, deliver](std::error_code ec) {
    if (!ec && !alive.expired()) deliver();
  });
}

void device::send(const core::fingerprint& to, const core::app_message& m) {
  std::string text;
  if (auto ec = core::encode_app_message(m, text)) {
    warn("not sent (" + ec.message() + "): " + m.verb, ec);
    return;
  }
  channel::send_options o;
  o.mode = channel::send_mode::fail;
  o.completion = channel::send_completion_mode::queued;
  node_->async_send(to, std::as_bytes(std::span(text.data(), text.size())), o,
                    [this, alive = std::weak_ptr<bool>(alive_)](std::error_code ec, std::uint64_t) {
                      if (alive.expired()) return;
                      if (ec)
                        ++sends_failed_;
                      else
                        ++messages_out_;
                    });
}

void device::push_to_others(const core::fingerprint& except, const core::app_message& m) {
  for (const auto& c : node_->controllers().list())
    if (c.fingerprint != except && node_->server().connected(c.fingerprint)) send(c.fingerprint, m);
}

// Joined (wifi.conf written by the radio): serve the home network with the same node, so every
// session (the provisioning app's included) carries on; no reboot, no new pairing, no lost
// message. The SoftAP's connections end after --softap-grace-ms (setup_listeners_closed_event).
void device::join_home_network() {
  setup_mode_ = false;
  asio::ip::tcp::endpoint ep;
  std::string error;
  core::error_detail e;
  if (!listen_endpoint(ep, error) || (e = node_->leave_setup_mode({ep}, opts_.softap_grace))) {
    // Cannot serve the home network from this boot: a reboot comes up operational (the Wi-Fi
    // configuration is on disk), at the price of the sessions.
    if (error.empty()) error = e.message();
    emit("warning", {{"value", "serving the home network failed: " + error + "; rebooting"}});
    if (restart_) restart_();
    return;
  }
  faults_.remembered_port = node_->local_endpoints().front().port();
  emit("mode", {{"mode", "operational"}, {"ssid", wifi_->ssid}});
  // Setup mode's pairing window closes: the app that provisioned is paired, and the home LAN
  // is a bigger audience than the SoftAP (open it again with `ctl pairing-window open`).
  if (auto ce = node_->close_pairing_window())
    warn("closing the pairing window: " + ce.message(), ce.code);
  print_payload();
  emit_ready();
}

std::string device::set_pairing_window(bool open) {
  // `ctl pairing-window open` stands for the accessory's pairing button: a local, physical
  // action, so it reopens the window even after 20 failed proofs and resets their count.
  core::error_detail e = open ? node_->open_pairing_window() : node_->close_pairing_window();
  return e ? e.message() : std::string();
}

void device::print_payload() {
  if (confirmation_pairing()) {
    // Nothing to print: a payload without its secret proves nothing (a version-1 payload,
    // which `lanyard pair` refuses), and there is no code. Say how to pair instead.
    emit("note", {{"value", "no setup payload or code (--pairing-method confirm): pair with "
                            "`lanyard pair --tofu " +
                                config_.id +
                                "@HOST:PORT` while the pairing window is open, and compare "
                                "the verification code"}});
    return;
  }
  core::setup_payload p = node_->setup_payload(); // id, key, secret, setup mode, SoftAP
  p.pairing_window_open = window_open();
  if (auto ec = core::encode_setup_payload(p, payload_)) {
    warn("cannot encode the setup payload: " + ec.message(), ec);
    return;
  }
  emit("payload", {{"value", payload_}});
  // The label's 8-digit code, for typing into an app (SPAKE2+; the accessory keeps only its
  // verifier). Printed in setup mode, like the QR code: what someone holding the box sees.
  if (setup_mode_ && secrets_.code) emit("code", {{"value", core::to_string(*secrets_.code)}});
  if (setup_mode_ && opts_.qr) show_qr(payload_);
}

device_status device::status() const {
  device_status s;
  s.id = config_.id;
  s.kind = config_.kind;
  s.name = config_.name;
  s.setup_mode = setup_mode_;
  const asio::ip::tcp::endpoint ep = node_->local_endpoints().front();
  s.address = ep.address().to_string();
  s.port = ep.port();
  s.fingerprint = core::to_string(node_->fingerprint());
  s.pairing = config_.pairing;
  s.payload = payload_;
  if (secrets_.code) s.setup_code = core::to_string(*secrets_.code);
  s.window_open = window_open();
  s.window_describe = core::pairing_window(node_->controllers().window()).describe(clock::now());
  for (const auto& c : node_->controllers().list())
    s.controllers.push_back({core::to_string(c.fingerprint), c.name,
                             std::string(trust::to_string(c.role)),
                             node_->server().connected(c.fingerprint)});
  s.sessions = node_->server().session_count();
  s.messages_in = messages_in_;
  s.messages_out = messages_out_;
  s.sends_failed = sends_failed_;
  s.advertised = node_->advertised();
  s.slow_ms = faults_.slow_ms.load();
  s.lamp_on = behaviour_.on();
  s.brightness = behaviour_.brightness();
  s.readings = behaviour_.readings();
  s.txt = node_->txt();
  s.txt_published = txt_published_;
  return s;
}

void device::stop() {
  if (stopped_) return;
  stopped_ = true;
  reading_timer_.cancel();
  if (radio_) radio_->cancel();
  if (node_) node_->close(); // goodbye packets, every connection ends
}

} // namespace lanyard::sim
