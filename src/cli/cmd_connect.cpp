// lanyard connect ID [--address HOST:PORT] [--stay] [--json] [--timeout S] [--trust-store PATH]
// [--identity-dir DIR]: opens a persistent channel to a paired accessory (found by DNS-SD, or at
// --address), prints its state changes and every message it receives, and sends each line of
// stdin as one message. At the end of stdin it waits until the accessory acknowledged every
// line, then closes the session (or, with --stay, keeps receiving until SIGINT/SIGTERM).
// On the product API: an app::controller (this CLI's identity and trust store, its discovery)
// and its app::device for ID; messages are pulled (async_receive), state, path and reset
// lines come from async_next_event().
#include "command.hpp"
#include "controller_setup.hpp"
#include "discovery_changes.hpp"
#include "json.hpp"
#include "lanyard/core/display_text.hpp"
#include "report.hpp"
#include "send_report.hpp"

#include <lanyard/app/controller.hpp>
#include <lanyard/link/interface_policy.hpp>

#include <asio/error.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/post.hpp>
#include <asio/read_until.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace lanyard::cli {
namespace {

int fail(const std::string& reason, int code) {
  std::fprintf(stderr, "lanyard connect: %s\n", reason.c_str());
  return code;
}

// Prints events as JSON lines or as text lines.
struct printer {
  bool json = false;

  static json_writer& begin_event(json_writer& w, std::string_view name) {
    write_time_ms(w.begin_object().key("event").value(name));
    // And in microseconds: lanyard-bench relay times round trips against the send times its
    // lines carry.
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::system_clock::now().time_since_epoch());
    return w.key("time_us").value(static_cast<std::uint64_t>(us.count()));
  }

  void state(client::channel_state s, std::error_code why) const {
    if (json) {
      json_writer w;
      begin_event(w, "state").key("state").value(client::to_string(s));
      if (why) {
        write_code(w, why); // what scripts check; the reason is for people
        w.key("reason").value(why.message());
      }
      w.end_object();
      line(w.str());
    } else {
      line("state " + std::string(client::to_string(s)) + (why ? ": " + why.message() : ""));
    }
  }
  void message(std::uint64_t seq, std::span<const std::byte> payload) const {
    const std::string_view text(reinterpret_cast<const char*>(payload.data()), payload.size());
    // The accessory's bytes, escaped: a message must not be able to drive the terminal.
    if (!json) return line("< " + core::display_text(text, 64 * 1024));
    json_writer w;
    begin_event(w, "message").key("seq").value(seq);
    payload_value(w, text);
    w.end_object();
    line(w.str());
  }
  void path(const client::path_change& c) const {
    auto where = [](const client::path_info& p) {
      return p.address + " port " + std::to_string(p.port) +
             (p.interface_name.empty()
                  ? std::string()
                  : " via " + p.interface_name + " (" + std::string(core::to_string(p.kind)) + ")");
    };
    if (!json)
      return line("path " + where(c.to) + " (" + std::string(client::to_string(c.reason)) +
                  (c.detail.empty() ? "" : ": " + c.detail) + ")");
    auto info = [](json_writer& w, const client::path_info& p) {
      w.begin_object()
          .key("interface")
          .value(p.interface_name)
          .key("kind")
          .value(core::to_string(p.kind))
          .key("address")
          .value(p.address)
          .key("port")
          .value(static_cast<unsigned>(p.port))
          .key("transport")
          .value(p.mptcp ? "mptcp" : "tcp")
          .end_object();
    };
    json_writer w;
    begin_event(w, "path").key("reason").value(client::to_string(c.reason));
    if (!c.detail.empty()) w.key("detail").value(c.detail);
    w.key("from");
    if (c.from)
      info(w, *c.from);
    else
      w.null();
    w.key("to");
    info(w, c.to);
    w.end_object();
    line(w.str());
  }
  // What discovery reported about the accessory (--json only): when it was found on which
  // link, and in which order, so a script can tell why the channel started where it did.
  void discovered(const discovery::directory_event& e) const {
    if (!json) return; // a person reads the path lines; the order matters to scripts
    const bool has_path = e.kind != discovery::directory_event_kind::added &&
                          e.kind != discovery::directory_event_kind::updated &&
                          e.kind != discovery::directory_event_kind::removed;
    const auto& p = e.path;
    const std::string_view kind = core::to_string(p.interface.kind);
    json_writer w;
    begin_event(w, "discovery").key("change").value(discovery::to_string(e.kind));
    if (has_path) {
      w.key("path")
          .begin_object()
          .key("interface")
          .value(p.interface.name)
          .key("kind")
          .value(kind)
          .key("address")
          .value(p.address.to_string())
          .key("port")
          .value(static_cast<unsigned>(p.port))
          .end_object();
    }
    w.end_object();
    line(w.str());
  }
  void acked(std::uint64_t seq) const {
    if (!json) return line("acked " + std::to_string(seq));
    json_writer w;
    begin_event(w, "acked").key("seq").value(seq).end_object();
    line(w.str());
  }
  void reset(const std::vector<core::message>& unacked) const {
    if (!json) {
      line("session reset: the accessory lost the session; " + std::to_string(unacked.size()) +
           " message(s) not delivered:");
      for (const auto& m : unacked)
        line("  unsent " + std::to_string(m.seq) + " " +
             std::string(reinterpret_cast<const char*>(m.payload.data()), m.payload.size()));
      return;
    }
    json_writer w;
    begin_event(w, "session_reset").key("unacked").begin_array();
    for (const auto& m : unacked) {
      w.begin_object().key("seq").value(m.seq);
      payload_value(
          w, std::string_view(reinterpret_cast<const char*>(m.payload.data()), m.payload.size()));
      w.end_object();
    }
    w.end_array().end_object();
    line(w.str());
  }

