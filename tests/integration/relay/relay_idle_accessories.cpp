// relay_idle_accessories: COUNT idle accessories on one relay broker, for lanyard-bench relay's
// measure of what one Mosquitto process holds (docs/PERFORMANCE.md). Each is what a provisioned
// node keeps while nobody talks to it: one relay::mqtt_client (TLS, keep-alive) as its own
// account idle<i>, subscribed to its inbox lanyard/v1/idle<i>/<inbox>, all on one io_context.
// Connections start in batches (--batch, every 100 ms), as many accessories booting do not all
// start in the same millisecond. Prints "connected N" each time the count of connected ones
// grows by a batch, "all connected N <seconds>" once every one is, then stays until killed (the
// broker's memory is read meanwhile); "timeout N" and exit 1 after --timeout.
//
//   relay_idle_accessories --host H --ca FILE --count N --password P [--batch B] [--timeout S]
#include <lanyard/relay/mqtt_client.hpp>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

using namespace lanyard;

int main(int argc, char** argv) {
  relay::mqtt_settings base;
  long count = 0, batch = 50, timeout_s = 300;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--host")
      base.host = v;
    else if (a == "--ca")
      base.ca_file = v;
    else if (a == "--password")
      base.password = v;
    else if (a == "--count")
      count = std::atol(v.c_str());
    else if (a == "--batch")
      batch = std::atol(v.c_str());
    else if (a == "--timeout")
      timeout_s = std::atol(v.c_str());
    else {
      std::fprintf(stderr, "relay_idle_accessories: unknown option %s\n", a.c_str());
      return 2;
    }
  }
  if (base.host.empty() || base.ca_file.empty() || count <= 0 || batch <= 0) {
    std::fprintf(stderr, "usage: relay_idle_accessories --host H --ca FILE --count N "
                         "--password P [--batch B] [--timeout S]\n");
    return 2;
  }
  asio::io_context io;
  std::vector<std::unique_ptr<relay::mqtt_client>> clients;
  long connected = 0, reported = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (long i = 0; i < count; ++i) {
    relay::mqtt_settings s = base;
    s.username = "idle" + std::to_string(i);
    auto c = std::make_unique<relay::mqtt_client>(io.get_executor(), s);
    c->on_state([&, was = std::make_shared<bool>(false)](relay::mqtt_state st, std::error_code) {
      const bool now = st == relay::mqtt_state::connected;
      if (now == *was) return;
      *was = now;
      connected += now ? 1 : -1;
      if (connected >= reported + batch || connected == count) {
        reported = connected;
        std::printf("connected %ld\n", connected);
        if (connected == count)
          std::printf("all connected %ld %.3f\n", connected,
                      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        std::fflush(stdout);
      }
    });
    (void)c->subscribe("lanyard/v1/" + s.username + "/AAAAAAAAAAAAAAAAAAAAAAAAAA");
    clients.push_back(std::move(c));
  }
  asio::steady_timer starter(io), give_up(io);
  long started = 0;
  std::function<void()> start_batch = [&] {
    for (long k = 0; k < batch && started < count; ++k, ++started)
      (void)clients[static_cast<std::size_t>(started)]->start();
    if (started < count) {
      starter.expires_after(std::chrono::milliseconds(100));
      starter.async_wait([&](std::error_code ec) {
        if (!ec) start_batch();
      });
    }
  };
  start_batch();
  give_up.expires_after(std::chrono::seconds(timeout_s));
  give_up.async_wait([&](std::error_code ec) {
    if (ec || connected == count) return;
    std::printf("timeout %ld\n", connected);
    std::fflush(stdout);
    std::exit(1);
  });
  io.run();
}
