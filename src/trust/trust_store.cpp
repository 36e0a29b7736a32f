#include "lanyard/trust/trust_store.hpp"

#include "atomic_file.hpp"
#include "lanyard/core/device_id.hpp"
#include "state_file.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

namespace lanyard::trust {
namespace {

constexpr std::string_view magic = "lanyard-trust-store";

bool parse_hex_fingerprint(std::string_view text, core::fingerprint& out) {
  if (text.size() != 2 * core::fingerprint::size) return false;
  for (char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  const auto r = core::parse_fingerprint(text);
  if (!r) return false;
  out = r.value;
  return true;
}

std::string date_only(std::chrono::system_clock::time_point t) {
  return detail::format_time(t).substr(0, 10);
}

} // namespace

std::string format_time(std::chrono::system_clock::time_point t) {
  return detail::format_time(t);
}

std::string_view to_string(pin_method m) noexcept {
  switch (m) {
  case pin_method::verified_payload:
    return "verified";
  case pin_method::tofu:
    return "tofu";
  case pin_method::setup_code:
    return "code";
  }
  return "tofu";
}

std::string trust_decision::describe() const {
  // Valid ids are printed whole; anything else is escaped and shortened.
  const std::string id = core::is_valid_device_id(device_id)
                             ? "device \"" + device_id + "\""
                             : "device " + detail::excerpt(device_id);
  switch (action) {
  case trust_action::accept:
    return id + " presented its pinned key " + core::to_string(presented);
  case trust_action::pin_new:
    return id + " is new; its key " + core::to_string(presented) + " will be pinned (" +
           std::string(method == pin_method::verified_payload ? "verified against its setup payload"
                       : method == pin_method::setup_code
                           ? "verified by its setup code"
                           : "trust on first use: compare this fingerprint with the device's") +
           ")";
  case trust_action::refuse:
    break;
  }
  if (code == trust_errc::key_changed && pinned)
    return id + " presented a different key: pinned " + core::to_string(*pinned) +
           (pinned_since ? " (since " + date_only(*pinned_since) + ")" : std::string()) +
           ", presented " + core::to_string(presented) +
           "; refusing to connect. If the accessory was reset or replaced, run \"lanyard trust "
           "forget " +
           device_id + "\" and pair again; otherwise someone may be impersonating it.";
  if (code == trust_errc::payload_mismatch && expected)
    return id + " presented key " + core::to_string(presented) + " but its setup payload says " +
           core::to_string(*expected) +
           "; refusing to connect: this is not the device the payload describes.";
  if (code == trust_errc::unknown_device)
    return id + " is not in the trust store (strict mode); it presented " +
           core::to_string(presented) + ". Pair with it first.";
  if (code == trust_errc::invalid_record)
    return "device id " + detail::excerpt(device_id) +
           " is not valid (1-64 characters from A-Z a-z 0-9 . _ : -); refusing to connect.";
  if (code == trust_errc::payload_required)
    return id +
           " is not paired yet and verified pairing needs its setup payload; scan its "
           "code, or pair with --tofu after checking its fingerprint " +
           core::to_string(presented) + ".";
  return id + ": " + code.message();
}

trust_decision check_trust(const std::optional<device_record>& known, std::string_view device_id,
                           const core::fingerprint& presented, trust_mode mode,
                           const std::optional<core::fingerprint>& expected) {
  trust_decision d;
  d.device_id = std::string(device_id);
  d.presented = presented;
  d.expected = expected;
  // An id that could never be stored (from a certificate CN, say) is refused up front rather
  // than after a handshake whose pin would then fail.
  if (!core::is_valid_device_id(device_id)) {
    d.code = trust_errc::invalid_record;
    return d;
  }
  if (known) {
    d.pinned = known->fingerprint;
    d.pinned_since = known->first_seen;
    d.method = known->method;
    if (presented != known->fingerprint) {
      d.code = trust_errc::key_changed;
    } else if (expected && *expected != presented) {
      d.code = trust_errc::payload_mismatch;
    } else {
      d.action = trust_action::accept;
    }
    return d;
  }
  switch (mode) {
  case trust_mode::strict:
    d.code = trust_errc::unknown_device;
    return d;
  case trust_mode::verified_first_use:
    if (!expected) {
      d.code = trust_errc::payload_required;
      return d;
    }
    break;
  case trust_mode::tofu:
    break;
  }
  if (expected && *expected != presented) {
    d.code = trust_errc::payload_mismatch;
    return d;
  }
  d.action = trust_action::pin_new;
  d.method = expected ? pin_method::verified_payload : pin_method::tofu;
  return d;
}

store_status trust_decision::to_error_detail() const {
  store_status s{code, describe()};
  s.with(core::field_key::device_id, device_id)
      .with(core::field_key::fingerprint_presented, core::to_string(presented));
  if (pinned) s.with(core::field_key::fingerprint_pinned, core::to_string(*pinned));
  if (expected) s.with(core::field_key::fingerprint_expected, core::to_string(*expected));
  return s;
}

trust_store::trust_store(std::filesystem::path path) : path_(std::move(path)) {}

store_status trust_store::default_path(std::filesystem::path& out) {
  const char* state = std::getenv("XDG_STATE_HOME");
  if (state != nullptr && state[0] == '/') {
    out = std::filesystem::path(state) / "lanyard" / "trust-store";
    return {};
  }
  const char* home = std::getenv("HOME");
  if (home != nullptr && home[0] == '/') {
    out = std::filesystem::path(home) / ".local" / "state" / "lanyard" / "trust-store";
    return {};
  }
  return store_status{make_error_code(trust_errc::store_io),
                      "no trust store location: neither XDG_STATE_HOME nor HOME is set to an "
                      "absolute path; pass --trust-store PATH"}
      .with(core::field_key::problem, std::string("no_location"));
}

store_status trust_store::parse(std::string_view text, std::string_view file,
                                std::vector<device_record>& out) {
  out.clear();
  std::map<std::string, std::size_t, std::less<>> seen; // id → line
  return detail::parse_state_file(
      text, file, magic,
      [&](std::size_t line, const std::vector<std::string_view>& f) -> store_status {
        if (f[0] != "device")
          return detail::corrupt(file, line, "unknown_record",
                                 "unknown record " + detail::excerpt(f[0]) +
                                     " (expected \"device\")");
        if (f.size() != 7)
          return detail::corrupt(file, line, "field_count",
                                 "expected 7 fields (device ID FINGERPRINT METHOD FIRST-SEEN "
                                 "LAST-SEEN NAME), found " +
                                     std::to_string(f.size()));
        device_record r;
        if (!core::is_valid_device_id(f[1]))
          return detail::corrupt(file, line, "invalid_device_id",
                                 "invalid device id " + detail::excerpt(f[1]));
        r.device_id = std::string(f[1]);
        if (auto it = seen.find(r.device_id); it != seen.end())
          return detail::corrupt(file, line, "duplicate_device",
                                 "device " + detail::excerpt(f[1]) +
                                     " is pinned twice (first on line " +
                                     std::to_string(it->second) + ")");
        seen.emplace(r.device_id, line);
        if (!parse_hex_fingerprint(f[2], r.fingerprint))
          return detail::corrupt(file, line, "invalid_fingerprint",
                                 "invalid fingerprint " + detail::excerpt(f[2]) +
                                     " (expected 64 lowercase hex digits)");
        if (f[3] == "verified")
          r.method = pin_method::verified_payload;
        else if (f[3] == "tofu")
          r.method = pin_method::tofu;
        else if (f[3] == "code")
          r.method = pin_method::setup_code;
        else
          return detail::corrupt(file, line, "invalid_pin_method",
                                 "invalid pin method " + detail::excerpt(f[3]) +
                                     " (expected \"verified\", \"tofu\" or \"code\")");
        if (!detail::parse_time(f[4], r.first_seen))
          return detail::corrupt(file, line, "invalid_first_seen",
                                 "invalid first-seen time " + detail::excerpt(f[4]) +
                                     " (expected YYYY-MM-DDTHH:MM:SSZ)");
        if (!detail::parse_time(f[5], r.last_seen))
          return detail::corrupt(file, line, "invalid_last_seen",
                                 "invalid last-seen time " + detail::excerpt(f[5]) +
                                     " (expected YYYY-MM-DDTHH:MM:SSZ)");
        if (!detail::decode_text(f[6], r.name) || r.name.size() > max_name_length)
          return detail::corrupt(file, line, "invalid_name",
                                 "invalid name " + detail::excerpt(f[6]));
        out.push_back(std::move(r));
        return {};
      });
}

std::string trust_store::serialize(const std::vector<device_record>& records) {
  std::vector<const device_record*> sorted;
  sorted.reserve(records.size());
  for (const auto& r : records)
    sorted.push_back(&r);
  std::sort(sorted.begin(), sorted.end(), [](const device_record* a, const device_record* b) {
    return a->device_id < b->device_id;
  });
  std::string text = std::string(magic) + " 1\n";
  for (const device_record* r : sorted) {
    text += "device " + r->device_id + " " +
            core::to_string(r->fingerprint, core::fingerprint_format::hex) + " " +
            std::string(to_string(r->method)) + " " + detail::format_time(r->first_seen) + " " +
            detail::format_time(r->last_seen) + " " + detail::encode_text(r->name) + "\n";
  }
  detail::finish_state_file(text, sorted.size());
  return text;
}

store_status trust_store::read_locked(record_map& out) const {
  std::string text;
  bool exists = false;
  if (store_status s = detail::read_private_file(path_, text, exists); s.failed()) return s;
  out.clear();
  if (!exists) return {};
  std::vector<device_record> records;
  if (store_status s = parse(text, path_.string(), records); s.failed()) return s;
  for (auto& r : records) {
    std::string id = r.device_id;
    out.emplace(std::move(id), std::move(r));
  }
  return {};
}

store_status trust_store::load() {
  std::lock_guard guard(mutex_);
  record_map fresh;
  if (store_status s = read_locked(fresh); s.failed()) return s;
  records_ = std::move(fresh);
  return {};
}

template <class Change>
store_status trust_store::modify(Change change) {
  std::lock_guard guard(mutex_);
  detail::file_lock lock;
  if (store_status s = detail::file_lock::acquire(path_, lock); s.failed()) return s;
  // Re-read under the lock: another process may have changed the file, and a damaged file must
  // be reported, never overwritten.
  record_map current;
  if (store_status s = read_locked(current); s.failed()) return s;
  if (store_status s = change(current); s.failed()) {
    records_ = std::move(current);
    return s;
  }
  std::vector<device_record> all;
  all.reserve(current.size());
  for (const auto& [id, r] : current)
    all.push_back(r);
  if (store_status s = detail::write_file_atomically(path_, serialize(all)); s.failed()) return s;
  records_ = std::move(current);
  return {};
}

std::vector<device_record> trust_store::list() const {
  std::lock_guard guard(mutex_);
  std::vector<device_record> out;
  out.reserve(records_.size());
  for (const auto& [id, r] : records_)
    out.push_back(r);
  return out;
}

std::optional<device_record> trust_store::find(std::string_view device_id) const {
  std::lock_guard guard(mutex_);
  auto it = records_.find(device_id);
  if (it == records_.end()) return std::nullopt;
  return it->second;
}

trust_decision trust_store::check(std::string_view device_id, const core::fingerprint& presented,
                                  trust_mode mode,
                                  const std::optional<core::fingerprint>& expected) const {
  return check_trust(find(device_id), device_id, presented, mode, expected);
}

store_status trust_store::pin(std::string_view device_id, const core::fingerprint& fp,
                              pin_method method, std::string_view name, time_point now) {
  if (!core::is_valid_device_id(device_id))
    return {make_error_code(trust_errc::invalid_record),
            "invalid device id " + detail::excerpt(device_id) +
                ": 1-64 characters from A-Z a-z 0-9 . _ : -"};
  if (name.size() > max_name_length)
    return {make_error_code(trust_errc::invalid_record),
            "device name is " + std::to_string(name.size()) + " bytes; at most " +
                std::to_string(max_name_length)};
  const time_point t = std::chrono::floor<std::chrono::seconds>(now);
  return modify([&](record_map& records) -> store_status {
    auto it = records.find(device_id);
    if (it != records.end()) {
      device_record& r = it->second;
      if (r.fingerprint != fp) {
        return check_trust(r, device_id, fp, trust_mode::strict).to_error_detail();
      }
      if (!name.empty()) r.name = std::string(name);
      r.last_seen = t;
      return {};
    }
    device_record r;
    r.device_id = std::string(device_id);
    r.fingerprint = fp;
    r.name = std::string(name);
    r.method = method;
    r.first_seen = r.last_seen = t;
    records.emplace(r.device_id, std::move(r));
    return {};
  });
}

store_status trust_store::commit(const trust_decision& decision, std::string_view name,
                                 time_point now) {
  switch (decision.action) {
  case trust_action::pin_new:
    return pin(decision.device_id, decision.presented, decision.method, name, now);
  case trust_action::accept:
    return touch(decision.device_id, now);
  case trust_action::refuse:
    break;
  }
  return decision.to_error_detail();
}

store_status trust_store::forget(std::string_view device_id) {
  store_status s = modify([&](record_map& records) -> store_status {
    auto it = records.find(device_id);
    if (it == records.end())
      return {make_error_code(trust_errc::unknown_device), "device " + detail::excerpt(device_id) +
                                                               " is not in the trust store " +
                                                               path_.string()};
    records.erase(it);
    return {};
  });
  if (s.failed()) return s;
  // The ticket goes with the pin: its relay key is this app's, for that accessory only.
  return forget_relay_ticket(device_id);
}

// --- relay tickets ------------------------------------------------------------------------------

// Suffixed, so that no device id ("." is one) names the directory itself.
std::filesystem::path trust_store::relay_ticket_path(std::string_view device_id) const {
  return path_.parent_path() / "relay-tickets" / (std::string(device_id) + ".ticket");
}

std::filesystem::path trust_store::relay_ca_path(std::string_view device_id) const {
  return path_.parent_path() / "relay-tickets" / (std::string(device_id) + ".ca.pem");
}

store_status trust_store::save_relay_ticket(std::string_view device_id,
                                            std::span<const std::uint8_t> encoded) {
  if (!find(device_id))
    return {make_error_code(trust_errc::unknown_device),
            "relay ticket of device " + detail::excerpt(device_id) +
                " not stored: it is not pinned in " + path_.string()};
  core::relay_ticket t;
  std::uint8_t field = 0;
  if (auto ec = core::decode_relay_ticket(encoded, t, &field))
    return {make_error_code(trust_errc::invalid_record),
            "relay ticket of device " + detail::excerpt(device_id) + " not stored: " +
                ec.message() + " (" + core::relay_settings_field_name(field) + ")"};
  std::lock_guard lock(mutex_);
  const std::filesystem::path ticket = relay_ticket_path(device_id);
  detail::file_lock held;
  if (auto st = detail::file_lock::acquire(ticket, held); st.failed()) return st;
  // The CA first: a ticket on disk always has its CA beside it.
  if (auto st = detail::write_file_atomically(relay_ca_path(device_id), t.broker.ca_pem);
      st.failed())
    return st;
  return detail::write_file_atomically(
      ticket, std::string_view(reinterpret_cast<const char*>(encoded.data()), encoded.size()));
}

store_status trust_store::forget_relay_ticket(std::string_view device_id) {
  // The ticket first: a ticket on disk always has its CA beside it.
  for (const auto& file : {relay_ticket_path(device_id), relay_ca_path(device_id)})
    if (::unlink(file.c_str()) != 0 && errno != ENOENT)
      return detail::io_error(file, "cannot delete", errno);
  return {};
}

std::optional<core::relay_ticket> trust_store::relay_ticket(std::string_view device_id,
                                                            store_status* error) const {
  if (error) *error = {};
  if (!core::is_valid_device_id(device_id)) return std::nullopt;
  const std::filesystem::path file = relay_ticket_path(device_id);
  std::string bytes;
  bool exists = false;
  if (store_status st = detail::read_private_file(file, bytes, exists); st.failed()) {
    if (error) *error = std::move(st);
    return std::nullopt;
  }
  if (!exists) return std::nullopt;
  core::relay_ticket t;
  std::uint8_t field = 0;
  const auto* data = reinterpret_cast<const std::uint8_t*>(bytes.data());
  if (auto ec = core::decode_relay_ticket({data, bytes.size()}, t, &field)) {
    if (error)
      *error = store_status{make_error_code(trust_errc::store_corrupt),
                            file.string() + ": the relay ticket does not decode (" + ec.message() +
                                ", " + core::relay_settings_field_name(field) +
                                "); connect at home once to get a new one"}
                   .with(core::field_key::file, file.string());
    return std::nullopt;
  }
  return t;
}

store_status trust_store::touch(std::string_view device_id, time_point now) {
  return modify([&](record_map& records) -> store_status {
    auto it = records.find(device_id);
    if (it == records.end())
      return {make_error_code(trust_errc::unknown_device), "device " + detail::excerpt(device_id) +
                                                               " is not in the trust store " +
                                                               path_.string()};
    it->second.last_seen = std::chrono::floor<std::chrono::seconds>(now);
    return {};
  });
}

} // namespace lanyard::trust
