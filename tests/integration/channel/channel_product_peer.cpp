// The channel lab's stream peer on the product API (tests/integration/channel/*_test.sh and
// tests/integration/chaos with STREAM_API=product, the default): the same roles, options,
// output lines and checks as channel_stream_peer (see its comment), with the accessory a
// node::node and the app an app::controller with one app::device, both pulling their
// messages. What differs, as a product would do it:
//   accessory: node::node with its state in DIR/node (identity, setup credentials, paired
//       controllers; the pairing window opens on first boot), listening on [::]:PORT,
//       advertising only with --advertise NAME (device id lab-lamp). It writes its setup
//       payload (the QR code's text) to DIR/setup-payload, where the app reads it. Each
//       controller's messages are taken with node::async_receive() in a loop started by its
//       session_event.
//   app: app::controller with its identity in DIR/app and its pins in --trust-store FILE
//       (default DIR/app-state/trust-store.json), pairing with the payload
//       (controller::async_pair(): pins the key the payload names, proves its secret) and then
//       streaming through the device. By address, the accessory is a static path; by
//       --device-id, the controller's own discovery finds it (printed as "discovery ..." lines).
//       Session resets come as device events, separately from the messages: a reset's
//       boundary is computed from its list (app_stream::boundary_of()), and the receiving side
//       moves to the new session at its first message (seq 0), so messages of the old session
//       still waiting are taken in the old one.
#include "accessory_stream.hpp"
#include "app_stream.hpp"
#include "stream_peer_common.hpp"

#include <lanyard/app/controller.hpp>
#include <lanyard/app/device.hpp>
#include <lanyard/core/setup_payload.hpp>
#include <lanyard/node/node.hpp>

#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>

#include <csignal>

#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

#include <unistd.h>

using namespace lanyard;
using namespace stream_peer;

namespace {

// ---------------------------------------------------------------- accessory

// The setup payload where the app reads it, written whole (a rename) so it never reads half.
bool write_payload(const std::filesystem::path& file, const std::string& payload) {
  const std::filesystem::path tmp = file.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << payload << '\n';
    if (!out.flush()) return false;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, file, ec);
  return !ec;
}

