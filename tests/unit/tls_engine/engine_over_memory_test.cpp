// lanyard::tls_engine on its own, as the firmware target links it: two engines (a controller's
// client and an accessory's server) over byte buffers, no socket and no asio. The
// core-freestanding preset builds this with -fno-exceptions -fno-rtti; src/tls_engine/no_asio.hpp
// is forced into it (and into the library's sources), so an asio header anywhere on the way
// fails the build.
#include <lanyard/tls_engine/engine.hpp>

#include <lanyard/core/error_condition.hpp>
#include <lanyard/core/error_detail.hpp>
#include <lanyard/core/fingerprint.hpp>
#include <lanyard/tls_engine/context.hpp>
#include <lanyard/tls_engine/error.hpp>
#include <lanyard/tls_engine/identity.hpp>
#include <lanyard/tls_engine/peer_verifier.hpp>
#include <lanyard/tls_engine/role.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <system_error>
#include <vector>

// Linking any module that uses asio (lanyard::tls and above) brings its ASIO_STANDALONE
// definition with it: this target must link lanyard::tls_engine alone.
#if defined(ASIO_STANDALONE)
#error "a module that uses asio is linked into the tls_engine test: link lanyard::tls_engine only"
#endif

using lanyard::core::fingerprint;
using lanyard::tls::context;
using lanyard::tls::context_options;
using lanyard::tls::engine;
using lanyard::tls::identity;
using lanyard::tls::peer_cert_info;
using lanyard::tls::role;
using lanyard::tls::tls_errc;
using want = engine::want;

