// The companion app's whole journey with one accessory, on the product API (app::controller,
// app::device) with C++20 coroutines:
//
//   1. join the accessory's setup access point (SoftAP), as its setup payload (QR code) says;
//   2. pair: verified against the key in the payload, proving the payload's secret;
//   3. provision the home Wi-Fi and follow the accessory's progress;
//   4. keep the same device and session while the accessory moves to the home network;
//   5. take its sensor readings, checking that none is lost, repeated or reordered;
//   6. survive failover: when the phone's Wi-Fi goes, the session moves to another path.
//
//   example_companion LNY1:... --ssid HomeLAN --passphrase-file pass.txt
//     --join 'nmcli dev wifi connect "$LANYARD_SSID"' [--state-dir DIR] [--readings 20]
//
// Exit status: 0 after --readings N readings or SIGINT, none lost; 1 refused, provisioning
// failed or a reading lost; 2 bad arguments.
#include "options.hpp"

#include <lanyard/app/controller.hpp>
#include <lanyard/core/app_message.hpp>
#include <lanyard/core/setup_payload.hpp>
#include <lanyard/link/link_joiner.hpp>

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>
#include <asio/use_awaitable.hpp>

#include <cstdio>
#include <string>
#include <utility>

using namespace lanyard;

// `co_await op(awaitable)` gives (error_code, results...) instead of throwing.
constexpr auto awaitable = asio::experimental::as_tuple(asio::use_awaitable);

// What the developer watching the app sees, a line at a time (even into a pipe).
const auto say = [](const std::string& line) { std::puts(line.c_str()), std::fflush(stdout); };

// Events: state changes, moves between paths, provisioning progress. Failover (6) is the
// device's job; the app only hears of it.
asio::awaitable<void> watch(app::device& d, std::string ssid) {
  for (;;) {
    auto [ec, event] = co_await d.async_next_event(awaitable);
    if (ec) co_return; // cancelled
    if (auto* s = std::get_if<app::state_event>(&event))
      say("channel " + std::string(to_string(s->to)) + (s->why ? ": " + s->why.message() : ""));
    else if (auto* p = std::get_if<app::path_event>(&event)) // e.g. failover (6)
      say("path: " + p->change.to.interface_name + " " + p->change.to.address + ", " +
          std::string(to_string(p->change.reason)));
    else if (auto* v = std::get_if<app::provisioning_event>(&event);
             v && v->progress.state == core::provisioning_state::connecting)
      say("provisioning: the accessory is joining " + ssid);
  }
}

// Steps 2 to 5; returns the exit status.
asio::awaitable<int> story(const companion::options& o, const core::setup_payload& payload,
                           const core::wifi_credentials& home, app::controller& ctl,
                           app::device& d) {
  // 2. Pairing opens the device's session (paired on an earlier run: it just connects).
  auto [ec, paired] = co_await ctl.async_pair(payload, awaitable);
  if (ec) co_return say("pairing failed: " + d.last_error().message()), 1;
  say("paired: " + paired.device_id + " proved it holds the key in its setup payload");
  if (payload.needs_provisioning) { // 3 and 4: the device follows it to the home network
    auto [pec, where] = co_await d.async_provision(home, awaitable);
    if (pec) co_return say("provisioning failed: " + d.last_error().message()), 1;
    std::string addresses;
    for (const auto& a : where.addresses)
      addresses += (addresses.empty() ? " as " : ", ") + a;
    say("provisioning: the accessory joined " + home.ssid + addresses);
  }
  // 5. Pulled one by one: while the app is busy the accessory waits; nothing is dropped.
  std::uint64_t next_n = 0, readings = 0, gaps = 0;
  for (;;) {
    auto [rec, m] = co_await d.async_receive(awaitable);
    if (rec) co_return (d.state() == client::channel_state::cancelled && gaps == 0) ? 0 : 1;
    if (m.seq == 0 && std::exchange(next_n, 0) != 0) // the accessory lost our session
      say("SESSION RESET: a new session begins; the accessory's reading numbers start over");
    const auto parsed = core::parse_app_message(m.payload);
    if (!parsed || parsed.message.verb != "reading") continue;
    const std::uint64_t n = parsed.message.get_uint("n", 1, UINT64_MAX).value_or(0);
    const bool in_order = next_n == 0 || n == next_n;
    gaps += in_order ? 0 : 1;
    next_n = n + 1;
    say("reading " + std::to_string(n) + ": " +
        std::string(parsed.message.get("temperature_c").value_or("?")) + " °C" +
        (in_order ? "" : "  <-- GAP: a reading was lost, repeated or reordered"));
    if (++readings == o.readings) co_return gaps == 0 ? 0 : 1;
  }
}

int main(int argc, char** argv) {
  const auto o = companion::parse(argc, argv);
  if (!o) return 2;
  const core::payload_parse_result parsed = core::parse_setup_payload(o->payload);
  if (!parsed) return say(parsed.describe()), 2;
  const core::setup_payload& payload = parsed.payload;
  const core::wifi_credentials home{o->ssid, o->passphrase}; // checked before anything happens
  if (auto ec = payload.needs_provisioning ? core::validate(home) : std::error_code())
    return say("--ssid/--passphrase-file: " + ec.message()), 2;

  // 1. Joining Wi-Fi is the platform's job (NEHotspotConfiguration, nmcli); link_joiner is the
  // seam. This one runs a command and blocks until the link is up.
  if (!o->join.empty()) {
    const std::string ssid = payload.softap_ssid.value_or("");
    if (auto e = link::command_link_joiner(o->join).join(ssid)) return say(e.message()), 1;
    say("joined the accessory's access point " + ssid);
  }

  // The app: its identity and pins persist in the state directory; accessories in setup mode
  // also serve on their SoftAP's fixed address, a path next to what discovery finds.
  asio::io_context io;
  app::controller_options co;
  co.state_dir = o->state_dir;
  co.name = "companion";
  if (payload.needs_provisioning)
    co.paths.static_paths = {{asio::ip::make_address("198.18.4.1"), 5577, o->softap_interface}};
  std::unique_ptr<app::controller> ctl;
  if (auto e = app::controller::open(io.get_executor(), co, ctl)) return say(e.message()), 1;
  auto device = ctl->get(payload.device_id);

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](std::error_code, int) { ctl->cancel(); }); // SIGINT: exit 0
  int status = 1;
  asio::co_spawn(io, watch(*device, o->ssid), [](std::exception_ptr) {});
  asio::co_spawn(io, story(*o, payload, home, *ctl, *device), [&](std::exception_ptr e, int rc) {
    status = e ? 1 : rc;
    ctl->cancel();                      // ends the session politely (CLOSE)
    asio::post(io, [&] { io.stop(); }); // discovery alone would keep io running
  });
  io.run();
  return status;
}
