#include "mdns_sockets.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace lamp {
namespace {

using lanyard::core::mdns_address;
using lanyard::core::mdns_port;

constexpr std::uint8_t group_ipv4[4] = {224, 0, 0, 251};
constexpr std::uint8_t group_ipv6[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfb};
// RFC 6762 section 11: 255, so that a receiver can tell a packet came from its own link.
constexpr int link_local_ttl = 255;

// Room for the one IP_PKTINFO or IPV6_PKTINFO control message we ask for, and some slack for
// others a kernel may add.
constexpr std::size_t control_size = 128;

const char* family_name(int family) noexcept {
  return family == AF_INET ? "IPv4" : "IPv6";
}

// setsockopt() with a typed value; the sentence names the option and the family.
template <typename T>
std::error_code set_option(int fd, int family, int level, int option, const char* option_name,
                           T value, error_sentence& why) noexcept {
  if (setsockopt(fd, level, option, &value, sizeof value) == 0) return {};
  const int e = errno;
  return why.set(mdns_socket_errc::socket_option_failed,
                 "%s mDNS socket: setting %s failed: %s (this system's socket API lacks what "
                 "mDNS needs)",
                 family_name(family), option_name, std::strerror(e));
}

std::error_code bind_port(int fd, int family, const sockaddr* address, socklen_t size,
                          error_sentence& why) noexcept {
  if (bind(fd, address, size) == 0) return {};
  const int e = errno;
  if (e == EADDRINUSE) {
    return why.set(mdns_socket_errc::port_in_use,
                   "%s mDNS socket: UDP port 5353 is held by a program that does not share it "
                   "(%s): stop the other mDNS responder, or make it set SO_REUSEPORT",
                   family_name(family), std::strerror(e));
  }
  return why.set(mdns_socket_errc::bind_failed,
                 "%s mDNS socket: cannot bind UDP port 5353: %s (ports below 1024 need root or "
                 "CAP_NET_BIND_SERVICE)",
                 family_name(family), std::strerror(e));
}

bool is_link_local_ipv6(const mdns_address& a) noexcept {
  return a.v6 && a.bytes[0] == 0xfe && (a.bytes[1] & 0xc0) == 0x80;
}

// Sends `packet` to `destination` on `fd` with one pktinfo control message (`level`, `type`,
// `info`) naming the interface for this packet alone. True if the kernel took it.
template <class SocketAddress, class PacketInfo>
bool send_with_pktinfo(int fd, SocketAddress& destination, int level, int type,
                       const PacketInfo& info, std::span<const std::byte> packet) noexcept {
  iovec data{const_cast<std::byte*>(packet.data()), packet.size()};
  alignas(cmsghdr) unsigned char control[CMSG_SPACE(sizeof(PacketInfo))] = {};
  msghdr message{};
  message.msg_name = &destination;
  message.msg_namelen = sizeof destination;
  message.msg_iov = &data;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&message);
  c->cmsg_level = level;
  c->cmsg_type = type;
  c->cmsg_len = CMSG_LEN(sizeof(PacketInfo));
  std::memcpy(CMSG_DATA(c), &info, sizeof info);
  return ::sendmsg(fd, &message, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0;
}

} // namespace

const network_interface* mdns_sockets::find(std::uint32_t index) const noexcept {
  for (std::size_t i = 0; i < interface_count_; ++i) {
    if (interfaces_[i].index == index) return &interfaces_[i];
  }
  return nullptr;
}

void mdns_sockets::close() noexcept {
  if (ipv4_ >= 0) ::close(ipv4_);
  if (ipv6_ >= 0) ::close(ipv6_);
  ipv4_ = ipv6_ = -1;
  interface_count_ = 0;
}

