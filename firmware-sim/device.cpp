#include "device.hpp"

#include "events.hpp"
#include "qr.hpp"

#include <lanyard/accessory/controller_admin.hpp>
#include <lanyard/core/display_text.hpp>
#include <lanyard/core/setup_payload.hpp>
#include <lanyard/tls/context.hpp>
#include <lanyard/trust/window_clock.hpp>

#include <asio/ip/address.hpp>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <variant>

namespace lanyard::sim {
namespace {

// The pairing window's clock: monotonic while the accessory runs (trust/window_clock.hpp).
using clock = trust::window_clock;

// The name of the interface that has `addr`, or empty.
std::string interface_with_address(const asio::ip::address& addr) {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return {};
  std::string found;
  for (ifaddrs* i = list; i != nullptr && found.empty(); i = i->ifa_next) {
    if (i->ifa_addr == nullptr) continue;
    if (addr.is_v4() && i->ifa_addr->sa_family == AF_INET) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
      if (ntohl(sin->sin_addr.s_addr) == addr.to_v4().to_uint()) found = i->ifa_name;
    } else if (addr.is_v6() && i->ifa_addr->sa_family == AF_INET6) {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(i->ifa_addr);
      asio::ip::address_v6::bytes_type b;
      std::memcpy(b.data(), sin6->sin6_addr.s6_addr, b.size());
      if (asio::ip::address_v6(b) == addr.to_v6()) found = i->ifa_name;
    }
  }
  ::freeifaddrs(list);
  return found;
}

// Sets `ifname` administratively down (needs CAP_NET_ADMIN: root in the lab's namespace).
bool set_link_down(const std::string& ifname, std::string& error) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = std::strerror(errno);
    return false;
  }
  ifreq req{};
  std::strncpy(req.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
  bool ok = ::ioctl(fd, SIOCGIFFLAGS, &req) == 0;
  if (ok) {
    req.ifr_flags = static_cast<short>(req.ifr_flags & ~IFF_UP);
    ok = ::ioctl(fd, SIOCSIFFLAGS, &req) == 0;
  }
  if (!ok) error = std::strerror(errno);
  ::close(fd);
  return ok;
}

// The addresses of `ifname` if it is up with carrier: IPv4, and IPv6 other than link-local.
std::vector<std::string> usable_addresses(const std::string& ifname) {
  ifaddrs* list = nullptr;
  std::vector<std::string> out;
  if (::getifaddrs(&list) != 0) return out;
  for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || ifname != i->ifa_name) continue;
    if ((i->ifa_flags & IFF_UP) == 0 || (i->ifa_flags & IFF_RUNNING) == 0) continue;
    char buf[INET6_ADDRSTRLEN] = {};
    if (i->ifa_addr->sa_family == AF_INET) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
      ::inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf);
      out.emplace_back(buf);
    } else if (i->ifa_addr->sa_family == AF_INET6) {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(i->ifa_addr);
      if (IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr)) continue;
      ::inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof buf);
      out.emplace_back(buf);
    }
    if (out.size() == core::provisioning_progress::max_addresses) break;
  }
  ::freeifaddrs(list);
  return out;
}

std::string short_fp(const core::fingerprint& fp) {
  return core::to_short_string(fp);
}

std::string text_of(std::span<const std::byte> p) {
  return std::string(reinterpret_cast<const char*>(p.data()), p.size());
}

std::string endpoint_text(const asio::ip::tcp::endpoint& ep) {
  return ep.address().is_v6() ? "[" + ep.address().to_string() + "]:" + std::to_string(ep.port())
                              : ep.address().to_string() + ":" + std::to_string(ep.port());
}

} // namespace

device::device(asio::io_context& io, const run_options& opts, const state_paths& paths,
               const device_config& config, fault_settings& faults, std::function<void()> restart)
    : io_(io), opts_(opts), paths_(paths), config_(config), faults_(faults),
      restart_(std::move(restart)), behaviour_(config.kind, config.id, config.name),
      housekeeping_(io), reading_timer_(io), join_timer_(io) {}

device::~device() {
  *alive_ = false;
  stop();
}

