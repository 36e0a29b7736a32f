// firmware_lamp: a complete lamp accessory the way firmware runs Lanyard — lanyard::firmware
// (TLS, pairing, the sessions of several controllers) and the embedded mDNS responder, on plain
// POSIX sockets in one poll loop: no asio, no Avahi (none may run on its host), no threads, no
// exceptions, no RTTI. What a board's main loop does, with poll() for the RTOS's event wait.
//
//   firmware_lamp --state-dir DIR [--interface IF ...] [--port N] [--device-id ID]
//                 [--host NAME] [--instance NAME]
//                 [--setup-interface IF --network SSID=PASSPHRASE@IFACE ...
//                  --join-timeout-ms N --softap-grace-ms N]
//
// Without --setup-interface the lamp is on its home network already (--interface). With it,
// and until it has joined a network (DIR/wifi), it is in setup mode: it serves on the setup
// interface (the SoftAP: ap0 in the lab), its payload says so (SoftAP SSID Lanyard-ID, needs
// provisioning), and the admin that pairs first may send Wi-Fi credentials over the channel;
// the lab Wi-Fi driver (lab_wifi.hpp) "joins" one of the --network entries, the lamp reports
// its addresses, announces itself on the joined interface, and after --softap-grace-ms ends
// the connections that came through the SoftAP (their sessions stay: apps resume at home).
//
// First boot (no controllers in DIR): a new identity and setup secret are made and kept in
// DIR, the pairing window opens (TXT sf=1), and the setup payload — the QR code's text — goes
// to DIR/setup-payload and into the "started" line. Apps find the lamp by DNS-SD (_lanyard._tcp,
// TXT id/pv/sf), pair with the payload, and send "on", "off" or "brightness N"; the lamp
// answers "state on|off N" (anything else: "error: ..."). sf follows the window.
//
// stdout: one JSON line per event (started, announced, paired, pairing_failed, message,
// session_reset, session_ended, connection_closed, host_renamed, instance_renamed, txt_set,
// stopped); peers' text is escaped (json_line), errors are their stable codes
// (core::code_string). SIGTERM / SIGINT: mDNS goodbyes, "stopped" with the number of C++
// allocations the loop made (allocation_count.hpp: none, in fixed memory like a board; the lab
// tests check it), exit 0. Start-up errors: a sentence on stderr, exit 1 (2 for bad arguments).
#include "allocation_count.hpp"
#include "json_line.hpp"
#include "lab_wifi.hpp"
#include "mdns_sockets.hpp"
#include "network_interface.hpp"
#include "posix_storage.hpp"

#include <lanyard/core/accessory_txt.hpp>
#include <lanyard/core/app_message_view.hpp>
#include <lanyard/core/device_id.hpp>
#include <lanyard/core/fingerprint.hpp>
#include <lanyard/core/mdns_responder.hpp>
#include <lanyard/core/setup_payload.hpp>
#include <lanyard/firmware/accessory.hpp>
#include <lanyard/firmware/error.hpp>
#include <lanyard/firmware/identity_store.hpp>
#include <lanyard/tls_engine/identity.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace {

using namespace lanyard;
using lamp::json_line;
using time_point = std::chrono::steady_clock::time_point;
namespace fw = lanyard::firmware;

constexpr int stdout_fd = 1;
constexpr int max_reads_per_wakeup = 32;
// The accessory's capacities (accessory_settings): sessions + pending connections.
constexpr std::size_t max_sessions = 4;
constexpr std::size_t max_pending = 2;
constexpr std::size_t max_sockets = max_sessions + max_pending;

// --- the program's state, sized at compile time -------------------------------------------
core::mdns_responder responder;
lamp::mdns_sockets sockets;
std::array<lamp::network_interface, core::mdns_limits::max_interfaces> interfaces;
std::size_t interface_count = 0;
std::array<std::byte, 9000> receive_buffer;
std::array<std::byte, 1452> send_buffer;
std::array<std::byte, 4096> tcp_buffer;
lamp::posix_storage storage;
int stop_pipe[2] = {-1, -1};
int listener = -1;

struct tcp_connection {
  int fd = -1;
  fw::connection_id id;
};
std::array<tcp_connection, max_sockets> connections;

