// lanyard pair PAYLOAD [ID | --address HOST:PORT]
// lanyard pair --code CODE (ID | --address HOST:PORT)
// lanyard pair --tofu ID@HOST:PORT [--yes]
// Pairs with an accessory: a TLS handshake, then the pairing exchange that proves to the
// accessory that this app holds its setup secret (payload) or code (SPAKE2+) — and proves the
// accessory's key in return — and only then pins the key in the trust store.
//
// Still on the lower-level API (client::pairing_stream, its own TLS verifier and trust-store
// commit), not app::controller::async_pair(), for every mode (issue 14;
// docs/design/product-api.md § 8): --tofu asks the user to compare a verification code in the
// middle of the exchange and pins only on a yes (the app API has no confirmation step);
// --code --address learns the device id from the certificate (an app::device is named by its
// id first); the result line's `role` (admin or user) is not in app::pairing_result; and
// async_pair() of an accessory already pinned only connects, where `lanyard pair PAYLOAD`
// proves the secret again and reports the role the accessory gives (cli_pair_test step 4).
// The payload and --code ID modes move once pairing_result says the role and a pinned
// accessory can be paired again through it.
#include "cli_error.hpp"
#include "command.hpp"
#include "controller_setup.hpp"
#include "discover.hpp"
#include "json.hpp"
#include "lanyard/client/pair.hpp"
#include "lanyard/core/channel_error.hpp"
#include "lanyard/core/device_id.hpp"
#include "lanyard/core/display_text.hpp"
#include "lanyard/core/fingerprint.hpp"
#include "lanyard/core/pairing_error.hpp"
#include "lanyard/core/setup_code.hpp"
#include "lanyard/core/setup_payload.hpp"
#include "lanyard/discovery/browser.hpp"
#include "lanyard/discovery/client.hpp"
#include "lanyard/discovery/directory.hpp"
#include "lanyard/tls/context.hpp"
#include "lanyard/tls/identity.hpp"
#include "lanyard/tls/stream.hpp"
#include "lanyard/trust/error.hpp"
#include "lanyard/trust/trust_store.hpp"
#include "report.hpp"

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

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

struct pairing_attempt {
  std::error_code ec;
  std::string detail;
  bool connected = false; ///< the TCP connection was made (so the next path is not tried)
  bool confirmed = true;  ///< tofu: the user confirmed the verification code
  core::fingerprint presented;
  std::string subject;
  core::pairing_outcome outcome;
};

std::string where_of(const tcp::endpoint& ep) {
  return ep.address().is_v6() ? "[" + ep.address().to_string() + "]:" + std::to_string(ep.port())
                              : ep.address().to_string() + ":" + std::to_string(ep.port());
}

// Asks the user to compare the verification code; `yes` answers for them (scripts).
bool confirm_code(std::uint32_t code, const core::fingerprint& fp, const std::string& subject,
                  bool yes) {
  char digits[8];
  std::snprintf(digits, sizeof digits, "%06u", static_cast<unsigned>(code % 1000000));
  std::fprintf(stderr,
               "accessory \"%s\"\n  fingerprint:       %s\n  verification code: %.3s %.3s\n"
               "The accessory shows a code now: check that it is the same.\n",
               core::display_text(subject).c_str(), core::to_string(fp).c_str(), digits,
               digits + 3);
  if (yes) return true;
  std::fprintf(stderr, "Same code? Trust this accessory? [y/N] ");
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  return answer == "y" || answer == "Y" || answer == "yes";
}

// One connection: TCP, TLS (the verifier decides about the key), then the pairing exchange.
pairing_attempt pair_over(const tcp::endpoint& ep, tls::context ctx,
                          client::pairing_request request, std::chrono::seconds timeout, bool tofu,
                          bool yes) {
  asio::io_context io;
  pairing_attempt r;
  client::pairing_stream s(tcp::socket(io), ctx);
  s.set_handshake_timeout(timeout);
  asio::steady_timer deadline(io);
  bool timed_out = false;
  deadline.expires_after(timeout + request.settings.timeout);
  deadline.async_wait([&](const std::error_code& ec) {
    if (ec) return;
    timed_out = true;
    std::error_code ignored;
    s.next_layer().close(ignored);
  });
  auto done = [&](std::error_code ec, std::string detail) {
    deadline.cancel();
    r.ec = timed_out && ec ? std::make_error_code(std::errc::timed_out) : ec;
    r.detail = std::move(detail);
    std::error_code ignored;
    s.next_layer().shutdown(tcp::socket::shutdown_both, ignored);
    s.next_layer().close(ignored);
  };
  s.next_layer().async_connect(ep, [&](const std::error_code& ec) {
    r.connected = !ec;
    if (ec)
      return done(ec, "connecting to " + where_of(ep) + " failed: " + ec.message() +
                          "; is the accessory on and listening there?");
    s.async_handshake(tls::role::client, [&](const std::error_code& hec) {
      r.presented = s.peer_fingerprint();
      r.subject = s.peer_subject();
      if (hec) {
        std::string d = "TLS handshake with " + where_of(ep) + " failed: " + hec.message();
        if (!s.last_error_detail().empty()) d += " (" + s.last_error_detail() + ")";
        return done(hec, d);
      }
      client::async_pair(s, request, [&](std::error_code pec, core::pairing_outcome o) {
        r.outcome = o;
        if (pec || !tofu) return done(pec, pec ? pec.message() : "");
        // The accessory shows its code when the request arrives: only now can the user compare
        // the two, so only now is the question asked, and only a yes pins the key.
        std::uint32_t code = 0;
        if (std::error_code vec = client::verification_code(s, code))
          return done(vec, "cannot compute the verification code: " + vec.message());
        r.confirmed = confirm_code(code, r.presented, r.subject, yes);
        done(r.confirmed ? std::error_code{} : core::pairing_errc::not_confirmed, "");
      });
    });
  });
  io.run();
  return r;
}

