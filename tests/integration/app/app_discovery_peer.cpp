// The app side's discovery in the lab: an app::controller, or an app::accessory_browser
// (an app without an identity yet), browsing with the host's real avahi-daemon, printing each
// discovery event as one line, so a script can check what an app sees
// (tests/integration/app/app_discovery_test.sh):
//
//   appeared minimal-1 sf=1 paired=0 reachable=1 instances=1 interfaces=wlan0
//   changed minimal-1 what=txt sf=0 paired=0 reachable=1 instances=4 interfaces=p2p0,wlan0
//   disappeared minimal-1 sf=0 paired=0 reachable=0 instances=0 interfaces=p2p0,wlan0
//
//   app_discovery_peer STATE_DIR      a controller with its state in STATE_DIR
//   app_discovery_peer --browser      an accessory_browser: no state at all
// (until SIGTERM)
#include <lanyard/app/accessory_browser.hpp>
#include <lanyard/app/controller.hpp>
#include <lanyard/core/display_text.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/use_awaitable.hpp>

#include <cstdio>
#include <memory>
#include <set>
#include <string>
#include <string_view>

using namespace lanyard;

namespace {

std::string describe(const app::discovery_event& e) {
  std::string line;
  switch (e.what_happened) {
  case app::discovery_event::kind::appeared:
    line = "appeared";
    break;
  case app::discovery_event::kind::changed:
    line = "changed";
    break;
  case app::discovery_event::kind::disappeared:
    line = "disappeared";
    break;
  case app::discovery_event::kind::discovery_status:
    return std::string("browsing ") + (e.status ? "stopped: " + e.status.message() : "again");
  }
  // Peers' words are escaped before they reach a terminal or a log.
  line += " " + core::display_text(e.info.id);
  if (e.what_happened == app::discovery_event::kind::changed) {
    std::string what;
    if (has(e.what, app::accessory_change::txt)) what += ",txt";
    if (has(e.what, app::accessory_change::paths)) what += ",paths";
    if (has(e.what, app::accessory_change::pairing)) what += ",pairing";
    line += " what=" + what.substr(1);
  }
  std::set<std::string> interfaces;
  for (const auto& p : e.info.paths)
    interfaces.insert(p.interface.name);
  std::string names;
  for (const auto& n : interfaces)
    names += (names.empty() ? "" : ",") + n;
  line +=
      std::string(" sf=") + (e.info.pairing_window_open ? "1" : "0") +
      " paired=" + (e.info.paired ? "1" : "0") + " reachable=" + (e.info.reachable ? "1" : "0") +
      " instances=" + std::to_string(e.info.instances) + " interfaces=" + core::display_text(names);
  return line;
}

// Both offer the same pull: a controller browses with an accessory_browser inside.
template <class Discovery>
asio::awaitable<void> watch(Discovery& d) {
  constexpr auto tuple = asio::experimental::as_tuple(asio::use_awaitable);
  for (;;) {
    auto [ec, e] = co_await d.async_next_discovery_event(tuple);
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) {
      std::printf("error %s\n", ec.message().c_str());
      continue;
    }
    std::printf("%s\n", describe(e).c_str());
  }
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 2)
    return std::fprintf(stderr, "usage: app_discovery_peer STATE_DIR | --browser\n"), 2;
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  asio::io_context io;
  std::unique_ptr<app::controller> ctl;
  std::unique_ptr<app::accessory_browser> browser;
  if (std::string_view(argv[1]) == "--browser") {
    if (auto e = app::accessory_browser::open(io.get_executor(), {}, browser))
      return std::fprintf(stderr, "%s\n", e.message().c_str()), 1;
    std::printf("browsing (accessory_browser, status: %s)\n",
                browser->discovery_status() ? browser->discovery_status().message().c_str()
                                            : "running");
    asio::co_spawn(io, watch(*browser), asio::detached);
  } else {
    app::controller_options o;
    o.state_dir = argv[1];
    o.name = "lab-app";
    if (auto e = app::controller::open(io.get_executor(), o, ctl))
      return std::fprintf(stderr, "%s\n", e.message().c_str()), 1;
    std::printf("browsing (controller)\n");
    asio::co_spawn(io, watch(*ctl), asio::detached);
  }
  asio::signal_set stop(io, SIGINT, SIGTERM);
  stop.async_wait([&](std::error_code, int) { io.stop(); });
  io.run();
}
