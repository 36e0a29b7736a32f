// firmware_mdns_publish: publishes one DNS-SD service over mDNS the way Lanyard firmware does,
// with the embedded responder (core::mdns_responder) on plain POSIX sockets (mdns_sockets):
// no asio, no Avahi, no threads, no exceptions, no heap in the loop. The seed of the firmware
// lamp example: everything below is what a board's main loop does, with poll() standing in
// for the RTOS's event wait.
//
//   firmware_mdns_publish --interface IF [--interface IF2 ...] --host NAME --instance NAME
//                         --port N [--txt k=v ...]
//
// stdout: one JSON line per event (json_line.hpp): started, announced, host_renamed,
// instance_renamed, conflict, probe_deferred, rate_limited, txt_set, txt_rejected,
// send_failed, stopped. stdin: each line "k=v k2 ..." replaces the TXT record (space-separated
// strings; an empty line is the empty record) and is announced again. SIGTERM / SIGINT: the
// goodbyes (TTL 0) go out, "stopped", exit 0. Errors at start: a sentence on stderr, exit 1
// (2 for bad arguments). Port 5353 needs root or CAP_NET_BIND_SERVICE.
#include "json_line.hpp"
#include "mdns_sockets.hpp"
#include "network_interface.hpp"

#include <lanyard/core/mdns_error.hpp>
#include <lanyard/core/mdns_responder.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string_view>

