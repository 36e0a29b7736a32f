// relay_tunnel_peer: TLS with both keys pinned, end to end through the relay's broker, for the
// relay lab tests. Each side makes a fresh identity and writes its fingerprint (base32) to
// <dir>/<side>.fp, then reads the other's.
//
//   accessory: answers OPENs whose tag the relay key of the app's fingerprint gives (under
//              --secret), runs the TLS server on each tunnel (the client must present the key
//              that opened it), and echoes each line back as "echo <line>".
//   flood:     publishes --count OPENs with tags no key gives into the accessory's inbox (an
//              account holder who knows the inbox), then exits.
//   app:       opens a tunnel with the relay key of its own fingerprint under --secret (what
//              the accessory's relay ticket would carry), the TLS client pinned to the
//              accessory's key, and sends "m0".."m<N-1>" one line each, --pause-ms after
//              --pause-after of them.
// Lines: "<seconds> <event> ..." (tunnel accepted/refused, tls established/failed, echo, ...).
//
//   relay_tunnel_peer accessory|app --dir D --host H --ca F --user U --password P --inbox I
//                     --secret HEX64 [--account A] [--peer-account A --peer-inbox I]
//                     [--count N] [--pause-after K --pause-ms T] [--open-tries N]
//                     [--key-for FP]
//                     [--timeout S]
#include <lanyard/core/display_text.hpp>
#include <lanyard/core/error_condition.hpp>
#include <lanyard/core/fingerprint.hpp>
#include <lanyard/crypto/primitives.hpp>
#include <lanyard/crypto/relay.hpp>
#include <lanyard/relay/mqtt_client.hpp>
#include <lanyard/relay/tunnel_hub.hpp>
#include <lanyard/tls/stream.hpp>
#include <lanyard/tls_engine/context.hpp>
#include <lanyard/tls_engine/identity.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/read_until.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/streambuf.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include "relay_tool.hpp"

using namespace lanyard;
using namespace std::chrono_literals;
using tls_tunnel = tls::stream<relay::tunnel_stream>;

namespace {

using relay_tool::say;
[[noreturn]] void usage(const std::string& why) {
  relay_tool::usage("relay_tunnel_peer", why);
}

core::fingerprint read_fingerprint(const std::filesystem::path& file) {
  for (int k = 0; k < 600; ++k) { // 30 s: the other side may start later
    std::ifstream in(file);
    std::string text;
    if (in >> text) {
      if (auto fp = core::parse_fingerprint(text)) return fp.value;
      usage("bad fingerprint in " + file.string());
    }
    std::this_thread::sleep_for(50ms);
  }
  usage("no fingerprint in " + file.string());
}

crypto::relay_key parse_secret(const std::string& hex) {
  crypto::relay_key k{};
  if (hex.size() != 64) usage("--secret: 64 hex digits");
  for (std::size_t i = 0; i < 32; ++i)
    k[i] = static_cast<std::uint8_t>(std::stoul(hex.substr(2 * i, 2), nullptr, 16));
  return k;
}

std::string code(std::error_code ec) {
  return core::code_string(ec) + " (" + ec.message() + ")";
}

asio::awaitable<void> serve(std::unique_ptr<tls_tunnel> s, core::fingerprint opener) {
  std::error_code ec;
  s->set_verifier([opener](const core::fingerprint& fp, const tls::peer_cert_info&) {
    // The key in the handshake must be the one whose relay key opened the tunnel.
    return fp == opener ? std::error_code() : std::make_error_code(std::errc::permission_denied);
  });
  co_await s->async_handshake(tls::role::server, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    say("tls failed " + code(ec));
    co_return;
  }
  say("tls established");
  asio::streambuf buf;
  for (;;) {
    std::size_t n = co_await asio::async_read_until(*s, buf, '\n',
                                                    asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      say("tls read ended " + code(ec));
      co_return;
    }
    std::string line(asio::buffers_begin(buf.data()), asio::buffers_begin(buf.data()) + n - 1);
    buf.consume(n);
    say("recv " + core::display_text(line, 100));
    const std::string reply = "echo " + line + "\n";
    co_await asio::async_write(*s, asio::buffer(reply),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      say("tls write failed " + code(ec));
      co_return;
    }
  }
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) usage("accessory or app");
  const std::string side = argv[1];
  if (side != "accessory" && side != "app" && side != "flood")
    usage("accessory, app or flood, not " + side);
  std::map<std::string, std::string> a;
  for (int k = 2; k + 1 < argc; k += 2)
    a[argv[k]] = argv[k + 1];
  auto need = [&](const char* key) {
    auto it = a.find(key);
    if (it == a.end()) usage(std::string("missing ") + key);
    return it->second;
  };
  const std::filesystem::path dir = need("--dir");
  relay::mqtt_settings ms;
  ms.host = need("--host");
  if (a.count("--port")) ms.port = static_cast<std::uint16_t>(std::stoul(a["--port"]));
  ms.ca_file = need("--ca");
  ms.username = need("--user");
  ms.password = need("--password");
  ms.keepalive = 5s;
  const relay::relay_endpoint self{a.count("--account") ? a["--account"] : ms.username,
                                   need("--inbox")};
  const crypto::relay_key secret = parse_secret(need("--secret"));
  const long count = a.count("--count") ? std::stol(a["--count"]) : 10;
  const long pause_after = a.count("--pause-after") ? std::stol(a["--pause-after"]) : -1;
  const long pause_ms = a.count("--pause-ms") ? std::stol(a["--pause-ms"]) : 0;
  const long timeout_s = a.count("--timeout") ? std::stol(a["--timeout"]) : 30;
  long open_tries = a.count("--open-tries") ? std::stol(a["--open-tries"]) : 1;

