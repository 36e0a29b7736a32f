#include "lanyard/core/display_text.hpp"

#include <cstdint>

namespace lanyard::core {
namespace {

constexpr char hex_digits[] = "0123456789abcdef";

void put_byte(std::string& out, unsigned char c) {
  out += "\\x";
  out.push_back(hex_digits[c >> 4]);
  out.push_back(hex_digits[c & 0xF]);
}

bool invisible(std::uint32_t cp) {
  return (cp >= 0x80 && cp <= 0x9F) || cp == 0x061C || cp == 0x200E || cp == 0x200F ||
         (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 ||
         cp == 0x2029 || cp == 0xFEFF;
}

// Length of the valid UTF-8 sequence at `s` (0 if invalid), its code point in `cp`.
std::size_t utf8_sequence(std::string_view s, std::uint32_t& cp) {
  const auto b0 = static_cast<unsigned char>(s[0]);
  std::size_t n = 0;
  std::uint32_t min = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF)
    n = 2, cp = b0 & 0x1F, min = 0x80;
  else if (b0 >= 0xE0 && b0 <= 0xEF)
    n = 3, cp = b0 & 0x0F, min = 0x800;
  else if (b0 >= 0xF0 && b0 <= 0xF4)
    n = 4, cp = b0 & 0x07, min = 0x10000;
  else
    return 0;
  if (s.size() < n) return 0;
  for (std::size_t i = 1; i < n; ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

} // namespace

std::string display_text(std::string_view in, std::size_t max_bytes) {
  std::string out;
  out.reserve(in.size() < max_bytes ? in.size() : max_bytes);
  std::size_t i = 0;
  while (i < in.size()) {
    if (out.size() >= max_bytes) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(in[i]);
    if (c == '\\') {
      out += "\\\\";
      ++i;
    } else if (c >= 0x20 && c < 0x7F) {
      out.push_back(static_cast<char>(c));
      ++i;
    } else if (c < 0x80) {
      put_byte(out, c);
      ++i;
    } else {
      std::uint32_t cp = 0;
      const std::size_t n = utf8_sequence(in.substr(i), cp);
      if (n == 0) {
        put_byte(out, c);
        ++i;
      } else if (invisible(cp)) {
        out += "\\u{";
        for (int shift = cp > 0xFFFF ? 20 : 12; shift >= 0; shift -= 4)
          out.push_back(hex_digits[(cp >> shift) & 0xF]);
        out += "}";
        i += n;
      } else {
        out.append(in.substr(i, n));
        i += n;
      }
    }
  }
  return out;
}

} // namespace lanyard::core
