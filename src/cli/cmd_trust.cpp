// lanyard trust list|show ID|forget ID [--trust-store PATH] [--json]: inspects and edits the
// app's trust store (the pinned keys of known accessories).
#include "cli_error.hpp"
#include "command.hpp"
#include "json.hpp"
#include "lanyard/trust/error.hpp"
#include "lanyard/trust/trust_store.hpp"
#include "report.hpp"

#include <cstdio>
#include <string>

namespace lanyard::cli {
namespace {

using namespace lanyard::trust;

// A sentence on stderr; with --json also an error event (code, file, line, mode) on stdout.
bool json_output = false;

int fail(const core::error_detail& e, int exit_status) {
  return report_failure("trust", json_output, e, exit_status);
}

void name_json(json_writer& w, const std::string& name) {
  w.key("name");
  if (is_utf8(name)) {
    w.value(name);
  } else {
    w.null();
    w.key("name_base64");
    w.value(base64(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(name.data()),
                                                 name.size())));
  }
}

void record_json(json_writer& w, const device_record& r) {
  w.begin_object();
  w.key("device_id").value(r.device_id);
  w.key("fingerprint").value(core::to_string(r.fingerprint));
  w.key("fingerprint_hex").value(core::to_string(r.fingerprint, core::fingerprint_format::hex));
  w.key("pinned_by").value(to_string(r.method));
  w.key("first_seen").value(trust::format_time(r.first_seen));
  w.key("last_seen").value(trust::format_time(r.last_seen));
  name_json(w, r.name);
  w.end_object();
}

// A name for one terminal line: control bytes shown as '?'.
std::string printable(const std::string& s) {
  std::string out;
  for (char c : s)
    out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) ? '?' : c;
  return out;
}

int run(const parsed_args& args) {
  const std::string& action = args.positional[0];
  const bool json = args.has("json");
  json_output = json;
  if (action != "list" && action != "show" && action != "forget")
    return fail({cli_errc::bad_argument,
                 "unknown action '" + action + "': expected list, show ID or forget ID"},
                2);
  if (action == "list" && args.positional.size() != 1)
    return fail({cli_errc::bad_argument, "'list' takes no device id"}, 2);
  if (action != "list" && args.positional.size() != 2)
    return fail({cli_errc::bad_argument,
                 "'" + action + "' needs a device id: lanyard trust " + action + " ID"},
                2);

  std::filesystem::path path;
  if (auto p = args.value("trust-store")) {
    path = *p;
  } else if (store_status s = trust_store::default_path(path); s.failed()) {
    return fail(s, 1);
  }
  trust_store store(path);
  if (store_status s = store.load(); s.failed()) return fail(s, 1);

  if (action == "list") {
    const auto records = store.list();
    if (json) {
      json_writer w;
      w.begin_object().key("trust_store").value(path.string()).key("devices").begin_array();
      for (const auto& r : records)
        record_json(w, r);
      w.end_array().end_object();
      std::printf("%s\n", w.str().c_str());
      return 0;
    }
    if (records.empty()) {
      std::printf("no devices pinned in %s\n", path.string().c_str());
      return 0;
    }
    for (const auto& r : records)
      std::printf("%s  %s  %-8s  last seen %s  %s\n", r.device_id.c_str(),
                  core::to_string(r.fingerprint).c_str(), std::string(to_string(r.method)).c_str(),
                  trust::format_time(r.last_seen).c_str(), printable(r.name).c_str());
    return 0;
  }

  const std::string& id = args.positional[1];
  const auto record = store.find(id);
  if (!record)
    return fail(
        core::error_detail{trust_errc::unknown_device,
                           "device \"" + id + "\" is not in the trust store " + path.string()}
            .with(core::field_key::device_id, id)
            .with(core::field_key::file, path.string()),
        1);
  if (action == "show") {
    if (json) {
      json_writer w;
      record_json(w, *record);
      std::printf("%s\n", w.str().c_str());
      return 0;
    }
    std::printf("device:       %s\n"
                "name:         %s\n"
                "fingerprint:  %s\n"
                "              %s\n"
                "pinned by:    %s\n"
                "first seen:   %s\n"
                "last seen:    %s\n",
                record->device_id.c_str(), printable(record->name).c_str(),
                core::to_string(record->fingerprint).c_str(),
                core::to_string(record->fingerprint, core::fingerprint_format::hex_colon).c_str(),
                record->method == pin_method::verified_payload
                    ? "verified against its setup payload"
                    : "trust on first use",
                trust::format_time(record->first_seen).c_str(),
                trust::format_time(record->last_seen).c_str());
    return 0;
  }

  // forget
  if (store_status s = store.forget(id); s.failed()) return fail(s, 1);
  if (json) {
    json_writer w;
    w.begin_object().key("forgotten").value(id);
    w.key("fingerprint").value(core::to_string(record->fingerprint));
    w.end_object();
    std::printf("%s\n", w.str().c_str());
  } else {
    std::printf("forgot %s (%s); it must be paired again before it is trusted\n", id.c_str(),
                core::to_string(record->fingerprint).c_str());
  }
  return 0;
}

const command cmd{
    "trust",
    "list, show or forget the accessories whose keys are pinned",
    "usage: lanyard trust list [options]\n"
    "       lanyard trust show ID [options]\n"
    "       lanyard trust forget ID [options]\n"
    "\n"
    "The trust store maps each paired accessory's device id to the key (fingerprint) it must\n"
    "present. 'list' prints every pin, 'show' one of them, 'forget' removes one: do that when an\n"
    "accessory was reset or replaced and is refused because its key changed, then pair again.\n"
    "\n"
    "options:\n"
    "  --trust-store PATH  the trust store file (default: $XDG_STATE_HOME/lanyard/trust-store,\n"
    "                      else ~/.local/state/lanyard/trust-store)\n"
    "  --json              print one JSON object instead of text; on failure\n"
    "                      {\"event\":\"error\",\"code\":...,\"fields\":{...}}\n"
    "\n"
    "exit status: 0 done, 1 failed (unknown device, damaged or unreadable store), 2 usage error\n",
    arg_spec{{{"trust-store", true, false}, {"json", false, false}}, 1, 2},
    run,
};
const command_registrar reg{cmd};

} // namespace
} // namespace lanyard::cli