  static void payload_value(json_writer& w, std::string_view text) {
    if (is_utf8(text)) {
      w.key("text").value(text);
    } else {
      w.key("base64").value(
          base64({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}));
    }
  }
  static void line(const std::string& s) {
    std::fwrite(s.data(), 1, s.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
  }
};

// The whole session: the device's messages and events, discovery, stdin, signals.
struct connect_session {
  asio::io_context io;
  printer out;
  std::unique_ptr<app::controller> ctl;
  std::shared_ptr<app::device> dev;
  std::optional<discovery_changes> discovered; // --json with discovery
  // --address: the old fixed-endpoint channel never reported paths; its one static path is no
  // news either, and scripts compare the output.
  bool show_paths = true;
  std::optional<asio::posix::stream_descriptor> input;
  std::string input_buf;
  bool input_done = false;
  bool stay = false;
  std::size_t in_flight = 0;
  int exit_code = 0;
  // The session is over (closed, failed, signal, timeout): the process ends once the device's
  // messages and events taken before its end are printed (both pulls then complete with an
  // error).
  bool ending = false;
  bool receiving = true;
  bool taking_events = true;
  std::optional<app::state_event> final_state; // failed or cancelled, held until then

  void send_line(std::string text) {
    std::vector<std::byte> bytes(text.size());
    std::memcpy(bytes.data(), text.data(), text.size());
    ++in_flight;
    dev->async_send(bytes, [this](std::error_code ec, std::uint64_t seq) {
      --in_flight;
      if (!ec) {
        out.acked(seq);
      } else if (report_as_undelivered(ec)) {
        // Checked a turn later: a failed channel fails its sends before it reports the state,
        // and its state line says why nothing more gets through (the command ends on it, as
        // it always did, without a line per message).
        asio::post(io, [this, seq, ec] {
          if (dev->state() == client::channel_state::failed) return;
          std::fprintf(stderr, "lanyard connect: message %llu not delivered: %s\n",
                       static_cast<unsigned long long>(seq), ec.message().c_str());
        });
      }
      maybe_finish();
    });
  }

  void read_input() {
    asio::async_read_until(*input, asio::dynamic_buffer(input_buf), '\n',
                           [this](std::error_code ec, std::size_t n) {
                             if (!ec) {
                               send_line(input_buf.substr(0, n - 1));
                               input_buf.erase(0, n);
                               return read_input();
                             }
                             if (!input_buf.empty()) send_line(std::move(input_buf));
                             input_done = true;
                             maybe_finish();
                           });
  }

  void start_input() {
    input.emplace(io);
    std::error_code ec;
    input->assign(::dup(STDIN_FILENO), ec);
    if (!ec) return read_input();
    // A regular file or /dev/null cannot be polled: read it now, the sends queue.
    input.reset();
    for (std::string l; std::getline(std::cin, l);)
      send_line(l);
    input_done = true;
  }

