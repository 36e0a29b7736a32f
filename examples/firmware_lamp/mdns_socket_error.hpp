/// @file
/// Errors of the POSIX mDNS socket driver (mdns_sockets.hpp, network_interface.hpp): an
/// `std::error_code` category, "lamp.mdns_socket", and the sentence that goes with the last
/// error. A code alone cannot say *which* interface failed or what the system answered, and
/// the person starting a firmware build on a new board needs both; the sentence lives in fixed
/// storage so that reporting an error allocates nothing either.
///
/// Thread-safety: the category is a stateless singleton; an error_sentence is a value
/// (distinct objects safe, shared objects unsafe).
#pragma once

#include <array>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace lamp {

/// What went wrong while finding an interface or opening, reading or writing the sockets.
enum class mdns_socket_errc {
  /// No interface has that name.
  no_such_interface = 1,
  /// The interface exists but is administratively down.
  interface_down,
  /// The interface cannot do multicast (no IFF_MULTICAST): mDNS needs it.
  no_multicast,
  /// The interface has neither an IPv4 nor an IPv6 address.
  no_address,
  /// More interfaces than the responder holds (core::mdns_limits::max_interfaces).
  too_many_interfaces,
  /// getifaddrs() failed: the interfaces cannot be listed.
  interface_list_failed,
  /// socket() failed.
  socket_failed,
  /// A socket option mDNS needs (SO_REUSEADDR, IP_PKTINFO, multicast TTL...) was refused.
  socket_option_failed,
  /// Port 5353 is held by a program that did not allow sharing it (no SO_REUSEPORT).
  port_in_use,
  /// bind() to port 5353 failed for another reason (e.g. no permission).
  bind_failed,
  /// Joining 224.0.0.251 or ff02::fb on an interface failed.
  join_failed,
  /// A packet could not be sent (the responder's packet is lost; mDNS repeats itself).
  send_failed,
  /// Reading a packet failed.
  receive_failed,
};

/// The category of mdns_socket_errc: name "lamp.mdns_socket".
const std::error_category& mdns_socket_category() noexcept;

inline std::error_code make_error_code(mdns_socket_errc e) noexcept {
  return {static_cast<int>(e), mdns_socket_category()};
}

/// The sentence for a person that goes with the last error: what failed, on which interface,
/// what the system said, and what to do about it. Fixed storage; longer text is cut.
class error_sentence {
public:
  /// Writes the sentence (printf-style) and returns `code` as an error_code, so a failing
  /// function can `return why.set(mdns_socket_errc::..., "...", ...);`.
  std::error_code set(mdns_socket_errc code, const char* format, ...) noexcept
      __attribute__((format(printf, 3, 4)));

  /// The sentence, or "" when no error was set.
  std::string_view text() const noexcept { return text_.data(); }

private:
  std::array<char, 384> text_{};
};

} // namespace lamp

template <>
struct std::is_error_code_enum<lamp::mdns_socket_errc> : std::true_type {};
