#include "lanyard/core/app_message.hpp"

#include "app_message_grammar.hpp"
#include "lanyard/core/app_message_view.hpp"

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

int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
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
  const auto v = get(key);
  return v ? detail::parse_uint_value(*v, min, max) : std::nullopt;
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
  // The one parser (app_message_view.cpp), its views copied into strings.
  const app_message_view_parse_result v = parse_app_message_view(text);
  app_message_parse_result r;
  r.code = v.code;
  r.position = v.position;
  if (!v) return r;
  r.message.verb = std::string(v.message.verb);
  r.message.fields.reserve(v.message.field_count);
  for (const app_message_field& f : v.message.fields())
    r.message.fields.emplace_back(std::string(f.key), std::string(f.value));
  return r;
}

app_message_parse_result parse_app_message(std::span<const std::byte> payload) {
  return parse_app_message(
      std::string_view(reinterpret_cast<const char*>(payload.data()), payload.size()));
}

std::error_code encode_app_message(const app_message& m, std::string& out) {
  // The writer checks and builds it (app_message_view.hpp); `out` changes only on success.
  app_message_writer w(m.verb);
  for (const auto& [k, v] : m.fields)
    w.set(k, v);
  if (w.error()) return w.error();
  out.assign(w.text());
  return {};
}

std::string percent_encode(std::string_view text) {
  std::string out(3 * text.size(), '\0'); // the most it can take
  out.resize(percent_encode(text, std::span(out)));
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
