// The channel's stress peer for the lab tests (tests/integration/channel/*_test.sh): an
// accessory and an app that stream numbered messages both ways and check, on both sides,
// that every message arrives exactly once and in order.
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
#include <lanyard/accessory/server.hpp>
#include <lanyard/client/client_channel.hpp>
#include <lanyard/core/diagnostic.hpp>
#include <lanyard/core/display_text.hpp>
#include <lanyard/core/error_condition.hpp>
#include <lanyard/discovery/advertiser.hpp>
#include <lanyard/discovery/browser.hpp>
#include <lanyard/discovery/client.hpp>
#include <lanyard/discovery/directory.hpp>
#include <lanyard/tls/context.hpp>
#include <lanyard/tls/identity.hpp>
#include <lanyard/trust/controller_store.hpp>
#include <lanyard/trust/setup_credentials.hpp>
#include <lanyard/trust/trust_store.hpp>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>

#include <csignal>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <unistd.h>

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
void say(const std::string& line) {
  std::printf("%.3f %s\n", now_s(), line.c_str());
  std::fflush(stdout);
}
// A diagnostic as two lines: "log TEXT" for a person reading the output, and
// "diag ID code=CODE conditions=C,... KEY=VALUE ..." (values escaped, no spaces) that the lab
// scripts match on, instead of the text.
void say_diagnostic(const core::diagnostic& d) {
  say("log " + std::string(d.text));
  std::string line = "diag " + std::string(d.id);
  if (d.code) {
    line += " code=" + core::code_string(d.code) + " conditions=";
    bool first = true;
    for (std::string_view name : core::condition_names(d.code)) {
      line += (first ? "" : ",") + std::string(name);
      first = false;
    }
  }
  for (const core::field& f : d.fields) {
    std::string v;
    if (const auto* s = std::get_if<std::string>(&f.value))
      v = core::display_text(*s);
    else if (const auto* u = std::get_if<std::uint64_t>(&f.value))
      v = std::to_string(*u);
    else if (const auto* i = std::get_if<std::int64_t>(&f.value))
      v = std::to_string(*i);
    else if (const auto* b = std::get_if<bool>(&f.value))
      v = *b ? "true" : "false";
    for (char& c : v)
      if (c == ' ') c = '_';
    line += " " + std::string(f.key) + "=" + v;
  }
  say(line);
}

// "<prefix><number>" → number, or -1.
long long index_of(std::string_view s, std::string_view prefix) {
  if (s.substr(0, prefix.size()) != prefix || s.size() == prefix.size()) return -1;
  long long v = 0;
  for (char c : s.substr(prefix.size())) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

struct args {
  std::map<std::string, std::string> values;
  std::string get(const std::string& k, const std::string& def = {}) const {
    auto it = values.find(k);
    return it == values.end() ? def : it->second;
  }
  long long num(const std::string& k, long long def) const {
    auto it = values.find(k);
    return it == values.end() ? def : std::atoll(it->second.c_str());
  }
  bool has(const std::string& k) const { return values.count(k) != 0; }
};

std::optional<args> parse(int argc, char** argv, int from) {
  args a;
  for (int i = from; i < argc; ++i) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0) return std::nullopt;
    k = k.substr(2);
    if (k == "log-recv" || k == "log-acks" || k == "no-echo" || k == "log-echo-acks" ||
        k == "graceful-term" || k == "log-echoes") {
      a.values[k] = "1";
    } else if (i + 1 < argc) {
      a.values[k] = argv[++i];
    } else {
      return std::nullopt;
    }
  }
  return a;
}

// ---------------------------------------------------------------- accessory

struct controller_state {
  std::uint64_t next_seq = 0;  // session seq expected next
  long long last_index = -1;   // last "m<i>" received by this process
  std::uint64_t received = 0;  // messages received by this process
  std::uint64_t next_tick = 0; // per session
  bool has_session = false;
};

// The lab accessory's setup secret: both roles of this test peer know it (as an app that read
// the accessory's QR code would), so the app pairs by proving it on its first connection.
lanyard::trust::setup_credentials lab_setup_credentials() {
  lanyard::trust::setup_credentials c;
  c.secret.fill(0x1a);
  return c;
}

