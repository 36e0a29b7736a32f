#include <lanyard/accessory/server.hpp>

#include <lanyard/client/pair.hpp>
#include <lanyard/core/pairing_error.hpp>
#include <lanyard/core/pairing_frame.hpp>
#include <lanyard/crypto/pairing_crypto.hpp>
#include <lanyard/trust/error.hpp>

#include <lanyard/tls/stream.hpp>
#include <lanyard/tls_engine/context.hpp>
#include <lanyard/tls_engine/error.hpp>
#include <lanyard/tls_engine/identity.hpp>
#include <lanyard/trust/controller_store.hpp>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/write.hpp>

#include <catch2/catch.hpp>

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

// The pairing window's attempt limit, end to end: real mbedTLS on both sides, the real
// accessory server, the controller store on disk. Only a failed proof of the setup secret
// counts: bare TCP connections, garbage, TLS handshakes the app aborts and connections that
// never send a pairing frame cost the owner nothing. After 20 wrong proofs the window is
// closed and the 21st — even with the right secret — is refused during the handshake; the count
// lives in the store's file, so a restart does not reopen the window; the pairing button (a
// local opener) does.

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

struct accessory_under_attack {
  explicit accessory_under_attack(
      asio::io_context& io,
      std::size_t max_controllers = lanyard::trust::controller_store::default_max_controllers,
      std::chrono::milliseconds failure_delay = 1ms, lanyard::accessory::server_options opts = {})
      : accessory(make_identity("lamp-21")),
        store(std::make_shared<lanyard::trust::controller_store>(dir.path / "controllers",
                                                                 max_controllers)) {
    REQUIRE(store->load().ok());
    REQUIRE(store->open_window(std::chrono::system_clock::now()).ok()); // setup mode
    opts.log = [this](std::string_view line) { log.emplace_back(line); };
    lanyard::trust::setup_credentials creds;
    creds.secret.fill(0x42);
    // The setup code 1234-5679 (the verifier only: SPAKE2+ exchanges run over a few frames).
    REQUIRE_FALSE(lanyard::crypto::make_setup_code_verifier(
        "12345679", lanyard::crypto::system_random(), 1000, creds.verifier));
    opts.pairing.credentials = creds;
    // The delays have their own test; keep this fast unless a test needs the accessory to hold.
    opts.pairing.failure_delay_first = failure_delay;
    opts.pairing.failure_delay_max = 2 * failure_delay;
    srv = std::make_unique<lanyard::accessory::server>(
        io.get_executor(), lanyard::tls::context(accessory), store, opts);
    REQUIRE(!srv->listen(tcp::endpoint(asio::ip::address_v4::loopback(), 0)));
  }
  temp_dir dir;
  identity accessory;
  std::shared_ptr<lanyard::trust::controller_store> store;
  std::vector<std::string> log;
  std::unique_ptr<lanyard::accessory::server> srv;
};

struct result {
  std::error_code handshake;
  std::error_code pairing;
  lanyard::core::pairing_outcome outcome;
};

// A TLS connection by `who` to the accessory, handshaken (aborted by the app if `accept_key`
// is false: then `handshake` says how it ended).
struct connection {
  connection(asio::io_context& io, const identity& who)
      : ctx(who, no_tickets()), s(tcp::socket(io), ctx) {}
  static lanyard::tls::context_options no_tickets() {
    lanyard::tls::context_options options;
    options.session_tickets = false;
    return options;
  }
  lanyard::tls::context ctx;
  lanyard::client::pairing_stream s;
  std::error_code handshake;
};

std::unique_ptr<connection> handshaken(asio::io_context& io, const accessory_under_attack& acc,
                                       const identity& who, bool accept_key) {
  auto c = std::make_unique<connection>(io, who);
  c->s.next_layer().socket()->connect(acc.srv->local_endpoint());
  const lanyard::core::fingerprint expected = acc.accessory.fingerprint();
  c->s.set_verifier([accept_key, expected](const lanyard::core::fingerprint& fp,
                                           const lanyard::tls::peer_cert_info&) {
    return accept_key && fp == expected ? std::error_code{}
                                        : std::make_error_code(std::errc::permission_denied);
  });
  std::optional<std::error_code> hs;
  c->s.async_handshake(lanyard::tls::role::client, [&](std::error_code ec) { hs = ec; });
  REQUIRE(run_until(io, [&] { return hs.has_value(); }));
  c->handshake = *hs;
  return c;
}

