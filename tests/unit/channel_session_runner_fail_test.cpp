// The session runner's error paths, walked with tests/support/fail_count.hpp: a client and a
// server runner over a loopback TLS pair exchange a few messages (one of them several TLS
// records long) and end the session; one end's transport fails its Nth read, write or
// readiness wait, for N = 1, 2, 3, ... until a run no longer reaches the Nth operation. Every
// run must end cleanly: each runner reports its link lost exactly once, the failing end with
// the injected error (unless the failure was teardown's close_notify after the session had
// ended and everything was delivered), messages arrive in order
// and at most once, and once stopped both runners are freed with nothing left on the loop.
// No clock is involved: the session's timers are set far beyond a run (ACKs go out at once).
#include "support/fail_count.hpp"
#include "support/io_test_support.hpp"

#include "channel/session_runner_impl.hpp"

#include <lanyard/core/channel_error.hpp>
#include <lanyard/core/session.hpp>

#include <asio/error.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

using namespace lanyard;
using namespace std::chrono_literals;
using runner = channel::detail::basic_session_runner<test::fail_stream>;

namespace {

// What one end saw.
struct end_record {
  std::vector<std::string> received;
  std::vector<std::error_code> link_lost;
};

struct run_result {
  end_record client;
  end_record server;
  bool fired = false;
  std::size_t operations = 0;
};

enum class end { client, server };

const std::vector<std::string>& messages(end from) {
  static const std::vector<std::string> client = {"c0", std::string(40000, 'c'), "c2"};
  static const std::vector<std::string> server = {"s0", "s1", std::string(20000, 's')};
  return from == end::client ? client : server;
}

core::session_settings no_clock() {
  core::session_settings s;
  s.ack_every = 1;
  s.ack_delay = 1h;
  s.keepalive_interval = 1h;
  s.peer_timeout = 1h;
  s.handshake_timeout = 1h;
  s.new_session_id = [] { // the server's; any fixed non-zero id
    core::session_id id;
    id.bytes.fill(std::byte{0x5a});
    return id;
  };
  return s;
}

run_result run_failing(std::size_t n, end failing, std::error_code error) {
  asio::io_context io;
  test::fail_stream_pair pair(io);
  pair.handshake(io);
  test::fail_count counter(n, error);
  (failing == end::client ? pair.client : pair.server)->next_layer().set_fail_count(&counter);

  run_result r;
  auto client = std::make_shared<runner>(io.get_executor(), core::session_role::client, no_clock());
  auto server = std::make_shared<runner>(io.get_executor(), core::session_role::server, no_clock());
  bool close_posted = false;
  // Once every message arrived both ways, the client ends the session.
  auto maybe_close = [&] {
    if (close_posted || r.client.received.size() != messages(end::server).size() ||
        r.server.received.size() != messages(end::client).size())
      return;
    close_posted = true;
    asio::post(io, [w = std::weak_ptr<runner>(client)] {
      if (auto c = w.lock()) c->close();
    });
  };
  auto callbacks_for = [&](end_record& rec) {
    runner::callbacks cb;
    cb.on_event = [&rec, &maybe_close](core::session_event& ev) {
      if (auto* m = std::get_if<core::events::message_received>(&ev)) {
        rec.received.push_back(test::text(m->payload));
        maybe_close();
      }
    };
    cb.on_link_lost = [&rec](std::error_code why) { rec.link_lost.push_back(why); };
    return cb;
  };
  client->set_callbacks(callbacks_for(r.client));
  server->set_callbacks(callbacks_for(r.server));

  REQUIRE_FALSE(server->attach(std::move(pair.server)));
  REQUIRE_FALSE(client->attach(std::move(pair.client)));
  for (const std::string& m : messages(end::client))
    REQUIRE_FALSE(client->send(test::bytes(m)).error);
  for (const std::string& m : messages(end::server))
    REQUIRE_FALSE(server->send(test::bytes(m)).error);

  // Both ends lose their link: through the session's end or through the failure.
  REQUIRE(test::run_until(
      io, [&] { return !r.client.link_lost.empty() && !r.server.link_lost.empty(); }, 30s));
  client->stop();
  server->stop();
  std::weak_ptr<runner> client_left = client, server_left = server;
  client.reset();
  server.reset();
  // Everything still pending (a close_notify, an aborted wait) completes; then nothing is left.
  io.restart();
  REQUIRE(test::run_until(
      io, [&] { return io.stopped(); }, 30s));
  CHECK(client_left.expired());
  CHECK(server_left.expired());
  r.fired = counter.fired();
  r.operations = counter.operations();
  return r;
}

// `got` is the first messages of `sent`, in order, each once.
void check_prefix(const std::vector<std::string>& got, const std::vector<std::string>& sent) {
  REQUIRE(got.size() <= sent.size());
  for (std::size_t i = 0; i < got.size(); ++i)
    CHECK(got[i] == sent[i]);
}

// Runs the scenario for N = 1, 2, ... with `failing`'s transport failing with `error`;
// returns how many runs reached their Nth operation.
std::size_t walk(end failing, std::error_code error) {
  std::size_t n = 1;
  for (;; ++n) {
    INFO("failing end: " << (failing == end::client ? "client" : "server")
                         << ", error: " << error.message() << ", N=" << n);
    REQUIRE(n < 300); // a run is some tens of operations
    run_result r = run_failing(n, failing, error);
    const end_record& own = failing == end::client ? r.client : r.server;
    const end_record& peer = failing == end::client ? r.server : r.client;
    INFO("failing end's link lost: " << own.link_lost.front().message()
                                     << "; peer's: " << peer.link_lost.front().message());
    REQUIRE(r.client.link_lost.size() == 1); // exactly once: never lost, never twice
    REQUIRE(r.server.link_lost.size() == 1);
    check_prefix(r.client.received, messages(end::server));
    check_prefix(r.server.received, messages(end::client));
    const bool all_delivered = r.client.received.size() == messages(end::server).size() &&
                               r.server.received.size() == messages(end::client).size();
    const auto session_closed = make_error_code(core::channel_errc::session_closed);
    if (!r.fired) {
      // The run needed fewer than N operations: a clean end, and the walk is complete.
      CHECK(all_delivered);
      CHECK(r.client.link_lost.front() == session_closed);
      CHECK(r.server.link_lost.front() == session_closed);
      CHECK(r.operations == n - 1);
      return n - 1;
    }
    if (own.link_lost.front() != error) {
      // Only a failure after the session's end may go unreported: the close_notify that
      // teardown writes (best effort), the run's last operation.
      CHECK(own.link_lost.front() == session_closed);
      CHECK(all_delivered);
      CHECK(r.operations == n);
    }
    CHECK(peer.link_lost.front()); // the peer saw the connection end, for whatever reason
  }
}

} // namespace

TEST_CASE("session_runner: every read, write and wait of the client failing in turn",
          "[channel][fail_count]") {
  CHECK(walk(end::client, test::fail_count_errc::injected) > 5);
  // A vanished interface: the runner closes without a close_notify.
  CHECK(walk(end::client, asio::error::network_down) > 5);
}

TEST_CASE("session_runner: every read, write and wait of the server failing in turn",
          "[channel][fail_count]") {
  CHECK(walk(end::server, test::fail_count_errc::injected) > 5);
  CHECK(walk(end::server, asio::error::network_down) > 5);
}
