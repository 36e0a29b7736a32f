// lanyard relay inbox|show|set|off ID ...: the relay (docs/design/relay.md) from an app's side.
//
//   inbox  the accessory's inbox id: its broker user name and topic account, derived from its
//          pinned key (what a deployment registers at the broker before `set`);
//   show   what the stored relay ticket says (broker, household account, inbox), never a
//          password or key;
//   set    an admin provisions the accessory's relay settings over the channel (service 3);
//          the accessory answers with this app's ticket, which is stored with the pin;
//   off    an admin switches the accessory's relay off (`v1 relay_off`): it deletes its
//          settings and leaves the broker; this app's ticket is deleted.
//
// Passwords come from files (--accessory-password-file, --household-password-file), never
// from the command line, where every user of the machine could read them (ps).
#include "admin_refusal.hpp"
#include "cli_error.hpp"
#include "command.hpp"
#include "control_exchange.hpp"
#include "controller_setup.hpp"
#include "json.hpp"
#include "report.hpp"

#include <lanyard/core/app_message.hpp>
#include <lanyard/core/display_text.hpp>
#include <lanyard/core/relay_settings.hpp>
#include <lanyard/crypto/relay.hpp>
#include <lanyard/trust/error.hpp>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

namespace lanyard::cli {
namespace {

bool json_output = false;

int fail(const core::error_detail& e, int exit_status) {
  return report_failure("relay", json_output, e, exit_status);
}

int bad_argument(std::string sentence) {
  return fail({cli_errc::bad_argument, std::move(sentence)}, 2);
}

// A whole file; a password file's one trailing newline is not part of the password.
std::optional<std::string> read_file(const std::string& path, bool strip_newline,
                                     core::error_detail& error) {
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) {
    error = {cli_errc::unreadable_input, "cannot read " + core::display_text(path)};
    return std::nullopt;
  }
  if (!in.is_open()) {
    error = {cli_errc::unreadable_input, "cannot open " + core::display_text(path)};
    return std::nullopt;
  }
  if (strip_newline && !text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

// The settings from the options (exit 2 on a bad one).
std::optional<core::relay_settings> settings_of(const parsed_args& args,
                                                core::error_detail& error) {
  core::relay_settings s;
  const auto broker = args.value("broker");
  const auto ca = args.value("ca");
  const auto accessory_pw = args.value("accessory-password-file");
  const auto account = args.value("household-account");
  const auto household_pw = args.value("household-password-file");
  if (!broker || !ca || !accessory_pw || !account || !household_pw) {
    error = {cli_errc::bad_argument,
             "relay set needs --broker, --ca, --accessory-password-file, --household-account "
             "and --household-password-file"};
    return std::nullopt;
  }
  if (broker->empty()) {
    error = {cli_errc::bad_argument, "--broker: empty (expected HOST or HOST:PORT)"};
    return std::nullopt;
  }
  std::string host = *broker, port = "8883", why;
  if (broker->find(':') != std::string::npos || broker->front() == '[') {
    if (!split_host_port(*broker, host, port, why)) {
      error = {cli_errc::bad_argument, "--broker: " + why};
      return std::nullopt;
    }
  }
  s.broker.host = host;
  s.broker.port = static_cast<std::uint16_t>(std::stoi(port));
  s.household_account = *account;
  auto pem = read_file(*ca, false, error);
  auto apw = pem ? read_file(*accessory_pw, true, error) : std::nullopt;
  auto hpw = apw ? read_file(*household_pw, true, error) : std::nullopt;
  if (!hpw) return std::nullopt;
  s.broker.ca_pem = std::move(*pem);
  s.accessory_password = std::move(*apw);
  s.household_password = std::move(*hpw);
  // The codec checks every field's bounds; the error names the field, never its value.
  std::vector<std::uint8_t> probe;
  if (std::error_code ec = core::encode_relay_settings(s, probe)) {
    error = {cli_errc::bad_argument,
             "the relay settings are not valid (" + ec.message() +
                 "): check the broker host, the CA (PEM), the passwords (1-256 bytes) and the "
                 "household account (1-64 of A-Z a-z 0-9 - _)"};
    return std::nullopt;
  }
  return s;
}

int show_inbox(const parsed_args& args, const std::string& device_id) {
  core::error_detail err;
  auto store = open_trust_store(args, err);
  if (!store) return fail(err, 1);
  const auto rec = store->find(device_id);
  if (!rec) {
    core::error_detail e{trust::trust_errc::unknown_device,
                         "\"" + core::display_text(device_id) + "\" is not paired: pair first"};
    return fail(e.with(core::field_key::device_id, device_id), 1);
  }
  std::array<char, core::relay_inbox_length> inbox{};
  if (std::error_code ec = crypto::relay_inbox(rec->fingerprint, inbox))
    return fail({ec, "cannot derive the inbox: " + ec.message()}, 1);
  const std::string text(inbox.data(), inbox.size());
  if (json_output)
    std::printf("%s\n",
                json_writer().begin_object().key("inbox").value(text).end_object().str().c_str());
  else
    std::printf("%s\n", text.c_str());
  return 0;
}

int show_ticket(const parsed_args& args, const std::string& device_id) {
  core::error_detail err;
  auto store = open_trust_store(args, err);
  if (!store) return fail(err, 1);
  trust::store_status st;
  const auto t = store->relay_ticket(device_id, &st);
  if (st.failed()) return fail(st, 1);
  if (!t) {
    core::error_detail e{trust::trust_errc::unknown_device,
                         "no relay ticket for \"" + core::display_text(device_id) +
                             "\": its admin has not set the relay up, or this app has not "
                             "connected since"};
    return fail(e.with(core::field_key::device_id, device_id), 1);
  }
  // Untrusted text from the accessory: escaped. Passwords and the key are never shown.
  if (json_output) {
    std::printf("%s\n", json_writer()
                            .begin_object()
                            .key("broker_host")
                            .value(t->broker.host)
                            .key("broker_port")
                            .value(std::uint64_t{t->broker.port})
                            .key("household_account")
                            .value(t->household_account)
                            .key("accessory_inbox")
                            .value(t->accessory_inbox)
                            .end_object()
                            .str()
                            .c_str());
  } else {
    std::printf("broker %s port %u\nhousehold account %s\naccessory inbox %s\n",
                core::display_text(t->broker.host).c_str(), unsigned{t->broker.port},
                core::display_text(t->household_account).c_str(),
                core::display_text(t->accessory_inbox).c_str());
  }
  return 0;
}

// A service 3 request to `device_id` with `body`; false (and `why`) on a bad --timeout or
// --address.
bool relay_request(const parsed_args& args, const std::string& device_id,
                   std::span<const std::byte> body, control_request& request, std::string& why) {
  request.device_id = device_id;
  request.service = core::message_kind::relay;
  request.body = body;
  if (auto t = args.value("timeout")) {
    auto v = parse_integer(*t, 1, 3600, "--timeout", why);
    if (!v) return false;
    request.timeout = std::chrono::seconds(*v);
  }
  std::string host, port;
  if (const auto address = args.value("address"))
    if (!split_host_port(*address, host, port, why)) return false;
  return true;
}

// An `error` answer, as the CLI reports it; nullopt for anything else.
std::optional<core::error_detail> refusal_of(const core::app_message& m) {
  if (m.verb != "error") return std::nullopt;
  const std::string reason(m.get("reason").value_or(""));
  if (reason == "not_supported") {
    // An accessory without a relay (the firmware accessory, another product).
    core::error_detail e{trust::trust_errc::request_not_supported,
                         "the accessory has no relay (not_supported)"};
    return e.with(core::field_key::reason, reason);
  }
  core::error_detail e = admin_refusal(reason);
  if (reason == "bad_field") e.detail += ": " + core::display_text(m.get("detail").value_or("?"));
  return e;
}

int set_settings(const parsed_args& args, const std::string& device_id) {
  core::error_detail err;
  const std::optional<core::relay_settings> settings = settings_of(args, err);
  if (!settings) return fail(err, 2);
  std::vector<std::uint8_t> body;
  (void)core::encode_relay_settings(*settings, body); // checked by settings_of()
  std::string why;
  control_request request;
  if (!relay_request(args, device_id, std::as_bytes(std::span(body)), request, why))
    return bad_argument(why);

  // The answer: this app's ticket then `v1 ok re=SEQ` (the settings are stored), or
  // `v1 error re=SEQ`. A ticket also comes unasked after the handshake (the accessory's
  // settings before this request): only the one before the ok is this request's.
  std::vector<std::uint8_t> ticket;
  std::shared_ptr<trust::trust_store> store;
  const core::error_detail outcome = exchange_control(
      args, request,
      [&](std::span<const std::byte> payload,
          std::uint64_t seq) -> std::optional<core::error_detail> {
        if (!payload.empty() && std::to_integer<std::uint8_t>(payload[0]) == 1) {
          const auto* data = reinterpret_cast<const std::uint8_t*>(payload.data());
          ticket.assign(data, data + payload.size());
          return std::nullopt;
        }
        const std::optional<core::app_message> answer = answer_to(payload, seq);
        if (!answer) return std::nullopt;
        if (answer->verb == "ok") {
          if (ticket.empty())
            return core::error_detail{trust::trust_errc::request_refused,
                                      "the accessory stored the settings but sent no ticket"};
          return store->save_relay_ticket(device_id, ticket);
        }
        return refusal_of(*answer);
      },
      &store);
  if (outcome.failed()) return fail(outcome, 1);
  if (!json_output) std::printf("relay set; ticket stored\n");
  return 0;
}

int switch_off(const parsed_args& args, const std::string& device_id) {
  static constexpr std::string_view off = "v1 relay_off";
  std::string why;
  control_request request;
  if (!relay_request(args, device_id, std::as_bytes(std::span(off)), request, why))
    return bad_argument(why);
  // The answer: `v1 ok re=SEQ` (settings deleted, the broker left) or `v1 error re=SEQ`. A
  // ticket may come first, unasked after the handshake: not this request's answer.
  std::shared_ptr<trust::trust_store> store;
  const core::error_detail outcome = exchange_control(
      args, request,
      [&](std::span<const std::byte> payload,
          std::uint64_t seq) -> std::optional<core::error_detail> {
        const std::optional<core::app_message> answer = answer_to(payload, seq);
        if (!answer) return std::nullopt;
        if (answer->verb == "ok") return store->forget_relay_ticket(device_id);
        return refusal_of(*answer);
      },
      &store);
  if (outcome.failed()) return fail(outcome, 1);
  if (!json_output) std::printf("relay off; ticket deleted\n");
  return 0;
}

int run(const parsed_args& args) {
  json_output = args.has("json");
  const std::string& what = args.positional[0];
  if (args.positional.size() != 2)
    return bad_argument("usage: lanyard relay inbox|show|set|off ID [options]");
  const std::string& device_id = args.positional[1];
  if (what == "inbox") return show_inbox(args, device_id);
  if (what == "show") return show_ticket(args, device_id);
  if (what == "set") return set_settings(args, device_id);
  if (what == "off") return switch_off(args, device_id);
  return bad_argument("unknown relay action '" + core::display_text(what) +
                      "' (expected inbox, show, set or off)");
}

const command cmd{
    "relay",
    "set an accessory's relay up (an MQTT broker) or off, show its ticket or inbox",
    "usage: lanyard relay inbox ID [options]\n"
    "       lanyard relay show ID [options]\n"
    "       lanyard relay set ID --broker HOST[:PORT] --ca FILE --accessory-password-file FILE\n"
    "                            --household-account NAME --household-password-file FILE\n"
    "                            [options]\n"
    "       lanyard relay off ID [options]\n"
    "\n"
    "The relay carries the channel through an MQTT broker when no local path reaches the\n"
    "accessory (docs/design/relay.md); the channel's pinned TLS runs end to end through it.\n"
    "`inbox` prints the accessory's inbox id, its user name at the broker. `set` (an admin of\n"
    "ID) stores the broker settings in the accessory, which then gives every paired app a\n"
    "ticket; this app's is stored with the pin. `show` prints the stored ticket's broker,\n"
    "household account and inbox (never a password or key). `off` (an admin of ID) switches\n"
    "the relay off: the accessory deletes its settings and leaves the broker; this app's\n"
    "ticket is deleted (other apps' tickets then open nothing).\n"
    "\n"
    "options:\n"
    "  --broker HOST[:PORT]            the broker (TLS; port 8883 by default)\n"
    "  --ca FILE                       PEM of the CA that signs the broker's certificate\n"
    "  --accessory-password-file FILE  the accessory's broker password (one line)\n"
    "  --household-account NAME        the apps' shared broker account\n"
    "  --household-password-file FILE  its password (one line)\n"
    "  --address HOST:PORT  connect there instead of browsing for ID (DNS-SD)\n"
    "  --json               one JSON object; a failure: one error event on stdout\n"
    "  --timeout SECONDS    give up after this long (default 10)\n"
    "  --trust-store PATH   the trust store (default: $XDG_STATE_HOME/lanyard/trust-store)\n"
    "  --identity-dir DIR   this controller's key and certificate\n"
    "\n"
    "exit status: 0 done, 1 refused or unreachable, 2 bad arguments\n",
    {{{"broker", true, false},
      {"ca", true, false},
      {"accessory-password-file", true, false},
      {"household-account", true, false},
      {"household-password-file", true, false},
      {"address", true, false},
      {"json", false, false},
      {"timeout", true, false},
      {"trust-store", true, false},
      {"identity-dir", true, false}},
     2,
     2},
    run};

const command_registrar reg{cmd};

} // namespace
} // namespace lanyard::cli
