// Private: the client channel's view of its paths to the accessory, kept current. Facts only.
//
// It gathers the facts: the discovery directory's paths for the device (or none, for an
// explicit endpoint), the static paths, and the local interfaces from the io_context's one
// path monitor (link::shared_path_monitor: one rtnetlink socket however many channels watch;
// debounced: a link that just came back is not used before its hold-down) — targets(), in
// that order, unranked, and usable_kinds(). While the channel runs on a path it watches for
// the active path dying under it — its interface unavailable or removed, or its source address
// gone — reported at once (active_path_lost), so the session moves on without waiting for a
// keep-alive timeout.
//
// It decides nothing and reads no clock: what the facts mean (ranking with RTTs, suspect
// links, when to move back, whether a change is worth an attempt) is core::channel_controller's
// and its core::path_tracker's, which the client channel feeds with these facts.
//
// Lifetime: shared_ptr; handlers hold weak references. Thread-safety: one executor.
#pragma once

#include "path_candidates.hpp"

#include <lanyard/client/path_options.hpp>
#include <lanyard/core/path_ranking.hpp>
#include <lanyard/discovery/directory.hpp>
#include <lanyard/link/shared_path_monitor.hpp>

#include <asio/any_io_executor.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace lanyard::client::detail {

class path_watcher : public std::enable_shared_from_this<path_watcher> {
public:
  /// Facts as they change, for an executor that decides itself (the client channel).
  struct fact_handlers {
    /// The active path cannot carry traffic any more; `why` names interface and kind
    /// ("wlan0 (wifi) is down"). The watcher forgets the active path first.
    std::function<void(const std::string& why)> active_path_lost;
    /// A debounced interface went down or came back (told before its facts are taken over).
    std::function<void(std::uint32_t interface_index)> interface_changed_state;
    /// The interfaces or their addresses changed (every debounced change, viable or not).
    std::function<void()> interfaces_changed;
  };

  path_watcher(asio::any_io_executor ex, std::vector<static_path> static_paths);

  void set_fact_handlers(fact_handlers h) { facts_ = std::move(h); }

  /// Where the accessory's discovered paths come from (null: static paths only).
  void set_directory(std::shared_ptr<const discovery::directory> dir, std::string device_id);

  /// Starts watching interfaces through the io_context's shared path monitor (it catches up
  /// with the snapshot if other channels started it earlier). Without it (or if it fails: the
  /// error is returned, e.g. no netlink in a sandbox) the interfaces are read once per
  /// targets() call and nothing is watched.
  link::link_error start();
  void stop();

  /// Every path now: the directory's, then the static ones, unranked, with what the
  /// interfaces say about each (up past its debounce hold-down, a source address, reachable).
  std::vector<path_target> targets();

  /// The kinds of this host's interfaces that could carry a path now: up (past their debounce
  /// hold-down when watched) with a usable address. What the resolution delay may wait for.
  core::kind_set usable_kinds();

  /// The channel now runs on `target` (nullopt: on nothing); only a pinned one is checked.
  void set_active(std::optional<path_target> target) { active_ = std::move(target); }
  const std::optional<path_target>& active() const noexcept { return active_; }

  /// Checks the active path against the interfaces now (also done on every interface change):
  /// removed, down or without its source address → active_path_lost.
  void check_active();

  /// Feeds interfaces directly (tests; also used by start()'s monitor loop).
  void interfaces_changed(std::vector<link::network_interface> interfaces,
                          std::function<bool(std::uint32_t)> available);

private:
  void watch();
  void on_event(const link::path_event& ev);
  std::vector<link::network_interface> current_interfaces();

  asio::any_io_executor ex_;
  std::vector<static_path> static_paths_;
  fact_handlers facts_;
  std::shared_ptr<const discovery::directory> dir_;
  std::string device_id_;
  std::unique_ptr<link::shared_path_monitor> monitor_;
  bool watching_ = false;
  std::vector<link::network_interface> interfaces_;
  std::function<bool(std::uint32_t)> available_;
  std::optional<path_target> active_;
};

} // namespace lanyard::client::detail
