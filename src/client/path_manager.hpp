// Private: the client channel's view of its paths to the accessory, kept current.
//
// It gathers the facts: the discovery directory's paths for the device (or none, for an
// explicit endpoint), the static paths, and the local interfaces from the io_context's one
// path monitor (link::shared_path_monitor: one rtnetlink socket however many channels watch;
// debounced: a link that just came back is not used before its hold-down) — targets(), in
// that order, unranked. While the channel runs on a path it watches for the active path dying
// under it — its interface unavailable or removed, or its source address gone — reported at
// once (active_path_lost), so the session moves on without waiting for a keep-alive timeout.
//
// The policy (ranking with RTTs, suspect links, when to move back) is core::path_tracker's:
// candidates() ranks through it, and a better path viable for the hold time is reported as
// upgrade_advised. The client channel feeds the facts to its core::channel_controller, which
// owns its own tracker, and uses only the fact side (targets(), usable_kinds(), the active-path
// check and the fact handlers).
//
// Lifetime: shared_ptr; handlers hold weak references. Thread-safety: one executor.
#pragma once

#include "path_candidates.hpp"

#include <lanyard/client/path_options.hpp>
#include <lanyard/core/path_tracker.hpp>
#include <lanyard/discovery/directory.hpp>
#include <lanyard/link/shared_path_monitor.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/steady_timer.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace lanyard::client::detail {

class path_manager : public std::enable_shared_from_this<path_manager> {
public:
  struct callbacks {
    /// Something new may work now (a waiting channel should attempt at once).
    std::function<void()> viable_paths_changed;
    /// The active path cannot carry traffic any more; `why` names interface and kind.
    std::function<void(const std::string& why)> active_path_lost;
    /// Move to `target` make-before-break (handover: preferred path back; interactive: faster).
    std::function<void(const path_target& target, path_change_reason reason)> upgrade_advised;
  };

  /// Facts as they change, for an executor that decides itself (the client channel).
  struct fact_handlers {
    /// A debounced interface went down or came back (told before its facts are taken over).
    std::function<void(std::uint32_t interface_index)> interface_changed_state;
    /// The interfaces or their addresses changed (every debounced change, viable or not).
    std::function<void()> interfaces_changed;
  };

  path_manager(asio::any_io_executor ex, path_options options);

  void set_callbacks(callbacks cb) { cb_ = std::move(cb); }
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
  /// interfaces say about each.
  std::vector<path_target> targets();

  /// The viable targets now, best first (core::path_tracker), or the reason there are none.
  ranked_targets candidates();

  /// The kinds of this host's interfaces that could carry a path now: up (past their debounce
  /// hold-down when watched) with a usable address. What the resolution delay may wait for.
  core::kind_set usable_kinds();

  /// The channel now runs on `target` (nullopt: on nothing).
  void set_active(std::optional<path_target> target);
  const std::optional<path_target>& active() const noexcept { return active_; }

  /// The directory changed (new or removed paths of any accessory).
  void directory_changed();

  /// The connection on `interface_index` died without the interface going down (keep-alive
  /// timeout, reset: a blackholed or broken link). Until the interface changes state or
  /// `suspect_for` passes, its paths are raced last and not moved back to.
  void suspect(std::uint32_t interface_index,
               std::chrono::milliseconds suspect_for = std::chrono::seconds(30));

  /// The active path's smoothed RTT (interactive mode compares paths by it).
  void rtt_sample(std::chrono::nanoseconds srtt);

  /// Feeds interfaces directly (tests; also used by start()'s monitor loop).
  void interfaces_changed(std::vector<link::network_interface> interfaces,
                          std::function<bool(std::uint32_t)> available);

private:
  void watch();
  void on_event(const link::path_event& ev);
  void check_active();
  void refresh(core::path_tracker::time_point now);
  void reevaluate();
  void arm_upgrade_timer();
  std::vector<link::network_interface> current_interfaces();

  asio::any_io_executor ex_;
  path_options opts_;
  callbacks cb_;
  fact_handlers facts_;
  std::shared_ptr<const discovery::directory> dir_;
  std::string device_id_;
  std::unique_ptr<link::shared_path_monitor> monitor_;
  bool watching_ = false;
  std::vector<link::network_interface> interfaces_;
  std::function<bool(std::uint32_t)> available_;
  std::optional<path_target> active_;
  core::path_tracker tracker_;
  std::vector<path_target> targets_; // the tracker's paths, as targets
  asio::steady_timer upgrade_timer_;
};

} // namespace lanyard::client::detail
