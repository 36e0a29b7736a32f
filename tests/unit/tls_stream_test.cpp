#include <lanyard/tls/stream.hpp>

#include <lanyard/tls_engine/context.hpp>
#include <lanyard/tls_engine/diagnostics.hpp>
#include <lanyard/tls_engine/error.hpp>
#include <lanyard/tls_engine/identity.hpp>
#include <lanyard/trust/error.hpp>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <catch2/catch.hpp>

#include "support/diagnostics_recorder.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

// GCC 12 reports a false -Wmismatched-new-delete on asio's awaitable frames (its coroutine frame
// operator new/delete pair is matched; GCC does not see through the coroutine lowering).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

using asio::ip::tcp;
using lanyard::core::fingerprint;
using lanyard::tls::context;
using lanyard::tls::context_options;
using lanyard::tls::identity;
using lanyard::tls::peer_cert_info;
using lanyard::tls::peer_verifier;
using lanyard::tls::role;
using lanyard::tls::tls_errc;
using lanyard::trust::trust_errc;
using tls_stream = lanyard::tls::stream<tcp::socket>;
namespace diag = lanyard::tls::diag;
namespace fk = lanyard::core::field_key;
using namespace std::chrono_literals;

namespace {

identity make_identity(const char* device_id) {
  std::error_code ec;
  identity id = identity::generate(device_id, ec);
  REQUIRE(!ec);
  return id;
}

// Key generation is the slow part: one set of identities per process.
const identity& accessory() {
  static const identity id = make_identity("lamp-1");
  return id;
}
const identity& impostor() { // same device id, another key
  static const identity id = make_identity("lamp-1");
  return id;
}
const identity& controller() {
  static const identity id = make_identity("phone-a");
  return id;
}

// A pin: accepts exactly `expected`, refuses anything else with `refusal`; counts calls.
struct pin {
  fingerprint expected;
  std::error_code refusal = trust_errc::key_changed;
  int calls = 0;
  int resumed_calls = 0;
  // What the verifier was told, kept beyond the call (the views are valid only during it).
  struct seen_info {
    lanyard::tls::role local_role = lanyard::tls::role::client;
    std::string subject_cn;
    std::string expected_peer_id;
    bool resumed = false;
  };
  std::vector<seen_info> seen;
};

peer_verifier verifier_for(const std::shared_ptr<pin>& p) {
  return [p](const fingerprint& presented, const peer_cert_info& info) -> std::error_code {
    ++p->calls;
    if (info.resumed) ++p->resumed_calls;
    p->seen.push_back({info.local_role, std::string(info.subject_cn),
                       std::string(info.expected_peer_id), info.resumed});
    return presented == p->expected ? std::error_code{} : p->refusal;
  };
}

std::shared_ptr<pin> pin_to(const identity& id) {
  auto p = std::make_shared<pin>();
  p->expected = id.fingerprint();
  return p;
}

struct tcp_pair {
  tcp::socket client;
  tcp::socket server;
};

tcp_pair connect_loopback(asio::io_context& io) {
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  tcp::socket client(io);
  client.connect(acceptor.local_endpoint());
  tcp::socket server = acceptor.accept();
  return {std::move(client), std::move(server)};
}

struct outcome {
  bool done = false;
  std::error_code ec;
};

// Runs both handshakes to completion.
void handshake(asio::io_context& io, tls_stream& client, tls_stream& server, outcome& c,
               outcome& s) {
  client.async_handshake(role::client, [&](std::error_code ec) { c = {true, ec}; });
  server.async_handshake(role::server, [&](std::error_code ec) { s = {true, ec}; });
  io.run();
  io.restart();
  REQUIRE(c.done);
  REQUIRE(s.done);
}

// Reads raw ciphertext from a socket until EOF/error; returns how many bytes arrived.
std::size_t drain_raw(asio::io_context& io, tcp::socket& sock) {
  std::size_t total = 0;
  std::vector<char> buf(4096);
  std::error_code ec;
  while (!ec) {
    std::size_t n = 0;
    bool done = false;
    sock.async_read_some(asio::buffer(buf), [&](std::error_code e, std::size_t k) {
      ec = e;
      n = k;
      done = true;
    });
    io.run();
    io.restart();
    REQUIRE(done);
    total += n;
  }
  return total;
}

struct fixture {
  asio::io_context io;
  std::shared_ptr<pin> client_pin = pin_to(accessory());
  std::shared_ptr<pin> server_pin = pin_to(controller());
  // What the client context reports (declared before the context, whose handler refers to it).
  lanyard::test::diagnostics_recorder client_diags;
  context client_ctx{controller(), client_options()};
  context server_ctx{accessory(), server_options()};

