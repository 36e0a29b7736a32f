// rtnetlink message parser: bytes in, typed messages out, no socket, no allocation beyond the
// strings it copies. Separate from the socket so that it can be unit-tested on crafted messages
// and fuzzed (tests/fuzz/netlink_fuzz.cpp). Every length is checked against the bytes that are
// really there; structures are read with memcpy, so the input may have any alignment.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <system_error>
#include <vector>

namespace lanyard::link::netlink {

/// What the nlmsghdr said, for every message.
struct header {
  std::uint16_t type = 0;
  std::uint16_t flags = 0;
  std::uint32_t seq = 0;
  std::uint32_t pid = 0;
};

/// RTM_NEWLINK / RTM_DELLINK.
struct link_message {
  bool removed = false;
  std::uint8_t family = 0; // AF_UNSPEC for the interface itself; AF_BRIDGE for bridge-port news
  std::uint32_t index = 0;
  std::uint32_t flags = 0;    // IFF_*
  std::uint16_t arp_type = 0; // ARPHRD_*
  std::string name;           // IFLA_IFNAME (empty if absent)
  bool has_operstate = false;
  std::uint8_t operstate = 0; // IF_OPER_*
  std::uint32_t mtu = 0;
};

/// RTM_NEWADDR / RTM_DELADDR.
struct address_message {
  bool removed = false;
  std::uint32_t index = 0;
  std::uint8_t family = 0; // AF_INET or AF_INET6 (others are not reported)
  std::uint8_t prefix_length = 0;
  std::uint8_t scope = 0;                 // RT_SCOPE_*
  std::uint32_t flags = 0;                // IFA_F_* (the 32-bit IFA_FLAGS attribute when present)
  std::array<std::uint8_t, 16> address{}; // the local address (IFA_LOCAL, else IFA_ADDRESS)
  std::string label;                      // IFA_LABEL
};

/// RTM_NEWROUTE / RTM_DELROUTE.
struct route_message {
  bool removed = false;
  std::uint8_t family = 0;
  std::uint8_t dst_length = 0;
  std::uint8_t table = 0;     // RTA_TABLE when present (truncated values > 255 become 0)
  std::uint32_t table_id = 0; // full table id
  std::uint8_t type = 0;      // RTN_*
  std::uint32_t oif = 0;      // RTA_OIF, or the first RTA_MULTIPATH hop's interface
  bool has_gateway = false;
  std::array<std::uint8_t, 16> gateway{};
  std::uint32_t priority = 0; // RTA_PRIORITY (the metric)
  bool has_dst = false;
};

/// Receives the messages of one datagram, in order.
class visitor {
public:
  virtual ~visitor() = default;
  virtual void on_link(const header&, const link_message&) {}
  virtual void on_address(const header&, const address_message&) {}
  virtual void on_route(const header&, const route_message&) {}
  /// NLMSG_DONE: the end of a dump.
  virtual void on_done(const header&) {}
  /// NLMSG_ERROR: `error` is 0 for an acknowledgement, else a negative errno.
  virtual void on_error(const header&, int /*error*/) {}
  /// A message whose header is sound but whose body is malformed; parsing goes on with the
  /// next message.
  virtual void on_malformed(const header&, std::error_code) {}
};

/// Parses one datagram. Returns success, or link_errc::netlink_malformed if a header was
/// malformed (then the rest of the datagram is skipped, since message boundaries are lost).
/// Message types it does not know are skipped.
std::error_code parse(std::span<const std::byte> datagram, visitor& v);

/// Builds a dump request (RTM_GETLINK, RTM_GETADDR or RTM_GETROUTE) for `family`, with the
/// body struct the kernel expects for that type (ifinfomsg, ifaddrmsg, rtmsg).
std::vector<std::byte> dump_request(std::uint16_t type, std::uint8_t family, std::uint32_t seq);

} // namespace lanyard::link::netlink
