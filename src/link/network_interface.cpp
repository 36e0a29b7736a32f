#include "lanyard/link/network_interface.hpp"
#include "lanyard/link/path_event.hpp"

namespace lanyard::link {

std::string_view to_string(address_scope scope) noexcept {
  switch (scope) {
  case address_scope::global:
    return "global";
  case address_scope::site:
    return "site";
  case address_scope::link:
    return "link";
  case address_scope::host:
    return "host";
  }
  return "global";
}

std::string_view to_string(oper_state state) noexcept {
  switch (state) {
  case oper_state::unknown:
    return "unknown";
  case oper_state::not_present:
    return "notpresent";
  case oper_state::down:
    return "down";
  case oper_state::lower_layer_down:
    return "lowerlayerdown";
  case oper_state::testing:
    return "testing";
  case oper_state::dormant:
    return "dormant";
  case oper_state::up:
    return "up";
  }
  return "unknown";
}

std::string_view to_string(path_event_type type) noexcept {
  switch (type) {
  case path_event_type::interface_added:
    return "interface_added";
  case path_event_type::interface_removed:
    return "interface_removed";
  case path_event_type::interface_up:
    return "interface_up";
  case path_event_type::interface_down:
    return "interface_down";
  case path_event_type::interface_available:
    return "interface_available";
  case path_event_type::interface_unavailable:
    return "interface_unavailable";
  case path_event_type::address_added:
    return "address_added";
  case path_event_type::address_removed:
    return "address_removed";
  case path_event_type::address_changed:
    return "address_changed";
  case path_event_type::default_route_added:
    return "default_route_added";
  case path_event_type::default_route_removed:
    return "default_route_removed";
  case path_event_type::snapshot_complete:
    return "snapshot_complete";
  case path_event_type::events_lost:
    return "events_lost";
  }
  return "unknown";
}

const interface_address*
network_interface::source_for(const asio::ip::address& destination) const noexcept {
  const bool v6 = destination.is_v6();
  const bool want_link_local = v6 && destination.to_v6().is_link_local();
  const interface_address* best = nullptr;
  for (const auto& a : addresses) {
    if (a.address.is_v6() != v6 || !a.usable()) continue;
    if (v6) {
      const bool ll = a.address.to_v6().is_link_local();
      // A link-local source reaches only link-local destinations, and a link-local
      // destination is best reached from the link-local source.
      if (!want_link_local && ll) continue;
      if (want_link_local && !ll && best) continue;
      if (want_link_local && ll && best && best->address.to_v6().is_link_local()) continue;
    }
    if (a.scope == address_scope::host && !destination.is_loopback()) continue;
    if (!best || (best->deprecated && !a.deprecated) ||
        (want_link_local && a.address.to_v6().is_link_local() &&
         !best->address.to_v6().is_link_local()))
      best = &a;
  }
  return best;
}

std::string describe(const network_interface& iface) {
  std::string s = iface.name.empty() ? "#" + std::to_string(iface.index) : iface.name;
  s += " (";
  s += to_string(iface.kind);
  s += ")";
  return s;
}

} // namespace lanyard::link