// One connection by `who` (see handshaken), then pairing with secret byte `secret` unless
// `pair` is false (the connection just closes).
result attempt(asio::io_context& io, const accessory_under_attack& acc, const identity& who,
               bool accept_key, std::uint8_t secret, bool pair = true) {
  std::unique_ptr<connection> c = handshaken(io, acc, who, accept_key);
  lanyard::client::pairing_stream& s = c->s;
  result r;
  r.handshake = c->handshake;
  if (r.handshake || !pair) return r;
  lanyard::client::pairing_request req;
  req.credentials.method = lanyard::core::pairing_method::setup_secret;
  req.credentials.secret.fill(secret);
  req.name = "stranger";
  bool done = false;
  lanyard::client::async_pair(s, req, [&](std::error_code ec, lanyard::core::pairing_outcome o) {
    r.pairing = ec;
    r.outcome = o;
    done = true;
  });
  REQUIRE(run_until(io, [&] { return done; }));
  return r;
}

// Sends PAIR_START for SPAKE2+ on `c` and reads the accessory's PARAMS: the exchange is under
// way, waiting for a share that does not come.
void start_and_hold(asio::io_context& io, connection& c) {
  lanyard::core::pair_start_frame start;
  start.method = lanyard::core::pairing_method::setup_code;
  start.name = "stranger";
  std::vector<std::byte> out;
  lanyard::core::encode_pairing_frame(start, out);
  std::optional<std::error_code> wrote;
  asio::async_write(c.s, asio::buffer(out), [&](std::error_code ec, std::size_t) { wrote = ec; });
  REQUIRE(run_until(io, [&] { return wrote.has_value(); }));
  REQUIRE_FALSE(*wrote);
  std::array<std::byte, 256> params{};
  std::optional<std::error_code> read;
  c.s.async_read_some(asio::buffer(params), [&](std::error_code ec, std::size_t) { read = ec; });
  REQUIRE(run_until(io, [&] { return read.has_value(); }));
  REQUIRE_FALSE(*read);
}

} // namespace

TEST_CASE("connections, garbage and aborted handshakes never lock the owner out",
          "[accessory][pairing]") {
  asio::io_context io;
  accessory_under_attack acc(io);
  const identity stranger = make_identity("phone-21");
  for (int i = 0; i < 25; ++i) {
    // A bare TCP connection, closed at once.
    tcp::socket bare(io);
    bare.connect(acc.srv->local_endpoint());
    bare.close();
    // Garbage instead of a ClientHello.
    tcp::socket junk(io);
    junk.connect(acc.srv->local_endpoint());
    const char garbage[] = "GET / HTTP/1.0\r\n\r\n";
    asio::write(junk, asio::buffer(garbage, sizeof garbage - 1));
    junk.close();
    // A TLS handshake the app aborts (it refuses the accessory's key).
    CHECK(attempt(io, acc, stranger, false, 0).handshake == std::errc::permission_denied);
    // A handshake, then nothing: no pairing frame at all.
    CHECK_FALSE(attempt(io, acc, stranger, true, 0, false).handshake);
  }
  // Let the server finish with every connection (none of them is a failed proof).
  run_until(
      io, [] { return false; }, 1s);
  CHECK(acc.store->window().failed_attempts == 0);
  CHECK(acc.store->window().open);
  const identity owner = make_identity("phone-owner");
  result r = attempt(io, acc, owner, true, 0x42);
  CHECK_FALSE(r.pairing);
  CHECK(r.outcome.role == lanyard::core::paired_role::admin);
  CHECK(acc.store->find(owner.fingerprint()).has_value());
}

