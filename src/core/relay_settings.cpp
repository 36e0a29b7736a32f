#include <lanyard/core/relay_settings.hpp>

#include <lanyard/core/error_condition.hpp>

#include <algorithm>

namespace lanyard::core {
namespace {

class relay_settings_category_impl final : public lanyard_category {
public:
  const char* name() const noexcept override { return "lanyard.relay_settings"; }

#if LANYARD_ERROR_MESSAGES // else lanyard_category::message() names the code
  std::string message(int value) const override {
    switch (static_cast<relay_settings_errc>(value)) {
    case relay_settings_errc::truncated:
      return "relay settings truncated: a field's length runs past the end";
    case relay_settings_errc::bad_version:
      return "relay settings of another version: update the app or the accessory";
    case relay_settings_errc::bad_kind:
      return "relay settings of the wrong kind (settings where a ticket was expected, or the "
             "reverse)";
    case relay_settings_errc::unknown_field:
      return "relay settings hold a field this version does not have";
    case relay_settings_errc::duplicate_field:
      return "relay settings hold a field twice";
    case relay_settings_errc::missing_field:
      return "relay settings lack a required field";
    case relay_settings_errc::bad_value:
      return "a relay settings field is out of its bounds";
    }
    return "unknown relay settings error " + std::to_string(value);
  }
#endif

  std::string_view code_name(int code) const noexcept override {
    switch (static_cast<relay_settings_errc>(code)) {
    case relay_settings_errc::truncated:
      return "truncated";
    case relay_settings_errc::bad_version:
      return "bad_version";
    case relay_settings_errc::bad_kind:
      return "bad_kind";
    case relay_settings_errc::unknown_field:
      return "unknown_field";
    case relay_settings_errc::duplicate_field:
      return "duplicate_field";
    case relay_settings_errc::missing_field:
      return "missing_field";
    case relay_settings_errc::bad_value:
      return "bad_value";
    }
    return {};
  }

  condition_set conditions(int code) const noexcept override {
    using enum condition;
    switch (static_cast<relay_settings_errc>(code)) {
    case relay_settings_errc::bad_version:
      return {protocol_violation, permanent};
    case relay_settings_errc::truncated:
    case relay_settings_errc::bad_kind:
    case relay_settings_errc::unknown_field:
    case relay_settings_errc::duplicate_field:
    case relay_settings_errc::missing_field:
    case relay_settings_errc::bad_value:
      return {protocol_violation};
    }
    return {};
  }
};

enum field : std::uint8_t {
  host = 1,
  port = 2,
  ca = 3,
  accessory_password = 4,
  household_account = 5,
  household_password = 6,
  accessory_inbox = 7,
  relay_key = 8,
};
constexpr std::uint8_t kind_settings = 1, kind_ticket = 2;
constexpr unsigned bit(std::uint8_t f) {
  return 1u << f;
}
constexpr unsigned settings_fields = bit(host) | bit(port) | bit(ca) | bit(accessory_password) |
                                     bit(household_account) | bit(household_password);
constexpr unsigned ticket_fields = bit(host) | bit(port) | bit(ca) | bit(household_account) |
                                   bit(household_password) | bit(accessory_inbox) | bit(relay_key);

std::string_view as_text(std::span<const std::uint8_t> v) {
  return {reinterpret_cast<const char*>(v.data()), v.size()};
}

bool valid_host(std::string_view h) {
  return !h.empty() && h.size() <= 253 && std::all_of(h.begin(), h.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == ':';
  });
}

bool valid_ca(std::string_view pem) {
  return !pem.empty() && pem.size() <= 8192 &&
         pem.find("-----BEGIN CERTIFICATE-----") != std::string_view::npos &&
         std::all_of(pem.begin(), pem.end(),
                     [](char c) { return c == '\n' || c == '\r' || (c >= 0x20 && c <= 0x7E); });
}

// libmosquitto takes C strings: no NUL inside.
bool valid_password(std::string_view p) {
  return !p.empty() && p.size() <= 256 && p.find('\0') == std::string_view::npos;
}

bool valid_broker(const relay_broker& b) {
  return valid_host(b.host) && b.port != 0 && valid_ca(b.ca_pem);
}

void put(std::vector<std::uint8_t>& out, std::uint8_t type, std::span<const std::uint8_t> v) {
  out.push_back(type);
  out.push_back(static_cast<std::uint8_t>(v.size() >> 8));
  out.push_back(static_cast<std::uint8_t>(v.size()));
  out.insert(out.end(), v.begin(), v.end());
}
void put(std::vector<std::uint8_t>& out, std::uint8_t type, std::string_view v) {
  put(out, type, {reinterpret_cast<const std::uint8_t*>(v.data()), v.size()});
}
void put_household(std::vector<std::uint8_t>& out, std::string_view account,
                   std::string_view password) {
  put(out, household_account, account);
  put(out, household_password, password);
}
void put_broker(std::vector<std::uint8_t>& out, const relay_broker& b) {
  put(out, host, b.host);
  const std::uint8_t p[2] = {static_cast<std::uint8_t>(b.port >> 8),
                             static_cast<std::uint8_t>(b.port)};
  put(out, port, p);
  put(out, ca, b.ca_pem);
}

// Walks the fields of `in` (header checked for `kind`), calling take(type, value) for each
// after the framing, allowed-type and duplicate checks; then checks the required set.
template <class Take>
std::error_code walk(std::span<const std::uint8_t> in, std::uint8_t kind, unsigned allowed,
                     std::uint8_t* where, Take take) {
  if (where) *where = 0;
  if (in.size() < 2) return relay_settings_errc::truncated;
  if (in[0] != 1) return relay_settings_errc::bad_version;
  if (in[1] != kind) return relay_settings_errc::bad_kind;
  unsigned seen = 0;
  std::size_t at = 2;
  while (at < in.size()) {
    if (in.size() - at < 3) return relay_settings_errc::truncated;
    const std::uint8_t type = in[at];
    if (where) *where = type;
    const std::size_t len = std::size_t{in[at + 1]} << 8 | in[at + 2];
    at += 3;
    if (in.size() - at < len) return relay_settings_errc::truncated;
    if (type >= 32 || !(allowed & bit(type))) return relay_settings_errc::unknown_field;
    if (seen & bit(type)) return relay_settings_errc::duplicate_field;
    seen |= bit(type);
    if (!take(type, in.subspan(at, len))) return relay_settings_errc::bad_value;
    at += len;
  }
  for (std::uint8_t f = 1; f < 32; ++f)
    if ((allowed & bit(f)) && !(seen & bit(f))) {
      if (where) *where = f;
      return relay_settings_errc::missing_field;
    }
  if (where) *where = 0;
  return {};
}

// The fields settings and tickets share: the broker and the household's account.
bool take_shared(relay_broker& b, std::string& account, std::string& password, std::uint8_t type,
                 std::span<const std::uint8_t> v) {
  switch (type) {
  case household_account:
    account = as_text(v);
    return valid_relay_account(account);
  case household_password:
    password = as_text(v);
    return valid_password(password);
  case host:
    b.host = as_text(v);
    return valid_host(b.host);
  case port:
    if (v.size() != 2) return false;
    b.port = static_cast<std::uint16_t>(v[0] << 8 | v[1]);
    return b.port != 0;
  case ca:
    b.ca_pem = as_text(v);
    return valid_ca(b.ca_pem);
  default:
    return false;
  }
}

} // namespace

