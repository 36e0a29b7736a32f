// lanyard-bench handshake: full and resumed TLS handshake time (median, p95) and full
// handshakes per second on one core, Lanyard's tls::stream (asio + engine + pin verifier)
// side by side with a plain mbedTLS client/server pair using the same cipher suites, curve,
// ALPN and the same key files. Both ends of each handshake run in this one thread over
// loopback TCP. The timed region is the same on both sides: one connection's TLS life on both
// ends, from creating the TLS state through the handshake (and the client keeping its session)
// to freeing it; TCP setup and closing the sockets are outside (see lanyard_run). The four
// runs of an iteration (each contender, full and resumed) change order every iteration
// (order_of). A failed run is counted (`failed_runs`), not fatal; the exit status is then 1.
#include "bench.hpp"

#include "plain_pair.hpp"

#include "support/scratch_dir.hpp"

#include <lanyard/tls/stream.hpp>
#include <lanyard/tls_engine/context.hpp>
#include <lanyard/tls_engine/identity.hpp>
#include <lanyard/tls_engine/identity_files.hpp>

#include <asio/error.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace lanyard::bench {
namespace {

namespace fs = std::filesystem;
using asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

struct tcp_pair {
  tcp::socket client;
  tcp::socket server;
};

tcp_pair connect_loopback(asio::io_context& io, tcp::acceptor& acceptor) {
  tcp::socket client(io);
  client.connect(acceptor.local_endpoint());
  tcp::socket server = acceptor.accept();
  for (tcp::socket* sock : {&client, &server}) {
    sock->set_option(tcp::no_delay(true));
    sock->non_blocking(true); // here, not in the timed region of either contender
  }
  return {std::move(client), std::move(server)};
}

double ms_since(clock_type::time_point t0) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
}

struct temp_dir : lanyard::test::scratch_dir {
  temp_dir() : scratch_dir("lanyard-bench-hs") {}
};

enum contender : int { lanyard_tls = 0, plain_mbedtls = 1 };
enum kind : int { full = 0, resumed = 1 };
constexpr std::array<const char*, 2> contender_key = {"lanyard", "mbedtls"};
constexpr std::array<const char*, 2> kind_key = {"full", "resumed"};
constexpr const char* peer_id = "bench-accessory";
constexpr double full_goal = 1.1;    // Lanyard's full handshake median / the plain pair's
constexpr double resumed_goal = 1.1; // Lanyard's resumed handshake median / the plain pair's
constexpr int max_failures = 10;     // then the run stops: something is broken, not slow

// One run: which contender does which handshake.
struct slot {
  contender who;
  kind what;
};

// The order of the four runs of iteration i. Over four iterations each contender goes first
// twice, full handshakes come first twice, and the run before each contender's resumed (and
// full) handshake is of the same mix for both contenders (cyclically: one full and three
// resumed before a resumed run, three full and one resumed before a full one), so that cache,
// branch-predictor and frequency effects of the previous run hit both alike.
std::array<slot, 4> order_of(long long i) {
  static constexpr std::array<std::array<slot, 4>, 4> orders = {{
      {{{lanyard_tls, full},
        {plain_mbedtls, full},
        {lanyard_tls, resumed},
        {plain_mbedtls, resumed}}},
      {{{plain_mbedtls, resumed},
        {lanyard_tls, resumed},
        {plain_mbedtls, full},
        {lanyard_tls, full}}},
      {{{plain_mbedtls, full},
        {lanyard_tls, full},
        {plain_mbedtls, resumed},
        {lanyard_tls, resumed}}},
      {{{lanyard_tls, resumed},
        {plain_mbedtls, resumed},
        {lanyard_tls, full},
        {plain_mbedtls, full}}},
  }};
  return orders[static_cast<std::size_t>(i % 4)];
}

struct setup {
  asio::io_context io;
  tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::address_v4::loopback(), 0)};
  std::unique_ptr<tls::context> client_ctx, server_ctx;
  std::unique_ptr<tls::detail::plain_pair> plain;
};

