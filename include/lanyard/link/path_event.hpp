/// @file
/// The events a path_monitor publishes: interfaces appearing, going up and down (raw and
/// debounced), addresses added and removed, default routes changing.
///
/// Errors: none. Thread-safety: values; distinct objects safe, shared objects unsafe.
#pragma once

#include "lanyard/link/network_interface.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace lanyard::link {

/// What happened.
enum class path_event_type : std::uint8_t {
  /// An interface appeared (or was seen in the initial dump).
  interface_added,
  /// An interface disappeared; its addresses are gone with it (no address_removed events).
  interface_removed,
  /// The raw link state became up (network_interface::up()), as the kernel reported it.
  interface_up,
  /// The raw link state became down.
  interface_down,
  /// The debounced state became up: the link has been up for the hold-down time. Move back.
  interface_available,
  /// The debounced state became down: the link stayed down past the grace. Move away.
  interface_unavailable,
  /// An address was added to an interface.
  address_added,
  /// An address was removed from an interface.
  address_removed,
  /// An address's flags changed (e.g. it stopped being tentative, or became deprecated).
  address_changed,
  /// A default route appeared.
  default_route_added,
  /// A default route disappeared.
  default_route_removed,
  /// The initial dump is complete: the snapshot (interfaces(), default_routes()) is whole.
  snapshot_complete,
  /// Events were lost (the consumer fell behind the bounded queue, or the kernel overran the
  /// socket). The snapshot is still correct: re-read it instead of replaying events.
  events_lost,
};

/// "interface_added", "interface_up", "address_added"… (the enumerator's name).
std::string_view to_string(path_event_type type) noexcept;

/// One event. `iface` is the interface's state after the event (for interface_removed: its
/// last state); `address` is set for address_* events, `route` for default_route_* events.
struct path_event {
  path_event_type type = path_event_type::snapshot_complete;
  network_interface iface;
  std::optional<interface_address> address;
  std::optional<default_route> route;
  /// The interface's debounced state right after the event (path_monitor::available()).
  bool available = false;
  /// When the monitor saw the change (its clock).
  std::chrono::steady_clock::time_point time{};
};

} // namespace lanyard::link
