#include "lanyard/core/provisioning.hpp"

#include "lanyard/core/error_condition.hpp"

#include <algorithm>

namespace lanyard::core {
namespace {

constexpr std::string_view set_verb = "wifi_set";
constexpr std::string_view status_verb = "wifi_status";

class provisioning_category_impl final : public lanyard_category {
public:
  const char* name() const noexcept override { return "lanyard.provisioning"; }
#if LANYARD_ERROR_MESSAGES // else lanyard_category::message() names the code
  std::string message(int ev) const override {
    switch (static_cast<provisioning_errc>(ev)) {
    case provisioning_errc::not_provisioning:
      return "not a provisioning message";
    case provisioning_errc::missing_field:
      return "a provisioning message lacks a required field";
    case provisioning_errc::unknown_field:
      return "a provisioning message has a field its verb does not know";
    case provisioning_errc::bad_ssid:
      return "the Wi-Fi SSID must be 1 to 32 bytes (sent as hex)";
    case provisioning_errc::bad_passphrase:
      return "the Wi-Fi passphrase must be empty (open network), 8 to 63 bytes, or a 64-digit "
             "hex PSK (sent as hex)";
    case provisioning_errc::bad_state:
      return "the provisioning state must be connecting, connected or failed";
    case provisioning_errc::bad_reason:
      return "a failed provisioning needs reason auth_error, network_not_found or timeout";
    case provisioning_errc::bad_addresses:
      return "a connected report needs 1 to 8 comma-separated IP addresses";
    case provisioning_errc::bad_re:
      return "re must be a decimal sequence number";
    case provisioning_errc::wrong_passphrase:
      return "the accessory could not join the network: the passphrase was refused; check it and "
             "provision again";
    case provisioning_errc::network_not_found:
      return "the accessory sees no network with this name: check the SSID and that the "
             "accessory is in range";
    case provisioning_errc::join_timeout:
      return "the accessory did not get onto the network in time: check that the network is up "
             "and in range, then provision again";
    case provisioning_errc::not_admin:
      return "the accessory refused: only its admin (the first app paired with it) may "
             "provision it";
    case provisioning_errc::credentials_refused:
      return "the accessory refused the network credentials";
    }
    return "unknown provisioning error";
  }
#endif

  std::string_view code_name(int code) const noexcept override {
    switch (static_cast<provisioning_errc>(code)) {
    case provisioning_errc::not_provisioning:
      return "not_provisioning";
    case provisioning_errc::missing_field:
      return "missing_field";
    case provisioning_errc::unknown_field:
      return "unknown_field";
    case provisioning_errc::bad_ssid:
      return "bad_ssid";
    case provisioning_errc::bad_passphrase:
      return "bad_passphrase";
    case provisioning_errc::bad_state:
      return "bad_state";
    case provisioning_errc::bad_reason:
      return "bad_reason";
    case provisioning_errc::bad_addresses:
      return "bad_addresses";
    case provisioning_errc::bad_re:
      return "bad_re";
    case provisioning_errc::wrong_passphrase:
      return "wrong_passphrase";
    case provisioning_errc::network_not_found:
      return "network_not_found";
    case provisioning_errc::join_timeout:
      return "join_timeout";
    case provisioning_errc::not_admin:
      return "not_admin";
    case provisioning_errc::credentials_refused:
      return "credentials_refused";
    }
    return {};
  }

  // What callers branch on (lanyard/core/error_condition.hpp); docs/design/error-model.md
  // §2.3 argues each row.
  condition_set conditions(int code) const noexcept override {
    using enum condition;
    switch (static_cast<provisioning_errc>(code)) {
    case provisioning_errc::not_provisioning:
      return {};
    case provisioning_errc::missing_field:
    case provisioning_errc::unknown_field:
    case provisioning_errc::bad_ssid:
    case provisioning_errc::bad_passphrase:
    case provisioning_errc::bad_state:
    case provisioning_errc::bad_reason:
    case provisioning_errc::bad_addresses:
    case provisioning_errc::bad_re:
      return {protocol_violation, permanent};
    // A wrong passphrase or name stays wrong until a person fixes it; a slow network may not.
    case provisioning_errc::wrong_passphrase:
      return {authentication_failed, permanent};
    case provisioning_errc::network_not_found:
      return {permanent};
    case provisioning_errc::join_timeout:
      return {transient};
    case provisioning_errc::not_admin:
      return {refused_by_peer, policy, permanent};
    case provisioning_errc::credentials_refused:
      return {refused_by_peer, permanent};
    }
    return {};
  }
};

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::string to_hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    out += digits[b >> 4];
    out += digits[b & 0x0f];
  }
  return out;
}

