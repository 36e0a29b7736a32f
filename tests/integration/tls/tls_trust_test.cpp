// Trust pinning end to end over loopback TCP: Lanyard's TLS streams (real mbedTLS on both
// sides) with the app's real trust store (a file) as the client's pin verifier.
// Verified-first-use pins and the reconnect is an abbreviated handshake; TOFU pins; an impostor
// with the same device id and another key is refused with trust::key_changed, carrying both
// fingerprints, and receives no application data.
#include "support/io_test_support.hpp"

#include <lanyard/tls/stream.hpp>

#include <lanyard/tls_engine/context.hpp>
#include <lanyard/tls_engine/diagnostics.hpp>
#include <lanyard/tls_engine/error.hpp>
#include <lanyard/tls_engine/identity.hpp>
#include <lanyard/tls_engine/identity_files.hpp>
#include <lanyard/trust/error.hpp>
#include <lanyard/trust/trust_store.hpp>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

namespace fs = std::filesystem;
namespace tls = lanyard::tls;
namespace trust = lanyard::trust;
using asio::ip::tcp;
using lanyard::core::fingerprint;

namespace {

struct temp_dir : lanyard::test::temp_dir {
  temp_dir() : lanyard::test::temp_dir("lanyard-tls-trust") {}
};

tls::identity load(const fs::path& dir, const char* id) {
  lanyard::core::error_detail error;
  tls::identity out = tls::identity_files::load_or_create(dir, id, error);
  INFO(error.message());
  REQUIRE(error.ok());
  return out;
}

// An accessory: accepts the one controller key it is given, then echoes one message.
struct accessory {
  tls::context ctx;
  accessory(const tls::identity& id, const fingerprint& controller) : ctx(make(id, controller)) {}
  static tls::context make(const tls::identity& id, fingerprint controller) {
    tls::context_options o;
    o.verifier = [controller](const fingerprint& fp, const tls::peer_cert_info&) {
      return fp == controller ? std::error_code{}
                              : std::make_error_code(std::errc::permission_denied);
    };
    return tls::context(id, o);
  }
};

struct connection_result {
  std::error_code client_ec, server_ec;
  bool resumed = false;
  std::optional<trust::trust_decision> decision;
  // The client stream's last_error() after the handshake (the refusal, as data).
  lanyard::core::error_detail client_error;
  std::error_code server_read_ec;
  std::size_t server_bytes = 0;
  std::string echoed;
};

// One connection: the app's client checks the store (mode/expected), commits the decision
// after a successful handshake, then sends "status?" and reads the echo.
connection_result connect(tls::context& client_ctx, accessory& acc, trust::trust_store& store,
                          trust::trust_mode mode, std::optional<fingerprint> expected) {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  tcp::socket c_sock(io);
  c_sock.connect(acceptor.local_endpoint());
  tls::stream<tcp::socket> client(std::move(c_sock), client_ctx);
  tls::stream<tcp::socket> server(acceptor.accept(), acc.ctx);

  connection_result r;
  client.set_peer_id("lamp-1");
  client.set_verifier([&](const fingerprint& fp, const tls::peer_cert_info&) {
    r.decision = store.check("lamp-1", fp, mode, expected);
    return r.decision->accepted() ? std::error_code{} : r.decision->code;
  });

  std::array<char, 64> server_buf{};
  const std::string msg = "status?";
  client.async_handshake(tls::role::client, [&](std::error_code ec) {
    r.client_ec = ec;
    if (ec) return;
    auto commit = store.commit(*r.decision, "Lamp", std::chrono::system_clock::now());
    CHECK(commit.ok());
    asio::async_write(client, asio::buffer(msg), [&](std::error_code, std::size_t) {
      r.echoed.resize(msg.size());
      asio::async_read(client, asio::buffer(r.echoed), [](std::error_code, std::size_t) {});
    });
  });
  server.async_handshake(tls::role::server, [&](std::error_code ec) {
    r.server_ec = ec;
    // Whatever happened, the accessory tries to read a request.
    server.async_read_some(asio::buffer(server_buf), [&](std::error_code rec, std::size_t n) {
      r.server_read_ec = rec;
      r.server_bytes = n;
      if (!rec)
        asio::async_write(server, asio::buffer(server_buf.data(), n),
                          [](std::error_code, std::size_t) {});
    });
  });
  io.run();
  r.client_error = client.last_error();
  r.resumed = client.resumed() && server.resumed();
  return r;
}

} // namespace

