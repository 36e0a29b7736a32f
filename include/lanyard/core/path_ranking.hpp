/// @file
/// Path ranking: which of an accessory's candidate paths to use, in which order, under an
/// interface policy — or, when none is usable, a sentence saying why.
///
/// A *path* is one way to reach the accessory: a local interface (index, name, kind) and a
/// destination address of one family. The connector gives every candidate it knows (from
/// discovery and static endpoints) with what the path monitor says about its interface, and
/// gets back the viable candidates, best first:
///
///   - **handover** mode (the default): the policy's preference order of interface kinds
///     (then the default order wired, wifi, p2p, softap, cellular, other, loopback, relay), then
///     IPv6 before IPv4 (RFC 8305 §4), then routable before link-local addresses, then the
///     order the candidates were given in (the sort is stable);
///   - **interactive** mode: the lowest measured RTT first; paths without an RTT sample come
///     after the measured ones, in handover order.
///
/// In both modes a `relay` path comes after every local one, whatever the preference order or
/// its RTT: the relay is the last resort (and channel_controller races it only when no local
/// path is viable, or the last race over the local ones failed).
///
/// A candidate is *not viable* when its kind is prohibited or not among the required kinds,
/// its interface is down, the interface has no source address of the destination's family,
/// the path is known to be unreachable, or a link-local destination has no interface. When no
/// candidate is viable the result carries a reason naming the policy and each interface, e.g.
/// "policy requires cellular; cell0 (cellular) is down".
///
/// Pure: no I/O, no clock, no allocation beyond the result.
///
/// Errors: none (an empty viable list plus a reason). Thread-safety: all functions are pure;
/// distinct objects are safe, shared objects are unsafe. Cancellation: nothing to cancel.
#pragma once

#include <lanyard/core/interface_kind.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace lanyard::core {

/// A set of interface kinds (a bit mask; cheap to copy).
class kind_set {
public:
  constexpr kind_set() noexcept = default;
  constexpr kind_set(std::initializer_list<interface_kind> kinds) noexcept {
    for (auto k : kinds)
      insert(k);
  }
  constexpr void insert(interface_kind k) noexcept { bits_ |= bit(k); }
  constexpr void erase(interface_kind k) noexcept { bits_ &= static_cast<std::uint8_t>(~bit(k)); }
  constexpr bool contains(interface_kind k) const noexcept { return (bits_ & bit(k)) != 0; }
  constexpr bool empty() const noexcept { return bits_ == 0; }
  constexpr bool intersects(kind_set o) const noexcept { return (bits_ & o.bits_) != 0; }
  friend constexpr bool operator==(kind_set, kind_set) noexcept = default;
  /// "cellular", "wifi or p2p", "wired, wifi or p2p" (empty string for the empty set).
  std::string describe(std::string_view conjunction = "or") const;

private:
  static constexpr std::uint8_t bit(interface_kind k) noexcept {
    return static_cast<std::uint8_t>(1u << static_cast<unsigned>(k));
  }
  std::uint8_t bits_ = 0;
};

/// Which interfaces a connection may use and which it prefers (like Network.framework's
/// NWParameters.requiredInterfaceType / prohibitedInterfaceTypes).
struct interface_policy {
  /// Only these kinds may be used; empty: any kind not prohibited.
  kind_set required;
  /// These kinds are never used, even when nothing else is up.
  kind_set prohibited;
  /// Kinds in order of preference for handover mode; kinds not listed come after, in the
  /// default order (wired, wifi, p2p, softap, cellular, other, loopback, relay).
  std::vector<interface_kind> preference;

  /// True if a path over an interface of `kind` is allowed.
  bool allows(interface_kind kind) const noexcept {
    return !prohibited.contains(kind) && (required.empty() || required.contains(kind));
  }
  /// True if the policy restricts nothing (preference order aside).
  bool unrestricted() const noexcept { return required.empty() && prohibited.empty(); }
  /// Position of `kind` in the effective preference order (0 = best).
  std::size_t rank(interface_kind kind) const noexcept;
  /// "requires cellular", "prohibits wifi", "requires cellular and prohibits wifi", or "" .
  std::string describe() const;
  /// Empty if the policy is consistent, else why not (e.g. "policy both requires and
  /// prohibits wifi: no path could ever be used").
  std::string check() const;
};

