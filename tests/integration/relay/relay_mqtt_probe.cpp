// relay_mqtt_probe: relay::mqtt_client on the command line, for the relay lab tests. Connects
// to the broker and keeps connected; subscribes; publishes "m0".."m<N-1>" every interval
// while connected (a publish refused while not connected is reported "unsent" and retried
// at the next tick); prints one line per event:
//   <seconds> state <connecting|connected|waiting|stopped> [<code_string>]
//   <seconds> recv <topic> <payload, escaped>
//   <seconds> sent m<i>      <seconds> unsent m<i> <code_string>
// Exits 0 after --expect N messages arrived (and everything was sent), 1 on --timeout.
//
//   relay_mqtt_probe --host H [--port P] --ca FILE --user U --password P
//                    [--subscribe FILTER]... [--publish TOPIC --count N --interval-ms I]
//                    [--expect N] [--until PAYLOAD] [--timeout S] [--keepalive S]
// --until: exit 0 once a message with exactly this payload arrived (and everything was sent).
#include <lanyard/core/display_text.hpp>
#include <lanyard/core/error_condition.hpp>
#include <lanyard/relay/mqtt_client.hpp>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "relay_tool.hpp"

using namespace lanyard;

namespace {

using relay_tool::say;
[[noreturn]] void usage(const std::string& why) {
  relay_tool::usage("relay_mqtt_probe", why);
}

} // namespace

int main(int argc, char** argv) {
  relay::mqtt_settings s;
  std::vector<std::string> subscriptions;
  std::string publish_topic, until;
  long count = 0, interval_ms = 100, expect = -1, timeout_s = 30;
  for (int k = 1; k < argc; ++k) {
    const std::string a = argv[k];
    if (k + 1 >= argc) usage("missing value after " + a);
    const std::string v = argv[++k];
    if (a == "--host")
      s.host = v;
    else if (a == "--port")
      s.port = static_cast<std::uint16_t>(std::stoul(v));
    else if (a == "--ca")
      s.ca_file = v;
    else if (a == "--user")
      s.username = v;
    else if (a == "--password")
      s.password = v;
    else if (a == "--subscribe")
      subscriptions.push_back(v);
    else if (a == "--publish")
      publish_topic = v;
    else if (a == "--count")
      count = std::stol(v);
    else if (a == "--interval-ms")
      interval_ms = std::stol(v);
    else if (a == "--expect")
      expect = std::stol(v);
    else if (a == "--timeout")
      timeout_s = std::stol(v);
    else if (a == "--until")
      until = v;
    else if (a == "--keepalive")
      s.keepalive = std::chrono::seconds(std::stol(v));
    else
      usage("unknown option " + a);
  }

  asio::io_context io;
  relay::mqtt_client mqtt(io.get_executor(), s);
  long received = 0, next = 0;
  bool seen_until = false;
  auto finished = [&] {
    return next >= count && (expect < 0 || received >= expect) && (until.empty() || seen_until);
  };
  mqtt.on_state([&](relay::mqtt_state st, std::error_code why) {
    say("state " + std::string(relay::to_string(st)) + (why ? " " + core::code_string(why) : ""));
  });
  mqtt.on_message([&](std::string_view topic, std::span<const std::uint8_t> payload) {
    ++received;
    const std::string_view text(reinterpret_cast<const char*>(payload.data()), payload.size());
    if (!until.empty() && text == until) seen_until = true;
    say("recv " + core::display_text(topic, 200) + " " +
        core::display_text(
            std::string_view(reinterpret_cast<const char*>(payload.data()), payload.size()), 200));
    if (finished()) io.stop();
  });
  for (const std::string& f : subscriptions)
    if (std::error_code ec = mqtt.subscribe(f)) usage("subscribe " + f + ": " + ec.message());
  if (std::error_code ec = mqtt.start()) {
    say("start failed " + core::code_string(ec) + ": " + ec.message());
    return 1;
  }

  asio::steady_timer ticker(io), give_up(io);
  std::function<void()> tick = [&] {
    if (next < count) {
      const std::string m = "m" + std::to_string(next);
      const std::error_code ec =
          mqtt.publish(publish_topic, {reinterpret_cast<const std::uint8_t*>(m.data()), m.size()});
      if (ec) {
        say("unsent " + m + " " + core::code_string(ec));
      } else {
        say("sent " + m);
        ++next;
      }
    }
    if (finished()) return io.stop();
    ticker.expires_after(std::chrono::milliseconds(interval_ms));
    ticker.async_wait([&](std::error_code e) {
      if (!e) tick();
    });
  };
  tick();
  bool timed_out = false;
  give_up.expires_after(std::chrono::seconds(timeout_s));
  give_up.async_wait([&](std::error_code e) {
    if (e) return;
    timed_out = true;
    io.stop();
  });
  io.run();
  say("done received " + std::to_string(received) + " sent " + std::to_string(next) +
      (timed_out ? " (timed out)" : ""));
  return timed_out ? 1 : 0;
}
