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

#include "path_racer.hpp"

#include <lanyard/client/path_options.hpp>
#include <lanyard/core/path_ranking.hpp>
#include <lanyard/core/path_tracker.hpp>
#include <lanyard/discovery/directory.hpp>
#include <lanyard/link/network_interface.hpp>

#include <asio/ip/address.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace lanyard::client::detail {

using client::static_path; // public: client/path_options.hpp

/// A path that is not viable and the first reason that excluded it.
struct rejected_target {
  core::path_candidate path;
  core::path_rejection_reason reason;
};

struct ranked_targets {
  /// Viable targets, best first.
  std::vector<path_target> targets;
  /// Every path that is not viable, in the ranking's order: what `reason` says, as data.
  std::vector<rejected_target> rejected;
  /// Why nothing is viable (empty when targets is not): one sentence for a person.
  std::string reason;
};

/// Whether an interface counts as up; default: network_interface::up() (raw). A path monitor
/// passes its debounced state, so a link that just came back is not used before its hold-down.
using interface_usable = std::function<bool(const link::network_interface&)>;

/// RTT measured on an interface, if any (interactive mode ranks by it).
using interface_rtt =
    std::function<std::optional<std::chrono::nanoseconds>(const link::network_interface&)>;

/// Every path of `discovered` and `statics`, in that order, unranked, with what `interfaces`
/// say about it (no RTT: the caller's path_tracker keeps those). What rank_targets ranks.
std::vector<path_target> all_targets(std::span<const discovery::accessory_path> discovered,
                                     std::span<const static_path> statics,
                                     std::span<const link::network_interface> interfaces,
                                     const interface_usable& usable = {});

/// The core's view of a target: its facts and port (core::path_tracker, the controller).
inline core::tracked_path tracked_of(const path_target& t) {
  return {t.path, t.endpoint.port()};
}

/// Ranks `discovered` and `statics` (in that order before ranking, so among equals discovered
/// paths come first) over `interfaces` under `policy` and `mode`. A static path without an
/// interface is not pinned and counts as kind "other".
ranked_targets rank_targets(std::span<const discovery::accessory_path> discovered,
                            std::span<const static_path> statics,
                            std::span<const link::network_interface> interfaces,
                            const core::interface_policy& policy,
                            core::ranking_mode mode = core::ranking_mode::handover,
                            const interface_usable& usable = {}, const interface_rtt& rtt = {});

} // namespace lanyard::client::detail
