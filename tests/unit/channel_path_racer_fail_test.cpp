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
//
// Then the Nth asynchronous step hangs instead of failing (fail_count::hanging), to walk the
// two ways an attempt ends while a step is pending:
//   the attempt bound: a short one, so that each hung attempt times out (asio::error::timed_out,
//   step "attempt_timeout"), its hung transport closed by the racer;
//   cancel(), posted when the step hangs: the race ends with operation_aborted, every attempt
//   closed, nothing named in `failures`.
// Every run also checks that each connection a server accepted was closed by the racer before
// the racer was freed (the server saw it end), so that no attempt is left open.
#include "support/fail_count.hpp"
#include "support/io_test_support.hpp"

#include "client/path_racer_impl.hpp"

#include <lanyard/channel/session_runner.hpp>
#include <lanyard/core/error_condition.hpp>
#include <lanyard/link/mptcp.hpp>
#include <lanyard/link/network_interface.hpp>
#include <lanyard/link/path_monitor.hpp>
#include <lanyard/link/socket_binding.hpp>
#include <lanyard/tls/stream.hpp>
#include <lanyard/trust/error.hpp>

#include <asio/error.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <utility>
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
  std::size_t ended = 0; // accepted connections whose handshake or read completed

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
        if (handshaken) {
          ++ended;
          return;
        }
        auto byte = std::make_shared<char>();
        asio::async_read(*raw, asio::buffer(byte.get(), 1),
                         [this, byte](std::error_code read, std::size_t) {
                           ++ended;
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

// What a counter does at its Nth step.
enum class fault {
  fail,   // fails it (every_attempt: and every later step of that attempt)
  hang,   // the Nth asynchronous step hangs: the attempt bound ends the attempt
  cancel, // the Nth asynchronous step hangs, and the race is cancelled while it does
};

// The checks every run must pass, whatever failed. `error`: what each failure reports, and the
// race when it has no winner.
void check_outcome(const outcome& o, std::size_t paths, std::error_code error, fault f,
                   const std::vector<std::uint16_t>& ports) {
  std::set<std::size_t> named;
  for (const auto& failure : o.failures) {
    INFO(failure.what);
    CHECK(named.insert(failure.index).second); // each attempt fails at most once
    REQUIRE(failure.index < paths);
    CHECK(failure.error == error);
    CHECK(failure.index < ports.size());
    // Which step failed (channel_path_racer_test has the sentence).
    CHECK_FALSE(failure.step.empty());
    if (f == fault::hang) CHECK(failure.step == "attempt_timeout"); // only the bound ended it
  }
  if (o.error) {
    CHECK_FALSE(o.stream);
    CHECK(o.error == error);
    // A lost race names every attempt; a cancelled one none (nothing had failed).
    CHECK(o.failures.size() == (f == fault::cancel ? 0 : paths));
  } else {
    CHECK(o.stream);
    CHECK(named.count(o.winner) == 0);
  }
}

enum class layout { every_attempt, once_in_race };
enum class start { one_after_another, all_at_once };

struct run_result {
  outcome out;
  std::set<std::size_t> fired;    // attempts whose counter fired (every_attempt)
  std::set<std::size_t> released; // attempts whose hung step ended by a close (hang, cancel)
  bool any_fired = false;
  std::chrono::steady_clock::duration decided{}; // from start() to the outcome
};

// One race over `paths` servers (path 0 pinned to lo, so the bind step is walked too) whose
// counters fail, or hang, at `n`; `bound`: the attempt bound.
run_result race_failing(std::size_t n, layout l, start s, std::size_t paths, std::error_code error,
                        fault f, std::chrono::milliseconds bound) {
  asio::io_context io;
  std::vector<std::unique_ptr<tls_server>> servers;
  std::vector<client::detail::path_target> targets;
  for (std::size_t i = 0; i < paths; ++i) {
    servers.push_back(std::make_unique<tls_server>(io, accessory_id()));
    targets.push_back(target(servers.back()->port(), i == 0));
  }
  std::weak_ptr<racer> to_cancel; // the racer, once made
  bool cancel_posted = false;
  std::vector<test::fail_count> counters;
  const std::size_t count = l == layout::every_attempt ? paths : 1;
  if (f == fault::fail) {
    counters.assign(count, test::fail_count(n, error,
                                            l == layout::every_attempt ? test::fail_count::from_nth
                                                                       : test::fail_count::once));
  } else {
    // The first step to hang posts the cancellation: it runs from a handler of its own, as a
    // user's would, and finds that step pending (every attempt hangs at its Nth step, so none
    // can win first).
    std::function<void()> at_hang;
    if (f == fault::cancel)
      at_hang = [&] {
        if (std::exchange(cancel_posted, true)) return;
        asio::post(io, [&to_cancel] {
          if (auto r = to_cancel.lock()) r->cancel();
        });
      };
    counters.assign(count, test::fail_count::hanging(n, at_hang));
  }

  client::detail::race_settings settings;
  settings.attempt_delay = s == start::one_after_another ? 1h : 0ms;
  settings.attempt_timeout = bound;
  client::trust_options trust;
  trust.device_id = "acc-race-fail";
  trust.expected_fingerprint = accessory_id().fingerprint();
  auto r = std::make_shared<racer>(io.get_executor(), tls::context(app_id()), trust, settings,
                                   failing_connector{&counters});
  to_cancel = r;

  run_result result;
  int completions = 0;
  std::optional<outcome> out;
  const auto started = std::chrono::steady_clock::now();
  r->start(targets, [&](outcome o) {
    result.decided = std::chrono::steady_clock::now() - started;
    ++completions;
    out = std::move(o);
  });
  REQUIRE(test::run_until(
      io, [&] { return out.has_value(); }, 30s));
  // What the counters saw when the race was decided; the byte below is not a step of it.
  for (std::size_t i = 0; i < counters.size(); ++i) {
    if (counters[i].fired()) {
      result.fired.insert(i);
      result.any_fired = true;
    }
    if (counters[i].released()) result.released.insert(i);
  }

  std::vector<std::uint16_t> ports;
  for (const auto& server : servers)
    ports.push_back(server->port());
  check_outcome(*out, paths, error, f, ports);
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
  // Every connection a server accepted ends while the racer still lives: the racer closed each
  // attempt (the winner's stream was closed above), its destructor did not have to. The bound
  // is below the handshake timeout (10 s), which would end a forgotten attempt too.
  CHECK(test::run_until(
      io,
      [&] {
        return std::all_of(servers.begin(), servers.end(), [](const auto& server) {
          return server->ended == server->streams.size();
        });
      },
      5s));

  // Tear down: whatever is still pending (a loser's aborted handshake, the servers' reads)
  // completes, the racer is freed, and then nothing is left on the loop.
  std::weak_ptr<racer> left = r;
  r.reset();
  for (auto& server : servers)
    server->close();
  result.out = std::move(*out);
  out.reset();
  io.restart();
  REQUIRE(test::run_until(
      io, [&] { return io.stopped(); }, 30s));
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

// `error`: what the counters inject (fault::fail), or what the racer reports for an attempt
// hung at its Nth step (fault::hang: timed_out) or for the race (fault::cancel:
// operation_aborted).
walk_result walk(layout l, start s, std::size_t paths,
                 std::error_code error = test::fail_count_errc::injected, fault f = fault::fail,
                 std::chrono::milliseconds bound = 1h) {
  walk_result w;
  for (std::size_t n = 1;; ++n) {
    INFO((l == layout::every_attempt ? "every attempt" : "once in the race")
         << ", " << (s == start::one_after_another ? "one after another" : "all at once") << ", "
         << paths << " paths, "
         << (f == fault::fail   ? "fails"
             : f == fault::hang ? "hangs"
                                : "hangs, cancelled")
         << ", error: " << error.message() << ", N=" << n);
    REQUIRE(n < 200); // a race is some tens of steps
    run_result r = race_failing(n, l, s, paths, error, f, bound);
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
    // Each hung step ended because the racer closed its transport, before the outcome.
    if (f != fault::fail) CHECK(r.released == r.fired);
    if (f == fault::cancel) {
      CHECK(r.out.error == core::condition::cancelled);
      continue;
    }
    std::set<std::size_t> named;
    for (const auto& failure : r.out.failures)
      named.insert(failure.index);
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

// An attempt bound that a clean attempt keeps well within on this build and machine (a
// sanitizer build is several times slower; a full handshake is some milliseconds): twenty times
// the slowest of three clean races (connect and handshake), and at least 20 ms. Generous: the
// path that must win after a hung one has to finish within it on a loaded CI machine too, and
// a walk waits for the bound only about fifteen times.
std::chrono::milliseconds short_attempt_bound() {
  accessory_id(); // key generation is not part of a race
  app_id();
  std::chrono::steady_clock::duration slowest{};
  for (int i = 0; i < 3; ++i) {
    run_result r = race_failing(1000, layout::once_in_race, start::one_after_another, 1,
                                test::fail_count_errc::injected, fault::fail, 1h);
    REQUIRE_FALSE(r.any_fired);
    slowest = std::max(slowest, r.decided);
  }
  return std::max(20ms, 20 * std::chrono::ceil<std::chrono::milliseconds>(slowest));
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

TEST_CASE("path_racer: the attempt bound ends an attempt hung at each step in turn",
          "[channel][fail_count]") {
  // The timer decides here, by design: the bound is short, but far beyond a clean attempt.
  const std::chrono::milliseconds bound = short_attempt_bound();
  INFO("attempt bound: " << bound.count() << " ms");
  // Every attempt hangs at its Nth asynchronous step (the connect, then each read, write and
  // wait of the handshake): each times out in turn and the race is lost with timed_out.
  walk_result w = walk(layout::every_attempt, start::one_after_another, 2, asio::error::timed_out,
                       fault::hang, bound);
  CHECK(w.runs > 3);
  CHECK(w.errors == w.runs);
  // One step of the race hangs: that attempt times out, and the next path wins.
  walk_result once = walk(layout::once_in_race, start::one_after_another, 2, asio::error::timed_out,
                          fault::hang, bound);
  CHECK(once.runs > 3);
  CHECK(once.wins_after_failure == once.runs);
}

TEST_CASE("path_racer: cancelled while each step in turn is pending", "[channel][fail_count]") {
  // One attempt at a time: the cancellation finds the first attempt at its Nth step.
  walk_result w = walk(layout::every_attempt, start::one_after_another, 2,
                       asio::error::operation_aborted, fault::cancel);
  CHECK(w.runs > 3);
  CHECK(w.errors == w.runs);
  // All at once: it finds the attempts at different steps, one of them hung.
  walk_result racing = walk(layout::every_attempt, start::all_at_once, 3,
                            asio::error::operation_aborted, fault::cancel);
  CHECK(racing.runs > 3);
  CHECK(racing.errors == racing.runs);
}