  // Exactly once and in order: one pull at a time, printed before the next is asked for.
  void receive() {
    dev->async_receive([this](std::error_code ec, core::message m) {
      if (ec) {
        // Every message received before the end was taken: now the line that says how it
        // ended, last, as when the channel pushed its messages.
        receiving = false;
        if (final_state) out.state(final_state->to, final_state->why);
        return maybe_stop();
      }
      out.message(m.seq, m.payload);
      receive();
    });
  }

  void next_event() {
    dev->async_next_event([this](std::error_code ec, app::device_event e) {
      if (ec) {
        taking_events = false; // queue empty after the device's cancel()
        return maybe_stop();
      }
      if (const auto* s = std::get_if<app::state_event>(&e)) {
        const bool over =
            s->to == client::channel_state::failed || s->to == client::channel_state::cancelled;
        if (over && receiving)
          final_state = *s; // messages still queued come first (receive())
        else
          out.state(s->to, s->why);
        if (s->to == client::channel_state::failed) {
          exit_code = 1;
          end();
        }
      } else if (const auto* p = std::get_if<app::path_event>(&e)) {
        if (show_paths) out.path(p->change);
      } else if (const auto* r = std::get_if<app::session_reset_event>(&e)) {
        out.reset(r->unacked);
      }
      next_event();
    });
  }

  void next_discovery() {
    ctl->async_next_discovery_event([this](std::error_code ec, app::discovery_event e) {
      if (ec == asio::error::operation_aborted) return;
      if (ec) {
        std::fprintf(stderr, "lanyard connect: browsing: %s\n", ec.message().c_str());
      } else if (e.what_happened == app::discovery_event::kind::discovery_status) {
        // avahi-daemon went away (the controller browses again when it is back), or is back.
        std::fprintf(stderr, "lanyard connect: browsing: %s\n",
                     e.status ? e.status.message().c_str() : "running again");
      } else {
        for (const auto& de : discovered->apply(e))
          out.discovered(de);
      }
      next_discovery();
    });
  }

  // Closes the session (CLOSE sent if connected; "state cancelled" follows as an event).
  void end() {
    if (ending) return;
    ending = true;
    dev->cancel();
    ctl->cancel(); // discovery's wait too
  }

  void maybe_stop() {
    if (ending && !receiving && !taking_events) io.stop(); // discovery alone keeps io running
  }