std::error_code mdns_sockets::open(std::span<const network_interface> interfaces,
                                   error_sentence& why) noexcept {
  close();
  if (interfaces.size() > interfaces_.size()) {
    return why.set(mdns_socket_errc::too_many_interfaces,
                   "%zu interfaces given, the mDNS responder holds %zu: publish on fewer (or "
                   "raise mdns_limits::max_interfaces)",
                   interfaces.size(), interfaces_.size());
  }
  std::copy(interfaces.begin(), interfaces.end(), interfaces_.begin());
  interface_count_ = interfaces.size();
  const auto has = [&](bool (network_interface::*family)() const noexcept) {
    return std::any_of(interfaces.begin(), interfaces.end(),
                       [&](const network_interface& i) { return (i.*family)(); });
  };
  std::error_code ec;
  if (has(&network_interface::has_ipv4)) ec = open_ipv4(why);
  if (!ec && has(&network_interface::has_ipv6)) ec = open_ipv6(why);
  if (ec) close();
  return ec;
}

std::error_code mdns_sockets::open_ipv4(error_sentence& why) noexcept {
  ipv4_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (ipv4_ < 0) {
    const int e = errno;
    return why.set(mdns_socket_errc::socket_failed, "cannot create the IPv4 mDNS socket: %s",
                   std::strerror(e));
  }
  const int fd = ipv4_;
  const unsigned char ttl = link_local_ttl; // unsigned char: what BSDs require, Linux accepts
  const unsigned char loop = 1;
  if (auto ec = set_option(fd, AF_INET, SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR", 1, why))
    return ec;
#ifdef SO_REUSEPORT
  if (auto ec = set_option(fd, AF_INET, SOL_SOCKET, SO_REUSEPORT, "SO_REUSEPORT", 1, why))
    return ec;
#endif
  if (auto ec = set_option(fd, AF_INET, IPPROTO_IP, IP_PKTINFO, "IP_PKTINFO", 1, why)) return ec;
  if (auto ec = set_option(fd, AF_INET, IPPROTO_IP, IP_MULTICAST_TTL, "IP_MULTICAST_TTL", ttl, why))
    return ec;
  if (auto ec = set_option(fd, AF_INET, IPPROTO_IP, IP_TTL, "IP_TTL", link_local_ttl, why))
    return ec;
  if (auto ec =
          set_option(fd, AF_INET, IPPROTO_IP, IP_MULTICAST_LOOP, "IP_MULTICAST_LOOP", loop, why))
    return ec;
#ifdef IP_MULTICAST_ALL
  if (auto ec = set_option(fd, AF_INET, IPPROTO_IP, IP_MULTICAST_ALL, "IP_MULTICAST_ALL", 0, why))
    return ec;
#endif
  sockaddr_in any{};
  any.sin_family = AF_INET;
  any.sin_port = htons(mdns_port);
  any.sin_addr.s_addr = htonl(INADDR_ANY);
  if (auto ec = bind_port(fd, AF_INET, reinterpret_cast<const sockaddr*>(&any), sizeof any, why))
    return ec;
  for (std::size_t i = 0; i < interface_count_; ++i) {
    const network_interface& itf = interfaces_[i];
    if (!itf.has_ipv4()) continue;
    ip_mreqn join{};
    std::memcpy(&join.imr_multiaddr, group_ipv4, 4);
    join.imr_ifindex = static_cast<int>(itf.index);
    if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &join, sizeof join) != 0 &&
        errno != EADDRINUSE) { // EADDRINUSE: this socket is a member already
      const int e = errno;
      return why.set(mdns_socket_errc::join_failed,
                     "cannot join 224.0.0.251 on %s: %s (is %s up, with an IPv4 address?)",
                     itf.name.data(), std::strerror(e), itf.name.data());
    }
  }
  return {};
}

