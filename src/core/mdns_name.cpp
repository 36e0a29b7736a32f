#include "lanyard/core/mdns_name.hpp"

#include <algorithm>
#include <cstring>

namespace lanyard::core {
namespace {

constexpr char ascii_lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

} // namespace

bool dns_label_equal(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

bool dns_wire_name::push_label(std::string_view label) noexcept {
  if (label.empty() || label.size() > dns_max_label_size) return false;
  if (size_ + 1 + label.size() > dns_max_name_size) return false;
  // The terminating zero moves to the end.
  std::uint8_t* at = bytes_.data() + size_ - 1;
  at[0] = static_cast<std::uint8_t>(label.size());
  std::memcpy(at + 1, label.data(), label.size());
  size_ += 1 + label.size();
  bytes_[size_ - 1] = 0;
  return true;
}

bool dns_wire_name::push_dotted(std::string_view dotted) noexcept {
  if (!dotted.empty() && dotted.back() == '.') dotted.remove_suffix(1);
  const dns_wire_name saved = *this;
  while (!dotted.empty()) {
    const std::size_t dot = dotted.find('.');
    const std::string_view label = dotted.substr(0, dot);
    if (!push_label(label)) {
      *this = saved;
      return false;
    }
    if (dot == std::string_view::npos) break;
    dotted.remove_prefix(dot + 1);
    if (dotted.empty()) { // "a..": an empty label after a dot
      *this = saved;
      return false;
    }
  }
  return true;
}

bool dns_wire_name::push_name(const dns_wire_name& other) noexcept {
  if (size_ + other.size_ - 1 > dns_max_name_size) return false;
  std::memcpy(bytes_.data() + size_ - 1, other.bytes_.data(), other.size_);
  size_ += other.size_ - 1;
  return true;
}

std::size_t dns_wire_name::label_count() const noexcept {
  std::size_t count = 0;
  for (std::size_t i = 0; bytes_[i] != 0; i += 1 + bytes_[i])
    ++count;
  return count;
}

std::string_view dns_wire_name::first_label() const noexcept {
  return {reinterpret_cast<const char*>(bytes_.data() + 1), bytes_[0]};
}

bool dns_wire_name::equals(const dns_wire_name& other) const noexcept {
  if (size_ != other.size_) return false;
  const std::string_view a(reinterpret_cast<const char*>(bytes_.data()), size_);
  const std::string_view b(reinterpret_cast<const char*>(other.bytes_.data()), other.size_);
  // Length bytes are 1-63 (below 'A'), so comparing them case-insensitively changes nothing.
  return dns_label_equal(a, b);
}

bool is_valid_wire_name(std::span<const std::uint8_t> wire) noexcept {
  if (wire.empty() || wire.size() > dns_max_name_size) return false;
  std::size_t i = 0;
  while (i < wire.size()) {
    const std::uint8_t length = wire[i];
    if (length == 0) return i + 1 == wire.size();
    if (length > dns_max_label_size) return false;
    i += 1 + length;
  }
  return false;
}

} // namespace lanyard::core