const std::error_category& relay_settings_category() noexcept {
  static const relay_settings_category_impl category;
  return category;
}

std::string relay_settings_field_name(std::uint8_t type) {
  switch (type) {
  case host:
    return "broker host";
  case port:
    return "broker port";
  case ca:
    return "broker CA";
  case accessory_password:
    return "accessory password";
  case household_account:
    return "household account";
  case household_password:
    return "household password";
  case accessory_inbox:
    return "accessory inbox";
  case relay_key:
    return "relay key";
  default:
    return "field " + std::to_string(type);
  }
}

std::error_code encode_relay_settings(const relay_settings& s, std::vector<std::uint8_t>& out) {
  if (!valid_broker(s.broker) || !valid_password(s.accessory_password) ||
      !valid_relay_account(s.household_account) || !valid_password(s.household_password))
    return relay_settings_errc::bad_value;
  out.push_back(1);
  out.push_back(kind_settings);
  put_broker(out, s.broker);
  put(out, accessory_password, s.accessory_password);
  put_household(out, s.household_account, s.household_password);
  return {};
}

std::error_code encode_relay_ticket(const relay_ticket& t, std::vector<std::uint8_t>& out) {
  if (!valid_broker(t.broker) || !valid_relay_account(t.household_account) ||
      !valid_password(t.household_password) || !valid_relay_inbox(t.accessory_inbox))
    return relay_settings_errc::bad_value;
  out.push_back(1);
  out.push_back(kind_ticket);
  put_broker(out, t.broker);
  put_household(out, t.household_account, t.household_password);
  put(out, accessory_inbox, t.accessory_inbox);
  put(out, relay_key, t.relay_key);
  return {};
}

std::error_code decode_relay_settings(std::span<const std::uint8_t> in, relay_settings& out,
                                      std::uint8_t* field) {
  return walk(in, kind_settings, settings_fields, field,
              [&](std::uint8_t type, std::span<const std::uint8_t> v) {
                if (type == accessory_password) {
                  out.accessory_password = as_text(v);
                  return valid_password(out.accessory_password);
                }
                return take_shared(out.broker, out.household_account, out.household_password, type,
                                   v);
              });
}

std::error_code decode_relay_ticket(std::span<const std::uint8_t> in, relay_ticket& out,
                                    std::uint8_t* field) {
  return walk(in, kind_ticket, ticket_fields, field,
              [&](std::uint8_t type, std::span<const std::uint8_t> v) {
                switch (type) {
                case accessory_inbox:
                  out.accessory_inbox = as_text(v);
                  return valid_relay_inbox(out.accessory_inbox);
                case relay_key:
                  if (v.size() != out.relay_key.size()) return false;
                  std::copy(v.begin(), v.end(), out.relay_key.begin());
                  return true;
                default:
                  return take_shared(out.broker, out.household_account, out.household_password,
                                     type, v);
                }
              });
}

} // namespace lanyard::core
