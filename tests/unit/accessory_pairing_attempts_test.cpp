#include <lanyard/accessory/server.hpp>

#include <lanyard/tls/context.hpp>
#include <lanyard/tls/error.hpp>
#include <lanyard/tls/identity.hpp>
#include <lanyard/tls/stream.hpp>
#include <lanyard/trust/controller_store.hpp>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include <catch2/catch.hpp>

#include "support/io_test_support.hpp"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

// The pairing window's attempt limit, end to end: real mbedTLS on both sides, the real
// accessory server, the controller store on disk. A would-be controller that refuses the
// accessory's key (it holds a wrong setup payload) is a failed pairing attempt; after 20 of
// them the window is closed and the 21st — even with the right payload — is refused during the
// handshake. The count lives in the store's file, so a restart does not reopen the window.

using asio::ip::tcp;
using lanyard::tls::identity;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

using lanyard::test::make_identity;
using lanyard::test::run_until;

struct temp_dir : lanyard::test::temp_dir {
  temp_dir() : lanyard::test::temp_dir("lanyard-attempts") {}
};

} // namespace

TEST_CASE("the 21st failed pairing attempt finds the window closed, also after a restart",
          "[accessory][pairing]") {
  const identity accessory = make_identity("lamp-21");
  const identity stranger = make_identity("phone-21");
  temp_dir dir;
  asio::io_context io;
  auto store = std::make_shared<lanyard::trust::controller_store>(dir.path / "controllers");
  REQUIRE(store->load().ok());
  REQUIRE(store->first_boot());
  REQUIRE(store->open_window(std::chrono::system_clock::now()).ok()); // setup mode

  lanyard::accessory::server_options opts;
  std::vector<std::string> log;
  opts.log = [&](std::string_view line) { log.emplace_back(line); };
  lanyard::accessory::server srv(io.get_executor(), lanyard::tls::context(accessory), store, opts);
  REQUIRE(!srv.listen(tcp::endpoint(asio::ip::address_v4::loopback(), 0)));

  // One connection attempt by `stranger`; `payload_matches` decides whether it accepts the
  // accessory's key (a wrong payload makes the app abort the handshake).
  auto attempt = [&](bool payload_matches) {
    lanyard::tls::context ctx(stranger);
    tcp::socket sock(io);
    sock.connect(srv.local_endpoint());
    lanyard::tls::stream<tcp::socket> s(std::move(sock), ctx);
    s.set_verifier([&](const lanyard::core::fingerprint& fp, const lanyard::tls::peer_cert_info&) {
      return payload_matches && fp == accessory.fingerprint()
                 ? std::error_code{}
                 : std::make_error_code(std::errc::permission_denied);
    });
    std::optional<std::error_code> result;
    s.async_handshake(lanyard::tls::role::client, [&](std::error_code ec) { result = ec; });
    REQUIRE(run_until(io, [&] { return result.has_value(); }));
    return *result;
  };

  for (std::uint32_t i = 1; i <= 20; ++i) {
    CHECK(attempt(false) == std::errc::permission_denied);
    // The server records the failure when its side of the handshake ends.
    INFO("attempt " << i << ", server log: " << (log.empty() ? "" : log.back()));
    REQUIRE(run_until(io, [&] { return store->window().failed_attempts >= i; }));
  }
  CHECK(store->window().failed_attempts == 20);
  CHECK_FALSE(store->window().open);

  // The 21st attempt has the right payload, but the window is closed: refused in the handshake.
  const std::error_code ec = attempt(true);
  CHECK(ec == lanyard::tls::tls_errc::peer_rejected_certificate);
  CHECK(store->list().empty());

  // A restart reads the count back: the window stays closed.
  lanyard::trust::controller_store reloaded(dir.path / "controllers");
  REQUIRE(reloaded.load().ok());
  CHECK_FALSE(reloaded.window().open);
  CHECK(reloaded.window().failed_attempts == 20);
  CHECK(reloaded.list().empty());
}
