#include "lanyard/core/app_message.hpp"

#include "lanyard/core/error_condition.hpp"

#include <charconv>

namespace lanyard::core {
namespace {

class app_message_category_impl final : public lanyard_category {
public:
  const char* name() const noexcept override { return "lanyard.app_message"; }
#if LANYARD_ERROR_MESSAGES // else lanyard_category::message() names the code
  std::string message(int ev) const override {
    switch (static_cast<app_message_errc>(ev)) {
    case app_message_errc::empty:
      return "the application message is empty";
    case app_message_errc::bad_version:
      return "not an application message: it must start with \"v1 \"";
    case app_message_errc::unsupported_version:
      return "the application message has a version this side does not know; update it";
    case app_message_errc::bad_verb:
      return "the verb is missing, longer than 32 bytes or has a character outside a-z and '_'";
    case app_message_errc::bad_key:
      return "a field is not key=value, or its key is empty, longer than 32 bytes or has a "
             "character outside a-z, 0-9 and '_'";
    case app_message_errc::bad_value:
      return "a value is longer than 128 bytes or has a character outside printable ASCII "
             "(percent-encode spaces and other bytes)";
    case app_message_errc::duplicate_key:
      return "a key appears twice";
    case app_message_errc::too_many_fields:
      return "more than 16 fields";
    case app_message_errc::too_long:
      return "the application message is longer than 1024 bytes";
    case app_message_errc::bad_spacing:
      return "fields must be separated by exactly one space, with none at the start or end";
    }
    return "unknown application message error";
  }
#endif

  std::string_view code_name(int code) const noexcept override {
    switch (static_cast<app_message_errc>(code)) {
    case app_message_errc::empty:
      return "empty";
    case app_message_errc::bad_version:
      return "bad_version";
    case app_message_errc::unsupported_version:
      return "unsupported_version";
    case app_message_errc::bad_verb:
      return "bad_verb";
    case app_message_errc::bad_key:
      return "bad_key";
    case app_message_errc::bad_value:
      return "bad_value";
    case app_message_errc::duplicate_key:
      return "duplicate_key";
    case app_message_errc::too_many_fields:
      return "too_many_fields";
    case app_message_errc::too_long:
      return "too_long";
    case app_message_errc::bad_spacing:
      return "bad_spacing";
    }
    return {};
  }

  // What callers branch on (lanyard/core/error_condition.hpp); docs/design/error-model.md
  // §2.3 argues each row.
  condition_set conditions(int code) const noexcept override {
    using enum condition;
    switch (static_cast<app_message_errc>(code)) {
    case app_message_errc::empty:
    case app_message_errc::bad_version:
    case app_message_errc::unsupported_version:
    case app_message_errc::bad_verb:
    case app_message_errc::bad_key:
    case app_message_errc::bad_value:
    case app_message_errc::duplicate_key:
    case app_message_errc::too_many_fields:
    case app_message_errc::too_long:
    case app_message_errc::bad_spacing:
      return {protocol_violation, permanent};
    }
    return {};
  }
};

constexpr bool is_verb_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || c == '_';
}
constexpr bool is_key_char(char c) noexcept {
  return is_verb_char(c) || (c >= '0' && c <= '9');
}
constexpr bool is_value_char(char c) noexcept {
  return c >= 0x21 && c <= 0x7e;
}

std::error_code check_verb(std::string_view v) noexcept {
  if (v.empty() || v.size() > app_message::max_verb_length) return app_message_errc::bad_verb;
  for (char c : v)
    if (!is_verb_char(c)) return app_message_errc::bad_verb;
  return {};
}

std::error_code check_key(std::string_view k) noexcept {
  if (k.empty() || k.size() > app_message::max_key_length) return app_message_errc::bad_key;
  for (char c : k)
    if (!is_key_char(c)) return app_message_errc::bad_key;
  return {};
}

std::error_code check_value(std::string_view v) noexcept {
  if (v.size() > app_message::max_value_length) return app_message_errc::bad_value;
  for (char c : v)
    if (!is_value_char(c)) return app_message_errc::bad_value;
  return {};
}

// "v" followed by 1-9 digits: a version token of this format's family.
bool looks_like_version(std::string_view t) noexcept {
  if (t.size() < 2 || t.size() > 10 || t[0] != 'v') return false;
  for (std::size_t i = 1; i < t.size(); ++i)
    if (t[i] < '0' || t[i] > '9') return false;
  return true;
}

int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

app_message_parse_result fail(app_message_errc e, std::size_t pos) {
  app_message_parse_result r;
  r.code = e;
  r.position = pos;
  return r;
}

} // namespace

const std::error_category& app_message_category() noexcept {
  static const app_message_category_impl c;
  return c;
}

