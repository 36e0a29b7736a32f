// lanyard-bench failover's Lanyard contender: an accessory::server that times message arrivals
// and a client_channel that streams to it over static paths on wlan0 and p2p0 (no discovery in
// the measurement: the same two paths MPTCP gets). The session settings are the library's
// defaults (core::session_settings{}) unless the bench passes --keepalive-ms and
// --peer-timeout-ms (its "tuned" contender); both ends use the same.
#include "failover_peer.hpp"

#include <lanyard/accessory/server.hpp>
#include <lanyard/client/client_channel.hpp>
#include <lanyard/tls_engine/identity.hpp>
#include <lanyard/tls_engine/identity_files.hpp>
#include <lanyard/trust/controller_store.hpp>

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>

namespace lanyard::bench {
namespace {

using clock_type = std::chrono::steady_clock;
constexpr auto send_interval = std::chrono::milliseconds(2);

int fail(const std::string& what) {
  std::fprintf(stderr, "failover peer: %s\n", what.c_str());
  return 1;
}

std::optional<tls::identity> load(const std::filesystem::path& dir, std::string& error) {
  core::error_detail id_error;
  tls::identity id = tls::identity_files::load(dir, id_error);
  if (id_error) {
    error = id_error.message();
    return std::nullopt;
  }
  return id;
}

// The library's defaults, or the keep-alive interval and peer timeout the bench asks for.
core::session_settings session_from(const cli::parsed_args& args) {
  core::session_settings s;
  if (auto v = args.value("keepalive-ms"))
    s.keepalive_interval = std::chrono::milliseconds(std::atoll(v->c_str()));
  if (auto v = args.value("peer-timeout-ms"))
    s.peer_timeout = std::chrono::milliseconds(std::atoll(v->c_str()));
  return s;
}

} // namespace

bool prepare_lanyard_peers(const std::string& dir, std::string& error) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return error = dir + ": " + ec.message(), false;
  core::error_detail id_error;
  tls::identity acc =
      tls::identity_files::load_or_create(fs::path(dir) / "acc", "bench-acc", id_error);
  if (id_error) return error = "accessory identity: " + id_error.message(), false;
  tls::identity app =
      tls::identity_files::load_or_create(fs::path(dir) / "app", "bench-app", id_error);
  if (id_error) return error = "app identity: " + id_error.message(), false;
  trust::controller_store store(fs::path(dir) / "controllers");
  if (auto s = store.load(); s.failed()) return error = s.message(), false;
  if (!store.find(app.fingerprint())) {
    const auto now = std::chrono::system_clock::now();
    if (auto s = store.open_window(now); s.failed()) return error = s.message(), false;
    if (auto s = store.pair(app.fingerprint(), "bench", trust::controller_role::user, now);
        s.failed())
      return error = s.message(), false;
    if (auto s = store.close_window(); s.failed()) return error = s.message(), false;
  }
  return true;
}

int lanyard_server(const cli::parsed_args& args) {
  const std::filesystem::path dir = args.value("dir").value_or(".");
  const auto port =
      static_cast<std::uint16_t>(std::atoi(args.value("port").value_or("5556").c_str()));
  std::string error;
  auto me = load(dir / "acc", error);
  if (!me) return fail("accessory identity: " + error);
  auto store = std::make_shared<trust::controller_store>(dir / "controllers");
  if (auto s = store->load(); s.failed()) return fail(s.message());
  asio::io_context io;
  accessory::server_options o;
  o.session = session_from(args);
  o.log = [](std::string_view l) {
    std::fprintf(stderr, "%lld %.*s\n",
                 static_cast<long long>(clock_type::now().time_since_epoch().count() / 1000000),
                 static_cast<int>(l.size()), l.data());
  };
  accessory::server srv(io.get_executor(), tls::context(*me), store, o);
  arrival_reporter arrivals(late_threshold(args));
  srv.set_message_handler([&](const accessory::server::controller_id&, std::uint64_t,
                              std::span<const std::byte> m) { arrivals.arrived(m); });
  if (auto ec = srv.listen({asio::ip::tcp::v6(), port})) return fail("listen: " + ec.message());
  std::printf("listening\n");
  std::fflush(stdout);
  asio::signal_set stop(io, SIGTERM, SIGINT);
  stop.async_wait([&](std::error_code, int) { io.stop(); });
  io.run();
  return 0;
}

int lanyard_client(const cli::parsed_args& args) {
  const std::filesystem::path dir = args.value("dir").value_or(".");
  const auto port =
      static_cast<std::uint16_t>(std::atoi(args.value("port").value_or("5556").c_str()));
  std::string error;
  auto me = load(dir / "app", error);
  if (!me) return fail("app identity: " + error);
  auto acc = load(dir / "acc", error);
  if (!acc) return fail("accessory identity: " + error);
  asio::io_context io;
  client::client_options o;
  o.trust.device_id = "bench-acc";
  o.trust.expected_fingerprint = acc->fingerprint();
  o.session = session_from(args);
  o.paths.static_paths = {{asio::ip::make_address("198.18.1.3"), port, "wlan0"},
                          {asio::ip::make_address("198.18.2.3"), port, "p2p0"}};
  o.paths.move_back_hold = std::chrono::minutes(10); // measure the move away only
  o.log = [](std::string_view l) {
    std::fprintf(stderr, "%lld %.*s\n",
                 static_cast<long long>(clock_type::now().time_since_epoch().count() / 1000000),
                 static_cast<int>(l.size()), l.data());
  };
  client::client_channel ch(io.get_executor(), tls::context(*me), o);
  ch.set_path_handler([](const client::path_change& c) {
    std::printf("path %s\n", c.to.interface_name.c_str());
    std::fflush(stdout);
  });
  ch.start("bench-acc", std::make_shared<discovery::directory>());
  asio::steady_timer tick(io);
  std::uint64_t seq = 0;
  std::function<void()> send_next = [&] {
    std::byte msg[failover_message_size];
    encode_failover_message(msg, seq++, tick.expiry()); // this tick's scheduled time
    ch.async_send(msg, {channel::send_mode::wait, channel::send_completion_mode::queued},
                  [](std::error_code, std::uint64_t) {});
    tick.expires_at(tick.expiry() + send_interval);
    tick.async_wait([&](std::error_code ec) {
      if (!ec) send_next();
    });
  };
  tick.expires_after(std::chrono::milliseconds(0));
  send_next();
  asio::signal_set stop(io, SIGTERM, SIGINT);
  stop.async_wait([&](std::error_code, int) { io.stop(); });
  io.run();
  return 0;
}

} // namespace lanyard::bench
