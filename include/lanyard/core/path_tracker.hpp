/// @file
/// path_tracker: the client's memory about its paths to one accessory.
///
/// Fed the facts the I/O layer knows (candidates with interface state, source address,
/// reachability) and what the session measured (smoothed RTT of the active path), it
///   - ranks the candidates (core::rank_paths) with the RTTs filled in per interface, and puts
///     suspect links last: a blackholed Wi-Fi looks perfectly up, and racing it first would
///     cost the attempt delay on every reconnect;
///   - remembers links whose connection died without the interface going down ("suspect")
///     until `suspect_for` passed or the interface changed state;
///   - advises make-before-break moves (core::path_upgrade_tracker): one entry per interface,
///     never to a suspect link.
///
/// This was the policy half of the client's former path manager (the facts are its
/// path_watcher's); the clock reads are the caller's. One difference from that path manager:
/// the end of a suspicion is a deadline (next_deadline()), so a move back can start when the
/// suspicion ends, not at the next event.
///
/// Sans-IO: time only from the arguments; the caller arms a timer for next_deadline().
/// Errors: none. Thread-safety: distinct objects are safe, shared objects are unsafe.
#pragma once

#include "lanyard/core/channel_state.hpp"
#include "lanyard/core/path_ranking.hpp"
#include "lanyard/core/path_upgrade.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace lanyard::core {

/// Parameters; the defaults are the client's (path_options; suspect_for is no option).
struct path_tracker_settings {
  interface_policy policy;
  ranking_mode mode = ranking_mode::handover;
  /// A better path must stay viable this long before moving back to it.
  std::chrono::nanoseconds move_back_hold = std::chrono::seconds(5);
  /// Interactive mode: a path is faster when its RTT is below this fraction of the active one's.
  double rtt_ratio = 0.75;
  /// How long a link whose connection went silent is raced last and not moved back to.
  std::chrono::nanoseconds suspect_for = std::chrono::seconds(30);
};

/// One candidate as the executor sees it now. `facts.rtt` is ignored (filled from samples).
/// Identity across snapshots: (facts.interface_index, facts.address, port).
struct tracked_path {
  path_candidate facts;
  std::uint16_t port = 0;

  /// Same path (interface, destination address and port), whatever its facts say now.
  bool same_path(const tracked_path& o) const noexcept {
    return facts.interface_index == o.facts.interface_index && facts.address == o.facts.address &&
           port == o.port;
  }
};

/// Move the session to paths()[index], make-before-break, for `reason`.
struct upgrade_advice {
  std::size_t index = 0;
  path_change_reason reason = path_change_reason::preferred_path_available;
  friend bool operator==(const upgrade_advice&, const upgrade_advice&) = default;
};

/// See the file comment.
class path_tracker {
public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;

  explicit path_tracker(path_tracker_settings settings = {});

  /// New facts, unranked: the directory's paths first, then the static ones (rank ties keep
  /// this order). Re-finds the active path by identity.
  void update(std::vector<tracked_path> paths, time_point now);
  /// The session runs on `path` now (nullopt: on nothing); it is found in paths() by identity,
  /// and need not be listed there (the snapshot may have changed while connecting). Restarts
  /// any move-back hold.
  void set_active(std::optional<tracked_path> path, time_point now);
  /// Smoothed RTT of the active path (kept per interface: moves are between links).
  void rtt_sample(std::chrono::nanoseconds srtt, time_point now);
  /// The active connection died without its interface going down: race that interface last
  /// and never move back to it until `suspect_for` passed or the interface changed state.
  /// Paths not bound to a known interface (index 0) are never suspected.
  void suspect_active(time_point now);
  /// Suspects `interface_index` until `until` (a time not after `now` ends its suspicion).
  void suspect(std::uint32_t interface_index, time_point until, time_point now);
  /// The interface went down or came back (debounced): whatever made it suspect changed.
  void interface_changed_state(std::uint32_t interface_index, time_point now);
  /// Call at next_deadline(): a move-back hold or a suspicion ended.
  void handle_deadline(time_point now);

  /// The last update's paths, in the order given.
  std::span<const tracked_path> paths() const noexcept { return paths_; }
  /// Viable indices into paths(), best first (suspect links last), or why nothing is viable.
  const path_ranking& ranked() const noexcept { return ranking_; }
  /// The interface kinds of the viable paths.
  kind_set viable_kinds() const noexcept;
  /// A viable path over another interface (by name) than `interface_name`.
  bool other_interface_viable(std::string_view interface_name) const noexcept;
  /// The active path's index in paths(), if it is (still) listed there.
  std::optional<std::size_t> active() const noexcept { return active_index_; }
  /// The active path as it was when it became active (also when no longer listed).
  const std::optional<tracked_path>& active_path() const noexcept { return active_; }
  /// True while `interface_index` is suspect at `now`.
  bool suspected(std::uint32_t interface_index, time_point now) const noexcept;
  /// The advised move, once.
  std::optional<upgrade_advice> poll_upgrade();
  /// The end of the running move-back hold or the earliest suspicion, whichever comes first
  /// (time_point::max(): none).
  time_point next_deadline() const noexcept;

private:
  void find_active();
  void rank(time_point now);
  void reevaluate(time_point now);

  path_tracker_settings settings_;
  std::vector<tracked_path> paths_;
  path_ranking ranking_;
  std::optional<tracked_path> active_;
  std::optional<std::size_t> active_index_;
  std::map<std::uint32_t, std::chrono::nanoseconds> rtt_by_interface_;
  std::map<std::uint32_t, time_point> suspect_until_;
  path_upgrade_tracker upgrades_;
  std::optional<upgrade_advice> advice_;
};

} // namespace lanyard::core
