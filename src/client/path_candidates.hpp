// Private: the channel's candidate paths to an accessory, as facts.
//
// Inputs are what discovery knows (the directory's paths: interface × address × port, with
// reachability reports) plus static endpoints (e.g. the accessory's SoftAP address), and what
// the kernel says about the local interfaces right now (link::path_monitor::interfaces()).
// Each becomes a core::path_candidate — interface up?, a source address of the right family
// and scope?, reachable? — with the endpoint and the interface to pin it to. Ranking them under
// the policy is the core's (core::path_tracker in core::channel_controller, over
// core::rank_paths), which the client channel feeds with these facts.
#pragma once

#include "path_racer.hpp"

#include <lanyard/client/path_options.hpp>
#include <lanyard/core/path_tracker.hpp>
#include <lanyard/discovery/directory.hpp>
#include <lanyard/link/network_interface.hpp>

#include <asio/ip/address.hpp>

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace lanyard::client::detail {

using client::static_path; // public: client/path_options.hpp

/// Whether an interface counts as up; default: network_interface::up() (raw). A path monitor
/// passes its debounced state, so a link that just came back is not used before its hold-down.
using interface_usable = std::function<bool(const link::network_interface&)>;

/// Every path of `discovered` and `statics`, in that order, unranked, with what `interfaces`
/// say about it (no RTT: the caller's path_tracker keeps those).
std::vector<path_target> all_targets(std::span<const discovery::accessory_path> discovered,
                                     std::span<const static_path> statics,
                                     std::span<const link::network_interface> interfaces,
                                     const interface_usable& usable = {});

/// The core's view of a target: its facts and port (core::path_tracker, the controller).
inline core::tracked_path tracked_of(const path_target& t) {
  return {t.path, t.endpoint.port()};
}

} // namespace lanyard::client::detail