// The timed region, the same on both sides: one connection's whole TLS life on both ends -
// creating the TLS state (Lanyard: two tls::stream; plain: mbedtls_ssl_init + setup), the
// handshake until both ends completed it, the client keeping its session for the next
// resumption (Lanyard's engine does it inside the handshake, the plain client calls
// mbedtls_ssl_get_session), and freeing the TLS state (Lanyard: ~stream; plain:
// mbedtls_ssl_free). Outside on both sides: TCP connect/accept, TCP_NODELAY, O_NONBLOCK, and
// closing the sockets (the Lanyard streams hand their sockets back before they are destroyed).
// Returns milliseconds, or a negative value with `error` set.
double lanyard_run(setup& s, kind k, bool& was_resumed, std::string& error) {
  auto [c_sock, s_sock] = connect_loopback(s.io, s.acceptor);
  // A full handshake is a client's first connection to the peer: no session to offer. Both
  // kinds set the peer id, so both keep the new session, as the plain client does.
  if (k == full) s.client_ctx->forget_session(peer_id);
  std::error_code cec = asio::error::would_block, sec = asio::error::would_block;
  bool c_resumed = false, s_resumed = false;
  const auto t0 = clock_type::now();
  {
    tls::stream<tcp::socket> client(std::move(c_sock), *s.client_ctx);
    tls::stream<tcp::socket> server(std::move(s_sock), *s.server_ctx);
    client.set_peer_id(peer_id);
    client.async_handshake(tls::role::client, [&](std::error_code ec) { cec = ec; });
    server.async_handshake(tls::role::server, [&](std::error_code ec) { sec = ec; });
    s.io.run();
    c_resumed = client.resumed();
    s_resumed = server.resumed();
    if (cec || sec)
      error = "client: " + cec.message() + "; server: " + sec.message() + " (" +
              client.last_error_detail() + " | " + server.last_error_detail() + ")";
    c_sock = std::move(client.next_layer());
    s_sock = std::move(server.next_layer());
  }
  const double ms = ms_since(t0);
  s.io.restart();
  was_resumed = c_resumed && s_resumed;
  if (!error.empty()) return -1;
  if (c_resumed != s_resumed) {
    error = c_resumed ? "only the client resumed" : "only the server resumed";
    return -1;
  }
  return ms;
}

double plain_run(setup& s, kind k, bool& was_resumed, std::string& error) {
  auto [c_sock, s_sock] = connect_loopback(s.io, s.acceptor);
  const auto t0 = clock_type::now();
  const int ret = s.plain->handshake(c_sock.native_handle(), s_sock.native_handle(), k == resumed,
                                     was_resumed, error);
  const double ms = ms_since(t0);
  return ret == 0 ? ms : -1;
}

// One run of `sl`; false (and `error`) on any failure, including a full handshake that
// resumed or a resumed one that was full.
bool run_once(setup& s, slot sl, std::vector<double>& out, std::string& error) {
  error.clear();
  bool was_resumed = false;
  const double ms = sl.who == lanyard_tls ? lanyard_run(s, sl.what, was_resumed, error)
                                          : plain_run(s, sl.what, was_resumed, error);
  if (ms >= 0 && was_resumed != (sl.what == resumed))
    error =
        sl.what == full ? "the full handshake was resumed" : "the resumed handshake was a full one";
  if (ms < 0 || !error.empty()) return false;
  out.push_back(ms);
  return true;
}

int fail(const std::string& what) {
  std::fprintf(stderr, "lanyard-bench handshake: %s\n", what.c_str());
  return 1;
}

