/// @file
/// path_upgrade_tracker: when a channel that works on one path should move to a better one.
///
/// Moving *away* from a broken path needs no tracker: the channel reconnects at once and races
/// the viable candidates, best first (core::connection_race). Moving *back* is the delicate
/// part: Wi-Fi that returns after a cut is preferred over the p2p link the session moved to,
/// but a link that has just come back may go again ("up, then down 8 s later"), and every move
/// costs a handshake. So an upgrade is only advised when the better path has been continuously
/// viable for `hold` (default 5 s, on top of the link's own debounce hold-down), and is then
/// made make-before-break: the channel resumes the session on the new path first and closes
/// the old connection after (no gap at all).
///
///   - **handover** mode: a path is better when its interface kind ranks strictly before the
///     active path's in the policy's preference order (another address on the same interface
///     or kind is never worth a move);
///   - **interactive** mode: a path is better when its smoothed RTT is below `rtt_ratio` (0.75)
///     times the active path's for the whole hold time (hysteresis against noise).
///
/// Paths are identified by interface: moves are between links, not addresses.
///
/// Sans-IO: time only from the arguments; the caller arms a timer for next_deadline().
/// Errors: none. Thread-safety: distinct objects are safe, shared objects are unsafe.
#pragma once

#include "lanyard/core/path_ranking.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>

namespace lanyard::core {

/// Parameters (see the file comment for the reasons behind the defaults).
struct path_upgrade_settings {
  ranking_mode mode = ranking_mode::handover;
  /// How long the better path must stay better before moving to it.
  std::chrono::nanoseconds hold = std::chrono::seconds(5);
  /// Interactive mode: the candidate's RTT must be below this fraction of the active one's.
  double rtt_ratio = 0.75;
};

/// A viable path as the tracker sees it.
struct upgrade_path {
  std::uint32_t interface_index = 0;
  /// Position of the path's interface kind in the policy's preference order (0 = best):
  /// interface_policy::rank(kind).
  std::size_t preference_rank = 0;
  std::optional<std::chrono::nanoseconds> rtt;
};

/// Why the tracker advises a move.
enum class upgrade_reason : std::uint8_t {
  preferred_path_available, ///< handover: a more preferred interface has been healthy for hold
  lower_rtt,                ///< interactive: a faster path has stayed faster for hold
};

/// "preferred path available" or "lower RTT".
std::string_view to_string(upgrade_reason reason) noexcept;

/// Advice: move the session to `interface_index`, make-before-break.
struct path_upgrade {
  std::uint32_t interface_index;
  upgrade_reason reason;
};

/// See the file comment.
class path_upgrade_tracker {
public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;

  explicit path_upgrade_tracker(path_upgrade_settings settings = {});

  /// The channel now runs on `active` (a new connection was established on it), or on
  /// nothing (nullopt: disconnected). Restarts any hold.
  void set_active(std::optional<upgrade_path> active, time_point now);
  /// The viable paths changed (interface up/down, address, RTT sample). Includes the active
  /// path's interface if still viable (its RTT is refreshed from here).
  void update(std::span<const upgrade_path> viable, time_point now);
  /// Call at next_deadline().
  void handle_deadline(time_point now);

  /// The advised move, once; nothing if none is due. After taking it, the caller reports the
  /// outcome with set_active() (success) or simply keeps the old path (failure: the hold
  /// starts again).
  std::optional<path_upgrade> poll_upgrade();
  /// When handle_deadline() must be called (time_point::max() if no hold is running).
  time_point next_deadline() const noexcept;

private:
  bool better(const upgrade_path& p) const noexcept;
  void consider(time_point now);

  path_upgrade_settings settings_;
  std::optional<upgrade_path> active_;
  std::optional<upgrade_path> candidate_; // the best better path, while its hold runs
  time_point candidate_since_{};
  std::optional<path_upgrade> advice_;
};

} // namespace lanyard::core
