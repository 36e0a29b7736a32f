// An imaginary lamp firmware's channel handling, written the way real firmware uses Lanyard:
// only lanyard::core (no asio, no exceptions, no RTTI, no threads), with the radio driver and
// the clock passed in. The firmware owns one core::session per paired controller; this one
// keeps a single controller to stay short.
//
// Application protocol (UTF-8 text messages): "on", "off", "brightness N" (0..100) change the
// lamp; after every change the lamp answers "state on|off N". Anything else is answered with
// "error: unknown command '<text>'" — bad input never changes the lamp.
//
// Provisioning (setup mode): the app sends "v1 wifi_set ..." (core/provisioning.hpp) as a
// provisioning message (a CONTROL frame, never application data: a command that happens to
// read "v1 wifi_set" is just an unknown command); core::provisioning_responder decides the
// answers, sent back the same way, the firmware's Wi-Fi driver joins and reports back through
// wifi_joined() / wifi_failed().
#pragma once

#include <lanyard/core/app_message.hpp>
#include <lanyard/core/provisioning_responder.hpp>
#include <lanyard/core/session.hpp>

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace lamp {

using lanyard::core::session;

/// What the firmware's radio driver offers: write bytes to the current connection, and start
/// joining a Wi-Fi network (the verdict comes back through wifi_joined() / wifi_failed()).
struct radio {
  std::function<void(std::span<const std::byte>)> write;
  std::function<void(const lanyard::core::wifi_credentials_view&)> join_wifi;
};

class lamp_firmware {
public:
  lamp_firmware(radio r, lanyard::core::session_settings settings, bool setup_mode = false)
      : radio_(std::move(r)), session_(lanyard::core::session_role::server, settings),
        provisioning_(setup_mode) {}

  // --- what the firmware's event loop calls ---------------------------------------------------
  void connected(session::time_point now) {
    session_.on_connected(now);
    pump(now);
  }
  void received(std::span<const std::byte> bytes, session::time_point now) {
    session_.receive(bytes, now);
    pump(now);
  }
  void disconnected(session::time_point now) {
    session_.on_disconnected(now);
    pump(now);
  }
  void tick(session::time_point now) {
    session_.handle_deadline(now);
    pump(now);
  }
  session::time_point next_wakeup() const { return session_.next_deadline(); }
  // The Wi-Fi driver's verdict on the network the app sent.
  void wifi_joined(std::span<const std::string_view> addresses, session::time_point now) {
    std::string_view report;
    if (!provisioning_.joined(addresses, report)) report_provisioning(report, now);
    pump(now);
  }
  void wifi_failed(lanyard::core::provisioning_failure why, session::time_point now) {
    std::string_view report;
    if (!provisioning_.failed(why, report)) report_provisioning(report, now);
    pump(now);
  }
  bool provisioned() const {
    return provisioning_.current() == lanyard::core::provisioning_responder::phase::done;
  }

  // --- state, for the firmware's LED driver (and the tests) -----------------------------------
  bool on() const { return on_; }
  int brightness() const { return brightness_; }
  /// Connections this firmware had to drop (keep-alive timeout, protocol errors).
  int failed_connections() const { return failed_; }
  const session& channel() const { return session_; }

private:
  void pump(session::time_point now) {
    while (auto ev = session_.poll_event()) {
      if (auto* m = std::get_if<lanyard::core::events::message_received>(&*ev)) {
        handle(
            std::string_view(reinterpret_cast<const char*>(m->payload.data()), m->payload.size()),
            now);
      } else if (auto* c = std::get_if<lanyard::core::events::control_received>(&*ev)) {
        // This lamp offers provisioning only; administration is not its business.
        if (c->kind == lanyard::core::message_kind::provisioning)
          provision(c->payload, c->seq, now);
      } else if (std::get_if<lanyard::core::events::connection_failed>(&*ev)) {
        ++failed_;
      }
    }
    // Everything the session has to say goes out now (it comes in batches of at most
    // session_settings::output_batch_bytes).
    for (auto out = session_.poll_output(now); !out.empty(); out = session_.poll_output(now))
      if (radio_.write) radio_.write(out);
  }

  // A provisioning message: answered (as one) here; anything but a wifi_set is ignored.
  void provision(std::span<const std::byte> payload, std::uint64_t seq, session::time_point now) {
    const auto parsed = lanyard::core::parse_app_message(payload);
    if (!parsed) return;
    lanyard::core::provisioning_responder::outcome o;
    // The lamp's one controller is the one that paired first: the admin, who may provision.
    if (provisioning_.on_message(parsed.message, seq,
                                 lanyard::core::provisioning_responder::sender::admin, o))
      return; // another verb
    report_provisioning(o.reply, now);
    if (o.join && radio_.join_wifi) radio_.join_wifi(*o.join);
  }

  void report_provisioning(std::string_view text, session::time_point now) {
    session_.send(std::as_bytes(std::span(text.data(), text.size())), now,
                  lanyard::core::message_kind::provisioning);
  }

  void handle(std::string_view cmd, session::time_point now) {
    if (cmd == "on") {
      on_ = true;
    } else if (cmd == "off") {
      on_ = false;
    } else if (cmd.substr(0, 11) == "brightness ") {
      int v = -1;
      auto digits = cmd.substr(11);
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
      if (ec != std::errc() || end != digits.data() + digits.size() || v < 0 || v > 100)
        return reply("error: brightness must be 0..100", now);
      brightness_ = v;
    } else {
      return reply("error: unknown command '" + std::string(cmd) + "'", now);
    }
    reply(std::string("state ") + (on_ ? "on " : "off ") + std::to_string(brightness_), now);
  }

  void reply(const std::string& text, session::time_point now) {
    session_.send(std::as_bytes(std::span(text.data(), text.size())), now);
  }

  radio radio_;
  session session_;
  lanyard::core::provisioning_responder provisioning_;
  bool on_ = false;
  int brightness_ = 100;
  int failed_ = 0;
};

} // namespace lamp
