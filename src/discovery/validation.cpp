#include "lanyard/discovery/validation.hpp"

namespace lanyard::discovery {
namespace {

bool is_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

} // namespace

std::error_code validate_service_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 15) return discovery_errc::service_name_length;
  bool letter = false;
  for (char c : name) {
    if (is_letter(c))
      letter = true;
    else if (!is_digit(c) && c != '-')
      return discovery_errc::service_name_characters;
  }
  if (!letter) return discovery_errc::service_name_no_letter;
  if (name.front() == '-' || name.back() == '-' || name.find("--") != std::string_view::npos)
    return discovery_errc::service_name_hyphen;
  return {};
}

std::error_code parse_service_type(std::string_view text, service_type& out) {
  // Exactly two labels, each starting with '_'.
  auto dot = text.find('.');
  if (dot == std::string_view::npos || text.empty() || text.front() != '_')
    return discovery_errc::service_type_format;
  std::string_view name = text.substr(1, dot - 1);
  std::string_view proto = text.substr(dot + 1);
  if (proto.find('.') != std::string_view::npos || proto.empty() || proto.front() != '_')
    return discovery_errc::service_type_format;
  proto.remove_prefix(1);
  if (proto != "tcp" && proto != "udp") return discovery_errc::service_type_protocol;
  if (auto ec = validate_service_name(name)) return ec;
  out.service = std::string(name);
  out.protocol = std::string(proto);
  out.subtype.clear();
  return {};
}

std::error_code parse_browse_type(std::string_view text, service_type& out) {
  constexpr std::string_view sub = "._sub.";
  auto pos = text.find(sub);
  if (pos == std::string_view::npos) return parse_service_type(text, out);
  std::string_view label = text.substr(0, pos);
  if (auto ec = parse_service_type(text.substr(pos + sub.size()), out)) return ec;
  if (auto ec = validate_subtype(label)) return ec;
  out.subtype = std::string(label);
  return {};
}

std::error_code validate_subtype(std::string_view label) noexcept {
  if (label.empty() || label.size() > 63) return discovery_errc::subtype_invalid;
  for (unsigned char c : label)
    if (c == '.' || c == '\\' || c < 0x20 || c == 0x7f) return discovery_errc::subtype_invalid;
  return {};
}

bool is_valid_utf8(std::string_view text) noexcept {
  std::size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    std::size_t len;
    std::uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      len = 2;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > text.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    static constexpr std::uint32_t min_for_len[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_for_len[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += len;
  }
  return true;
}

std::error_code validate_instance_name(std::string_view name) noexcept {
  if (name.empty()) return discovery_errc::instance_name_empty;
  if (name.size() > 63) return discovery_errc::instance_name_too_long;
  if (!is_valid_utf8(name)) return discovery_errc::instance_name_invalid;
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7f) return discovery_errc::instance_name_invalid;
  return {};
}

std::error_code validate_txt_size(std::size_t encoded_size) noexcept {
  if (encoded_size > max_txt_size) return discovery_errc::txt_too_large;
  return {};
}

std::error_code validate_port(std::uint16_t port) noexcept {
  if (port == 0) return discovery_errc::port_zero;
  return {};
}

} // namespace lanyard::discovery
