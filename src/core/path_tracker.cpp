#include "lanyard/core/path_tracker.hpp"

#include <algorithm>

namespace lanyard::core {

path_tracker::path_tracker(path_tracker_settings settings)
    : settings_(std::move(settings)),
      upgrades_({settings_.mode, settings_.move_back_hold, settings_.rtt_ratio}) {}

void path_tracker::update(std::vector<tracked_path> paths, time_point now) {
  paths_ = std::move(paths);
  find_active();
  rank(now);
  reevaluate(now);
}

void path_tracker::set_active(std::optional<tracked_path> path, time_point now) {
  active_ = std::move(path);
  find_active();
  if (!active_) {
    upgrades_.set_active(std::nullopt, now);
  } else {
    const path_candidate& p = active_->facts;
    upgrade_path u{p.interface_index, settings_.policy.rank(p.kind), std::nullopt};
    if (auto it = rtt_by_interface_.find(p.interface_index); it != rtt_by_interface_.end())
      u.rtt = it->second;
    upgrades_.set_active(u, now);
  }
  reevaluate(now);
}

void path_tracker::find_active() {
  active_index_.reset();
  if (!active_) return;
  for (std::size_t i = 0; i < paths_.size(); ++i)
    if (paths_[i].same_path(*active_)) active_index_ = i;
}

void path_tracker::rtt_sample(std::chrono::nanoseconds srtt, time_point now) {
  if (!active_) return;
  rtt_by_interface_[active_->facts.interface_index] = srtt;
  rank(now);
  // Handover mode ranks by kind: an RTT changes nothing there (and must not restart a hold).
  if (settings_.mode == ranking_mode::interactive) reevaluate(now);
}

void path_tracker::suspect_active(time_point now) {
  if (active_) suspect(active_->facts.interface_index, now + settings_.suspect_for, now);
}

void path_tracker::suspect(std::uint32_t interface_index, time_point until, time_point now) {
  if (interface_index == 0) return;
  suspect_until_[interface_index] = until;
  rank(now);
}

void path_tracker::interface_changed_state(std::uint32_t interface_index, time_point now) {
  if (suspect_until_.erase(interface_index) == 0) return;
  rank(now);
  reevaluate(now);
}

void path_tracker::handle_deadline(time_point now) {
  rank(now);
  reevaluate(now);
}

bool path_tracker::suspected(std::uint32_t interface_index, time_point now) const noexcept {
  auto it = suspect_until_.find(interface_index);
  return it != suspect_until_.end() && now < it->second;
}

void path_tracker::rank(time_point now) {
  std::erase_if(suspect_until_, [now](const auto& s) { return s.second <= now; });
  std::vector<path_candidate> candidates;
  candidates.reserve(paths_.size());
  for (const tracked_path& p : paths_) {
    candidates.push_back(p.facts);
    auto it = rtt_by_interface_.find(p.facts.interface_index);
    candidates.back().rtt =
        it == rtt_by_interface_.end() ? std::nullopt : std::optional(it->second);
  }
  ranking_ = rank_paths(candidates, settings_.policy, settings_.mode);
  std::stable_partition(ranking_.viable.begin(), ranking_.viable.end(), [&](std::size_t i) {
    return !suspected(paths_[i].facts.interface_index, now);
  });
  for (std::size_t i = 0; i < paths_.size(); ++i)
    paths_[i].facts.rtt = candidates[i].rtt;
}

void path_tracker::reevaluate(time_point now) {
  std::vector<upgrade_path> viable;
  for (std::size_t i : ranking_.viable) {
    const path_candidate& p = paths_[i].facts;
    if (suspected(p.interface_index, now)) continue; // never moved back to while suspect
    if (std::any_of(viable.begin(), viable.end(),
                    [&](const upgrade_path& v) { return v.interface_index == p.interface_index; }))
      continue; // one entry per interface: moves are between links
    viable.push_back({p.interface_index, settings_.policy.rank(p.kind), p.rtt});
  }
  upgrades_.update(viable, now);
  auto u = upgrades_.poll_upgrade();
  if (!u) return;
  for (std::size_t i : ranking_.viable)
    if (paths_[i].facts.interface_index == u->interface_index) {
      advice_ = upgrade_advice{i, u->reason == upgrade_reason::lower_rtt
                                      ? path_change_reason::lower_rtt
                                      : path_change_reason::preferred_path_available};
      return;
    }
}

kind_set path_tracker::viable_kinds() const noexcept {
  kind_set kinds;
  for (std::size_t i : ranking_.viable)
    kinds.insert(paths_[i].facts.kind);
  return kinds;
}

bool path_tracker::other_interface_viable(std::string_view interface_name) const noexcept {
  return std::any_of(ranking_.viable.begin(), ranking_.viable.end(), [&](std::size_t i) {
    return paths_[i].facts.interface_name != interface_name;
  });
}

std::optional<upgrade_advice> path_tracker::poll_upgrade() {
  auto a = advice_;
  advice_.reset();
  return a;
}

path_tracker::time_point path_tracker::next_deadline() const noexcept {
  time_point t = upgrades_.next_deadline();
  for (const auto& s : suspect_until_)
    t = std::min(t, s.second);
  return t;
}

} // namespace lanyard::core
