// lanyard controllers list|remove|role|window ID ... [--address HOST:PORT]: manages an
// accessory's paired controllers from an admin app, over the channel (the accessory answers
// the requests of accessory/controller_admin.hpp; other apps get "not_admin").
#include "admin_refusal.hpp"
#include "cli_error.hpp"
#include "command.hpp"
#include "control_exchange.hpp"
#include "controller_setup.hpp"
#include "json.hpp"
#include "report.hpp"

#include <lanyard/core/app_message.hpp>
#include <lanyard/core/display_text.hpp>
#include <lanyard/core/fingerprint.hpp>
#include <lanyard/trust/error.hpp>

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace lanyard::cli {
namespace {

bool json_output = false;

int fail(const core::error_detail& e, int exit_status) {
  return report_failure("controllers", json_output, e, exit_status);
}

int bad_argument(std::string sentence) {
  return fail({cli_errc::bad_argument, std::move(sentence)}, 2);
}

// The request for `args`, or an error (exit 2).
std::optional<core::app_message> request_of(const parsed_args& args, std::string& error) {
  const std::string& what = args.positional[0];
  const auto& p = args.positional;
  auto fp_arg = [&](std::size_t i) -> std::optional<std::string> {
    if (p.size() <= i) return std::nullopt;
    const auto r = core::parse_fingerprint(p[i]);
    if (!r) {
      error = "controller fingerprint: " + r.describe();
      return std::nullopt;
    }
    return core::to_string(r.value, core::fingerprint_format::hex);
  };
  if (what == "list" && p.size() == 2) return core::app_message("controllers");
  if (what == "remove" && p.size() == 3) {
    auto fp = fp_arg(2);
    if (!fp) return std::nullopt;
    return core::app_message("controller_remove").set("fp", *fp);
  }
  if (what == "role" && p.size() == 4 && (p[3] == "admin" || p[3] == "user")) {
    auto fp = fp_arg(2);
    if (!fp) return std::nullopt;
    return core::app_message("controller_role").set("fp", *fp).set("role", p[3]);
  }
  if (what == "window" && p.size() >= 3 && p[2] == "close" && p.size() == 3)
    return core::app_message("pairing_window").set("open", std::uint64_t{0});
  if (what == "window" && p.size() >= 3 && p[2] == "open" && p.size() <= 4) {
    core::app_message m("pairing_window");
    m.set("open", std::uint64_t{1});
    if (p.size() == 4) {
      auto v = parse_integer(p[3], 3, 15, "MINUTES", error);
      if (!v) return std::nullopt;
      m.set("minutes", static_cast<std::uint64_t>(*v));
    }
    return m;
  }
  if (error.empty())
    error = "usage: lanyard controllers list ID | remove ID FP | role ID FP admin|user | "
            "window ID open [MINUTES]|close";
  return std::nullopt;
}

int run(const parsed_args& args) {
  json_output = args.has("json");
  std::string error;
  const std::optional<core::app_message> req = request_of(args, error);
  if (!req) return bad_argument(error);
  control_request request;
  request.device_id = args.positional[1];
  if (auto t = args.value("timeout")) {
    auto v = parse_integer(*t, 1, 3600, "--timeout", error);
    if (!v) return bad_argument(error);
    request.timeout = std::chrono::seconds(*v);
  }
  std::string host, port; // checked here: a bad --address is a bad argument (exit 2)
  if (const auto address = args.value("address"))
    if (!split_host_port(*address, host, port, error)) return bad_argument(error);
  std::string text;
  if (std::error_code ec = core::encode_app_message(*req, text))
    return fail({ec, "the request cannot be encoded: " + ec.message()}, 2);
  request.service = core::message_kind::administration;
  request.body = std::as_bytes(std::span(text.data(), text.size()));

  std::vector<std::string> listed;
  json_writer list_json;
  list_json.begin_array();
  const core::error_detail outcome = exchange_control(
      args, request,
      [&](std::span<const std::byte> payload,
          std::uint64_t seq) -> std::optional<core::error_detail> {
        const std::optional<core::app_message> answer = answer_to(payload, seq);
        if (!answer) return std::nullopt;
        const core::app_message& m = *answer;
        if (m.verb == "error") return admin_refusal(std::string(m.get("reason").value_or("")));
        if (m.verb == "ok" || m.verb == "controllers") return core::error_detail{};
        if (m.verb == "controller") {
          const std::string name = core::percent_decode(m.get("name").value_or("")).value_or("?");
          const std::string fp(m.get("fp").value_or(""));
          const auto p = core::parse_fingerprint(fp);
          const std::string shown = p ? core::to_string(p.value) : core::display_text(fp);
          const std::string role(m.get("role").value_or(""));
          listed.push_back(shown + "  " + core::display_text(role) + "  " +
                           core::display_text(name));
          list_json.begin_object()
              .key("fingerprint")
              .value(shown)
              .key("role")
              .value(role)
              .key("name")
              .value(name)
              .end_object();
        }
        return std::nullopt;
      });
  if (outcome.failed()) return fail(outcome, 1);
  list_json.end_array();
  if (req->verb == "controllers") {
    if (json_output)
      std::printf("%s\n", list_json.str().c_str());
    else
      for (const auto& l : listed)
        std::printf("%s\n", l.c_str());
  } else if (!json_output) {
    std::printf("done\n");
  }
  return 0;
}

const command cmd{
    "controllers",
    "list or remove an accessory's paired controllers, set roles, open its pairing window",
    "usage: lanyard controllers list ID [options]\n"
    "       lanyard controllers remove ID FINGERPRINT [options]\n"
    "       lanyard controllers role ID FINGERPRINT admin|user [options]\n"
    "       lanyard controllers window ID open [MINUTES] | close [options]\n"
    "\n"
    "Asks the accessory ID (paired with this app, which must be one of its admins) over the\n"
    "channel. `window open` lets new apps pair for MINUTES (3-15, default 15) and forgives\n"
    "earlier failed attempts. The accessory refuses non-admins (not_admin) and removing or\n"
    "demoting its only admin (last_admin).\n"
    "\n"
    "options:\n"
    "  --address HOST:PORT  connect there instead of browsing for ID (DNS-SD)\n"
    "  --json               list: one JSON array of {fingerprint, role, name}; a failure:\n"
    "                       one error event {\"event\":\"error\",\"code\",...} on stdout\n"
    "  --timeout SECONDS    give up after this long (default 10)\n"
    "  --trust-store PATH   the trust store (default: $XDG_STATE_HOME/lanyard/trust-store)\n"
    "  --identity-dir DIR   this controller's key and certificate\n"
    "\n"
    "exit status: 0 done, 1 refused or unreachable, 2 bad arguments\n",
    {{{"address", true, false},
      {"json", false, false},
      {"timeout", true, false},
      {"trust-store", true, false},
      {"identity-dir", true, false}},
     2,
     4},
    run};

const command_registrar reg{cmd};

} // namespace
} // namespace lanyard::cli
