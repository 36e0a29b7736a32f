// Interfaces as the kernel's table would list them, for the client's path tests
// (path_candidates, path_watcher): up or down, with their addresses.
#pragma once

#include <lanyard/link/network_interface.hpp>

#include <asio/ip/address.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace lanyard::test {

/// Interface `index` named `name` of `kind`, up (admin, running, operational) or down, with
/// `addresses` (/24 for IPv4, /64 for IPv6; an IPv6 link-local one scoped to `index`).
inline link::network_interface make_iface(std::uint32_t index, std::string name,
                                          link::interface_kind kind, bool up,
                                          std::vector<std::string> addresses) {
  link::network_interface i;
  i.index = index;
  i.name = std::move(name);
  i.kind = kind;
  i.admin_up = i.running = up;
  i.operational = up ? link::oper_state::up : link::oper_state::down;
  for (auto& a : addresses) {
    link::interface_address ia;
    ia.address = asio::ip::make_address(a);
    if (ia.address.is_v6() && ia.address.to_v6().is_link_local()) {
      auto v6 = ia.address.to_v6();
      v6.scope_id(index);
      ia.address = v6;
      ia.scope = link::address_scope::link;
    }
    ia.prefix_length = ia.address.is_v4() ? 24 : 64;
    i.addresses.push_back(ia);
  }
  return i;
}

} // namespace lanyard::test
