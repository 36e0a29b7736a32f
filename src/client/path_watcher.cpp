#include "path_watcher.hpp"

#include <lanyard/link/interface_policy.hpp>

#include <algorithm>

namespace lanyard::client::detail {

path_watcher::path_watcher(asio::any_io_executor ex, std::vector<static_path> static_paths)
    : ex_(ex), static_paths_(std::move(static_paths)) {}

void path_watcher::set_directory(std::shared_ptr<const discovery::directory> dir,
                                 std::string device_id) {
  dir_ = std::move(dir);
  device_id_ = std::move(device_id);
}

link::link_error path_watcher::start() {
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

void path_watcher::stop() {
  watching_ = false;
  if (monitor_) monitor_->stop();
}

void path_watcher::watch() {
  monitor_->async_next_event([w = weak_from_this()](std::error_code ec, link::path_event ev) {
    auto self = w.lock();
    if (!self || !self->watching_ || ec) return;
    self->on_event(ev);
    self->watch();
  });
}

void path_watcher::on_event(const link::path_event& ev) {
  using t = link::path_event_type;
  // Only the debounced link state and address changes matter; raw up/down would move the
  // session on every flap.
  if (ev.type == t::interface_up || ev.type == t::interface_down) return;
  // The initial dump arrives piece by piece: links first, their addresses later. Until it is
  // whole, the table would show Wi-Fi without its address (no path, nothing to wait for);
  // current_interfaces() reads the kernel meanwhile.
  if (!monitor_->ready()) return;
  // A link that went down (or came back) changed state (the controller's suspicion of it ends).
  if ((ev.type == t::interface_available || ev.type == t::interface_unavailable) &&
      facts_.interface_changed_state)
    facts_.interface_changed_state(ev.iface.index);
  auto* m = monitor_.get();
  interfaces_changed(m->interfaces(), [m](std::uint32_t i) { return m->available(i); });
}

void path_watcher::interfaces_changed(std::vector<link::network_interface> interfaces,
                                      std::function<bool(std::uint32_t)> available) {
  interfaces_ = std::move(interfaces);
  available_ = std::move(available);
  check_active();
  if (facts_.interfaces_changed) facts_.interfaces_changed();
}

std::vector<link::network_interface> path_watcher::current_interfaces() {
  if (!interfaces_.empty()) return interfaces_;
  // No monitor, or its first snapshot has not arrived yet: read the kernel's table now.
  link::link_error e;
  return link::query_interfaces(e);
}

std::vector<path_target> path_watcher::targets() {
  std::vector<discovery::accessory_path> discovered;
  if (dir_)
    if (const auto* acc = dir_->find(device_id_)) discovered = acc->paths;
  const auto ifs = current_interfaces();
  interface_usable usable;
  if (available_)
    usable = [this](const link::network_interface& i) { return i.up() && available_(i.index); };
  return all_targets(discovered, static_paths_, ifs, usable);
}

core::kind_set path_watcher::usable_kinds() {
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

void path_watcher::check_active() {
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
  if (facts_.active_path_lost) facts_.active_path_lost(why);
}

} // namespace lanyard::client::detail
