// The path racer's error paths, walked with tests/support/fail_count.hpp: the racer runs over a
// connector whose transports ask a fail_count before every step of an attempt (open, pin to
// the interface, TCP connect, configure, each read, write and wait of the TLS handshake), and
// races loopback paths to real TLS servers presenting the accessory's key, for N = 1, 2, 3, ...
// until a run no longer reaches the Nth step. Every run must end with exactly one completion:
// a winner whose stream carries a byte to its server, or the race's error with every attempt
// named in `failures`; each failure is the injected one, named with its path; and once the
// outcome is dropped the racer is freed and nothing is left on the loop.
//
// Two kinds of counter, each walked with attempts one after the other (an attempt delay far beyond
// a run: the next starts only when one failed, so the sequence of steps is the same every run) and
// once all at once (no delay: losers are aborted mid-handshake, failures arrive after the race was
// decided):
//   every attempt fails from its own Nth step on (each path broken at the same place);
//   one counter for the whole race fails only its Nth step (one path breaks once).
// No clock decides anything: the attempt bound is far beyond a run as well.
#include "support/fail_count.hpp"
#include "support/io_test_support.hpp"

#include "client/path_racer_impl.hpp"

#include <lanyard/channel/session_runner.hpp>
#include <lanyard/link/mptcp.hpp>
#include <lanyard/link/network_interface.hpp>
#include <lanyard/link/path_monitor.hpp>
#include <lanyard/link/socket_binding.hpp>
#include <lanyard/tls/stream.hpp>
#include <lanyard/trust/error.hpp>

#include <asio/error.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <vector>

using namespace lanyard;
using namespace std::chrono_literals;
using asio::ip::tcp;

namespace {

// Gives attempt i the transport counting with counters[i], or with the one shared counter.
struct failing_connector {
  using next_layer_type = test::fail_transport;

  std::vector<test::fail_count>* counters = nullptr;

  test::fail_count* counter(std::size_t attempt) const {
    return &(*counters)[counters->size() == 1 ? 0 : attempt];
  }
  next_layer_type make(asio::any_io_executor ex, std::size_t attempt) {
    return next_layer_type(ex, counter(attempt));
  }
  std::error_code open(next_layer_type& s, tcp family, link::transport_protocol transport) {
    std::error_code ec;
    if (s.fail_step(ec)) return ec;
    return link::open_socket(s.socket(), family, transport);
  }
  std::error_code bind(next_layer_type& s, const link::network_interface& iface,
                       const asio::ip::address& destination) {
    std::error_code ec;
    if (s.fail_step(ec)) return ec;
    return link::bind_to_interface(s.socket(), iface, destination).code;
  }
  std::error_code configure(next_layer_type& s, std::chrono::milliseconds user_timeout) {
    std::error_code ec;
    if (s.fail_step(ec)) return ec;
    return channel::detail::configure_socket(s.socket(), user_timeout);
  }
};

using racer = client::detail::basic_path_racer<failing_connector>;
using outcome = racer::outcome_type;
using server_stream = channel::detail::tls_stream;

const tls::identity& accessory_id() {
  static tls::identity id = test::make_identity("acc-race-fail");
  return id;
}
const tls::identity& app_id() {
  static tls::identity id = test::make_identity("app-race-fail");
  return id;
}

// The accessory on one path: a TLS server that accepts any client certificate and, once a
// handshake completed, reads one byte (the proof that the winner's stream works).
struct tls_server {
  tcp::acceptor acceptor;
  tls::context ctx;
  std::vector<std::unique_ptr<server_stream>> streams;
  std::vector<char> received;

  tls_server(asio::io_context& io, const tls::identity& id)
      : acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0)), ctx(id) {
    accept();
  }
  void accept() {
    acceptor.async_accept([this](std::error_code ec, tcp::socket s) {
      if (ec) return;
      auto st = std::make_unique<server_stream>(std::move(s), ctx);
      st->set_verifier(
          [](const core::fingerprint&, const tls::peer_cert_info&) { return std::error_code(); });
      server_stream* raw = st.get();
      st->async_handshake(tls::role::server, [this, raw](std::error_code handshaken) {
        if (handshaken) return;
        auto byte = std::make_shared<char>();
        asio::async_read(*raw, asio::buffer(byte.get(), 1),
                         [this, byte](std::error_code read, std::size_t) {
                           if (!read) received.push_back(*byte);
                         });
      });
      streams.push_back(std::move(st));
      accept();
    });
  }
  void close() {
    std::error_code ignored;
    acceptor.close(ignored);
    for (auto& s : streams)
      s->next_layer().close(ignored);
  }
  std::uint16_t port() const { return acceptor.local_endpoint().port(); }
};