  context_options client_options() {
    context_options o;
    o.verifier = verifier_for(client_pin);
    o.diagnostics = client_diags.handler();
    return o;
  }
  context_options server_options() {
    context_options o;
    o.verifier = verifier_for(server_pin);
    return o;
  }
};

// A client and a server stream over loopback TCP with the handshake done.
struct handshaken_pair {
  handshaken_pair(fixture& f, tcp_pair sockets)
      : client(std::move(sockets.client), f.client_ctx),
        server(std::move(sockets.server), f.server_ctx) {
    client.set_peer_id("lamp-1");
    outcome c, s;
    handshake(f.io, client, server, c, s);
    REQUIRE(!c.ec);
    REQUIRE(!s.ec);
  }
  explicit handshaken_pair(fixture& f) : handshaken_pair(f, connect_loopback(f.io)) {}

  tls_stream client;
  tls_stream server;
};

} // namespace

TEST_CASE_METHOD(fixture, "TLS handshake succeeds and data flows both ways", "[tls][stream]") {
  auto [c_sock, s_sock] = connect_loopback(io);
  tls_stream client(std::move(c_sock), client_ctx);
  tls_stream server(std::move(s_sock), server_ctx);
  client.set_peer_id("lamp-1");

  outcome c, s;
  handshake(io, client, server, c, s);
  INFO(client.last_error_detail() << " / " << server.last_error_detail());
  REQUIRE(!c.ec);
  REQUIRE(!s.ec);

  CHECK(client.peer_fingerprint() == accessory().fingerprint());
  CHECK(server.peer_fingerprint() == controller().fingerprint());
  CHECK(client.peer_subject() == "lamp-1");
  CHECK(server.peer_subject() == "phone-a");
  CHECK(client.alpn_protocol() == "lanyard/1");
  CHECK(server.alpn_protocol() == "lanyard/1");
  CHECK(client.ciphersuite() == "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256");
  CHECK_FALSE(client.resumed());
  CHECK_FALSE(server.resumed());
  REQUIRE(client_pin->calls == 1);
  CHECK(client_pin->seen[0].local_role == role::client);
  CHECK(client_pin->seen[0].subject_cn == "lamp-1");
  CHECK(client_pin->seen[0].expected_peer_id == "lamp-1");
  REQUIRE(server_pin->calls == 1);
  CHECK(server_pin->seen[0].local_role == role::server);
  CHECK(server_pin->seen[0].subject_cn == "phone-a");

  // Both directions at once (one read and one write outstanding per stream), with a payload
  // spanning many records, through asio::async_read / async_write and a coroutine.
  std::vector<std::uint8_t> to_server(300 * 1024), to_client(200 * 1024);
  for (std::size_t i = 0; i < to_server.size(); ++i)
    to_server[i] = static_cast<std::uint8_t>(i * 7);
  for (std::size_t i = 0; i < to_client.size(); ++i)
    to_client[i] = static_cast<std::uint8_t>(i * 13);
  std::vector<std::uint8_t> got_server(to_server.size()), got_client(to_client.size());
  int finished = 0;
  auto transfer = [&](tls_stream& st, const std::vector<std::uint8_t>& out,
                      std::vector<std::uint8_t>& in) -> asio::awaitable<void> {
    std::error_code wec, rec;
    asio::async_write(st, asio::buffer(out), [&](std::error_code e, std::size_t n) {
      wec = e;
      CHECK(n == out.size());
      ++finished;
    });
    std::size_t n = co_await asio::async_read(st, asio::buffer(in),
                                              asio::redirect_error(asio::use_awaitable, rec));
    CHECK(!rec);
    CHECK(n == in.size());
    CHECK(!wec);
    ++finished;
  };
  asio::co_spawn(io, transfer(client, to_server, got_client), asio::detached);
  asio::co_spawn(io, transfer(server, to_client, got_server), asio::detached);
  io.run();
  io.restart();
  CHECK(finished == 4);
  CHECK(got_server == to_server);
  CHECK(got_client == to_client);

  // close_notify: the peer's read ends with eof (not stream_truncated).
  outcome shut;
  client.async_shutdown([&](std::error_code ec) { shut = {true, ec}; });
  std::error_code read_ec;
  std::array<char, 16> buf{};
  server.async_read_some(asio::buffer(buf), [&](std::error_code ec, std::size_t) { read_ec = ec; });
  io.run();
  CHECK(shut.done);
  CHECK(!shut.ec);
  CHECK(read_ec == asio::error::eof);
}

