// The smallest accessory on Lanyard's accessory API, node::node: a persistent identity, the
// paired controllers and the pairing window, the channel server and a DNS-SD advertisement
// whose TXT record follows the window by itself (sf=1 while an app may pair). It echoes every
// message back to the controller that sent it. On first boot it opens the pairing window and
// prints its setup payload, so `lanyard pair PAYLOAD` can pair with it; pairing closes the
// window again (sf=0).
//
//   build/examples/example_minimal_accessory STATE_DIR [PORT] [--mptcp]
//   (needs avahi-daemon; stop with ^C; --mptcp: Multipath TCP, plain TCP clients still served)
#include <lanyard/node/node.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/use_awaitable.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace lanyard;

constexpr auto awaitable = asio::experimental::as_tuple(asio::use_awaitable);

// One controller's session: every message it sends comes back. Taking the next message only
// after the echo was queued is the flow control: a flood from one app waits in its own
// session, not in this process.
asio::awaitable<void> echo(node::node& n, node::controller_id from) {
  channel::send_options queued; // done once in the session's buffer (it waits for room there)
  queued.completion = channel::send_completion_mode::queued;
  for (;;) {
    auto [ec, m] = co_await n.async_receive(from, awaitable);
    if (ec) co_return; // the session ended (a new one gets its own loop)
    co_await n.async_send(from, m.payload, queued, awaitable);
  }
}

// What the node reports: the window and the TXT record it derives, pairings, sessions, and
// the relay's broker connection.
asio::awaitable<void> watch(node::node& n) {
  for (;;) {
    auto [ec, event] = co_await n.async_next_event(awaitable);
    if (ec) co_return; // closed
    if (auto* s = std::get_if<node::session_event>(&event); s && s->open)
      asio::co_spawn(n.get_executor(), echo(n, s->controller), asio::detached);
    else if (auto* a = std::get_if<node::advertising_event>(&event))
      std::printf("advertising: sf=%s\n", a->txt.find("sf")->value->c_str());
    else if (auto* p = std::get_if<node::pairing_event>(&event))
      std::printf("pairing %s: %s\n", core::to_short_string(p->controller).c_str(),
                  p->error ? p->error.message().c_str() : "paired");
    else if (auto* r = std::get_if<node::relay_event>(&event); r && r->switched_off)
      std::printf("relay: off\n");
    else if (r && !r->settings_by)
      std::printf("relay: %s%s%s\n", std::string(relay::to_string(r->state)).c_str(),
                  r->error ? ": " : "", r->error ? r->error.message().c_str() : "");
  }
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: example_minimal_accessory STATE_DIR [PORT] [--mptcp]\n");
    return 2;
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  node::node_options o;
  o.state_dir = argv[1];
  o.device_id = "minimal-1";
  o.name = "Minimal Accessory";
  const auto port = static_cast<std::uint16_t>(argc > 2 ? std::atoi(argv[2]) : 7443);
  o.listen = {{asio::ip::tcp::v6(), port}};
  if (argc > 3 && std::string(argv[3]) == "--mptcp")
    o.server.transport = link::transport_protocol::mptcp;

  // Identity, setup secrets and controllers are made on first boot and kept in STATE_DIR; a
  // node nobody paired with opens its pairing window. A real product makes the secrets at the
  // factory and prints the code and the payload on its label.
  asio::io_context io;
  std::unique_ptr<node::node> n;
  if (auto e = node::node::open(io.get_executor(), o, n))
    return std::fprintf(stderr, "%s\n", e.message().c_str()), 1;
  if (const auto& code = n->new_setup_code())
    std::printf("setup code (for the label): %s\n", core::to_string(*code).c_str());
  if (n->txt().find("sf")->value == "1")
    std::printf("pairing window open; setup payload: %s\n", n->setup_payload_text().c_str());
  std::printf("listening on port %u as %s\n", n->ports().front(), n->device_id().c_str());

  asio::co_spawn(io, watch(*n), asio::detached);
  asio::signal_set stop(io, SIGINT, SIGTERM);
  stop.async_wait([&](std::error_code, int) {
    n->close(); // goodbye packets: browsers see it leave at once
    io.stop();
  });
  io.run();
}
