// lanyard pair (PAYLOAD | --tofu HOST:PORT) [--address HOST:PORT] [--trust-store PATH]
// [--identity-dir DIR] [--json] [--timeout S]: pins an accessory's key in the trust store after a
// TLS handshake, either verified against its setup payload or by trust on first use.
#include "cli/command.hpp"
#include "cli/controller_setup.hpp"
#include "cli/json.hpp"
#include "lanyard/core/fingerprint.hpp"
#include "lanyard/core/setup_payload.hpp"
#include "lanyard/discovery/browser.hpp"
#include "lanyard/discovery/client.hpp"
#include "lanyard/discovery/directory.hpp"
#include "lanyard/tls/context.hpp"
#include "lanyard/tls/identity.hpp"
#include "lanyard/tls/stream.hpp"
#include "lanyard/trust/error.hpp"
#include "lanyard/trust/trust_store.hpp"

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace lanyard::cli {
namespace {

using asio::ip::tcp;

int fail(const std::string& reason, int code) {
  std::fprintf(stderr, "lanyard pair: %s\n", reason.c_str());
  return code;
}

// Browses _lanyard._tcp for up to `timeout` and returns the reachable paths of the first
// sighting of the accessory whose TXT id is `device_id` (empty if none).
std::vector<tcp::endpoint> discover(const std::string& device_id, std::chrono::seconds timeout,
                                    std::string& error) {
  using namespace lanyard::discovery;
  asio::io_context io;
  client avahi(io.get_executor());
  if (avahi.status()) {
    error = avahi.status().message() + "; give the accessory's address with --address HOST:PORT";
    return {};
  }
  browser b(avahi);
  directory dir;
  std::vector<tcp::endpoint> found;
  asio::steady_timer deadline(io);
  asio::steady_timer grace(io);
  bool seen = false;
  auto stop = [&] {
    deadline.cancel();
    grace.cancel();
    b.stop();
    io.stop();
  };
  b.on_event([&](const browse_event& e) {
    dir.apply(e);
    if (seen || !dir.find(device_id)) return;
    // IPv4 and IPv6 instances resolve separately: give the others a moment to arrive, so a
    // path the accessory does not listen on is not the only one tried.
    seen = true;
    grace.expires_after(std::chrono::milliseconds(700));
    grace.async_wait([&](const std::error_code& ec) {
      if (ec) return;
      if (const discovered_accessory* acc = dir.find(device_id))
        for (const auto& p : acc->paths)
          if (p.reachable) found.emplace_back(p.address, p.port);
      stop();
    });
  });
  b.on_error([](std::error_code) {});
  if (auto ec = b.start("_lanyard._tcp", "")) {
    error = ec.message();
    return {};
  }
  deadline.expires_after(timeout);
  deadline.async_wait([&](const std::error_code& ec) {
    if (!ec) stop();
  });
  io.run();
  if (found.empty())
    error = "no accessory with id \"" + device_id + "\" found on the network within " +
            std::to_string(timeout.count()) + " s; is it powered and on this network? (or give " +
            "its address with --address HOST:PORT)";
  return found;
}

struct handshake_result {
  std::error_code ec;
  std::string detail;
  core::fingerprint presented;
  std::string subject;
  bool resumed = false;
  bool connected = false; ///< the TCP connection was made (so the next path is not tried)
};

handshake_result handshake(const tcp::endpoint& ep, tls::context ctx,
                           const std::optional<std::string>& peer_id,
                           std::chrono::seconds timeout) {
  asio::io_context io;
  handshake_result r;
  tls::stream<tcp::socket> s(tcp::socket(io), ctx);
  if (peer_id) s.set_peer_id(*peer_id);
  s.set_handshake_timeout(timeout);
  asio::steady_timer deadline(io);
  bool connected = false;
  bool timed_out = false;
  deadline.expires_after(timeout);
  deadline.async_wait([&](const std::error_code& ec) {
    if (!ec && !connected) {
      timed_out = true;
      std::error_code ignored;
      s.next_layer().close(ignored);
    }
  });
  s.next_layer().async_connect(ep, [&](const std::error_code& ec) {
    connected = true;
    r.connected = !ec;
    if (ec) {
      r.ec = timed_out ? std::make_error_code(std::errc::timed_out) : ec;
      r.detail = "connecting to " + ep.address().to_string() + " port " +
                 std::to_string(ep.port()) + " failed: " + r.ec.message() +
                 "; is the accessory on and listening there?";
      deadline.cancel();
      return;
    }
    s.async_handshake(tls::role::client, [&](const std::error_code& hec) {
      deadline.cancel();
      r.ec = hec;
      if (hec) {
        r.detail = "TLS handshake with " + ep.address().to_string() + " port " +
                   std::to_string(ep.port()) + " failed: " + hec.message();
        if (!s.last_error_detail().empty()) r.detail += " (" + s.last_error_detail() + ")";
        return;
      }
      r.presented = s.peer_fingerprint();
      r.subject = s.peer_subject();
      r.resumed = s.resumed();
      std::error_code ignored;
      s.next_layer().shutdown(tcp::socket::shutdown_both, ignored);
      s.next_layer().close(ignored);
    });
  });
  io.run();
  return r;
}

int run(const parsed_args& args) {
  const bool json = args.has("json");
  const bool tofu = args.has("tofu");
  if (tofu == !args.positional.empty())
    return fail("give either a setup PAYLOAD or --tofu HOST:PORT (not both)", 2);
  if (tofu && args.has("address"))
    return fail("--address is for payload pairing; --tofu already names the address", 2);

  std::chrono::seconds timeout{10};
  if (auto t = args.value("timeout")) {
    std::string error;
    auto v = parse_integer(*t, 1, 3600, "--timeout", error);
    if (!v) return fail(error, 2);
    timeout = std::chrono::seconds(*v);
  }

  // A bad payload is refused before anything else (no files, no network).
  std::optional<core::setup_payload> payload;
  if (!tofu) {
    core::payload_parse_result p = core::parse_setup_payload(args.positional[0]);
    if (!p) return fail(p.describe(), 2);
    payload = p.payload;
  }
  std::string host, port, error;
  const std::string address_text = tofu ? *args.value("tofu") : args.value("address").value_or("");
  if (!address_text.empty() && !split_host_port(address_text, host, port, error))
    return fail(error, 2);

  std::shared_ptr<trust::trust_store> store_ptr = open_trust_store(args, error);
  if (!store_ptr) return fail(error, 1);
  trust::trust_store& store = *store_ptr;
  std::optional<tls::identity> me = load_controller_identity(args, error);
  if (!me) return fail(error, 1);
  std::error_code ec;
  std::string detail;

  // Where the accessory is.
  std::vector<tcp::endpoint> endpoints;
  if (!address_text.empty()) {
    asio::io_context io;
    tcp::resolver resolver(io);
    auto results = resolver.resolve(host, port, tcp::resolver::numeric_service, ec);
    if (ec || results.empty()) return fail("cannot resolve '" + host + "': " + ec.message(), 1);
    endpoints.push_back(results.begin()->endpoint());
  } else {
    endpoints = discover(payload->device_id, timeout, error);
    if (endpoints.empty()) return fail(error, 1);
  }

  // The verifier runs inside the handshake: a refused key ends it before any application byte.
  std::optional<trust::trust_decision> decision;
  tls::context_options options;
  options.handshake_timeout = timeout;
  options.session_tickets = false;
  options.verifier = [&](const core::fingerprint& presented,
                         const tls::peer_cert_info& info) -> std::error_code {
    if (payload) {
      decision = store.check(payload->device_id, presented, trust::trust_mode::verified_first_use,
                             payload->device_fingerprint);
    } else {
      decision = store.check(info.subject_cn, presented, trust::trust_mode::tofu);
    }
    return decision->accepted() ? std::error_code{} : decision->code;
  };
  tls::context ctx = tls::context::create(*me, options, ec, &detail);
  if (ec) return fail(detail.empty() ? ec.message() : detail, 1);

  // The first path that accepts a connection is the one paired over; a refused key is final.
  handshake_result hr;
  tcp::endpoint endpoint;
  for (const tcp::endpoint& ep : endpoints) {
    endpoint = ep;
    hr = handshake(ep, ctx, payload ? std::optional<std::string>(payload->device_id) : std::nullopt,
                   timeout);
    if (hr.connected || decision) break;
  }
  if (decision && !decision->accepted()) return fail(decision->describe(), 1);
  if (hr.ec) return fail(hr.detail, 1);
  if (!decision) return fail("the TLS handshake finished without checking the accessory's key", 1);

  if (trust::store_status s = store.commit(*decision, "", std::chrono::system_clock::now());
      s.failed())
    return fail(s.message(), 1);
  const auto record = store.find(decision->device_id);
  const trust::pin_method method = record ? record->method : decision->method;
  const std::string fp = core::to_string(hr.presented);
  const std::string where =
      endpoint.address().is_v6()
          ? "[" + endpoint.address().to_string() + "]:" + std::to_string(endpoint.port())
          : endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
  if (json) {
    json_writer w;
    w.begin_object();
    w.key("device_id").value(decision->device_id);
    w.key("fingerprint").value(fp);
    w.key("pinned_by").value(std::string(trust::to_string(method)));
    w.key("address").value(where);
    w.key("resumed").value(hr.resumed);
    w.end_object();
    std::printf("%s\n", w.str().c_str());
    return 0;
  }
  const bool is_new = decision->action == trust::trust_action::pin_new;
  std::printf("%s %s\n  fingerprint: %s\n", is_new ? "paired" : "already paired with",
              decision->device_id.c_str(), fp.c_str());
  if (method == trust::pin_method::tofu && is_new)
    std::printf(
        "  pinned on first use: compare this fingerprint with the one the accessory shows\n");
  return 0;
}

const command cmd{
    "pair",
    "pair with an accessory: pin its key, verified by its setup payload or on first use",
    "usage: lanyard pair PAYLOAD [--address HOST:PORT] [options]\n"
    "       lanyard pair --tofu HOST:PORT [options]\n"
    "\n"
    "With PAYLOAD (the accessory's setup code, LNY1:...), finds the accessory whose id is the\n"
    "payload's (by DNS-SD browsing of _lanyard._tcp, or at --address), runs a TLS handshake and\n"
    "pins its key only if it is the one in the payload. With --tofu, pins whatever key the\n"
    "accessory at HOST:PORT presents (its id is its certificate's name) and prints the\n"
    "fingerprint so you can compare it with the one the accessory shows. A device already pinned\n"
    "with another key is refused (exit 1); see `lanyard trust forget`.\n"
    "\n"
    "options:\n"
    "  --address HOST:PORT  connect there instead of browsing for the accessory\n"
    "  --trust-store PATH   the trust store (default: $XDG_STATE_HOME/lanyard/trust-store)\n"
    "  --identity-dir DIR   this controller's key and certificate (default:\n"
    "                       $XDG_STATE_HOME/lanyard/controller; created on first use)\n"
    "  --timeout SECONDS    browsing and connection limit (default 10)\n"
    "  --json               one JSON object: device_id, fingerprint, pinned_by, address, resumed\n"
    "\n"
    "exit status: 0 paired, 1 refused or unreachable, 2 bad arguments or payload\n",
    {{{"tofu", true, false},
      {"address", true, false},
      {"trust-store", true, false},
      {"identity-dir", true, false},
      {"timeout", true, false},
      {"json", false, false}},
     0,
     1},
    run};

const command_registrar reg{cmd};

} // namespace
} // namespace lanyard::cli
