#include "network_interface.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace lamp {
namespace {

using lanyard::core::mdns_address;

// Lower ranks are kept first when the interface has more addresses than the responder holds.
int rank(const mdns_address& a) noexcept {
  if (!a.v6) return 0;
  const bool link_local = a.bytes[0] == 0xfe && (a.bytes[1] & 0xc0) == 0x80;
  return link_local ? 2 : 1;
}

} // namespace

bool network_interface::has_ipv4() const noexcept {
  return std::any_of(addresses.begin(), addresses.begin() + address_count,
                     [](const mdns_address& a) { return !a.v6; });
}

bool network_interface::has_ipv6() const noexcept {
  return std::any_of(addresses.begin(), addresses.begin() + address_count,
                     [](const mdns_address& a) { return a.v6; });
}

std::error_code find_network_interface(std::string_view name, network_interface& out,
                                       error_sentence& why) noexcept {
  out = network_interface{};
  if (name.empty() || name.size() >= out.name.size()) {
    return why.set(mdns_socket_errc::no_such_interface,
                   "no network interface is called '%.*s' (names have 1-%zu bytes; list them "
                   "with `ip link`)",
                   static_cast<int>(std::min<std::size_t>(name.size(), 64)), name.data(),
                   out.name.size() - 1);
  }
  std::memcpy(out.name.data(), name.data(), name.size());
  const char* ifname = out.name.data();

  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) {
    const int e = errno;
    return why.set(mdns_socket_errc::interface_list_failed,
                   "cannot list the network interfaces to find %s: getifaddrs: %s", ifname,
                   std::strerror(e));
  }
  bool found = false;
  unsigned flags = 0;
  // Candidates in getifaddrs() order, then ranked; more than fit are counted, not kept.
  std::array<mdns_address, 16> candidates{};
  std::size_t count = 0;
  std::size_t beyond = 0;
  for (const ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_name || std::strcmp(i->ifa_name, ifname) != 0) continue;
    found = true;
    flags = i->ifa_flags;
    if (!i->ifa_addr) continue;
    mdns_address a;
    if (i->ifa_addr->sa_family == AF_INET) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
      std::memcpy(a.bytes.data(), &sin->sin_addr, 4);
    } else if (i->ifa_addr->sa_family == AF_INET6) {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(i->ifa_addr);
      a.v6 = true;
      std::memcpy(a.bytes.data(), &sin6->sin6_addr, 16);
    } else {
      continue; // AF_PACKET and friends: not an address a peer connects to
    }
    if (count < candidates.size()) {
      candidates[count++] = a;
    } else {
      ++beyond;
    }
  }
  freeifaddrs(list);

  if (!found) {
    return why.set(mdns_socket_errc::no_such_interface,
                   "no network interface is called %s (list them with `ip link`)", ifname);
  }
  if (!(flags & IFF_UP)) {
    return why.set(mdns_socket_errc::interface_down,
                   "network interface %s is down: bring it up (`ip link set %s up`) before "
                   "publishing on it",
                   ifname, ifname);
  }
  if (!(flags & IFF_MULTICAST)) {
    return why.set(mdns_socket_errc::no_multicast,
                   "network interface %s cannot do multicast (no IFF_MULTICAST), which mDNS "
                   "needs: choose another interface",
                   ifname);
  }
  if (count == 0) {
    return why.set(mdns_socket_errc::no_address,
                   "network interface %s has no IPv4 or IPv6 address: publish once it has one "
                   "(DHCP or static configuration)",
                   ifname);
  }
  // By rank, keeping the kernel's order within one (an insertion sort: std::stable_sort would
  // take a temporary buffer from the heap, and the loop runs in fixed memory).
  for (std::size_t i = 1; i < count; ++i)
    for (std::size_t j = i; j > 0 && rank(candidates[j]) < rank(candidates[j - 1]); --j)
      std::swap(candidates[j], candidates[j - 1]);
  out.index = if_nametoindex(ifname);
  if (out.index == 0) {
    const int e = errno;
    return why.set(mdns_socket_errc::no_such_interface,
                   "network interface %s vanished while it was being read: %s", ifname,
                   std::strerror(e));
  }
  out.address_count = std::min(count, out.addresses.size());
  std::copy(candidates.begin(), candidates.begin() + out.address_count, out.addresses.begin());
  out.addresses_left_out = count - out.address_count + beyond;
  return {};
}

} // namespace lamp
