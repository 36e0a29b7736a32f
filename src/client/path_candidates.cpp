#include "path_candidates.hpp"

#include <lanyard/link/interface_policy.hpp>
#include <lanyard/link/socket_binding.hpp>

#include <algorithm>

namespace lanyard::client::detail {

namespace {

const link::network_interface* find(std::span<const link::network_interface> ifs,
                                    std::uint32_t index) {
  auto it = std::find_if(ifs.begin(), ifs.end(), [&](const auto& i) { return i.index == index; });
  return it == ifs.end() ? nullptr : &*it;
}

const link::network_interface* find(std::span<const link::network_interface> ifs,
                                    const std::string& name) {
  auto it = std::find_if(ifs.begin(), ifs.end(), [&](const auto& i) { return i.name == name; });
  return it == ifs.end() ? nullptr : &*it;
}

bool is_link_local(const asio::ip::address& a) {
  return a.is_v6() && a.to_v6().is_link_local();
}

// The address without its scope, for messages and ranking ("fe80::1").
std::string plain(const asio::ip::address& a) {
  if (!a.is_v6()) return a.to_string();
  auto v6 = a.to_v6();
  v6.scope_id(0);
  return v6.to_string();
}

path_target make_target(const asio::ip::address& address, std::uint16_t port, bool reachable,
                        const link::network_interface* iface, const std::string& wanted_name,
                        const interface_usable& usable) {
  path_target t;
  core::path_candidate& c = t.path;
  c.family = address.is_v6() ? core::address_family::ipv6 : core::address_family::ipv4;
  c.address = plain(address);
  c.link_local = is_link_local(address);
  c.reachable = reachable;
  t.endpoint = asio::ip::tcp::endpoint(address, port);
  if (iface) {
    c.interface_index = iface->index;
    c.interface_name = iface->name;
    c.kind = iface->kind;
    c.interface_up = usable ? usable(*iface) : iface->up();
    c.has_source_address = iface->source_for(address) != nullptr;
    t.bind_to = *iface;
    t.endpoint = link::scoped_endpoint(t.endpoint, *iface);
  } else if (!wanted_name.empty()) {
    // Named but absent (e.g. the SoftAP link not joined yet): a down interface, so the
    // reason says so.
    c.interface_name = wanted_name;
    c.interface_up = false;
  }
  return t;
}

// A discovered path over an interface the local table does not list (yet): discovery saw the
// accessory there, so it is tried, unpinned (the routing table decides), with discovery's
// idea of the interface for ranking and messages.
path_target discovered_target(const discovery::accessory_path& p,
                              std::span<const link::network_interface> interfaces,
                              const interface_usable& usable) {
  const auto* iface = find(interfaces, p.interface.index);
  path_target t = make_target(p.address, p.port, p.reachable, iface, {}, usable);
  t.path.discovered = true;
  if (iface) return t;
  t.path.interface_index = p.interface.index;
  t.path.interface_name = p.interface.name;
  t.path.kind = p.interface.kind;
  return t;
}

} // namespace

std::vector<path_target> all_targets(std::span<const discovery::accessory_path> discovered,
                                     std::span<const static_path> statics,
                                     std::span<const link::network_interface> interfaces,
                                     const interface_usable& usable) {
  std::vector<path_target> all;
  for (const auto& p : discovered)
    all.push_back(discovered_target(p, interfaces, usable));
  for (const auto& s : statics) {
    const auto* iface = s.interface_name.empty() ? nullptr : find(interfaces, s.interface_name);
    all.push_back(make_target(s.address, s.port, true, iface, s.interface_name, usable));
  }
  return all;
}

} // namespace lanyard::client::detail