TEST_CASE_METHOD(fixture,
                 "client refuses a changed key with the verifier's error; the server "
                 "receives no application data",
                 "[tls][stream]") {
  auto [c_sock, s_sock] = connect_loopback(io);
  tls_stream client(std::move(c_sock), client_ctx);
  context impostor_ctx{impostor(), server_options()};
  tls_stream server(std::move(s_sock), impostor_ctx);
  client.set_peer_id("lamp-1");

  outcome c, s;
  handshake(io, client, server, c, s);
  INFO(client.last_error_detail() << " / " << server.last_error_detail());
  // Exactly the verifier's error, not a generic TLS failure.
  CHECK(c.ec == trust_errc::key_changed);
  CHECK(client.peer_fingerprint() == impostor().fingerprint());
  // The refusal as data: the pin verifier's, on the impostor's key, for the id asked for.
  const lanyard::core::error_detail& refusal = client.last_error();
  CHECK(refusal.code == trust_errc::key_changed);
  CHECK(refusal.text(diag::key::cause) == diag::cause::pin_verifier);
  CHECK(refusal.text(diag::key::role) == "client");
  CHECK(refusal.text(fk::device_id) == "lamp-1");
  CHECK(refusal.text(fk::fingerprint_presented) == to_string(impostor().fingerprint()));
  CHECK(refusal.text(diag::key::peer_name) == "lamp-1");
  CHECK(client.last_error_detail() == refusal.detail);
  // Reported once to the context's handler, with the same sentence and fields.
  REQUIRE(client_diags.count(diag::handshake_failed) == 1);
  const auto* reported = client_diags.find(diag::handshake_failed, trust_errc::key_changed);
  REQUIRE(reported);
  CHECK(reported->level == lanyard::core::diagnostic_level::warning);
  CHECK(reported->text == refusal.detail);
  CHECK(reported->text_field(fk::fingerprint_presented) == to_string(impostor().fingerprint()));
  CHECK(s.ec == tls_errc::peer_rejected_certificate);
  CHECK(server_pin->calls == 0); // the handshake stopped before the client's certificate

  // The client cannot send: nothing leaves it.
  std::error_code write_ec;
  asio::async_write(client, asio::buffer(std::string("secret")),
                    [&](std::error_code ec, std::size_t) { write_ec = ec; });
  // The server tries to read application data and gets an error, never bytes.
  std::error_code read_ec;
  std::size_t read_n = 99;
  std::array<char, 64> buf{};
  server.async_read_some(asio::buffer(buf), [&](std::error_code ec, std::size_t n) {
    read_ec = ec;
    read_n = n;
  });
  io.run();
  io.restart();
  CHECK(write_ec == tls_errc::not_connected);
  CHECK(read_ec);
  CHECK(read_n == 0);
  // And on the wire: after the alert, the client sent nothing at all before closing.
  client.next_layer().close();
  CHECK(drain_raw(io, server.next_layer()) == 0);
  CHECK(client_ctx.cached_sessions() == 0);
}

