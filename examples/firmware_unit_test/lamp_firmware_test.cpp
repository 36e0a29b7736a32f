// A firmware team's unit test of its lamp (lamp_firmware.hpp): no network, no threads, no
// sleeps. The "app" is a second core::session (client role), the "radio" a pair of byte
// buffers, and the clock a variable the test moves. Built with -fno-exceptions -fno-rtti, like
// the firmware.
#define CATCH_CONFIG_MAIN
#define CATCH_CONFIG_DISABLE_EXCEPTIONS
#include "lamp_firmware.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using lanyard::core::session;

namespace {

// The fake transport and clock, and the app's side of the channel.
struct bench {
  session::time_point now{};
  std::vector<std::byte> to_app, to_lamp; // bytes in flight
  lanyard::core::session app{lanyard::core::session_role::client, {}};
  std::vector<lanyard::core::wifi_credentials> joins; // what the Wi-Fi driver was asked
  lamp::lamp_firmware fw{
      lamp::radio{
          [this](std::span<const std::byte> b) { to_app.insert(to_app.end(), b.begin(), b.end()); },
          [this](const lanyard::core::wifi_credentials_view& c) {
            joins.push_back({std::string(c.ssid), std::string(c.passphrase)});
          }},
      settings(), /*setup_mode=*/true};
  std::vector<std::string> app_received;
  std::vector<std::string> app_provisioning; // the provisioning reports (CONTROL)
  bool link_up = false;

  static lanyard::core::session_settings settings() {
    lanyard::core::session_settings s;
    // Real firmware draws ids from its hardware RNG; a counter is enough for a test.
    s.new_session_id = [n = std::uint8_t{0}]() mutable {
      lanyard::core::session_id id;
      id.bytes[0] = std::byte{++n};
      return id;
    };
    return s;
  }

  void connect() {
    link_up = true;
    app.on_connected(now);
    fw.connected(now);
    settle();
  }
  // The radio link dies: whatever was in flight is lost.
  void cut() {
    link_up = false;
    to_app.clear();
    to_lamp.clear();
    app.on_disconnected(now);
    fw.disconnected(now);
    settle();
  }
  void app_send(const std::string& text,
                lanyard::core::message_kind kind = lanyard::core::message_kind::application) {
    app.send(std::as_bytes(std::span(text.data(), text.size())), now, kind);
    settle();
  }
  // Moves bytes both ways until nothing is left to say.
  void settle() {
    for (int round = 0; round < 100; ++round) {
      for (auto out = app.poll_output(now); !out.empty(); out = app.poll_output(now))
        if (link_up) to_lamp.insert(to_lamp.end(), out.begin(), out.end());
      while (auto ev = app.poll_event())
        if (auto* m = std::get_if<lanyard::core::events::message_received>(&*ev))
          app_received.emplace_back(reinterpret_cast<const char*>(m->payload.data()),
                                    m->payload.size());
        else if (auto* c = std::get_if<lanyard::core::events::control_received>(&*ev))
          app_provisioning.emplace_back(reinterpret_cast<const char*>(c->payload.data()),
                                        c->payload.size());
      if (to_lamp.empty() && to_app.empty()) return;
      auto a = std::move(to_lamp);
      to_lamp.clear();
      if (!a.empty()) fw.received(a, now);
      auto b = std::move(to_app);
      to_app.clear();
      if (!b.empty() && link_up) app.receive(b, now);
    }
  }
  // Time passes; both sides run their timers.
  void advance(session::duration d) {
    now += d;
    app.handle_deadline(now);
    fw.tick(now);
    settle();
  }
};

} // namespace

TEST_CASE("the lamp follows the app's commands and reports its state") {
  bench b;
  b.connect();
  b.app_send("on");
  b.app_send("brightness 40");
  CHECK(b.fw.on());
  CHECK(b.fw.brightness() == 40);
  REQUIRE(b.app_received.size() == 2);
  CHECK(b.app_received[0] == "state on 100");
  CHECK(b.app_received[1] == "state on 40");
}

TEST_CASE("bad commands are answered and change nothing") {
  bench b;
  b.connect();
  b.app_send("brightness 140");
  b.app_send("brightness 4x");
  b.app_send("dance");
  CHECK_FALSE(b.fw.on());
  CHECK(b.fw.brightness() == 100);
  REQUIRE(b.app_received.size() == 3);
  CHECK(b.app_received[0] == "error: brightness must be 0..100");
  CHECK(b.app_received[2] == "error: unknown command 'dance'");
}

TEST_CASE("a command sent while the radio is down is applied once after reconnecting") {
  bench b;
  b.connect();
  b.app_send("on");
  b.cut();
  b.app_send("off"); // queued in the app's session, nothing on the air
  CHECK(b.fw.on());
  b.connect(); // the session resumes: the queued command is delivered, exactly once
  CHECK_FALSE(b.fw.on());
  REQUIRE(b.app_received.size() == 2);
  CHECK(b.app_received[1] == "state off 100");
  b.cut();
  b.connect(); // nothing is replayed twice
  CHECK(b.app_received.size() == 2);
}

TEST_CASE("a silent app is declared dead by the keep-alive timeout") {
  bench b;
  b.connect();
  b.link_up = false; // the app's radio sleeps: bytes stop flowing, nobody is told
  const auto timeout = b.fw.channel().settings().peer_timeout;
  b.advance(timeout - 1s);
  CHECK(b.fw.failed_connections() == 0);
  b.advance(2s);
  CHECK(b.fw.failed_connections() == 1);
}

TEST_CASE("setup mode: the app's Wi-Fi credentials reach the driver, its verdict reaches the app") {
  bench b;
  b.connect();
  std::string wifi_set;
  REQUIRE(!lanyard::core::encode_wifi_credentials({"HomeLAN", "wrong-horse"}, wifi_set));
  // As application data it is just an unknown command: nothing is joined.
  b.app_send(wifi_set);
  CHECK(b.joins.empty());
  REQUIRE(b.app_received.size() == 1);
  CHECK(b.app_received[0].starts_with("error: unknown command"));
  b.app_received.clear();
  // As a provisioning message (CONTROL), the app's second message: sequence number 1.
  b.app_send(wifi_set, lanyard::core::message_kind::provisioning);
  REQUIRE(b.joins.size() == 1);
  CHECK(b.joins[0].ssid == "HomeLAN");
  b.fw.wifi_failed(lanyard::core::provisioning_failure::auth_error, b.now);
  b.settle();
  REQUIRE(!lanyard::core::encode_wifi_credentials({"HomeLAN", "correct-horse"}, wifi_set));
  b.app_send(wifi_set, lanyard::core::message_kind::provisioning); // again: setup mode goes on
  REQUIRE(b.joins.size() == 2);
  const std::array<std::string_view, 1> addresses{"198.18.1.3"};
  b.fw.wifi_joined(addresses, b.now);
  b.settle();
  CHECK(b.fw.provisioned());
  // The reports come back as provisioning messages, none in the app's own stream.
  CHECK(b.app_received.empty());
  REQUIRE(b.app_provisioning.size() == 4);
  CHECK(b.app_provisioning[0] == "v1 wifi_status re=1 state=connecting");
  CHECK(b.app_provisioning[1] == "v1 wifi_status re=1 state=failed reason=auth_error");
  CHECK(b.app_provisioning[2] == "v1 wifi_status re=2 state=connecting");
  CHECK(b.app_provisioning[3] == "v1 wifi_status re=2 state=connected addresses=198.18.1.3");
  b.app_send("on"); // ordinary commands are unaffected
  CHECK(b.fw.on());
}
