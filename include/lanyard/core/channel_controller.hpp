/// @file
/// channel_controller: the client channel's connection policy, sans-IO (issue 13; the design
/// is docs/design/connection-controller.md §2.5).
///
/// It decides when to race which candidate paths, when to retry (core::backoff), when to wait
/// a moment for a better interface kind (core::resolution_delay), when to move (handover
/// after a failure, make-before-break back after the hold: core::path_tracker) and when to
/// give up. The executor (client_channel) owns sockets, TLS, the trust store, pairing and one
/// timer; it feeds facts and outcomes in and carries out the actions it polls:
///
///   inputs:  start, fail, paths_changed (a fresh snapshot of the paths), network_changed,
///            race_won / attached / attempt_failed (outcomes of a race or move by id),
///            established, connection_lost, path_lost, rtt_sample, interface_changed_state,
///            session_closed, cancel, handle_deadline;
///   outputs: report a state, race these paths, move to a path, abort a race or move, drop the
///            connection, give up, the path changed, and notices for the log.
///
/// The decisions are today's client_channel's (§1.1 D1-D38 of the design), one function each:
/// connect_now (D18, D22, D23), attempt_now (D32), schedule_retry (D11, D12), the loss of the
/// connection (D6-D10) and of its interface (D28: one race, not two as before).
///
/// The relay (a path of kind interface_kind::relay, docs/design/relay.md) is ranked last and
/// raced only when no local path is viable or the last race without it failed; once a local
/// path is viable again for the move-back hold, the session moves there, make-before-break.
///
/// "Is this fatal?" is core::condition::permanent, the one check of the error model
/// (error_condition.hpp): a permanent error gives up, anything else retries. One exception: a
/// race lost over discovered paths only (path_candidate::discovered: every path it raced),
/// where no path proved the accessory's key, retries whatever the error (anyone can announce
/// the accessory's id, and the relay's broker can answer for it: an impostor must not be able
/// to end the channel); the state is waiting with that error.
///
/// Outputs queue up in decision order; an input fed while the executor drains them (a dropped
/// connection reported back at once) appends to the queue. Outcomes of an aborted or superseded
/// race or move are ignored (attempt_pending() tells the executor before it acts on one).
///
/// Sans-IO: time only from the arguments; no clock reads, no I/O, no exceptions.
/// Errors: reported errors are passed through; the only codes the controller makes are
/// core::channel_errc::no_viable_path and session_closed. Thread-safety: distinct objects are
/// safe, shared objects are unsafe.
#pragma once

#include "lanyard/core/backoff.hpp"
#include "lanyard/core/channel_state.hpp"
#include "lanyard/core/controller_action.hpp"
#include "lanyard/core/path_tracker.hpp"
#include "lanyard/core/resolution_delay.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

namespace lanyard::core {

/// Parameters; the client fills them from client_options.
struct channel_controller_settings {
  backoff_settings backoff;
  path_tracker_settings paths;
  /// path_options::resolution_delay (0: never wait for a better kind).
  std::chrono::milliseconds resolution_delay{100};
  /// Uniformly distributed 64-bit values for the backoff's full jitter. Required (the core owns
  /// no RNG; tests return literals).
  std::function<std::uint64_t()> random;
};

/// What the executor knows about the paths now. Fed before every input that may start an
/// attempt, so that every attempt sees fresh paths.
struct path_snapshot {
  /// Directory paths first, then the static ones (rank ties keep this order).
  std::vector<tracked_path> paths;
  /// Kinds of this host's usable interfaces (what the resolution delay may wait for).
  kind_set usable_kinds;
  /// Set when nothing is known about the accessory (no reachable directory entry and no static
  /// paths): reported instead of no_viable_path when nothing is viable (channel::errc::
  /// not_discovered, a code above the core).
  std::error_code nothing_known;
};

/// What made the executor take a new snapshot.
enum class paths_trigger : std::uint8_t {
  refresh,    ///< facts refreshed before another input: no trigger of its own
  interfaces, ///< a debounced interface or address change
  directory,  ///< the directory changed, nothing new for this accessory
  new_path,   ///< the accessory was added, or a path of it added or reachable again
};

/// See the file comment.
class channel_controller {
public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;

  explicit channel_controller(channel_controller_settings settings);

  // --- inputs ---------------------------------------------------------------------------------