// The loopback interface as the kernel reports it, to pin a path to it.
link::network_interface loopback() {
  link::link_error error;
  for (auto& i : link::query_interfaces(error))
    if (i.kind == link::interface_kind::loopback) return i;
  FAIL("no loopback interface: " << error.message());
  return {};
}

client::detail::path_target target(std::uint16_t port, bool pinned) {
  client::detail::path_target t;
  t.path.address = "127.0.0.1";
  t.path.interface_name = "lo";
  t.path.kind = core::interface_kind::loopback;
  t.endpoint = tcp::endpoint(asio::ip::address_v4::loopback(), port);
  if (pinned) t.bind_to = loopback();
  return t;
}

// The checks every run must pass, whatever failed.
void check_outcome(const outcome& o, std::size_t paths, std::error_code error,
                   const std::vector<std::uint16_t>& ports) {
  std::set<std::size_t> named;
  for (const auto& f : o.failures) {
    INFO(f.what);
    CHECK(named.insert(f.index).second); // each attempt fails at most once
    REQUIRE(f.index < paths);
    CHECK(f.error == error);
    CHECK(f.index < ports.size());
    CHECK_FALSE(f.step.empty()); // which step failed (channel_path_racer_test has the sentence)
  }
  if (o.error) {
    CHECK_FALSE(o.stream);
    CHECK(o.failures.size() == paths); // every attempt is named
    CHECK(o.error == error);
  } else {
    CHECK(o.stream);
    CHECK(named.count(o.winner) == 0);
  }
}

enum class layout { every_attempt, once_in_race };
enum class start { one_after_another, all_at_once };

struct run_result {
  outcome out;
  std::set<std::size_t> fired; // attempts whose counter fired (every_attempt)
  bool any_fired = false;
};

// One race over `paths` servers (path 0 pinned to lo, so the bind step is walked too) whose
// counters fail at `n`.
run_result race_failing(std::size_t n, layout l, start s, std::size_t paths,
                        std::error_code error) {
  asio::io_context io;
  std::vector<std::unique_ptr<tls_server>> servers;
  std::vector<client::detail::path_target> targets;
  for (std::size_t i = 0; i < paths; ++i) {
    servers.push_back(std::make_unique<tls_server>(io, accessory_id()));
    targets.push_back(target(servers.back()->port(), i == 0));
  }
  std::vector<test::fail_count> counters;
  if (l == layout::every_attempt)
    counters.assign(paths, test::fail_count(n, error));
  else
    counters.assign(1, test::fail_count(n, error, test::fail_count::once));

  client::detail::race_settings settings;
  settings.attempt_delay = s == start::one_after_another ? 1h : 0ms;
  settings.attempt_timeout = 1h;
  client::trust_options trust;
  trust.device_id = "acc-race-fail";
  trust.expected_fingerprint = accessory_id().fingerprint();
  auto r = std::make_shared<racer>(io.get_executor(), tls::context(app_id()), trust, settings,
                                   failing_connector{&counters});

  run_result result;
  int completions = 0;
  std::optional<outcome> out;
  r->start(targets, [&](outcome o) {
    ++completions;
    out = std::move(o);
  });
  REQUIRE(test::run_until(io, [&] { return out.has_value(); }));
  // What the counters saw when the race was decided; the byte below is not a step of it.
  for (std::size_t i = 0; i < counters.size(); ++i)
    if (counters[i].fired()) {
      result.fired.insert(i);
      result.any_fired = true;
    }

  std::vector<std::uint16_t> ports;
  for (const auto& server : servers)
    ports.push_back(server->port());
  check_outcome(*out, paths, error, ports);
  if (!out->error) {
    REQUIRE(out->stream);
    REQUIRE(out->winner < paths);
    out->stream->next_layer().set_fail_count(nullptr);
    const char byte = 'x';
    std::optional<std::error_code> sent;
    asio::async_write(*out->stream, asio::buffer(&byte, 1),
                      [&](std::error_code ec, std::size_t) { sent = ec; });
    tls_server& server = *servers[out->winner];
    REQUIRE(test::run_until(io, [&] { return sent && !server.received.empty(); }));
    CHECK_FALSE(*sent);
    CHECK(server.received == std::vector<char>{'x'});
    out->stream.reset(); // closes it; it must not outlive the loop
  }

  // Tear down: whatever is still pending (a loser's aborted handshake, the servers' reads)
  // completes, the racer is freed, and then nothing is left on the loop.
  std::weak_ptr<racer> left = r;
  r.reset();
  for (auto& server : servers)
    server->close();
  result.out = std::move(*out);
  out.reset();
  io.restart();
  REQUIRE(test::run_until(io, [&] { return io.stopped(); }));
  CHECK(left.expired());
  CHECK(completions == 1);
  for (std::size_t i = 0; i < paths; ++i)
    CHECK(servers[i]->received.size() == (!result.out.error && i == result.out.winner ? 1u : 0u));
  return result;
}

