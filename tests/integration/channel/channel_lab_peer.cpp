// A tiny two-mode program for the channel's lab tests (tests/integration/channel/*.sh):
//
//   channel_lab_peer accessory DIR PORT
//       An accessory: identity in DIR/accessory, controller store DIR/controllers with the
//       pairing window open (first boot), accessory::server on [::]:PORT echoing every message
//       back as a push ("echo:" + message). Runs until killed; prints "listening".
//   channel_lab_peer app DIR HOST PORT COUNT [--expect-waiting]
//       An app: identity in DIR/app, the accessory pinned to DIR/accessory's fingerprint; sends
//       COUNT messages "m<i>", one every 100 ms, and checks that each is acknowledged and
//       echoed exactly once, in order. Prints every state change. Exit 0 on success, 1 on a
//       violation or when nothing is left to wait for after 90 s. --expect-waiting: also fail
//       unless the channel went waiting and back to ready at least once.
#include <lanyard/accessory/server.hpp>
#include <lanyard/client/client_channel.hpp>
#include <lanyard/tls_engine/context.hpp>
#include <lanyard/tls_engine/identity.hpp>
#include <lanyard/trust/controller_store.hpp>
#include <lanyard/trust/setup_credentials.hpp>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

using namespace lanyard;
using namespace std::chrono_literals;