int run(const cli::parsed_args& args, cli::json_writer& out, std::vector<std::string>& lines) {
  std::string error;
  long long iterations = 200;
  if (auto v = args.value("iterations")) {
    auto n = cli::parse_integer(*v, 5, 1000000, "--iterations", error);
    if (!n) {
      std::fprintf(stderr, "lanyard-bench handshake: %s\n", error.c_str());
      return 2;
    }
    iterations = *n;
  }
  using plain_io = tls::detail::plain_pair::io_mode;
  plain_io io_mode = plain_io::buffered;
  if (auto v = args.value("plain-io")) {
    if (*v == "net") {
      io_mode = plain_io::mbedtls_net;
    } else if (*v != "buffered") {
      std::fprintf(stderr, "lanyard-bench handshake: --plain-io is buffered or net, not '%s'\n",
                   v->c_str());
      return 2;
    }
  }
  const char* io_name = io_mode == plain_io::buffered ? "buffered" : "net";

  temp_dir dir;
  if (dir.path.empty()) return fail("cannot create a temporary directory");
  core::error_detail id_error;
  tls::identity server_id =
      tls::identity_files::load_or_create(dir.path / "server", peer_id, id_error);
  tls::identity client_id;
  if (!id_error)
    client_id =
        tls::identity_files::load_or_create(dir.path / "client", "bench-controller", id_error);
  if (id_error) return fail(id_error.message());
  auto pin = [](core::fingerprint expected) {
    return [expected](const core::fingerprint& fp, const tls::peer_cert_info&) {
      return fp == expected ? std::error_code{}
                            : std::make_error_code(std::errc::permission_denied);
    };
  };
  tls::context_options copt, sopt;
  copt.verifier = pin(server_id.fingerprint());
  sopt.verifier = pin(client_id.fingerprint());
  setup s;
  s.client_ctx = std::make_unique<tls::context>(client_id, copt);
  s.server_ctx = std::make_unique<tls::context>(server_id, sopt);
  s.plain =
      tls::detail::plain_pair::create(dir.path / "server", dir.path / "client", io_mode, error);
  if (!s.plain) return fail(error);

  // samples[contender][kind]
  std::array<std::array<std::vector<double>, 2>, 2> samples;
  // Warm-up (not counted): one cycle of the four orders; it also leaves each client a session.
  for (long long i = 0; i < 4; ++i) {
    for (slot sl : order_of(i)) {
      std::vector<double> ignored;
      if (!run_once(s, sl, ignored, error))
        return fail(std::string("warm-up ") + contender_key[sl.who] + " " + kind_key[sl.what] +
                    ": " + error);
    }
  }
  const auto started = clock_type::now();
  int failures = 0;
  bool gave_up = false;
  for (long long i = 0; i < iterations && !gave_up; ++i) {
    for (slot sl : order_of(i)) {
      if (run_once(s, sl, samples[sl.who][sl.what], error)) continue;
      ++failures;
      std::fprintf(stderr, "lanyard-bench handshake: %s %s run %lld: %s\n", contender_key[sl.who],
                   kind_key[sl.what], i, error.c_str());
      if (failures >= max_failures) {
        std::fprintf(stderr, "lanyard-bench handshake: %d failed runs; stopping\n", failures);
        gave_up = true;
        break;
      }
    }
  }
  const double total_s = ms_since(started) / 1e3;

  auto per_second = [](const std::vector<double>& ms) {
    double total = 0;
    for (double v : ms)
      total += v;
    return total > 0 ? 1000.0 * static_cast<double>(ms.size()) / total : 0.0;
  };
  const summary lf = summarize(samples[lanyard_tls][full]),
                pf = summarize(samples[plain_mbedtls][full]),
                lr = summarize(samples[lanyard_tls][resumed]),
                pr = summarize(samples[plain_mbedtls][resumed]);
  auto ratio = [](const summary& a, const summary& b) {
    return a.runs > 0 && b.runs > 0 && b.median > 0 ? a.median / b.median : 0.0;
  };
  const double full_ratio = ratio(lf, pf);
  const double resumed_ratio = ratio(lr, pr);
  const double resumed_over_full = ratio(lr, lf);
  const bool full_met = full_ratio > 0 && full_ratio <= full_goal;
  const bool resumed_met = resumed_ratio > 0 && resumed_ratio <= resumed_goal;
  const double l_rate = per_second(samples[lanyard_tls][full]);
  const double p_rate = per_second(samples[plain_mbedtls][full]);

  out.begin_object();
  out.key("full_ms").begin_object().key("lanyard");
  write_summary(out, lf);
  out.key("mbedtls");
  write_summary(out, pf);
  out.end_object();
  out.key("resumed_ms").begin_object().key("lanyard");
  write_summary(out, lr);
  out.key("mbedtls");
  write_summary(out, pr);
  out.end_object();
  out.key("full_per_second")
      .begin_object()
      .key("lanyard")
      .value(l_rate)
      .key("mbedtls")
      .value(p_rate)
      .end_object();
  out.key("full_ratio_vs_mbedtls").value(full_ratio);
  out.key("resumed_ratio_vs_mbedtls").value(resumed_ratio);
  out.key("resumed_over_full").value(resumed_over_full); // information, no goal
  out.key("goals")
      .begin_object()
      .key("full_ratio_vs_mbedtls_max")
      .value(full_goal)
      .key("full_ratio_vs_mbedtls_met")
      .value(full_met)
      .key("resumed_ratio_vs_mbedtls_max")
      .value(resumed_goal)
      .key("resumed_ratio_vs_mbedtls_met")
      .value(resumed_met)
      .end_object();
  out.key("plain_io").value(io_name);
  out.key("iterations").value(static_cast<std::int64_t>(iterations));
  out.key("failed_runs").value(failures);
  out.key("seconds").value(total_s);
  out.end_object();

  char line[256];
  std::snprintf(line, sizeof line,
                "full handshake:    lanyard median %.3f ms p95 %.3f ms | mbedtls median %.3f ms "
                "p95 %.3f ms (%zu / %zu runs)",
                lf.median, lf.p95, pf.median, pf.p95, lf.runs, pf.runs);
  lines.emplace_back(line);
  std::snprintf(line, sizeof line,
                "resumed handshake: lanyard median %.3f ms p95 %.3f ms | mbedtls median %.3f ms "
                "p95 %.3f ms (%zu / %zu runs)",
                lr.median, lr.p95, pr.median, pr.p95, lr.runs, pr.runs);
  lines.emplace_back(line);
  std::snprintf(line, sizeof line,
                "full handshakes/s on one core (both ends): lanyard %.1f | mbedtls %.1f", l_rate,
                p_rate);
  lines.emplace_back(line);
  std::snprintf(line, sizeof line, "full_ratio_vs_mbedtls %.3f (goal <= %.1f) %s", full_ratio,
                full_goal, full_met ? "met" : "NOT met");
  lines.emplace_back(line);
  std::snprintf(line, sizeof line, "resumed_ratio_vs_mbedtls %.3f (goal <= %.1f) %s", resumed_ratio,
                resumed_goal, resumed_met ? "met" : "NOT met");
  lines.emplace_back(line);
  std::snprintf(line, sizeof line, "resumed_over_full %.3f (information, no goal)",
                resumed_over_full);
  lines.emplace_back(line);
  std::snprintf(line, sizeof line,
                "iterations: %lld, failed runs: %d (%.1f s); plain pair's I/O: %s", iterations,
                failures, total_s, io_name);
  lines.emplace_back(line);

  if (failures > 0) {
    std::fprintf(stderr, "lanyard-bench handshake: %d run(s) failed (see above)\n", failures);
    return 1;
  }
  return 0;
}

