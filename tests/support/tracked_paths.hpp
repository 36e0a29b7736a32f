// Paths for the core's client-policy tests (path_tracker, channel_controller): the lab's
// addresses (wlan0 198.18.1.x, p2p0 198.18.2.x), built as the client's path watcher would.
#pragma once

#include "lanyard/core/path_tracker.hpp"

#include <chrono>
#include <cstdint>
#include <string>

namespace lanyard::test {

/// A viable path over interface `index` named `name` of `kind`, to `address`:7443.
inline core::tracked_path path_over(std::uint32_t index, std::string name,
                                    core::interface_kind kind, std::string address,
                                    std::uint16_t port = 7443) {
  core::tracked_path p;
  p.facts.interface_index = index;
  p.facts.interface_name = std::move(name);
  p.facts.kind = kind;
  p.facts.address = std::move(address);
  p.port = port;
  return p;
}

inline core::tracked_path wifi(std::string address = "198.18.1.3") {
  return path_over(2, "wlan0", core::interface_kind::wifi, std::move(address));
}
inline core::tracked_path p2p(std::string address = "198.18.2.3") {
  return path_over(3, "p2p0", core::interface_kind::p2p, std::move(address));
}
/// The one path of a channel started with an explicit endpoint: not bound to an interface.
inline core::tracked_path endpoint_path(std::string host = "127.0.0.1") {
  return path_over(0, "", core::interface_kind::other, std::move(host));
}
/// `p`, known not to work (the directory reported it unreachable).
inline core::tracked_path unreachable(core::tracked_path p) {
  p.facts.reachable = false;
  return p;
}
/// `p` with its interface down.
inline core::tracked_path down(core::tracked_path p) {
  p.facts.interface_up = false;
  return p;
}

/// A fake clock's origin: an hour after the epoch, so that "before" is representable.
inline const std::chrono::steady_clock::time_point t0 =
    std::chrono::steady_clock::time_point{} + std::chrono::hours(1);

} // namespace lanyard::test
