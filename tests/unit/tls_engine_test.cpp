#include <lanyard/tls/engine.hpp>

#include <lanyard/tls/context.hpp>
#include <lanyard/tls/error.hpp>
#include <lanyard/tls/identity.hpp>

#include <asio/error.hpp>

#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <string_view>

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

context make_context(const identity& self, const identity& peer) {
  context_options o;
  o.verifier = [expected = peer.fingerprint()](const fingerprint& fp,
                                               const peer_cert_info&) -> std::error_code {
    return fp == expected ? std::error_code{} : std::make_error_code(std::errc::permission_denied);
  };
  return context(self, o);
}

// Moves all ciphertext `from` has produced into `to`'s input: the network, in memory.
std::size_t transfer(engine& from, engine& to) {
  auto out = from.output();
  std::size_t n = out.size();
  if (n == 0) return 0;
  auto in = to.prepare_input(n);
  std::memcpy(in.data(), out.data(), n);
  to.commit_input(n);
  from.consume_output(n);
  return n;
}

struct pair_fixture {
  identity accessory = make_identity("lamp-1");
  identity controller = make_identity("phone-a");
  engine client{make_context(controller, accessory)};
  engine server{make_context(accessory, controller)};

  void handshake(std::error_code& cec, std::error_code& sec) {
    bool c_done = false, s_done = false;
    for (int round = 0; round < 50 && !(c_done && s_done); ++round) {
      if (!c_done) {
        want w = client.handshake(role::client, cec);
        c_done = cec || w == want::output || w == want::nothing;
      }
      transfer(client, server);
      if (!s_done) {
        want w = server.handshake(role::server, sec);
        s_done = sec || w == want::output || w == want::nothing;
      }
      transfer(server, client);
    }
    REQUIRE(c_done);
    REQUIRE(s_done);
  }
};

} // namespace

TEST_CASE_METHOD(pair_fixture, "two engines handshake and exchange data without any I/O",
                 "[tls][engine]") {
  std::error_code ec;
  std::size_t n = 0;
  std::array<std::uint8_t, 64> buf{};
  // Nothing works before the handshake.
  CHECK(client.read(buf, n, ec) == want::nothing);
  CHECK(ec == tls_errc::not_connected);

  // The client's first step produces a ClientHello and waits for input.
  CHECK(client.handshake(role::client, ec) == want::output_and_retry);
  CHECK(!ec);
  CHECK_FALSE(client.output().empty());
  CHECK(client.output()[0] == 22); // TLS record type handshake

  std::error_code cec, sec;
  handshake(cec, sec);
  REQUIRE(!cec);
  REQUIRE(!sec);
  CHECK(client.handshake_done());
  CHECK(server.handshake_done());
  CHECK(client.peer_fingerprint() == accessory.fingerprint());
  CHECK(server.peer_fingerprint() == controller.fingerprint());
  CHECK(client.alpn_protocol() == "lanyard/1");

  // A second handshake on the same engine is refused.
  CHECK(client.handshake(role::client, ec) == want::nothing);
  CHECK(ec == tls_errc::already_handshaken);

  // No input yet: read wants input.
  CHECK(server.read(buf, n, ec) == want::input_and_retry);
  CHECK(!ec);

  const std::string_view msg = "hello accessory";
  auto bytes = std::span(reinterpret_cast<const std::uint8_t*>(msg.data()), msg.size());
  CHECK(client.write(bytes, n, ec) == want::output);
  CHECK(!ec);
  CHECK(n == msg.size());
  // The ciphertext is not the plaintext.
  std::string wire(reinterpret_cast<const char*>(client.output().data()), client.output().size());
  CHECK(wire.find(msg) == std::string::npos);
  transfer(client, server);
  CHECK(server.read(buf, n, ec) == want::nothing);
  CHECK(!ec);
  CHECK(std::string_view(reinterpret_cast<const char*>(buf.data()), n) == msg);

  // take_output hands over the bytes and leaves the engine empty.
  CHECK(server.write(bytes, n, ec) == want::output);
  std::vector<std::uint8_t> taken;
  server.take_output(taken);
  CHECK_FALSE(taken.empty());
  CHECK(server.output().empty());

  // close_notify ends the peer's reads with eof.
  CHECK(client.shutdown(ec) == want::output);
  transfer(client, server);
  CHECK(server.read(buf, n, ec) == want::nothing);
  CHECK(ec == asio::error::eof);
}

TEST_CASE_METHOD(pair_fixture, "a tampered record is detected and fails the connection",
                 "[tls][engine]") {
  std::error_code cec, sec;
  handshake(cec, sec);
  REQUIRE(!cec);
  REQUIRE(!sec);

  std::error_code ec;
  std::size_t n = 0;
  const std::string_view msg = "turn on";
  auto bytes = std::span(reinterpret_cast<const std::uint8_t*>(msg.data()), msg.size());
  REQUIRE(client.write(bytes, n, ec) == want::output);
  std::vector<std::uint8_t> record;
  client.take_output(record);
  record.back() ^= 0x01; // flip one bit of the AEAD tag
  auto in = server.prepare_input(record.size());
  std::memcpy(in.data(), record.data(), record.size());
  server.commit_input(record.size());

  std::array<std::uint8_t, 64> buf{};
  server.read(buf, n, ec);
  CHECK(ec == tls_errc::bad_record);
  CHECK(n == 0);
  CHECK_FALSE(server.last_error_detail().empty());
  // The connection stays failed.
  server.read(buf, n, ec);
  CHECK(ec == tls_errc::not_connected);
}
