#include "lanyard/discovery/directory.hpp"

#include <algorithm>

namespace lanyard::discovery {

namespace {

bool path_less(const accessory_path& a, const accessory_path& b) {
  return std::tie(a.interface.index, a.address, a.port) <
         std::tie(b.interface.index, b.address, b.port);
}

} // namespace

bool discovered_accessory::reachable() const {
  return std::any_of(paths.begin(), paths.end(),
                     [](const accessory_path& p) { return p.reachable; });
}

std::string_view to_string(directory_event_kind kind) noexcept {
  switch (kind) {
  case directory_event_kind::added:
    return "added";
  case directory_event_kind::updated:
    return "updated";
  case directory_event_kind::path_added:
    return "path_added";
  case directory_event_kind::path_removed:
    return "path_removed";
  case directory_event_kind::path_unreachable:
    return "path_unreachable";
  case directory_event_kind::path_reachable:
    return "path_reachable";
  case directory_event_kind::removed:
    return "removed";
  }
  return "?";
}

directory::instance_key directory::key_of(const service_instance& s) {
  return {s.interface.index, static_cast<int>(s.protocol), s.name, s.type, s.domain};
}

std::string directory::id_of(const service_instance& s) {
  if (const auto* e = s.txt.find("id"); e && e->value && !e->value->empty()) return *e->value;
  return "name:" + s.name;
}

std::vector<directory_event> directory::recompute(entry& e) {
  std::vector<accessory_path> now;
  for (const auto& k : e.instances) {
    const service_instance& s = instances_.at(k).service;
    for (const auto& a : s.addresses) {
      accessory_path p{s.interface, a, s.port, true};
      if (std::none_of(now.begin(), now.end(),
                       [&](const accessory_path& q) { return same_path(p, q); }))
        now.push_back(p);
    }
  }
  std::sort(now.begin(), now.end(), path_less);
  std::vector<directory_event> out;
  // Keep what connection attempts reported about paths that are still there.
  for (auto& p : now)
    for (const auto& old : e.acc.paths)
      if (same_path(p, old)) p.reachable = old.reachable;
  std::vector<accessory_path> removed, added;
  for (const auto& old : e.acc.paths)
    if (std::none_of(now.begin(), now.end(),
                     [&](const accessory_path& q) { return same_path(old, q); }))
      removed.push_back(old);
  for (const auto& p : now)
    if (std::none_of(e.acc.paths.begin(), e.acc.paths.end(),
                     [&](const accessory_path& q) { return same_path(p, q); }))
      added.push_back(p);
  e.acc.paths = std::move(now);
  e.acc.instances = e.instances.size();
  for (auto& p : removed)
    out.push_back({directory_event_kind::path_removed, e.acc, p});
  for (auto& p : added)
    out.push_back({directory_event_kind::path_added, e.acc, p});
  return out;
}

std::vector<directory_event> directory::remove_instance(const instance_key& k) {
  std::vector<directory_event> out;
  auto it = instances_.find(k);
  if (it == instances_.end()) return out;
  std::string id = it->second.accessory_id;
  instances_.erase(it);
  auto eit = accessories_.find(id);
  if (eit == accessories_.end()) return out;
  entry& e = eit->second;
  e.instances.erase(k);
  if (e.instances.empty()) {
    out.push_back({directory_event_kind::removed, e.acc, {}});
    accessories_.erase(eit);
    return out;
  }
  return recompute(e);
}

std::vector<directory_event> directory::apply(const browse_event& be) {
  const instance_key k = key_of(be.service);
  if (be.kind == browse_event_kind::removed) return remove_instance(k);

  std::vector<directory_event> out;
  const std::string id = id_of(be.service);
  if (auto it = instances_.find(k); it != instances_.end() && it->second.accessory_id != id) {
    // The instance now claims another device id: it leaves its old accessory.
    out = remove_instance(k);
  }
  instances_[k] = instance_state{id, be.service};

  auto [eit, fresh] = accessories_.try_emplace(id);
  entry& e = eit->second;
  e.instances.insert(k);
  if (fresh) {
    e.acc.id = id;
    e.acc.name = be.service.name;
    e.acc.txt = be.service.txt;
    auto paths = recompute(e);
    out.push_back({directory_event_kind::added, e.acc, {}});
    out.insert(out.end(), paths.begin(), paths.end());
    return out;
  }
  bool changed = false;
  if (e.acc.name != be.service.name || !(e.acc.txt == be.service.txt)) {
    e.acc.name = be.service.name;
    e.acc.txt = be.service.txt;
    changed = true;
  }
  auto paths = recompute(e);
  if (changed) out.push_back({directory_event_kind::updated, e.acc, {}});
  out.insert(out.end(), paths.begin(), paths.end());
  // A fresh announcement of an instance (added) is evidence that its paths work again.
  if (be.kind == browse_event_kind::added)
    for (const auto& a : be.service.addresses) {
      auto more = set_reachability(be.service.interface.index, a, be.service.port, true);
      out.insert(out.end(), more.begin(), more.end());
    }
  return out;
}

std::vector<directory_event> directory::set_reachability(unsigned index, const asio::ip::address& a,
                                                         std::uint16_t port, bool reachable) {
  std::vector<directory_event> out;
  for (auto& [id, e] : accessories_)
    for (auto& p : e.acc.paths)
      if (p.interface.index == index && p.address == a && p.port == port &&
          p.reachable != reachable) {
        p.reachable = reachable;
        out.push_back({reachable ? directory_event_kind::path_reachable
                                 : directory_event_kind::path_unreachable,
                       e.acc, p});
      }
  return out;
}

std::vector<directory_event> directory::report_unreachable(unsigned interface_index,
                                                           const asio::ip::address& address,
                                                           std::uint16_t port) {
  return set_reachability(interface_index, address, port, false);
}

std::vector<directory_event> directory::report_reachable(unsigned interface_index,
                                                         const asio::ip::address& address,
                                                         std::uint16_t port) {
  return set_reachability(interface_index, address, port, true);
}

const discovered_accessory* directory::find(std::string_view id) const {
  auto it = accessories_.find(id);
  return it == accessories_.end() ? nullptr : &it->second.acc;
}

std::vector<discovered_accessory> directory::accessories() const {
  std::vector<discovered_accessory> out;
  for (const auto& [id, e] : accessories_)
    out.push_back(e.acc);
  return out;
}

} // namespace lanyard::discovery