  /// setup → the first attempt is due at `now` (next_deadline()): nothing is reported in the
  /// caller's frame. A second start, or one after cancel(), is ignored.
  void start(time_point now);
  /// Fails the channel instead of connecting (start()'s invalid arguments).
  void fail(std::error_code ec, time_point now);
  /// New facts about the paths, and what made the executor look.
  void paths_changed(path_snapshot snapshot, paths_trigger trigger, time_point now);
  /// The application says the network changed: an attempt in flight is abandoned too.
  void network_changed(time_point now);
  /// Race or move `id` connected over paths()[target] (TLS with a valid pin done); admission
  /// (pairing on first use, the pin) runs now. `target` is one of the action's indices.
  void race_won(std::uint64_t id, std::size_t target, time_point now);
  /// The connection of race or move `id` carries the session now.
  void attached(std::uint64_t id, time_point now);
  /// Race or move `id` failed: every path failed, pairing failed, or attaching failed. `what`
  /// says which, for the log ("no path to the accessory worked").
  void attempt_failed(std::uint64_t id, std::error_code ec, std::string what, time_point now);
  /// The session is established (WELCOME): ready, and the backoff starts over.
  void established(time_point now);
  /// The session's connection ended. Not for the executor's own replacement of it (a move's
  /// takeover, channel::errc::connection_replaced).
  void connection_lost(std::error_code why, time_point now);
  /// The active path's interface is down, removed or lost its address (`why` says which, e.g.
  /// "wlan0 (wifi) is down"): the connection is dropped, and the loss reported back through
  /// connection_lost() moves at once.
  void path_lost(std::string why, time_point now);
  /// The session's smoothed RTT on the active path.
  void rtt_sample(std::chrono::nanoseconds srtt, time_point now);
  /// A debounced interface went down or came back: it is no longer suspect.
  void interface_changed_state(std::uint32_t interface_index, time_point now);
  /// The session ended (events::closed; an empty `ec`: closed by the peer).
  void session_closed(std::error_code ec, time_point now);
  void cancel(time_point now);
  /// Call at next_deadline(): a retry, the end of a resolution wait, a move-back hold.
  void handle_deadline(time_point now);

  // --- outputs --------------------------------------------------------------------------------

  /// The next action, in the order the decisions were made.
  std::optional<controller_action> poll_action();
  /// When handle_deadline() must be called (time_point::max(): nothing is due).
  time_point next_deadline() const noexcept;

  // --- queries --------------------------------------------------------------------------------

  channel_state state() const noexcept { return state_; }
  /// The last error reported with a state.
  std::error_code last_error() const noexcept { return last_error_; }
  /// True while the session has a connection (attached and not lost).
  bool has_connection() const noexcept { return link_; }
  /// True while race or move `id` is awaited: the executor checks it before acting on a
  /// completion (stale ones are dropped).
  bool attempt_pending(std::uint64_t id) const noexcept;
  /// The paths of the last snapshot (race and move targets index them).
  std::span<const tracked_path> paths() const noexcept { return tracker_.paths(); }
  /// The ranking of paths(): why each rejected path is not viable (what a no_viable_path
  /// attempt failure reports to the application as fields).
  const path_ranking& ranking() const noexcept { return tracker_.ranked(); }
  /// The path of the live connection.
  const std::optional<tracked_path>& active_path() const noexcept { return active_path_; }

private:
  bool terminal() const noexcept;
  void emit(controller_action a);
  void set_state(channel_state s, std::error_code why = {});
  void give_up(std::error_code why);
  void stop_attempts();
  void stop_move();
  void schedule_retry(time_point now);
  void connect_now(time_point now);
  void race_paths(time_point now);
  void await_better_path(const resolution_decision& d, time_point now);
  void attempt_now(attempt_trigger why, bool even_mid_handshake, time_point now);
  void failed_attempt(std::error_code ec, std::string what, time_point now);
  void move_failed(std::error_code ec, std::string what, time_point now);
  void follow_advice();

  channel_controller_settings settings_;
  backoff backoff_;
  resolution_delay resolution_;
  path_tracker tracker_;
  kind_set usable_kinds_;
  std::error_code nothing_known_;
  std::vector<controller_action> actions_; // FIFO from actions_read_, freed when drained
  std::size_t actions_read_ = 0;

  bool started_ = false;
  channel_state state_ = channel_state::setup;
  std::error_code last_error_;
  bool link_ = false;
  time_point retry_at_ = time_point::max(); // the first attempt, or a retry, is due then

  std::uint64_t last_id_ = 0;
  // The connection attempt awaited: racing (until won), then admitting (until attached).
  std::uint64_t attempt_id_ = 0;
  bool racing_ = false;
  std::vector<tracked_path> attempt_paths_; // the snapshot the race's indices refer to
  // The failing attempt lost its race over discovered paths only (failed_attempt()).
  bool unproven_discovered_ = false;
  // The last race left the relay out and failed: the next one includes it (race_paths()).
  bool local_failed_ = false;
  bool race_has_relay_ = false;
  // Every path the last race tried is an unproven one (path_candidate::discovered).
  bool raced_unproven_only_ = false;
  std::optional<tracked_path> won_;                               // the admitting attempt's path
  path_change_reason won_reason_ = path_change_reason::connected; // reported when attached
  // A make-before-break move in flight (until won: then it is the admitting attempt).
  std::uint64_t move_id_ = 0;
  tracked_path move_path_;
  path_change_reason move_reason_ = path_change_reason::preferred_path_available;

  // Resolution delay: waiting for a better kind, what for, and the window already announced.
  bool awaiting_better_ = false;
  kind_set awaited_kinds_;
  time_point announced_wait_end_{};

  std::optional<tracked_path> active_path_; // the path of the live connection
  std::optional<tracked_path> last_path_;   // the path of the previous connection
  std::string lost_detail_;                 // why the previous connection ended
  bool lost_by_interface_ = false;          // path_lost() dropped it: move at once
};

} // namespace lanyard::core