/// The default preference order of handover mode.
inline constexpr interface_kind default_preference[interface_kind_count] = {
    interface_kind::wired,    interface_kind::wifi,     interface_kind::p2p,
    interface_kind::softap,   interface_kind::cellular, interface_kind::other,
    interface_kind::loopback, interface_kind::relay};

/// IP version of a path's destination.
enum class address_family : std::uint8_t { ipv4, ipv6 };

/// "IPv4" or "IPv6".
std::string_view to_string(address_family family) noexcept;

/// One way to reach the accessory, with what is known about it right now.
struct path_candidate {
  /// Local interface index (0: unknown / not pinned to an interface).
  std::uint32_t interface_index = 0;
  /// Interface name, for messages ("wlan0").
  std::string interface_name;
  interface_kind kind = interface_kind::other;
  address_family family = address_family::ipv4;
  /// Destination address, printable ("198.18.1.3", "fe80::1"), for messages.
  std::string address;
  /// The destination is an IPv6 link-local address (needs the interface as scope id).
  bool link_local = false;
  /// The interface is (stably) up.
  bool interface_up = true;
  /// The interface has a usable (not tentative) source address of `family` of a scope that can
  /// reach `address`.
  bool has_source_address = true;
  /// False if the path is known not to work (no route, the last attempt was refused…).
  bool reachable = true;
  /// Smoothed round-trip time measured on this path, if any.
  std::optional<std::chrono::nanoseconds> rtt;
  /// The address came from discovery (DNS-SD), which anyone on the link can answer for any
  /// device id, or it is the relay, whose broker can answer an OPEN itself: a trust refusal
  /// there says "this path is not the accessory", not "the accessory changed"
  /// (channel_controller does not give up on it). False for the app's own static paths and a
  /// channel started with an endpoint.
  bool discovered = false;
};

/// How candidates are ordered.
enum class ranking_mode : std::uint8_t {
  handover,    ///< preference order of interface kinds (stay on the preferred link)
  interactive, ///< lowest RTT first
};

/// Why a candidate is not viable.
enum class path_rejection_reason : std::uint8_t {
  prohibited_kind,     ///< the policy prohibits the interface's kind
  not_required_kind,   ///< the policy requires other kinds
  interface_down,      ///< the interface is down
  no_source_address,   ///< the interface has no address of the destination's family
  unreachable,         ///< the path is known not to work
  link_local_no_scope, ///< a link-local destination without an interface
};

/// A non-viable candidate and why.
struct path_rejection {
  std::size_t candidate; ///< index into the candidates given to rank_paths()
  path_rejection_reason reason;
};

/// The outcome of rank_paths().
struct path_ranking {
  /// Indices into the candidates, best first. Empty: nothing is viable, see `reason`.
  std::vector<std::size_t> viable;
  /// Every non-viable candidate with the first reason that excluded it.
  std::vector<path_rejection> rejected;
  /// Empty if `viable` is not; else one sentence naming the policy and the interfaces, e.g.
  /// "policy requires cellular; cell0 (cellular) is down".
  std::string reason;
};

/// Ranks `candidates` under `policy` in `mode` (see the file comment).
path_ranking rank_paths(std::span<const path_candidate> candidates, const interface_policy& policy,
                        ranking_mode mode = ranking_mode::handover);

/// Why one candidate was rejected, as a phrase: "cell0 (cellular) is down", "wlan0 (wifi) has
/// no IPv4 address", "wlan0 (wifi) is prohibited".
std::string describe_rejection(const path_candidate& candidate, path_rejection_reason reason);

} // namespace lanyard::core
