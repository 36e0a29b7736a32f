/// @file
/// Errors of Lanyard's link layer: the path monitor (rtnetlink) and binding sockets to
/// interfaces. Category "lanyard.link".
///
/// A std::error_code cannot carry the address and interface an error is about, so operations
/// that can name them also return a link_error: the code for programs, plus one sentence for
/// people, e.g. "no route to 198.18.1.3 via interface wlan0 (wifi): the interface has no IPv4
/// address".
///
/// Thread-safety: the category is a stateless singleton, safe from any thread; link_error is a
/// value (distinct objects safe, shared objects unsafe).
#pragma once

#include <lanyard/core/error_detail.hpp>

#include <string>
#include <system_error>
#include <type_traits>

namespace lanyard::link {

/// What went wrong in the link layer. Every code's message() says what to do about it.
enum class link_errc {
  /// No interface with that name or index exists on this host (any more).
  no_such_interface = 1,
  /// The interface exists but is down (administratively, or no carrier).
  interface_down,
  /// The interface has no usable address of the destination's family (none at all, only a
  /// tentative one still doing duplicate address detection, or only a link-local IPv6 address
  /// for a routable destination).
  no_address,
  /// The interface policy forbids the interface's kind (prohibited, or not required).
  policy_prohibits,
  /// The rtnetlink socket could not be opened, bound or read.
  netlink_failed,
  /// A netlink message was malformed (a length that does not fit, a truncated attribute).
  netlink_malformed,
  /// The kernel dropped change notifications (receive buffer overrun); the monitor resyncs.
  netlink_overrun,
  /// The socket's address family does not match the destination's.
  family_mismatch,
  /// The kernel refused to pin the socket to the interface (SO_BINDTODEVICE needs
  /// CAP_NET_RAW before Linux 5.7, or if the socket was already bound to a device; the
  /// IP_UNICAST_IF fallback was refused too).
  bind_to_device_failed,
  /// Joining a network (link_joiner) failed; the detail names the command and its status.
  join_failed,
};

/// The error category of link_errc, named "lanyard.link".
const std::error_category& link_category() noexcept;

/// Makes a std::error_code of link_category() (found by argument-dependent lookup).
inline std::error_code make_error_code(link_errc e) noexcept {
  return {static_cast<int>(e), link_category()};
}

/// An error code plus the sentence that names the address, interface and kind involved: the
/// core's one "error plus detail" type (`code`, `detail`, `fields`, `message()`). message() is
/// `detail`, or the code's message when there is no detail; "ok" when there is no error.
using link_error = core::error_detail;

} // namespace lanyard::link

template <>
struct std::is_error_code_enum<lanyard::link::link_errc> : std::true_type {};