TEST_CASE_METHOD(fixture, "server refuses an unknown client certificate", "[tls][stream]") {
  auto [c_sock, s_sock] = connect_loopback(io);
  identity stranger = make_identity("phone-b");
  context stranger_ctx{stranger, client_options()};
  tls_stream client(std::move(c_sock), stranger_ctx);
  tls_stream server(std::move(s_sock), server_ctx);
  // The accessory's refusal: e.g. "not paired and the pairing window is closed".
  server_pin->refusal = std::make_error_code(std::errc::permission_denied);

  outcome c, s;
  handshake(io, client, server, c, s);
  INFO(client.last_error_detail() << " / " << server.last_error_detail());
  CHECK(s.ec == std::errc::permission_denied);
  CHECK(server.peer_fingerprint() == stranger.fingerprint());
  CHECK(c.ec == tls_errc::peer_rejected_certificate);
  CHECK(lanyard::tls::is_authentication_error(c.ec));
  CHECK(client_pin->calls == 1); // the client had accepted the accessory

  std::error_code write_ec;
  asio::async_write(server, asio::buffer(std::string("hello")),
                    [&](std::error_code ec, std::size_t) { write_ec = ec; });
  io.run();
  io.restart();
  CHECK(write_ec == tls_errc::not_connected);
  server.next_layer().close();
  CHECK(drain_raw(io, client.next_layer()) == 0);
}

TEST_CASE_METHOD(fixture, "ALPN mismatch is refused on both sides", "[tls][stream]") {
  auto [c_sock, s_sock] = connect_loopback(io);
  context_options o = client_options();
  o.alpn = "lanyard/2";
  context other_version{controller(), o};
  tls_stream client(std::move(c_sock), other_version);
  tls_stream server(std::move(s_sock), server_ctx);

  outcome c, s;
  handshake(io, client, server, c, s);
  INFO(client.last_error_detail() << " / " << server.last_error_detail());
  CHECK(c.ec == tls_errc::alpn_mismatch);
  CHECK(s.ec == tls_errc::alpn_mismatch);
  CHECK(server_pin->calls == 0);
}

TEST_CASE_METHOD(fixture, "a reconnect with the same peer id resumes: abbreviated handshake",
                 "[tls][stream]") {
  auto connect_once = [&](outcome& c, outcome& s, bool& c_resumed, bool& s_resumed) {
    auto [c_sock, s_sock] = connect_loopback(io);
    tls_stream client(std::move(c_sock), client_ctx);
    tls_stream server(std::move(s_sock), server_ctx);
    client.set_peer_id("lamp-1");
    handshake(io, client, server, c, s);
    INFO(client.last_error_detail() << " / " << server.last_error_detail());
    c_resumed = client.resumed();
    s_resumed = server.resumed();
    if (!c.ec) {
      CHECK(client.peer_fingerprint() == accessory().fingerprint());
      CHECK(server.peer_fingerprint() == controller().fingerprint());
      // Data still flows on a resumed session.
      std::string got(4, '\0');
      std::error_code wec, rec;
      asio::async_write(client, asio::buffer(std::string("ping")),
                        [&](std::error_code ec, std::size_t) { wec = ec; });
      asio::async_read(server, asio::buffer(got),
                       [&](std::error_code ec, std::size_t) { rec = ec; });
      io.run();
      io.restart();
      CHECK(!wec);
      CHECK(!rec);
      CHECK(got == "ping");
    }
  };

  outcome c, s;
  bool c_resumed = true, s_resumed = true;
  connect_once(c, s, c_resumed, s_resumed);
  REQUIRE(!c.ec);
  REQUIRE(!s.ec);
  CHECK_FALSE(c_resumed);
  CHECK_FALSE(s_resumed);
  CHECK(client_ctx.cached_sessions() == 1);
  CHECK(client_pin->calls == 1);

  connect_once(c, s, c_resumed, s_resumed);
  REQUIRE(!c.ec);
  REQUIRE(!s.ec);
  CHECK(c_resumed);
  CHECK(s_resumed);
  // The pins were checked again, on the certificates of the original handshake.
  CHECK(client_pin->resumed_calls == 1);
  CHECK(server_pin->resumed_calls == 1);

  SECTION("a pin changed since then also ends resumption") {
    client_pin->expected = impostor().fingerprint();
    connect_once(c, s, c_resumed, s_resumed);
    // The stale session is not offered; the full handshake shows the real key.
    CHECK(c.ec == trust_errc::key_changed);
    CHECK(s.ec == tls_errc::peer_rejected_certificate);
    CHECK(client_ctx.cached_sessions() == 0);
  }
  SECTION("a controller removed since then is refused inside the handshake") {
    server_pin->expected = impostor().fingerprint();
    connect_once(c, s, c_resumed, s_resumed);
    // The server ignores the ticket and refuses the certificate in a full handshake.
    CHECK(s.ec == trust_errc::key_changed);
    CHECK(c.ec == tls_errc::peer_rejected_certificate);
    CHECK(server_pin->resumed_calls == 2);
  }
  SECTION("without a peer id nothing is resumed") {
    auto [c_sock, s_sock] = connect_loopback(io);
    tls_stream client(std::move(c_sock), client_ctx);
    tls_stream server(std::move(s_sock), server_ctx);
    handshake(io, client, server, c, s);
    REQUIRE(!c.ec);
    CHECK_FALSE(client.resumed());
  }
  SECTION("forget_session forces a full handshake") {
    client_ctx.forget_session("lamp-1");
    connect_once(c, s, c_resumed, s_resumed);
    REQUIRE(!c.ec);
    CHECK_FALSE(c_resumed);
    CHECK_FALSE(s_resumed);
  }
}