// Hex into `out`: the bytes written, or nothing if `hex` is not lowercase hex or would not
// fit.
std::optional<std::size_t> from_hex(std::string_view hex, std::span<char> out) noexcept {
  if (hex.size() % 2 != 0 || hex.size() / 2 > out.size()) return std::nullopt;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = hex_value(hex[i]);
    const int lo = hex_value(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i / 2] = static_cast<char>((hi << 4) | lo);
  }
  return hex.size() / 2;
}

bool is_hex_psk(std::string_view p) noexcept {
  if (p.size() != 64) return false;
  for (char c : p)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  return true;
}

std::error_code validate_credentials(std::string_view ssid, std::string_view passphrase) noexcept {
  if (ssid.empty() || ssid.size() > wifi_credentials::max_ssid_length)
    return provisioning_errc::bad_ssid;
  const auto n = passphrase.size();
  if (n != 0 && !(n >= 8 && n <= 63) && !is_hex_psk(passphrase))
    return provisioning_errc::bad_passphrase;
  return {};
}

bool valid_address(std::string_view a) noexcept {
  if (a.empty() || a.size() > 45) return false;
  bool digit = false;
  for (char c : a) {
    const bool hexd = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hexd && c != '.' && c != ':') return false;
    digit = digit || hexd;
  }
  return digit;
}

bool only_fields(const app_message_view& m, std::initializer_list<std::string_view> allowed) {
  for (const app_message_field& f : m.fields()) {
    bool ok = false;
    for (auto a : allowed)
      ok = ok || f.key == a;
    if (!ok) return false;
  }
  return true;
}

bool only_fields(const app_message& m, std::initializer_list<std::string_view> allowed) {
  return only_fields(view_of(m), allowed);
}

} // namespace

const std::error_category& provisioning_category() noexcept {
  static const provisioning_category_impl c;
  return c;
}

std::string_view to_string(provisioning_state s) noexcept {
  switch (s) {
  case provisioning_state::connecting:
    return "connecting";
  case provisioning_state::connected:
    return "connected";
  case provisioning_state::failed:
    return "failed";
  }
  return "unknown";
}

std::string_view to_string(provisioning_failure f) noexcept {
  switch (f) {
  case provisioning_failure::auth_error:
    return "auth_error";
  case provisioning_failure::network_not_found:
    return "network_not_found";
  case provisioning_failure::timeout:
    return "timeout";
  }
  return "unknown";
}

std::error_code to_error_code(provisioning_failure f) noexcept {
  switch (f) {
  case provisioning_failure::auth_error:
    return provisioning_errc::wrong_passphrase;
  case provisioning_failure::network_not_found:
    return provisioning_errc::network_not_found;
  case provisioning_failure::timeout:
    return provisioning_errc::join_timeout;
  }
  return provisioning_errc::join_timeout;
}

std::error_code validate(const wifi_credentials& c) noexcept {
  return validate_credentials(c.ssid, c.passphrase);
}

std::error_code encode_wifi_credentials(const wifi_credentials& c, std::string& out) {
  if (auto ec = validate(c)) return ec;
  app_message m{std::string(set_verb)};
  m.set("ssid_hex", to_hex(c.ssid)).set("passphrase_hex", to_hex(c.passphrase));
  return encode_app_message(m, out);
}

std::error_code write_provisioning_progress(std::uint64_t re, provisioning_state state,
                                            std::span<const std::string_view> addresses,
                                            provisioning_failure reason,
                                            std::optional<app_message_writer>& out) noexcept {
  app_message_writer& w = out.emplace(status_verb);
  w.set("re", re).set("state", to_string(state));
  if (state == provisioning_state::connected) {
    if (addresses.empty() || addresses.size() > provisioning_progress::max_addresses)
      return provisioning_errc::bad_addresses;
    for (const std::string_view a : addresses)
      if (!valid_address(a)) return provisioning_errc::bad_addresses;
    // The list is one value: what would not fit is the writer's bad_value.
    std::array<char, app_message::max_value_length + 1> list;
    std::size_t size = 0;
    for (const std::string_view a : addresses) {
      const std::size_t need = a.size() + (size == 0 ? 0 : 1);
      if (size + need > list.size()) {
        size = list.size(); // too long: set() refuses it below
        break;
      }
      if (size != 0) list[size++] = ',';
      a.copy(list.data() + size, a.size());
      size += a.size();
    }
    w.set("addresses", std::string_view(list.data(), size));
  } else if (state == provisioning_state::failed) {
    w.set("reason", to_string(reason));
  }
  return w.error();
}

