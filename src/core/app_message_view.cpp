#include "lanyard/core/app_message_view.hpp"

#include "app_message_grammar.hpp"

#include <charconv>
#include <cstring>

namespace lanyard::core {
namespace {

app_message_view_parse_result fail(app_message_errc e, std::size_t pos) noexcept {
  app_message_view_parse_result r;
  r.code = e;
  r.position = pos;
  return r;
}

} // namespace

std::optional<std::string_view> app_message_view::get(std::string_view key) const noexcept {
  for (const app_message_field& f : fields())
    if (f.key == key) return f.value;
  return std::nullopt;
}

std::optional<std::uint64_t> app_message_view::get_uint(std::string_view key, std::uint64_t min,
                                                        std::uint64_t max) const noexcept {
  const auto v = get(key);
  return v ? detail::parse_uint_value(*v, min, max) : std::nullopt;
}

app_message_view view_of(const app_message& m) noexcept {
  app_message_view v;
  v.verb = m.verb;
  for (const auto& [key, value] : m.fields) {
    if (v.field_count == v.field_room.size()) break;
    v.field_room[v.field_count++] = {key, value};
  }
  return v;
}

std::size_t percent_encode(std::string_view text, std::span<char> out) noexcept {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::size_t n = 0;
  for (char c : text)
    n += detail::is_value_char(c) && c != '%' ? 1 : 3;
  if (n > out.size()) return 0;
  std::size_t at = 0;
  for (char c : text) {
    if (detail::is_value_char(c) && c != '%') {
      out[at++] = c;
    } else {
      const auto b = static_cast<unsigned char>(c);
      out[at++] = '%';
      out[at++] = hex[b >> 4];
      out[at++] = hex[b & 0x0f];
    }
  }
  return n;
}

app_message_view_parse_result parse_app_message_view(std::string_view text) noexcept {
  if (text.empty()) return fail(app_message_errc::empty, 0);
  if (text.size() > app_message::max_size)
    return fail(app_message_errc::too_long, app_message::max_size);

  // Split on single spaces; every token is checked as it comes, so the first error is reported
  // at its own position.
  app_message_view_parse_result r;
  app_message_view& m = r.message;
  std::size_t pos = 0;
  std::size_t index = 0;
  while (true) {
    const std::size_t space = text.find(' ', pos);
    const std::size_t end = space == std::string_view::npos ? text.size() : space;
    const std::string_view token = text.substr(pos, end - pos);
    if (token.empty()) return fail(app_message_errc::bad_spacing, pos);
    if (index == 0) {
      if (token != app_message::version_token)
        return fail(detail::looks_like_version(token) ? app_message_errc::unsupported_version
                                                      : app_message_errc::bad_version,
                    pos);
    } else if (index == 1) {
      if (detail::check_verb(token)) return fail(app_message_errc::bad_verb, pos);
      m.verb = token;
    } else {
      if (m.field_count == app_message::max_fields)
        return fail(app_message_errc::too_many_fields, pos);
      const std::size_t eq = token.find('=');
      if (eq == std::string_view::npos) return fail(app_message_errc::bad_key, pos);
      const std::string_view key = token.substr(0, eq);
      const std::string_view value = token.substr(eq + 1);
      if (detail::check_key(key)) return fail(app_message_errc::bad_key, pos);
      if (detail::check_value(value)) return fail(app_message_errc::bad_value, pos + eq + 1);
      if (m.get(key)) return fail(app_message_errc::duplicate_key, pos);
      m.field_room[m.field_count++] = {key, value};
    }
    ++index;
    if (space == std::string_view::npos) break;
    pos = space + 1;
    if (pos == text.size()) return fail(app_message_errc::bad_spacing, space);
  }
  if (index < 2) return fail(app_message_errc::bad_verb, text.size());
  return r;
}

app_message_view_parse_result parse_app_message_view(std::span<const std::byte> payload) noexcept {
  return parse_app_message_view(
      std::string_view(reinterpret_cast<const char*>(payload.data()), payload.size()));
}

app_message_writer::app_message_writer(std::string_view verb) noexcept {
  if ((error_ = detail::check_verb(verb))) return;
  append(app_message::version_token);
  append(" ");
  append(verb);
}

bool app_message_writer::append(std::string_view s) noexcept {
  if (error_) return false;
  if (s.size() > room_.size() - size_) {
    error_ = app_message_errc::too_long;
    return false;
  }
  if (!s.empty()) std::memcpy(room_.data() + size_, s.data(), s.size());
  size_ += s.size();
  return true;
}

app_message_writer& app_message_writer::set(std::string_view key, std::string_view value) noexcept {
  if (error_) return *this;
  if (field_count_ == app_message::max_fields) {
    error_ = app_message_errc::too_many_fields;
    return *this;
  }
  if ((error_ = detail::check_key(key)) || (error_ = detail::check_value(value))) return *this;
  for (std::size_t i = 0; i < field_count_; ++i)
    if (std::string_view(room_.data() + key_at_[i], key_size_[i]) == key) {
      error_ = app_message_errc::duplicate_key;
      return *this;
    }
  if (!append(" ")) return *this;
  // A key is at most 32 bytes and the room 1,024: both fit their counters.
  key_at_[field_count_] = static_cast<std::uint16_t>(size_);
  key_size_[field_count_] = static_cast<std::uint8_t>(key.size());
  if (append(key) && append("=") && append(value)) ++field_count_;
  return *this;
}

app_message_writer& app_message_writer::set(std::string_view key, std::uint64_t value) noexcept {
  char digits[20];
  const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
  (void)ec; // 20 digits hold any 64-bit value
  return set(key, std::string_view(digits, static_cast<std::size_t>(end - digits)));
}

} // namespace lanyard::core