// Provisioning: the lab's Wi-Fi driver, and the SoftAP's end after a join.
lamp::lab_wifi wifi;
std::chrono::milliseconds join_timeout{5000};
std::chrono::milliseconds softap_grace{2000};
std::optional<std::size_t> setup_interface; // index into `interfaces` while the SoftAP serves
std::optional<time_point> softap_close_at;
std::string operational_payload; // set in setup mode
// Setup mode: the --interface list, announced on once a network is joined (e.g. p2p0).
std::array<std::string_view, core::mdns_limits::max_interfaces> later_interfaces{};
std::size_t later_count = 0;

// A sensor's readings (--sensor-interval-ms): "v1 reading n=N temperature_c=T" to every
// controller with a session, numbered from 1 (the simulator's sensor, so examples/companion
// runs against this lamp too).
std::chrono::milliseconds sensor_interval{0};
time_point next_reading = time_point::max();
std::uint64_t reading_n = 0;

// The lamp itself.
bool lamp_on = false;
int brightness = 100;

time_point now() noexcept {
  return std::chrono::steady_clock::now();
}

extern "C" void on_stop_signal(int) {
  const int saved = errno;
  const char byte = 1;
  [[maybe_unused]] const ssize_t n = ::write(stop_pipe[1], &byte, 1);
  errno = saved;
}

