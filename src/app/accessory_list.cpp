#include "accessory_list.hpp"

#include <algorithm>
#include <map>

namespace lanyard::app::detail {

namespace {

bool pinned(const trust::trust_store* store, std::string_view id) {
  return store != nullptr && store->find(id).has_value();
}

accessory_info from(const discovery::discovered_accessory& a, bool paired) {
  accessory_info info;
  info.id = a.id;
  info.name = a.name;
  info.txt = a.txt;
  const core::txt_entry* sf = a.txt.find("sf");
  info.pairing_window_open = sf != nullptr && sf->value && *sf->value == "1";
  info.paired = paired;
  info.reachable = a.reachable();
  info.paths = a.paths;
  info.instances = a.instances;
  return info;
}

} // namespace

accessory_info describe(std::string_view id, const discovery::directory& dir,
                        const trust::trust_store* store) {
  const bool paired = pinned(store, id);
  if (const auto* a = dir.find(id)) return from(*a, paired);
  accessory_info info;
  info.id = std::string(id);
  info.paired = paired;
  return info;
}

std::vector<accessory_info> list_accessories(const discovery::directory& dir,
                                             const trust::trust_store* store) {
  std::map<std::string, accessory_info, std::less<>> by_id;
  for (const auto& a : dir.accessories())
    by_id.emplace(a.id, from(a, pinned(store, a.id)));
  if (store != nullptr)
    for (const auto& r : store->list())
      if (!by_id.contains(r.device_id))
        by_id.emplace(r.device_id, describe(r.device_id, dir, store));
  std::vector<accessory_info> out;
  out.reserve(by_id.size());
  for (auto& [id, info] : by_id)
    out.push_back(std::move(info));
  return out;
}

std::vector<discovery_event> to_discovery_events(std::span<const discovery::directory_event> events,
                                                 const trust::trust_store* store) {
  using dk = discovery::directory_event_kind;
  std::vector<discovery_event> out;
  for (const auto& e : events) {
    discovery_event ev;
    ev.info = from(e.accessory, pinned(store, e.accessory.id));
    switch (e.kind) {
    case dk::added:
      ev.what_happened = discovery_event::kind::appeared;
      break;
    case dk::removed:
      ev.what_happened = discovery_event::kind::disappeared;
      ev.info.reachable = false; // its paths stay as they were last seen
      ev.info.instances = 0;     // the directory's `removed` carries the one that just left
      break;
    case dk::updated:
      ev.what_happened = discovery_event::kind::changed;
      ev.what = accessory_change::txt;
      break;
    case dk::path_added:
    case dk::path_removed:
    case dk::path_unreachable:
    case dk::path_reachable:
      ev.what_happened = discovery_event::kind::changed;
      ev.what = accessory_change::paths;
      break;
    }
    // One event per accessory and batch: later changes of the same one fold into the first
    // (an `appeared` already carries its paths; a `changed` gathers what changed).
    auto same = std::find_if(out.begin(), out.end(),
                             [&](const discovery_event& o) { return o.info.id == ev.info.id; });
    if (same == out.end()) {
      out.push_back(std::move(ev));
      continue;
    }
    if (ev.what_happened == discovery_event::kind::disappeared) {
      *same = std::move(ev);
      continue;
    }
    if (same->what_happened == discovery_event::kind::changed) same->what = same->what | ev.what;
    same->info = std::move(ev.info);
  }
  return out;
}

} // namespace lanyard::app::detail
