// tls::stream over tests/support/fail_count.hpp's fail_transport: the transport's counter sees
// every operation of a handshake (none bypasses it), and a handshake whose Nth operation fails
// completes exactly once with the injected error, for every N the handshake reaches.
#include "support/fail_count.hpp"
#include "support/io_test_support.hpp"

#include <lanyard/tls/stream.hpp>

#include <asio/io_context.hpp>

#include <catch2/catch.hpp>

#include <cstddef>
#include <optional>
#include <system_error>

using namespace lanyard;
using test::fail_count;
using stream = test::fail_stream;

namespace {

struct handshake_run {
  std::optional<std::error_code> client;
  std::optional<std::error_code> server;
  std::size_t operations = 0;
  bool fired = false;
};

// One handshake whose `side` (client or server) fails its Nth transport operation.
handshake_run handshake_failing(std::size_t n, tls::role side) {
  asio::io_context io;
  test::fail_stream_pair pair(io);
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
  return r;
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
    std::size_t n = 1;
    for (;; ++n) {
      INFO("failing side " << (side == tls::role::client ? "client" : "server") << ", N=" << n);
      REQUIRE(n < 100); // a handshake is a handful of reads and writes
      handshake_run r = handshake_failing(n, side);
      const std::error_code& own = side == tls::role::client ? *r.client : *r.server;
      const std::error_code& peer = side == tls::role::client ? *r.server : *r.client;
      UNSCOPED_INFO("peer: " << peer.message());
      if (!r.fired) {
        CHECK_FALSE(own);
        CHECK_FALSE(peer);
        CHECK(r.operations == n - 1);
        break;
      }
      // The peer may have finished first (its last flight was written) or fail as it sees the
      // connection close; either way it completed exactly once (done() checks).
      CHECK(own == test::fail_count_errc::injected);
    }
    CHECK(n > 3); // the loop walked a real handshake
  }
}