// "wrong setup code: 17 attempts left before the accessory stops pairing" and friends, with the
// counts as fields.
core::error_detail refusal(const pairing_attempt& a) {
  core::error_detail e{a.ec, a.detail.empty() ? a.ec.message() : a.detail};
  if (a.ec == core::pairing_errc::wrong_proof || a.ec == core::pairing_errc::accessory_unverified) {
    if (a.outcome.attempts_left) {
      e.detail += "; " + std::to_string(*a.outcome.attempts_left) +
                  " attempts left before the accessory stops pairing";
      e.with(core::field_key::attempts_left, std::uint64_t{*a.outcome.attempts_left});
    }
    if (a.outcome.retry_after.count() > 0) {
      e.detail +=
          " (it takes the next try after " + std::to_string(a.outcome.retry_after.count()) + " ms)";
      e.with(core::field_key::retry_after_ms,
             static_cast<std::int64_t>(a.outcome.retry_after.count()));
    }
  }
  if (a.ec == tls::tls_errc::peer_rejected_certificate)
    e.detail += "; the accessory refuses unknown apps now: its pairing window is closed (press its "
                "pairing button, or open the window from an admin app)";
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

  std::chrono::seconds timeout{10};
  if (auto t = args.value("timeout")) {
    std::string error;
    auto v = parse_integer(*t, 1, 3600, "--timeout", error);
    if (!v) return fail_argument(error);
    timeout = std::chrono::seconds(*v);
  }

  // What we can prove, checked before anything touches files or the network.
  client::pairing_request request;
  std::optional<core::setup_payload> payload;
  std::string device_id; // expected id; empty: learned from the certificate (--code --address)
  std::string address_text = args.value("address").value_or("");
  if (by_payload) {
    core::payload_parse_result p = core::parse_setup_payload(args.positional[0]);
    if (!p) return fail(p.to_error_detail(), 2);
    if (std::error_code ec = core::check_pairable(p.payload)) return fail({ec, ec.message()}, 2);
    payload = p.payload;
    device_id = payload->device_id;
    if (args.positional.size() > 1 && args.positional[1] != device_id)
      return fail_argument("the payload is for \"" + device_id + "\", not \"" +
                           core::display_text(args.positional[1]) + "\"");
    request.credentials.method = core::pairing_method::setup_secret;
    request.credentials.secret = *payload->setup_secret;
  } else if (by_code) {
    core::setup_code_parse_result c = core::parse_setup_code(*args.value("code"));
    if (!c) return fail({c.code, c.describe()}, 2);
    request.credentials.method = core::pairing_method::setup_code;
    request.credentials.code = std::string(c.value.view());
    if (!args.positional.empty()) device_id = args.positional[0];
    if (device_id.empty() == address_text.empty())
      return fail_argument("with --code, give the accessory's ID (found by browsing) or --address "
                           "HOST:PORT");
  } else {
    const std::string t = *args.value("tofu");
    const auto at = t.find('@');
    if (at == std::string::npos || at == 0)
      return fail_argument("--tofu needs ID@HOST:PORT: the id you expect (from the accessory's "
                           "label or screen; what the accessory claims is not trusted) and its "
                           "address");
    device_id = t.substr(0, at);
    address_text = t.substr(at + 1);
    request.credentials.method = core::pairing_method::confirmation;
  }
  if (!device_id.empty() && !core::is_valid_device_id(device_id))
    return fail_argument("invalid device id \"" + core::display_text(device_id) +
                         "\": 1-64 characters from A-Z a-z 0-9 . _ : -");
  request.name = args.value("name").value_or(controller_device_id());
  std::string host, port, error;
  if (!address_text.empty() && !split_host_port(address_text, host, port, error))
    return fail_argument(error);

  core::error_detail setup_error;
  std::shared_ptr<trust::trust_store> store_ptr = open_trust_store(args, setup_error);
  if (!store_ptr) return fail(setup_error, 1);
  trust::trust_store& store = *store_ptr;
  std::optional<tls::identity> me = load_controller_identity(args, setup_error);
  if (!me) return fail(setup_error, 1);
  std::error_code ec;

  // Where the accessory is.
  std::vector<tcp::endpoint> endpoints;
  if (!address_text.empty()) {
    asio::io_context io;
    tcp::resolver resolver(io);
    auto results = resolver.resolve(host, port, tcp::resolver::numeric_service, ec);
    if (ec || results.empty())
      return fail({ec ? ec : core::channel_errc::host_not_resolved,
                   "cannot resolve '" + host + "': " + ec.message()},
                  1);
    endpoints.push_back(results.begin()->endpoint());
  } else {
    endpoints = discover_accessory(device_id, timeout, setup_error);
    if (endpoints.empty()) return fail(setup_error, 1);
  }

  // The verifier runs inside the handshake: a key that cannot be this accessory ends it before
  // any pairing frame. The pin is committed only after the pairing exchange succeeded.
  std::optional<trust::trust_decision> decision;
  tls::context_options options;
  options.handshake_timeout = timeout;
  options.session_tickets = false; // pairing needs a full handshake
  options.verifier = [&](const core::fingerprint& presented,
                         const tls::peer_cert_info& info) -> std::error_code {
    if (payload) {
      decision = store.check(device_id, presented, trust::trust_mode::verified_first_use,
                             payload->device_fingerprint);
    } else {
      // The certificate's name must be the id the user expects; the key is tentative until the
      // accessory proves the code (or the user confirms the verification code).
      const std::string id = device_id.empty() ? info.subject_cn : device_id;
      decision = store.check(id, presented, trust::trust_mode::tofu);
      if (decision->accepted() && info.subject_cn != id) {
        decision->action = trust::trust_action::refuse;
        decision->code = trust::trust_errc::payload_mismatch;
      }
    }
    return decision->accepted() ? std::error_code{} : decision->code;
  };
  core::error_detail context_error;
  tls::context ctx = tls::context::create(*me, options, context_error);
  if (context_error) return fail(std::move(context_error), 1);

  // The first path that accepts a connection is the one paired over; a refused key is final.
  pairing_attempt attempt;
  tcp::endpoint endpoint;
  for (const tcp::endpoint& ep : endpoints) {
    endpoint = ep;
    attempt = pair_over(ep, ctx, request, timeout, tofu, args.has("yes"));
    if (attempt.connected || decision) break;
  }
  if (decision && !decision->accepted()) {
    if (decision->code == trust::trust_errc::payload_mismatch && !payload)
      return fail(core::error_detail{decision->code,
                                     "the accessory at " + where_of(endpoint) + " says it is \"" +
                                         core::display_text(attempt.subject) + "\", not \"" +
                                         device_id + "\"; nothing was paired"}
                      .with(core::field_key::device_id, device_id)
                      .with(core::field_key::peer, where_of(endpoint)),
                  1);
    return fail(decision->to_error_detail(), 1);
  }
  if (attempt.ec == core::pairing_errc::not_confirmed)
    return fail({attempt.ec,
                 "not confirmed; the accessory's key was not pinned. The accessory has paired "
                 "whoever asked it: if the codes differed, someone is in between; reset the "
                 "accessory's pairing (its button) before trying again"},
                1);
  if (attempt.ec) return fail(refusal(attempt), 1);
  if (!decision)
    return fail({tls::tls_errc::handshake_failed,
                 "the TLS handshake finished without checking the accessory's key"},
                1);

  if (!payload)
    decision->method = by_code ? trust::pin_method::setup_code : trust::pin_method::tofu;
  if (trust::store_status st = store.commit(*decision, "", std::chrono::system_clock::now());
      st.failed())
    return fail(st, 1);
  const auto record = store.find(decision->device_id);
  const trust::pin_method method = record ? record->method : decision->method;
  const std::string fp = core::to_string(attempt.presented);
  const char* role = attempt.outcome.role == core::paired_role::admin ? "admin" : "user";
  if (json) {
    json_writer w;
    w.begin_object();
    w.key("device_id").value(decision->device_id);
    w.key("fingerprint").value(fp);
    w.key("pinned_by").value(std::string(trust::to_string(method)));
    w.key("role").value(role);
    w.key("address").value(where_of(endpoint));
    w.end_object();
    std::printf("%s\n", w.str().c_str());
    return 0;
  }
  std::printf("paired with %s as %s\n  fingerprint: %s\n", decision->device_id.c_str(), role,
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
    "  --timeout SECONDS    browsing and connection limit (default 10)\n"
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
