/// @file
/// One network interface as the mDNS driver needs it: name, index and the addresses the
/// responder publishes there, read once at start with getifaddrs(). (Firmware learns its
/// addresses from its IP stack's callbacks; on a POSIX host this is the equivalent.)
///
/// Errors: mdns_socket_errc (no_such_interface, interface_down, no_multicast, no_address,
/// interface_list_failed) with a sentence naming the interface and what to do.
/// Thread-safety: a value; find_network_interface() is reentrant.
#pragma once

#include "mdns_socket_error.hpp"

#include <lanyard/core/mdns_responder.hpp>

#include <net/if.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <system_error>

namespace lamp {

struct network_interface {
  /// NUL-terminated, as the kernel spells it ("wlan0").
  std::array<char, IF_NAMESIZE> name{};
  std::uint32_t index = 0;
  /// IPv4 first, then global IPv6, then link-local IPv6: if the interface has more than the
  /// responder holds, the ones a peer is most likely to reach are kept.
  std::array<lanyard::core::mdns_address, lanyard::core::mdns_limits::max_addresses_per_interface>
      addresses{};
  std::size_t address_count = 0;
  /// Addresses the interface has beyond the responder's capacity (not published).
  std::size_t addresses_left_out = 0;

  std::string_view name_text() const noexcept { return name.data(); }
  std::span<const lanyard::core::mdns_address> published() const noexcept {
    return {addresses.data(), address_count};
  }
  bool has_ipv4() const noexcept;
  bool has_ipv6() const noexcept;
};

/// Finds the interface called `name` and reads its addresses.
///
/// @returns empty, or no_such_interface, interface_down, no_multicast, no_address,
/// interface_list_failed; `why` then holds the sentence.
std::error_code find_network_interface(std::string_view name, network_interface& out,
                                       error_sentence& why) noexcept;

} // namespace lamp
