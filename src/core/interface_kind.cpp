#include "lanyard/core/interface_kind.hpp"

namespace lanyard::core {
namespace {

constexpr std::string_view kind_names[interface_kind_count] = {
    "wired", "wifi", "softap", "p2p", "cellular", "loopback", "other", "relay"};

} // namespace

std::string_view to_string(interface_kind kind) noexcept {
  auto i = static_cast<std::size_t>(kind);
  return i < interface_kind_count ? kind_names[i] : "other";
}

std::optional<interface_kind> parse_interface_kind(std::string_view text) noexcept {
  for (std::size_t i = 0; i < interface_kind_count; ++i)
    if (kind_names[i] == text) return static_cast<interface_kind>(i);
  return std::nullopt;
}

} // namespace lanyard::core
