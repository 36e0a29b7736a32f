// lanyard pair PAYLOAD [ID | --address HOST:PORT]
// lanyard pair --code CODE (ID | --address HOST:PORT)
// lanyard pair --tofu ID@HOST:PORT [--yes]
// Pairs with an accessory: a TLS handshake, then the pairing exchange that proves to the
// accessory that this app holds its setup secret (payload) or code (SPAKE2+) — and proves the
// accessory's key in return — and only then pins the key in the trust store.
//
// On app::controller, as an app would pair: async_pair(payload | id, code) and
// async_pair_by_confirmation() for --tofu, with pair_options::prove_again (this command always
// runs the exchange, so pairing again with a pinned accessory proves the secret again and
// reports the role it gives). The address is the controller's static path with discovery off;
// without one the controller's discovery finds the accessory by its id. One step stays below
// the app API: --code --address without an ID first asks the accessory at that address who it
// is (one TLS handshake that this side ends at the certificate, so no pairing frame is sent
// and the accessory counts nothing), because a device is named by its id before it connects.
#include "cli_error.hpp"
#include "command.hpp"
#include "controller_setup.hpp"
#include "json.hpp"
#include "report.hpp"

#include <lanyard/app/controller.hpp>
#include <lanyard/client/diagnostics.hpp>
#include <lanyard/core/channel_error.hpp>
#include <lanyard/core/device_id.hpp>
#include <lanyard/core/display_text.hpp>
#include <lanyard/core/fingerprint.hpp>
#include <lanyard/core/pairing_error.hpp>
#include <lanyard/core/setup_code.hpp>
#include <lanyard/core/setup_payload.hpp>
#include <lanyard/tls/stream.hpp>
#include <lanyard/tls_engine/context.hpp>
#include <lanyard/tls_engine/error.hpp>
#include <lanyard/tls_engine/identity.hpp>
#include <lanyard/trust/error.hpp>
#include <lanyard/trust/trust_store.hpp>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

