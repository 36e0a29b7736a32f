// The companion app's whole journey with one accessory, in one process, over ONE channel,
// with C++20 coroutines (asio::awaitable):
//
//   1. join the accessory's setup access point (SoftAP), as its setup payload (QR code) says;
//   2. open a channel to it by device id, verified against the key in the payload and pinned:
//      this is pairing (in setup mode the accessory accepts a new app);
//   3. send it the home Wi-Fi credentials and follow its progress;
//   4. keep that same channel and session while the accessory moves to the home network;
//   5. receive its sensor readings, checking that none is lost, repeated or reordered;
//   6. survive failover: when the phone's Wi-Fi goes, the channel moves to another path.
//
//   example_companion LNY1:... --ssid HomeLAN --passphrase-file pass.txt
//     --join 'nmcli dev wifi connect "$LANYARD_SSID"' [--readings 20]
//
// Exit status: 0 after --readings N readings or SIGINT, none lost; 1 refused, provisioning
// failed or a reading lost; 2 bad arguments.
#include "options.hpp"

#include <lanyard/client/client_channel.hpp>
#include <lanyard/core/app_message.hpp>
#include <lanyard/core/provisioning.hpp>
#include <lanyard/core/setup_payload.hpp>
#include <lanyard/discovery/browser.hpp>
#include <lanyard/discovery/client.hpp>
#include <lanyard/discovery/directory.hpp>
#include <lanyard/link/link_joiner.hpp>
#include <lanyard/tls/error.hpp>
#include <lanyard/tls/identity.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/channel.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>
#include <asio/use_awaitable.hpp>

#include <csignal>
#include <cstdio>
#include <memory>
#include <string>

using namespace lanyard;
using client::channel_state;

// `co_await op(awaitable)` gives (error_code, results...) instead of throwing.
constexpr auto awaitable = asio::experimental::as_tuple(asio::use_awaitable);
// Everything the accessory sends, in order: the channel's message handler puts it here, the
// story takes it out with co_await.
using inbox = asio::experimental::channel<void(std::error_code, std::string)>;

// Where accessories in setup mode serve the channel: their SoftAP's fixed address and port.
const auto softap_address = asio::ip::make_address("198.18.4.1");
constexpr std::uint16_t softap_port = 5577;

// One line per step: what the developer watching the app sees.
void say(const std::string& line) {
  std::puts(line.c_str());
}

struct tally {
  std::uint64_t next_n = 0; // the reading number expected next; 0: none yet
  unsigned long readings = 0, gaps = 0, resets = 0;
};

// Discovery feeds the directory for as long as the channel lives: it is how the channel learns
// where the accessory went after provisioning, and which paths are left when one fails.
asio::awaitable<void> browse(discovery::browser& browser, discovery::directory& dir,
                             client::client_channel& ch) {
  for (;;) {
    auto [ec, event] = co_await browser.async_next(awaitable);
    if (ec == asio::error::operation_aborted) co_return; // browser.stop()
    if (!ec) ch.directory_changed(dir.apply(event));     // else avahi-daemon restarts: go on
  }
}

