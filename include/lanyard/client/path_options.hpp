/// @file
/// How a client_channel chooses among the ways to reach its accessory (docs/paths.md):
/// the interface policy, handover or interactive mode, static endpoints next to the ones
/// discovery finds, the RFC 8305 race and resolution delay, the move-back hold, and TCP or
/// MPTCP. Also the values the channel reports when it moves between paths.
///
/// Thread-safety: value types.
#pragma once

#include <lanyard/core/channel_state.hpp>
#include <lanyard/core/path_ranking.hpp>
#include <lanyard/link/mptcp.hpp>

#include <asio/ip/address.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lanyard::client {

/// An endpoint of the accessory known without discovery (e.g. its SoftAP address).
struct static_path {
  asio::ip::address address;
  std::uint16_t port = 0;
  /// Pin to this local interface (e.g. "sap0"); empty: the routing table decides.
  std::string interface_name;
};

/// See the file comment; defaults are the recommended settings.
struct path_options {
  /// Required, prohibited and preferred interface kinds. Sockets are really bound to the
  /// chosen interface, so a prohibited kind never carries a packet of the channel.
  core::interface_policy policy;
  /// handover: stay on the most preferred kind, move away on failure, back when it is healthy;
  /// interactive: the lowest-RTT path.
  core::ranking_mode mode = core::ranking_mode::handover;
  /// Raced along with the directory's paths.
  std::vector<static_path> static_paths;
  /// RFC 8305 connection attempt delay: the next candidate starts if the previous one has not
  /// completed its pinned TLS handshake by then.
  std::chrono::milliseconds attempt_delay{250};
  /// RFC 8305 §3 style "resolution delay", applied to interface kinds: when the accessory has
  /// just been discovered but not (yet) over the best kind this host could reach it by (e.g.
  /// its p2p answer came before its Wi-Fi one), wait up to this long, counted from the first
  /// path found, for the better kind before racing; it starts at once when that kind is found
  /// or when no usable interface of a better kind exists. Without it the channel would start
  /// on p2p and move up to Wi-Fi only after `move_back_hold`. Default 100 ms: mDNS answers on
  /// two links can be up to 100 ms apart by the responders' jitter alone (RFC 6762 §6:
  /// 20-120 ms), where RFC 8305's 50 ms is meant for two answers from one DNS server. 0: never
  /// wait. Only attempts within this delay of the accessory's (re)appearance in discovery
  /// wait: a reconnect over paths known for longer never does.
  std::chrono::milliseconds resolution_delay{100};
  /// A better path must stay viable this long before the session moves back to it
  /// (make-before-break). On top of the interface's own debounce hold-down.
  std::chrono::milliseconds move_back_hold{5000};
  /// TCP, or kernel MPTCP with fallback to TCP (link/mptcp.hpp).
  link::transport_protocol transport = link::transport_protocol::tcp;
};

/// One path as the application sees it.
struct path_info {
  std::string interface_name; ///< "wlan0"; empty if not pinned to an interface
  core::interface_kind kind = core::interface_kind::other;
  std::string address; ///< the accessory's address on this path
  std::uint16_t port = 0;
  /// The connection runs Multipath TCP end to end (path_options::transport mptcp and an
  /// accessory that speaks it); false for TCP, including MPTCP's fallback to TCP.
  bool mptcp = false;
};

/// Why the channel changed paths (core::path_change_reason); to_string() gives "connected",
/// "path failed", "preferred path available", "lower RTT".
using path_change_reason = core::path_change_reason;
using core::to_string;

/// Reported on every move.
struct path_change {
  std::optional<path_info> from; ///< nullopt for the first connection
  path_info to;
  path_change_reason reason = path_change_reason::connected;
  /// Why the old path was left, when it failed ("wlan0 (wifi) is down", an error message).
  std::string detail;
};

} // namespace lanyard::client