TEST_CASE("the 21st proof finds the window closed, also after a restart; the button reopens it",
          "[accessory][pairing]") {
  asio::io_context io;
  accessory_under_attack acc(io);
  const identity stranger = make_identity("phone-21");
  for (std::uint32_t i = 1; i <= 20; ++i) {
    result r = attempt(io, acc, stranger, true, 0x13);
    INFO("attempt " << i << ", server log: " << (acc.log.empty() ? "" : acc.log.back()));
    CHECK(r.pairing == lanyard::core::pairing_errc::wrong_proof);
    REQUIRE(r.outcome.attempts_left);
    CHECK(*r.outcome.attempts_left == 20 - i);
    CHECK(acc.store->window().failed_attempts == i);
  }
  CHECK_FALSE(acc.store->window().open);

  // The 21st has the right secret, but the window is closed: refused in the handshake.
  const identity owner = make_identity("phone-owner");
  CHECK(attempt(io, acc, owner, true, 0x42).handshake ==
        lanyard::tls::tls_errc::peer_rejected_certificate);
  CHECK(acc.store->list().empty());

  // A restart reads the count back: the window stays closed, and setup mode cannot reopen it.
  lanyard::trust::controller_store reloaded(acc.dir.path / "controllers");
  REQUIRE(reloaded.load().ok());
  CHECK_FALSE(reloaded.window().open);
  CHECK(reloaded.window().failed_attempts == 20);
  CHECK(reloaded.open_window(std::chrono::system_clock::now()).code ==
        lanyard::core::pairing_errc::too_many_attempts);

  // The pairing button (a local, physical action) reopens it and forgives the count.
  REQUIRE(acc.store
              ->open_window(std::chrono::system_clock::now(),
                            lanyard::core::pairing_window::default_timeout,
                            lanyard::core::window_opener::local)
              .ok());
  CHECK(acc.store->window().failed_attempts == 0);
  result r = attempt(io, acc, owner, true, 0x42);
  CHECK_FALSE(r.pairing);
  CHECK(acc.store->find(owner.fingerprint()).has_value());
}

TEST_CASE("a full accessory refuses a right proof with controllers_full, and the app gets that "
          "code",
          "[accessory][pairing]") {
  asio::io_context io;
  accessory_under_attack acc(io, 1);
  std::vector<lanyard::accessory::server::pairing_report> reports;
  acc.srv->set_pairing_handler(
      [&](const lanyard::accessory::server::pairing_report& r) { reports.push_back(r); });
  REQUIRE_FALSE(attempt(io, acc, make_identity("phone-owner"), true, 0x42).pairing);
  // The store's own refusal travels unchanged: store, accessory's report, wire, app.
  const result r = attempt(io, acc, make_identity("phone-2"), true, 0x42);
  CHECK(r.pairing == lanyard::core::pairing_errc::controllers_full);
  REQUIRE(reports.size() == 2);
  CHECK(reports[1].error == lanyard::core::pairing_errc::controllers_full);
  CHECK(acc.store->list().size() == 1);
  // The store's own sentence reaches the accessory's application (only there: the wire carries
  // the code), and is the one its log line shows; a pairing that worked has none.
  CHECK(reports[0].detail.empty());
  REQUIRE_FALSE(reports[1].detail.empty());
  REQUIRE_FALSE(acc.log.empty());
  CHECK(acc.log.back().find(" (" + reports[1].detail + ")") != std::string::npos);
}

