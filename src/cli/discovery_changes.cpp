#include "discovery_changes.hpp"

#include <algorithm>

namespace lanyard::cli {

namespace {

const discovery::accessory_path* find_path(const std::vector<discovery::accessory_path>& in,
                                           const discovery::accessory_path& p) {
  auto it = std::find_if(in.begin(), in.end(),
                         [&](const discovery::accessory_path& q) { return same_path(p, q); });
  return it == in.end() ? nullptr : &*it;
}

} // namespace

std::vector<discovery::directory_event> discovery_changes::apply(const app::discovery_event& e) {
  using dk = discovery::directory_event_kind;
  std::vector<discovery::directory_event> out;
  if (e.info.id != id_) return out;
  auto event = [&](dk kind, const discovery::accessory_path& p = {}) {
    discovery::directory_event d{kind, {}, p};
    d.accessory.id = id_;
    out.push_back(std::move(d));
  };
  if (e.what_happened == app::discovery_event::kind::disappeared) {
    // The directory forgets a removed accessory's paths: a return is an `added` again.
    if (present_) event(dk::removed);
    present_ = false;
    paths_.clear();
    return out;
  }
  const std::vector<discovery::accessory_path>& now = e.info.paths;
  if (!present_) {
    // A pairing-only change (forget) of an accessory not on the network is no discovery.
    if (e.what_happened != app::discovery_event::kind::appeared && now.empty()) return out;
    present_ = true;
    event(dk::added);
    for (const auto& p : now)
      event(dk::path_added, p);
    paths_ = now;
    return out;
  }
  if (e.what_happened == app::discovery_event::kind::changed &&
      has(e.what, app::accessory_change::txt))
    event(dk::updated);
  for (const auto& p : paths_)
    if (!find_path(now, p)) event(dk::path_removed, p);
  for (const auto& p : now)
    if (!find_path(paths_, p)) event(dk::path_added, p);
  for (const auto& p : now)
    if (const auto* before = find_path(paths_, p); before && before->reachable != p.reachable)
      event(p.reachable ? dk::path_reachable : dk::path_unreachable, p);
  paths_ = now;
  return out;
}

} // namespace lanyard::cli
