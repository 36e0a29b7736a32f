// The channel's stress peer for the lab tests (tests/integration/channel/*_test.sh,
// tests/integration/chaos): an accessory and an app that stream numbered messages both ways and
// check, on both sides, that every message arrives exactly once and in order. This one runs on
// the lower layer (accessory::server and client::client_channel, push delivery);
// channel_product_peer takes the same options on node::node and app::device (pulled). The
// checks themselves are app_stream.hpp's and accessory_stream.hpp's.
//
//   channel_stream_peer accessory --dir DIR --port PORT [--tick-ms N] [--log-recv]
//                                 [--ack-delay-ms N] [--no-echo] [--advertise NAME]
//                                 [--log-echo-acks] [--graceful-term]
//       accessory::server on [::]:PORT with the identity DIR/accessory and the controller store
//       DIR/controllers (pairing window open while it is empty). Every message "m<i>" is
//       checked (session seq contiguous from 0, i one more than the previous one of this
//       process) and echoed back as a push "echo:m<i>". --tick-ms: also pushes "t<k>" (k from 0
//       per session) every N ms to every controller with a session, connected or not, so that
//       messages flow both ways even while the app is silent. --log-recv: prints
//       "recv <seq> m<i>" for every message, flushed before the message is acknowledged.
//       --ack-delay-ms: the session's ack_delay. --no-echo: no echoes (acknowledgements then
//       come only every 16 messages or after the ack delay, never piggybacked on an echo).
//       --advertise: publishes the server as NAME._lanyard._tcp with TXT id=lab-lamp (withdrawn
//       on SIGTERM, which ends the program).
//       --log-echo-acks: prints "echo-acked m<i>" when the app acknowledged the echo of m<i>,
//       "echo-failed m<i> <error>" when its push failed (instead of "push failed: ...").
//       --graceful-term: SIGTERM closes the server (every pending push fails with
//       operation_aborted, reported as above), prints "terminated" once those completions ran
//       and ends the program (exit 0); without it SIGTERM kills the process (default action).
//       Prints "listening", "VIOLATION ..." lines, "received <n> last m<i>" every 10,000.
//
//   channel_stream_peer app --dir DIR (--host HOST --port PORT | --device-id ID) --count N [...]
//       A client_channel pinned to DIR/accessory's fingerprint (identity DIR/app) sends "m0",
//       "m1", ... "m<N-1>": every --tick-ms T (default 100) up to --burst B (default 1) messages.
//       Checks: each send completes (acknowledged), each echo and tick arrives exactly once in
//       order (restarting only after a session reset), message seqs contiguous. Exit 0 when
//       every send completed and every message of the current session was echoed; 1 on a
//       violation or after --timeout S (default 120).
//       --epoch E          at most E·(connections so far) messages may be sent: N messages
//                          need N/E - 1 reconnections (the cuts must really happen mid-stream)
//       --reset forbid|expect|many   forbid (default): a session reset is a violation; expect:
//                          exactly one reset must happen, its list must be exactly the sends that
//                          completed with errc::session_reset, a contiguous run ending with the
//                          last message sent before it; many: any number of resets (also none),
//                          each list such a run (possibly empty) ending right before its boundary,
//                          and together exactly the sends that completed with session_reset
//       --no-echo          the accessory does not echo (do not wait for echoes)
//       --log-acks         prints "acked m<i>" / "reset-failed m<i>" per completion and
//                          "unacked m<i>" per entry of the reset list
//       --log-echoes       prints "echo m<i>" per echo received
//       --echo-target E    stop sending once E echoes arrived (--count is then only the most
//                          that may be sent): E messages each way even when resets lose some
//       --progress-ms P    prints "progress sent S completed C acked A echoes E resets R
//                          connects K state <state>" every P ms (a driver script polls it)
//       --trust-store FILE pin through a trust::trust_store in FILE (verified first use with the
//                          accessory's fingerprint as the setup payload's) instead of the bare
//                          expected fingerprint: the pin is written on the first connection
//                          and every later handshake is checked against it
//       --min-recoveries K fail unless the channel went waiting and back to ready K times
//       --device-id ID     connect by device id: browse _lanyard._tcp into a discovery directory
//                          and start the channel with it (prints "directory <event> ...")
//       --keepalive-ms, --peer-timeout-ms, --connect-timeout-ms, --backoff-initial-ms,
//       --backoff-cap-ms   client_options
//   Prints "app pid <pid>" first, "connected <k>" on the k-th ready, "disconnected <k>" on the
//   k-th ready → waiting.
#include "accessory_stream.hpp"
#include "app_stream.hpp"
#include "stream_peer_common.hpp"