int run_accessory(const args& a) {
  const std::filesystem::path dir = a.get("dir");
  const auto port = static_cast<std::uint16_t>(a.num("port", 0));
  asio::io_context io;
  node::node_options o;
  o.state_dir = dir / "node";
  o.device_id = "lab-lamp";
  o.name = a.get("advertise");
  o.advertise = a.has("advertise");
  o.listen = {{asio::ip::address_v6::any(), port}};
  o.diagnostics = say_diagnostic;
  if (a.has("ack-delay-ms"))
    o.server.session.ack_delay = std::chrono::milliseconds(a.num("ack-delay-ms", 20));
  std::unique_ptr<node::node> n;
  if (auto e = node::node::open(io.get_executor(), std::move(o), n)) {
    std::fprintf(stderr, "node: %s\n", e.message().c_str());
    return 1;
  }
  if (!write_payload(dir / "setup-payload", n->setup_payload_text())) {
    std::fprintf(stderr, "cannot write %s\n", (dir / "setup-payload").c_str());
    return 1;
  }
  accessory_stream stream(
      io, a,
      [&n](const core::fingerprint& c, const std::string& payload,
           std::function<void(std::error_code)> done) {
        n->async_send(c, as_bytes(payload),
                      [done = std::move(done)](std::error_code e, std::uint64_t) { done(e); });
      });

  // One receive loop per controller with a session. A loop ends with its session (the
  // receive fails once the messages received were taken); a session that started again
  // meanwhile gets the loop back.
  struct controller_loop {
    bool open = false;
    bool receiving = false;
  };
  std::map<core::fingerprint, controller_loop> loops;
  std::function<void(const core::fingerprint&)> receive = [&](const core::fingerprint& c) {
    loops[c].receiving = true;
    n->async_receive(c, [&, c](std::error_code ec, core::message m) {
      controller_loop& l = loops[c];
      if (ec) {
        l.receiving = false;
        if (ec != asio::error::operation_aborted) say("receive ended: " + ec.message());
        if (l.open) receive(c);
        return;
      }
      stream.on_message(c, m.seq, text(m.payload));
      receive(c);
    });
  };
  std::function<void()> next_event = [&] {
    n->async_next_event([&](std::error_code ec, node::node_event ev) {
      if (ec) return; // closed
      if (auto* s = std::get_if<node::session_event>(&ev)) {
        controller_loop& l = loops[s->controller];
        l.open = s->open;
        if (s->open) {
          stream.on_established(s->controller, false);
          if (!l.receiving) receive(s->controller);
        } else {
          stream.on_closed(s->controller);
        }
      } else if (auto* r = std::get_if<node::reconnect_event>(&ev)) {
        stream.on_established(r->controller, r->resumed);
      } else if (auto* ad = std::get_if<node::advertising_event>(&ev)) {
        if (!ad->registered_name.empty() || ad->error)
          say("advertiser " + ad->registered_name + (ad->error ? ": " + ad->error.message() : ""));
      } else if (auto* p = std::get_if<node::pairing_event>(&ev)) {
        say(std::string("pairing ") + (p->error ? p->error.message() : "paired"));
      }
      next_event();
    });
  };
  next_event();

  asio::signal_set signals(io, SIGTERM);
  if (a.has("graceful-term") || a.has("advertise")) {
    // close() withdraws the advertisement and fails every pending push (posting the
    // completions); "terminated" is posted after them, so the log lists every push the app
    // never acknowledged before it.
    signals.async_wait([&](std::error_code e, int) {
      if (e) return;
      say(a.has("advertise") ? "terminating: withdrawing the advertisement" : "terminating");
      n->close();
      stream.stop_ticks();
      asio::post(io, [&] {
        say("terminated");
        io.stop();
      });
    });
  }
  stream.start_ticks();
  say("listening on port " + std::to_string(port) + " pid " + std::to_string(::getpid()));
  io.run();
  return 0;
}

// ---------------------------------------------------------------- app

std::optional<core::setup_payload> read_payload(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::string line;
  if (!std::getline(in, line)) {
    std::fprintf(stderr, "cannot read the setup payload in %s\n", file.c_str());
    return std::nullopt;
  }
  core::payload_parse_result r = core::parse_setup_payload(line);
  if (!r) {
    std::fprintf(stderr, "%s\n", r.describe().c_str());
    return std::nullopt;
  }
  return r.payload;
}