bool device::start(std::string& error) {
  core::error_detail identity_error;
  identity_ = tls::identity::load_or_create(paths_.identity(), config_.id, identity_error);
  if (identity_error) {
    error = "identity: " + identity_error.message();
    return false;
  }
  // An accessory that pairs by confirmation has no setup secret: nothing is made or loaded
  // (secrets_ stays empty), so no payload, code or label can exist for it.
  if (!confirmation_pairing() && !load_or_create_setup_secrets(paths_, secrets_, error)) {
    error = "setup secrets: " + error;
    return false;
  }
  store_ = std::make_shared<trust::controller_store>(paths_.controllers());
  if (auto s = store_->load(); s.failed()) {
    error = "paired controllers: " + s.message();
    return false;
  }
  const auto now = clock::now();
  store_->expire_window(now);

  wifi_ = read_wifi_config(paths_, error);
  if (!error.empty()) return false;
  setup_mode_ = !wifi_;
  responder_ = core::provisioning_responder(setup_mode_);

  // Setup mode opens the window (a first boot too: a device nobody can pair is useless).
  if (setup_mode_ || store_->list().empty()) {
    if (auto s = store_->open_window(now, opts_.window_timeout); s.failed())
      warn("pairing window not opened: " + s.message(), s.code);
  }

  make_server();
  if (!listen(error)) return false;
  emit("mode", {{"mode", setup_mode_ ? "setup" : "operational"},
                {"ssid", wifi_ ? wifi_->ssid : std::string()}});
  advertised_window_open_ = window_open();
  if (opts_.advertise) advertise();
  print_payload();
  emit_ready();
  schedule_housekeeping();
  if (config_.kind == device_kind::sensor) schedule_reading();
  return true;
}

void device::emit_ready() {
  emit("ready", {{"id", config_.id},
                 {"kind", to_string(config_.kind)},
                 {"mode", setup_mode_ ? "setup" : "operational"},
                 {"address", endpoint_.address().to_string()},
                 {"port", std::uint64_t{endpoint_.port()}},
                 {"fingerprint", core::to_string(identity_.fingerprint())},
                 {"pairing_window", window_open()},
                 {"pairing_method", to_string(config_.pairing)}});
}

void device::make_server() {
  accessory::server_options so;
  so.diagnostics = [](const core::diagnostic& d) { emit_diagnostic(d); };
  if (confirmation_pairing()) {
    // No credentials: the library then pairs by confirmation only (allow_confirmation is
    // ignored next to credentials, and proofs of a payload or code are refused as
    // method_not_supported). Still only while the window is open, within its attempt rules.
    so.pairing.allow_confirmation = true;
    // Stands for the accessory's display. The library calls it when the app's confirmation
    // request (PAIR_START) arrives and pairs the controller right after; `lanyard pair --tofu`
    // asks its user before sending that request, so this line comes after the user's yes.
    so.pairing.on_verification_code = [](std::uint32_t code) {
      char digits[8];
      std::snprintf(digits, sizeof digits, "%06u", static_cast<unsigned>(code % 1000000));
      emit("verification-code", {{"value", digits}});
    };
  } else {
    so.pairing.credentials = secrets_.credentials;
  }
  so.pairing.failure_delay_max = opts_.pairing_delay_max;
  so.pairing.failure_delay_first =
      std::min(so.pairing.failure_delay_first, opts_.pairing_delay_max);
  server_ =
      std::make_unique<accessory::server>(io_.get_executor(), tls::context(identity_), store_, so);
  std::weak_ptr<bool> alive = alive_;
  server_->set_pairing_handler([this, alive](const accessory::server::pairing_report& r) {
    if (alive.expired()) return;
    static constexpr const char* methods[] = {"", "payload", "code", "confirmation"};
    std::vector<field> f{{"controller", short_fp(r.controller)},
                         {"name", core::display_text(r.name, 64)},
                         {"method", methods[static_cast<int>(r.method) & 3]},
                         {"result", r.error ? "failed" : "paired"},
                         {"attempts_left", std::uint64_t{r.attempts_left}}};
    if (r.error)
      f.emplace_back("reason", r.error.message());
    else
      f.emplace_back("role", r.role == core::paired_role::admin ? "admin" : "user");
    emit("pairing", f);
    refresh_txt();
  });
  server_->set_message_handler(
      [this, alive](const core::fingerprint& c, std::uint64_t seq, std::span<const std::byte> p) {
        if (!alive.expired()) on_message(c, seq, p);
      });
  server_->set_control_handler([this, alive](const core::fingerprint& c, core::message_kind k,
                                             std::uint64_t seq, std::span<const std::byte> p) {
    if (!alive.expired()) on_control(c, k, seq, p);
  });
  server_->set_event_handler([](const core::fingerprint& c, const core::session_event& e) {
    if (const auto* est = std::get_if<core::events::established>(&e)) {
      emit("session",
           {{"controller", short_fp(c)}, {"state", "established"}, {"resumed", est->resumed}});
    } else if (const auto* cl = std::get_if<core::events::closed>(&e)) {
      emit("session", {{"controller", short_fp(c)},
                       {"state", "closed"},
                       {"error", cl->error ? cl->error.message() : std::string()}});
    }
  });
}