int random_fill(void*, unsigned char* out, std::size_t len) {
  while (len > 0) {
    const ssize_t n = ::getrandom(out, len, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    out += n;
    len -= static_cast<std::size_t>(n);
  }
  return 0;
}

std::chrono::system_clock::time_point wall_clock(void*) {
  return std::chrono::system_clock::now();
}

void join_wifi(void*, const core::wifi_credentials_view& network) {
  wifi.join(network, std::chrono::steady_clock::now(), join_timeout);
  json_line("provisioning").text("state", "connecting").text("ssid", network.ssid).write(1);
}

// --- mDNS -----------------------------------------------------------------------------------
std::string_view interface_name(std::uint32_t index) noexcept {
  const lamp::network_interface* i = sockets.find(index);
  return i ? i->name_text() : std::string_view{};
}

void report_mdns_events() {
  while (const auto event = responder.next_event()) {
    const char* name = nullptr;
    switch (event->kind) {
    case core::mdns_event_kind::announced:
      name = "announced";
      break;
    case core::mdns_event_kind::host_renamed:
      name = "host_renamed";
      break;
    case core::mdns_event_kind::instance_renamed:
      name = "instance_renamed";
      break;
    default:
      continue; // conflicts and deferrals end in one of the above
    }
    json_line line(name);
    if (event->interface != 0) line.text("interface", interface_name(event->interface));
    line.text("host", responder.host_name()).text("instance", responder.instance_name());
    line.write(stdout_fd);
  }
}

std::size_t send_due_packets(time_point at) {
  std::size_t count = 0;
  lamp::error_sentence why;
  while (const auto out = responder.next_packet(at, send_buffer)) {
    ++count;
    (void)sockets.send(*out, send_buffer, why); // a lost announcement is repeated by mDNS
  }
  return count;
}

void receive_mdns(int descriptor) {
  lamp::mdns_datagram datagram;
  for (int i = 0; i < max_reads_per_wakeup; ++i) {
    const lamp::mdns_receive_result r = sockets.receive(descriptor, receive_buffer, datagram);
    if (r == lamp::mdns_receive_result::none_waiting) return;
    if (r == lamp::mdns_receive_result::datagram)
      responder.on_packet(now(), datagram.from,
                          std::span<const std::byte>(receive_buffer).first(datagram.size));
  }
}

// The TXT record follows the accessory's state (id, pv, sf): re-announced when it changes.
// Built in fixed room (core::encode_accessory_txt), at every wake-up: the loop allocates nothing.
using txt_room = std::array<std::uint8_t, core::max_accessory_txt_size>;
txt_room published_txt{};
std::size_t published_txt_size = 0;
core::accessory_txt_state txt_state(const fw::accessory& acc, std::string_view device_id) {
  core::accessory_txt_state st;
  st.device_id = device_id;
  st.pairing_window_open = acc.pairing_window_open();
  st.controllers = acc.controllers().list().size();
  st.max_controllers = acc.controllers().capacity();
  st.pairing_in_progress = acc.pairings_in_progress() > 0;
  return st;
}
void update_txt(const fw::accessory& acc, std::string_view device_id, time_point at) {
  const core::accessory_txt_state st = txt_state(acc, device_id);
  txt_room wire;
  const std::size_t size = core::encode_accessory_txt(st, wire);
  if (size == 0) return;
  const auto bytes = std::span<const std::uint8_t>(wire).first(size);
  if (std::ranges::equal(bytes, std::span(published_txt).first(published_txt_size))) return;
  if (responder.set_txt(at, bytes)) return;
  published_txt = wire;
  published_txt_size = size;
  json_line("txt_set").boolean("sf", core::accessory_txt_offers_pairing(st)).write(stdout_fd);
}

// --- TCP ------------------------------------------------------------------------------------
tcp_connection* find_connection(fw::connection_id id) {
  for (auto& c : connections)
    if (c.fd >= 0 && c.id == id) return &c;
  return nullptr;
}

void close_socket(tcp_connection& c) {
  ::close(c.fd);
  c.fd = -1;
}

// Writes what the accessory has for this connection; what the socket does not take now waits
// for POLLOUT.
void flush(fw::accessory& acc, tcp_connection& c) {
  for (;;) {
    const auto out = acc.output(c.id);
    if (out.empty()) return;
    const ssize_t n = ::send(c.fd, out.data(), out.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return; // EAGAIN: later; an error: the read side reports it
    acc.consume_output(c.id, static_cast<std::size_t>(n), now());
  }
}

void accept_connections(fw::accessory& acc) {
  for (;;) {
    const int fd = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fw::connection_id id;
    if (acc.accept(id, now())) {
      ::close(fd);
      continue;
    }
    tcp_connection* slot = nullptr;
    for (auto& c : connections)
      if (c.fd < 0) {
        slot = &c;
        break;
      }
    if (!slot) { // cannot happen: the accessory evicted one for it (its event closes that one)
      acc.closed(id, now());
      ::close(fd);
      continue;
    }
    slot->fd = fd;
    slot->id = id;
  }
}

// Bytes are peeked, and only what the accessory took is read off the socket: while it holds a
// message for the application (fw::accessory::receive()) the rest stays in the kernel's
// buffer, and the controller's window holds back the rest of its stream. No copy here.
void read_connection(fw::accessory& acc, tcp_connection& c) {
  for (int i = 0; i < max_reads_per_wakeup && c.fd >= 0 && acc.wants_input(c.id); ++i) {
    const ssize_t n = ::recv(c.fd, tcp_buffer.data(), tcp_buffer.size(), MSG_PEEK);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n <= 0) { // EOF or reset
      acc.closed(c.id, now());
      close_socket(c);
      return;
    }
    const auto r =
        acc.receive(c.id, std::span(tcp_buffer.data(), static_cast<std::size_t>(n)), now());
    // The bytes are in the socket's buffer already: this read returns them at once.
    if (r.taken > 0) (void)::recv(c.fd, tcp_buffer.data(), r.taken, 0);
    if (r.taken < static_cast<std::size_t>(n)) return;
  }
}

// --- the lamp ---------------------------------------------------------------------------------
// The answer, in room of its own (valid until the next call).
std::string_view lamp_answer(std::string_view cmd) {
  static std::array<char, 32> answer;
  if (cmd == "on") {
    lamp_on = true;
  } else if (cmd == "off") {
    lamp_on = false;
  } else if (cmd.substr(0, 11) == "brightness ") {
    int v = -1;
    const auto digits = cmd.substr(11);
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (ec != std::errc() || end != digits.data() + digits.size() || v < 0 || v > 100)
      return "error: brightness must be 0..100";
    brightness = v;
  } else {
    return "error: unknown command (on, off, brightness N)";
  }
  const int n = std::snprintf(answer.data(), answer.size(), "state %s %d", lamp_on ? "on" : "off",
                              brightness);
  return {answer.data(), static_cast<std::size_t>(n)};
}

void handle_events(fw::accessory& acc, std::string_view device_id) {
  while (auto ev = acc.poll_event()) {
    if (auto* m = std::get_if<fw::events::message>(&*ev)) {
      const std::string_view cmd(reinterpret_cast<const char*>(m->payload.data()),
                                 m->payload.size());
      json_line("message")
          .text("controller", core::format_fingerprint(m->controller).view())
          .text("text", cmd)
          .write(stdout_fd);
      const std::string_view answer = lamp_answer(cmd);
      acc.send(m->controller, std::as_bytes(std::span(answer.data(), answer.size())), now());
    } else if (auto* p = std::get_if<fw::events::paired>(&*ev)) {
      const fw::controller_entry* e = acc.controllers().find(p->controller);
      json_line("paired")
          .text("controller", core::format_fingerprint(p->controller).view())
          .text("name", e ? e->name() : std::string_view{})
          .text("role", p->role == core::paired_role::admin ? "admin" : "user")
          .write(stdout_fd);
    } else if (auto* f = std::get_if<fw::events::pairing_failed>(&*ev)) {
      json_line("pairing_failed")
          .text("controller", core::format_fingerprint(f->controller).view())
          .code("error", f->error)
          .number("attempts_left", f->attempts_left)
          .write(stdout_fd);
    } else if (auto* r = std::get_if<fw::events::session_reset>(&*ev)) {
      json_line("session_reset")
          .text("controller", core::format_fingerprint(r->controller).view())
          .number("unacked", r->unacked)
          .write(stdout_fd);
    } else if (auto* se = std::get_if<fw::events::session_ended>(&*ev)) {
      json_line("session_ended")
          .text("controller", core::format_fingerprint(se->controller).view())
          .code("why", se->why)
          .write(stdout_fd);
    } else if (auto* cc = std::get_if<fw::events::close_connection>(&*ev)) {
      if (tcp_connection* c = find_connection(cc->id)) {
        flush(acc, *c); // best effort: a CLOSE frame or an alert that says why
        close_socket(*c);
      }
      acc.closed(cc->id, now());
      json_line line("connection_closed");
      if (cc->why) line.code("why", cc->why);
      line.write(stdout_fd);
    }
  }
  update_txt(acc, device_id, now());
}

// --- provisioning ------------------------------------------------------------------------------
// The Wi-Fi driver's verdict: the admin hears it; once joined the lamp announces itself on the
// new interface and keeps the network (DIR/wifi) so the next start is not in setup mode.
void provisioning_done(fw::accessory& acc, const lamp::lab_wifi::outcome& o, time_point at) {
  if (o.failure) {
    acc.wifi_failed(*o.failure, at);
    json_line("provisioning")
        .text("state", "failed")
        .text("reason", core::to_string(*o.failure))
        .write(stdout_fd);
    return;
  }
  if (lamp::storage_save(&storage, "wifi", reinterpret_cast<const std::byte*>(o.ssid.data()),
                         o.ssid.size()) != 0) {
    acc.wifi_failed(core::provisioning_failure::timeout, at); // not kept: not joined
    return;
  }
  constexpr std::size_t most = core::provisioning_progress::max_addresses;
  std::array<std::array<char, INET6_ADDRSTRLEN>, most> text{};
  std::array<std::string_view, most> addresses;
  std::size_t count = 0;
  for (const core::mdns_address& a : o.joined.published()) {
    if (a.v6 && a.bytes[0] == 0xfe && (a.bytes[1] & 0xc0) == 0x80) continue; // link-local
    if (count == most) break;
    inet_ntop(a.v6 ? AF_INET6 : AF_INET, a.bytes.data(), text[count].data(), text[count].size());
    addresses[count] = text[count].data();
    ++count;
  }
  acc.wifi_joined(std::span(addresses.data(), count), at);
  // Announce on the joined interface and the other home ones (sockets join their groups anew).
  const std::size_t before = interface_count;
  const auto add = [&](const lamp::network_interface& ni) {
    for (std::size_t i = 0; i < interface_count; ++i)
      if (interfaces[i].index == ni.index) return;
    if (interface_count < interfaces.size()) interfaces[interface_count++] = ni;
  };
  add(o.joined);
  for (std::size_t i = 0; i < later_count; ++i) {
    lamp::network_interface ni;
    lamp::error_sentence why;
    if (!lamp::find_network_interface(later_interfaces[i], ni, why)) add(ni);
  }
  lamp::error_sentence why;
  sockets.close();
  if (!sockets.open({interfaces.data(), interface_count}, why))
    for (std::size_t i = before; i < interface_count; ++i)
      responder.interface_up(at, interfaces[i].index, interfaces[i].published());
  softap_close_at = at + softap_grace;
  if (!operational_payload.empty())
    json_line("payload").text("setup_payload", operational_payload).write(stdout_fd);
  json_line("provisioned")
      .text("ssid", o.ssid)
      .text("interface", o.joined.name_text())
      .write(stdout_fd);
}

// True if the socket's local address is one of the SoftAP interface's.
bool came_through(int fd, const lamp::network_interface& via) {
  sockaddr_storage local{};
  socklen_t len = sizeof local;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) != 0) return false;
  std::array<std::uint8_t, 16> bytes{};
  bool v6 = false;
  if (local.ss_family == AF_INET) {
    std::memcpy(bytes.data(), &reinterpret_cast<sockaddr_in*>(&local)->sin_addr, 4);
  } else {
    const auto& a6 = reinterpret_cast<sockaddr_in6*>(&local)->sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(&a6)) {
      std::memcpy(bytes.data(), a6.s6_addr + 12, 4);
    } else {
      std::memcpy(bytes.data(), a6.s6_addr, 16);
      v6 = true;
    }
  }
  for (const core::mdns_address& a : via.published())
    if (a.v6 == v6 && std::memcmp(a.bytes.data(), bytes.data(), v6 ? 16 : 4) == 0) return true;
  return false;
}

