/// @file
/// Interface policy on the link layer: which interface kinds a connection may use and which it
/// prefers (like NWParameters.requiredInterfaceType / prohibitedInterfaceTypes), applied to the
/// interfaces the path monitor sees.
///
/// The policy itself is lanyard::core::interface_policy (pure, so that path ranking can use it
/// without I/O); this header connects it to link::interface_kind and network_interface and turns
/// what the monitor knows into path candidates for core::rank_paths().
///
/// Example: a channel that must never touch Wi-Fi:
/// @code
///   lanyard::link::interface_policy p;
///   p.prohibited.insert(lanyard::core::interface_kind::wifi);
/// @endcode
///
/// Errors: parse functions return false and a one-line reason. Thread-safety: pure functions;
/// values (distinct objects safe, shared objects unsafe).
#pragma once

#include "lanyard/core/path_ranking.hpp"
#include "lanyard/link/interface_kind.hpp"
#include "lanyard/link/network_interface.hpp"

#include <asio/ip/address.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace lanyard::link {

/// The policy (see lanyard/core/path_ranking.hpp).
using interface_policy = core::interface_policy;
using core::kind_set;

/// Parses a comma-separated list of kinds ("wifi,p2p"); duplicates are errors. On error returns
/// false with a reason naming the bad entry ("unknown interface kind 'wlan' (expected wired,
/// wifi, softap, p2p, cellular, loopback, other or relay)"). `relay` names the relay path
/// (`--prohibit relay`: local paths only).
bool parse_kind_list(std::string_view text, std::vector<core::interface_kind>& out,
                     std::string& error);

/// Builds a policy from the three lists a user gives (`--require`, `--prohibit`, `--prefer`,
/// each comma-separated, any may be empty) and checks it is consistent. On error returns false
/// with a one-line reason.
bool parse_interface_policy(std::string_view require, std::string_view prohibit,
                            std::string_view prefer, interface_policy& out, std::string& error);

/// True if `policy` allows `iface`'s kind.
inline bool allows(const interface_policy& policy, const network_interface& iface) noexcept {
  return policy.allows(iface.kind);
}

/// A ranking candidate for reaching `destination` through `iface`: its kind, whether it is up
/// (`available`: the monitor's debounced state; pass iface.up() without a monitor), whether it
/// has a usable source address for `destination`.
core::path_candidate make_path_candidate(const network_interface& iface, bool available,
                                         const asio::ip::address& destination);

} // namespace lanyard::link