namespace {

identity make_identity(const char* device_id) {
  std::error_code ec;
  identity id = identity::generate(device_id, ec);
  REQUIRE(!ec);
  return id;
}

// The pin the code base uses: the peer's key fingerprint must be the one pinned, or the
// verifier refuses with its own code (here permission_denied; the trust store's key_changed in
// the app).
context pinned_context(const identity& self, const fingerprint& pinned) {
  context_options o;
  o.verifier = [pinned](const fingerprint& presented, const peer_cert_info&) -> std::error_code {
    if (presented == pinned) return {};
    return std::make_error_code(std::errc::permission_denied);
  };
  lanyard::core::error_detail error;
  context ctx = context::create(self, std::move(o), error);
  REQUIRE(!error);
  return ctx;
}

// The network: moves up to `chunk` bytes of `from`'s ciphertext into `to`'s input, so records
// arrive in pieces as they would from a socket.
constexpr std::size_t chunk = 61;

std::size_t deliver(engine& from, engine& to, std::size_t limit = chunk) {
  std::span<const std::uint8_t> out = from.output();
  const std::size_t n = std::min(out.size(), limit);
  if (n == 0) return 0;
  std::span<std::uint8_t> in = to.prepare_input(n);
  std::memcpy(in.data(), out.data(), n);
  to.commit_input(n);
  from.consume_output(n);
  return n;
}

void deliver_all(engine& from, engine& to) {
  while (deliver(from, to) != 0) {
  }
}

// Both handshakes until each completed or failed; what is left in flight is delivered.
void handshake(engine& client, engine& server, std::error_code& cec, std::error_code& sec) {
  bool c_done = false, s_done = false;
  for (int round = 0; round < 10000 && !(c_done && s_done); ++round) {
    if (!c_done) {
      const want w = client.handshake(role::client, cec);
      c_done = cec || w == want::output || w == want::nothing;
    }
    deliver(client, server);
    if (!s_done) {
      const want w = server.handshake(role::server, sec);
      s_done = sec || w == want::output || w == want::nothing;
    }
    deliver(server, client);
  }
  REQUIRE(c_done);
  REQUIRE(s_done);
  deliver_all(client, server);
  deliver_all(server, client);
}

// Writes `data` on `from` and reads on `to` until all of it arrived (or nothing moves).
std::vector<std::uint8_t> send(engine& from, engine& to, std::span<const std::uint8_t> data) {
  std::vector<std::uint8_t> got;
  std::size_t sent = 0;
  std::array<std::uint8_t, 1000> buf{};
  for (int round = 0; round < 100000 && got.size() < data.size(); ++round) {
    std::error_code ec;
    std::size_t n = 0;
    if (sent < data.size()) {
      from.write(data.subspan(sent), n, ec);
      REQUIRE(!ec);
      sent += n;
    }
    deliver(from, to, 4096);
    n = 0;
    to.read(buf, n, ec);
    REQUIRE(!ec);
    got.insert(got.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
  }
  return got;
}

struct pair_fixture {
  identity accessory = make_identity("lamp-1");
  identity controller = make_identity("phone-a");
  engine client{pinned_context(controller, accessory.fingerprint())};
  engine server{pinned_context(accessory, controller.fingerprint())};
};

} // namespace

TEST_CASE_METHOD(pair_fixture,
                 "two engines over memory: pinned handshake, data both ways, close_notify",
                 "[tls_engine]") {
  std::error_code cec, sec;
  handshake(client, server, cec, sec);
  REQUIRE(!cec);
  REQUIRE(!sec);
  REQUIRE(client.handshake_done());
  REQUIRE(server.handshake_done());
  // Mutual: each side verified the other's pinned key.
  CHECK(client.peer_fingerprint() == accessory.fingerprint());
  CHECK(server.peer_fingerprint() == controller.fingerprint());
  CHECK(client.peer_subject() == "lamp-1");
  CHECK(server.peer_subject() == "phone-a");
  CHECK(client.alpn_protocol() == "lanyard/1");
  CHECK_FALSE(client.resumed());
  // Both ends derive the same pairing exporter.
  REQUIRE(client.exporter().has_value());
  REQUIRE(server.exporter().has_value());
  CHECK(std::ranges::equal(*client.exporter(), *server.exporter()));

  // Controller to accessory: a small message.
  const std::array<std::uint8_t, 7> on{'l', 'i', 'g', 'h', 't', '=', '1'};
  CHECK(send(client, server, on) == std::vector<std::uint8_t>(on.begin(), on.end()));

  // Accessory to controller: more than two records (16 KiB each), arriving in pieces.
  std::vector<std::uint8_t> big(40000);
  for (std::size_t i = 0; i < big.size(); ++i)
    big[i] = static_cast<std::uint8_t>(i * 7 + 3);
  CHECK(send(server, client, big) == big);

  // The controller closes: the accessory's read ends with the engine's own code, and keeps
  // saying so; the end of the transport after it is that same orderly close, not a truncation.
  std::error_code ec;
  CHECK(client.shutdown(ec) == want::output);
  CHECK(!ec);
  deliver_all(client, server);
  std::array<std::uint8_t, 64> buf{};
  std::size_t n = 99;
  const want w = server.read(buf, n, ec);
  CHECK((w == want::nothing || w == want::output));
  CHECK(n == 0);
  CHECK(ec == tls_errc::closed_by_peer);
  server.read(buf, n, ec);
  CHECK(ec == tls_errc::closed_by_peer);
  CHECK(server.transport_closed() == tls_errc::closed_by_peer);

  // Its stable name and condition (docs/design/error-model.md §2.3).
  const std::error_code closed = tls_errc::closed_by_peer;
  CHECK(lanyard::core::code_string(closed) == "lanyard.tls.closed_by_peer");
  CHECK(closed == lanyard::core::condition::transient);
  CHECK_FALSE(closed == lanyard::core::condition::permanent);
}

TEST_CASE_METHOD(pair_fixture, "a key other than the pinned one is refused before any data",
                 "[tls_engine]") {
  const identity impostor = make_identity("lamp-1");
  engine to_impostor{pinned_context(controller, accessory.fingerprint())};
  engine impostor_server{pinned_context(impostor, controller.fingerprint())};
  std::error_code cec, sec;
  handshake(to_impostor, impostor_server, cec, sec);
  // The client's verifier refused: its own code, unchanged; the server hears the alert.
  CHECK(cec == std::errc::permission_denied);
  CHECK(sec == tls_errc::peer_rejected_certificate);
  CHECK(to_impostor.peer_fingerprint() == impostor.fingerprint());
  CHECK_FALSE(to_impostor.handshake_done());

  std::size_t n = 0;
  std::error_code ec;
  const std::array<std::uint8_t, 1> byte{1};
  CHECK(to_impostor.write(byte, n, ec) == want::nothing);
  CHECK(ec == tls_errc::not_connected);
  CHECK(n == 0);
}
