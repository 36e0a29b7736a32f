// lanyard browse TYPE [--interface IF] [--timeout SECONDS] [--json] [--directory] [--wait]:
// prints DNS-SD service instances (or, with --directory, accessories) as they come and go.
//
// Two views, on two layers:
// - --directory, the accessory view, runs on app::accessory_browser, the product API an app
//   lists accessories with: instances merged by TXT id across interfaces, address families
//   and instance names, with their TXT record. It needs no identity and no trust store, so
//   nothing is read or created. Its lines are the discovery directory's event kinds, rebuilt
//   per accessory from the app's events (accessory_lines.hpp): scripts and the lab tests read
//   them, as when this command fed a directory itself.
// - Without it, each DNS-SD instance (interface x mDNS protocol, host, port, addresses, TXT) of
//   any TYPE, on discovery::browser: the lower-level diagnostic, like avahi-browse, that shows
//   what the accessory view merges, and works for types whose instances carry no device id.
//   It stays the default for _lanyard._tcp too: the same command line must not change its
//   output under the scripts and tests that parse instance lines (interface, protocol, host).
// The daemon's status (daemon_unavailable / daemon_available): discovery::browser reports it
// both ways (on_error); app::accessory_browser as discovery_status events, after what
// discovery_status() said at start.
#include "accessory_lines.hpp"
#include "command.hpp"
#include "discovery_output.hpp"
#include "json.hpp"
#include "lanyard/app/accessory_browser.hpp"
#include "lanyard/core/display_text.hpp"
#include "lanyard/discovery/browser.hpp"
#include "lanyard/discovery/client.hpp"
#include "lanyard/discovery/error.hpp"
#include "lanyard/link/interface_kind.hpp"
#include "report.hpp"

#include <asio/error.hpp>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <pthread.h>