namespace {

using namespace lanyard;
using lamp::json_line;
using time_point = core::mdns_responder::time_point;

constexpr int stdout_fd = 1;
constexpr int stdin_fd = 0;
// Datagrams read per socket per wake-up: a flood on one socket cannot starve the other, the
// timers or the stop signal.
constexpr int max_reads_per_wakeup = 32;

// The program's whole state, sized at compile time (static storage, as on a board).
core::mdns_responder responder;
lamp::mdns_sockets sockets;
std::array<lamp::network_interface, core::mdns_limits::max_interfaces> interfaces;
std::size_t interface_count = 0;
// RFC 6762 section 17: mDNS packets may be up to 9000 bytes; anything larger is not mDNS.
std::array<std::byte, 9000> receive_buffer;
// What we send stays within an Ethernet MTU less IPv6 and UDP headers.
std::array<std::byte, 1452> send_buffer;
using txt_buffer = std::array<std::uint8_t, core::mdns_limits::max_txt_size>;
txt_buffer txt;
std::size_t txt_size = 0;
std::array<char, 1024> stdin_line;
std::size_t stdin_size = 0;
bool stdin_discarding = false; // a line too long for stdin_line: skip to its end
int stop_pipe[2] = {-1, -1};

time_point now() noexcept {
  return core::mdns_responder::clock::now();
}

// Async-signal-safe: one byte into a non-blocking pipe that poll() watches, so a signal that
// arrives just before poll() still wakes it.
extern "C" void on_stop_signal(int) {
  const int saved = errno;
  const char byte = 1;
  [[maybe_unused]] const ssize_t n = ::write(stop_pipe[1], &byte, 1);
  errno = saved;
}

// Appends one TXT string (length byte + bytes) to `txt`. False if it is longer than 255 bytes
// or the record would outgrow the responder's capacity.
bool append_txt_string(std::string_view s, txt_buffer& out, std::size_t& size) noexcept {
  if (s.size() > 255 || size + 1 + s.size() > out.size()) return false;
  out[size++] = static_cast<std::uint8_t>(s.size());
  std::memcpy(out.data() + size, s.data(), s.size());
  size += s.size();
  return true;
}

// The TXT record's strings as a JSON array.
void add_txt_array(json_line& line, std::span<const std::uint8_t> record) noexcept {
  line.begin_array("txt");
  for (std::size_t i = 0; i < record.size();) {
    const std::size_t n = record[i];
    if (n == 0 || i + 1 + n > record.size()) break; // the empty record, or (never) malformed
    line.array_text({reinterpret_cast<const char*>(record.data() + i + 1), n});
    i += 1 + n;
  }
  line.end_array();
}

std::string_view interface_name(std::uint32_t index) noexcept {
  const lamp::network_interface* i = sockets.find(index);
  return i ? i->name_text() : std::string_view{};
}

const char* event_name(core::mdns_event_kind kind) noexcept {
  switch (kind) {
  case core::mdns_event_kind::announced:
    return "announced";
  case core::mdns_event_kind::host_renamed:
    return "host_renamed";
  case core::mdns_event_kind::instance_renamed:
    return "instance_renamed";
  case core::mdns_event_kind::conflict:
    return "conflict";
  case core::mdns_event_kind::probe_deferred:
    return "probe_deferred";
  case core::mdns_event_kind::rate_limited:
    return "rate_limited";
  }
  return "unknown";
}

void report_events() noexcept {
  while (const auto event = responder.next_event()) {
    json_line line(event_name(event->kind));
    if (event->interface != 0) line.text("interface", interface_name(event->interface));
    // The names in use now: after a rename, the new one.
    line.text("host", responder.host_name()).text("instance", responder.instance_name());
    line.write(stdout_fd);
  }
}

// Sends everything the responder has due; returns how many packets it wrote.
std::size_t send_due_packets(time_point at) noexcept {
  std::size_t count = 0;
  lamp::error_sentence why;
  while (const auto out = responder.next_packet(at, send_buffer)) {
    ++count;
    if (const std::error_code ec = sockets.send(*out, send_buffer, why)) {
      json_line("send_failed")
          .text("interface", interface_name(out->interface))
          .text("error", why.text())
          .write(stdout_fd);
    }
  }
  return count;
}

void receive_from(int descriptor) noexcept {
  lamp::mdns_datagram datagram;
  for (int i = 0; i < max_reads_per_wakeup; ++i) {
    const lamp::mdns_receive_result r = sockets.receive(descriptor, receive_buffer, datagram);
    if (r == lamp::mdns_receive_result::none_waiting) return;
    if (r == lamp::mdns_receive_result::datagram) {
      responder.on_packet(now(), datagram.from,
                          std::span<const std::byte>(receive_buffer).first(datagram.size));
    }
  }
}

const char* txt_error_text(std::error_code ec) noexcept {
  if (ec == core::mdns_errc::txt_too_large)
    return "the TXT record is larger than the responder holds";
  if (ec == core::mdns_errc::invalid_txt) return "not a valid TXT record (RFC 6763 section 6)";
  if (ec == core::mdns_errc::stopped) return "the responder is stopping";
  return "refused";
}

// One stdin line: "k=v k2 ..." replaces the TXT record.
void apply_txt_line(std::string_view line) noexcept {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  txt_buffer record{};
  std::size_t size = 0;
  while (!line.empty()) {
    const std::size_t start = line.find_first_not_of(" \t");
    if (start == std::string_view::npos) break;
    line.remove_prefix(start);
    const std::size_t end = std::min(line.find_first_of(" \t"), line.size());
    if (!append_txt_string(line.substr(0, end), record, size)) {
      json_line("txt_rejected")
          .text("error", "a string over 255 bytes, or more than the responder holds")
          .write(stdout_fd);
      return;
    }
    line.remove_prefix(end);
  }
  if (const std::error_code ec = responder.set_txt(now(), {record.data(), size})) {
    json_line("txt_rejected").text("error", txt_error_text(ec)).write(stdout_fd);
    return;
  }
  txt = record;
  txt_size = size;
  json_line line_out("txt_set");
  add_txt_array(line_out, {txt.data(), txt_size});
  line_out.write(stdout_fd);
}

// Reads what stdin has; returns false at end of input (stop watching it).
bool read_stdin() noexcept {
  const ssize_t n =
      ::read(stdin_fd, stdin_line.data() + stdin_size, stdin_line.size() - stdin_size);
  if (n < 0) return errno == EINTR || errno == EAGAIN;
  if (n == 0) return false;
  stdin_size += static_cast<std::size_t>(n);
  std::size_t start = 0;
  for (std::size_t i = 0; i < stdin_size; ++i) {
    if (stdin_line[i] != '\n') continue;
    if (!stdin_discarding) apply_txt_line({stdin_line.data() + start, i - start});
    stdin_discarding = false;
    start = i + 1;
  }
  std::memmove(stdin_line.data(), stdin_line.data() + start, stdin_size - start);
  stdin_size -= start;
  if (stdin_size == stdin_line.size()) { // no newline in a whole buffer
    if (!stdin_discarding) {
      json_line("txt_rejected").text("error", "line longer than 1023 bytes").write(stdout_fd);
    }
    stdin_discarding = true;
    stdin_size = 0;
  }
  return true;
}

int poll_timeout(time_point deadline, time_point at) noexcept {
  if (deadline == time_point::max()) return -1;
  if (deadline <= at) return 0;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(deadline - at).count();
  return static_cast<int>(std::min<decltype(ms)>(ms, 60'000));
}

void report_started(std::uint16_t port) noexcept {
  json_line line("started");
  line.text("host", responder.host_name()).text("instance", responder.instance_name());
  line.number("port", port);
  add_txt_array(line, {txt.data(), txt_size});
  line.begin_array("interfaces");
  for (std::size_t i = 0; i < interface_count; ++i)
    line.array_text(interfaces[i].name_text());
  line.end_array();
  line.begin_array("addresses");
  std::size_t left_out = 0;
  for (std::size_t i = 0; i < interface_count; ++i) {
    for (const core::mdns_address& a : interfaces[i].published()) {
      char text[INET6_ADDRSTRLEN] = "";
      inet_ntop(a.v6 ? AF_INET6 : AF_INET, a.bytes.data(), text, sizeof text);
      line.array_text(text);
    }
    left_out += interfaces[i].addresses_left_out;
  }
  line.end_array();
  if (left_out > 0) line.number("addresses_left_out", left_out);
  line.write(stdout_fd);
}

std::uint64_t platform_random() noexcept {
  std::uint64_t seed = 0;
  if (::getentropy(&seed, sizeof seed) != 0) {
    seed = static_cast<std::uint64_t>(now().time_since_epoch().count()) ^
           (static_cast<std::uint64_t>(::getpid()) << 32);
  }
  return seed;
}

struct options {
  std::array<std::string_view, core::mdns_limits::max_interfaces> interfaces{};
  std::size_t interface_count = 0;
  std::string_view host;
  std::string_view instance;
  std::uint16_t port = 0;
};

int usage(const char* problem) {
  std::fprintf(stderr,
               "firmware_mdns_publish: %s\n"
               "usage: firmware_mdns_publish --interface IF [--interface IF2 ...] --host NAME\n"
               "                             --instance NAME --port N [--txt k=v ...]\n",
               problem);
  return 2;
}

// Parses the command line; the TXT strings go straight into `txt`. 0, or the exit status.
int parse(int argc, char** argv, options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--help" || arg == "-h") {
      usage("publishes one DNS-SD service with Lanyard's embedded mDNS responder");
      return 3;
    } else if (arg == "--interface" && has_value) {
      const std::string_view name = argv[++i];
      if (o.interface_count == o.interfaces.size()) return usage("too many --interface");
      for (std::size_t k = 0; k < o.interface_count; ++k) {
        if (o.interfaces[k] == name) return usage("the same --interface twice");
      }
      o.interfaces[o.interface_count++] = name;
    } else if (arg == "--host" && has_value) {
      o.host = argv[++i];
    } else if (arg == "--instance" && has_value) {
      o.instance = argv[++i];
    } else if (arg == "--port" && has_value) {
      const std::string_view v = argv[++i];
      unsigned value = 0;
      const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), value);
      if (ec != std::errc{} || end != v.data() + v.size() || value == 0 || value > 65535)
        return usage("--port needs a number from 1 to 65535");
      o.port = static_cast<std::uint16_t>(value);
    } else if (arg == "--txt" && has_value) {
      // --txt a=1 b=2 and --txt a=1 --txt b=2 alike: strings up to the next option
      while (i + 1 < argc && std::string_view(argv[i + 1]).substr(0, 2) != "--") {
        if (!append_txt_string(argv[++i], txt, txt_size))
          return usage("a TXT string is over 255 bytes, or the record over the responder's size");
      }
    } else {
      return usage("unknown argument, or an option without its value");
    }
  }
  if (o.interface_count == 0) return usage("--interface is required");
  if (o.host.empty() || o.instance.empty() || o.port == 0)
    return usage("--host, --instance and --port are required");
  return 0;
}