TEST_CASE("trust pinning over TLS: verified first use, resumption, TOFU, impostor",
          "[tls][trust][integration]") {
  temp_dir dir;
  tls::identity lamp = load(dir.path / "lamp", "lamp-1");
  tls::identity impostor = load(dir.path / "impostor", "lamp-1"); // same id, another key
  tls::identity phone = load(dir.path / "phone", "phone-a");
  REQUIRE(lamp.fingerprint() != impostor.fingerprint());

  trust::trust_store store(dir.path / "state" / "trust-store");
  REQUIRE(store.load().ok());
  tls::context phone_ctx(phone, tls::context_options{});
  accessory real(lamp, phone.fingerprint());
  accessory fake(impostor, phone.fingerprint());

  SECTION("verified first use pins; the reconnect resumes; an impostor is refused") {
    // The setup payload's fingerprint is the lamp's.
    auto first =
        connect(phone_ctx, real, store, trust::trust_mode::verified_first_use, lamp.fingerprint());
    REQUIRE(!first.client_ec);
    REQUIRE(!first.server_ec);
    CHECK(first.decision->action == trust::trust_action::pin_new);
    CHECK_FALSE(first.resumed);
    CHECK(first.echoed == "status?");
    auto rec = store.find("lamp-1");
    REQUIRE(rec);
    CHECK(rec->fingerprint == lamp.fingerprint());
    CHECK(rec->method == trust::pin_method::verified_payload);

    auto again = connect(phone_ctx, real, store, trust::trust_mode::strict, std::nullopt);
    REQUIRE(!again.client_ec);
    REQUIRE(!again.server_ec);
    CHECK(again.decision->action == trust::trust_action::accept);
    CHECK(again.resumed); // abbreviated handshake
    CHECK(again.echoed == "status?");

    // The impostor answers under the same id with another key.
    auto attack = connect(phone_ctx, fake, store, trust::trust_mode::tofu, std::nullopt);
    CHECK(attack.client_ec == trust::trust_errc::key_changed);
    REQUIRE(attack.decision);
    CHECK(attack.decision->presented == impostor.fingerprint());
    REQUIRE(attack.decision->pinned);
    CHECK(*attack.decision->pinned == lamp.fingerprint());
    CHECK(attack.decision->code == trust::trust_errc::key_changed);
    // The client's TLS stream says the same as data (the sentence's golden check is
    // trust_store_test's): refused by the pin verifier, on the impostor's key.
    const lanyard::core::error_detail& refusal = attack.client_error;
    CHECK(refusal.code == trust::trust_errc::key_changed);
    CHECK(refusal.text(tls::diag::key::cause) == tls::diag::cause::pin_verifier);
    CHECK(refusal.text(lanyard::core::field_key::fingerprint_presented) ==
          lanyard::core::to_string(impostor.fingerprint()));
    CHECK(refusal.text(lanyard::core::field_key::device_id) == "lamp-1");
    // The impostor never received an application byte.
    CHECK(attack.server_ec);
    CHECK(attack.server_read_ec);
    CHECK(attack.server_bytes == 0);
    CHECK(attack.echoed.empty());
    // The pin is unchanged.
    CHECK(store.find("lamp-1")->fingerprint == lamp.fingerprint());
  }

  SECTION("verified first use refuses a key that does not match the payload") {
    auto r =
        connect(phone_ctx, fake, store, trust::trust_mode::verified_first_use, lamp.fingerprint());
    CHECK(r.client_ec == trust::trust_errc::payload_mismatch);
    CHECK(r.server_bytes == 0);
    CHECK_FALSE(store.find("lamp-1"));
  }

  SECTION("TOFU pins whatever answers first") {
    auto r = connect(phone_ctx, real, store, trust::trust_mode::tofu, std::nullopt);
    REQUIRE(!r.client_ec);
    auto rec = store.find("lamp-1");
    REQUIRE(rec);
    CHECK(rec->fingerprint == lamp.fingerprint());
    CHECK(rec->method == trust::pin_method::tofu);
    CHECK(r.echoed == "status?");
  }

  SECTION("strict mode refuses an unknown device") {
    auto r = connect(phone_ctx, real, store, trust::trust_mode::strict, std::nullopt);
    CHECK(r.client_ec == trust::trust_errc::unknown_device);
    CHECK(r.server_bytes == 0);
  }
}