// Steps 3 to 5; returns the exit status.
asio::awaitable<int> talk(const companion::options& o, const std::string& wifi_set,
                          client::client_channel& ch, inbox& in, tally& t) {
  if (!wifi_set.empty()) {
    // 3. A send made before the channel is ready waits in the session; it completes once the
    // accessory acknowledged it, so by then the accessory is verified and paired.
    // Provisioning is its own message kind: it reaches the accessory's provisioning service,
    // never its application, and the reports come back the same way (the control handler).
    auto [ec, seq] = co_await ch.async_send_control(
        core::message_kind::provisioning, std::as_bytes(std::span(wifi_set)), {}, awaitable);
    if (ec) co_return ch.state() == channel_state::cancelled ? 0 : 1;
    say("credentials for " + o.ssid + " sent and acknowledged (message " + std::to_string(seq) +
        ")");
  }
  for (;;) {
    auto [ec, text] = co_await in.async_receive(awaitable);
    if (ec == core::channel_errc::session_reset) { // see set_session_reset_handler()
      ++t.resets;
      t.next_n = 0; // a new session: the accessory's reading numbers start over
      say("SESSION RESET: the accessory lost our session; " + text +
          " unacknowledged message(s) returned; a new session begins");
      continue;
    }
    if (ec) // the inbox was closed: interrupted (cancelled) or the channel failed
      co_return (ch.state() == channel_state::cancelled && t.gaps == 0) ? 0 : 1;
    const auto parsed = core::parse_app_message(std::string_view(text));
    if (parsed && parsed.message.verb == "reading") {
      // 5. The accessory numbers its readings: each must be the previous one plus one.
      const std::uint64_t n = parsed.message.get_uint("n", 1, UINT64_MAX).value_or(0);
      const bool in_order = t.next_n == 0 || n == t.next_n;
      t.gaps += in_order ? 0 : 1;
      t.next_n = n + 1;
      say("reading " + std::to_string(n) + ": " +
          std::string(parsed.message.get("temperature_c").value_or("?")) + " °C" +
          (in_order ? "" : "  <-- GAP: a reading was lost, repeated or reordered"));
      if (++t.readings == o.readings) {
        ch.cancel(); // ends the session politely (CLOSE)
        co_return t.gaps == 0 ? 0 : 1;
      }
    } else {
      say("message: " + text);
    }
  }
}

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0); // line by line, even into a pipe
  const auto o = companion::parse(argc, argv);
  if (!o) return 2;
  const core::payload_parse_result parsed = core::parse_setup_payload(o->payload);
  if (!parsed) return say(parsed.describe()), 2;
  const core::setup_payload& payload = parsed.payload;
  std::string wifi_set; // "v1 wifi_set ...", checked before anything happens
  if (payload.needs_provisioning)
    if (auto cec = core::encode_wifi_credentials({o->ssid, o->passphrase}, wifi_set))
      return say("--ssid/--passphrase-file: " + cec.message()), 2;

  // The app's own identity (the accessory pins it as a controller) and its trust store (the
  // accessories it pinned). Both persist: the next run picks up where this one left off.
  core::error_detail identity_error;
  const auto me = tls::identity::load_or_create(o->identity_dir, "companion-app", identity_error);
  if (identity_error) return say("identity: " + identity_error.message()), 1;
  auto store = std::make_shared<trust::trust_store>(o->trust_store);
  if (auto s = store->load(); s.failed()) return say(s.message()), 1;

  // 1. Joining Wi-Fi is the platform's job (NEHotspotConfiguration, nmcli); link_joiner is the
  // seam. This one runs a command and blocks until the link is up.
  const std::string ssid = payload.softap_ssid.value_or("");
  if (!o->join.empty()) {
    if (auto e = link::command_link_joiner(o->join).join(ssid)) return say(e.message()), 1;
    say("joined the accessory's access point " + ssid);
  }

  // 2. One channel for the accessory's whole life, by device id. Its paths: the SoftAP (a
  // static path, the only one in setup mode) and whatever discovery finds, ranked by interface
  // kind and re-chosen at every reconnect. The handshake accepts exactly the key in the payload
  // (or the one pinned on an earlier run) and pins it.
  asio::io_context io;
  client::client_options co;
  co.trust.store = store;
  co.trust.mode = trust::trust_mode::verified_first_use;
  co.trust.expected_fingerprint = payload.device_fingerprint;
  // Pair on first use: prove to the accessory that we hold its payload's secret (and have it
  // prove the same), on the first connection, before the session starts.
  if (payload.setup_secret)
    co.trust.pairing =
        core::pairing_credentials{core::pairing_method::setup_secret, *payload.setup_secret, {}};
  co.trust.controller_name = "companion";
  if (payload.needs_provisioning)
    co.paths.static_paths = {{softap_address, softap_port, o->softap_interface}};
  co.log = [](std::string_view l) { std::fprintf(stderr, "  (%.*s)\n", int(l.size()), l.data()); };
  client::client_channel ch(io.get_executor(), tls::context(me), co);
  inbox in(io, 4096);
  tally t;

  ch.set_message_handler([&](std::uint64_t, std::span<const std::byte> m) {
    // Never blocks; should the story fall 4096 messages behind, the loss shows as a GAP.
    in.try_send(std::error_code(), std::string(reinterpret_cast<const char*>(m.data()), m.size()));
  });
  // The accessory's provisioning reports (CONTROL messages, never in the app's stream).
  ch.set_control_handler([&](core::message_kind k, std::uint64_t, std::span<const std::byte> m) {
    const auto report = core::parse_app_message(m);
    core::provisioning_progress p;
    if (k != core::message_kind::provisioning || !report ||
        core::decode_provisioning_progress(report.message, p))
      return;
    if (p.state == core::provisioning_state::failed) { // it stays in setup mode: retry
      say("provisioning failed: " + std::string(to_string(p.reason)));
      return in.close(); // ends the story, status 1
    }
    std::string addresses;
    for (const auto& a : p.addresses)
      addresses += (addresses.empty() ? " as " : ", ") + a;
    // 4. Connected: the accessory moves to the home network. The channel follows by itself
    // (discovery finds it there, the session resumes): nothing for the app to do.
    say(p.state == core::provisioning_state::connecting
            ? "provisioning: the accessory is joining " + o->ssid
            : "provisioning: the accessory joined " + o->ssid + addresses);
  });
  ch.set_state_handler([&, paired = false](channel_state s, std::error_code why) mutable {
    say("channel " + std::string(to_string(s)) + (why ? ": " + why.message() : ""));
    if (s == channel_state::ready && !std::exchange(paired, true))
      say("paired: " + payload.device_id + " proved it holds the key in its setup payload");
    if (s == channel_state::failed) {
      if (why == tls::tls_errc::peer_rejected_certificate)
        say("the accessory refused this app: put it in setup mode and run again");
      in.close(); // ends the story
    }
  });
  // 6. Failover is the channel's job: it watches the interfaces and moves the session to the
  // best path left (and back once the preferred one is healthy again). The app hears of it.
  ch.set_path_handler([](const client::path_change& c) {
    say("path: " + c.to.interface_name + " (" + std::string(to_string(c.to.kind)) + ") " +
        c.to.address + " port " + std::to_string(c.to.port) + ", " +
        std::string(to_string(c.reason)) + (c.detail.empty() ? "" : ": " + c.detail));
  });
  // The accessory lost the session (it rebooted): the channel goes on in a new one and hands
  // back the messages it never acknowledged. The story hears of it through the inbox, in order
  // with the messages before and after it.
  ch.set_session_reset_handler([&](const core::events::session_reset& r) {
    in.try_send(make_error_code(core::channel_errc::session_reset),
                std::to_string(r.unacked.size()));
  });

  auto dir = std::make_shared<discovery::directory>();
  discovery::client avahi(io.get_executor());
  discovery::browser browser(avahi);
  if (auto bec = browser.start("_lanyard._tcp")) return say(bec.message()), 1;
  asio::co_spawn(io, browse(browser, *dir, ch), asio::detached);
  ch.start(payload.device_id, dir);

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](std::error_code sec, int) {
    if (sec) return;
    say("interrupted: closing the session");
    ch.cancel(); // completes a pending send with operation_aborted
    in.close();  // and a pending receive
  });
  int status = 1;
  asio::co_spawn(io, talk(*o, wifi_set, ch, in, t), [&](std::exception_ptr e, int rc) {
    status = e ? 1 : rc;
    say("done: " + std::to_string(t.readings) + " readings, " + std::to_string(t.gaps) + " gaps, " +
        std::to_string(t.resets) + " session resets");
    signals.cancel();
    browser.stop();
    asio::post(io, [&] { io.stop(); }); // Avahi alone would keep io running
  });
  io.run();
  return status;
}