bool install_stop_signals() noexcept {
  if (::pipe2(stop_pipe, O_NONBLOCK | O_CLOEXEC) != 0) return false;
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  if (::sigaction(SIGTERM, &action, nullptr) != 0 || ::sigaction(SIGINT, &action, nullptr) != 0)
    return false;
  // A closed stdout must not kill us before the goodbyes.
  ::signal(SIGPIPE, SIG_IGN);
  return true;
}

} // namespace

int main(int argc, char** argv) {
  options o;
  if (const int status = parse(argc, argv, o)) return status == 3 ? 0 : status;
  if (!install_stop_signals()) {
    std::fprintf(stderr, "firmware_mdns_publish: cannot install the SIGTERM handler: %s\n",
                 std::strerror(errno));
    return 1;
  }

  lamp::error_sentence why;
  for (std::size_t i = 0; i < o.interface_count; ++i) {
    if (lamp::find_network_interface(o.interfaces[i], interfaces[i], why)) {
      std::fprintf(stderr, "firmware_mdns_publish: %.*s\n", static_cast<int>(why.text().size()),
                   why.text().data());
      return 1;
    }
  }
  interface_count = o.interface_count;

  core::mdns_responder_config config;
  config.host_name = o.host;
  config.instance_name = o.instance;
  config.service_type = "_lanyard._tcp";
  config.port = o.port;
  config.txt = {txt.data(), txt_size};
  config.random_seed = platform_random();
  if (const std::error_code ec = responder.configure(config)) {
    std::fprintf(stderr, "firmware_mdns_publish: %s\n", ec.message().c_str());
    return 2;
  }
  if (sockets.open({interfaces.data(), interface_count}, why)) {
    std::fprintf(stderr, "firmware_mdns_publish: %.*s\n", static_cast<int>(why.text().size()),
                 why.text().data());
    return 1;
  }
  const time_point start = now();
  for (std::size_t i = 0; i < interface_count; ++i) {
    if (const std::error_code ec =
            responder.interface_up(start, interfaces[i].index, interfaces[i].published())) {
      std::fprintf(stderr, "firmware_mdns_publish: %s: %s\n", interfaces[i].name.data(),
                   ec.message().c_str());
      return 1;
    }
  }
  report_started(o.port);

  bool stdin_open = true;
  for (;;) {
    const time_point at = now();
    responder.on_timer(at);
    send_due_packets(at);
    report_events();

    std::array<pollfd, 4> fds{{{stop_pipe[0], POLLIN, 0},
                               {sockets.ipv4_descriptor(), POLLIN, 0},
                               {sockets.ipv6_descriptor(), POLLIN, 0},
                               {stdin_open ? stdin_fd : -1, POLLIN, 0}}};
    const int ready =
        ::poll(fds.data(), fds.size(), poll_timeout(responder.next_deadline(), now()));
    if (ready < 0 && errno != EINTR) {
      std::fprintf(stderr, "firmware_mdns_publish: poll: %s\n", std::strerror(errno));
      return 1;
    }
    if (ready <= 0) continue;
    if (fds[0].revents & POLLIN) break;
    if (fds[1].revents & POLLIN) receive_from(fds[1].fd);
    if (fds[2].revents & POLLIN) receive_from(fds[2].fd);
    if (fds[3].revents & (POLLIN | POLLHUP)) stdin_open = read_stdin();
    if (fds[3].revents & (POLLERR | POLLNVAL)) stdin_open = false;
  }

  // SIGTERM / SIGINT: TTL-0 goodbyes for every record, so that browsers drop the service now
  // rather than when its TTL runs out (RFC 6762 section 10.1).
  const time_point end = now();
  responder.stop(end);
  const std::size_t goodbyes = send_due_packets(end);
  report_events();
  json_line("stopped").number("goodbye_packets", goodbyes).write(stdout_fd);
  return 0;
}
