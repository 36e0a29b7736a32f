// The channel's path racer on loopback with real TLS: a path whose TCP connects but whose TLS
// stalls does not win, refused paths move on at once, a wrong key is a refusal that is not
// masked by other paths' failures, and cancel() completes with operation_aborted.
#include "client/path_racer.hpp"

#include "support/io_test_support.hpp"

#include <lanyard/core/channel_error.hpp>
#include <lanyard/tls/stream.hpp>
#include <lanyard/trust/error.hpp>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/write.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>

using namespace lanyard;
using namespace std::chrono_literals;
using asio::ip::tcp;
using channel::detail::tls_stream;
using client::detail::path_racer;
using client::detail::path_target;
using client::detail::race_outcome;
using client::detail::race_settings;

namespace {

const tls::identity& accessory_id() {
  static tls::identity id = test::make_identity("acc-race");
  return id;
}
const tls::identity& impostor_id() {
  static tls::identity id = test::make_identity("acc-race");
  return id;
}
const tls::identity& app_id() {
  static tls::identity id = test::make_identity("app-race");
  return id;
}

// A TLS server presenting `id` that accepts any client certificate.
struct tls_server {
  tcp::acceptor acceptor;
  tls::context ctx;
  std::vector<std::unique_ptr<tls_stream>> streams;
  tls_server(asio::io_context& io, const tls::identity& id)
      : acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0)), ctx(id) {
    accept();
  }
  void accept() {
    acceptor.async_accept([this](std::error_code ec, tcp::socket s) {
      if (ec) return;
      auto st = std::make_unique<tls_stream>(std::move(s), ctx);
      st->set_verifier(
          [](const core::fingerprint&, const tls::peer_cert_info&) { return std::error_code(); });
      st->async_handshake(tls::role::server, [](std::error_code) {});
      streams.push_back(std::move(st));
      accept();
    });
  }
  std::uint16_t port() const { return acceptor.local_endpoint().port(); }
};

// Accepts TCP and never says a word: the TLS handshake stalls.
struct silent_server {
  tcp::acceptor acceptor;
  std::vector<tcp::socket> held;
  explicit silent_server(asio::io_context& io)
      : acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0)) {
    acceptor.async_accept([this](std::error_code ec, tcp::socket s) {
      if (!ec) held.push_back(std::move(s));
    });
  }
  std::uint16_t port() const { return acceptor.local_endpoint().port(); }
};

// A loopback port with nothing listening.
std::uint16_t closed_port(asio::io_context& io) {
  tcp::acceptor a(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  return a.local_endpoint().port();
}

path_target target(std::uint16_t port) {
  path_target t;
  t.path.address = "127.0.0.1";
  t.path.interface_name = "lo";
  t.path.kind = core::interface_kind::loopback;
  t.endpoint = tcp::endpoint(asio::ip::address_v4::loopback(), port);
  return t;
}

client::trust_options pinned_to(const tls::identity& id) {
  client::trust_options t;
  t.device_id = "acc-race";
  t.expected_fingerprint = id.fingerprint();
  return t;
}

std::optional<race_outcome> race(asio::io_context& io, std::vector<path_target> targets,
                                 race_settings s = {50ms, 5000ms}) {
  auto r = std::make_shared<path_racer>(io.get_executor(), tls::context(app_id()),
                                        pinned_to(accessory_id()), s);
  std::optional<race_outcome> out;
  r->start(std::move(targets), [&](race_outcome o) { out = std::move(o); });
  REQUIRE(test::run_until(io, [&] { return out.has_value(); }));
  return out;
}

} // namespace

TEST_CASE("path_racer: a path whose TLS stalls loses to the next one", "[channel]") {
  asio::io_context io;
  silent_server stall(io);
  tls_server real(io, accessory_id());
  auto out = race(io, {target(stall.port()), target(real.port())});
  REQUIRE_FALSE(out->error);
  CHECK(out->winner == 1);
  REQUIRE(out->stream);
  CHECK(out->failures.empty()); // the stalled attempt was aborted, not failed
}

TEST_CASE("path_racer: a refused path moves on at once and is reported", "[channel]") {
  asio::io_context io;
  const auto closed = closed_port(io);
  tls_server real(io, accessory_id());
  // A long delay: only the failure can start the second attempt before the bound.
  auto out = race(io, {target(closed), target(real.port())}, {30000ms, 5000ms});
  REQUIRE_FALSE(out->error);
  CHECK(out->winner == 1);
  REQUIRE(out->failures.size() == 1);
  CHECK(out->failures[0].index == 0);
  CHECK(out->failures[0].error == asio::error::connection_refused);
  CHECK(out->failures[0].step == "tcp_connect");
  // The one golden sentence of a failed attempt (a person reads it in the channel's log).
  CHECK(out->failures[0].what ==
        "TCP connect to 127.0.0.1 port " + std::to_string(closed) +
            " via lo (loopback) failed: " + out->failures[0].error.message());
}

TEST_CASE("path_racer: every path failing loses with the last error", "[channel]") {
  asio::io_context io;
  auto out = race(io, {target(closed_port(io)), target(closed_port(io))});
  CHECK(out->error == asio::error::connection_refused);
  CHECK(out->failures.size() == 2);
  CHECK_FALSE(out->stream);
}

TEST_CASE("path_racer: a refusal on every path is final", "[channel]") {
  asio::io_context io;
  tls_server impostor(io, impostor_id());
  tls_server impostor2(io, impostor_id());
  auto out = race(io, {target(impostor.port()), target(impostor2.port())});
  CHECK(out->error == trust::trust_errc::payload_mismatch);
  CHECK(path_racer::is_refusal(out->error));
  CHECK(out->failures.size() == 2);
}

TEST_CASE("path_racer: an impostor next to an unreachable accessory cannot make it final",
          "[channel]") {
  asio::io_context io;
  tls_server impostor(io, impostor_id());
  auto out = race(io, {target(impostor.port()), target(closed_port(io))});
  CHECK(out->error == asio::error::connection_refused); // the channel waits and retries
  CHECK_FALSE(path_racer::is_refusal(out->error));
  REQUIRE(out->failures.size() == 2);
  CHECK(std::any_of(out->failures.begin(), out->failures.end(), [](const auto& f) {
    return f.error == trust::trust_errc::payload_mismatch; // logged, not lost
  }));
}

TEST_CASE("path_racer: the real accessory wins over an impostor on another path", "[channel]") {
  asio::io_context io;
  tls_server impostor(io, impostor_id());
  tls_server real(io, accessory_id());
  auto out = race(io, {target(impostor.port()), target(real.port())});
  REQUIRE_FALSE(out->error);
  CHECK(out->winner == 1);
  REQUIRE(out->failures.size() == 1);
  CHECK(out->failures[0].error == trust::trust_errc::payload_mismatch);
  CHECK(out->failures[0].step == "tls_handshake");
}

TEST_CASE("path_racer: no targets, and cancel", "[channel]") {
  asio::io_context io;
  auto none = race(io, {});
  CHECK(none->error == core::channel_errc::no_viable_path);

  silent_server stall(io);
  auto r = std::make_shared<path_racer>(io.get_executor(), tls::context(app_id()),
                                        pinned_to(accessory_id()), race_settings{});
  std::optional<race_outcome> out;
  r->start({target(stall.port())}, [&](race_outcome o) { out = std::move(o); });
  REQUIRE(test::run_until(io, [&] { return !stall.held.empty(); }));
  r->cancel();
  CHECK_FALSE(out); // never inside the call
  REQUIRE(test::run_until(io, [&] { return out.has_value(); }));
  CHECK(out->error == asio::error::operation_aborted);
}