bool device::listen(std::string& error) {
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
  asio::ip::tcp::endpoint ep(addr, port);
  if (setup_mode_) {
    softap_interface_ = interface_with_address(addr);
    if (softap_interface_.empty()) {
      // Outside the lab there is no access point: serve setup mode on loopback instead.
      emit("note", {{"value", "no interface has the SoftAP address " + host +
                                  "; serving setup mode on 127.0.0.1 instead"}});
      ep = asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), port);
    }
  }
  if (auto lec = server_->listen(ep)) {
    error = "cannot listen on " + endpoint_text(ep) + ": " + lec.message() +
            (lec == asio::error::address_in_use
                 ? " (another process uses the port: stop it or choose another with " +
                       std::string(setup_mode_ ? "--softap-port)" : "--listen)")
                 : "");
    return false;
  }
  endpoint_ = server_->local_endpoint();
  faults_.remembered_port = endpoint_.port();
  return true;
}

bool device::window_open() const {
  return core::pairing_window(store_->window()).is_open(clock::now());
}

core::txt_record device::txt() const {
  core::txt_record t;
  (void)t.set("id", config_.id);
  (void)t.set("pv", "1");
  (void)t.set("md", std::string("lanyard-sim-") + to_string(config_.kind));
  (void)t.set("sf", advertised_window_open_ ? "1" : "0");
  (void)t.set("c#", std::to_string(config_number_));
  return t;
}

void device::advertise() {
  avahi_ = std::make_unique<discovery::client>(io_.get_executor());
  if (avahi_->status())
    warn(avahi_->status().message() + "; advertising as soon as avahi-daemon is reachable "
                                      "(or run with --no-advertise)",
         avahi_->status());
  advertiser_ = std::make_unique<discovery::advertiser>(*avahi_);
  advertiser_->on_event([](const discovery::advertiser_event& e) {
    switch (e.kind) {
    case discovery::advertiser_event_kind::registered:
      emit("advertised", {{"name", e.name}});
      break;
    case discovery::advertiser_event_kind::renamed:
      emit("advertise-renamed", {{"name", e.name}});
      break;
    case discovery::advertiser_event_kind::unavailable:
      warn("avahi-daemon: " + e.error.message(), e.error);
      break;
    case discovery::advertiser_event_kind::failed:
      warn("advertising failed: " + e.error.message(), e.error);
      break;
    }
  });
  discovery::service_description d;
  d.name = config_.name;
  d.type = "_lanyard._tcp";
  d.port = endpoint_.port();
  d.txt = txt();
  // In setup mode only the access point carries the service: the device is on no other network.
  if (setup_mode_) d.interface = softap_interface_;
  if (auto ec = advertiser_->publish(d)) warn("cannot advertise: " + ec.message(), ec);
}