// The grace is over: the SoftAP stops serving. Its connections end; their sessions stay, so
// the apps resume on the home network.
void close_softap(fw::accessory& acc, time_point at) {
  softap_close_at.reset();
  if (!setup_interface) return;
  const lamp::network_interface& ap = interfaces[*setup_interface];
  std::size_t ended = 0;
  for (auto& c : connections)
    if (c.fd >= 0 && came_through(c.fd, ap)) {
      acc.closed(c.id, at);
      close_socket(c);
      ++ended;
    }
  responder.interface_down(at, ap.index);
  json_line("softap_closed")
      .text("interface", ap.name_text())
      .number("connections_ended", ended)
      .write(stdout_fd);
  setup_interface.reset();
}

// One reading to every paired controller's session (a controller without one gets none: its
// app reads the sensor's state when it connects).
void send_reading(fw::accessory& acc, time_point at) {
  next_reading = at + sensor_interval;
  ++reading_n;
  char temperature[32];
  std::snprintf(temperature, sizeof temperature, "%.2f",
                21.0 + 2.0 * std::sin(static_cast<double>(reading_n) / 10.0));
  core::app_message_writer m("reading");
  m.set("n", reading_n).set("temperature_c", temperature);
  const std::string_view text = m.text();
  if (text.empty()) return;
  for (const fw::controller_entry& c : acc.controllers().list())
    acc.send(c.key, std::as_bytes(std::span(text.data(), text.size())), at);
}