std::error_code mdns_sockets::open_ipv6(error_sentence& why) noexcept {
  ipv6_ = ::socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (ipv6_ < 0) {
    const int e = errno;
    return why.set(mdns_socket_errc::socket_failed,
                   "cannot create the IPv6 mDNS socket: %s (is IPv6 disabled on this system?)",
                   std::strerror(e));
  }
  const int fd = ipv6_;
  if (auto ec = set_option(fd, AF_INET6, IPPROTO_IPV6, IPV6_V6ONLY, "IPV6_V6ONLY", 1, why))
    return ec;
  if (auto ec = set_option(fd, AF_INET6, SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR", 1, why))
    return ec;
#ifdef SO_REUSEPORT
  if (auto ec = set_option(fd, AF_INET6, SOL_SOCKET, SO_REUSEPORT, "SO_REUSEPORT", 1, why))
    return ec;
#endif
  if (auto ec =
          set_option(fd, AF_INET6, IPPROTO_IPV6, IPV6_RECVPKTINFO, "IPV6_RECVPKTINFO", 1, why))
    return ec;
  if (auto ec = set_option(fd, AF_INET6, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, "IPV6_MULTICAST_HOPS",
                           link_local_ttl, why))
    return ec;
  if (auto ec = set_option(fd, AF_INET6, IPPROTO_IPV6, IPV6_UNICAST_HOPS, "IPV6_UNICAST_HOPS",
                           link_local_ttl, why))
    return ec;
  if (auto ec = set_option(fd, AF_INET6, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, "IPV6_MULTICAST_LOOP",
                           1u, why))
    return ec;
#ifdef IPV6_MULTICAST_ALL
  if (auto ec =
          set_option(fd, AF_INET6, IPPROTO_IPV6, IPV6_MULTICAST_ALL, "IPV6_MULTICAST_ALL", 0, why))
    return ec;
#endif
  sockaddr_in6 any{};
  any.sin6_family = AF_INET6;
  any.sin6_port = htons(mdns_port);
  any.sin6_addr = in6addr_any;
  if (auto ec = bind_port(fd, AF_INET6, reinterpret_cast<const sockaddr*>(&any), sizeof any, why))
    return ec;
  for (std::size_t i = 0; i < interface_count_; ++i) {
    const network_interface& itf = interfaces_[i];
    if (!itf.has_ipv6()) continue;
    ipv6_mreq join{};
    std::memcpy(&join.ipv6mr_multiaddr, group_ipv6, 16);
    join.ipv6mr_interface = itf.index;
    if (setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &join, sizeof join) != 0 &&
        errno != EADDRINUSE) {
      const int e = errno;
      return why.set(mdns_socket_errc::join_failed,
                     "cannot join ff02::fb on %s: %s (is %s up, with IPv6 enabled?)",
                     itf.name.data(), std::strerror(e), itf.name.data());
    }
  }
  return {};
}

mdns_receive_result mdns_sockets::receive(int descriptor, std::span<std::byte> buffer,
                                          mdns_datagram& out) noexcept {
  sockaddr_storage source{};
  iovec data{buffer.data(), buffer.size()};
  alignas(cmsghdr) unsigned char control[control_size];
  msghdr message{};
  message.msg_name = &source;
  message.msg_namelen = sizeof source;
  message.msg_iov = &data;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  const ssize_t n = ::recvmsg(descriptor, &message, MSG_DONTWAIT);
  if (n < 0) {
    return errno == EINTR ? mdns_receive_result::dropped : mdns_receive_result::none_waiting;
  }
  // A datagram cut short would parse as a malformed (or, worse, different) message.
  if (message.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) return mdns_receive_result::dropped;

  std::uint32_t index = 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&message); c; c = CMSG_NXTHDR(&message, c)) {
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      in_pktinfo info;
      std::memcpy(&info, CMSG_DATA(c), sizeof info);
      index = static_cast<std::uint32_t>(info.ipi_ifindex);
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      in6_pktinfo info;
      std::memcpy(&info, CMSG_DATA(c), sizeof info);
      index = info.ipi6_ifindex;
    }
  }
  if (index == 0 || !find(index)) return mdns_receive_result::dropped;

  out = mdns_datagram{};
  out.from.interface = index;
  out.size = static_cast<std::size_t>(n);
  if (source.ss_family == AF_INET) {
    sockaddr_in sin;
    std::memcpy(&sin, &source, sizeof sin);
    std::memcpy(out.from.address.bytes.data(), &sin.sin_addr, 4);
    out.from.port = ntohs(sin.sin_port);
  } else if (source.ss_family == AF_INET6) {
    sockaddr_in6 sin6;
    std::memcpy(&sin6, &source, sizeof sin6);
    out.from.address.v6 = true;
    std::memcpy(out.from.address.bytes.data(), &sin6.sin6_addr, 16);
    out.from.port = ntohs(sin6.sin6_port);
  } else {
    return mdns_receive_result::dropped;
  }
  return mdns_receive_result::datagram;
}