namespace {

std::span<const std::byte> as_bytes(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}
std::string text(std::span<const std::byte> b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}
double now_s() {
  static const auto t0 = std::chrono::steady_clock::now();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The lab accessory's setup secret: both roles of this test peer know it (as an app that read
// the accessory's QR code would), so the app pairs by proving it on its first connection.
lanyard::trust::setup_credentials lab_setup_credentials() {
  lanyard::trust::setup_credentials c;
  c.secret.fill(0x1a);
  return c;
}

int run_accessory(const std::filesystem::path& dir, std::uint16_t port) {
  core::error_detail error;
  tls::identity id = tls::identity::load_or_create(dir / "accessory", "lab-lamp", error);
  if (error) {
    std::fprintf(stderr, "identity: %s\n", error.message().c_str());
    return 1;
  }
  auto store = std::make_shared<trust::controller_store>(dir / "controllers");
  if (auto s = store->load(); s.failed()) {
    std::fprintf(stderr, "controller store: %s\n", s.message().c_str());
    return 1;
  }
  if (store->list().empty()) store->open_window(std::chrono::system_clock::now());
  asio::io_context io;
  accessory::server_options opts;
  opts.pairing.credentials = lab_setup_credentials();
  opts.log = [](std::string_view line) {
    std::printf("%.3f log %.*s\n", now_s(), static_cast<int>(line.size()), line.data());
    std::fflush(stdout);
  };
  accessory::server srv(io.get_executor(), tls::context(id), store, opts);
  srv.set_message_handler(
      [&](const core::fingerprint& c, std::uint64_t, std::span<const std::byte> msg) {
        std::string reply = "echo:" + text(msg);
        srv.async_send(c, as_bytes(reply), {}, [](std::error_code e, std::uint64_t) {
          if (e) std::printf("%.3f push failed: %s\n", now_s(), e.message().c_str());
        });
      });
  if (auto e = srv.listen({asio::ip::address_v6::any(), port})) {
    std::fprintf(stderr, "listen: %s\n", e.message().c_str());
    return 1;
  }
  std::printf("%.3f listening on port %u\n", now_s(), static_cast<unsigned>(port));
  std::fflush(stdout);
  io.run();
  return 0;
}

int run_app(const std::filesystem::path& dir, const std::string& host, std::uint16_t port,
            int count, bool expect_waiting) {
  core::error_detail error;
  tls::identity acc = tls::identity::load(dir / "accessory", error);
  if (error) {
    std::fprintf(stderr, "accessory identity: %s\n", error.message().c_str());
    return 1;
  }
  tls::identity me = tls::identity::load_or_create(dir / "app", "lab-phone", error);
  if (error) {
    std::fprintf(stderr, "identity: %s\n", error.message().c_str());
    return 1;
  }
  asio::io_context io;
  client::client_options opts;
  opts.trust.device_id = "lab-lamp";
  opts.trust.expected_fingerprint = acc.fingerprint();
  opts.trust.pairing = core::pairing_credentials{
      core::pairing_method::setup_secret, lab_setup_credentials().secret, {}};
  opts.session.keepalive_interval = 500ms;
  opts.session.peer_timeout = 2000ms;
  opts.backoff.initial = 100ms;
  opts.backoff.cap = 1000ms;
  opts.log = [](std::string_view line) {
    std::printf("%.3f log %.*s\n", now_s(), static_cast<int>(line.size()), line.data());
  };
  client::client_channel ch(io.get_executor(), tls::context(me), opts);

  bool failed = false;
  bool saw_waiting = false;
  bool recovered = false;
  int acked = 0;
  std::vector<std::string> echoes;
  auto check_done = [&] {
    if (failed || (acked == count && static_cast<int>(echoes.size()) == count)) io.stop();
  };
  ch.set_state_handler([&](client::channel_state s, std::error_code why) {
    std::printf("%.3f state %s %s\n", now_s(), std::string(to_string(s)).c_str(),
                why ? why.message().c_str() : "");
    std::fflush(stdout);
    if (s == client::channel_state::waiting) saw_waiting = true;
    if (s == client::channel_state::ready && saw_waiting) recovered = true;
    if (s == client::channel_state::failed) failed = true;
    check_done();
  });
  ch.set_message_handler([&](std::uint64_t seq, std::span<const std::byte> msg) {
    std::string expected = "echo:m" + std::to_string(echoes.size());
    if (text(msg) != expected || seq != echoes.size()) {
      std::printf("%.3f VIOLATION: message %llu is \"%s\", expected \"%s\"\n", now_s(),
                  static_cast<unsigned long long>(seq), text(msg).c_str(), expected.c_str());
      failed = true;
    }
    echoes.push_back(text(msg));
    check_done();
  });
  ch.set_session_reset_handler([&](const core::events::session_reset& r) {
    std::printf("%.3f VIOLATION: session reset with %zu unacknowledged\n", now_s(),
                r.unacked.size());
    failed = true;
    check_done();
  });
  ch.start({host, port});

  asio::steady_timer tick(io);
  int sent = 0;
  std::function<void()> send_next = [&] {
    if (sent == count) return;
    std::string m = "m" + std::to_string(sent++);
    ch.async_send(as_bytes(m), {}, [&, m](std::error_code e, std::uint64_t) {
      if (e) {
        std::printf("%.3f VIOLATION: send %s failed: %s\n", now_s(), m.c_str(),
                    e.message().c_str());
        failed = true;
      } else {
        ++acked;
      }
      check_done();
    });
    tick.expires_after(100ms);
    tick.async_wait([&](std::error_code e) {
      if (!e) send_next();
    });
  };
  send_next();
  asio::steady_timer give_up(io);
  give_up.expires_after(90s);
  give_up.async_wait([&](std::error_code e) {
    if (e) return;
    std::printf("%.3f giving up: %d/%d acknowledged, %zu/%d echoed\n", now_s(), acked, count,
                echoes.size(), count);
    failed = true;
    io.stop();
  });
  io.run();
  std::printf("%.3f done: %d/%d acknowledged, %zu/%d echoed, waiting seen: %s, recovered: %s\n",
              now_s(), acked, count, echoes.size(), count, saw_waiting ? "yes" : "no",
              recovered ? "yes" : "no");
  if (failed) return 1;
  if (expect_waiting && !recovered) {
    std::printf("VIOLATION: the channel never went waiting and back to ready\n");
    return 1;
  }
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  std::vector<std::string> a(argv + 1, argv + argc);
  if (a.size() == 3 && a[0] == "accessory")
    return run_accessory(a[1], static_cast<std::uint16_t>(std::atoi(a[2].c_str())));
  if ((a.size() == 5 || a.size() == 6) && a[0] == "app")
    return run_app(a[1], a[2], static_cast<std::uint16_t>(std::atoi(a[3].c_str())),
                   std::atoi(a[4].c_str()), a.size() == 6 && a[5] == "--expect-waiting");
  std::fprintf(stderr,
               "usage: %s accessory DIR PORT | app DIR HOST PORT COUNT "
               "[--expect-waiting]\n",
               argv[0]);
  return 2;
}
