// A small app (controller) for the simulated accessory's tests: a client_channel to the
// accessory, verified against its setup payload and pinned in a trust store, that sends every
// line of standard input as one application message and prints one JSON line per event. A
// line "@provisioning TEXT" or "@administration TEXT" sends TEXT as that service's message (a
// CONTROL frame) instead:
//
//   {"event":"state","state":"ready|waiting|failed|...","reason":"...","code":"lanyard.trust.
//    key_changed","conditions":["authentication_failed","permanent"]}  (code: core::code_string)
//   {"event":"message","seq":N,"text":"v1 reading n=3 temperature_c=21.59"}
//   {"event":"control","service":"provisioning","seq":N,"text":"v1 wifi_status re=0 ..."}
//   {"event":"acked","seq":N,"text":"..."}          a message of ours the accessory acknowledged
//   {"event":"send_failed","text":"...","error":"..."}
//   {"event":"reset","unacked":N}                    the accessory lost the session
//
//   sim_app --payload LNY1:... --connect HOST:PORT --identity-dir DIR --trust-store FILE
//           [--keepalive-ms N] [--peer-timeout-ms N]
//
// Exits when standard input ends and every message was acknowledged (or failed), or on
// SIGTERM; exit 0. A channel that fails (trust refusal) prints the state and exits 3.
#include <nlohmann/json.hpp>

#include <lanyard/client/client_channel.hpp>
#include <lanyard/core/error_condition.hpp>
#include <lanyard/core/setup_payload.hpp>
#include <lanyard/tls_engine/context.hpp>
#include <lanyard/tls_engine/identity.hpp>
#include <lanyard/tls_engine/identity_files.hpp>
#include <lanyard/trust/trust_store.hpp>

#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/read_until.hpp>
#include <asio/signal_set.hpp>
#include <asio/streambuf.hpp>

#include <cstdio>
#include <filesystem>
#include <istream>
#include <map>
#include <optional>
#include <string>
#include <unistd.h>
#include <vector>

using namespace lanyard;

namespace {

std::string quote(std::string_view s) {
  // nlohmann's serializer: control characters escaped, bytes that are not UTF-8 replaced by
  // U+FFFD, so whatever a peer sent becomes valid JSON.
  return nlohmann::json(std::string(s))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void line(const std::string& s) {
  std::printf("%s\n", s.c_str());
  std::fflush(stdout);
}

int usage() {
  std::fprintf(stderr, "usage: sim_app --payload LNY1:... --connect HOST:PORT --identity-dir DIR "
                       "--trust-store FILE [--keepalive-ms N] [--peer-timeout-ms N]\n");
  return 2;
}

} // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> a;
  for (int i = 1; i + 1 < argc; i += 2)
    a[argv[i]] = argv[i + 1];
  if (!a.count("--payload") || !a.count("--connect") || !a.count("--identity-dir") ||
      !a.count("--trust-store"))
    return usage();
  auto p = core::parse_setup_payload(a["--payload"]);
  if (!p) {
    std::fprintf(stderr, "sim_app: %s\n", p.describe().c_str());
    return 2;
  }
  const std::string& hp = a["--connect"];
  const auto colon = hp.rfind(':');
  if (colon == std::string::npos) return usage();
  std::string host = hp.substr(0, colon);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  const auto port = static_cast<std::uint16_t>(std::stoi(hp.substr(colon + 1)));

  core::error_detail id_error;
  const std::filesystem::path id_dir = a["--identity-dir"];
  tls::identity me = std::filesystem::exists(id_dir / tls::identity_files::key_file_name)
                         ? tls::identity_files::load(id_dir, id_error)
                         : tls::identity_files::load_or_create(id_dir, "sim-app", id_error);
  if (id_error) {
    std::fprintf(stderr, "sim_app: identity: %s\n", id_error.message().c_str());
    return 1;
  }
  auto store = std::make_shared<trust::trust_store>(a["--trust-store"]);
  if (auto s = store->load(); s.failed()) {
    std::fprintf(stderr, "sim_app: trust store: %s\n", s.message().c_str());
    return 1;
  }

