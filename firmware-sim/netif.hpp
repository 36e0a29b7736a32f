// The simulated radio's view of the host's interfaces (the lab's namespaces): which interface
// has an address, whether one is up with carrier and addresses, and taking one down.
#pragma once

#include <asio/ip/address.hpp>

#include <string>
#include <vector>

namespace lanyard::sim {

/// The name of the interface that has `addr`, or empty.
std::string interface_with_address(const asio::ip::address& addr);

/// The addresses of `ifname` if it is up with carrier: IPv4, and IPv6 other than link-local
/// (at most core::provisioning_progress::max_addresses). Empty if it is down or has none.
std::vector<std::string> usable_addresses(const std::string& ifname);

/// Sets `ifname` administratively down (needs CAP_NET_ADMIN: root in the lab's namespace).
/// False with `error` (strerror) if it cannot.
bool set_link_down(const std::string& ifname, std::string& error);

} // namespace lanyard::sim
