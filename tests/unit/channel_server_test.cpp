#include <lanyard/accessory/server.hpp>

#include <lanyard/accessory/diagnostics.hpp>
#include <lanyard/channel/error.hpp>
#include <lanyard/client/client_channel.hpp>
#include <lanyard/core/frame.hpp>
#include <lanyard/tls/stream.hpp>
#include <lanyard/tls_engine/context.hpp>
#include <lanyard/tls_engine/identity.hpp>
#include <lanyard/trust/controller_store.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <catch2/catch.hpp>

#include "support/diagnostics_recorder.hpp"
#include "support/io_test_support.hpp"

#include <array>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

// GCC 12 reports a false -Wmismatched-new-delete on asio's awaitable frames.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

using asio::ip::tcp;
using lanyard::accessory::server;
using lanyard::accessory::server_options;
using lanyard::client::channel_state;
using lanyard::client::client_channel;
using lanyard::client::client_options;
using lanyard::tls::context;
using lanyard::tls::identity;
namespace diag = lanyard::accessory::diag;
namespace fk = lanyard::core::field_key;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

using lanyard::test::bytes;
using lanyard::test::make_identity;
using lanyard::test::run_until;
using lanyard::test::text;

struct temp_dir : lanyard::test::temp_dir {
  temp_dir() : lanyard::test::temp_dir("lanyard-server") {}
};

const identity& accessory_id() {
  static const identity id = make_identity("lamp-2");
  return id;
}
const identity& phone_id() {
  static const identity id = make_identity("phone-c");
  return id;
}

struct fixture {
  fixture(server_options opts = {})
      : store(std::make_shared<lanyard::trust::controller_store>(dir.path / "controllers")) {
    REQUIRE(store->load().ok());
    auto now = std::chrono::system_clock::now();
    REQUIRE(store->open_window(now).ok());
    REQUIRE(
        store->pair(phone_id().fingerprint(), "phone", lanyard::trust::controller_role::user, now)
            .ok());
    REQUIRE(store->close_window().ok());
    opts.diagnostics = diags.handler();
    srv = std::make_unique<server>(io.get_executor(), context(accessory_id()), store, opts);
    srv->set_message_handler([this](const server::controller_id&, std::uint64_t,
                                    std::span<const std::byte> p) { received.push_back(text(p)); });
    srv->set_event_handler(
        [this](const server::controller_id&, const lanyard::core::session_event& ev) {
          if (auto* e = std::get_if<lanyard::core::events::established>(&ev)) {
            session_id = e->id;
            ++established;
          }
        });
    REQUIRE(!srv->listen(tcp::endpoint(asio::ip::address_v4::loopback(), 0)));
  }
  client_options phone_options() {
    client_options o;
    o.trust.device_id = "lamp-2";
    o.trust.expected_fingerprint = accessory_id().fingerprint();
    o.backoff.initial = 20ms;
    o.backoff.cap = 200ms;
    return o;
  }

  asio::io_context io;
  temp_dir dir;
  // Declared before the server, whose handler refers to it.
  lanyard::test::diagnostics_recorder diags;
  std::shared_ptr<lanyard::trust::controller_store> store;
  std::unique_ptr<server> srv;
  std::vector<std::string> received;
  lanyard::core::session_id session_id;
  int established = 0;
};

} // namespace