std::optional<std::string_view> app_message::get(std::string_view key) const noexcept {
  for (const auto& [k, v] : fields)
    if (k == key) return std::string_view(v);
  return std::nullopt;
}

std::optional<std::uint64_t> app_message::get_uint(std::string_view key, std::uint64_t min,
                                                   std::uint64_t max) const noexcept {
  auto v = get(key);
  if (!v || v->empty()) return std::nullopt;
  for (char c : *v)
    if (c < '0' || c > '9') return std::nullopt;
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc{} || end != v->data() + v->size() || n < min || n > max) return std::nullopt;
  return n;
}

app_message& app_message::set(std::string_view key, std::string_view value) {
  for (auto& [k, v] : fields)
    if (k == key) {
      v = std::string(value);
      return *this;
    }
  fields.emplace_back(std::string(key), std::string(value));
  return *this;
}

app_message& app_message::set(std::string_view key, std::uint64_t value) {
  return set(key, std::string_view(std::to_string(value)));
}

app_message_parse_result parse_app_message(std::string_view text) {
  if (text.empty()) return fail(app_message_errc::empty, 0);
  if (text.size() > app_message::max_size)
    return fail(app_message_errc::too_long, app_message::max_size);

  // Split on single spaces; every token is checked as it comes, so the first error is reported
  // at its own position.
  app_message_parse_result r;
  std::size_t pos = 0;
  std::size_t index = 0;
  while (true) {
    const std::size_t space = text.find(' ', pos);
    const std::size_t end = space == std::string_view::npos ? text.size() : space;
    const std::string_view token = text.substr(pos, end - pos);
    if (token.empty()) return fail(app_message_errc::bad_spacing, pos);
    if (index == 0) {
      if (token != app_message::version_token)
        return fail(looks_like_version(token) ? app_message_errc::unsupported_version
                                              : app_message_errc::bad_version,
                    pos);
    } else if (index == 1) {
      if (check_verb(token)) return fail(app_message_errc::bad_verb, pos);
      r.message.verb = std::string(token);
    } else {
      if (r.message.fields.size() == app_message::max_fields)
        return fail(app_message_errc::too_many_fields, pos);
      const std::size_t eq = token.find('=');
      if (eq == std::string_view::npos) return fail(app_message_errc::bad_key, pos);
      const std::string_view key = token.substr(0, eq);
      const std::string_view value = token.substr(eq + 1);
      if (check_key(key)) return fail(app_message_errc::bad_key, pos);
      if (check_value(value)) return fail(app_message_errc::bad_value, pos + eq + 1);
      if (r.message.get(key)) return fail(app_message_errc::duplicate_key, pos);
      r.message.fields.emplace_back(std::string(key), std::string(value));
    }
    ++index;
    if (space == std::string_view::npos) break;
    pos = space + 1;
    if (pos == text.size()) return fail(app_message_errc::bad_spacing, space);
  }
  if (index < 2) return fail(app_message_errc::bad_verb, text.size());
  return r;
}

app_message_parse_result parse_app_message(std::span<const std::byte> payload) {
  return parse_app_message(
      std::string_view(reinterpret_cast<const char*>(payload.data()), payload.size()));
}

std::error_code encode_app_message(const app_message& m, std::string& out) {
  if (auto ec = check_verb(m.verb)) return ec;
  if (m.fields.size() > app_message::max_fields) return app_message_errc::too_many_fields;
  std::string text(app_message::version_token);
  text += ' ';
  text += m.verb;
  for (std::size_t i = 0; i < m.fields.size(); ++i) {
    const auto& [k, v] = m.fields[i];
    if (auto ec = check_key(k)) return ec;
    if (auto ec = check_value(v)) return ec;
    for (std::size_t j = 0; j < i; ++j)
      if (m.fields[j].first == k) return app_message_errc::duplicate_key;
    text += ' ';
    text += k;
    text += '=';
    text += v;
  }
  if (text.size() > app_message::max_size) return app_message_errc::too_long;
  out = std::move(text);
  return {};
}

std::string percent_encode(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (is_value_char(c) && c != '%') {
      out += c;
    } else {
      const auto b = static_cast<unsigned char>(c);
      out += '%';
      out += hex[b >> 4];
      out += hex[b & 0x0f];
    }
  }
  return out;
}

std::optional<std::string> percent_decode(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '%') {
      out += value[i];
      continue;
    }
    if (i + 2 >= value.size()) return std::nullopt;
    const int hi = hex_digit(value[i + 1]);
    const int lo = hex_digit(value[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>((hi << 4) | lo);
    i += 2;
  }
  return out;
}

std::string app_message_parse_result::describe() const {
  if (!code) return "application message: valid";
  return "application message: at byte " + std::to_string(position) + ": " + code.message();
}

} // namespace lanyard::core
