#include "netlink.hpp"

#include "lanyard/link/error.hpp"

#include <cstring>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

namespace lanyard::link::netlink {
namespace {

constexpr std::size_t align4(std::size_t n) {
  return (n + 3) & ~std::size_t{3};
}

template <class T>
bool read_struct(std::span<const std::byte> bytes, T& out) {
  if (bytes.size() < sizeof(T)) return false;
  std::memcpy(&out, bytes.data(), sizeof(T));
  return true;
}

/// Walks the rtattr list in `bytes`, calling f(type, payload) for each attribute. Returns false
/// if an attribute's length does not fit (the message is malformed).
template <class F>
bool for_each_attribute(std::span<const std::byte> bytes, F&& f) {
  while (!bytes.empty()) {
    rtattr a;
    if (!read_struct(bytes, a)) return false;
    if (a.rta_len < sizeof(rtattr) || a.rta_len > bytes.size()) return false;
    f(static_cast<std::uint16_t>(a.rta_type & NLA_TYPE_MASK),
      bytes.subspan(sizeof(rtattr), a.rta_len - sizeof(rtattr)));
    const std::size_t step = align4(a.rta_len);
    if (step >= bytes.size()) break; // the last attribute may omit its padding
    bytes = bytes.subspan(step);
  }
  return true;
}

template <class T>
bool read_scalar(std::span<const std::byte> payload, T& out) {
  if (payload.size() < sizeof(T)) return false;
  std::memcpy(&out, payload.data(), sizeof(T));
  return true;
}

/// A NUL-terminated string attribute; anything after the first NUL is ignored. No NUL at all
/// is malformed (the kernel always terminates its strings).
bool read_string(std::span<const std::byte> payload, std::string& out, std::size_t max) {
  const auto* p = reinterpret_cast<const char*>(payload.data());
  const void* nul = std::memchr(p, 0, payload.size());
  if (!nul) return false;
  const auto n = static_cast<std::size_t>(static_cast<const char*>(nul) - p);
  if (n > max) return false;
  out.assign(p, n);
  return true;
}

bool address_length_ok(std::uint8_t family, std::size_t size) {
  return (family == AF_INET && size == 4) || (family == AF_INET6 && size == 16);
}

std::error_code malformed() {
  return make_error_code(link_errc::netlink_malformed);
}

bool parse_link(std::span<const std::byte> body, link_message& m) {
  ifinfomsg ifi;
  if (!read_struct(body, ifi)) return false;
  if (ifi.ifi_index <= 0) return false;
  m.index = static_cast<std::uint32_t>(ifi.ifi_index);
  m.family = ifi.ifi_family;
  m.flags = ifi.ifi_flags;
  m.arp_type = ifi.ifi_type;
  bool ok = true;
  if (!for_each_attribute(body.subspan(align4(sizeof(ifinfomsg)) <= body.size()
                                           ? align4(sizeof(ifinfomsg))
                                           : body.size()),
                          [&](std::uint16_t type, std::span<const std::byte> p) {
                            switch (type) {
                            case IFLA_IFNAME:
                              ok = ok && read_string(p, m.name, 15); // IFNAMSIZ - 1
                              break;
                            case IFLA_OPERSTATE:
                              ok = ok && read_scalar(p, m.operstate);
                              m.has_operstate = ok;
                              break;
                            case IFLA_MTU:
                              ok = ok && read_scalar(p, m.mtu);
                              break;
                            default:
                              break;
                            }
                          }))
    return false;
  return ok;
}

bool parse_address(std::span<const std::byte> body, address_message& m, bool& skip) {
  ifaddrmsg ifa;
  if (!read_struct(body, ifa)) return false;
  if (ifa.ifa_family != AF_INET && ifa.ifa_family != AF_INET6) {
    skip = true; // e.g. AF_MCTP, AF_DECnet: not ours
    return true;
  }
  if (ifa.ifa_index == 0) return false;
  m.index = ifa.ifa_index;
  m.family = ifa.ifa_family;
  m.prefix_length = ifa.ifa_prefixlen;
  if (m.prefix_length > (m.family == AF_INET ? 32 : 128)) return false;
  m.scope = ifa.ifa_scope;
  m.flags = ifa.ifa_flags;
  bool ok = true, have_local = false, have_address = false;
  std::array<std::uint8_t, 16> address{};
  const std::size_t off = align4(sizeof(ifaddrmsg));
  if (!for_each_attribute(body.subspan(off <= body.size() ? off : body.size()),
                          [&](std::uint16_t type, std::span<const std::byte> p) {
                            switch (type) {
                            case IFA_LOCAL:
                              if (!address_length_ok(m.family, p.size()))
                                ok = false;
                              else {
                                std::memcpy(m.address.data(), p.data(), p.size());
                                have_local = true;
                              }
                              break;
                            case IFA_ADDRESS:
                              if (!address_length_ok(m.family, p.size()))
                                ok = false;
                              else {
                                std::memcpy(address.data(), p.data(), p.size());
                                have_address = true;
                              }
                              break;
                            case IFA_LABEL:
                              ok = ok && read_string(p, m.label, 15);
                              break;
                            case IFA_FLAGS:
                              ok = ok && read_scalar(p, m.flags);
                              break;
                            default:
                              break;
                            }
                          }))
    return false;
  if (!ok || (!have_local && !have_address)) return false;
  // IFA_LOCAL is the local end of a point-to-point address; IFA_ADDRESS the peer there, and the
  // local address everywhere else.
  if (!have_local) m.address = address;
  return true;
}

bool parse_route(std::span<const std::byte> body, route_message& m, bool& skip) {
  rtmsg rt;
  if (!read_struct(body, rt)) return false;
  if (rt.rtm_family != AF_INET && rt.rtm_family != AF_INET6) {
    skip = true;
    return true;
  }
  m.family = rt.rtm_family;
  m.dst_length = rt.rtm_dst_len;
  if (m.dst_length > (m.family == AF_INET ? 32 : 128)) return false;
  m.table = rt.rtm_table;
  m.table_id = rt.rtm_table;
  m.type = rt.rtm_type;
  bool ok = true;
  const std::size_t off = align4(sizeof(rtmsg));
  if (!for_each_attribute(
          body.subspan(off <= body.size() ? off : body.size()),
          [&](std::uint16_t type, std::span<const std::byte> p) {
            switch (type) {
            case RTA_OIF:
              ok = ok && read_scalar(p, m.oif);
              break;
            case RTA_GATEWAY:
              if (!address_length_ok(m.family, p.size()))
                ok = false;
              else {
                std::memcpy(m.gateway.data(), p.data(), p.size());
                m.has_gateway = true;
              }
              break;
            case RTA_DST:
              if (!address_length_ok(m.family, p.size())) ok = false;
              m.has_dst = true;
              break;
            case RTA_PRIORITY:
              ok = ok && read_scalar(p, m.priority);
              break;
            case RTA_TABLE:
              ok = ok && read_scalar(p, m.table_id);
              m.table = m.table_id <= 255 ? static_cast<std::uint8_t>(m.table_id) : 0;
              break;
            case RTA_MULTIPATH: {
              // A list of rtnexthop; take the first hop's interface as the route's.
              rtnexthop nh;
              if (!read_struct(p, nh) || nh.rtnh_len < sizeof(rtnexthop) || nh.rtnh_len > p.size())
                ok = false;
              else if (m.oif == 0 && nh.rtnh_ifindex > 0)
                m.oif = static_cast<std::uint32_t>(nh.rtnh_ifindex);
              break;
            }
            default:
              break;
            }
          }))
    return false;
  return ok;
}

} // namespace

std::error_code parse(std::span<const std::byte> datagram, visitor& v) {
  while (!datagram.empty()) {
    nlmsghdr nh;
    if (!read_struct(datagram, nh)) return malformed();
    if (nh.nlmsg_len < sizeof(nlmsghdr) || nh.nlmsg_len > datagram.size()) return malformed();
    const header h{nh.nlmsg_type, nh.nlmsg_flags, nh.nlmsg_seq, nh.nlmsg_pid};
    const auto body = datagram.subspan(sizeof(nlmsghdr), nh.nlmsg_len - sizeof(nlmsghdr));
    switch (nh.nlmsg_type) {
    case NLMSG_NOOP:
      break;
    case NLMSG_DONE:
      v.on_done(h);
      break;
    case NLMSG_ERROR: {
      nlmsgerr e;
      if (!read_struct(body, e))
        v.on_malformed(h, malformed());
      else
        v.on_error(h, e.error);
      break;
    }
    case RTM_NEWLINK:
    case RTM_DELLINK: {
      link_message m;
      m.removed = nh.nlmsg_type == RTM_DELLINK;
      if (parse_link(body, m))
        v.on_link(h, m);
      else
        v.on_malformed(h, malformed());
      break;
    }
    case RTM_NEWADDR:
    case RTM_DELADDR: {
      address_message m;
      m.removed = nh.nlmsg_type == RTM_DELADDR;
      bool skip = false;
      if (!parse_address(body, m, skip))
        v.on_malformed(h, malformed());
      else if (!skip)
        v.on_address(h, m);
      break;
    }
    case RTM_NEWROUTE:
    case RTM_DELROUTE: {
      route_message m;
      m.removed = nh.nlmsg_type == RTM_DELROUTE;
      bool skip = false;
      if (!parse_route(body, m, skip))
        v.on_malformed(h, malformed());
      else if (!skip)
        v.on_route(h, m);
      break;
    }
    default:
      break; // a type we did not ask for
    }
    const std::size_t step = align4(nh.nlmsg_len);
    if (step >= datagram.size()) break;
    datagram = datagram.subspan(step);
  }
  return {};
}

std::vector<std::byte> dump_request(std::uint16_t type, std::uint8_t family, std::uint32_t seq) {
  std::size_t body = type == RTM_GETLINK   ? sizeof(ifinfomsg)
                     : type == RTM_GETADDR ? sizeof(ifaddrmsg)
                                           : sizeof(rtmsg);
  std::vector<std::byte> out(align4(sizeof(nlmsghdr) + body));
  nlmsghdr nh{};
  nh.nlmsg_len = static_cast<std::uint32_t>(sizeof(nlmsghdr) + body);
  nh.nlmsg_type = type;
  nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  nh.nlmsg_seq = seq;
  std::memcpy(out.data(), &nh, sizeof nh);
  // ifinfomsg, ifaddrmsg and rtmsg all begin with the family byte.
  out[sizeof(nlmsghdr)] = static_cast<std::byte>(family);
  return out;
}

} // namespace lanyard::link::netlink
