#include "path_manager.hpp"

#include <lanyard/link/interface_policy.hpp>

#include <algorithm>

namespace lanyard::client::detail {

path_manager::path_manager(asio::any_io_executor ex, path_options options)
    : ex_(ex), opts_(std::move(options)), upgrades_({opts_.mode, opts_.move_back_hold, 0.75}),
      upgrade_timer_(ex) {}

void path_manager::set_directory(std::shared_ptr<const discovery::directory> dir,
                                 std::string device_id) {
  dir_ = std::move(dir);
  device_id_ = std::move(device_id);
}

link::link_error path_manager::start() {
  monitor_ = std::make_unique<link::shared_path_monitor>(ex_);
  link::link_error e = monitor_->start();
  if (e) {
    monitor_.reset();
    return e;
  }
  watching_ = true;
  watch();
  return {};
}

void path_manager::stop() {
  watching_ = false;
  upgrade_timer_.cancel();
  if (monitor_) monitor_->stop();
}

void path_manager::watch() {
  monitor_->async_next_event([w = weak_from_this()](std::error_code ec, link::path_event ev) {
    auto self = w.lock();
    if (!self || !self->watching_ || ec) return;
    self->on_event(ev);
    self->watch();
  });
}

void path_manager::on_event(const link::path_event& ev) {
  using t = link::path_event_type;
  // Only the debounced link state and address changes matter; raw up/down would move the
  // session on every flap.
  if (ev.type == t::interface_up || ev.type == t::interface_down) return;
  // The initial dump arrives piece by piece: links first, their addresses later. Until it is
  // whole, the table would show Wi-Fi without its address (no path, nothing to wait for);
  // current_interfaces() reads the kernel meanwhile.
  if (!monitor_->ready()) return;
  // A link that went down (or came back) is no longer suspect: it changed.
  if (ev.type == t::interface_available || ev.type == t::interface_unavailable)
    suspect_until_.erase(ev.iface.index);
  auto* m = monitor_.get();
  interfaces_changed(m->interfaces(), [m](std::uint32_t i) { return m->available(i); });
}

void path_manager::interfaces_changed(std::vector<link::network_interface> interfaces,
                                      std::function<bool(std::uint32_t)> available) {
  interfaces_ = std::move(interfaces);
  available_ = std::move(available);
  check_active();
  reevaluate();
  // An interface event helps only if some path is viable now: otherwise (the monitor's first
  // snapshot, an accessory not discovered yet) every event would start a pointless attempt
  // (~20 "preparing → waiting: no reachable path" pairs at start-up).
  if (cb_.viable_paths_changed && !candidates().targets.empty()) cb_.viable_paths_changed();
}

std::vector<link::network_interface> path_manager::current_interfaces() {
  if (!interfaces_.empty()) return interfaces_;
  // No monitor, or its first snapshot has not arrived yet: read the kernel's table now.
  link::link_error e;
  return link::query_interfaces(e);
}

ranked_targets path_manager::candidates() {
  std::vector<discovery::accessory_path> discovered;
  if (dir_)
    if (const auto* acc = dir_->find(device_id_)) discovered = acc->paths;
  const auto ifs = current_interfaces();
  interface_usable usable;
  if (available_)
    usable = [this](const link::network_interface& i) { return i.up() && available_(i.index); };
  interface_rtt rtt = [this](const link::network_interface& i) {
    auto it = rtt_by_interface_.find(i.index);
    return it == rtt_by_interface_.end() ? std::optional<std::chrono::nanoseconds>()
                                         : std::optional(it->second);
  };
  ranked_targets r =
      rank_targets(discovered, opts_.static_paths, ifs, opts_.policy, opts_.mode, usable, rtt);
  // Suspect links last: a blackholed Wi-Fi looks perfectly up, and racing it first would cost
  // the attempt delay on every reconnect.
  std::stable_partition(r.targets.begin(), r.targets.end(), [this](const path_target& t) {
    return !suspected(t.path.interface_index);
  });
  return r;
}

core::kind_set path_manager::usable_kinds() {
  core::kind_set kinds;
  for (const auto& i : current_interfaces()) {
    if (!i.up() || (available_ && !available_(i.index))) continue;
    // An interface without an address (Wi-Fi associated, DHCP not done) reaches nothing yet.
    if (std::none_of(i.addresses.begin(), i.addresses.end(),
                     [](const link::interface_address& a) { return a.usable(); }))
      continue;
    kinds.insert(i.kind);
  }
  return kinds;
}

void path_manager::suspect(std::uint32_t interface_index, std::chrono::milliseconds suspect_for) {
  if (interface_index == 0) return;
  suspect_until_[interface_index] = std::chrono::steady_clock::now() + suspect_for;
}

bool path_manager::suspected(std::uint32_t interface_index) const {
  auto it = suspect_until_.find(interface_index);
  return it != suspect_until_.end() && std::chrono::steady_clock::now() < it->second;
}

void path_manager::set_active(std::optional<path_target> target) {
  active_ = std::move(target);
  const auto now = std::chrono::steady_clock::now();
  if (!active_) {
    upgrades_.set_active(std::nullopt, now);
  } else {
    const auto& p = active_->path;
    core::upgrade_path u{p.interface_index, opts_.policy.rank(p.kind), std::nullopt};
    if (auto it = rtt_by_interface_.find(p.interface_index); it != rtt_by_interface_.end())
      u.rtt = it->second;
    upgrades_.set_active(u, now);
  }
  reevaluate();
}

void path_manager::directory_changed() {
  check_active();
  reevaluate();
  // An interface event helps only if some path is viable now: otherwise (the monitor's first
  // snapshot, an accessory not discovered yet) every event would start a pointless attempt
  // (~20 "preparing → waiting: no reachable path" pairs at start-up).
  if (cb_.viable_paths_changed && !candidates().targets.empty()) cb_.viable_paths_changed();
}

void path_manager::rtt_sample(std::chrono::nanoseconds srtt) {
  if (!active_) return;
  rtt_by_interface_[active_->path.interface_index] = srtt;
  if (opts_.mode == core::ranking_mode::interactive) reevaluate();
}

void path_manager::check_active() {
  if (!active_ || !active_->bind_to) return; // unpinned: only the transport can tell
  const auto idx = active_->path.interface_index;
  auto it = std::find_if(interfaces_.begin(), interfaces_.end(),
                         [&](const auto& i) { return i.index == idx; });
  std::string why;
  const std::string name =
      active_->path.interface_name + " (" + std::string(core::to_string(active_->path.kind)) + ")";
  if (it == interfaces_.end()) {
    if (interfaces_.empty()) return; // no snapshot yet
    why = name + " was removed";
  } else if (!it->up() || (available_ && !available_(idx))) {
    why = name + " is down";
  } else if (!it->source_for(active_->endpoint.address())) {
    why =
        name + " lost its " + (active_->endpoint.address().is_v6() ? "IPv6" : "IPv4") + " address";
  }
  if (why.empty()) return;
  active_.reset();
  upgrades_.set_active(std::nullopt, std::chrono::steady_clock::now());
  if (cb_.active_path_lost) cb_.active_path_lost(why);
}

void path_manager::reevaluate() {
  const auto now = std::chrono::steady_clock::now();
  auto ranked = candidates();
  std::vector<core::upgrade_path> viable;
  for (const auto& t : ranked.targets) {
    const auto& p = t.path;
    if (suspected(p.interface_index)) continue; // never moved back to while suspect
    if (std::any_of(viable.begin(), viable.end(),
                    [&](const auto& v) { return v.interface_index == p.interface_index; }))
      continue; // one entry per interface: moves are between links
    viable.push_back({p.interface_index, opts_.policy.rank(p.kind), p.rtt});
  }
  upgrades_.update(viable, now);
  if (auto u = upgrades_.poll_upgrade()) {
    auto it = std::find_if(ranked.targets.begin(), ranked.targets.end(), [&](const auto& t) {
      return t.path.interface_index == u->interface_index;
    });
    if (it != ranked.targets.end() && cb_.upgrade_advised)
      cb_.upgrade_advised(*it, u->reason == core::upgrade_reason::lower_rtt
                                   ? path_change_reason::lower_rtt
                                   : path_change_reason::preferred_path_available);
  }
  arm_upgrade_timer();
}

void path_manager::arm_upgrade_timer() {
  const auto deadline = upgrades_.next_deadline();
  if (deadline == core::path_upgrade_tracker::time_point::max()) {
    upgrade_timer_.cancel();
    return;
  }
  upgrade_timer_.expires_at(deadline);
  upgrade_timer_.async_wait([w = weak_from_this()](std::error_code ec) {
    auto self = w.lock();
    if (!self || ec) return;
    self->reevaluate();
  });
}

} // namespace lanyard::client::detail
