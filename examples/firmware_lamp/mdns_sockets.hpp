/// @file
/// The POSIX socket driver for core::mdns_responder: what a firmware poll loop needs to put
/// the sans-IO responder on a real network, with no asio, no Avahi, no threads and no
/// exceptions. Two UDP sockets (one per address family) bound to port 5353; each datagram
/// comes out with the interface it arrived on, and each packet the responder writes goes out
/// on the interface it names.
///
/// Socket setup, and why:
///   - SO_REUSEADDR + SO_REUSEPORT: a host may run another mDNS stack (an accessory on a
///     developer's laptop runs avahi-daemon); sharing the port is how mDNS stacks coexist.
///   - IPV6_V6ONLY on the IPv6 socket: IPv4 arrives once, on the IPv4 socket.
///   - IP_PKTINFO / IPV6_RECVPKTINFO: a socket bound to the wildcard address otherwise cannot
///     tell which interface a datagram came in on, and the responder answers per interface
///     (RFC 6762 section 15: only the addresses of that interface).
///   - 224.0.0.251 / ff02::fb joined on each configured interface; IP_MULTICAST_ALL and
///     IPV6_MULTICAST_ALL off, so groups joined by other programs on other interfaces do not
///     reach us (datagrams from interfaces we were not given are dropped anyway).
///   - TTL / hop limit 255 for multicast and unicast: RFC 6762 section 11; receivers may
///     discard anything else as not from the local link.
///   - IP_MULTICAST_LOOP / IPV6_MULTICAST_LOOP on: another responder or browser on this very
///     host must hear us. Our own packets come back; the responder recognises its own records
///     (a looped-back probe is no tie-break, a looped-back announcement no conflict).
///   - Sending: sendmsg() with IP_PKTINFO / IPV6_PKTINFO naming the interface, for multicast
///     and unicast alike, so one socket serves every interface without IP_MULTICAST_IF calls.
///
/// Errors: std::error_code of mdns_socket_category(), and an error_sentence naming the
/// interface, the system's reason and what to do.
/// Thread-safety: distinct objects safe, shared objects unsafe. Not copyable; closes its
/// sockets when destroyed.
#pragma once

#include "mdns_socket_error.hpp"
#include "network_interface.hpp"

#include <lanyard/core/mdns_responder.hpp>

#include <array>
#include <cstddef>
#include <span>
#include <system_error>

namespace lamp {

/// A datagram receive() read: its size in the caller's buffer and where it came from.
struct mdns_datagram {
  lanyard::core::mdns_source from;
  std::size_t size = 0;
};

/// What receive() did.
enum class mdns_receive_result {
  /// A datagram for the responder: pass it to on_packet().
  datagram,
  /// Nothing is waiting: back to poll().
  none_waiting,
  /// One was read and dropped (larger than the buffer, no interface information, or from an
  /// interface that is not ours): call again.
  dropped,
};

class mdns_sockets {
public:
  mdns_sockets() noexcept = default;
  ~mdns_sockets() { close(); }
  mdns_sockets(const mdns_sockets&) = delete;
  mdns_sockets& operator=(const mdns_sockets&) = delete;

  /// Opens the IPv4 socket if an interface has an IPv4 address and the IPv6 socket if one has
  /// an IPv6 address, and joins the mDNS groups on each interface of that family.
  ///
  /// @returns empty, or too_many_interfaces, socket_failed, socket_option_failed,
  /// port_in_use, bind_failed, join_failed (then nothing is left open).
  std::error_code open(std::span<const network_interface> interfaces, error_sentence& why) noexcept;

  /// Closes both sockets. open() may be called again.
  void close() noexcept;

  /// The descriptors to poll() for POLLIN; -1 for a family that is not open (poll() ignores
  /// negative descriptors).
  int ipv4_descriptor() const noexcept { return ipv4_; }
  int ipv6_descriptor() const noexcept { return ipv6_; }

  /// Reads one datagram from `descriptor` (one of the two above; it never blocks) into
  /// `buffer`.
  mdns_receive_result receive(int descriptor, std::span<std::byte> buffer,
                              mdns_datagram& out) noexcept;

  /// Sends what the responder wrote: a multicast packet to 224.0.0.251 and ff02::fb (port 5353)
  /// on `out.interface`, for each family the interface has; a unicast one to
  /// `out.destination`:`out.port` through `out.interface`.
  ///
  /// @returns empty, or send_failed (with `why`): the packet is lost, as packets on a link
  /// sometimes are; the responder's repetitions cover it.
  std::error_code send(const lanyard::core::mdns_outgoing& out, std::span<const std::byte> packet,
                       error_sentence& why) noexcept;

  /// The interface with this index, or nullptr if it is not one of ours.
  const network_interface* find(std::uint32_t index) const noexcept;

private:
  std::error_code open_ipv4(error_sentence& why) noexcept;
  std::error_code open_ipv6(error_sentence& why) noexcept;
  std::error_code send_ipv4(const network_interface& via, const lanyard::core::mdns_address& to,
                            std::uint16_t port, std::span<const std::byte> packet,
                            error_sentence& why) noexcept;
  std::error_code send_ipv6(const network_interface& via, const lanyard::core::mdns_address& to,
                            std::uint16_t port, std::span<const std::byte> packet,
                            error_sentence& why) noexcept;

  int ipv4_ = -1;
  int ipv6_ = -1;
  std::array<network_interface, lanyard::core::mdns_limits::max_interfaces> interfaces_{};
  std::size_t interface_count_ = 0;
};

} // namespace lamp