// At most a second: the pairing window runs out on the wall clock, which no deadline of the
// accessory's steady clock names, and TXT sf must drop when it does (update_txt each wake-up).
int poll_timeout(time_point deadline, time_point at) noexcept {
  if (deadline <= at) return 0;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(deadline - at).count();
  return static_cast<int>(std::min<decltype(ms)>(ms, 1'000));
}

// --- start-up ---------------------------------------------------------------------------------
struct options {
  std::array<std::string_view, core::mdns_limits::max_interfaces> interfaces{};
  std::size_t interface_count = 0;
  const char* state_dir = nullptr;
  std::uint16_t port = 4433;
  std::string_view device_id = "fw-lamp-1";
  std::string_view host;
  std::string_view instance = "Firmware Lamp";
  std::string_view setup_interface;
};

int usage(const char* problem) {
  std::fprintf(stderr,
               "firmware_lamp: %s\n"
               "usage: firmware_lamp --state-dir DIR [--interface IF ...] [--port N]\n"
               "                     [--device-id ID] [--host NAME] [--instance NAME]\n"
               "                     [--setup-interface IF --network SSID=PASSPHRASE@IFACE ...\n"
               "                      --join-timeout-ms N --softap-grace-ms N]\n",
               problem);
  return 2;
}

int parse(int argc, char** argv, options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--help" || arg == "-h") {
      usage("a lamp accessory on lanyard::firmware and the embedded mDNS responder");
      return 3;
    } else if (arg == "--interface" && has_value) {
      if (o.interface_count == o.interfaces.size()) return usage("too many --interface");
      o.interfaces[o.interface_count++] = argv[++i];
    } else if (arg == "--state-dir" && has_value) {
      o.state_dir = argv[++i];
    } else if (arg == "--port" && has_value) {
      const std::string_view v = argv[++i];
      unsigned value = 0;
      const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), value);
      if (ec != std::errc{} || end != v.data() + v.size() || value == 0 || value > 65535)
        return usage("--port needs a number from 1 to 65535");
      o.port = static_cast<std::uint16_t>(value);
    } else if (arg == "--device-id" && has_value) {
      o.device_id = argv[++i];
    } else if (arg == "--host" && has_value) {
      o.host = argv[++i];
    } else if (arg == "--instance" && has_value) {
      o.instance = argv[++i];
    } else if (arg == "--setup-interface" && has_value) {
      o.setup_interface = argv[++i];
    } else if (arg == "--network" && has_value) {
      if (!wifi.add_network(argv[++i]))
        return usage("--network needs SSID=PASSPHRASE@IFACE (at most 4)");
    } else if ((arg == "--join-timeout-ms" || arg == "--softap-grace-ms" ||
                arg == "--sensor-interval-ms") &&
               has_value) {
      const std::string_view v = argv[++i];
      unsigned value = 0;
      const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), value);
      if (ec != std::errc{} || end != v.data() + v.size())
        return usage("a duration in milliseconds is a number");
      (arg == "--join-timeout-ms"   ? join_timeout
       : arg == "--softap-grace-ms" ? softap_grace
                                    : sensor_interval) = std::chrono::milliseconds(value);
    } else {
      return usage("unknown argument, or an option without its value");
    }
  }
  if (o.interface_count == 0 && o.setup_interface.empty())
    return usage("--interface or --setup-interface is required");
  if (!o.state_dir) return usage("--state-dir is required");
  if (!core::is_valid_device_id(o.device_id)) return usage("--device-id is not a valid device id");
  if (o.host.empty()) o.host = o.device_id;
  return 0;
}