int run_app(const args& a) {
  const std::filesystem::path dir = a.get("dir");
  std::optional<core::setup_payload> payload = read_payload(dir / "setup-payload");
  if (!payload) return 1;
  say("app pid " + std::to_string(::getpid()));
  asio::io_context io;
  app::controller_options o;
  o.state_dir = dir / "app-state";
  o.identity_dir = dir / "app";
  if (a.has("trust-store")) o.trust_store = a.get("trust-store");
  o.name = "lab-phone";
  o.identity_id = "lab-phone";
  const std::string device_id = a.get("device-id");
  o.discovery = !device_id.empty();
  if (device_id.empty()) {
    std::error_code ec;
    asio::ip::address host = asio::ip::make_address(a.get("host"), ec);
    if (ec) {
      std::fprintf(stderr, "--host: not an IP address\n");
      return 2;
    }
    o.paths.static_paths = {{host, static_cast<std::uint16_t>(a.num("port", 0)), {}}};
  } else if (device_id != payload->device_id) {
    std::fprintf(stderr, "--device-id %s is not the payload's\n", device_id.c_str());
    return 2;
  }
  o.session.keepalive_interval = std::chrono::milliseconds(a.num("keepalive-ms", 500));
  o.session.peer_timeout = std::chrono::milliseconds(a.num("peer-timeout-ms", 2000));
  o.connect_timeout = std::chrono::milliseconds(a.num("connect-timeout-ms", 2000));
  o.backoff.initial = std::chrono::milliseconds(a.num("backoff-initial-ms", 100));
  o.backoff.cap = std::chrono::milliseconds(a.num("backoff-cap-ms", 1000));
  o.diagnostics = say_diagnostic;
  std::unique_ptr<app::controller> ctl;
  if (auto e = app::controller::open(io.get_executor(), std::move(o), ctl)) {
    std::fprintf(stderr, "controller: %s\n", e.message().c_str());
    return 1;
  }
  std::shared_ptr<app::device> dev = ctl->get(payload->device_id);
  app_stream stream(io, a);

  // Resets whose new session the receiving side has not reached yet (their boundaries), and
  // a new session's first message taken before its reset event (held until the event).
  std::deque<long long> pending_resets;
  std::optional<core::message> early;
  std::function<void()> receive;
  auto take = [&](core::message m) {
    if (m.seq == 0 && !pending_resets.empty()) {
      stream.new_session(pending_resets.front());
      pending_resets.pop_front();
    }
    stream.on_message(m.seq, text(m.payload));
  };
  receive = [&] {
    dev->async_receive([&](std::error_code ec, core::message m) {
      if (ec) {
        if (ec != asio::error::operation_aborted) say("receive ended: " + ec.message());
        return;
      }
      if (m.seq == 0 && pending_resets.empty() && stream.next_seq() != 0) {
        early = std::move(m); // the reset event is on its way
        return;
      }
      take(std::move(m));
      receive();
    });
  };
  std::function<void()> next_event = [&] {
    dev->async_next_event([&](std::error_code ec, app::device_event ev) {
      if (ec) return; // cancelled
      if (auto* s = std::get_if<app::state_event>(&ev)) {
        if (s->missed) stream.violation(std::to_string(s->missed) + " state events merged");
        stream.on_state(to_string(s->to), s->why);
      } else if (auto* r = std::get_if<app::session_reset_event>(&ev)) {
        const long long boundary = stream.boundary_of(r->unacked);
        stream.on_reset(r->unacked, boundary);
        pending_resets.push_back(boundary);
        if (early) {
          take(std::move(*early));
          early.reset();
          receive();
        }
      }
      next_event();
    });
  };
  std::function<void()> next_discovery = [&] {
    ctl->async_next_discovery_event([&](std::error_code ec, app::discovery_event e) {
      if (ec) return;
      using kind = app::discovery_event::kind;
      if (e.what_happened == kind::discovery_status) {
        say("discovery status " + (e.status ? e.status.message() : std::string("browsing")));
      } else {
        std::string line = std::string("discovery ") +
                           (e.what_happened == kind::appeared      ? "appeared"
                            : e.what_happened == kind::disappeared ? "disappeared"
                                                                   : "changed") +
                           " " + core::display_text(e.info.id);
        for (const discovery::accessory_path& p : e.info.paths)
          line += " " + p.address.to_string() + ":" + std::to_string(p.port);
        say(line);
      }
      next_discovery();
    });
  };
  next_event();
  if (!device_id.empty()) next_discovery();

  ctl->async_pair(*payload, [&](std::error_code ec, app::pairing_result r) {
    if (ec) return stream.violation("pairing: " + ec.message());
    say("paired with " + r.device_id);
    receive();
    stream.start([&](long long i, const std::string& m) {
      dev->async_send(as_bytes(m), [&stream, i](std::error_code e, std::uint64_t) {
        stream.send_completed(i, e);
      });
    });
  });
  io.run();
  return stream.finish();
}

} // namespace

int main(int argc, char** argv) {
  return run_role(argc, argv, run_accessory, run_app);
}