  std::error_code ec;
  tls::identity id = tls::identity::generate(side == "app" ? "phone" : "acc-relay-test", ec);
  if (ec) usage("identity: " + ec.message());
  std::ofstream(dir / (side + ".fp")) << core::to_string(id.fingerprint()) << "\n";
  tls::context ctx(id, {});

  asio::io_context io;
  relay::mqtt_client mqtt(io.get_executor(), ms);
  relay::tunnel_hub hub(mqtt, self);
  hub.on_state([](relay::mqtt_state st, std::error_code why) {
    say("mqtt " + std::string(relay::to_string(st)) + (why ? " " + core::code_string(why) : ""));
  });
  if ((ec = hub.start()) || (ec = mqtt.start())) usage("start: " + ec.message());
  asio::steady_timer give_up(io);
  int status = 1;
  give_up.expires_after(std::chrono::seconds(timeout_s));
  give_up.async_wait([&](std::error_code e) {
    if (e) return;
    say("timeout");
    io.stop();
  });

  if (side == "flood") {
    // Someone with an account on the broker who knows the accessory's inbox: OPENs with tags
    // no relay key gives, as fast as the broker takes them.
    const relay::relay_endpoint accessory{need("--peer-account"), need("--peer-inbox")};
    std::array<char, core::relay_max_topic_length> topic_buf{};
    const std::size_t tn = core::relay_topic(accessory.view(), topic_buf, ec);
    if (ec) usage("--peer-account/--peer-inbox: " + ec.message());
    const std::string topic(topic_buf.data(), tn);
    crypto::random_source rnd = crypto::system_random();
    long sent = 0;
    std::function<void()> burst = [&] {
      if (mqtt.state() == relay::mqtt_state::connected) {
        for (; sent < count; ++sent) {
          core::relay_tunnel_id tunnel{};
          std::array<std::uint8_t, core::relay_nonce_size> nonce{};
          std::array<std::uint8_t, core::relay_tag_size> tag{};
          rnd.fill(rnd.ctx, tunnel.data(), tunnel.size());
          rnd.fill(rnd.ctx, tag.data(), tag.size());
          std::array<std::uint8_t, 256> frame{};
          const std::size_t n = core::encode_relay_open(tunnel, self.view(), nonce, tag, frame, ec);
          if (ec || mqtt.publish(topic, std::span(frame).first(n))) break;
        }
        if (sent >= count) {
          say("flooded " + std::to_string(sent) + " OPENs");
          // Give libmosquitto time to write them out before leaving.
          auto done = std::make_shared<asio::steady_timer>(io, 1s);
          done->async_wait([done, &io, &status](std::error_code) {
            status = 0;
            io.stop();
          });
          return;
        }
      }
      auto again = std::make_shared<asio::steady_timer>(io, 50ms);
      again->async_wait([again, &burst](std::error_code) { burst(); });
    };
    burst();
    io.run();
  } else if (side == "accessory") {
    // The paired controller: the app's key, once its file exists (the accessory serves
    // meanwhile, so that OPENs before it are checked, and refused, like any stranger's).
    std::optional<core::fingerprint> app_fp;
    crypto::relay_key app_key{};
    const auto paired = [&]() -> bool {
      if (app_fp) return true;
      std::ifstream in(dir / "app.fp");
      std::string text;
      if (!(in >> text)) return false;
      const auto fp = core::parse_fingerprint(text);
      if (!fp || crypto::derive_relay_key(secret, fp.value, app_key)) usage("app.fp");
      app_fp = fp.value;
      return true;
    };
    hub.set_acceptor(
        [&](const core::relay_frame& open) -> std::optional<core::fingerprint> {
          if (paired() && crypto::relay_open_tag_matches(app_key, self.inbox, open)) return app_fp;
          say("open refused (no paired controller's relay key gives its tag)");
          return std::nullopt;
        },
        [&](relay::tunnel_stream t) {
          say("tunnel accepted (OPENs shed so far: " + std::to_string(hub.opens_shed()) + ")");
          const core::fingerprint opener = *t.opened_by();
          auto s = std::make_unique<tls_tunnel>(std::move(t), ctx);
          asio::co_spawn(io, serve(std::move(s), opener), asio::detached);
        });
    status = 0; // runs until the timeout
    io.run();
  } else {
    const core::fingerprint acc_fp = read_fingerprint(dir / "accessory.fp");
    // --key-for FP: the relay key of another controller (a paired one), while this app's TLS
    // presents its own key: the accessory must accept the OPEN and refuse the handshake.
    core::fingerprint key_of = id.fingerprint();
    if (a.count("--key-for")) {
      const auto fp = core::parse_fingerprint(a["--key-for"]);
      if (!fp) usage("--key-for: " + fp.describe());
      key_of = fp.value;
    }
    crypto::relay_key key{};
    if (crypto::derive_relay_key(secret, key_of, key)) usage("relay key");
    const relay::relay_endpoint accessory{need("--peer-account"), need("--peer-inbox")};
    auto run = [&](relay::tunnel_stream t) -> asio::awaitable<void> {
      tls_tunnel s(std::move(t), ctx);
      s.set_verifier([acc_fp](const core::fingerprint& fp, const tls::peer_cert_info&) {
        return fp == acc_fp ? std::error_code()
                            : std::make_error_code(std::errc::permission_denied);
      });
      std::error_code e;
      co_await s.async_handshake(tls::role::client, asio::redirect_error(asio::use_awaitable, e));
      if (e) {
        say("tls failed " + code(e));
        io.stop();
        co_return;
      }
      say("tls established, accessory key pinned");
      asio::streambuf buf;
      for (long i = 0; i < count; ++i) {
        if (i == pause_after && pause_ms > 0) {
          say("pause");
          asio::steady_timer pause(io, std::chrono::milliseconds(pause_ms));
          co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, e));
        }
        const std::string m = "m" + std::to_string(i) + "\n";
        co_await asio::async_write(s, asio::buffer(m),
                                   asio::redirect_error(asio::use_awaitable, e));
        std::size_t n = 0;
        if (!e)
          n = co_await asio::async_read_until(s, buf, '\n',
                                              asio::redirect_error(asio::use_awaitable, e));
        if (e) {
          say("tls ended " + code(e));
          io.stop();
          co_return;
        }
        std::string line(asio::buffers_begin(buf.data()), asio::buffers_begin(buf.data()) + n - 1);
        buf.consume(n);
        say(core::display_text(line, 100));
      }
      say("all echoed");
      status = 0;
      io.stop();
    };
    std::function<void()> open = [&] {
      hub.async_open(accessory, key, 3s,
                     [&](std::error_code e, std::optional<relay::tunnel_stream> t) {
                       if (e == relay::mqtt_errc::not_connected) {
                         // The broker connection is not up yet: try again shortly.
                         auto retry = std::make_shared<asio::steady_timer>(io, 200ms);
                         retry->async_wait([retry, &open](std::error_code) { open(); });
                         return;
                       }
                       if (e == std::errc::timed_out && --open_tries > 0) {
                         say("open timed out, again");
                         return open();
                       }
                       if (e) {
                         say("open failed " + code(e));
                         io.stop();
                         return;
                       }
                       say("tunnel open");
                       asio::co_spawn(io, run(std::move(*t)), asio::detached);
                     });
    };
    open();
    io.run(); // in this block: `open`, `run` and what they refer to live here
  }
  return status;
}