namespace lanyard::cli {
namespace {

using asio::ip::tcp;

// Every failure: a sentence on stderr and, with --json, an error event on stdout whose code and
// fields (attempts left, fingerprints) a script reads instead of the sentence.
bool json_output = false;

int fail(const core::error_detail& e, int exit_status) {
  return report_failure("pair", json_output, e, exit_status);
}

// Bad arguments, payloads and codes: exit status 2, before any file or network use.
int fail_argument(const std::string& reason) {
  return fail({cli_errc::bad_argument, reason}, 2);
}

// "198.18.1.3:5577" or "[2001:2::3]:5577".
std::string host_port(const std::string& address, std::uint16_t port) {
  return address.find(':') != std::string::npos ? "[" + address + "]:" + std::to_string(port)
                                                : address + ":" + std::to_string(port);
}

std::string where_of(const tcp::endpoint& ep) {
  return host_port(ep.address().to_string(), ep.port());
}

// Asks the user to compare the verification code; `yes` answers for them (scripts). Called
// once the accessory shows its code: only then can the two be compared.
bool confirm_code(const client::pairing_confirmation& c, bool yes) {
  char digits[8];
  std::snprintf(digits, sizeof digits, "%06u", static_cast<unsigned>(c.code % 1000000));
  std::fprintf(stderr,
               "accessory \"%s\"\n  fingerprint:       %s\n  verification code: %.3s %.3s\n"
               "The accessory shows a code now: check that it is the same.\n",
               core::display_text(c.subject).c_str(), core::to_string(c.fingerprint).c_str(),
               digits, digits + 3);
  if (yes) return true;
  std::fprintf(stderr, "Same code? Trust this accessory? [y/N] ");
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  return answer == "y" || answer == "Y" || answer == "yes";
}

// --code --address without an ID: who is at that address. One TLS handshake, ended by this
// side at the accessory's certificate (before this app's certificate or any pairing frame is
// sent), so the accessory counts no attempt. What it claims is not trusted: the code proves it.
std::optional<std::string> peek_device_id(const tcp::endpoint& ep, const parsed_args& args,
                                          std::chrono::seconds timeout, core::error_detail& error) {
  std::optional<tls::identity> me = load_controller_identity(args, error);
  if (!me) return std::nullopt;
  std::string claimed;
  bool seen = false;
  tls::context_options options;
  options.handshake_timeout = timeout;
  options.session_tickets = false;
  options.verifier = [&](const core::fingerprint&, const tls::peer_cert_info& info) {
    claimed = info.subject_cn;
    seen = true;
    return std::error_code(trust::trust_errc::unknown_device); // ends the handshake here
  };
  tls::context ctx = tls::context::create(*me, options, error);
  if (error) return std::nullopt;
  asio::io_context io;
  tls::stream<tcp::socket> s(tcp::socket(io), ctx);
  s.set_handshake_timeout(timeout);
  std::error_code result;
  s.next_layer().async_connect(ep, [&](const std::error_code& ec) {
    if (ec) {
      result = ec;
      return;
    }
    s.async_handshake(tls::role::client, [&](const std::error_code& hec) { result = hec; });
  });
  io.run_for(timeout + std::chrono::seconds(1));
  std::error_code ignored;
  s.next_layer().close(ignored);
  if (!seen) {
    const std::error_code ec = result ? result : std::make_error_code(std::errc::timed_out);
    error = core::error_detail{ec, "cannot ask the accessory at " + where_of(ep) +
                                       " for its id: " + ec.message() +
                                       "; is it on and listening there? (or give its ID)"}
                .with(core::field_key::peer, where_of(ep));
    return std::nullopt;
  }
  if (!core::is_valid_device_id(claimed)) {
    error = core::error_detail{trust::trust_errc::invalid_record,
                               "the accessory at " + where_of(ep) + " names itself \"" +
                                   core::display_text(claimed) +
                                   "\", which is no valid device id; nothing was paired"}
                .with(core::field_key::peer, where_of(ep));
    return std::nullopt;
  }
  return claimed;
}

// What the command knows once its arguments are checked.
struct plan {
  enum class mode { payload, code, tofu } how = mode::payload;
  std::optional<core::setup_payload> payload;
  std::string code;
  std::string device_id; // empty: learned from the accessory (--code --address)
  std::optional<tcp::endpoint> address;
  std::chrono::seconds timeout{10};
  bool yes = false;
};

// A failure in the user's terms, with the device's account (fields: attempts left, the
// fingerprints of a refused key) kept for --json.
core::error_detail failure(const plan& p, std::error_code ec, core::error_detail why) {
  why.code = ec;
  const std::string account = why.detail;
  if (ec == core::pairing_errc::wrong_proof || ec == core::pairing_errc::accessory_unverified) {
    why.detail = ec.message();
    if (const core::field* left = why.find(core::field_key::attempts_left))
      if (const auto* n = std::get_if<std::uint64_t>(&left->value))
        why.detail +=
            "; " + std::to_string(*n) + " attempts left before the accessory stops pairing";
    if (const core::field* after = why.find(core::field_key::retry_after_ms))
      if (const auto* ms = std::get_if<std::uint64_t>(&after->value); ms && *ms > 0)
        why.detail += " (it takes the next try after " + std::to_string(*ms) + " ms)";
    return why;
  }
  if (ec == core::pairing_errc::not_confirmed)
    return {ec, "not confirmed; the accessory's key was not pinned. The accessory has paired "
                "whoever asked it: if the codes differed, someone is in between; reset the "
                "accessory's pairing (its button) before trying again"};
  if (ec == tls::tls_errc::peer_rejected_certificate) {
    why.detail = ec.message() + "; the accessory refuses unknown apps now: its pairing window is "
                                "closed (press its pairing button, or open the window from an "
                                "admin app)";
    return why;
  }
  if (ec == trust::trust_errc::payload_mismatch && !p.payload) {
    why.detail = (p.address ? "the accessory at " + where_of(*p.address)
                            : std::string("the accessory found for this id")) +
                 " is not \"" + p.device_id + "\" (its certificate names another id); nothing " +
                 "was paired";
    return why.with(core::field_key::device_id, p.device_id);
  }
  if (why.detail.empty() || account.find(ec.message()) == std::string::npos)
    why.detail = ec.message() + (account.empty() ? "" : "\n  " + account);
  return why;
}

// The deadline passed: the accessory was never reached (or never answered).
core::error_detail not_reached(const plan& p, const app::controller& ctl, const app::device& dev,
                               const std::string& last_report) {
  bool discovered = false;
  for (const app::accessory_info& a : ctl.accessories())
    discovered = discovered || (a.id == p.device_id && a.reachable);
  core::error_detail why = dev.last_error();
  if (why && (p.address || discovered)) {
    why.detail = "no answer from \"" + p.device_id + "\" within " +
                 std::to_string(p.timeout.count()) + " s: " + why.detail;
    return why;
  }
  if (!p.address)
    return core::error_detail{core::channel_errc::not_discovered,
                              "no accessory with id \"" + p.device_id +
                                  "\" found on the network within " +
                                  std::to_string(p.timeout.count()) +
                                  " s; is it powered and on this network? (or give its address "
                                  "with --address HOST:PORT)"}
        .with(core::field_key::device_id, p.device_id);
  core::error_detail e{std::make_error_code(std::errc::timed_out),
                       "no answer from the accessory at " + where_of(*p.address) + " within " +
                           std::to_string(p.timeout.count()) + " s"};
  if (!last_report.empty()) e.detail += "\n  last: " + last_report;
  return e;
}

int run(const parsed_args& args) {
  const bool json = args.has("json");
  json_output = json;
  const bool tofu = args.has("tofu");
  const bool by_code = args.has("code");
  const bool by_payload = !tofu && !by_code;
  if (tofu + by_code > 1)
    return fail_argument("give one of PAYLOAD, --code CODE or --tofu ID@HOST:PORT");
  if (by_payload && args.positional.empty())
    return fail_argument("give the setup PAYLOAD (LNY1:...), --code CODE, or --tofu ID@HOST:PORT");
  if (tofu && (!args.positional.empty() || args.has("address")))
    return fail_argument("--tofu ID@HOST:PORT names the accessory and its address; nothing else");

  plan p;
  p.yes = args.has("yes");
  if (auto t = args.value("timeout")) {
    std::string error;
    auto v = parse_integer(*t, 1, 3600, "--timeout", error);
    if (!v) return fail_argument(error);
    p.timeout = std::chrono::seconds(*v);
  }

  // What we can prove, checked before anything touches files or the network.
  std::string address_text = args.value("address").value_or("");
  if (by_payload) {
    core::payload_parse_result parsed = core::parse_setup_payload(args.positional[0]);
    if (!parsed) return fail(parsed.to_error_detail(), 2);
    if (std::error_code ec = core::check_pairable(parsed.payload))
      return fail({ec, ec.message()}, 2);
    p.payload = parsed.payload;
    p.device_id = p.payload->device_id;
    if (args.positional.size() > 1 && args.positional[1] != p.device_id)
      return fail_argument("the payload is for \"" + p.device_id + "\", not \"" +
                           core::display_text(args.positional[1]) + "\"");
  } else if (by_code) {
    p.how = plan::mode::code;
    core::setup_code_parse_result c = core::parse_setup_code(*args.value("code"));
    if (!c) return fail({c.code, c.describe()}, 2);
    p.code = std::string(c.value.view());
    if (!args.positional.empty()) p.device_id = args.positional[0];
    if (p.device_id.empty() == address_text.empty())
      return fail_argument("with --code, give the accessory's ID (found by browsing) or --address "
                           "HOST:PORT");
  } else {
    p.how = plan::mode::tofu;
    const std::string t = *args.value("tofu");
    const auto at = t.find('@');
    if (at == std::string::npos || at == 0)
      return fail_argument("--tofu needs ID@HOST:PORT: the id you expect (from the accessory's "
                           "label or screen; what the accessory claims is not trusted) and its "
                           "address");
    p.device_id = t.substr(0, at);
    address_text = t.substr(at + 1);
  }
  if (!p.device_id.empty() && !core::is_valid_device_id(p.device_id))
    return fail_argument("invalid device id \"" + core::display_text(p.device_id) +
                         "\": 1-64 characters from A-Z a-z 0-9 . _ : -");
  std::string host, port, error;
  if (!address_text.empty() && !split_host_port(address_text, host, port, error))
    return fail_argument(error);

  // Where the accessory is: the address given (resolved once), else discovery by its id.
  if (!address_text.empty()) {
    asio::io_context io;
    tcp::resolver resolver(io);
    std::error_code ec;
    auto results = resolver.resolve(host, port, tcp::resolver::numeric_service, ec);
    if (ec || results.empty())
      return fail({ec ? ec : core::channel_errc::host_not_resolved,
                   "cannot resolve '" + host + "': " + ec.message()},
                  1);
    p.address = results.begin()->endpoint();
  }

  core::error_detail setup_error;
  std::optional<app::controller_options> co = controller_options_from(args, setup_error);
  if (!co) return fail(setup_error, 1);
  if (p.address) {
    co->discovery = false;
    co->paths.static_paths = {{p.address->address(), p.address->port(), ""}};
  }
  co->connect_timeout = p.timeout;
  if (p.device_id.empty()) {
    std::optional<std::string> id = peek_device_id(*p.address, args, p.timeout, setup_error);
    if (!id) return fail(setup_error, 1);
    p.device_id = *id;
  }

  // One deadline: --timeout to reach the accessory; once its pairing exchange has started, the
  // exchange's own limit on top (the accessory may delay a proof after earlier wrong ones); a
  // person comparing codes is not timed.
  asio::io_context io;
  asio::steady_timer deadline(io);
  bool timed_out = false;
  std::string last_report;
  std::unique_ptr<app::controller> ctl;
  auto arm = [&](std::chrono::steady_clock::duration d) {
    deadline.expires_after(d);
    deadline.async_wait([&](std::error_code ec) {
      if (ec) return;
      timed_out = true;
      ctl->cancel(); // the pairing completes with operation_aborted
    });
  };
  co->diagnostics = [&](const core::diagnostic& d) {
    last_report = core::display_text(d.text);
    if (d.id == client::diag::pairing_started) arm(p.timeout + core::pairing_settings{}.timeout);
  };
  if (core::error_detail e = app::controller::open(io.get_executor(), std::move(*co), ctl))
    return fail(e, 1);
  const std::shared_ptr<app::device> dev = ctl->get(p.device_id);

  std::optional<std::error_code> done;
  app::pairing_result result;
  core::error_detail why;
  std::string where; // the address paired over
  auto finish = [&](std::error_code ec, app::pairing_result r) {
    done = ec;
    result = std::move(r);
    why = dev->last_error();
    if (auto path = dev->current_path()) where = host_port(path->address, path->port);
    deadline.cancel();
    ctl->cancel(); // the pairing is what this command is for: no session stays
    io.stop();     // discovery alone would keep io running
  };
  const app::pair_options again{.prove_again = true};
  arm(p.timeout);
  switch (p.how) {
  case plan::mode::payload:
    ctl->async_pair(*p.payload, again, finish);
    break;
  case plan::mode::code:
    ctl->async_pair(p.device_id, p.code, again, finish);
    break;
  case plan::mode::tofu:
    ctl->async_pair_by_confirmation(
        p.device_id,
        [&](const client::pairing_confirmation& c, std::function<void(bool)> answer) {
          deadline.cancel();
          answer(confirm_code(c, p.yes));
          arm(p.timeout);
        },
        again, finish);
    break;
  }
  io.run();

  if (!done || (timed_out && *done == asio::error::operation_aborted))
    return fail(not_reached(p, *ctl, *dev, last_report), 1);
  if (*done) return fail(failure(p, *done, std::move(why)), 1);

  // How the key is pinned now (a key pinned before keeps its method), as the store says.
  core::error_detail store_error;
  std::shared_ptr<trust::trust_store> store = open_trust_store(args, store_error);
  if (!store) return fail(store_error, 1);
  const auto record = store->find(result.device_id);
  if (!record)
    return fail({trust::trust_errc::store_io, "paired, but the pin is not in the trust "
                                              "store: see the warning above"},
                1);
  const std::string fp = core::to_string(result.fingerprint);
  const char* role = result.role == core::paired_role::admin ? "admin" : "user";
  if (json) {
    json_writer w;
    w.begin_object();
    w.key("device_id").value(result.device_id);
    w.key("fingerprint").value(fp);
    w.key("pinned_by").value(std::string(trust::to_string(record->method)));
    w.key("role").value(role);
    w.key("address").value(where);
    w.end_object();
    std::printf("%s\n", w.str().c_str());
    return 0;
  }
  std::printf("paired with %s as %s\n  fingerprint: %s\n", result.device_id.c_str(), role,
              fp.c_str());
  return 0;
}

const command cmd{
    "pair",
    "pair with an accessory: pin its key, verified by its setup payload or on first use",
    "usage: lanyard pair PAYLOAD [ID | --address HOST:PORT] [options]\n"
    "       lanyard pair --code CODE (ID | --address HOST:PORT) [options]\n"
    "       lanyard pair --tofu ID@HOST:PORT [--yes] [options]\n"
    "\n"
    "Finds the accessory (by DNS-SD browsing of _lanyard._tcp for its id, or at --address),\n"
    "runs a TLS handshake, then proves to it that this app holds its setup secret, and pins its\n"
    "key only once the accessory has proved it knows the secret too:\n"
    "  PAYLOAD      the setup payload of its QR code (LNY1:..., version 2); the key must also\n"
    "               be the one in the payload\n"
    "  --code CODE  its 8-digit setup code (1234-5678), through SPAKE2+; a mistyped digit is\n"
    "               caught before any network use\n"
    "  --tofu       for accessories without a code: asks the accessory to pair (it shows a\n"
    "               six-digit code), then shows the fingerprint and this side's code; its key\n"
    "               is pinned only if you confirm that the codes match (--yes for scripts)\n"
    "A wrong code says how many attempts the accessory still takes. A device already pinned\n"
    "with another key is refused (exit 1); see `lanyard trust forget`.\n"
    "\n"
    "options:\n"
    "  --address HOST:PORT  connect there instead of browsing for the accessory\n"
    "  --trust-store PATH   the trust store (default: $XDG_STATE_HOME/lanyard/trust-store)\n"
    "  --identity-dir DIR   this controller's key and certificate (default:\n"
    "                       $XDG_STATE_HOME/lanyard/controller; created on first use)\n"
    "  --name NAME          this app's name in the accessory's list (default: controller-HOST)\n"
    "  --yes                with --tofu: confirm the verification code without asking\n"
    "  --timeout SECONDS    limit for finding and reaching the accessory (default 10); a\n"
    "                       pairing exchange that has started gets 30 s more\n"
    "  --json               one JSON object: device_id, fingerprint, pinned_by, role, address;\n"
    "                       on failure {\"event\":\"error\",\"code\":...,\"fields\":{...}}\n"
    "\n"
    "exit status: 0 paired, 1 refused or unreachable, 2 bad arguments, payload or code\n",
    {{{"tofu", true, false},
      {"code", true, false},
      {"name", true, false},
      {"yes", false, false},
      {"address", true, false},
      {"trust-store", true, false},
      {"identity-dir", true, false},
      {"timeout", true, false},
      {"json", false, false}},
     0,
     2},
    run};

const command_registrar reg{cmd};

} // namespace
} // namespace lanyard::cli