TEST_CASE_METHOD(fixture, "handshake times out when the peer never answers", "[tls][stream]") {
  SECTION("client against a silent TCP server") {
    auto [c_sock, silent] = connect_loopback(io);
    tls_stream client(std::move(c_sock), client_ctx);
    client.set_handshake_timeout(200ms);
    outcome c;
    client.async_handshake(role::client, [&](std::error_code ec) { c = {true, ec}; });
    io.run();
    CHECK(c.done);
    CHECK(c.ec == tls_errc::handshake_timeout);
  }
  SECTION("server against a silent TCP client") {
    auto [silent, s_sock] = connect_loopback(io);
    tls_stream server(std::move(s_sock), server_ctx);
    server.set_handshake_timeout(200ms);
    outcome s;
    server.async_handshake(role::server, [&](std::error_code ec) { s = {true, ec}; });
    io.run();
    CHECK(s.done);
    CHECK(s.ec == tls_errc::handshake_timeout);
  }
}

TEST_CASE_METHOD(fixture, "handshake timeouts: one watcher, no work left behind",
                 "[tls][stream][deadlines]") {
  auto& deadlines = asio::use_service<lanyard::tls::detail::handshake_deadlines>(io);

  SECTION("a completed handshake leaves nothing that keeps the io_context running") {
    auto [c_sock, s_sock] = connect_loopback(io);
    tls_stream client(std::move(c_sock), client_ctx);
    tls_stream server(std::move(s_sock), server_ctx);
    client.set_handshake_timeout(std::chrono::hours(1));
    server.set_handshake_timeout(std::chrono::hours(1));
    outcome c, s;
    client.async_handshake(role::client, [&](std::error_code ec) { c = {true, ec}; });
    server.async_handshake(role::server, [&](std::error_code ec) { s = {true, ec}; });
    // A timer per handshake left armed (or a sweeping timer in the context) would keep run_for
    // going for its whole budget and the context not stopped.
    io.run_for(30s);
    CHECK(io.stopped());
    CHECK(c.done);
    CHECK(!c.ec);
    CHECK(!s.ec);
    CHECK(deadlines.size() == 0);
  }
  SECTION("many handshakes wake the watcher once, not once each") {
    for (int i = 0; i < 20; ++i)
      handshaken_pair pair(*this); // requires both handshakes to succeed
    CHECK(deadlines.size() == 0);
    // The first deadline starts the watcher; later ones (same timeout) are never earlier than
    // the one it sleeps until.
    CHECK(deadlines.wakeups() <= 1);
  }
  SECTION("an earlier deadline than the watcher's still fires on time, next to live handshakes") {
    auto [slow_sock, silent_a] = connect_loopback(io);
    tls_stream patient(std::move(slow_sock), client_ctx);
    patient.set_handshake_timeout(std::chrono::hours(1));
    outcome p;
    patient.async_handshake(role::client, [&](std::error_code ec) { p = {true, ec}; });

    auto [quick_sock, silent_b] = connect_loopback(io);
    tls_stream hasty(std::move(quick_sock), client_ctx);
    hasty.set_handshake_timeout(200ms);
    outcome h;
    hasty.async_handshake(role::client, [&](std::error_code ec) {
      h = {true, ec};
      patient.next_layer().close(); // ends the other one so that run() returns
    });

    auto [c_sock, s_sock] = connect_loopback(io);
    tls_stream client(std::move(c_sock), client_ctx);
    tls_stream server(std::move(s_sock), server_ctx);
    outcome c, s;
    client.async_handshake(role::client, [&](std::error_code ec) { c = {true, ec}; });
    server.async_handshake(role::server, [&](std::error_code ec) { s = {true, ec}; });

    io.run();
    CHECK(h.ec == tls_errc::handshake_timeout);
    CHECK(p.ec == asio::error::operation_aborted);
    CHECK(!c.ec);
    CHECK(!s.ec);
    CHECK(deadlines.size() == 0);
  }
}

