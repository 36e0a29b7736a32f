/// @file
/// What the app knows of an accessory: what discovery reports (merged by device id across
/// interfaces and address families) and whether this app has paired with it.
///
/// Thread-safety: value types.
#pragma once

#include <lanyard/core/txt_record.hpp>
#include <lanyard/discovery/directory.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

namespace lanyard::app {

struct accessory_info {
  /// The device id (TXT `id`; "name:<instance name>" for an instance without one).
  std::string id;
  /// The DNS-SD instance name most recently seen; empty if never discovered.
  std::string name;
  /// The TXT record most recently seen (escape its values before showing them:
  /// core::display_text). Empty if never discovered.
  core::txt_record txt;
  /// TXT `sf=1`: its pairing window is open (it is in setup mode or its button was pressed).
  bool pairing_window_open = false;
  /// Pinned in this app's trust store (paired, or pinned on first use).
  bool paired = false;
  /// Discovered now, with at least one path not reported unreachable.
  bool reachable = false;
  /// Every path discovery knows to it (interface, address, port), sorted.
  std::vector<discovery::accessory_path> paths;
  /// How many DNS-SD instances (one per interface and mDNS protocol, and one per instance name
  /// announcing the same id) are merged into it now; 0 when none is (not discovered, or it
  /// disappeared). Several paths may come from one instance, and instances may share paths.
  std::size_t instances = 0;
};

/// What changed in a discovery_event::changed, as bits.
enum class accessory_change : std::uint8_t {
  txt = 1,     ///< the TXT record or the instance name (e.g. `sf` flipped)
  paths = 2,   ///< a path appeared, went or changed reachability
  pairing = 4, ///< paired or forgotten in this app
};

constexpr accessory_change operator|(accessory_change a, accessory_change b) noexcept {
  return static_cast<accessory_change>(static_cast<std::uint8_t>(a) | static_cast<std::uint8_t>(b));
}
/// True if `set` has every bit of `bit`.
constexpr bool has(accessory_change set, accessory_change bit) noexcept {
  return (static_cast<std::uint8_t>(set) & static_cast<std::uint8_t>(bit)) ==
         static_cast<std::uint8_t>(bit);
}

struct discovery_event {
  enum class kind : std::uint8_t {
    appeared,    ///< first seen on the network
    changed,     ///< see `what`
    disappeared, ///< no instance of it left on the network (a paired one stays listed)
    /// Browsing stopped (avahi-daemon or the system bus went away: `status` says which; what
    /// was discovered stays listed, unchanged, until it is back) or runs again (`status`
    /// empty: the changes since come as events). Not about one accessory: `info` is empty.
    discovery_status,
  };
  kind what_happened = kind::appeared;
  /// The accessory after the change (for disappeared: reachable false, instances 0, its paths
  /// as they were last seen).
  accessory_info info;
  /// For changed: which parts changed.
  accessory_change what = accessory_change::txt;
  /// For discovery_status: empty when browsing runs again, else why it stopped
  /// (discovery::discovery_errc::daemon_unavailable, bus_unavailable or daemon_error).
  std::error_code status;
};

} // namespace lanyard::app
