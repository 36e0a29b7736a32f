// Private to the core: the grammar of application messages (lanyard/core/app_message.hpp),
// shared by the parser (app_message_view.cpp), the string form (app_message.cpp) and the writer.
#pragma once

#include "lanyard/core/app_message.hpp"

#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>
#include <system_error>

namespace lanyard::core::detail {

constexpr bool is_verb_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || c == '_';
}
constexpr bool is_key_char(char c) noexcept {
  return is_verb_char(c) || (c >= '0' && c <= '9');
}
constexpr bool is_value_char(char c) noexcept {
  return c >= 0x21 && c <= 0x7e;
}

inline std::error_code check_verb(std::string_view v) noexcept {
  if (v.empty() || v.size() > app_message::max_verb_length) return app_message_errc::bad_verb;
  for (char c : v)
    if (!is_verb_char(c)) return app_message_errc::bad_verb;
  return {};
}

inline std::error_code check_key(std::string_view k) noexcept {
  if (k.empty() || k.size() > app_message::max_key_length) return app_message_errc::bad_key;
  for (char c : k)
    if (!is_key_char(c)) return app_message_errc::bad_key;
  return {};
}

inline std::error_code check_value(std::string_view v) noexcept {
  if (v.size() > app_message::max_value_length) return app_message_errc::bad_value;
  for (char c : v)
    if (!is_value_char(c)) return app_message_errc::bad_value;
  return {};
}

// "v" followed by 1-9 digits: a version token of this format's family.
inline bool looks_like_version(std::string_view t) noexcept {
  if (t.size() < 2 || t.size() > 10 || t[0] != 'v') return false;
  for (std::size_t i = 1; i < t.size(); ++i)
    if (t[i] < '0' || t[i] > '9') return false;
  return true;
}

// An unsigned decimal value in [min, max] (no sign, nothing else), or nothing.
inline std::optional<std::uint64_t> parse_uint_value(std::string_view v, std::uint64_t min,
                                                     std::uint64_t max) noexcept {
  if (v.empty()) return std::nullopt;
  for (char c : v)
    if (c < '0' || c > '9') return std::nullopt;
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc{} || end != v.data() + v.size() || n < min || n > max) return std::nullopt;
  return n;
}

} // namespace lanyard::core::detail