  asio::io_context io;
  client::client_options opts;
  opts.trust.device_id = p.payload.device_id;
  opts.trust.store = store;
  opts.trust.mode = trust::trust_mode::verified_first_use;
  opts.trust.expected_fingerprint = p.payload.device_fingerprint;
  if (p.payload.setup_secret) // pair on first use with the payload's secret
    opts.trust.pairing =
        core::pairing_credentials{core::pairing_method::setup_secret, *p.payload.setup_secret, {}};
  using ms = std::chrono::milliseconds;
  opts.session.keepalive_interval =
      ms(a.count("--keepalive-ms") ? std::stoi(a["--keepalive-ms"]) : 500);
  opts.session.peer_timeout =
      ms(a.count("--peer-timeout-ms") ? std::stoi(a["--peer-timeout-ms"]) : 2000);
  opts.backoff.initial = ms(100);
  opts.backoff.cap = ms(500);
  opts.log = [](std::string_view l) { line("{\"event\":\"log\",\"text\":" + quote(l) + "}"); };
  client::client_channel ch(io.get_executor(), tls::context(me), opts);

  int status = 0;
  bool input_done = false;
  int outstanding = 0;
  auto maybe_exit = [&] {
    if (input_done && outstanding == 0) io.stop();
  };
  ch.set_state_handler([&](client::channel_state s, std::error_code why) {
    std::string conditions;
    for (std::string_view name : core::condition_names(why))
      conditions += (conditions.empty() ? "" : ",") + quote(name);
    line("{\"event\":\"state\",\"state\":" + quote(to_string(s)) +
         ",\"reason\":" + quote(why ? why.message() : "") +
         ",\"code\":" + quote(core::code_string(why)) + ",\"conditions\":[" + conditions + "]}");
    if (s == client::channel_state::failed) {
      status = 3;
      io.stop();
    }
  });
  ch.set_message_handler([&](std::uint64_t seq, std::span<const std::byte> m) {
    line("{\"event\":\"message\",\"seq\":" + std::to_string(seq) + ",\"text\":" +
         quote(std::string_view(reinterpret_cast<const char*>(m.data()), m.size())) + "}");
  });
  ch.set_control_handler(
      [&](core::message_kind k, std::uint64_t seq, std::span<const std::byte> m) {
        line("{\"event\":\"control\",\"service\":" + quote(core::to_string(k)) +
             ",\"seq\":" + std::to_string(seq) + ",\"text\":" +
             quote(std::string_view(reinterpret_cast<const char*>(m.data()), m.size())) + "}");
      });
  ch.set_session_reset_handler([&](const core::events::session_reset& r) {
    line("{\"event\":\"reset\",\"unacked\":" + std::to_string(r.unacked.size()) + "}");
  });
  ch.start({host, port});

  asio::posix::stream_descriptor input(io, ::dup(STDIN_FILENO));
  asio::streambuf buf;
  std::function<void()> read_next = [&] {
    asio::async_read_until(input, buf, '\n', [&](std::error_code rec, std::size_t) {
      if (rec) {
        input_done = true;
        maybe_exit();
        return;
      }
      std::istream in(&buf);
      std::string text;
      std::getline(in, text);
      if (!text.empty()) {
        ++outstanding;
        std::optional<core::message_kind> service;
        for (core::message_kind k :
             {core::message_kind::provisioning, core::message_kind::administration}) {
          const std::string prefix = "@" + std::string(core::to_string(k)) + " ";
          if (text.starts_with(prefix)) {
            service = k;
            text.erase(0, prefix.size());
          }
        }
        auto copy = std::make_shared<std::string>(text);
        auto done = [&, copy](std::error_code sec, std::uint64_t seq) {
          --outstanding;
          if (sec)
            line("{\"event\":\"send_failed\",\"text\":" + quote(*copy) +
                 ",\"error\":" + quote(sec.message()) + "}");
          else
            line("{\"event\":\"acked\",\"seq\":" + std::to_string(seq) +
                 ",\"text\":" + quote(*copy) + "}");
          maybe_exit();
        };
        const auto bytes = std::as_bytes(std::span(copy->data(), copy->size()));
        if (service)
          ch.async_send_control(*service, bytes, {}, std::move(done));
        else
          ch.async_send(bytes, {}, std::move(done));
      }
      read_next();
    });
  };
  read_next();
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](std::error_code sec, int) {
    if (!sec) io.stop();
  });
  io.run();
  return status;
}
