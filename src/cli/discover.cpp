#include "discover.hpp"

#include "lanyard/core/channel_error.hpp"
#include "lanyard/discovery/browser.hpp"
#include "lanyard/discovery/client.hpp"
#include "lanyard/discovery/directory.hpp"

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

namespace lanyard::cli {

using asio::ip::tcp;

std::vector<tcp::endpoint> discover_accessory(const std::string& device_id,
                                              std::chrono::seconds timeout,
                                              core::error_detail& error) {
  using namespace lanyard::discovery;
  asio::io_context io;
  client avahi(io.get_executor());
  if (avahi.status()) {
    error = {avahi.status(),
             avahi.status().message() + "; give the accessory's address with --address HOST:PORT"};
    return {};
  }
  browser b(avahi);
  directory dir;
  std::vector<tcp::endpoint> found;
  asio::steady_timer deadline(io);
  asio::steady_timer grace(io);
  bool seen = false;
  auto stop = [&] {
    deadline.cancel();
    grace.cancel();
    b.stop();
    io.stop();
  };
  b.on_event([&](const browse_event& e) {
    dir.apply(e);
    if (seen || !dir.find(device_id)) return;
    // IPv4 and IPv6 instances resolve separately: give the others a moment to arrive, so a
    // path the accessory does not listen on is not the only one tried.
    seen = true;
    grace.expires_after(std::chrono::milliseconds(700));
    grace.async_wait([&](const std::error_code& ec) {
      if (ec) return;
      if (const discovered_accessory* acc = dir.find(device_id))
        for (const auto& p : acc->paths)
          if (p.reachable) found.emplace_back(p.address, p.port);
      stop();
    });
  });
  b.on_error([](std::error_code) {});
  if (auto ec = b.start("_lanyard._tcp", "")) {
    error = {ec, ec.message()};
    return {};
  }
  deadline.expires_after(timeout);
  deadline.async_wait([&](const std::error_code& ec) {
    if (!ec) stop();
  });
  io.run();
  if (found.empty())
    error =
        core::error_detail{core::channel_errc::not_discovered,
                           "no accessory with id \"" + device_id +
                               "\" found on the network within " + std::to_string(timeout.count()) +
                               " s; is it powered and on this network? (or give its address "
                               "with --address HOST:PORT)"}
            .with(core::field_key::device_id, device_id);
  return found;
}

} // namespace lanyard::cli