std::error_code encode_provisioning_progress(const provisioning_progress& p, std::string& out) {
  // Addresses count for connected only (the writer checks them there); other states ignore
  // them, as they always did.
  if (p.state == provisioning_state::connected &&
      p.addresses.size() > provisioning_progress::max_addresses)
    return provisioning_errc::bad_addresses;
  std::array<std::string_view, provisioning_progress::max_addresses> views;
  const std::size_t count = std::min(p.addresses.size(), views.size());
  for (std::size_t k = 0; k < count; ++k)
    views[k] = p.addresses[k];
  std::optional<app_message_writer> w;
  if (std::error_code ec =
          write_provisioning_progress(p.re, p.state, std::span(views.data(), count), p.reason, w))
    return ec;
  out.assign(w->text());
  return {};
}

std::error_code decode_wifi_credentials(const app_message& m, wifi_credentials& out) {
  return decode_wifi_credentials(view_of(m), out);
}

std::error_code decode_wifi_credentials(const app_message_view& m, wifi_credentials& out) {
  wifi_credentials_buffer b;
  if (std::error_code ec = decode_wifi_credentials(m, b)) return ec;
  const wifi_credentials_view v = b.view();
  out.ssid.assign(v.ssid);
  out.passphrase.assign(v.passphrase);
  return {};
}

std::error_code decode_wifi_credentials(const app_message_view& m,
                                        wifi_credentials_buffer& out) noexcept {
  if (m.verb != set_verb) return provisioning_errc::not_provisioning;
  if (!only_fields(m, {"ssid_hex", "passphrase_hex"})) return provisioning_errc::unknown_field;
  const auto ssid = m.get("ssid_hex");
  const auto pass = m.get("passphrase_hex");
  if (!ssid || !pass) return provisioning_errc::missing_field;
  wifi_credentials_buffer b;
  const auto ssid_size = from_hex(*ssid, std::span(b.ssid_).first(b.ssid_.size() - 1));
  if (!ssid_size) return provisioning_errc::bad_ssid;
  const auto pass_size = from_hex(*pass, std::span(b.passphrase_).first(b.passphrase_.size() - 1));
  if (!pass_size) return provisioning_errc::bad_passphrase;
  b.ssid_size_ = static_cast<std::uint8_t>(*ssid_size);
  b.passphrase_size_ = static_cast<std::uint8_t>(*pass_size);
  b.ssid_[b.ssid_size_] = '\0';
  b.passphrase_[b.passphrase_size_] = '\0';
  const wifi_credentials_view v = b.view();
  if (std::error_code ec = validate_credentials(v.ssid, v.passphrase)) return ec;
  out = b;
  return {};
}

std::error_code decode_provisioning_progress(const app_message& m, provisioning_progress& out) {
  if (m.verb != status_verb) return provisioning_errc::not_provisioning;
  if (!only_fields(m, {"re", "state", "addresses", "reason"}))
    return provisioning_errc::unknown_field;
  provisioning_progress p;
  if (m.get("re")) {
    auto re = m.get_uint("re", 0, UINT64_MAX);
    if (!re) return provisioning_errc::bad_re;
    p.re = *re;
  }
  const auto state = m.get("state");
  if (!state) return provisioning_errc::missing_field;
  if (*state == "connecting") {
    p.state = provisioning_state::connecting;
  } else if (*state == "connected") {
    p.state = provisioning_state::connected;
  } else if (*state == "failed") {
    p.state = provisioning_state::failed;
  } else {
    return provisioning_errc::bad_state;
  }
  const auto reason = m.get("reason");
  const auto addresses = m.get("addresses");
  if (reason && p.state != provisioning_state::failed) return provisioning_errc::bad_reason;
  if (addresses && p.state != provisioning_state::connected)
    return provisioning_errc::bad_addresses;
  if (p.state == provisioning_state::failed) {
    if (!reason) return provisioning_errc::missing_field;
    if (*reason == "auth_error") {
      p.reason = provisioning_failure::auth_error;
    } else if (*reason == "network_not_found") {
      p.reason = provisioning_failure::network_not_found;
    } else if (*reason == "timeout") {
      p.reason = provisioning_failure::timeout;
    } else {
      return provisioning_errc::bad_reason;
    }
  }
  if (p.state == provisioning_state::connected) {
    if (!addresses) return provisioning_errc::missing_field;
    std::string_view rest = *addresses;
    while (true) {
      const auto comma = rest.find(',');
      const std::string_view a = rest.substr(0, comma);
      if (!valid_address(a) || p.addresses.size() == provisioning_progress::max_addresses)
        return provisioning_errc::bad_addresses;
      p.addresses.emplace_back(a);
      if (comma == std::string_view::npos) break;
      rest = rest.substr(comma + 1);
    }
  }
  out = std::move(p);
  return {};
}

} // namespace lanyard::core