int run_accessory(const args& a) {
  std::filesystem::path dir = a.get("dir");
  auto port = static_cast<std::uint16_t>(a.num("port", 0));
  const bool log_recv = a.has("log-recv");
  const long long tick_ms = a.num("tick-ms", 0);
  const bool echo = !a.has("no-echo");
  const bool log_echo_acks = a.has("log-echo-acks");
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
  opts.diagnostics = say_diagnostic;
  if (a.has("ack-delay-ms"))
    opts.session.ack_delay = std::chrono::milliseconds(a.num("ack-delay-ms", 20));
  accessory::server srv(io.get_executor(), tls::context(id), store, opts);
  std::map<core::fingerprint, controller_state> controllers;

  srv.set_event_handler([&](const core::fingerprint& c, const core::session_event& ev) {
    if (auto* e = std::get_if<core::events::established>(&ev)) {
      controller_state& st = controllers[c];
      st.has_session = true;
      if (!e->resumed) {
        st.next_seq = 0;
        st.next_tick = 0;
      }
      say(std::string("session ") + (e->resumed ? "resumed" : "new"));
    } else if (std::get_if<core::events::closed>(&ev)) {
      controllers[c].has_session = false;
      say("session closed");
    }
  });
  srv.set_message_handler([&](const core::fingerprint& c, std::uint64_t seq,
                              std::span<const std::byte> msg) {
    controller_state& st = controllers[c];
    std::string m = text(msg);
    long long i = index_of(m, "m");
    if (log_recv) say("recv " + std::to_string(seq) + " " + m);
    if (seq != st.next_seq || i < 0 || (st.last_index >= 0 && i != st.last_index + 1))
      say("VIOLATION: received seq " + std::to_string(seq) + " \"" + m + "\", expected seq " +
          std::to_string(st.next_seq) + " m" + std::to_string(st.last_index + 1));
    st.next_seq = seq + 1;
    st.last_index = i;
    if (++st.received % 10000 == 0) say("received " + std::to_string(st.received) + " last " + m);
    if (!echo) return;
    srv.async_send(c, as_bytes("echo:" + m), {},
                   [log_echo_acks, m](std::error_code e, std::uint64_t) {
                     if (log_echo_acks)
                       say((e ? "echo-failed " : "echo-acked ") + m + (e ? " " + e.message() : ""));
                     else if (e)
                       say("push failed: " + e.message());
                   });
  });
  if (auto e = srv.listen({asio::ip::address_v6::any(), port})) {
    std::fprintf(stderr, "listen: %s\n", e.message().c_str());
    return 1;
  }
  // Advertised like a real accessory; SIGTERM withdraws it (goodbye) and ends the program.
  std::optional<discovery::client> avahi;
  std::optional<discovery::advertiser> adv;
  asio::signal_set signals(io, SIGTERM);
  asio::steady_timer ticker(io);
  if (a.has("graceful-term") && !a.has("advertise")) {
    // close() fails every pending push (posting the completions); "terminated" is posted
    // after them, so the log lists every push the app never acknowledged before it.
    signals.async_wait([&](std::error_code e, int) {
      if (e) return;
      say("terminating");
      srv.close();
      ticker.cancel();
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
  std::function<void()> tick = [&] {
    for (auto& [c, st] : controllers) {
      if (!st.has_session) continue;
      std::string t = "t" + std::to_string(st.next_tick++);
      srv.async_send(c, as_bytes(t), {}, [t](std::error_code e, std::uint64_t) {
        if (e) say("tick " + t + " failed: " + e.message());
      });
    }
    ticker.expires_after(std::chrono::milliseconds(tick_ms));
    ticker.async_wait([&](std::error_code e) {
      if (!e) tick();
    });
  };
  if (tick_ms > 0) tick();
  say("listening on port " + std::to_string(port) + " pid " + std::to_string(::getpid()));
  io.run();
  return 0;
}

// ---------------------------------------------------------------- app

int run_app(const args& a) {
  std::filesystem::path dir = a.get("dir");
  const long long count = a.num("count", 0);
  const long long epoch = a.num("epoch", 0);
  const long long burst = a.num("burst", 1);
  const auto tick = std::chrono::milliseconds(a.num("tick-ms", 100));
  const std::string reset_mode = a.get("reset", "forbid");
  const bool expect_reset = reset_mode == "expect";
  const bool many_resets = reset_mode == "many";
  const bool log_echoes = a.has("log-echoes");
  const long long progress_ms = a.num("progress-ms", 0);
  const bool log_acks = a.has("log-acks");
  const long long min_recoveries = a.num("min-recoveries", 0);
  const bool expect_echoes = !a.has("no-echo");

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

  // Per message: 0 pending, 1 acknowledged, 2 session_reset, 3 other error.
  std::vector<unsigned char> status(static_cast<std::size_t>(count), 0);
  long long sent = 0, completed = 0, acked = 0;
  bool failed = false;
  int connects = 0, disconnects = 0, recoveries = 0, resets = 0;
  bool was_ready = false, was_waiting = false;
  std::vector<long long> reset_list; // the reset's list (expect)
  // many: which messages a reset listed. A preallocated map, not a growing list, so that the
  // app's memory stays flat across resets (the chaos test bounds its growth).
  std::vector<unsigned char> listed(many_resets ? static_cast<std::size_t>(count) : 0, 0);
  long long n_listed = 0;
  // The most that will be sent: --count, lowered to what was sent once --echo-target echoes
  // arrived.
  long long limit = count;
  const long long echo_target = a.num("echo-target", 0);
  long long reset_boundary = -1; // first message of the session after the (last) reset
  std::string state = "idle";
  std::uint64_t next_seq = 0; // incoming, per session
  long long last_echo = -1, echoes = 0;
  long long next_tick = 0, ticks = 0;
  bool first_echo_of_session = true;

  auto violation = [&](const std::string& what) {
    say("VIOLATION: " + what);
    failed = true;
    io.stop();
  };
  auto check_done = [&] {
    if (failed || sent < limit || completed < limit) return;
    if (expect_reset && resets == 0) return;
    // Every message acknowledged in the current session has been echoed by it.
    if (expect_echoes && status[static_cast<std::size_t>(limit - 1)] == 1 && last_echo != limit - 1)
      return;
    io.stop();
  };

  ch.set_state_handler([&](client::channel_state s, std::error_code why) {
    state = std::string(to_string(s));
    say("state " + state + (why ? " " + why.message() : ""));
    if (s == client::channel_state::ready) {
      say("connected " + std::to_string(++connects));
      if (was_waiting) ++recoveries;
      was_ready = true;
      was_waiting = false;
    } else if (s == client::channel_state::waiting) {
      if (was_ready) say("disconnected " + std::to_string(++disconnects));
      was_ready = false;
      was_waiting = true;
    } else if (s == client::channel_state::failed) {
      violation("the channel failed: " + why.message());
    }
  });
  ch.set_message_handler([&](std::uint64_t seq, std::span<const std::byte> msg) {
    std::string m = text(msg);
    if (seq != next_seq)
      return violation("message seq " + std::to_string(seq) + " (\"" + m + "\"), expected " +
                       std::to_string(next_seq));
    ++next_seq;
    if (long long t = index_of(m, "t"); t >= 0) {
      if (t != next_tick)
        return violation("tick \"" + m + "\", expected t" + std::to_string(next_tick));
      ++next_tick;
      ++ticks;
      return;
    }
    long long e = index_of(m, "echo:m");
    if (e < 0) return violation("unexpected message \"" + m + "\"");
    // The first echo of a session after a reset is the first message of that session.
    bool ok = first_echo_of_session
                  ? (last_echo < 0 && reset_boundary < 0 ? e == 0 : e == reset_boundary)
                  : e == last_echo + 1;
    if (!ok)
      return violation(
          "echo \"" + m + "\" after echo:m" + std::to_string(last_echo) +
          (reset_boundary >= 0 ? " (reset boundary m" + std::to_string(reset_boundary) + ")" : ""));
    first_echo_of_session = false;
    last_echo = e;
    ++echoes;
    if (log_echoes) say("echo m" + std::to_string(e));
    if (echo_target > 0 && echoes == echo_target) {
      limit = sent;
      say("echo target reached: sending no more after m" + std::to_string(sent - 1));
    }
    check_done();
  });
  ch.set_session_reset_handler([&](const core::events::session_reset& r) {
    ++resets;
    if (!expect_reset && !many_resets) return violation("session reset");
    if (expect_reset && resets > 1) return violation("a second session reset");
    reset_boundary = sent;
    say("session reset: " + std::to_string(r.unacked.size()) + " unacknowledged, boundary m" +
        std::to_string(sent));
    long long k = sent - static_cast<long long>(r.unacked.size());
    for (const core::message& m : r.unacked) {
      std::string s = text(m.payload);
      if (log_acks) say("unacked " + s);
      if (!many_resets) {
        reset_list.push_back(index_of(s, "m"));
        continue;
      }
      // many: checked per reset (expect checks its single list after the run).
      if (index_of(s, "m") != k++)
        return violation("the reset list is not the run of messages right before boundary m" +
                         std::to_string(sent));
      listed[static_cast<std::size_t>(k - 1)] = 1;
      ++n_listed;
    }
    next_seq = 0;
    next_tick = 0;
    first_echo_of_session = true;
    last_echo = -1;
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

  asio::steady_timer ticker(io);
  std::function<void()> send_some = [&] {
    for (long long n = 0; n < burst && sent < limit; ++n) {
      if (epoch > 0 && sent >= epoch * connects) break;
      if (sent - completed >= 20000) break; // bound what is outstanding
      long long i = sent++;
      std::string m = "m" + std::to_string(i);
      ch.async_send(as_bytes(m), {}, [&, i, m](std::error_code e, std::uint64_t) {
        ++completed;
        if (!e) {
          status[static_cast<std::size_t>(i)] = 1;
          ++acked;
          if (log_acks) say("acked " + m);
        } else if (e == channel::errc::session_reset) {
          status[static_cast<std::size_t>(i)] = 2;
          if (log_acks) say("reset-failed " + m);
        } else {
          status[static_cast<std::size_t>(i)] = 3;
          return violation("send " + m + " failed: " + e.message());
        }
        check_done();
      });
    }
    if (sent == limit) return;
    ticker.expires_after(tick);
    ticker.async_wait([&](std::error_code e) {
      if (!e) send_some();
    });
  };
  send_some();
  asio::steady_timer progress(io);
  std::function<void()> report = [&] {
    say("progress sent " + std::to_string(sent) + " completed " + std::to_string(completed) +
        " acked " + std::to_string(acked) + " echoes " + std::to_string(echoes) + " resets " +
        std::to_string(resets) + " connects " + std::to_string(connects) + " state " + state);
    progress.expires_after(std::chrono::milliseconds(progress_ms));
    progress.async_wait([&](std::error_code e) {
      if (!e) report();
    });
  };
  if (progress_ms > 0) report();
  asio::steady_timer give_up(io);
  give_up.expires_after(std::chrono::seconds(a.num("timeout", 120)));
  give_up.async_wait([&](std::error_code e) {
    if (e) return;
    violation("giving up: " + std::to_string(completed) + "/" + std::to_string(count) +
              " sends completed, last echo m" + std::to_string(last_echo));
  });
  io.run();

  if (!failed && many_resets) {
    for (long long i = 0; !failed && i < count; ++i)
      if ((status[static_cast<std::size_t>(i)] == 2) != (listed[static_cast<std::size_t>(i)] == 1))
        violation(
            "m" + std::to_string(i) + (listed[static_cast<std::size_t>(i)] ? " was" : " was not") +
            " listed in a reset but its send completed " +
            (status[static_cast<std::size_t>(i)] == 2 ? "with" : "without") + " session_reset");
  }
  if (!failed && expect_reset) {
    // The reset list is exactly the sends that completed with session_reset, in order: a
    // contiguous run ending right before the boundary; everything else was acknowledged.
    std::vector<long long> reset_failed;
    for (long long i = 0; i < count; ++i)
      if (status[static_cast<std::size_t>(i)] == 2) reset_failed.push_back(i);
    if (reset_failed != reset_list) violation("the reset list differs from the failed sends");
    if (reset_list.empty()) violation("the reset listed nothing");
    for (std::size_t k = 0; !failed && k < reset_list.size(); ++k)
      if (reset_list[k] != reset_boundary - static_cast<long long>(reset_list.size() - k))
        violation("the reset list is not the run of messages right before the boundary");
  }
  say("done: sent " + std::to_string(sent) + ", acked " + std::to_string(acked) + ", echoes " +
      std::to_string(echoes) + ", ticks " + std::to_string(ticks) + ", connects " +
      std::to_string(connects) + ", recoveries " + std::to_string(recoveries) + ", resets " +
      std::to_string(resets) + ", reset-failed " +
      std::to_string(many_resets ? n_listed : static_cast<long long>(reset_list.size())));
  if (!failed && recoveries < min_recoveries) {
    say("VIOLATION: " + std::to_string(recoveries) + " recoveries, expected at least " +
        std::to_string(min_recoveries));
    failed = true;
  }
  return failed ? 1 : 0;
}

} // namespace

int main(int argc, char** argv) {
  std::optional<args> a;
  if (argc >= 2) a = parse(argc, argv, 2);
  if (a && std::string_view(argv[1]) == "accessory" && a->has("dir") && a->has("port"))
    return run_accessory(*a);
  if (a && std::string_view(argv[1]) == "app" && a->has("dir") &&
      ((a->has("host") && a->has("port")) || a->has("device-id")) && a->num("count", 0) > 0)
    return run_app(*a);
  std::fprintf(stderr,
               "usage: %s accessory --dir DIR --port PORT [--tick-ms N] [--log-recv]\n"
               "       %s app --dir DIR (--host HOST --port PORT | --device-id ID) --count N "
               "[options] (see the source)\n",
               argv[0], argv[0]);
  return 2;
}