void device::refresh_txt(bool force) {
  const bool open = window_open();
  if (open == advertised_window_open_ && !force) return;
  advertised_window_open_ = open;
  ++config_number_;
  emit("pairing-window", {{"open", open}, {"c#", std::uint64_t{config_number_}}});
  if (advertiser_) {
    if (auto ec = advertiser_->update_txt(txt())) warn("updating TXT: " + ec.message(), ec);
  }
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
  core::setup_payload p;
  p.device_id = config_.id;
  p.device_fingerprint = identity_.fingerprint();
  p.setup_secret = secrets_.credentials.secret;
  p.needs_provisioning = setup_mode_;
  p.pairing_window_open = window_open();
  if (setup_mode_) {
    // "Lanyard-" + the id's last 24 bytes: unique enough, within the 32-byte SSID limit.
    const std::string& id = config_.id;
    p.softap_ssid = "Lanyard-" + (id.size() > 24 ? id.substr(id.size() - 24) : id);
  }
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

void device::schedule_housekeeping() {
  housekeeping_.expires_after(std::chrono::seconds(1));
  housekeeping_.async_wait([this](std::error_code ec) {
    if (ec || stopped_) return;
    // The window may time out, or another process (an admin tool) may have changed the file.
    store_->load();
    store_->expire_window(clock::now());
    refresh_txt();
    schedule_housekeeping();
  });
}

void device::schedule_reading() {
  reading_timer_.expires_after(opts_.sensor_interval);
  reading_timer_.async_wait([this](std::error_code ec) {
    if (ec || stopped_) return;
    const core::app_message r = behaviour_.next_reading();
    for (const auto& c : store_->list())
      send(c.fingerprint, r);
    schedule_reading();
  });
}

void device::on_message(const core::fingerprint& from, std::uint64_t seq,
                        std::span<const std::byte> payload) {
  ++messages_in_;
  emit("message", {{"controller", short_fp(from)}, {"seq", seq}, {"text", text_of(payload)}});
  // Application messages only: provisioning and administration arrive as CONTROL messages
  // (on_control), so an app's "v1 wifi_set …" as data is just an unknown verb to the lamp.
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

// The library's services: provisioning (setup mode) and controller management (admins only).
void device::on_control(const core::fingerprint& from, core::message_kind service,
                        std::uint64_t seq, std::span<const std::byte> payload) {
  ++messages_in_;
  emit("control", {{"controller", short_fp(from)},
                   {"service", std::string(core::to_string(service))},
                   {"seq", seq},
                   {"text", text_of(payload)}});
  const core::app_message_parse_result r = core::parse_app_message(payload);
  if (!r)
    return send_control(from, service, behaviour::error(seq, "bad_message", r.code.message()));
  if (service == core::message_kind::provisioning) {
    if (r.message.verb == "wifi_set") return provision(from, seq, r.message);
  } else {
    std::vector<std::string> replies;
    if (accessory::handle_admin_message(*store_, from, seq, r.message, clock::now(), replies)) {
      for (const auto& reply : replies)
        send_text(from, reply, service);
      refresh_txt();
      return;
    }
  }
  send_control(from, service, behaviour::error(seq, "unknown_verb", r.message.verb));
}

void device::send_control(const core::fingerprint& to, core::message_kind service,
                          const core::app_message& m) {
  std::string text;
  if (auto ec = core::encode_app_message(m, text)) {
    warn("not sent (" + ec.message() + "): " + m.verb, ec);
    return;
  }
  send_text(to, text, service);
}

void device::send(const core::fingerprint& to, const core::app_message& m) {
  std::string text;
  if (auto ec = core::encode_app_message(m, text)) {
    warn("not sent (" + ec.message() + "): " + m.verb, ec);
    return;
  }
  send_text(to, text);
}

void device::send_text(const core::fingerprint& to, const std::string& text,
                       core::message_kind kind) {
  channel::send_options o;
  o.mode = channel::send_mode::fail;
  o.completion = channel::send_completion_mode::queued;
  std::weak_ptr<bool> alive = alive_;
  auto done = [this, alive](std::error_code ec, std::uint64_t) {
    if (alive.expired()) return;
    if (ec)
      ++sends_failed_;
    else
      ++messages_out_;
  };
  const auto bytes = std::as_bytes(std::span(text.data(), text.size()));
  if (kind == core::message_kind::application)
    server_->async_send(to, bytes, o, std::move(done));
  else
    server_->async_send_control(to, kind, bytes, o, std::move(done));
}

void device::push_to_others(const core::fingerprint& except, const core::app_message& m) {
  for (const auto& c : store_->list())
    if (c.fingerprint != except && server_->connected(c.fingerprint)) send(c.fingerprint, m);
}

// Sends a provisioning reply (already encoded by the responder) and tells the console.
void device::report(const core::fingerprint& to, const std::string& text) {
  const core::app_message_parse_result r =
      core::parse_app_message(std::as_bytes(std::span(text.data(), text.size())));
  core::provisioning_progress p;
  if (r && !core::decode_provisioning_progress(r.message, p))
    emit("provisioning", {{"state", std::string(core::to_string(p.state))},
                          {"reason", p.state == core::provisioning_state::failed
                                         ? std::string(core::to_string(p.reason))
                                         : std::string()}});
  send_text(to, text, core::message_kind::provisioning); // encoded by the responder already
}

// The accessory library's responder decides what to answer (core/provisioning_responder.hpp);
// this "radio" decides whether joining works: the lab maps SSIDs and passphrases to links.
void device::provision(const core::fingerprint& from, std::uint64_t seq,
                       const core::app_message& m) {
  core::provisioning_responder::outcome o;
  const auto record = store_->find(from);
  const auto role = record && record->role == trust::controller_role::admin
                        ? core::provisioning_responder::sender::admin
                        : core::provisioning_responder::sender::user;
  if (responder_.on_message(m, seq, role, o)) return; // not a provisioning message
  report(from, o.reply);
  if (!o.join) return; // refused (not in setup mode, busy, bad credentials): nothing changes
  const network_entry* net = nullptr;
  for (const auto& n : opts_.networks)
    if (n.ssid == o.join->ssid) net = &n;
  if (net == nullptr || net->passphrase != o.join->passphrase) {
    const auto why = net == nullptr ? core::provisioning_failure::network_not_found
                                    : core::provisioning_failure::auth_error;
    // A radio takes a moment to find out; answering at once would hide ordering bugs in apps.
    join_timer_.expires_after(std::chrono::milliseconds(300));
    join_timer_.async_wait([this, from, why](std::error_code ec) {
      if (!ec && !stopped_) join_failed(from, why);
    });
    return;
  }
  try_join(from, *net, std::chrono::steady_clock::now() + opts_.join_timeout);
}

void device::join_failed(const core::fingerprint& to, core::provisioning_failure why) {
  std::string text;
  if (!responder_.failed(why, text)) report(to, text);
}

void device::try_join(const core::fingerprint& from, network_entry net,
                      std::chrono::steady_clock::time_point deadline) {
  const std::vector<std::string> addresses = net.interface.empty()
                                                 ? std::vector<std::string>{"127.0.0.1"}
                                                 : usable_addresses(net.interface);
  if (!addresses.empty()) {
    std::string error;
    if (!write_wifi_config(paths_, wifi_config{net.ssid}, error)) {
      emit("warning", {{"value", "provisioning: " + error}});
      return join_failed(from, core::provisioning_failure::timeout);
    }
    std::string text;
    if (std::error_code ec = responder_.joined(addresses, text)) {
      warn("provisioning report: " + ec.message(), ec);
      return join_failed(from, core::provisioning_failure::timeout);
    }
    report(from, text);
    emit("provisioned", {{"ssid", net.ssid}, {"interface", net.interface}});
    wifi_ = wifi_config{net.ssid};
    join_home_network();
    return;
  }
  if (std::chrono::steady_clock::now() >= deadline)
    return join_failed(from, core::provisioning_failure::timeout);
  join_timer_.expires_after(std::chrono::milliseconds(200));
  join_timer_.async_wait([this, from, net, deadline](std::error_code ec) {
    if (!ec && !stopped_) try_join(from, net, deadline);
  });
}

// Joined: serve the home network with the same server, so every session (the provisioning
// app's included) carries on; no reboot, no new pairing, no lost message.
void device::join_home_network() {
  const asio::ip::tcp::endpoint softap = endpoint_;
  // The SoftAP's listener closes first: Linux refuses a wildcard listener on a port that a
  // specific address listens on. Its connections stay up through the grace period.
  (void)server_->stop_listening(softap);
  setup_mode_ = false;
  std::string error;
  if (!listen(error)) {
    // Cannot serve the home network from this boot: a reboot comes up operational (the Wi-Fi
    // configuration is on disk), at the price of the sessions.
    emit("warning", {{"value", "serving the home network failed: " + error + "; rebooting"}});
    if (restart_) restart_();
    return;
  }
  emit("mode", {{"mode", "operational"}, {"ssid", wifi_->ssid}});
  // Setup mode's pairing window closes: the app that provisioned is paired, and the home LAN
  // is a bigger audience than the SoftAP (open it again with `ctl pairing-window open`).
  if (trust::store_status ws = store_->close_window(); ws.failed())
    warn("closing the pairing window: " + ws.message(), ws.code);
  advertised_window_open_ = window_open();
  ++config_number_;
  if (opts_.advertise) {
    advertiser_.reset(); // withdraws the SoftAP-only advertisement
    avahi_.reset();
    advertise(); // on every interface now
  }
  print_payload();
  emit_ready();
  // The SoftAP stays up for a grace period so the app reads the report, then it closes: the
  // app's connection through it ends and the app resumes its session on the home network.
  join_timer_.expires_after(opts_.softap_grace);
  join_timer_.async_wait([this, softap](std::error_code ec) {
    if (ec || stopped_) return;
    const std::size_t ended = server_->end_connections_through(softap);
    // The radio leaves AP mode: the SoftAP link goes down, so nobody reaches the accessory (or
    // sees it advertised) there any more, as with a real one.
    std::string down_error;
    if (!softap_interface_.empty() && !set_link_down(softap_interface_, down_error))
      emit("warning", {{"value", "closing the SoftAP " + softap_interface_ + ": " + down_error}});
    emit("softap-closed",
         {{"connections_ended", std::uint64_t{ended}}, {"interface", softap_interface_}});
  });
}

std::string device::set_pairing_window(bool open) {
  const auto now = clock::now();
  // `ctl pairing-window open` stands for the accessory's pairing button: a local, physical
  // action, so it reopens the window even after 20 failed proofs and resets their count.
  trust::store_status s =
      open ? store_->open_window(now, opts_.window_timeout, core::window_opener::local)
           : store_->close_window();
  if (s.failed()) return s.message();
  refresh_txt();
  return {};
}

std::string device::status_json() const {
  const auto now = clock::now();
  const core::pairing_window w(store_->window());
  std::string controllers = "[";
  for (const auto& c : store_->list()) {
    if (controllers.size() > 1) controllers += ",";
    controllers += "{\"fingerprint\":" + json_quote(core::to_string(c.fingerprint)) +
                   ",\"name\":" + json_quote(core::display_text(c.name)) +
                   ",\"role\":" + json_quote(trust::to_string(c.role)) +
                   ",\"connected\":" + (server_->connected(c.fingerprint) ? "true" : "false") + "}";
  }
  controllers += "]";
  std::string s =
      "{\"id\":" + json_quote(config_.id) + ",\"kind\":" + json_quote(to_string(config_.kind)) +
      ",\"name\":" + json_quote(config_.name) +
      ",\"mode\":" + json_quote(setup_mode_ ? "setup" : "operational") +
      ",\"address\":" + json_quote(endpoint_.address().to_string()) +
      ",\"port\":" + std::to_string(endpoint_.port()) +
      ",\"fingerprint\":" + json_quote(core::to_string(identity_.fingerprint())) +
      ",\"pairing_method\":" + json_quote(to_string(config_.pairing)) +
      ",\"payload\":" + (payload_.empty() ? std::string("null") : json_quote(payload_)) +
      ",\"setup_code\":" +
      (secrets_.code ? json_quote(core::to_string(*secrets_.code)) : std::string("null")) +
      ",\"pairing_window\":{\"open\":" + (window_open() ? "true" : "false") +
      ",\"describe\":" + json_quote(w.describe(now)) + "}" + ",\"controllers\":" + controllers +
      ",\"sessions\":" + std::to_string(server_->session_count()) +
      ",\"messages_in\":" + std::to_string(messages_in_) +
      ",\"messages_out\":" + std::to_string(messages_out_) +
      ",\"sends_failed\":" + std::to_string(sends_failed_) +
      ",\"advertised\":" + (advertiser_ && advertiser_->registered() ? "true" : "false") +
      ",\"slow_ms\":" + std::to_string(faults_.slow_ms.load());
  if (config_.kind == device_kind::lamp)
    s += ",\"lamp\":{\"on\":" + std::string(behaviour_.on() ? "true" : "false") +
         ",\"brightness\":" + std::to_string(behaviour_.brightness()) + "}";
  else
    s += ",\"sensor\":{\"readings\":" + std::to_string(behaviour_.readings()) + "}";
  return s + "}";
}

void device::stop() {
  if (stopped_) return;
  stopped_ = true;
  housekeeping_.cancel();
  reading_timer_.cancel();
  join_timer_.cancel();
  if (advertiser_) advertiser_->withdraw();
  if (server_) server_->close();
}

} // namespace lanyard::sim
