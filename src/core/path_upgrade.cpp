#include "lanyard/core/path_upgrade.hpp"

namespace lanyard::core {

std::string_view to_string(upgrade_reason reason) noexcept {
  switch (reason) {
  case upgrade_reason::preferred_path_available:
    return "preferred path available";
  case upgrade_reason::lower_rtt:
    return "lower RTT";
  }
  return "?";
}

path_upgrade_tracker::path_upgrade_tracker(path_upgrade_settings settings) : settings_(settings) {}

void path_upgrade_tracker::set_active(std::optional<upgrade_path> active, time_point) {
  active_ = active;
  candidate_.reset();
  advice_.reset();
}

bool path_upgrade_tracker::better(const upgrade_path& p) const noexcept {
  if (!active_ || p.interface_index == active_->interface_index) return false;
  if (settings_.mode == ranking_mode::handover) return p.preference_rank < active_->preference_rank;
  if (!p.rtt || !active_->rtt) return false;
  return static_cast<double>(p.rtt->count()) <
         settings_.rtt_ratio * static_cast<double>(active_->rtt->count());
}

void path_upgrade_tracker::update(std::span<const upgrade_path> viable, time_point now) {
  std::optional<upgrade_path> best;
  for (const auto& p : viable) {
    if (active_ && p.interface_index == active_->interface_index) {
      active_->rtt = p.rtt; // the active path's latest estimate
      continue;
    }
    if (!better(p)) continue;
    const bool beats_best = !best || (settings_.mode == ranking_mode::handover
                                          ? p.preference_rank < best->preference_rank
                                          : p.rtt < best->rtt);
    if (beats_best) best = p;
  }
  // In interactive mode the active RTT may have changed: re-check the running candidate.
  if (!best) {
    candidate_.reset();
    return;
  }
  // The hold continues only while the same interface stays better without interruption.
  if (!candidate_ || candidate_->interface_index != best->interface_index) candidate_since_ = now;
  candidate_ = best;
  consider(now);
}

void path_upgrade_tracker::handle_deadline(time_point now) {
  consider(now);
}

void path_upgrade_tracker::consider(time_point now) {
  if (!candidate_ || advice_ || now - candidate_since_ < settings_.hold) return;
  advice_ = path_upgrade{candidate_->interface_index, settings_.mode == ranking_mode::handover
                                                          ? upgrade_reason::preferred_path_available
                                                          : upgrade_reason::lower_rtt};
  // A failed move starts a new hold rather than retrying in a loop.
  candidate_since_ = now;
}

std::optional<path_upgrade> path_upgrade_tracker::poll_upgrade() {
  auto a = advice_;
  advice_.reset();
  return a;
}

path_upgrade_tracker::time_point path_upgrade_tracker::next_deadline() const noexcept {
  if (!candidate_ || advice_) return time_point::max();
  return candidate_since_ + settings_.hold;
}

} // namespace lanyard::core