struct walk_result {
  std::size_t runs = 0; // runs that reached their Nth step
  std::size_t errors = 0;
  std::size_t wins_after_failure = 0;
};

walk_result walk(layout l, start s, std::size_t paths,
                 std::error_code error = test::fail_count_errc::injected) {
  walk_result w;
  for (std::size_t n = 1;; ++n) {
    INFO((l == layout::every_attempt ? "every attempt" : "once in the race")
         << ", " << (s == start::one_after_another ? "one after another" : "all at once") << ", "
         << paths << " paths, error: " << error.message() << ", N=" << n);
    REQUIRE(n < 200); // a race is some tens of steps
    run_result r = race_failing(n, l, s, paths, error);
    INFO("outcome: " << (r.out.error ? r.out.error.message()
                                     : "winner " + std::to_string(r.out.winner))
                     << ", " << r.out.failures.size() << " failures");
    if (!r.any_fired) {
      // The race needed fewer than N steps: the first path won untouched; the walk is over.
      CHECK_FALSE(r.out.error);
      CHECK(r.out.failures.empty());
      return w;
    }
    ++w.runs;
    if (r.out.error)
      ++w.errors;
    else if (!r.out.failures.empty())
      ++w.wins_after_failure;
    std::set<std::size_t> named;
    for (const auto& f : r.out.failures)
      named.insert(f.index);
    if (s == start::one_after_another) {
      // One attempt at a time: exactly the attempts whose step failed are named.
      if (l == layout::every_attempt)
        CHECK(named == r.fired);
      else
        CHECK(r.out.failures.size() == 1);
    } else {
      // A loser aborted when another path won is not a failure, even if its counter fired.
      CHECK(r.out.failures.size() <= paths);
    }
    if (l == layout::once_in_race) CHECK_FALSE(r.out.error); // one broken step: another path
  }
}

} // namespace

TEST_CASE("path_racer: every step of every attempt failing in turn", "[channel][fail_count]") {
  // Until N passes the first path's step count every path fails; then one path wins, perhaps
  // after the first failed at its last step (the second is not pinned: one step fewer).
  walk_result w = walk(layout::every_attempt, start::one_after_another, 2);
  CHECK(w.runs > 5);
  CHECK(w.errors > 0);
  // A refusal on every path is the race's error (final for the channel).
  walk_result refused =
      walk(layout::every_attempt, start::one_after_another, 2, trust::trust_errc::payload_mismatch);
  CHECK(refused.errors > 0);
  walk_result racing = walk(layout::every_attempt, start::all_at_once, 3);
  CHECK(racing.runs > 5);
}

TEST_CASE("path_racer: one step of the race failing, the next path wins", "[channel][fail_count]") {
  walk_result w = walk(layout::once_in_race, start::one_after_another, 2);
  CHECK(w.runs > 5);
  CHECK(w.wins_after_failure == w.runs);
  walk_result racing = walk(layout::once_in_race, start::all_at_once, 3);
  CHECK(racing.runs > 5);
}