std::error_code mdns_sockets::send(const lanyard::core::mdns_outgoing& out,
                                   std::span<const std::byte> packet,
                                   error_sentence& why) noexcept {
  const network_interface* via = find(out.interface);
  if (!via) {
    return why.set(mdns_socket_errc::send_failed,
                   "the responder sent a packet on interface index %u, which was not given to "
                   "the driver: dropped",
                   out.interface);
  }
  packet = packet.first(std::min(packet.size(), out.size));
  if (!out.multicast) {
    return out.destination.v6 ? send_ipv6(*via, out.destination, out.port, packet, why)
                              : send_ipv4(*via, out.destination, out.port, packet, why);
  }
  // RFC 6762 section 6.2: a multicast response goes to every family the interface has, each
  // copy carrying both families' addresses.
  std::error_code first;
  if (via->has_ipv4() && ipv4_ >= 0) {
    mdns_address group;
    std::memcpy(group.bytes.data(), group_ipv4, 4);
    first = send_ipv4(*via, group, mdns_port, packet, why);
  }
  if (via->has_ipv6() && ipv6_ >= 0) {
    mdns_address group;
    group.v6 = true;
    std::memcpy(group.bytes.data(), group_ipv6, 16);
    error_sentence why6;
    if (auto ec = send_ipv6(*via, group, mdns_port, packet, why6); ec && !first) {
      first = ec;
      why = why6;
    }
  }
  return first;
}

std::error_code mdns_sockets::send_ipv4(const network_interface& via, const mdns_address& to,
                                        std::uint16_t port, std::span<const std::byte> packet,
                                        error_sentence& why) noexcept {
  sockaddr_in destination{};
  destination.sin_family = AF_INET;
  destination.sin_port = htons(port);
  std::memcpy(&destination.sin_addr, to.bytes.data(), 4);
  // IP_PKTINFO names the interface for this one packet (multicast too: Linux takes the
  // outgoing interface from it before IP_MULTICAST_IF); the kernel picks the source address.
  in_pktinfo info{};
  info.ipi_ifindex = static_cast<int>(via.index);
  if (send_with_pktinfo(ipv4_, destination, IPPROTO_IP, IP_PKTINFO, info, packet)) return {};
  const int e = errno;
  char text[INET_ADDRSTRLEN] = "?";
  inet_ntop(AF_INET, to.bytes.data(), text, sizeof text);
  return why.set(mdns_socket_errc::send_failed, "sending %zu bytes to %s:%u on %s failed: %s",
                 packet.size(), text, port, via.name.data(), std::strerror(e));
}

std::error_code mdns_sockets::send_ipv6(const network_interface& via, const mdns_address& to,
                                        std::uint16_t port, std::span<const std::byte> packet,
                                        error_sentence& why) noexcept {
  sockaddr_in6 destination{};
  destination.sin6_family = AF_INET6;
  destination.sin6_port = htons(port);
  std::memcpy(&destination.sin6_addr, to.bytes.data(), 16);
  // ff02::fb and fe80::/10 mean nothing without the link they are on.
  const bool link_scope =
      is_link_local_ipv6(to) || (to.bytes[0] == 0xff && (to.bytes[1] & 0x0f) == 2);
  destination.sin6_scope_id = link_scope ? via.index : 0;
  in6_pktinfo info{};
  info.ipi6_ifindex = via.index;
  if (send_with_pktinfo(ipv6_, destination, IPPROTO_IPV6, IPV6_PKTINFO, info, packet)) return {};
  const int e = errno;
  char text[INET6_ADDRSTRLEN] = "?";
  inet_ntop(AF_INET6, to.bytes.data(), text, sizeof text);
  return why.set(mdns_socket_errc::send_failed, "sending %zu bytes to [%s]:%u on %s failed: %s",
                 packet.size(), text, port, via.name.data(), std::strerror(e));
}

} // namespace lamp
