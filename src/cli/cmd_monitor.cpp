// lanyard monitor [--json]: prints the host's interface, address and default-route events (the
// path monitor's view, with interface kinds) until SIGINT/SIGTERM.
#include "command.hpp"
#include "json.hpp"
#include "lanyard/link/interface_kind.hpp"
#include "lanyard/link/path_monitor.hpp"

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>

#include <csignal>
#include <cstdio>
#include <string>

namespace lanyard::cli {
namespace {

using namespace lanyard::link;

void fail_line(const std::string& reason) {
  std::fprintf(stderr, "lanyard monitor: %s\n", reason.c_str());
}

std::string plain(const asio::ip::address& a) {
  auto s = a.to_string();
  if (auto pct = s.find('%'); pct != std::string::npos) s.resize(pct);
  return s;
}

void write_interface(json_writer& w, const network_interface& i, bool available) {
  w.key("interface").begin_object();
  w.key("index").value(static_cast<std::uint64_t>(i.index));
  w.key("name").value(is_utf8(i.name) ? std::string_view(i.name) : std::string_view("?"));
  w.key("kind").value(to_string(i.kind));
  w.key("up").value(i.up());
  w.key("available").value(available);
  w.key("admin_up").value(i.admin_up);
  w.key("running").value(i.running);
  w.key("oper_state").value(to_string(i.operational));
  w.end_object();
}

void write_address(json_writer& w, const interface_address& a) {
  w.key("address").begin_object();
  w.key("address").value(plain(a.address));
  w.key("family").value(a.address.is_v6() ? "ipv6" : "ipv4");
  w.key("prefix_length").value(static_cast<unsigned>(a.prefix_length));
  w.key("scope").value(to_string(a.scope));
  w.key("tentative").value(a.tentative);
  w.key("deprecated").value(a.deprecated);
  w.key("dad_failed").value(a.dad_failed);
  w.end_object();
}

std::string json_line(const path_event& ev, bool available) {
  json_writer w;
  w.begin_object();
  w.key("event").value(to_string(ev.type));
  if (ev.type != path_event_type::snapshot_complete && ev.type != path_event_type::events_lost &&
      ev.iface.index != 0)
    write_interface(w, ev.iface, available);
  if (ev.address) write_address(w, *ev.address);
  if (ev.route) {
    w.key("route").begin_object();
    w.key("family").value(ev.route->ipv6 ? "ipv6" : "ipv4");
    w.key("interface_index").value(static_cast<std::uint64_t>(ev.route->interface_index));
    if (ev.route->gateway)
      w.key("gateway").value(plain(*ev.route->gateway));
    else
      w.key("gateway").null();
    w.key("metric").value(static_cast<std::uint64_t>(ev.route->metric));
    w.end_object();
  }
  w.end_object();
  return w.str();
}

std::string text_line(const path_event& ev) {
  std::string s(to_string(ev.type));
  s.resize(std::max<std::size_t>(s.size(), 22), ' ');
  if (ev.iface.index != 0) {
    s += describe(ev.iface) + " #" + std::to_string(ev.iface.index);
    s += ev.iface.up() ? " up" : " down";
  }
  if (ev.address) {
    s += " " + plain(ev.address->address) + "/" + std::to_string(ev.address->prefix_length) +
         " scope " + std::string(to_string(ev.address->scope));
    if (ev.address->tentative) s += " tentative";
    if (ev.address->deprecated) s += " deprecated";
    if (ev.address->dad_failed) s += " dadfailed";
  }
  if (ev.route) {
    s += ev.route->ipv6 ? " default (IPv6)" : " default (IPv4)";
    if (ev.route->gateway) s += " via " + plain(*ev.route->gateway);
    s += " metric " + std::to_string(ev.route->metric);
  }
  return s;
}

int run(const parsed_args& args) {
  if (auto bad = check_interface_kind_overrides(); !bad.empty()) {
    fail_line(bad);
    return 2;
  }
  std::string error;
  path_monitor_settings settings;
  if (auto v = args.value("grace-ms")) {
    auto ms = parse_integer(*v, 0, 3'600'000, "--grace-ms", error);
    if (!ms) return fail_line(error), 2;
    settings.debounce.down_grace = std::chrono::milliseconds(*ms);
  }
  if (auto v = args.value("hold-down-ms")) {
    auto ms = parse_integer(*v, 0, 3'600'000, "--hold-down-ms", error);
    if (!ms) return fail_line(error), 2;
    settings.debounce.up_hold_down = std::chrono::milliseconds(*ms);
  }
  std::optional<long long> timeout;
  if (auto v = args.value("timeout")) {
    timeout = parse_integer(*v, 1, 86'400 * 365, "--timeout", error);
    if (!timeout) return fail_line(error), 2;
  }
  const bool json = args.has("json");

  asio::io_context io;
  path_monitor monitor(io.get_executor(), settings);
  if (auto e = monitor.start()) {
    fail_line(e.message());
    return 1;
  }
  int status = 0;
  asio::signal_set signals(io, SIGINT, SIGTERM);
  asio::steady_timer deadline(io);
  auto stop_all = [&] {
    monitor.stop();
    signals.cancel();
    deadline.cancel();
  };
  signals.async_wait([&](std::error_code ec, int) {
    if (!ec) stop_all();
  });
  if (timeout) {
    deadline.expires_after(std::chrono::seconds(*timeout));
    deadline.async_wait([&](std::error_code ec) {
      if (!ec) stop_all();
    });
  }
  std::function<void()> next = [&] {
    monitor.async_next_event([&](std::error_code ec, path_event ev) {
      if (ec) {
        if (ec != asio::error::operation_aborted) {
          fail_line("interface monitoring failed: " + ec.message());
          status = 1;
          stop_all();
        }
        return;
      }
      const auto line = json ? json_line(ev, ev.available) : text_line(ev);
      std::fprintf(stdout, "%s\n", line.c_str());
      std::fflush(stdout); // one event per line, visible at once to a pipe
      next();
    });
  };
  next();
  io.run();
  return status;
}

const command cmd{
    "monitor",
    "print network interface, address and default-route events with interface kinds",
    "usage: lanyard monitor [--json] [options]\n"
    "\n"
    "Watches the host's interfaces over rtnetlink and prints one line per event until SIGINT or\n"
    "SIGTERM: first the current state (interface_added, address_added, default_route_added),\n"
    "then snapshot_complete, then changes as they happen:\n"
    "  interface_added / interface_removed     an interface appeared / disappeared\n"
    "  interface_up / interface_down           the raw link state changed (kernel's view)\n"
    "  interface_available / _unavailable      the debounced state changed (what connections\n"
    "                                          act on: down after the grace, up after the\n"
    "                                          hold-down)\n"
    "  address_added / _removed / _changed     an IPv4/IPv6 address (flags: tentative...)\n"
    "  default_route_added / _removed          a default route\n"
    "  events_lost                             output fell behind; state was re-read\n"
    "\n"
    "options:\n"
    "  --json               one JSON object per line: event, interface {index, name, kind, up,\n"
    "                       available, admin_up, running, oper_state}, address {address,\n"
    "                       family, prefix_length, scope, tentative, deprecated, dad_failed},\n"
    "                       route {family, interface_index, gateway, metric}\n"
    "  --grace-ms MS        debounce: report a link down after it stayed down MS (default 20)\n"
    "  --hold-down-ms MS    debounce: report a link up after it stayed up MS (default 3000)\n"
    "  --timeout SECONDS    stop after SECONDS (exit status 0)\n"
    "\n"
    "Interface kinds come from the kernel and LANYARD_INTERFACE_KINDS (wlan0=wifi,p2p0=p2p).\n",
    arg_spec{{{"json", false, false},
              {"grace-ms", true, false},
              {"hold-down-ms", true, false},
              {"timeout", true, false}},
             0,
             0},
    run,
};
const command_registrar reg{cmd};

} // namespace
} // namespace lanyard::cli
