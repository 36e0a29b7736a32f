/// @file
/// The rules for a device id: the stable name of an accessory in TXT `id`, in the setup payload,
/// in its certificate subject and as the key of the app's trust store.
#pragma once

#include <cstddef>
#include <string_view>

namespace lanyard::core {

/// The longest device id, in bytes. 64 keeps a setup payload's QR code small and fits a DNS-SD
/// TXT value and an X.509 CN (ub-common-name is 64).
inline constexpr std::size_t max_device_id_length = 64;

/// True if `id` is 1 to 64 characters from [A-Za-z0-9._:-]. No spaces, no '%', nothing a shell
/// or a line-oriented file would need to quote; ':' so MAC-style ids ("AA:BB:...") fit.
/// Ids are compared byte for byte (case-sensitively).
constexpr bool is_valid_device_id_char(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == ':' || c == '-';
}

/// See is_valid_device_id_char(). Thread-safety: pure function.
constexpr bool is_valid_device_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > max_device_id_length) return false;
  for (char c : id)
    if (!is_valid_device_id_char(c)) return false;
  return true;
}

} // namespace lanyard::core
