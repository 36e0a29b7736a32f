/// @file
/// The kind of link a network interface is (Wi-Fi, peer-to-peer, cellular…): the one
/// enumeration every layer uses (path ranking and policies in the core, interface discovery in
/// lanyard::link, browse results in lanyard::discovery). How the kind of a real interface is
/// found is lanyard::link's (lanyard/link/interface_kind.hpp).
///
/// Pure: no I/O. Thread-safety: all functions are safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace lanyard::core {

/// The kind of a network interface, or of a path that is no interface of its own: `relay`, a
/// tunnel through the relay's MQTT broker (docs/design/relay.md), always ranked last.
enum class interface_kind : std::uint8_t {
  wired,
  wifi,
  softap,
  p2p,
  cellular,
  loopback,
  other,
  relay
};

/// Number of interface kinds (kind_set holds them in 8 bits).
inline constexpr std::size_t interface_kind_count = 8;

/// "wired", "wifi", "softap", "p2p", "cellular", "loopback", "other" or "relay".
std::string_view to_string(interface_kind kind) noexcept;

/// Parses one of the names to_string() returns; nullopt for anything else (case matters).
std::optional<interface_kind> parse_interface_kind(std::string_view text) noexcept;

} // namespace lanyard::core
