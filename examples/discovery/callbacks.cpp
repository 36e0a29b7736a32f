// Advertise a service and browse for its type with callbacks, merging results into the
// directory. Run two copies on two hosts (or one, with avahi-daemon running), stop with ^C.
//
//   discovery_callbacks "Kitchen Lamp" 4433
#include <lanyard/discovery/advertiser.hpp>
#include <lanyard/discovery/browser.hpp>
#include <lanyard/discovery/client.hpp>
#include <lanyard/discovery/directory.hpp>

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace discovery = lanyard::discovery;

int main(int argc, char** argv) {
  const std::string name = argc > 1 ? argv[1] : "Lamp";
  const auto port = static_cast<std::uint16_t>(argc > 2 ? std::atoi(argv[2]) : 4433);

  std::setvbuf(stdout, nullptr, _IOLBF, 0); // one line per event, even into a pipe
  asio::io_context io;
  discovery::client avahi(io.get_executor()); // one connection to avahi-daemon, shared
  avahi.on_status([](std::error_code ec) {
    std::printf("avahi-daemon: %s\n", ec ? ec.message().c_str() : "running");
  });

  // Advertise: validated before anything is sent; "registered" once probing is done.
  discovery::advertiser adv(avahi);
  adv.on_event([](const discovery::advertiser_event& e) {
    switch (e.kind) {
    case discovery::advertiser_event_kind::registered:
      std::printf("registered as '%s'\n", e.name.c_str());
      break;
    case discovery::advertiser_event_kind::renamed:
      std::printf("name taken, now '%s'\n", e.name.c_str());
      break;
    case discovery::advertiser_event_kind::unavailable:
    case discovery::advertiser_event_kind::failed:
      std::printf("advertiser: %s\n", e.error.message().c_str());
      break;
    }
  });
  discovery::service_description service;
  service.name = name;
  service.type = "_lanyard._tcp";
  service.port = port;
  if (auto ec = service.txt.set("id", "example-" + std::to_string(port))) return 1;
  if (auto ec = service.txt.set("pv", "1")) return 1;
  if (auto ec = adv.publish(service)) {
    std::fprintf(stderr, "cannot publish: %s\n", ec.message().c_str());
    return 1;
  }

  // Browse: every event carries the full, resolved instance (TXT always included).
  discovery::browser browser(avahi);
  discovery::directory directory;
  browser.on_event([&](const discovery::browse_event& e) {
    std::printf("%s '%s' on %s (%s): %s:%u, %zu address(es)\n",
                std::string(discovery::to_string(e.kind)).c_str(), e.service.name.c_str(),
                e.service.interface.name.c_str(),
                std::string(lanyard::core::to_string(e.service.interface.kind)).c_str(),
                e.service.host.c_str(), e.service.port, e.service.addresses.size());
    for (const auto& d : directory.apply(e))
      std::printf("  accessory %s: %s (%zu paths)\n", d.accessory.id.c_str(),
                  std::string(discovery::to_string(d.kind)).c_str(), d.accessory.paths.size());
  });
  browser.on_error([](std::error_code ec) {
    if (ec) std::printf("browser: %s\n", ec.message().c_str());
  });
  if (auto ec = browser.start("_lanyard._tcp")) {
    std::fprintf(stderr, "cannot browse: %s\n", ec.message().c_str());
    return 1;
  }

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](std::error_code, int) {
    adv.withdraw(); // goodbye packets now (the destructor would do it too)
    browser.stop();
    io.stop();
  });
  io.run();
}
