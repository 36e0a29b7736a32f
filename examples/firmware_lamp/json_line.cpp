#include "json_line.hpp"

#include <lanyard/core/error_condition.hpp>

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace lamp {
namespace {

// The characters core::display_text() escapes besides ASCII controls: C1 controls,
// bidirectional controls and invisible separators.
bool needs_escape(std::uint32_t c) noexcept {
  return (c >= 0x80 && c <= 0x9f) || c == 0x061c || c == 0x200e || c == 0x200f ||
         (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) || c == 0x2028 ||
         c == 0x2029 || c == 0xfeff;
}

// The length of the valid UTF-8 sequence at the start of `s` and its code point; 0 if invalid
// (overlong forms, surrogates and code points above U+10FFFF included).
std::size_t decode_utf8(std::string_view s, std::uint32_t& code_point) noexcept {
  const auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char lead = b(0);
  std::size_t length = 0;
  std::uint32_t c = 0;
  std::uint32_t minimum = 0;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
    c = lead & 0x1fu;
    minimum = 0x80;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    c = lead & 0x0fu;
    minimum = 0x800;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    c = lead & 0x07u;
    minimum = 0x10000;
  } else {
    return 0;
  }
  if (s.size() < length) return 0;
  for (std::size_t i = 1; i < length; ++i) {
    if ((b(i) & 0xc0) != 0x80) return 0;
    c = (c << 6) | (b(i) & 0x3fu);
  }
  if (c < minimum || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return 0;
  code_point = c;
  return length;
}

} // namespace

json_line::json_line(std::string_view event) noexcept {
  raw("{\"event\":\"");
  escaped(event);
  raw("\"");
  event_end_ = size_;
}

void json_line::raw(std::string_view bytes) noexcept {
  // Keep room for the closing "}\n" (or ,"truncated":true}\n) whatever happens.
  constexpr std::size_t reserve = 24;
  if (overflow_ || size_ + bytes.size() + reserve > buffer_.size()) {
    overflow_ = true;
    return;
  }
  std::memcpy(buffer_.data() + size_, bytes.data(), bytes.size());
  size_ += bytes.size();
}

void json_line::escape_code_point(std::uint32_t code_point) noexcept {
  static constexpr char hex[] = "0123456789abcdef";
  char text[6] = {'\\',
                  'u',
                  hex[(code_point >> 12) & 0xf],
                  hex[(code_point >> 8) & 0xf],
                  hex[(code_point >> 4) & 0xf],
                  hex[code_point & 0xf]};
  raw({text, sizeof text});
}

void json_line::escaped(std::string_view untrusted) noexcept {
  std::size_t i = 0;
  while (i < untrusted.size()) {
    const auto c = static_cast<unsigned char>(untrusted[i]);
    if (c < 0x80) {
      if (c == '"') {
        raw("\\\"");
      } else if (c == '\\') {
        raw("\\\\");
      } else if (c < 0x20 || c == 0x7f) {
        escape_code_point(c);
      } else {
        raw(untrusted.substr(i, 1));
      }
      ++i;
      continue;
    }
    std::uint32_t code_point = 0;
    const std::size_t length = decode_utf8(untrusted.substr(i), code_point);
    if (length == 0) {
      escape_code_point(0xfffd); // one invalid byte, one replacement character
      ++i;
    } else if (needs_escape(code_point)) {
      escape_code_point(code_point);
      i += length;
    } else {
      raw(untrusted.substr(i, length));
      i += length;
    }
  }
}

void json_line::key(std::string_view name) noexcept {
  raw(",\"");
  escaped(name);
  raw("\":");
}

json_line& json_line::text(std::string_view name, std::string_view value) noexcept {
  key(name);
  raw("\"");
  escaped(value);
  raw("\"");
  return *this;
}

json_line& json_line::number(std::string_view name, std::uint64_t value) noexcept {
  char digits[20];
  std::size_t n = 0;
  do {
    digits[sizeof digits - 1 - n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value > 0);
  key(name);
  raw({digits + sizeof digits - n, n});
  return *this;
}

json_line& json_line::boolean(std::string_view name, bool value) noexcept {
  key(name);
  raw(value ? "true" : "false");
  return *this;
}

json_line& json_line::code(std::string_view name, const std::error_code& value) noexcept {
  std::array<char, 96> text;
  return this->text(name, {text.data(), lanyard::core::code_string(value, text)});
}

json_line& json_line::begin_array(std::string_view name) noexcept {
  key(name);
  raw("[");
  first_in_array_ = true;
  return *this;
}

json_line& json_line::array_text(std::string_view value) noexcept {
  if (!first_in_array_) raw(",");
  first_in_array_ = false;
  raw("\"");
  escaped(value);
  raw("\"");
  return *this;
}

json_line& json_line::end_array() noexcept {
  raw("]");
  return *this;
}

void json_line::write(int descriptor) noexcept {
  if (overflow_) {
    size_ = event_end_;
    overflow_ = false;
    raw(",\"truncated\":true");
  }
  // raw() always left room for this.
  std::memcpy(buffer_.data() + size_, "}\n", 2);
  size_ += 2;
  std::size_t done = 0;
  while (done < size_) {
    const ssize_t n = ::write(descriptor, buffer_.data() + done, size_ - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return; // the reader went away: nothing useful left to do with the line
    done += static_cast<std::size_t>(n);
  }
}

} // namespace lamp
