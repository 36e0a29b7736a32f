// tls::stream over tests/support/fail_count.hpp's transports: the counter sees every
// operation of a handshake (none bypasses it), and a handshake whose Nth operation fails
// completes exactly once with that failure, for every N the handshake reaches; then nothing is
// left on the loop. Over fail_transport every handshake byte goes through the transport's
// asynchronous operations; over fail_socket_transport tls::stream takes its send(2)/recv(2)
// fast path, and a failed step there is a real system call failing (EPIPE, ENOTCONN).
#include "support/fail_count.hpp"
#include "support/io_test_support.hpp"

#include <lanyard/tls/stream.hpp>

#include <asio/error.hpp>
#include <asio/io_context.hpp>

#include <catch2/catch.hpp>

#include <cstddef>
#include <optional>
#include <set>
#include <system_error>

using namespace lanyard;
using test::fail_count;

namespace {

struct handshake_run {
  std::optional<std::error_code> client;
  std::optional<std::error_code> server;
  std::size_t operations = 0;
  bool fired = false;
  bool descriptor_failed = false; // the Nth operation was a native_handle() call
};

// One handshake whose `side` (client or server) fails its Nth transport operation.
template <class Transport>
handshake_run handshake_failing(std::size_t n, tls::role side) {
  using stream = tls::stream<Transport>;
  asio::io_context io;
  test::basic_fail_stream_pair<Transport> pair(io);
  fail_count counter(n);
  stream& client = *pair.client;
  stream& server = *pair.server;
  stream& failing = side == tls::role::client ? client : server;
  failing.next_layer().set_fail_count(&counter);

  handshake_run r;
  auto done = [&](std::optional<std::error_code>& out, stream& st) {
    return [&out, &st](std::error_code ec) {
      REQUIRE_FALSE(out); // exactly once
      out = ec;
      // A failed end closes its socket (as the adapters do), so that the other end ends too.
      std::error_code ignored;
      if (ec) st.next_layer().close(ignored);
    };
  };
  client.async_handshake(tls::role::client, done(r.client, client));
  server.async_handshake(tls::role::server, done(r.server, server));
  REQUIRE(test::run_until(io, [&] { return r.client && r.server; }));
  r.operations = counter.operations();
  r.fired = counter.fired();
  if constexpr (requires { failing.next_layer().descriptor_failed(); })
    r.descriptor_failed = failing.next_layer().descriptor_failed();
  // Both handshakes completed: once both ends are closed nothing may be left on the loop.
  std::error_code ignored;
  client.next_layer().close(ignored);
  server.next_layer().close(ignored);
  io.restart();
  REQUIRE(test::run_until(io, [&] { return io.stopped(); }));
  return r;
}

// What a walk over one side saw.
struct walk_result {
  std::size_t runs = 0;               // runs that reached their Nth operation
  std::set<std::error_code> failures; // what the failing side reported
};

// Runs the handshake for N = 1, 2, ... with `side`'s transport failing, until a run no longer
// reaches the Nth operation.
template <class Transport>
walk_result walk(tls::role side) {
  walk_result w;
  for (std::size_t n = 1;; ++n) {
    INFO("failing side " << (side == tls::role::client ? "client" : "server") << ", N=" << n);
    REQUIRE(n < 100); // a handshake is a handful of reads and writes
    handshake_run r = handshake_failing<Transport>(n, side);
    const std::error_code& own = side == tls::role::client ? *r.client : *r.server;
    const std::error_code& peer = side == tls::role::client ? *r.server : *r.client;
    UNSCOPED_INFO("own: " << own.message() << ", peer: " << peer.message());
    if (!r.fired) {
      CHECK_FALSE(own);
      CHECK_FALSE(peer);
      CHECK(r.operations == n - 1);
      return w;
    }
    ++w.runs;
    w.failures.insert(own);
    // The peer may have finished first (its last flight was written) or fail as it sees the
    // connection close; either way it completed exactly once (done() checks).
    if (r.descriptor_failed) {
      // send(2) or recv(2) on the unconnected socket failed, and the stream reported it.
      CHECK((own == asio::error::broken_pipe || own == asio::error::not_connected));
    } else {
      CHECK(own == test::fail_count_errc::injected);
    }
  }
}

} // namespace

TEST_CASE("fail_count: fails the Nth operation and every later one", "[tls][fail_count]") {
  fail_count c(3);
  std::error_code ec;
  CHECK_FALSE(c.fail(ec));
  CHECK_FALSE(c.fail(ec));
  CHECK_FALSE(c.fired());
  CHECK(c.fail(ec));
  CHECK(ec == test::fail_count_errc::injected);
  std::error_code again;
  CHECK(c.fail(again));
  CHECK(again == test::fail_count_errc::injected);
  CHECK(c.operations() == 4);
  CHECK(c.fired());
}

TEST_CASE("tls::stream: a handshake whose Nth transport operation fails reports that failure",
          "[tls][fail_count]") {
  for (tls::role side : {tls::role::client, tls::role::server}) {
    walk_result w = walk<test::fail_transport>(side);
    CHECK(w.runs > 3); // the loop walked a real handshake
    CHECK(w.failures == std::set<std::error_code>{test::fail_count_errc::injected});
  }
}

TEST_CASE("tls::stream: a handshake's send(2)/recv(2) fast path failing at each step reports "
          "the system's error",
          "[tls][fail_count]") {
  // tls::stream reports errno in asio's system category.
  const std::error_code epipe = asio::error::broken_pipe;
  const std::error_code enotconn = asio::error::not_connected;
  std::set<std::error_code> seen;
  for (tls::role side : {tls::role::client, tls::role::server}) {
    walk_result w = walk<test::fail_socket_transport>(side);
    CHECK(w.runs > 3);
    // The fast path was taken: some of the failures reported are the system calls'.
    CHECK((w.failures.count(epipe) + w.failures.count(enotconn)) > 0);
    seen.insert(w.failures.begin(), w.failures.end());
  }
  // Both the send(2) and the recv(2) error branch were walked, and a readiness wait failed.
  CHECK(seen == std::set<std::error_code>{epipe, enotconn, test::fail_count_errc::injected});
}
