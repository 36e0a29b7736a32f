// The same with C++20 coroutines: co_await the registration, then the browse events.
//
//   discovery_coroutine "Kitchen Lamp" 4433
#include <lanyard/discovery/advertiser.hpp>
#include <lanyard/discovery/browser.hpp>
#include <lanyard/discovery/client.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/signal_set.hpp>
#include <asio/use_awaitable.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace discovery = lanyard::discovery;

asio::awaitable<void> advertise(discovery::advertiser& adv, std::string name, std::uint16_t port) {
  discovery::service_description service;
  service.name = std::move(name);
  service.type = "_lanyard._tcp";
  service.port = port;
  (void)service.txt.set("id", "example-" + std::to_string(port));
  (void)service.txt.set_flag("sf"); // a boolean attribute
  std::error_code ec;
  // Completes once the entry group is established, with the final (possibly renamed) name.
  std::string registered =
      co_await adv.async_publish(service, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    std::printf("publish failed: %s\n", ec.message().c_str());
    co_return;
  }
  std::printf("registered as '%s'\n", registered.c_str());
}

asio::awaitable<void> browse(discovery::browser& browser) {
  if (auto ec = browser.start("_lanyard._tcp")) {
    std::printf("cannot browse: %s\n", ec.message().c_str());
    co_return;
  }
  for (;;) {
    std::error_code ec;
    discovery::browse_event e =
        co_await browser.async_next(asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted) co_return; // browser stopped
    if (ec) {                                            // e.g. daemon_unavailable: goes on
      std::printf("browser: %s\n", ec.message().c_str());
      continue;
    }
    std::printf("%s '%s' on %s port %u, TXT id=%s\n",
                std::string(discovery::to_string(e.kind)).c_str(), e.service.name.c_str(),
                e.service.interface.name.c_str(), e.service.port,
                e.service.txt.find("id") && e.service.txt.find("id")->value
                    ? e.service.txt.find("id")->value->c_str()
                    : "-");
  }
}

int main(int argc, char** argv) {
  const std::string name = argc > 1 ? argv[1] : "Lamp";
  const auto port = static_cast<std::uint16_t>(argc > 2 ? std::atoi(argv[2]) : 4433);

  std::setvbuf(stdout, nullptr, _IOLBF, 0); // one line per event, even into a pipe
  asio::io_context io;
  discovery::client avahi(io.get_executor());
  discovery::advertiser adv(avahi);
  discovery::browser browser(avahi);

  asio::co_spawn(io, advertise(adv, name, port), asio::detached);
  asio::co_spawn(io, browse(browser), asio::detached);

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](std::error_code, int) {
    adv.withdraw();
    browser.stop(); // completes the pending async_next with operation_aborted
    // The Avahi connection keeps the io_context busy: stop it once the coroutines are done.
    asio::post(io, [&] { io.stop(); });
  });
  io.run();
}
