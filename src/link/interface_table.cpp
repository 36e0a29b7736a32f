#include "interface_table.hpp"

#include <algorithm>
#include <cstring>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

namespace lanyard::link {
namespace {

oper_state to_oper_state(std::uint8_t v) {
  switch (v) {
  case IF_OPER_NOTPRESENT:
    return oper_state::not_present;
  case IF_OPER_DOWN:
    return oper_state::down;
  case IF_OPER_LOWERLAYERDOWN:
    return oper_state::lower_layer_down;
  case IF_OPER_TESTING:
    return oper_state::testing;
  case IF_OPER_DORMANT:
    return oper_state::dormant;
  case IF_OPER_UP:
    return oper_state::up;
  default:
    return oper_state::unknown;
  }
}

address_scope to_scope(std::uint8_t v) {
  switch (v) {
  case RT_SCOPE_SITE:
    return address_scope::site;
  case RT_SCOPE_LINK:
    return address_scope::link;
  case RT_SCOPE_HOST:
    return address_scope::host;
  default:
    return address_scope::global;
  }
}

asio::ip::address to_address(std::uint8_t family, const std::array<std::uint8_t, 16>& bytes,
                             std::uint32_t scope_index) {
  if (family == AF_INET) {
    asio::ip::address_v4::bytes_type b;
    std::memcpy(b.data(), bytes.data(), 4);
    return asio::ip::address_v4(b);
  }
  asio::ip::address_v6::bytes_type b;
  std::memcpy(b.data(), bytes.data(), 16);
  asio::ip::address_v6 a(b);
  if (a.is_link_local()) a.scope_id(scope_index);
  return a;
}

} // namespace

interface_table::interface_table(core::link_debounce_settings debounce, kind_resolver resolve_kind)
    : debounce_settings_(debounce), resolve_kind_(std::move(resolve_kind)) {}

void interface_table::emit(std::vector<path_event>& out, path_event_type type,
                           const network_interface& iface, time_point now) const {
  path_event ev;
  ev.type = type;
  ev.iface = iface;
  ev.time = now;
  ev.available = type != path_event_type::interface_removed &&
                 type != path_event_type::interface_unavailable && available(iface.index);
  out.push_back(std::move(ev));
}

void interface_table::debounce_change(entry& e, core::link_change c, time_point now,
                                      std::vector<path_event>& out) const {
  if (c == core::link_change::went_up)
    emit(out, path_event_type::interface_available, e.iface, now);
  else if (c == core::link_change::went_down)
    emit(out, path_event_type::interface_unavailable, e.iface, now);
}

void interface_table::apply(const netlink::link_message& m, time_point now,
                            std::vector<path_event>& out) {
  // Bridge-port notifications (AF_BRIDGE) describe a port's membership, not the interface:
  // a port leaving a bridge sends RTM_DELLINK for AF_BRIDGE while the interface lives on.
  if (m.family != AF_UNSPEC) return;
  auto it = entries_.find(m.index);
  if (m.removed) {
    if (it != entries_.end()) remove_interface(it, now, out);
    return;
  }
  network_interface next;
  if (it != entries_.end()) next = it->second.iface;
  next.index = m.index;
  if (!m.name.empty() && m.name != next.name) {
    next.name = m.name;
    next.kind = resolve_kind_ ? resolve_kind_(next.name) : interface_kind_of(next.name);
  }
  next.admin_up = (m.flags & IFF_UP) != 0;
  next.running = (m.flags & IFF_RUNNING) != 0;
  if (m.has_operstate) next.operational = to_oper_state(m.operstate);
  if (m.mtu != 0) next.mtu = m.mtu;

  if (it == entries_.end()) {
    // Seen in the initial dump: its state is known, not a change. Appearing later: it has to
    // stay up for the hold-down like any link that comes back.
    const bool up = next.up();
    entry e{next,
            core::link_debounce(initial_complete_ ? false : up, now, debounce_settings_),
            generation_[0],
            {}};
    auto [pos, _] = entries_.emplace(m.index, std::move(e));
    emit(out, path_event_type::interface_added, pos->second.iface, now);
    if (initial_complete_ && up) {
      emit(out, path_event_type::interface_up, pos->second.iface, now);
      debounce_change(pos->second, pos->second.debounce.on_raw(true, now), now, out);
    }
    return;
  }
  entry& e = it->second;
  e.seen = generation_[0];
  const bool was_up = e.iface.up();
  e.iface = std::move(next);
  const bool is_up = e.iface.up();
  if (was_up != is_up) {
    emit(out, is_up ? path_event_type::interface_up : path_event_type::interface_down, e.iface,
         now);
    debounce_change(e, e.debounce.on_raw(is_up, now), now, out);
  }
}

void interface_table::remove_interface(std::map<std::uint32_t, entry>::iterator it, time_point now,
                                       std::vector<path_event>& out) {
  entry& e = it->second;
  // Gone is gone: no grace period, there is nothing left to come back.
  if (e.debounce.stable_up()) emit(out, path_event_type::interface_unavailable, e.iface, now);
  emit(out, path_event_type::interface_removed, e.iface, now);
  // The kernel removes the interface's default routes without telling us route by route.
  for (std::size_t i = 0; i < routes_.size();) {
    if (routes_[i].interface_index == e.iface.index) {
      path_event ev;
      ev.type = path_event_type::default_route_removed;
      ev.iface = e.iface;
      ev.route = routes_[i];
      ev.time = now;
      out.push_back(std::move(ev));
      routes_.erase(routes_.begin() + static_cast<std::ptrdiff_t>(i));
      route_seen_.erase(route_seen_.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      ++i;
    }
  }
  entries_.erase(it);
}

void interface_table::apply(const netlink::address_message& m, time_point now,
                            std::vector<path_event>& out) {
  auto it = entries_.find(m.index);
  if (it == entries_.end()) return; // the link is not known (yet); the next dump catches up
  entry& e = it->second;
  interface_address a;
  a.address = to_address(m.family, m.address, m.index);
  a.prefix_length = m.prefix_length;
  a.scope = to_scope(m.scope);
  a.tentative = (m.flags & IFA_F_TENTATIVE) != 0;
  a.dad_failed = (m.flags & IFA_F_DADFAILED) != 0;
  a.deprecated = (m.flags & IFA_F_DEPRECATED) != 0;
  a.permanent = (m.flags & IFA_F_PERMANENT) != 0;

  auto& list = e.iface.addresses;
  auto pos = std::find_if(list.begin(), list.end(), [&](const interface_address& x) {
    return x.address == a.address && x.prefix_length == a.prefix_length;
  });
  const auto i = static_cast<std::size_t>(pos - list.begin());
  path_event ev;
  ev.time = now;
  if (m.removed) {
    if (pos == list.end()) return;
    ev.type = path_event_type::address_removed;
    ev.address = *pos;
    list.erase(pos);
    e.address_seen.erase(e.address_seen.begin() + static_cast<std::ptrdiff_t>(i));
  } else if (pos == list.end()) {
    ev.type = path_event_type::address_added;
    ev.address = a;
    list.push_back(a);
    e.address_seen.push_back(generation_[1]);
  } else {
    e.address_seen[i] = generation_[1];
    if (*pos == a) return;
    ev.type = path_event_type::address_changed;
    ev.address = a;
    *pos = a;
  }
  ev.iface = e.iface;
  ev.available = e.debounce.stable_up();
  out.push_back(std::move(ev));
}

void interface_table::apply(const netlink::route_message& m, time_point now,
                            std::vector<path_event>& out) {
  if (m.dst_length != 0 || m.table_id != RT_TABLE_MAIN || m.type != RTN_UNICAST) return;
  default_route r;
  r.ipv6 = m.family == AF_INET6;
  r.interface_index = m.oif;
  if (m.has_gateway) r.gateway = to_address(m.family, m.gateway, m.oif);
  r.metric = m.priority;
  auto pos = std::find(routes_.begin(), routes_.end(), r);
  const auto i = static_cast<std::size_t>(pos - routes_.begin());
  path_event ev;
  ev.time = now;
  if (auto e = entries_.find(r.interface_index); e != entries_.end()) {
    ev.iface = e->second.iface;
    ev.available = e->second.debounce.stable_up();
  }
  if (m.removed) {
    if (pos == routes_.end()) return;
    routes_.erase(pos);
    route_seen_.erase(route_seen_.begin() + static_cast<std::ptrdiff_t>(i));
    ev.type = path_event_type::default_route_removed;
  } else if (pos == routes_.end()) {
    routes_.push_back(r);
    route_seen_.push_back(generation_[2]);
    ev.type = path_event_type::default_route_added;
  } else {
    route_seen_[i] = generation_[2];
    return;
  }
  ev.route = r;
  out.push_back(std::move(ev));
}

void interface_table::begin_dump(dump what) {
  ++generation_[static_cast<int>(what)];
}

void interface_table::end_dump(dump what, time_point now, std::vector<path_event>& out) {
  const auto gen = generation_[static_cast<int>(what)];
  switch (what) {
  case dump::links:
    for (auto it = entries_.begin(); it != entries_.end();) {
      auto next = std::next(it);
      if (it->second.seen != gen) remove_interface(it, now, out);
      it = next;
    }
    break;
  case dump::addresses:
    for (auto& [index, e] : entries_) {
      for (std::size_t i = 0; i < e.iface.addresses.size();) {
        if (e.address_seen[i] == gen) {
          ++i;
          continue;
        }
        path_event ev;
        ev.type = path_event_type::address_removed;
        ev.address = e.iface.addresses[i];
        ev.time = now;
        e.iface.addresses.erase(e.iface.addresses.begin() + static_cast<std::ptrdiff_t>(i));
        e.address_seen.erase(e.address_seen.begin() + static_cast<std::ptrdiff_t>(i));
        ev.iface = e.iface;
        ev.available = e.debounce.stable_up();
        out.push_back(std::move(ev));
      }
    }
    break;
  case dump::routes:
    for (std::size_t i = 0; i < routes_.size();) {
      if (route_seen_[i] == gen) {
        ++i;
        continue;
      }
      path_event ev;
      ev.type = path_event_type::default_route_removed;
      ev.route = routes_[i];
      ev.time = now;
      if (auto e = entries_.find(routes_[i].interface_index); e != entries_.end())
        ev.iface = e->second.iface;
      routes_.erase(routes_.begin() + static_cast<std::ptrdiff_t>(i));
      route_seen_.erase(route_seen_.begin() + static_cast<std::ptrdiff_t>(i));
      out.push_back(std::move(ev));
    }
    break;
  }
}

interface_table::time_point interface_table::next_deadline() const {
  auto t = time_point::max();
  for (const auto& [index, e] : entries_)
    t = std::min(t, e.debounce.next_deadline());
  return t;
}

void interface_table::handle_deadline(time_point now, std::vector<path_event>& out) {
  for (auto& [index, e] : entries_)
    debounce_change(e, e.debounce.handle_deadline(now), now, out);
}

void interface_table::replay(time_point now, std::vector<path_event>& out) const {
  for (const auto& [index, e] : entries_)
    emit(out, path_event_type::interface_added, e.iface, now);
  for (const auto& [index, e] : entries_)
    for (const auto& a : e.iface.addresses) {
      path_event ev;
      ev.type = path_event_type::address_added;
      ev.iface = e.iface;
      ev.address = a;
      ev.available = e.debounce.stable_up();
      ev.time = now;
      out.push_back(std::move(ev));
    }
  for (const auto& r : routes_) {
    path_event ev;
    ev.type = path_event_type::default_route_added;
    if (auto e = entries_.find(r.interface_index); e != entries_.end()) {
      ev.iface = e->second.iface;
      ev.available = e->second.debounce.stable_up();
    }
    ev.route = r;
    ev.time = now;
    out.push_back(std::move(ev));
  }
}

std::vector<network_interface> interface_table::interfaces() const {
  std::vector<network_interface> v;
  v.reserve(entries_.size());
  for (const auto& [index, e] : entries_)
    v.push_back(e.iface);
  return v;
}

const network_interface* interface_table::find(std::uint32_t index) const {
  auto it = entries_.find(index);
  return it == entries_.end() ? nullptr : &it->second.iface;
}

const network_interface* interface_table::find(std::string_view name) const {
  for (const auto& [index, e] : entries_)
    if (e.iface.name == name) return &e.iface;
  return nullptr;
}

bool interface_table::available(std::uint32_t index) const {
  auto it = entries_.find(index);
  return it != entries_.end() && it->second.debounce.stable_up();
}

} // namespace lanyard::link