TEST_CASE_METHOD(fixture, "no verifier means no trust", "[tls][stream]") {
  auto [c_sock, s_sock] = connect_loopback(io);
  context bare{controller(), context_options{}};
  tls_stream client(std::move(c_sock), bare);
  tls_stream server(std::move(s_sock), server_ctx);
  outcome c, s;
  handshake(io, client, server, c, s);
  CHECK(c.ec == tls_errc::no_peer_verifier);
  CHECK(s.ec == tls_errc::peer_rejected_certificate);
}

TEST_CASE_METHOD(fixture, "a stream's own verifier overrides the context's", "[tls][stream]") {
  auto [c_sock, s_sock] = connect_loopback(io);
  tls_stream client(std::move(c_sock), client_ctx);
  tls_stream server(std::move(s_sock), server_ctx);
  auto strict = pin_to(impostor());
  strict->refusal = trust_errc::key_changed;
  client.set_verifier(verifier_for(strict));
  outcome c, s;
  handshake(io, client, server, c, s);
  CHECK(c.ec == trust_errc::key_changed);
  CHECK(strict->calls == 1);
  CHECK(client_pin->calls == 0);
}

TEST_CASE_METHOD(fixture, "a TCP close without close_notify is reported as truncation",
                 "[tls][stream]") {
  auto [c_sock, s_sock] = connect_loopback(io);
  tls_stream client(std::move(c_sock), client_ctx);
  tls_stream server(std::move(s_sock), server_ctx);
  outcome c, s;
  handshake(io, client, server, c, s);
  REQUIRE(!c.ec);
  server.next_layer().close();
  std::error_code read_ec;
  std::array<char, 8> buf{};
  client.async_read_some(asio::buffer(buf), [&](std::error_code ec, std::size_t) { read_ec = ec; });
  io.run();
  CHECK(read_ec == tls_errc::stream_truncated);
}

TEST_CASE_METHOD(fixture, "handlers are never invoked inside the initiating call",
                 "[tls][stream]") {
  auto [c_sock, s_sock] = connect_loopback(io);
  tls_stream client(std::move(c_sock), client_ctx);
  bool called = false;
  std::error_code ec;
  std::array<char, 8> buf{};
  client.async_read_some(asio::buffer(buf), [&](std::error_code e, std::size_t) {
    called = true;
    ec = e;
  });
  CHECK_FALSE(called);
  io.run();
  io.restart();
  CHECK(called);
  CHECK(ec == tls_errc::not_connected);

  called = false;
  client.async_write_some(asio::buffer(buf, 0), [&](std::error_code e, std::size_t) {
    called = true;
    ec = e;
  });
  CHECK_FALSE(called);
  io.run();
  CHECK(called);
}