TEST_CASE("server: a new connection of the same controller takes the session over",
          "[channel][server]") {
  fixture f;
  const auto fp = phone_id().fingerprint();
  client_channel ch(f.io.get_executor(), context(phone_id()), f.phone_options());
  std::vector<std::string> got;
  ch.set_message_handler(
      [&](std::uint64_t, std::span<const std::byte> p) { got.push_back(text(p)); });
  ch.start({"127.0.0.1", f.srv->local_endpoint().port()});
  std::optional<std::error_code> sent;
  ch.async_send(bytes("a"), {}, [&](std::error_code ec, std::uint64_t) { sent = ec; });
  REQUIRE(run_until(f.io, [&] { return sent.has_value(); }));
  REQUIRE(!*sent);

  // The same controller connects again (e.g. the app moved to another interface) and resumes
  // the session by id: the server closes the first connection.
  context ctx(phone_id());
  tcp::socket sock(f.io);
  sock.connect(f.srv->local_endpoint());
  lanyard::tls::stream<tcp::socket> s(std::move(sock), ctx);
  s.set_verifier([](const lanyard::core::fingerprint& fpr, const lanyard::tls::peer_cert_info&) {
    return fpr == accessory_id().fingerprint() ? std::error_code{}
                                               : std::make_error_code(std::errc::permission_denied);
  });
  std::optional<std::error_code> hs;
  s.async_handshake(lanyard::tls::role::client, [&](std::error_code ec) { hs = ec; });
  REQUIRE(run_until(f.io, [&] { return hs.has_value(); }));
  REQUIRE(!*hs);
  std::vector<std::byte> hello;
  lanyard::core::encode_frame(lanyard::core::hello_frame{f.session_id, 0, {}}, hello);
  asio::async_write(s, asio::buffer(hello), [](std::error_code, std::size_t) {});
  // Read the WELCOME: it says "resumed".
  std::array<std::byte, 1024> buf{};
  std::optional<bool> resumed;
  std::function<void()> read = [&] {
    s.async_read_some(asio::buffer(buf), [&](std::error_code ec, std::size_t n) {
      if (ec) return;
      // WELCOME: header (6 bytes) then session id (16), flags (1), next expected (8).
      if (n >= 6 + 16 + 1)
        resumed = (static_cast<unsigned>(buf[6 + 16]) & 1u) != 0;
      else
        read();
    });
  };
  read();
  REQUIRE(run_until(f.io,
                    [&] { return resumed.has_value() && f.diags.has(diag::connection_takeover); }));
  CHECK(*resumed);
  // Reported for this controller, from the new connection's address.
  const auto* takeover = f.diags.find(diag::connection_takeover);
  CHECK(takeover->level == lanyard::core::diagnostic_level::notice);
  CHECK(takeover->text_field(fk::controller) == to_string(fp));
  const tcp::endpoint second = s.next_layer().local_endpoint();
  CHECK(takeover->text_field(fk::peer) ==
        second.address().to_string() + ":" + std::to_string(second.port()));
  CHECK(f.srv->session_count() == 1);

  // The app notices, reconnects and takes the session back; nothing was lost.
  std::optional<std::error_code> sent2;
  ch.async_send(bytes("b"), [&](std::error_code ec, std::uint64_t) { sent2 = ec; });
  REQUIRE(run_until(f.io, [&] { return sent2.has_value(); }));
  CHECK(!*sent2);
  CHECK(f.received == std::vector<std::string>{"a", "b"});
  CHECK(f.srv->connected(fp));
}

TEST_CASE("server: a disconnected session is kept for the linger time, then dropped",
          "[channel][server]") {
  server_options so;
  so.session_linger = 300ms;
  fixture f(so);
  const auto fp = phone_id().fingerprint();
  {
    client_channel ch(f.io.get_executor(), context(phone_id()), f.phone_options());
    ch.start({"127.0.0.1", f.srv->local_endpoint().port()});
    std::optional<std::error_code> sent;
    ch.async_send(bytes("hi"), {}, [&](std::error_code ec, std::uint64_t) { sent = ec; });
    REQUIRE(run_until(f.io, [&] { return sent.has_value(); }));
    REQUIRE(!*sent);
  } // destroyed without CLOSE: like an app killed by the OS
  REQUIRE(run_until(f.io, [&] { return !f.srv->connected(fp); }));
  CHECK(f.srv->session_count() == 1); // lingering

  // A push while the app is away waits in the session; it fails when the session expires.
  std::optional<std::error_code> pushed;
  f.srv->async_send(fp, bytes("you there?"),
                    [&](std::error_code ec, std::uint64_t) { pushed = ec; });
  REQUIRE(run_until(f.io, [&] { return pushed.has_value(); }));
  CHECK(*pushed == lanyard::channel::errc::session_expired);
  CHECK(f.srv->session_count() == 0);
  const auto* expired = f.diags.find(diag::session_expired);
  REQUIRE(expired);
  CHECK(expired->code == lanyard::channel::errc::session_expired);
  CHECK(expired->text_field(fk::controller) == to_string(fp));
  CHECK(expired->number(diag::key::linger_ms) == 300);
  CHECK_FALSE(f.diags.has(diag::lingering_session_dropped));
}

TEST_CASE("server and channel sends work with asio::use_awaitable", "[channel][server]") {
  fixture f;
  const auto fp = phone_id().fingerprint();
  client_channel ch(f.io.get_executor(), context(phone_id()), f.phone_options());
  std::vector<std::string> got;
  ch.set_message_handler(
      [&](std::uint64_t, std::span<const std::byte> p) { got.push_back(text(p)); });
  ch.start({"127.0.0.1", f.srv->local_endpoint().port()});
  std::optional<std::error_code> app_ec, push_ec;
  std::uint64_t app_seq = 99;
  asio::co_spawn(
      f.io,
      [&]() -> asio::awaitable<void> {
        std::error_code ec;
        auto m = bytes("from a coroutine");
        app_seq = co_await ch.async_send(m, asio::redirect_error(asio::use_awaitable, ec));
        app_ec = ec;
        auto p = bytes("push from a coroutine");
        co_await f.srv->async_send(fp, p, asio::redirect_error(asio::use_awaitable, ec));
        push_ec = ec;
      },
      asio::detached);
  REQUIRE(run_until(f.io, [&] { return push_ec.has_value(); }));
  CHECK(!*app_ec);
  CHECK(app_seq == 0);
  CHECK(!*push_ec);
  CHECK(f.received == std::vector<std::string>{"from a coroutine"});
  CHECK(got == std::vector<std::string>{"push from a coroutine"});
}
