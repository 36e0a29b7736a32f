// lanyard-bench handshake: full and resumed TLS handshake time (median, p95) and full
// handshakes per second on one core, Lanyard's tls::stream (asio + engine + pin verifier)
// side by side with a plain mbedTLS client/server pair using the same cipher suites, curve,
// ALPN and the same key files. Both sides of each handshake run in this one thread over
// loopback TCP; TCP connection setup is outside the timed region.
#include "bench.hpp"

#include "tls/plain_pair.hpp"

#include <lanyard/tls/context.hpp>
#include <lanyard/tls/identity.hpp>
#include <lanyard/tls/stream.hpp>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
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
  client.set_option(tcp::no_delay(true));
  server.set_option(tcp::no_delay(true));
  return {std::move(client), std::move(server)};
}

double ms_since(clock_type::time_point t0) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
}

struct temp_dir {
  fs::path path;
  temp_dir() {
    std::string tmpl = (fs::temp_directory_path() / "lanyard-bench-hs-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) != nullptr) path = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    if (!path.empty()) fs::remove_all(path, ec);
  }
};

// One Lanyard handshake; returns milliseconds or a negative value on failure.
double lanyard_handshake(asio::io_context& io, tcp::acceptor& acceptor, tls::context& client_ctx,
                         tls::context& server_ctx, bool resume, bool& resumed, std::string& error) {
  auto [c_sock, s_sock] = connect_loopback(io, acceptor);
  tls::stream<tcp::socket> client(std::move(c_sock), client_ctx);
  tls::stream<tcp::socket> server(std::move(s_sock), server_ctx);
  if (resume) client.set_peer_id("bench-accessory");
  std::error_code cec, sec;
  auto t0 = clock_type::now();
  client.async_handshake(tls::role::client, [&](std::error_code ec) { cec = ec; });
  server.async_handshake(tls::role::server, [&](std::error_code ec) { sec = ec; });
  io.run();
  double ms = ms_since(t0);
  io.restart();
  resumed = client.resumed() && server.resumed();
  if (cec || sec) {
    error = "lanyard handshake failed: client: " + cec.message() + "; server: " + sec.message() +
            " (" + client.last_error_detail() + server.last_error_detail() + ")";
    return -1;
  }
  return ms;
}

double plain_handshake(asio::io_context& io, tcp::acceptor& acceptor, tls::detail::plain_pair& p,
                       bool resume, bool& resumed, std::string& error) {
  auto [c_sock, s_sock] = connect_loopback(io, acceptor);
  auto t0 = clock_type::now();
  int ret = p.handshake(c_sock.native_handle(), s_sock.native_handle(), resume, resumed, error);
  double ms = ms_since(t0);
  if (ret != 0) {
    error = "plain mbedTLS handshake failed: " + error;
    return -1;
  }
  return ms;
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

  temp_dir dir;
  if (dir.path.empty()) {
    std::fprintf(stderr, "lanyard-bench handshake: cannot create a temporary directory\n");
    return 1;
  }
  std::error_code ec;
  std::string detail;
  tls::identity server_id =
      tls::identity::load_or_create(dir.path / "server", "bench-accessory", ec, &detail);
  tls::identity client_id;
  if (!ec)
    client_id = tls::identity::load_or_create(dir.path / "client", "bench-controller", ec, &detail);
  if (ec) {
    std::fprintf(stderr, "lanyard-bench handshake: %s\n", detail.c_str());
    return 1;
  }
  auto pin = [](core::fingerprint expected) {
    return [expected](const core::fingerprint& fp, const tls::peer_cert_info&) {
      return fp == expected ? std::error_code{}
                            : std::make_error_code(std::errc::permission_denied);
    };
  };
  tls::context_options copt, sopt;
  copt.verifier = pin(server_id.fingerprint());
  sopt.verifier = pin(client_id.fingerprint());
  tls::context client_ctx(client_id, copt);
  tls::context server_ctx(server_id, sopt);
  auto plain = tls::detail::plain_pair::create(dir.path / "server", dir.path / "client", error);
  if (!plain) {
    std::fprintf(stderr, "lanyard-bench handshake: %s\n", error.c_str());
    return 1;
  }

  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  std::vector<double> l_full, p_full, l_res, p_res;
  bool resumed = false;
  // Prime the session caches (and warm up), then interleave the contenders so that drift
  // (frequency scaling, other load) hits both alike.
  for (int i = 0; i < 5; ++i) {
    if (lanyard_handshake(io, acceptor, client_ctx, server_ctx, true, resumed, error) < 0 ||
        plain_handshake(io, acceptor, *plain, true, resumed, error) < 0) {
      std::fprintf(stderr, "lanyard-bench handshake: %s\n", error.c_str());
      return 1;
    }
  }
  for (long long i = 0; i < iterations; ++i) {
    double a = lanyard_handshake(io, acceptor, client_ctx, server_ctx, false, resumed, error);
    if (a >= 0 && resumed) error = "lanyard: a full handshake was resumed";
    double b = a < 0 ? -1 : plain_handshake(io, acceptor, *plain, false, resumed, error);
    if (b >= 0 && resumed) error = "mbedtls: a full handshake was resumed";
    double c =
        b < 0 ? -1 : lanyard_handshake(io, acceptor, client_ctx, server_ctx, true, resumed, error);
    if (c >= 0 && !resumed) error = "lanyard: the resumed handshake was a full one";
    double d = c < 0 ? -1 : plain_handshake(io, acceptor, *plain, true, resumed, error);
    if (d >= 0 && !resumed) error = "mbedtls: the resumed handshake was a full one";
    if (a < 0 || b < 0 || c < 0 || d < 0 || !error.empty()) {
      std::fprintf(stderr, "lanyard-bench handshake: %s\n", error.c_str());
      return 1;
    }
    l_full.push_back(a);
    p_full.push_back(b);
    l_res.push_back(c);
    p_res.push_back(d);
  }

  auto per_second = [](const std::vector<double>& ms) {
    double total = 0;
    for (double v : ms)
      total += v;
    return total > 0 ? 1000.0 * static_cast<double>(ms.size()) / total : 0.0;
  };
  summary lf = summarize(l_full), pf = summarize(p_full), lr = summarize(l_res),
          pr = summarize(p_res);
  double full_ratio = pf.median > 0 ? lf.median / pf.median : 0;
  double resumed_over_full = lf.median > 0 ? lr.median / lf.median : 0;
  double l_rate = per_second(l_full), p_rate = per_second(p_full);

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
  out.key("resumed_over_full").value(resumed_over_full);
  out.key("goals")
      .begin_object()
      .key("full_ratio_vs_mbedtls_max")
      .value(1.1)
      .key("resumed_over_full_max")
      .value(0.5)
      .end_object();
  out.end_object();

  char line[256];
  std::snprintf(line, sizeof line,
                "full handshake:    lanyard median %.3f ms p95 %.3f ms | mbedtls median %.3f ms "
                "p95 %.3f ms (%lld runs)",
                lf.median, lf.p95, pf.median, pf.p95, iterations);
  lines.emplace_back(line);
  std::snprintf(line, sizeof line,
                "resumed handshake: lanyard median %.3f ms p95 %.3f ms | mbedtls median %.3f ms "
                "p95 %.3f ms",
                lr.median, lr.p95, pr.median, pr.p95);
  lines.emplace_back(line);
  std::snprintf(line, sizeof line,
                "full handshakes/s on one core (both ends): lanyard %.1f | mbedtls %.1f", l_rate,
                p_rate);
  lines.emplace_back(line);
  std::snprintf(line, sizeof line, "full_ratio_vs_mbedtls %.3f (goal <= 1.1) %s", full_ratio,
                full_ratio <= 1.1 ? "met" : "NOT met");
  lines.emplace_back(line);
  std::snprintf(line, sizeof line, "resumed_over_full %.3f (goal <= 0.5) %s", resumed_over_full,
                resumed_over_full <= 0.5 ? "met" : "NOT met");
  lines.emplace_back(line);
  return 0;
}

const benchmark bench_handshake{
    "handshake",
    "TLS handshake time full/resumed and full handshakes/s vs a plain mbedTLS pair",
    "usage: lanyard-bench handshake [--iterations N] [--json]\n"
    "  Full and resumed handshakes over loopback TCP, Lanyard (tls::stream) and a plain\n"
    "  mbedTLS client/server pair with the same suites, curve, ALPN and keys, interleaved.\n"
    "  --iterations N   handshakes of each kind per contender (default 200)\n",
    cli::arg_spec{{{"iterations", true}}, 0, 0},
    &run,
};
benchmark_registrar reg{bench_handshake};

} // namespace
} // namespace lanyard::bench
