// The smallest accessory on Lanyard's accessory API: a persistent identity, the paired
// controllers, the channel server, and a DNS-SD advertisement. It echoes every message back
// to the controller that sent it. On first boot it opens the pairing window and prints its
// setup payload, so `lanyard pair PAYLOAD` can pair with it.
//
//   build/examples/example_minimal_accessory STATE_DIR [PORT] [--mptcp]
//   (needs avahi-daemon; stop with ^C; --mptcp: Multipath TCP, plain TCP clients still served)
#include <lanyard/accessory/server.hpp>
#include <lanyard/core/setup_payload.hpp>
#include <lanyard/discovery/advertiser.hpp>
#include <lanyard/discovery/client.hpp>
#include <lanyard/tls/context.hpp>
#include <lanyard/tls/identity.hpp>
#include <lanyard/trust/controller_store.hpp>
#include <lanyard/trust/setup_credentials.hpp>

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

using namespace lanyard;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: example_minimal_accessory STATE_DIR [PORT] [--mptcp]\n");
    return 2;
  }
  const std::filesystem::path state = argv[1];
  const auto port = static_cast<std::uint16_t>(argc > 2 ? std::atoi(argv[2]) : 7443);
  const bool mptcp = argc > 3 && std::string(argv[3]) == "--mptcp";
  const std::string device_id = "minimal-1";
  std::setvbuf(stdout, nullptr, _IOLBF, 0);

  // 1. Identity: created on first boot, the same key forever after (apps pin it).
  std::error_code ec;
  std::filesystem::create_directories(state, ec);
  if (ec) return std::fprintf(stderr, "%s: %s\n", state.c_str(), ec.message().c_str()), 1;
  core::error_detail identity_error; // code, sentence and fields (file, os_error, mbedtls_error)
  tls::identity me = tls::identity::load_or_create(state / "identity", device_id, identity_error);
  if (identity_error)
    return std::fprintf(stderr, "identity: %s\n", identity_error.message().c_str()), 1;

  // 2. The pairing secrets, made once like the identity: the setup secret (in the QR payload)
  // and the 8-digit setup code, of which only a SPAKE2+ verifier is kept. A real product makes
  // them at the factory and prints the code and payload on its label.
  trust::setup_credentials secrets;
  std::optional<core::setup_code> new_code;
  if (auto s =
          trust::load_or_create_setup_credentials(state / "setup-credentials", secrets, new_code);
      s.failed())
    return std::fprintf(stderr, "setup credentials: %s\n", s.message().c_str()), 1;
  if (new_code) std::printf("setup code (for the label): %s\n", core::to_string(*new_code).c_str());

  // 3. Paired controllers; an accessory nobody paired with opens its pairing window. An app
  // pairs only by proving the payload's secret or the code (server_options::pairing).
  auto controllers = std::make_shared<trust::controller_store>(state / "controllers");
  if (auto s = controllers->load(); s.failed())
    return std::fprintf(stderr, "controllers: %s\n", s.message().c_str()), 1;
  if (controllers->list().empty()) {
    controllers->open_window(std::chrono::system_clock::now());
    core::setup_payload payload;
    payload.device_id = device_id;
    payload.device_fingerprint = me.fingerprint();
    payload.setup_secret = secrets.secret;
    std::string text;
    if (!core::encode_setup_payload(payload, text))
      std::printf("pairing window open; setup payload: %s\n", text.c_str());
  }

  // 4. The channel server: pinned mutual TLS, one resumable session per controller.
  asio::io_context io;
  accessory::server_options options;
  options.pairing.credentials = secrets;
  if (mptcp) options.transport = link::transport_protocol::mptcp;
  accessory::server server(io.get_executor(), tls::context(me), controllers, options);
  server.set_message_handler([&](const accessory::server::controller_id& from, std::uint64_t,
                                 std::span<const std::byte> payload) {
    std::vector<std::byte> copy(payload.begin(), payload.end()); // the echo
    server.async_send(from, copy, [](std::error_code, std::uint64_t) {});
  });
  if (auto lec = server.listen({asio::ip::tcp::v6(), port}))
    return std::fprintf(stderr, "listen on port %u: %s\n", port, lec.message().c_str()), 1;

  // 5. Advertise _lanyard._tcp with the TXT keys apps look for (docs/discovery.md).
  discovery::client avahi(io.get_executor());
  discovery::advertiser adv(avahi);
  discovery::service_description service;
  service.name = "Minimal Accessory";
  service.type = "_lanyard._tcp";
  service.port = port;
  service.txt.set("id", device_id);
  service.txt.set("pv", "1");
  service.txt.set("sf", controllers->list().empty() ? "1" : "0");
  if (auto aec = adv.publish(service))
    return std::fprintf(stderr, "advertise: %s\n", aec.message().c_str()), 1;
  std::printf("listening on port %u as %s\n", port, device_id.c_str());

  asio::signal_set stop(io, SIGINT, SIGTERM);
  stop.async_wait([&](std::error_code, int) {
    adv.withdraw(); // goodbye packets: browsers see it leave at once
    server.close();
    io.stop();
  });
  io.run();
}
