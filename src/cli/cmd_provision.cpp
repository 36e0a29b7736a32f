// lanyard provision PAYLOAD --ssid SSID --passphrase-file F [--join CMD] [--address HOST:PORT]
// [--softap-interface IF] [--timeout S] [--json] [--trust-store PATH] [--identity-dir DIR]:
// joins the accessory's SoftAP (through a link_joiner), then, on the product API
// (app::controller, app::device): pairs with it by its setup payload (verified against the
// payload's key and pinned), provisions the Wi-Fi credentials and follows the accessory's
// progress (connecting -> connected with its new addresses, or failed with a reason), and finds
// the accessory on the home network through the controller's discovery.
#include "cli_error.hpp"
#include "command.hpp"
#include "controller_setup.hpp"
#include "json.hpp"
#include "report.hpp"

#include <lanyard/app/controller.hpp>
#include <lanyard/core/channel_error.hpp>
#include <lanyard/core/provisioning.hpp>
#include <lanyard/core/setup_payload.hpp>
#include <lanyard/link/link_joiner.hpp>
#include <lanyard/tls_engine/error.hpp>

#include <asio/co_spawn.hpp>
#include <asio/error.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace lanyard::cli {
namespace {

// `co_await op(awaitable)` gives (error_code, results...) instead of throwing.
constexpr auto awaitable = asio::experimental::as_tuple(asio::use_awaitable);

// A sentence on stderr; with --json also an error event on stdout (src/cli/report.hpp).
bool json_output = false;

int fail(const core::error_detail& e, int exit_status) {
  return report_failure("provision", json_output, e, exit_status);
}

int fail_argument(const std::string& reason) {
  return fail({cli_errc::bad_argument, reason}, 2);
}

// What a person does about each failure reason.
std::string advice(core::provisioning_failure f, const std::string& ssid) {
  switch (f) {
  case core::provisioning_failure::auth_error:
    return "the accessory could not join '" + ssid +
           "': the passphrase was refused (auth_error); check it and run this again";
  case core::provisioning_failure::network_not_found:
    return "the accessory does not see a network called '" + ssid +
           "' (network_not_found); check the name and that the accessory is in range";
  case core::provisioning_failure::timeout:
    return "the accessory could not join '" + ssid +
           "' in time (timeout); check that the network is up and in range";
  }
  return "joining '" + ssid + "' failed";
}

// `interface`: where the accessory was found (the "found" step), a field scripts read.
void progress_line(bool json, const std::string& state, const std::string& detail,
                   const std::vector<std::string>& addresses = {},
                   const std::string& interface = "") {
  if (!json) {
    std::printf("%s%s\n", state.c_str(), detail.empty() ? "" : (": " + detail).c_str());
  } else {
    json_writer w;
    w.begin_object().key("event").value("progress").key("state").value(state);
    if (!detail.empty()) w.key("detail").value(detail);
    if (!interface.empty()) w.key("interface").value(interface);
    if (!addresses.empty()) {
      w.key("addresses").begin_array();
      for (const auto& a : addresses)
        w.value(a);
      w.end_array();
    }
    w.end_object();
    std::printf("%s\n", w.str().c_str());
  }
  std::fflush(stdout);
}

// The device's account of a failed channel (a refused key names both fingerprints) with its
// fields, under a sentence in the user's terms.
core::error_detail channel_failure(std::error_code why, core::error_detail failure) {
  failure.code = why;
  std::string reason = why.message();
  if (why == tls::tls_errc::peer_rejected_certificate)
    reason = "the accessory refused this app: its pairing window is closed (it was paired "
             "with others, or locked after 20 wrong codes); press its pairing button and retry";
  if (!failure.detail.empty() && failure.detail != reason) reason += "\n  " + failure.detail;
  failure.detail = reason;
  return failure;
}

// What the command knows once its arguments are checked.
struct plan {
  bool json = false;
  core::setup_payload payload;
  core::wifi_credentials creds;
  asio::ip::address softap_address;
  std::chrono::seconds timeout{60};
  std::string last_report; // the channel's last diagnostic, shown when it never came up
  bool timed_out = false;  // the deadline cancelled the controller
};

core::error_detail no_answer(const plan& p, bool verified) {
  core::error_detail e{std::make_error_code(std::errc::timed_out),
                       "no verified answer from the accessory within " +
                           std::to_string(p.timeout.count()) +
                           " s; is it in setup mode (it refuses unknown apps otherwise) and is "
                           "its access point joined?"};
  if (!verified && !p.last_report.empty()) e.detail += "\n  last: " + p.last_report;
  return e;
}

// Steps 2 to 4; an empty error_detail once provisioned and found (or provisioned with nothing
// to browse with).
asio::awaitable<core::error_detail> story(plan& p, app::controller& ctl) {
  // 2. Pairing: connects over the SoftAP (the static path), accepts exactly the payload's key,
  // proves the payload's secret (the first app paired is the admin, the only one allowed to
  // provision) and pins the key.
  const auto dev = ctl.get(p.payload.device_id);
  if (auto [ec, paired] = co_await ctl.async_pair(p.payload, awaitable); ec)
    co_return p.timed_out ? no_answer(p, false) : channel_failure(ec, dev->last_error());
  progress_line(p.json, "verified", p.payload.device_id + " presented the key in its payload");

  // 3. Provisioning: progress comes as events, the outcome as the completion, which ends the
  // session (the accessory leaves its SoftAP, or stays in setup mode). The events queued
  // until then are still taken below; the event loop ends once they are.
  std::optional<std::error_code> result;
  core::error_detail why; // the device's account, taken before the session ends
  dev->async_provision(p.creds, [&](std::error_code ec, const app::provisioning_outcome&) {
    result = ec;
    why = dev->last_error();
    dev->cancel();
  });
  std::vector<std::string> addresses;
  std::optional<core::provisioning_failure> failure;
  for (;;) {
    auto [ec, event] = co_await dev->async_next_event(awaitable);
    if (ec) break;
    const auto* e = std::get_if<app::provisioning_event>(&event);
    if (!e) continue;
    const core::provisioning_progress& pr = e->progress;
    switch (pr.state) {
    case core::provisioning_state::connecting:
      progress_line(p.json, "connecting", p.creds.ssid);
      break;
    case core::provisioning_state::connected:
      addresses = pr.addresses;
      progress_line(p.json, "connected", p.creds.ssid, pr.addresses);
      break;
    case core::provisioning_state::failed:
      failure = pr.reason;
      progress_line(p.json, "failed", std::string(core::to_string(pr.reason)));
      break;
    }
  }
  if (!result || p.timed_out) co_return no_answer(p, true);
  if (failure && *result == core::to_error_code(*failure))
    co_return core::error_detail{*result, advice(*failure, p.creds.ssid) +
                                              "; the accessory stays in setup mode"}
        .with("provisioning_failure", std::string(core::to_string(*failure)));
  // A refusal (not_admin, credentials_refused) is the device's sentence with the accessory's
  // word as the field `refusal`.
  if (*result == core::provisioning_errc::not_admin ||
      *result == core::provisioning_errc::credentials_refused)
    co_return why;
  if (*result) co_return channel_failure(*result, why);

  // 4. Found on the home network by the controller's discovery: a path with one of the
  // addresses it reported (not the SoftAP, not a direct p2p link it may also be reachable on).
  if (std::error_code daemon = ctl.discovery_status()) {
    // Provisioned: without avahi-daemon (e.g. everything on loopback) there is nothing to
    // browse; waiting for it until the timeout would only turn a success into a failure.
    std::fprintf(stderr,
                 "lanyard provision: provisioned; not looking for it on the home network: %s\n",
                 daemon.message().c_str());
    co_return core::error_detail{};
  }
  for (;;) {
    for (const app::accessory_info& a : ctl.accessories()) {
      for (const auto& path : a.paths) {
        if (a.id != p.payload.device_id || path.address == p.softap_address ||
            std::find(addresses.begin(), addresses.end(), path.address.to_string()) ==
                addresses.end())
          continue;
        progress_line(p.json, "found",
                      path.address.to_string() + " port " + std::to_string(path.port) + " via " +
                          path.interface.name,
                      {}, path.interface.name);
        co_return core::error_detail{};
      }
    }
    // Woken by every change, avahi-daemon going and coming back too (the controller browses
    // again by itself).
    auto [ec, change] = co_await ctl.async_next_discovery_event(awaitable);
    if (ec == asio::error::operation_aborted) break;
  }
  co_return core::error_detail{core::channel_errc::not_discovered,
                               "provisioned (the accessory reported its addresses), but it was "
                               "not seen on the home network within the timeout"};
}

int run(const parsed_args& args) {
  plan p;
  p.json = json_output = args.has("json");
  std::string error;
  core::payload_parse_result parsed = core::parse_setup_payload(args.positional[0]);
  if (!parsed) return fail(parsed.to_error_detail(), 2);
  p.payload = parsed.payload;
  // Provisioning pairs first (it needs an admin): the payload must carry the setup secret.
  if (std::error_code ec = core::check_pairable(p.payload)) return fail({ec, ec.message()}, 2);

  p.creds.ssid = args.value("ssid").value_or("");
  const auto pass_file = args.value("passphrase-file");
  if (p.creds.ssid.empty() || !pass_file)
    return fail_argument("give the home network with --ssid SSID --passphrase-file FILE");
  {
    std::ifstream in(*pass_file, std::ios::binary);
    if (!in)
      return fail(
          {cli_errc::unreadable_input, "cannot read the passphrase file '" + *pass_file + "'"}, 2);
    std::string& pass = p.creds.passphrase;
    pass.assign(std::istreambuf_iterator<char>(in), {});
    while (!pass.empty() && (pass.back() == '\n' || pass.back() == '\r'))
      pass.pop_back();
  }
  if (std::error_code ec = core::validate(p.creds)) return fail({ec, ec.message()}, 2);

  std::string host = "198.18.4.1", port = "5577";
  if (auto a = args.value("address"))
    if (!split_host_port(*a, host, port, error)) return fail_argument(error);
  std::error_code aec;
  p.softap_address = asio::ip::make_address(host, aec);
  if (aec) return fail_argument("--address: '" + host + "' is not an IP address");
  if (auto t = args.value("timeout")) {
    auto v = parse_integer(*t, 1, 3600, "--timeout", error);
    if (!v) return fail_argument(error);
    p.timeout = std::chrono::seconds(*v);
  }
  if (!p.payload.needs_provisioning && !p.json)
    std::printf("note: the payload says this accessory has network credentials already\n");

  // The controller: this CLI's identity and trust store, the accessory's SoftAP as a static
  // path next to what discovery finds; with --json every diagnostic is an event on stdout.
  core::error_detail setup_error;
  std::optional<app::controller_options> co = controller_options_from(args, setup_error);
  if (!co) return fail(setup_error, 1);
  co->paths.static_paths = {{p.softap_address, static_cast<std::uint16_t>(std::stoi(port)),
                             args.value("softap-interface").value_or("")}};
  co->diagnostics = [&p](const core::diagnostic& d) {
    p.last_report = std::string(d.text);
    if (p.json) std::printf("%s\n", diagnostic_event(d).c_str());
  };
  asio::io_context io;
  std::unique_ptr<app::controller> ctl;
  if (core::error_detail e = app::controller::open(io.get_executor(), std::move(*co), ctl))
    return fail(e, 1);

  // 1. Join the accessory's setup network.
  if (auto j = args.value("join")) {
    const std::string ssid = p.payload.softap_ssid.value_or("");
    progress_line(p.json, "joining", ssid.empty() ? *j : ssid);
    link::command_link_joiner joiner(*j);
    if (link::link_error e = joiner.join(ssid); e) return fail(e, 1);
  }

  asio::steady_timer deadline(io, p.timeout);
  deadline.async_wait([&](std::error_code ec) {
    if (ec) return;
    p.timed_out = true;
    ctl->cancel(); // every step waiting completes with operation_aborted
  });
  core::error_detail outcome;
  asio::co_spawn(io, story(p, *ctl), [&](std::exception_ptr e, core::error_detail r) {
    if (e) std::rethrow_exception(e); // out of io.run(), as anywhere else in the CLI
    outcome = std::move(r);
    ctl->cancel();
    io.stop(); // discovery alone would keep io running
  });
  io.run();
  return outcome ? fail(outcome, 1) : 0;
}

const command cmd{
    "provision",
    "give an accessory in setup mode the home network's credentials over its SoftAP",
    "usage: lanyard provision PAYLOAD --ssid SSID --passphrase-file FILE [options]\n"
    "\n"
    "Joins the accessory's setup network (--join), connects to its fixed SoftAP address (and\n"
    "wherever discovery finds its id), verifies it against the setup PAYLOAD (LNY1:...), pairs\n"
    "by proving the payload's secret (the first app paired is the accessory's admin) and pins\n"
    "it, sends the credentials over the secure channel and follows its progress: connecting,\n"
    "then connected with its new addresses or failed (auth_error, network_not_found, timeout).\n"
    "Finally finds it on the home network by its id (without avahi-daemon, e.g. on loopback, it\n"
    "stops after connected, with a note). A failure leaves the accessory in setup mode: fix and\n"
    "run again.\n"
    "\n"
    "options:\n"
    "  --ssid SSID              the home network\n"
    "  --passphrase-file FILE   its passphrase (one line; never on the command line)\n"
    "  --join CMD               command that joins the SoftAP (the payload's SSID is in\n"
    "                           $LANYARD_SSID), e.g. 'ip link set sap0 up' in the lab\n"
    "  --address HOST:PORT      the SoftAP address (default 198.18.4.1:5577)\n"
    "  --softap-interface IF    pin the connection to the SoftAP address to this interface\n"
    "                           (e.g. sap0)\n"
    "  --timeout SECONDS        overall limit (default 60)\n"
    "  --name NAME              this app's name in the accessory's list\n"
    "  --json                   one JSON object per step: {\"event\":\"progress\",\"state\":...}\n"
    "  --trust-store PATH       the trust store (default: $XDG_STATE_HOME/lanyard/trust-store)\n"
    "  --identity-dir DIR       this controller's key and certificate\n"
    "\n"
    "exit status: 0 provisioned and found, 1 failed (with the reason), 2 bad arguments\n",
    {{{"ssid", true, false},
      {"passphrase-file", true, false},
      {"join", true, false},
      {"address", true, false},
      {"softap-interface", true, false},
      {"timeout", true, false},
      {"name", true, false},
      {"json", false, false},
      {"trust-store", true, false},
      {"identity-dir", true, false}},
     1,
     1},
    run};

const command_registrar reg{cmd};

} // namespace
} // namespace lanyard::cli