#include <lanyard/accessory/server.hpp>
#include <lanyard/client/client_channel.hpp>
#include <lanyard/discovery/advertiser.hpp>
#include <lanyard/discovery/browser.hpp>
#include <lanyard/discovery/client.hpp>
#include <lanyard/discovery/directory.hpp>
#include <lanyard/tls_engine/context.hpp>
#include <lanyard/tls_engine/identity.hpp>
#include <lanyard/tls_engine/identity_files.hpp>
#include <lanyard/trust/controller_store.hpp>
#include <lanyard/trust/setup_credentials.hpp>
#include <lanyard/trust/trust_store.hpp>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>

#include <csignal>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

using namespace lanyard;
using namespace stream_peer;

namespace {

// The lab accessory's setup secret: both roles of this test peer know it (as an app that read
// the accessory's QR code would), so the app pairs by proving it on its first connection.
lanyard::trust::setup_credentials lab_setup_credentials() {
  lanyard::trust::setup_credentials c;
  c.secret.fill(0x1a);
  return c;
}

// ---------------------------------------------------------------- accessory

int run_accessory(const args& a) {
  std::filesystem::path dir = a.get("dir");
  auto port = static_cast<std::uint16_t>(a.num("port", 0));
  core::error_detail error;
  tls::identity id = tls::identity_files::load_or_create(dir / "accessory", "lab-lamp", error);
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
  opts.diagnostics = say_diagnostic;
  if (a.has("ack-delay-ms"))
    opts.session.ack_delay = std::chrono::milliseconds(a.num("ack-delay-ms", 20));
  accessory::server srv(io.get_executor(), tls::context(id), store, opts);
  accessory_stream stream(
      io, a,
      [&srv](const core::fingerprint& c, const std::string& payload,
             std::function<void(std::error_code)> done) {
        srv.async_send(c, as_bytes(payload), {},
                       [done = std::move(done)](std::error_code e, std::uint64_t) { done(e); });
      });

  srv.set_event_handler([&](const core::fingerprint& c, const core::session_event& ev) {
    if (auto* e = std::get_if<core::events::established>(&ev))
      stream.on_established(c, e->resumed);
    else if (std::get_if<core::events::closed>(&ev))
      stream.on_closed(c);
  });
  srv.set_message_handler(
      [&](const core::fingerprint& c, std::uint64_t seq, std::span<const std::byte> msg) {
        stream.on_message(c, seq, text(msg));
      });
  if (auto e = srv.listen({asio::ip::address_v6::any(), port})) {
    std::fprintf(stderr, "listen: %s\n", e.message().c_str());
    return 1;
  }
  // Advertised like a real accessory; SIGTERM withdraws it (goodbye) and ends the program.
  std::optional<discovery::client> avahi;
  std::optional<discovery::advertiser> adv;
  asio::signal_set signals(io, SIGTERM);
  if (a.has("graceful-term") && !a.has("advertise")) {
    // close() fails every pending push (posting the completions); "terminated" is posted
    // after them, so the log lists every push the app never acknowledged before it.
    signals.async_wait([&](std::error_code e, int) {
      if (e) return;
      say("terminating");
      srv.close();
      stream.stop_ticks();
      asio::post(io, [&] {
        say("terminated");
        io.stop();
      });
    });
  }
  if (a.has("advertise")) {
    avahi.emplace(io.get_executor());
    adv.emplace(*avahi);
    adv->on_event([](const discovery::advertiser_event& e) {
      say("advertiser " + e.name + (e.error ? ": " + e.error.message() : ""));
    });
    discovery::service_description d;
    d.name = a.get("advertise");
    d.type = "_lanyard._tcp";
    d.port = srv.local_endpoint().port();
    if (d.txt.set("id", "lab-lamp") || d.txt.set("pv", "1")) return 1;
    if (auto e = adv->publish(d)) {
      std::fprintf(stderr, "advertise: %s\n", e.message().c_str());
      return 1;
    }
    signals.async_wait([&](std::error_code e, int) {
      if (e) return;
      say("terminating: withdrawing the advertisement");
      adv->withdraw();
      srv.close();
      io.stop();
    });
  }
  stream.start_ticks();
  say("listening on port " + std::to_string(port) + " pid " + std::to_string(::getpid()));
  io.run();
  return 0;
}

// ---------------------------------------------------------------- app

int run_app(const args& a) {
  std::filesystem::path dir = a.get("dir");
  core::error_detail error;
  tls::identity acc = tls::identity_files::load(dir / "accessory", error);
  if (error) {
    std::fprintf(stderr, "accessory identity: %s\n", error.message().c_str());
    return 1;
  }
  tls::identity me = tls::identity_files::load_or_create(dir / "app", "lab-phone", error);
  if (error) {
    std::fprintf(stderr, "identity: %s\n", error.message().c_str());
    return 1;
  }
  say("app pid " + std::to_string(::getpid()));
  asio::io_context io;
  client::client_options opts;
  const std::string device_id = a.get("device-id");
  if (device_id.empty()) opts.trust.device_id = "lab-lamp"; // else start() sets it
  opts.trust.expected_fingerprint = acc.fingerprint();
  opts.trust.pairing = core::pairing_credentials{
      core::pairing_method::setup_secret, lab_setup_credentials().secret, {}};
  if (a.has("trust-store")) {
    opts.trust.store = std::make_shared<trust::trust_store>(a.get("trust-store"));
    if (auto s = opts.trust.store->load(); s.failed()) {
      std::fprintf(stderr, "trust store: %s\n", s.message().c_str());
      return 1;
    }
    opts.trust.mode = trust::trust_mode::verified_first_use;
  }
  opts.session.keepalive_interval = std::chrono::milliseconds(a.num("keepalive-ms", 500));
  opts.session.peer_timeout = std::chrono::milliseconds(a.num("peer-timeout-ms", 2000));
  opts.connect_timeout = std::chrono::milliseconds(a.num("connect-timeout-ms", 2000));
  opts.backoff.initial = std::chrono::milliseconds(a.num("backoff-initial-ms", 100));
  opts.backoff.cap = std::chrono::milliseconds(a.num("backoff-cap-ms", 1000));
  opts.diagnostics = say_diagnostic;
  client::client_channel ch(io.get_executor(), tls::context(me), opts);
  app_stream stream(io, a);

  ch.set_state_handler(
      [&](client::channel_state s, std::error_code why) { stream.on_state(to_string(s), why); });
  ch.set_message_handler([&](std::uint64_t seq, std::span<const std::byte> msg) {
    stream.on_message(seq, text(msg));
  });
  // The reset handler runs before anything of the new session: its boundary is what was sent.
  ch.set_session_reset_handler([&](const core::events::session_reset& r) {
    stream.on_reset(r.unacked, stream.sent());
    stream.new_session(stream.sent());
  });
  // By device id: a browser feeds the directory; its events go to the channel.
  std::optional<discovery::client> avahi;
  std::optional<discovery::browser> browser;
  auto directory = std::make_shared<discovery::directory>();
  if (!device_id.empty()) {
    avahi.emplace(io.get_executor());
    browser.emplace(*avahi);
    browser->on_event([&](const discovery::browse_event& e) {
      std::vector<discovery::directory_event> events = directory->apply(e);
      for (const discovery::directory_event& d : events) {
        std::string line = "directory " + std::string(to_string(d.kind)) + " " + d.accessory.id;
        if (std::string_view(to_string(d.kind)).substr(0, 5) == "path_")
          line += " " + d.path.address.to_string() + " port " + std::to_string(d.path.port) +
                  " on " + d.path.interface.name;
        say(line);
      }
      ch.directory_changed(events);
    });
    if (auto e = browser->start("_lanyard._tcp")) {
      std::fprintf(stderr, "browse: %s\n", e.message().c_str());
      return 1;
    }
    ch.start(device_id, directory);
  } else {
    ch.start({a.get("host"), static_cast<std::uint16_t>(a.num("port", 0))});
  }

  stream.start([&](long long i, const std::string& m) {
    ch.async_send(as_bytes(m), {},
                  [&stream, i](std::error_code e, std::uint64_t) { stream.send_completed(i, e); });
  });
  io.run();
  return stream.finish();
}

} // namespace

int main(int argc, char** argv) {
  return run_role(argc, argv, run_accessory, run_app);
}
