// lanyard provision PAYLOAD --ssid SSID --passphrase-file F [--join CMD] [--address HOST:PORT]
// [--softap-interface IF] [--timeout S] [--json] [--trust-store PATH] [--identity-dir DIR]:
// joins the accessory's SoftAP (through a link_joiner), verifies the accessory against its setup
// payload and pins it, sends the Wi-Fi credentials over the channel, follows the accessory's
// progress (connecting -> connected with its new addresses, or failed with a reason), and finds
// the accessory on the home network by its id.
#include "cli_error.hpp"
#include "command.hpp"
#include "controller_setup.hpp"
#include "json.hpp"
#include "report.hpp"

#include <lanyard/client/client_channel.hpp>
#include <lanyard/core/app_message.hpp>
#include <lanyard/core/channel_error.hpp>
#include <lanyard/core/display_text.hpp>
#include <lanyard/core/provisioning.hpp>
#include <lanyard/core/setup_payload.hpp>
#include <lanyard/discovery/browser.hpp>
#include <lanyard/discovery/client.hpp>
#include <lanyard/discovery/directory.hpp>
#include <lanyard/link/link_joiner.hpp>
#include <lanyard/tls/error.hpp>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

namespace lanyard::cli {
namespace {

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

int run(const parsed_args& args) {
  const bool json = args.has("json");
  json_output = json;
  std::string error;
  core::payload_parse_result p = core::parse_setup_payload(args.positional[0]);
  if (!p) return fail(p.to_error_detail(), 2);
  const core::setup_payload payload = p.payload;
  // Provisioning pairs first (it needs an admin): the payload must carry the setup secret.
  if (std::error_code ec = core::check_pairable(payload)) return fail({ec, ec.message()}, 2);

  core::wifi_credentials creds;
  creds.ssid = args.value("ssid").value_or("");
  const auto pass_file = args.value("passphrase-file");
  if (creds.ssid.empty() || !pass_file)
    return fail_argument("give the home network with --ssid SSID --passphrase-file FILE");
  {
    std::ifstream in(*pass_file, std::ios::binary);
    if (!in)
      return fail(
          {cli_errc::unreadable_input, "cannot read the passphrase file '" + *pass_file + "'"}, 2);
    creds.passphrase.assign(std::istreambuf_iterator<char>(in), {});
    while (!creds.passphrase.empty() &&
           (creds.passphrase.back() == '\n' || creds.passphrase.back() == '\r'))
      creds.passphrase.pop_back();
  }
  if (std::error_code ec = core::validate(creds)) return fail({ec, ec.message()}, 2);

  std::string host = "198.18.4.1", port = "5577";
  if (auto a = args.value("address"))
    if (!split_host_port(*a, host, port, error)) return fail_argument(error);
  std::error_code aec;
  const auto softap_address = asio::ip::make_address(host, aec);
  if (aec) return fail_argument("--address: '" + host + "' is not an IP address");
  std::chrono::seconds timeout{60};
  if (auto t = args.value("timeout")) {
    auto v = parse_integer(*t, 1, 3600, "--timeout", error);
    if (!v) return fail_argument(error);
    timeout = std::chrono::seconds(*v);
  }
  if (!payload.needs_provisioning && !json)
    std::printf("note: the payload says this accessory has network credentials already\n");

  core::error_detail setup_error;
  std::optional<tls::identity> me = load_controller_identity(args, setup_error);
  if (!me) return fail(setup_error, 1);
  std::shared_ptr<trust::trust_store> store = open_trust_store(args, setup_error);
  if (!store) return fail(setup_error, 1);

  // 1. Join the accessory's setup network.
  if (auto j = args.value("join")) {
    const std::string ssid = payload.softap_ssid.value_or("");
    progress_line(json, "joining", ssid.empty() ? *j : ssid);
    link::command_link_joiner joiner(*j);
    if (link::link_error e = joiner.join(ssid); e) return fail(e, 1);
  }

  // 2. The channel over the SoftAP, verified against the payload (and pinned).
  asio::io_context io;
  client::client_options opts;
  opts.trust.device_id = payload.device_id;
  opts.trust.store = store;
  opts.trust.mode = trust::trust_mode::verified_first_use;
  opts.trust.expected_fingerprint = payload.device_fingerprint;
  // Pairing proves the payload (its secret) to the accessory on the first connection; the
  // first app paired is its admin, the only one allowed to provision it.
  opts.trust.pairing =
      core::pairing_credentials{core::pairing_method::setup_secret, *payload.setup_secret, {}};
  opts.trust.controller_name = args.value("name").value_or(controller_device_id());
  opts.paths.static_paths = {{softap_address, static_cast<std::uint16_t>(std::stoi(port)),
                              args.value("softap-interface").value_or("")}};
  // The channel's last report, shown when it never came up; with --json every report is an
  // event on stdout too.
  std::string last_report;
  opts.diagnostics = [&](const core::diagnostic& d) {
    last_report = std::string(d.text);
    if (json) std::printf("%s\n", diagnostic_event(d).c_str());
  };
  client::client_channel ch(io.get_executor(), tls::context(*me), opts);

  int exit_code = 1;
  core::error_detail outcome{std::make_error_code(std::errc::timed_out),
                             "no verified answer from the accessory within " +
                                 std::to_string(timeout.count()) +
                                 " s; is it in setup mode (it refuses unknown apps otherwise) and "
                                 "is its access point joined?"};
  std::vector<std::string> new_addresses;
  bool sent = false;
  std::optional<discovery::client> avahi;
  std::optional<discovery::browser> browser;
  discovery::directory dir;
  asio::steady_timer deadline(io);

  auto finish = [&](int code, core::error_detail why) {
    exit_code = code;
    outcome = std::move(why);
    ch.cancel();
    if (browser) browser->stop();
    deadline.cancel();
    io.stop();
  };
  // 4. Find it on the home network: a path with one of the addresses it reported.
  auto look_on_home_network = [&] {
    avahi.emplace(io.get_executor());
    if (std::error_code daemon = avahi->status()) {
      // Provisioned: without avahi-daemon (e.g. everything on loopback) there is nothing to
      // browse; waiting for it until the timeout would only turn a success into a failure.
      std::fprintf(stderr,
                   "lanyard provision: provisioned; not looking for it on the home network: %s\n",
                   daemon.message().c_str());
      return finish(0, {});
    }
    browser.emplace(*avahi);
    browser->on_event([&](const discovery::browse_event& e) {
      dir.apply(e);
      const auto* acc = dir.find(payload.device_id);
      if (!acc) return;
      for (const auto& path : acc->paths) {
        // One of the addresses it reported for the home network (not the SoftAP, not a
        // direct p2p link it may also be reachable on).
        if (path.address == softap_address ||
            std::find(new_addresses.begin(), new_addresses.end(), path.address.to_string()) ==
                new_addresses.end())
          continue;
        const std::string where = path.address.to_string() + " port " + std::to_string(path.port) +
                                  " via " + path.interface.name;
        progress_line(json, "found", where, {}, path.interface.name);
        return finish(0, {});
      }
    });
    browser->on_error([](std::error_code) {});
    if (auto ec = browser->start("_lanyard._tcp", ""))
      finish(1, {ec, "provisioned, but cannot browse for it: " + ec.message()});
  };

  ch.set_state_handler([&](client::channel_state s, std::error_code why) {
    if (s == client::channel_state::ready && !sent) {
      sent = true;
      progress_line(json, "verified", payload.device_id + " presented the key in its payload");
      std::string text;
      core::encode_wifi_credentials(creds, text);
      // A provisioning message (CONTROL), never application data.
      ch.async_send_control(core::message_kind::provisioning,
                            std::as_bytes(std::span(text.data(), text.size())), {},
                            [](std::error_code, std::uint64_t) {});
    } else if (s == client::channel_state::failed) {
      // The channel's own account of the failure (a refused key names both fingerprints) with
      // its fields, under a sentence in the user's terms.
      core::error_detail failure = ch.last_error_detail();
      failure.code = why;
      std::string reason = why.message();
      if (why == tls::tls_errc::peer_rejected_certificate)
        reason = "the accessory refused this app: its pairing window is closed (it was paired "
                 "with others, or locked after 20 wrong codes); press its pairing button and "
                 "retry";
      if (!failure.detail.empty() && failure.detail != reason) reason += "\n  " + failure.detail;
      failure.detail = reason;
      finish(1, std::move(failure));
    }
  });
  // The accessory's provisioning service answers as CONTROL messages; its application's
  // messages (readings, state) are not looked at.
  ch.set_control_handler(
      [&](core::message_kind service, std::uint64_t, std::span<const std::byte> m) {
        if (service != core::message_kind::provisioning) return;
        auto parsed = core::parse_app_message(m);
        if (!parsed) return;
        if (parsed.message.verb == "error") {
          // A refusal of the credentials (app_message.hpp): say why, in the user's terms.
          const std::string reason(parsed.message.get("reason").value_or(""));
          // The accessory's token stays a field: a script sees what it said, whatever it was.
          if (reason == "not_admin")
            return finish(1, core::error_detail{core::provisioning_errc::not_admin,
                                                "the accessory refused: only its admin (the first "
                                                "app paired with it) may provision it"}
                                 .with("refusal", reason));
          if (!reason.empty())
            return finish(1, core::error_detail{core::provisioning_errc::credentials_refused,
                                                "the accessory refused the credentials: " +
                                                    core::display_text(reason)}
                                 .with("refusal", reason));
          return;
        }
        core::provisioning_progress pr;
        if (core::decode_provisioning_progress(parsed.message, pr)) return; // not provisioning
        switch (pr.state) {
        case core::provisioning_state::connecting:
          progress_line(json, "connecting", creds.ssid);
          break;
        case core::provisioning_state::connected:
          new_addresses = pr.addresses;
          progress_line(json, "connected", creds.ssid, pr.addresses);
          ch.cancel(); // the accessory leaves its SoftAP; the session is done here
          look_on_home_network();
          break;
        case core::provisioning_state::failed:
          progress_line(json, "failed", std::string(core::to_string(pr.reason)));
          finish(1, core::error_detail{core::to_error_code(pr.reason),
                                       advice(pr.reason, creds.ssid) +
                                           "; the accessory stays in setup mode"}
                        .with("provisioning_failure", std::string(core::to_string(pr.reason))));
          break;
        }
      });
  ch.start(payload.device_id, std::make_shared<discovery::directory>());
  deadline.expires_after(timeout);
  deadline.async_wait([&](std::error_code ec) {
    if (ec) return;
    if (!new_addresses.empty())
      return finish(1, {core::channel_errc::not_discovered,
                        "provisioned (the accessory reported its addresses), but it was not seen "
                        "on the home network within the timeout"});
    if (!sent && !last_report.empty()) // why the channel never came up
      outcome.detail += "\n  last: " + last_report;
    finish(1, outcome);
  });
  io.run();
  if (exit_code != 0) return fail(outcome, exit_code);
  return 0;
}

const command cmd{
    "provision",
    "give an accessory in setup mode the home network's credentials over its SoftAP",
    "usage: lanyard provision PAYLOAD --ssid SSID --passphrase-file FILE [options]\n"
    "\n"
    "Joins the accessory's setup network (--join), connects to its fixed SoftAP address,\n"
    "verifies it against the setup PAYLOAD (LNY1:...), pairs by proving the payload's secret\n"
    "(the first app paired is the accessory's admin) and pins it, sends the credentials over\n"
    "the secure channel and follows its progress: connecting, then connected with its new\n"
    "addresses or failed (auth_error, network_not_found, timeout). Finally finds it on the home\n"
    "network by its id (without avahi-daemon, e.g. on loopback, it stops after connected,\n"
    "with a note). A failure leaves the accessory in setup mode: fix and run again.\n"
    "\n"
    "options:\n"
    "  --ssid SSID              the home network\n"
    "  --passphrase-file FILE   its passphrase (one line; never on the command line)\n"
    "  --join CMD               command that joins the SoftAP (the payload's SSID is in\n"
    "                           $LANYARD_SSID), e.g. 'ip link set sap0 up' in the lab\n"
    "  --address HOST:PORT      the SoftAP address (default 198.18.4.1:5577)\n"
    "  --softap-interface IF    pin the connection to this interface (e.g. sap0)\n"
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