int fail(const char* what, std::string_view why) {
  std::fprintf(stderr, "firmware_lamp: %s: %.*s\n", what, static_cast<int>(why.size()), why.data());
  return 1;
}

int open_listener(std::uint16_t port) {
  const int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const int one = 1;
  const int zero = 0;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero); // IPv4 too
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_port = htons(port);
  a.sin6_addr = in6addr_any;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 16) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// The setup secret: made at the first boot, kept beside the controllers.
bool load_or_make_secret(std::array<std::uint8_t, 16>& secret) {
  std::size_t size = 0;
  const int r = lamp::storage_load(
      &storage, "setup-secret", reinterpret_cast<std::byte*>(secret.data()), secret.size(), &size);
  if (r == 0) return size == secret.size();
  if (r != 1) return false;
  if (random_fill(nullptr, secret.data(), secret.size()) != 0) return false;
  return lamp::storage_save(&storage, "setup-secret",
                            reinterpret_cast<const std::byte*>(secret.data()), secret.size()) == 0;
}

} // namespace

int main(int argc, char** argv) {
  options o;
  if (const int status = parse(argc, argv, o)) return status == 3 ? 0 : status;
  if (::pipe2(stop_pipe, O_NONBLOCK | O_CLOEXEC) != 0) return fail("pipe", std::strerror(errno));
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGTERM, &action, nullptr);
  ::sigaction(SIGINT, &action, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  ::mkdir(o.state_dir, 0700);
  storage.directory = o.state_dir;
  fw::platform plat;
  plat.user = &storage;
  plat.random = {random_fill, nullptr};
  plat.load = lamp::storage_load;
  plat.save = lamp::storage_save;
  plat.wall_clock = wall_clock;
  plat.join_wifi = join_wifi;
  // The identity lives in the platform's storage (two blobs), as on a board without files.
  core::error_detail error;
  tls::identity id = fw::load_or_create_identity(plat, o.device_id, error);
  if (!id) return fail("identity", error.detail);
  tls::context_options tls_options;
  tls_options.entropy = {random_fill, nullptr};
  // Events carry error codes; a failure's sentence would be composed on the heap.
  tls_options.describe_failures = false;
  tls::context ctx = tls::context::create(id, std::move(tls_options), error);
  if (!ctx) return fail("TLS context", error.detail);
  std::array<std::uint8_t, 16> secret{};
  if (!load_or_make_secret(secret))
    return fail("setup secret", "cannot read or write it in the state directory");
  fw::pairing_secrets secrets;
  secrets.setup_secret = secret;
  // Setup mode: a setup interface and no network joined yet (DIR/wifi holds the SSID joined).
  std::array<char, 33> joined_ssid{};
  std::size_t joined_size = 0;
  const int stored_wifi =
      lamp::storage_load(&storage, "wifi", reinterpret_cast<std::byte*>(joined_ssid.data()),
                         joined_ssid.size() - 1, &joined_size);
  if (stored_wifi < 0) return fail("wifi", "cannot read DIR/wifi");
  const bool setup_mode = !o.setup_interface.empty() && stored_wifi == 1;
  fw::accessory_settings settings;
  settings.max_sessions = max_sessions;
  settings.max_pending = max_pending;
  settings.provisioning = setup_mode;
  static std::optional<fw::accessory> acc; // static storage, as on a board
  acc.emplace(ctx, plat, secrets, settings);
  if (const std::error_code ec = acc->start(now()))
    if (ec != core::pairing_errc::too_many_attempts) return fail("start", ec.message());

  // Where to announce: the SoftAP in setup mode; else the home interfaces (--interface, or the
  // one the joined network is on).
  lamp::error_sentence why;
  if (setup_mode) {
    for (std::size_t i = 0; i < o.interface_count; ++i)
      later_interfaces[later_count++] = o.interfaces[i];
    o.interfaces[0] = o.setup_interface;
    o.interface_count = 1;
    setup_interface = 0;
  } else if (o.interface_count == 0) {
    o.interfaces[0] = wifi.interface_of({joined_ssid.data(), joined_size});
    if (o.interfaces[0].empty())
      return fail("interface", "the network in DIR/wifi is none of --network: give --interface");
    o.interface_count = 1;
  }
  for (std::size_t i = 0; i < o.interface_count; ++i)
    if (lamp::find_network_interface(o.interfaces[i], interfaces[i], why))
      return fail("interface", why.text());
  interface_count = o.interface_count;
  listener = open_listener(o.port);
  if (listener < 0) return fail("listen", std::strerror(errno));

  const core::accessory_txt_state st = txt_state(*acc, o.device_id);
  published_txt_size = core::encode_accessory_txt(st, published_txt);
  if (published_txt_size == 0) return fail("TXT", "the device id does not fit");
  core::mdns_responder_config config;
  config.host_name = o.host;
  config.instance_name = o.instance;
  config.service_type = "_lanyard._tcp";
  config.port = o.port;
  config.txt = std::span(published_txt).first(published_txt_size);
  std::uint64_t seed = 0;
  random_fill(nullptr, reinterpret_cast<unsigned char*>(&seed), sizeof seed);
  config.random_seed = seed;
  if (const std::error_code ec = responder.configure(config)) return fail("mDNS", ec.message());
  if (sockets.open({interfaces.data(), interface_count}, why)) return fail("mDNS", why.text());
  for (std::size_t i = 0; i < interface_count; ++i)
    if (const std::error_code ec =
            responder.interface_up(now(), interfaces[i].index, interfaces[i].published()))
      return fail("mDNS", ec.message());

  json_line started("started");
  started.text("device_id", o.device_id)
      .text("fingerprint", core::to_string(id.fingerprint()))
      .number("port", o.port)
      .boolean("pairing_window_open", st.pairing_window_open);
  if (acc->controllers().empty()) {
    // The QR code's text, for the label: only while nobody is paired (setup mode).
    core::setup_payload payload;
    payload.device_id = std::string(o.device_id);
    payload.device_fingerprint = id.fingerprint();
    payload.setup_secret = secret;
    payload.pairing_window_open = st.pairing_window_open;
    if (setup_mode) {
      payload.softap_ssid = "Lanyard-" + std::string(o.device_id);
      payload.needs_provisioning = true;
    }
    std::string text;
    if (!core::encode_setup_payload(payload, text)) {
      started.text("setup_payload", text);
      lamp::storage_save(&storage, "setup-payload", reinterpret_cast<const std::byte*>(text.data()),
                         text.size());
    }
    // The payload once provisioned (no SoftAP any more), printed when that happens, as the
    // simulator does: the label's QR code for a second app.
    payload.softap_ssid.reset();
    payload.needs_provisioning = false;
    payload.pairing_window_open = false;
    if (setup_mode) (void)core::encode_setup_payload(payload, operational_payload);
  }
  started.write(stdout_fd);
  if (sensor_interval.count() > 0) next_reading = now() + sensor_interval;
  // From here on the loop runs in the memory reserved above: "stopped" says how many C++
  // allocations it made (the lab tests require none).
  lamp::allocation_count::start();

  for (;;) {
    const time_point at = now();
    responder.on_timer(at);
    send_due_packets(at);
    report_mdns_events();
    if (acc->next_deadline() <= at) acc->handle_deadline(at);
    if (const auto joined = wifi.poll(at)) provisioning_done(*acc, *joined, at);
    if (softap_close_at && *softap_close_at <= at) close_softap(*acc, at);
    if (next_reading <= at) send_reading(*acc, at);
    handle_events(*acc, o.device_id);
    for (auto& c : connections)
      if (c.fd >= 0) flush(*acc, c);

    std::array<pollfd, 4 + max_sockets> fds{};
    fds[0] = {stop_pipe[0], POLLIN, 0};
    fds[1] = {sockets.ipv4_descriptor(), POLLIN, 0};
    fds[2] = {sockets.ipv6_descriptor(), POLLIN, 0};
    fds[3] = {listener, POLLIN, 0};
    for (std::size_t k = 0; k < max_sockets; ++k) {
      const tcp_connection& c = connections[k];
      const bool pending = c.fd >= 0 && !acc->output(c.id).empty();
      // Not readable while the accessory holds a message (it takes nothing then).
      const bool readable = c.fd >= 0 && acc->wants_input(c.id);
      fds[4 + k] = {c.fd, static_cast<short>((readable ? POLLIN : 0) | (pending ? POLLOUT : 0)), 0};
    }
    const time_point deadline =
        std::min({responder.next_deadline(), acc->next_deadline(), wifi.next_deadline(),
                  softap_close_at.value_or(time_point::max()), next_reading});
    const int ready = ::poll(fds.data(), fds.size(), poll_timeout(deadline, now()));
    if (ready < 0 && errno != EINTR) return fail("poll", std::strerror(errno));
    if (ready <= 0) continue;
    if (fds[0].revents & POLLIN) break;
    if (fds[1].revents & POLLIN) receive_mdns(fds[1].fd);
    if (fds[2].revents & POLLIN) receive_mdns(fds[2].fd);
    if (fds[3].revents & POLLIN) accept_connections(*acc);
    for (std::size_t k = 0; k < max_sockets; ++k) {
      tcp_connection& c = connections[k];
      if (c.fd < 0 || c.fd != fds[4 + k].fd) continue;
      if (fds[4 + k].revents & (POLLIN | POLLHUP | POLLERR)) read_connection(*acc, c);
      if (c.fd >= 0 && (fds[4 + k].revents & POLLOUT)) flush(*acc, c);
    }
  }

  const time_point end = now();
  responder.stop(end);
  const std::size_t goodbyes = send_due_packets(end);
  json_line("stopped")
      .number("goodbye_packets", goodbyes)
      .number("allocations_after_start", lamp::allocation_count::since_start())
      .write(stdout_fd);
  return 0;
}