TEST_CASE("pairing on a resumed TLS session is refused with needs_full_handshake, and counts "
          "no attempt",
          "[accessory][pairing]") {
  asio::io_context io;
  accessory_under_attack acc(io);
  std::vector<lanyard::accessory::server::pairing_report> reports;
  acc.srv->set_pairing_handler(
      [&](const lanyard::accessory::server::pairing_report& r) { reports.push_back(r); });
  const identity who = make_identity("phone-resumer");
  lanyard::tls::context ctx(who); // session tickets on: the second connection resumes
  auto connect = [&](std::optional<lanyard::client::pairing_stream>& s) {
    tcp::socket sock(io);
    sock.connect(acc.srv->local_endpoint());
    s.emplace(std::move(sock), ctx);
    s->set_peer_id("lamp-21");
    s->set_verifier([&](const lanyard::core::fingerprint& fp, const lanyard::tls::peer_cert_info&) {
      return fp == acc.accessory.fingerprint() ? std::error_code{}
                                               : std::make_error_code(std::errc::permission_denied);
    });
    std::optional<std::error_code> hs;
    s->async_handshake(lanyard::tls::role::client, [&](std::error_code ec) { hs = ec; });
    REQUIRE(run_until(io, [&] { return hs.has_value(); }));
    REQUIRE_FALSE(*hs);
  };
  std::optional<lanyard::client::pairing_stream> first;
  connect(first);
  REQUIRE_FALSE(first->resumed());
  first.reset();
  std::optional<lanyard::client::pairing_stream> second;
  connect(second);
  REQUIRE(second->resumed());

  lanyard::core::pair_start_frame start;
  start.method = lanyard::core::pairing_method::setup_secret;
  start.name = "resumer";
  start.proof = lanyard::core::pairing_mac{};
  std::vector<std::byte> bytes;
  lanyard::core::encode_pairing_frame(start, bytes);
  asio::async_write(*second, asio::buffer(bytes), [](std::error_code, std::size_t) {});
  REQUIRE(run_until(io, [&] { return !reports.empty(); }));
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].error == lanyard::core::pairing_errc::needs_full_handshake);
  CHECK(reports[0].controller == who.fingerprint());
  CHECK(reports[0].attempts_left == 20);
  CHECK(acc.store->window().failed_attempts == 0);
  CHECK(acc.store->list().empty());
}

// Per-operation cancellation of async_pair (client/pair.hpp): terminal only. The accessory is
// made to hold the second proof (its failure delay after a wrong one is 60 s), so the exchange
// is certainly in flight when the cancellation comes, whatever the machine's speed.
TEST_CASE("async_pair: a terminal cancellation ends the exchange with operation_aborted; a "
          "partial one is not honoured",
          "[accessory][pairing][cancellation]") {
  asio::io_context io;
  accessory_under_attack acc(io, lanyard::trust::controller_store::default_max_controllers, 60s);
  const identity phone = make_identity("phone-cancel");
  REQUIRE(attempt(io, acc, phone, true, 0x13).pairing == lanyard::core::pairing_errc::wrong_proof);

  std::unique_ptr<connection> c = handshaken(io, acc, phone, true);
  REQUIRE_FALSE(c->handshake);
  lanyard::client::pairing_stream& s = c->s;

  lanyard::client::pairing_request req;
  req.credentials.method = lanyard::core::pairing_method::setup_secret;
  req.credentials.secret.fill(0x42); // right, but held behind the failure delay
  req.name = "phone";
  asio::cancellation_signal signal;
  std::optional<std::error_code> done;
  lanyard::client::async_pair(
      s, req,
      asio::bind_cancellation_slot(
          signal.slot(), [&](std::error_code ec, lanyard::core::pairing_outcome) { done = ec; }));
  // The exchange runs until the accessory holds the proof; a partial cancellation changes
  // nothing.
  io.restart();
  io.run_for(300ms);
  CHECK_FALSE(done);
  signal.emit(asio::cancellation_type::partial);
  io.restart();
  io.run_for(100ms);
  CHECK_FALSE(done);
  signal.emit(asio::cancellation_type::terminal);
  REQUIRE(run_until(io, [&] { return done.has_value(); }));
  CHECK(*done == asio::error::operation_aborted);
  CHECK_FALSE(acc.store->find(phone.fingerprint()).has_value());
}

