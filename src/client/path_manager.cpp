#include "path_manager.hpp"

#include <lanyard/link/interface_policy.hpp>

#include <algorithm>

namespace lanyard::client::detail {

namespace {

core::path_tracker_settings tracker_settings(const path_options& o) {
  core::path_tracker_settings s;
  s.policy = o.policy;
  s.mode = o.mode;
  s.move_back_hold = o.move_back_hold;
  return s;
}

core::path_tracker::time_point now() {
  return std::chrono::steady_clock::now();
}

} // namespace

path_manager::path_manager(asio::any_io_executor ex, path_options options)
    : ex_(ex), opts_(std::move(options)), tracker_(tracker_settings(opts_)), upgrade_timer_(ex) {}

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
  if (ev.type == t::interface_available || ev.type == t::interface_unavailable) {
    tracker_.interface_changed_state(ev.iface.index, now());
    if (facts_.interface_changed_state) facts_.interface_changed_state(ev.iface.index);
  }
  auto* m = monitor_.get();
  interfaces_changed(m->interfaces(), [m](std::uint32_t i) { return m->available(i); });
}

void path_manager::interfaces_changed(std::vector<link::network_interface> interfaces,
                                      std::function<bool(std::uint32_t)> available) {
  interfaces_ = std::move(interfaces);
  available_ = std::move(available);
  check_active();
  reevaluate();
  if (facts_.interfaces_changed) facts_.interfaces_changed();
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

std::vector<path_target> path_manager::targets() {
  std::vector<discovery::accessory_path> discovered;
  if (dir_)
    if (const auto* acc = dir_->find(device_id_)) discovered = acc->paths;
  const auto ifs = current_interfaces();
  interface_usable usable;
  if (available_)
    usable = [this](const link::network_interface& i) { return i.up() && available_(i.index); };
  return all_targets(discovered, opts_.static_paths, ifs, usable);
}

void path_manager::refresh(core::path_tracker::time_point t) {
  targets_ = targets();
  std::vector<core::tracked_path> paths;
  paths.reserve(targets_.size());
  for (const auto& target : targets_)
    paths.push_back(tracked_of(target));
  tracker_.update(std::move(paths), t);
}

ranked_targets path_manager::candidates() {
  refresh(now());
  ranked_targets r;
  r.reason = tracker_.ranked().reason;
  for (const core::path_rejection& rj : tracker_.ranked().rejected)
    r.rejected.push_back({targets_[rj.candidate].path, rj.reason});
  for (std::size_t i : tracker_.ranked().viable) {
    r.targets.push_back(targets_[i]);
    r.targets.back().path.rtt = tracker_.paths()[i].facts.rtt;
  }
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
  const auto t = now();
  tracker_.suspect(interface_index, t + suspect_for, t);
}

void path_manager::set_active(std::optional<path_target> target) {
  active_ = std::move(target);
  tracker_.set_active(active_ ? std::optional(tracked_of(*active_)) : std::nullopt, now());
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
  tracker_.rtt_sample(srtt, now());
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
  tracker_.set_active(std::nullopt, now());
  if (cb_.active_path_lost) cb_.active_path_lost(why);
}

// The tracker decides; the advice names one of the targets it was given.
void path_manager::reevaluate() {
  refresh(now());
  if (auto u = tracker_.poll_upgrade(); u && u->index < targets_.size() && cb_.upgrade_advised)
    cb_.upgrade_advised(targets_[u->index], u->reason);
  arm_upgrade_timer();
}

void path_manager::arm_upgrade_timer() {
  const auto deadline = tracker_.next_deadline();
  if (deadline == core::path_tracker::time_point::max()) {
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