namespace lanyard::cli {
namespace {

using namespace lanyard::discovery;

std::string browse_json(const browse_event& e) {
  const service_instance& s = e.service;
  json_writer w;
  w.begin_object();
  w.key("event").value(to_string(e.kind));
  write_time_ms(w);
  w.key("name").value(std::string_view(s.name));
  w.key("type").value(std::string_view(s.type));
  w.key("domain").value(std::string_view(s.domain));
  write_interface(w, s.interface);
  w.key("protocol").value(to_string(s.protocol));
  w.key("host").value(std::string_view(s.host));
  w.key("port").value(static_cast<unsigned>(s.port));
  w.key("addresses").begin_array();
  for (const auto& a : s.addresses)
    w.value(a.to_string());
  w.end_array();
  w.key("txt");
  write_txt(w, s.txt);
  if (e.kind == browse_event_kind::updated) {
    w.key("changed").begin_array();
    if (e.txt_changed) w.value("txt");
    if (e.addresses_changed) w.value("addresses");
    if (e.endpoint_changed) w.value("endpoint");
    w.end_array();
  }
  w.end_object();
  return w.str();
}

std::string browse_text(const browse_event& e) {
  const service_instance& s = e.service;
  std::string addrs;
  for (const auto& a : s.addresses)
    addrs += (addrs.empty() ? "" : ",") + a.to_string();
  // Names, host and TXT come from whoever answers on the network: escaped for the terminal.
  return std::string(to_string(e.kind)) + " '" + core::display_text(s.name) + "' " + s.type + "." +
         core::display_text(s.domain) + " on " + s.interface.name + " (" +
         std::string(core::to_string(s.interface.kind)) + ") " +
         std::string(to_string(s.protocol)) + " " + core::display_text(s.host) + ":" +
         std::to_string(s.port) + " [" + addrs + "] " + txt_text(s.txt);
}

void print_line(const std::string& line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout); // one event per line, visible at once to a pipe
}

int fail(const std::string& reason, int code) {
  std::fprintf(stderr, "lanyard browse: %s\n", reason.c_str());
  return code;
}

// avahi-daemon went away (ec) or is back (empty): a JSON line for scripts, a line on stderr
// for people.
void print_status(bool json, std::error_code ec) {
  if (json) {
    json_writer w;
    w.begin_object();
    w.key("event").value(ec ? "daemon_unavailable" : "daemon_available");
    if (ec) {
      write_code(w, ec); // what a script checks; the message is for people
      w.key("message").value(ec.message());
    }
    w.end_object();
    print_line(w.str());
  }
  if (ec)
    std::fprintf(stderr, "lanyard browse: %s; browsing resumes when it is back\n",
                 ec.message().c_str());
  else
    std::fprintf(stderr, "lanyard browse: avahi-daemon is back, browsing again\n");
}

// Runs `io` until SIGINT, SIGTERM or `timeout` seconds; `stop` ends what keeps it busy.
void run_until_stopped(asio::io_context& io, std::optional<long long> timeout,
                       const std::function<void()>& stop) {
  asio::signal_set signals(io, SIGINT, SIGTERM);
  asio::steady_timer deadline(io);
  auto end = [&] {
    signals.cancel();
    deadline.cancel();
    stop();
    io.stop();
  };
  signals.async_wait([&](const std::error_code& ec, int) {
    if (!ec) end();
  });
  if (timeout) {
    deadline.expires_after(std::chrono::seconds(*timeout));
    deadline.async_wait([&](const std::error_code& ec) {
      if (!ec) end();
    });
  }
  io.run();
}

// Each DNS-SD instance, on discovery::browser.
int browse_instances(const parsed_args& args, bool json, std::optional<long long> timeout) {
  asio::io_context io;
  client avahi(io.get_executor());
  if (avahi.status() && !args.has("wait")) return fail(avahi.status().message(), 1);
  browser b(avahi);
  b.on_event([&](const browse_event& e) { print_line(json ? browse_json(e) : browse_text(e)); });
  b.on_error([&](std::error_code ec) { print_status(json, ec); });
  if (auto ec = b.start(args.positional[0], args.value("interface").value_or("")))
    return fail(ec.message(), 2);
  run_until_stopped(io, timeout, [&] { b.stop(); });
  return 0;
}

// Accessories merged by id, on app::accessory_browser.
int browse_accessories(const parsed_args& args, bool json, std::optional<long long> timeout) {
  asio::io_context io;
  app::accessory_browser_options o;
  o.service_type = args.positional[0];
  o.interface = args.value("interface").value_or("");
  std::unique_ptr<app::accessory_browser> b;
  if (auto e = app::accessory_browser::open(io.get_executor(), o, b)) return fail(e.message(), 2);
  const std::error_code at_start = b->discovery_status();
  if (at_start && !args.has("wait")) return fail(at_start.message(), 1);
  if (at_start) print_status(json, at_start);

  accessory_lines lines(json);
  std::function<void()> next = [&] {
    b->async_next_discovery_event([&](std::error_code ec, app::discovery_event e) {
      if (ec == asio::error::operation_aborted) return;
      if (ec)
        std::fprintf(stderr, "lanyard browse: %s\n", ec.message().c_str());
      else if (e.what_happened == app::discovery_event::kind::discovery_status)
        print_status(json, e.status); // the daemon went, or is back
      else
        for (const auto& line : lines.apply(e))
          print_line(line);
      next();
    });
  };
  next();
  run_until_stopped(io, timeout, [&] { b->cancel(); });
  return 0;
}

int run(const parsed_args& args) {
  if (auto bad = link::check_interface_kind_overrides(); !bad.empty()) return fail(bad, 2);
  std::optional<long long> timeout;
  if (auto t = args.value("timeout")) {
    std::string error;
    timeout = parse_integer(*t, 1, 86400 * 365, "--timeout", error);
    if (!timeout) return fail(error, 2);
  }

  // SIGINT/SIGTERM must reach asio::signal_set even if our parent left them blocked.
  sigset_t stops;
  sigemptyset(&stops);
  sigaddset(&stops, SIGINT);
  sigaddset(&stops, SIGTERM);
  ::pthread_sigmask(SIG_UNBLOCK, &stops, nullptr);

  const bool json = args.has("json");
  return args.has("directory") ? browse_accessories(args, json, timeout)
                               : browse_instances(args, json, timeout);
}

const command cmd{
    "browse",
    "list DNS-SD services (or accessories) as they come and go",
    "usage: lanyard browse TYPE [options]\n"
    "\n"
    "Browses for TYPE (e.g. _lanyard._tcp, or a subtype: _setup._sub._lanyard._tcp) through\n"
    "avahi-daemon and prints one line per event: added (fully resolved: host, port, every\n"
    "address, TXT), updated (TXT, addresses or host/port changed), removed. Runs until SIGINT\n"
    "or SIGTERM, or for --timeout seconds. If avahi-daemon restarts, browsing resumes by itself.\n"
    "\n"
    "options:\n"
    "  --interface IF      browse on interface IF only (name or index; default: all)\n"
    "  --timeout SECONDS   stop after SECONDS (exit status 0)\n"
    "  --json              one JSON object per line: event, time_ms (Unix ms), name, type,\n"
    "                      domain, interface, interface_index, interface_kind, protocol,\n"
    "                      host, port, addresses,\n"
    "                      txt (boolean keys true, values strings, non-UTF-8 values\n"
    "                      {\"base64\": \"...\"}), changed (updated only); daemon status as\n"
    "                      {\"event\": \"daemon_unavailable\"|\"daemon_available\"}\n"
    "  --directory         print accessories instead (what an app lists: instances merged by\n"
    "                      TXT id across interfaces and address families) as events added,\n"
    "                      updated, path_added, path_removed, removed, ... with their paths\n"
    "                      and TXT; with --json: event, time_ms, id, name, instances,\n"
    "                      reachable, txt, paths, path (path events only)\n"
    "  --wait              wait for avahi-daemon instead of failing when it is not running\n"
    "\n"
    "Interface kinds come from the kernel and LANYARD_INTERFACE_KINDS (wlan0=wifi,p2p0=p2p).\n",
    arg_spec{{{"interface", true, false},
              {"timeout", true, false},
              {"json", false, false},
              {"directory", false, false},
              {"wait", false, false}},
             1,
             1},
    run,
};
const command_registrar reg{cmd};

} // namespace
} // namespace lanyard::cli