const benchmark bench_handshake{
    "handshake",
    "TLS handshake time full/resumed and full handshakes/s vs a plain mbedTLS pair",
    "usage: lanyard-bench handshake [--iterations N] [--plain-io buffered|net] [--json]\n"
    "  Full and resumed handshakes over loopback TCP, Lanyard (tls::stream) and a plain\n"
    "  mbedTLS client/server pair with the same suites, curve, ALPN and keys, both ends in\n"
    "  this thread. Timed on both sides: TLS state creation, handshake, session kept by the\n"
    "  client, TLS state freed (TCP setup and close are not). The four runs of an iteration\n"
    "  change order every iteration. Goals: Lanyard <= 1.1x the plain pair, full and resumed\n"
    "  (medians). Exit status 1 if any run failed; a missed goal is reported, not an error.\n"
    "  --iterations N     handshakes of each kind per contender (default 200)\n"
    "  --plain-io MODE    the plain pair's socket I/O: buffered (default: one recv into a\n"
    "                     buffer, one send per handshake step, as Lanyard's engine does) or\n"
    "                     net (mbedtls_net_recv/send: a read per record header and body, a\n"
    "                     write per record; more system calls, a weaker baseline)\n",
    cli::arg_spec{{{"iterations", true}, {"plain-io", true}}, 0, 0},
    &run,
};
benchmark_registrar reg{bench_handshake};

} // namespace
} // namespace lanyard::bench
