/// @file
/// A snapshot of one network interface as the path monitor sees it: index, name, kind, state
/// and addresses; plus default routes.
///
/// These are plain values copied out of the monitor (path_monitor::interfaces()), so they stay
/// valid however the system changes afterwards.
///
/// Errors: none. Thread-safety: values; distinct objects safe, shared objects unsafe.
#pragma once

#include "lanyard/link/interface_kind.hpp"

#include <asio/ip/address.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lanyard::link {

/// The scope of an address (RT_SCOPE_* in the kernel).
enum class address_scope : std::uint8_t {
  global, ///< routable (RT_SCOPE_UNIVERSE)
  site,   ///< site-local (deprecated in IPv6)
  link,   ///< link-local: fe80::/10, 169.254/16 (needs the interface as scope id)
  host,   ///< this host only: 127/8, ::1
};

/// "global", "site", "link" or "host".
std::string_view to_string(address_scope scope) noexcept;

/// One address assigned to an interface.
struct interface_address {
  /// The address; an IPv6 link-local address carries the interface index as its scope id.
  asio::ip::address address;
  std::uint8_t prefix_length = 0;
  address_scope scope = address_scope::global;
  /// IPv6 duplicate address detection is still running: the address cannot be used yet.
  bool tentative = false;
  /// Duplicate address detection failed: the address will never be usable.
  bool dad_failed = false;
  /// Preferred lifetime over: still valid, but new connections should avoid it.
  bool deprecated = false;
  /// Configured by hand or by a daemon, not autoconfigured (IFA_F_PERMANENT).
  bool permanent = false;

  /// True if the address can be a connection's source now.
  bool usable() const noexcept { return !tentative && !dad_failed; }
  friend bool operator==(const interface_address&, const interface_address&) = default;
};

/// Operational state (RFC 2863 ifOperStatus, as the kernel reports it in IFLA_OPERSTATE).
enum class oper_state : std::uint8_t {
  unknown, ///< the driver does not say (loopback, some virtual devices)
  not_present,
  down,
  lower_layer_down, ///< e.g. a veth whose peer is down
  testing,
  dormant, ///< e.g. Wi-Fi associated but not yet authenticated
  up,
};

/// "unknown", "notpresent", "down", "lowerlayerdown", "testing", "dormant" or "up" (ip link's
/// words).
std::string_view to_string(oper_state state) noexcept;

/// One network interface.
struct network_interface {
  std::uint32_t index = 0;
  std::string name;
  interface_kind kind = interface_kind::other;
  /// IFF_UP: administratively up (ip link set … up).
  bool admin_up = false;
  /// IFF_RUNNING: the driver says the link works (carrier present).
  bool running = false;
  oper_state operational = oper_state::unknown;
  std::uint32_t mtu = 0;
  std::vector<interface_address> addresses;

  /// True if the link can carry traffic: admin up, running, and operationally up (or a driver
  /// that reports no operational state).
  bool up() const noexcept {
    return admin_up && running &&
           (operational == oper_state::up || operational == oper_state::unknown);
  }

  /// The best usable source address on this interface for `destination`: same family; for an
  /// IPv6 link-local destination a link-local address; otherwise a global (not link-local)
  /// address, preferring non-deprecated ones. nullptr if there is none.
  const interface_address* source_for(const asio::ip::address& destination) const noexcept;
};

/// A default route (0.0.0.0/0 or ::/0 in the main table).
struct default_route {
  bool ipv6 = false;
  std::uint32_t interface_index = 0;
  std::optional<asio::ip::address> gateway;
  std::uint32_t metric = 0;
  friend bool operator==(const default_route&, const default_route&) = default;
};

/// "wlan0 (wifi)" — how messages name an interface.
std::string describe(const network_interface& iface);

} // namespace lanyard::link
