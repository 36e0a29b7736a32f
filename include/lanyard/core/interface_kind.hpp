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

/// The kind of a network interface.
enum class interface_kind : std::uint8_t { wired, wifi, softap, p2p, cellular, loopback, other };

/// Number of interface kinds.
inline constexpr std::size_t interface_kind_count = 7;

/// "wired", "wifi", "softap", "p2p", "cellular", "loopback" or "other".
std::string_view to_string(interface_kind kind) noexcept;

/// Parses one of the names to_string() returns; nullopt for anything else (case matters).
std::optional<interface_kind> parse_interface_kind(std::string_view text) noexcept;

} // namespace lanyard::core