TEST_CASE_METHOD(fixture, "an idle connection holds no ciphertext buffers", "[tls][stream]") {
  handshaken_pair pair(*this);
  tls_stream& client = pair.client;
  tls_stream& server = pair.server;

  // A read waiting for its peer: the 16.5 KiB input buffer is given back while it waits.
  std::array<std::uint8_t, 64> buf{};
  std::size_t got = 0;
  std::error_code rec;
  bool read_done = false;
  server.async_read_some(asio::buffer(buf), [&](std::error_code e, std::size_t n) {
    rec = e;
    got = n;
    read_done = true;
  });
  io.poll();
  io.restart();
  REQUIRE_FALSE(read_done);
  CHECK(server.tls_engine().buffer_bytes() == 0);

  // A large write leaves large buffers behind; they go when asked, not while writing.
  std::vector<std::uint8_t> big(64 * 1024, std::uint8_t{7});
  bool wrote = false;
  client.async_write_some(asio::buffer(big), [&](std::error_code e, std::size_t n) {
    CHECK(!e);
    CHECK(n == big.size());
    wrote = true;
  });
  io.run_one(); // at least the write's progress, not necessarily its completion
  while (!wrote)
    io.run_one();
  CHECK(client.buffer_bytes() >= 64 * 1024);
  client.release_write_buffers();
  CHECK(client.buffer_bytes() == 0);

  while (!read_done)
    io.run_one();
  io.restart();
  CHECK(!rec);
  CHECK(got == buf.size());
}

TEST_CASE_METHOD(fixture,
                 "async_wait_readable + read_some_now: everything that arrived, then would_block",
                 "[tls][stream]") {
  handshaken_pair pair(*this);
  tls_stream& client = pair.client;
  tls_stream& server = pair.server;

  // Nothing has arrived: read_some_now does not wait.
  std::array<std::uint8_t, 1000> buf{};
  std::error_code ec;
  CHECK(server.read_some_now(buf, ec) == 0);
  CHECK(ec == asio::error::would_block);
  CHECK(server.tls_engine().buffer_bytes() == 0);

  // Three records (40 KiB), read in 1,000-byte pieces once the socket is readable.
  std::vector<std::uint8_t> sent(40 * 1024);
  for (std::size_t i = 0; i < sent.size(); ++i)
    sent[i] = static_cast<std::uint8_t>(i * 31);
  std::error_code wec;
  asio::async_write(client, asio::buffer(sent), [&](std::error_code e, std::size_t) { wec = e; });
  std::vector<std::uint8_t> received;
  while (received.size() < sent.size()) {
    std::error_code wait_ec;
    bool readable = false;
    server.async_wait_readable([&](std::error_code e) {
      wait_ec = e;
      readable = true;
    });
    while (!readable)
      io.run_one();
    REQUIRE(!wait_ec);
    for (;;) {
      const std::size_t n = server.read_some_now(buf, ec);
      if (ec == asio::error::would_block) break;
      REQUIRE(!ec);
      REQUIRE(n > 0);
      received.insert(received.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
    }
  }
  io.run();
  io.restart();
  CHECK(!wec);
  CHECK(received == sent);
  CHECK(server.tls_engine().buffer_bytes() == 0);

  // The peer's close_notify: eof, as async_read_some reports it.
  client.async_shutdown([](std::error_code) {});
  io.run();
  io.restart();
  server.read_some_now(buf, ec);
  CHECK(ec == asio::error::eof);
}

// Per-operation cancellation: the stream's operations are composed (asio::async_compose), so a
// terminal cancellation bound to the handler reaches the transport operation it waits on.
TEST_CASE_METHOD(fixture, "a terminal cancellation ends a pending read and readiness wait",
                 "[tls][stream][cancellation]") {
  handshaken_pair pair(*this);
  std::array<std::uint8_t, 64> buf{};
  asio::cancellation_signal read_sig, wait_sig;
  std::optional<std::error_code> read_ec, wait_ec;
  pair.server.async_read_some(
      asio::buffer(buf),
      asio::bind_cancellation_slot(read_sig.slot(),
                                   [&](std::error_code e, std::size_t) { read_ec = e; }));
  pair.client.async_wait_readable(
      asio::bind_cancellation_slot(wait_sig.slot(), [&](std::error_code e) { wait_ec = e; }));
  io.poll();
  io.restart();
  REQUIRE_FALSE(read_ec);
  REQUIRE_FALSE(wait_ec);
  read_sig.emit(asio::cancellation_type::terminal);
  wait_sig.emit(asio::cancellation_type::terminal);
  io.poll();
  io.restart();
  REQUIRE(read_ec);
  CHECK(*read_ec == asio::error::operation_aborted);
  REQUIRE(wait_ec);
  CHECK(*wait_ec == asio::error::operation_aborted);
}