// What an accessory's TXT `sf` follows (node::node): an exchange is "in progress" from its
// start's report to its end's, and every start has exactly one end, however the exchange ends;
// otherwise one that ended unreported would hold sf at 0 for good.
TEST_CASE("each pairing exchange under way is reported when it starts and once when it ends, "
          "also when left or evicted; one decided at once only when it ends",
          "[accessory][pairing]") {
  asio::io_context io;
  lanyard::accessory::server_options opts;
  opts.pairing.max_pending = 1;
  accessory_under_attack acc(io, lanyard::trust::controller_store::default_max_controllers, 1ms,
                             opts);
  std::vector<lanyard::accessory::server::pairing_start> starts;
  std::vector<lanyard::accessory::server::pairing_report> reports;
  std::vector<std::size_t> running_at_report;
  acc.srv->set_pairing_start_handler([&](const lanyard::accessory::server::pairing_start& s) {
    starts.push_back(s);
    CHECK(acc.srv->pairings_in_progress() == 1); // already counted
  });
  acc.srv->set_pairing_handler([&](const lanyard::accessory::server::pairing_report& r) {
    reports.push_back(r);
    running_at_report.push_back(acc.srv->pairings_in_progress()); // already not counted
  });
  const identity stranger = make_identity("phone-21");

  // The stranger leaves in the middle.
  auto c = handshaken(io, acc, stranger, true);
  start_and_hold(io, *c);
  REQUIRE(starts.size() == 1);
  CHECK(starts[0].controller == stranger.fingerprint());
  CHECK(starts[0].method == lanyard::core::pairing_method::setup_code);
  CHECK(starts[0].name == "stranger");
  CHECK(reports.empty());
  c.reset();
  REQUIRE(run_until(
      io, [&] { return reports.size() == 1; }, 10s));
  CHECK(reports[0].error == lanyard::core::pairing_errc::protocol_violation);

  // Evicted by a newer unknown controller's connection (max_pending 1): reported all the same.
  c = handshaken(io, acc, stranger, true);
  start_and_hold(io, *c);
  REQUIRE(starts.size() == 2);
  auto newer = handshaken(io, acc, make_identity("phone-22"), true);
  REQUIRE(run_until(
      io, [&] { return reports.size() == 2; }, 10s));
  CHECK(reports[1].controller == stranger.fingerprint());
  CHECK(acc.srv->pairings_in_progress() == 0);
  newer.reset();
  c.reset();

  // A proof of the secret is decided by its first frame: an end, no start.
  CHECK_FALSE(attempt(io, acc, make_identity("phone-owner"), true, 0x42).pairing);
  REQUIRE(run_until(
      io, [&] { return reports.size() == 3; }, 10s));
  CHECK_FALSE(reports[2].error);
  CHECK(starts.size() == 2);
  CHECK(running_at_report == std::vector<std::size_t>{0, 0, 0});
}

// The exchange's timeout runs from its start. It used to run from the TLS handshake for the
// greeting's timer while the responder counted from PAIR_START, so a client that waited before
// PAIR_START left the timer re-armed at a time already past, again and again, until the
// responder's deadline: the accessory spun its event loop for as long as the client had waited.
TEST_CASE("a pairing exchange started late times out without spinning the accessory's loop",
          "[accessory][pairing][security]") {
  asio::io_context io;
  lanyard::accessory::server_options opts;
  opts.pairing.exchange.timeout = 600ms;
  accessory_under_attack acc(io, lanyard::trust::controller_store::default_max_controllers, 1ms,
                             opts);
  std::vector<lanyard::accessory::server::pairing_report> reports;
  acc.srv->set_pairing_handler(
      [&](const lanyard::accessory::server::pairing_report& r) { reports.push_back(r); });
  auto c = handshaken(io, acc, make_identity("phone-slow"), true);
  io.restart();
  io.run_for(400ms); // two thirds of the greeting's time, before PAIR_START
  start_and_hold(io, *c);
  std::size_t handlers = 0;
  const auto give_up = std::chrono::steady_clock::now() + 10s;
  while (reports.empty() && std::chrono::steady_clock::now() < give_up) {
    io.restart();
    handlers += io.run_one_for(50ms);
  }
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].error == lanyard::core::pairing_errc::timeout);
  INFO("handlers run while the exchange waited for its timeout: " << handlers);
  CHECK(handlers < 100); // a timer, a write, a close: not a loop
}
