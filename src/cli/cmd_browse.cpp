// lanyard browse TYPE [--interface IF] [--timeout SECONDS] [--json] [--directory]: prints
// DNS-SD service instances (or, with --directory, accessories) as they come and go.
//
// Not on app::controller (issue 14): its discovery reports accessories merged by id, where
// this command prints each DNS-SD instance (interface x protocol, host, addresses) of any TYPE
// and on one --interface only; --directory prints the number of instances merged and
// daemon_available, which accessory_info and the discovery events do not carry; and opening a
// controller loads or creates an identity and a trust store, which browsing never needs.
#include "command.hpp"
#include "json.hpp"
#include "lanyard/core/display_text.hpp"
#include "lanyard/discovery/browser.hpp"
#include "lanyard/discovery/client.hpp"
#include "lanyard/discovery/directory.hpp"
#include "lanyard/link/interface_kind.hpp"
#include "report.hpp"

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <pthread.h>

namespace lanyard::cli {
namespace {

using namespace lanyard::discovery;

// TXT as a JSON object: boolean attributes true, UTF-8 values as strings, anything else as
// {"base64": "..."} (the marker documented in docs/discovery.md).
void write_txt(json_writer& w, const core::txt_record& txt) {
  w.begin_object();
  for (const auto& e : txt) {
    w.key(e.key);
    if (!e.value) {
      w.value(true);
    } else if (is_utf8(*e.value)) {
      w.value(std::string_view(*e.value));
    } else {
      w.begin_object();
      w.key("base64");
      w.value(base64({reinterpret_cast<const std::uint8_t*>(e.value->data()), e.value->size()}));
      w.end_object();
    }
  }
  w.end_object();
}

std::string txt_text(const core::txt_record& txt) {
  std::string out;
  for (const auto& e : txt) {
    if (!out.empty()) out += ' ';
    out += e.key;
    if (!e.value) continue;
    out += '=';
    if (is_utf8(*e.value)) {
      out += core::display_text(*e.value); // valid UTF-8 may still carry ESC and bidi controls
    } else {
      out += "base64:" +
             base64({reinterpret_cast<const std::uint8_t*>(e.value->data()), e.value->size()});
    }
  }
  return out;
}

void write_interface(json_writer& w, const interface_info& i) {
  w.key("interface").value(std::string_view(i.name));
  w.key("interface_index").value(i.index);
  w.key("interface_kind").value(core::to_string(i.kind));
}

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

void write_path(json_writer& w, const accessory_path& p) {
  w.begin_object();
  write_interface(w, p.interface);
  w.key("address").value(p.address.to_string());
  w.key("port").value(static_cast<unsigned>(p.port));
  w.key("reachable").value(p.reachable);
  w.end_object();
}

std::string directory_json(const directory_event& e) {
  json_writer w;
  w.begin_object();
  w.key("event").value(to_string(e.kind));
  write_time_ms(w);
  w.key("id").value(std::string_view(e.accessory.id));
  w.key("name").value(std::string_view(e.accessory.name));
  w.key("instances").value(static_cast<std::uint64_t>(e.accessory.instances));
  w.key("reachable").value(e.accessory.reachable());
  w.key("txt");
  write_txt(w, e.accessory.txt);
  w.key("paths").begin_array();
  for (const auto& p : e.accessory.paths)
    write_path(w, p);
  w.end_array();
  if (e.kind != directory_event_kind::added && e.kind != directory_event_kind::updated &&
      e.kind != directory_event_kind::removed) {
    w.key("path");
    write_path(w, e.path);
  }
  w.end_object();
  return w.str();
}

std::string directory_text(const directory_event& e) {
  std::string out =
      std::string(to_string(e.kind)) + " " + e.accessory.id + " '" + e.accessory.name + "'";
  if (e.kind == directory_event_kind::added || e.kind == directory_event_kind::updated ||
      e.kind == directory_event_kind::removed) {
    out += " paths:";
    for (const auto& p : e.accessory.paths)
      out += " " + p.interface.name + "/" + p.address.to_string() + ":" + std::to_string(p.port) +
             (p.reachable ? "" : "(unreachable)");
  } else {
    out += " " + e.path.interface.name + "/" + e.path.address.to_string() + ":" +
           std::to_string(e.path.port);
  }
  return out;
}

void print_line(const std::string& line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout); // one event per line, visible at once to a pipe
}

int run(const parsed_args& args) {
  auto fail = [](const std::string& reason, int code) {
    std::fprintf(stderr, "lanyard browse: %s\n", reason.c_str());
    return code;
  };
  if (auto bad = link::check_interface_kind_overrides(); !bad.empty()) return fail(bad, 2);
  const bool json = args.has("json");
  const bool as_directory = args.has("directory");
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

  asio::io_context io;
  client avahi(io.get_executor());
  if (avahi.status() && !args.has("wait")) return fail(avahi.status().message(), 1);
  browser b(avahi);
  directory dir;
  int status = 0;

  b.on_event([&](const browse_event& e) {
    if (!as_directory) {
      print_line(json ? browse_json(e) : browse_text(e));
      return;
    }
    for (const auto& de : dir.apply(e))
      print_line(json ? directory_json(de) : directory_text(de));
  });
  b.on_error([&](std::error_code ec) {
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
  });
  if (auto ec = b.start(args.positional[0], args.value("interface").value_or("")))
    return fail(ec.message(), 2);

  asio::signal_set signals(io, SIGINT, SIGTERM);
  asio::steady_timer deadline(io);
  auto stop = [&] {
    signals.cancel();
    deadline.cancel();
    b.stop();
    io.stop();
  };
  signals.async_wait([&](const std::error_code& ec, int) {
    if (!ec) stop();
  });
  if (timeout) {
    deadline.expires_after(std::chrono::seconds(*timeout));
    deadline.async_wait([&](const std::error_code& ec) {
      if (!ec) stop();
    });
  }
  io.run();
  return status;
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
    "  --directory         merge instances by TXT id into accessories and print accessory\n"
    "                      events (added, updated, path_added, path_removed, removed, ...)\n"
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
