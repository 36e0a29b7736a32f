// Private to the core: how parse errors name an offending character — 'c' when printable,
// "byte 0xNN" otherwise (shared by the fingerprint, setup payload and setup code parsers).
#pragma once

#include <string>

namespace lanyard::core::detail {

inline std::string quote_char(char c) {
  if (static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7F)
    return std::string("'") + c + "'";
  std::string s = "byte 0x";
  s += "0123456789ABCDEF"[static_cast<unsigned char>(c) >> 4];
  s += "0123456789ABCDEF"[static_cast<unsigned char>(c) & 0xF];
  return s;
}

} // namespace lanyard::core::detail
