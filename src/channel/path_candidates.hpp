// Private: the channel's candidate paths to an accessory, ranked under the interface policy.
//
// Inputs are what discovery knows (the directory's paths: interface × address × port, with
// reachability reports) plus static endpoints (e.g. the accessory's SoftAP address), and what
// the kernel says about the local interfaces right now (link::path_monitor::interfaces()).
// Each becomes a core::path_candidate — interface up?, a source address of the right family
// and scope?, reachable? — and core::rank_paths orders the viable ones; when none is viable,
// the reason names the policy and each interface ("policy requires cellular; cell0
// (cellular) is down").
#pragma once

#include "channel/path_racer.hpp"

#include <lanyard/core/path_ranking.hpp>
#include <lanyard/discovery/directory.hpp>
#include <lanyard/link/network_interface.hpp>

#include <asio/ip/address.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace lanyard::channel::detail {

/// An endpoint known without discovery (the SoftAP address, a configured address).
struct static_path {
  asio::ip::address address;
  std::uint16_t port = 0;
  /// Pin to this interface (e.g. "sap0"); empty: let the routing table choose.
  std::string interface_name;
};

struct ranked_targets {
  /// Viable targets, best first.
  std::vector<path_target> targets;
  /// Why nothing is viable (empty when targets is not).
  std::string reason;
};

/// Ranks `discovered` and `statics` (in that order before ranking, so among equals discovered
/// paths come first) over `interfaces` under `policy` and `mode`. A static path without an
/// interface is not pinned and counts as kind "other".
ranked_targets rank_targets(std::span<const discovery::accessory_path> discovered,
                            std::span<const static_path> statics,
                            std::span<const link::network_interface> interfaces,
                            const core::interface_policy& policy,
                            core::ranking_mode mode = core::ranking_mode::handover);

} // namespace lanyard::channel::detail