  void maybe_finish() {
    if (!input_done || stay || in_flight != 0 || ending) return;
    end();
  }
};

// --address HOST:PORT as static paths: every address of HOST (an IP literal is taken as it is).
bool address_paths(const std::string& text, std::vector<client::static_path>& out,
                   std::string& error) {
  std::string host, port;
  if (!split_host_port(text, host, port, error)) return false;
  const auto port_number = static_cast<std::uint16_t>(std::stoi(port));
  std::error_code ec;
  if (auto a = asio::ip::make_address(host, ec); !ec) {
    out.push_back({a, port_number, ""});
    return true;
  }
  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  auto results = resolver.resolve(host, port, asio::ip::tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    error = "cannot resolve '" + host + "': " + (ec ? ec.message() : std::string("no address"));
    return false;
  }
  for (const auto& r : results)
    out.push_back({r.endpoint().address(), port_number, ""});
  return true;
}

int run(const parsed_args& args) {
  const std::string device_id = args.positional[0];
  std::string error;
  std::optional<std::chrono::seconds> timeout;
  if (auto t = args.value("timeout")) {
    auto v = parse_integer(*t, 1, 86400, "--timeout", error);
    if (!v) return fail(error, 2);
    timeout = std::chrono::seconds(*v);
  }

  connect_session s;
  s.out.json = args.has("json");
  s.stay = args.has("stay");
  // Checked before any file or network use (exit status 2), into the settings the
  // controller's device gets.
  client::path_options paths;
  core::session_settings session;
  const bool by_address = args.has("address");
  if (by_address) {
    std::string host, port;
    if (!split_host_port(*args.value("address"), host, port, error)) return fail(error, 2);
  }
  if (!link::parse_interface_policy(args.value("require").value_or(""),
                                    args.value("prohibit").value_or(""),
                                    args.value("prefer").value_or(""), paths.policy, error))
    return fail(error, 2);
  if (auto m = args.value("mode")) {
    if (*m == "interactive")
      paths.mode = core::ranking_mode::interactive;
    else if (*m != "handover")
      return fail("--mode must be handover or interactive (got '" + *m + "')", 2);
  }
  if (args.has("mptcp")) paths.transport = link::transport_protocol::mptcp;
  if (auto k = args.value("keepalive-ms")) {
    auto v = parse_integer(*k, 100, 3600000, "--keepalive-ms", error);
    if (!v) return fail(error, 2);
    session.keepalive_interval = std::chrono::milliseconds(*v);
  }
  if (auto k = args.value("peer-timeout-ms")) {
    auto v = parse_integer(*k, 200, 3600000, "--peer-timeout-ms", error);
    if (!v) return fail(error, 2);
    session.peer_timeout = std::chrono::milliseconds(*v);
  }
  if (session.peer_timeout <= session.keepalive_interval)
    return fail("--peer-timeout-ms must be longer than --keepalive-ms (the peer answers PINGs)", 2);
  if (auto h = args.value("move-back-hold-ms")) {
    auto v = parse_integer(*h, 0, 3600000, "--move-back-hold-ms", error);
    if (!v) return fail(error, 2);
    paths.move_back_hold = std::chrono::milliseconds(*v);
  }
  if (auto h = args.value("resolution-delay-ms")) {
    auto v = parse_integer(*h, 0, 3600000, "--resolution-delay-ms", error);
    if (!v) return fail(error, 2);
    paths.resolution_delay = std::chrono::milliseconds(*v);
  }
  for (const std::string& v : args.values("static")) {
    // ADDR:PORT[@IFACE]
    std::string where = v, iface;
    if (auto at = v.rfind('@'); at != std::string::npos && at > v.rfind(']') + 1) {
      where = v.substr(0, at);
      iface = v.substr(at + 1);
    }
    std::string host, port;
    if (!split_host_port(where, host, port, error)) return fail("--static: " + error, 2);
    std::error_code aec;
    auto address = asio::ip::make_address(host, aec);
    if (aec)
      return fail("--static: '" + host + "' is not an IP address (static paths need one)", 2);
    paths.static_paths.push_back(
        {address, static_cast<std::uint16_t>(std::stoi(port)), std::move(iface)});
  }
  if (by_address && (args.has("require") || args.has("prohibit") || args.has("prefer") ||
                     args.has("static") || args.has("resolution-delay-ms")))
    return fail("--require/--prohibit/--prefer/--static/--resolution-delay-ms choose among the "
                "accessory's paths; they do not apply with --address",
                2);
  core::error_detail setup_error;
  std::optional<app::controller_options> co = controller_options_from(args, setup_error);
  if (!co) return fail(setup_error.message(), 1);
  // --address: that endpoint only, as before: no browsing. Resolved once, here (a failure is
  // reported before anything else happens).
  if (by_address && !address_paths(*args.value("address"), paths.static_paths, error))
    return fail(error, 1);
  co->discovery = !by_address;
  // One endpoint: no better kind of path will turn up to wait for.
  if (by_address) paths.resolution_delay = std::chrono::milliseconds(0);
  co->paths = std::move(paths);
  co->session = session;
  // People read the line on stderr, as always; with --json a program gets the diagnostic (id,
  // code, fields) in the event stream on stdout.
  co->diagnostics = [json = s.out.json](const core::diagnostic& d) {
    std::fprintf(stderr, "lanyard connect: %.*s\n", static_cast<int>(d.text.size()), d.text.data());
    if (json) printer::line(diagnostic_event(d));
  };
  if (core::error_detail e = app::controller::open(s.io.get_executor(), std::move(*co), s.ctl))
    return fail(e.message(), 1);
  const auto known = s.ctl->accessories();
  if (std::none_of(known.begin(), known.end(),
                   [&](const app::accessory_info& a) { return a.id == device_id && a.paired; }))
    return fail("\"" + device_id + "\" is not paired: pair first with `lanyard pair PAYLOAD`", 1);
  if (!by_address) {
    if (std::error_code daemon = s.ctl->discovery_status())
      return fail(daemon.message() + "; give the accessory's address with --address", 1);
    if (s.out.json) {
      s.discovered.emplace(device_id);
      s.next_discovery();
    }
  }
  s.show_paths = !by_address;
  s.dev = s.ctl->get(device_id);
  s.dev->start();
  s.next_event();
  s.receive();
  s.start_input();

  asio::signal_set signals(s.io, SIGINT, SIGTERM);
  signals.async_wait([&s](std::error_code ec, int) {
    if (!ec) s.end();
  });
  asio::steady_timer deadline(s.io);
  if (timeout) {
    deadline.expires_after(*timeout);
    deadline.async_wait([&s](std::error_code ec) {
      if (ec || s.ending) return;
      std::fprintf(stderr, "lanyard connect: --timeout reached\n");
      if (s.in_flight != 0) s.exit_code = 1;
      s.end();
    });
  }
  s.maybe_finish();
  s.io.run();
  return s.exit_code;
}

const command cmd{
    "connect",
    "open a persistent channel to a paired accessory; stdin lines out, messages in",
    "usage: lanyard connect ID [--address HOST:PORT] [options]\n"
    "\n"
    "Opens the channel to the paired accessory ID (found by DNS-SD browsing of _lanyard._tcp,\n"
    "or at --address), over TLS pinned to the key in the trust store. Prints every state change\n"
    "(preparing, ready, waiting with the reason, failed) and every message received; sends each\n"
    "line of stdin as one message and prints its sequence number once acknowledged. The channel\n"
    "reconnects by itself and resumes the session: nothing is lost or repeated. At the end of\n"
    "stdin it waits until every line was acknowledged, then closes the session.\n"
    "\n"
    "options:\n"
    "  --address HOST:PORT  connect there instead of browsing\n"
    "  --stay               keep receiving after stdin ends (until SIGINT/SIGTERM)\n"
    "  --require KINDS      use only these interface kinds (comma-separated: wired, wifi,\n"
    "                       softap, p2p, cellular, loopback, other)\n"
    "  --prohibit KINDS     never use these kinds (not a single packet)\n"
    "  --prefer KINDS       preference order (default wired,wifi,p2p,softap,cellular,...)\n"
    "  --mode MODE          handover (default: stay on the preferred kind, move away on\n"
    "                       failure, back when it is healthy) or interactive (lowest RTT)\n"
    "  --move-back-hold-ms N  a better path must be viable this long before moving back\n"
    "                       (default 5000)\n"
    "  --resolution-delay-ms N  found first over a worse kind (p2p) than this host could\n"
    "                       reach it by (Wi-Fi)? wait up to N ms for the better one before\n"
    "                       connecting (default 100; 0: never wait)\n"
    "  --mptcp              kernel Multipath TCP where available (falls back to TCP)\n"
    "  --keepalive-ms N     PING interval (default 5000)\n"
    "  --peer-timeout-ms N  silence after which the path is declared dead (default 15000)\n"
    "  --static ADDR:PORT[@IFACE]  also race this address (e.g. the SoftAP's, or a routable\n"
    "                       address via cell0); repeatable\n"
    "  --timeout SECONDS    give up after this long (exit 1 if lines are unacknowledged)\n"
    "  --json               one JSON object per line: {\"event\": state|path|discovery|\n"
    "                       message|acked|session_reset, \"time_ms\": Unix ms, \"time_us\":\n"
    "                       Unix microseconds, ...};\n"
    "                       discovery: the directory's changes for ID (\"change\", \"path\")\n"
    "  --trust-store PATH   the trust store (default: $XDG_STATE_HOME/lanyard/trust-store)\n"
    "  --identity-dir DIR   this controller's key and certificate\n"
    "\n"
    "exit status: 0 closed normally, 1 failed (refused, not paired, timeout), 2 bad arguments\n",
    {{{"address", true, false},
      {"stay", false, false},
      {"require", true, false},
      {"prohibit", true, false},
      {"prefer", true, false},
      {"mode", true, false},
      {"move-back-hold-ms", true, false},
      {"resolution-delay-ms", true, false},
      {"mptcp", false, false},
      {"keepalive-ms", true, false},
      {"peer-timeout-ms", true, false},
      {"static", true, true},
      {"timeout", true, false},
      {"json", false, false},
      {"trust-store", true, false},
      {"identity-dir", true, false}},
     1,
     1},
    run};

const command_registrar reg{cmd};

} // namespace
} // namespace lanyard::cli
