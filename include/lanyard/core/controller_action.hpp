/// @file
/// What core::channel_controller asks its executor to do: the actions polled with
/// channel_controller::poll_action(), in the order the decisions were made, and the notices
/// the executor turns into log lines.
///
/// Indices name paths of the controller's last snapshot (channel_controller::paths()), as the
/// executor fed them. Errors are the ones fed in, passed through.
///
/// Thread-safety: value types and pure functions.
#pragma once

#include "lanyard/core/channel_state.hpp"
#include "lanyard/core/path_tracker.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>
#include <vector>

namespace lanyard::core {

/// Why an attempt is restarted now; to_string() gives the log's words ("<why>, reconnecting
/// now").
enum class attempt_trigger : std::uint8_t {
  network_changed, ///< "network changed": the application said so
  new_path,        ///< "new path in the directory": the accessory was found on a new path
  new_viable_path, ///< "a new path may work": an interface or directory change, paths viable
  path_failed,     ///< "moving to another path": the active path failed or went down
  move_failed,     ///< "the move failed": the old connection went during a move
};

/// "network changed", "new path in the directory", "a new path may work", "moving to another
/// path", "the move failed".
std::string_view to_string(attempt_trigger t) noexcept;

/// What a notice is about; the fields of controller_actions::notice it uses are named.
enum class notice_kind : std::uint8_t {
  reconnect_now,     ///< trigger: "<trigger>, reconnecting now"
  attempt_failed,    ///< what, error: "<what>: <error>"
  connection_lost,   ///< error: "connection lost: <error>"
  lost_while_moving, ///< error: "old connection closed while moving: <error>"
  active_path_lost,  ///< what: "active path lost: <what>"
  resolution_wait,   ///< path, kinds, duration (left): "found on <path> first; waiting up to
                     ///< <duration> ms for a <kinds> path before connecting"
  resolution_found,  ///< path: "found on <path> within the resolution delay; racing the paths"
  resolution_over,   ///< kinds, duration (the delay): "no <kinds> path within the resolution
                     ///< delay (<duration> ms); racing the paths now"
  moving,            ///< path, reason: "moving to <path> (<reason>)"
  move_failed,       ///< what: "move failed, staying: <what>"
};

namespace controller_actions {

/// Report the channel's state (only changes are reported, and waiting again when its reason
/// changes).
struct report_state {
  channel_state state = channel_state::setup;
  std::error_code reason;
};

/// Race `targets` (indices into the snapshot, best first; RFC 8305 spacing is the executor's,
/// core::connection_race), then admit the winner (pairing on first use, the pin); report the
/// outcome with race_won / attached / attempt_failed under `id`. `on_success` is the reason
/// the path change will carry.
struct race {
  std::uint64_t id = 0;
  std::vector<std::size_t> targets;
  path_change_reason on_success = path_change_reason::connected;
};

/// Connect over `target` while the session keeps running on its connection
/// (make-before-break); the outcome is reported under `id` like a race's.
struct move {
  std::uint64_t id = 0;
  std::size_t target = 0;
  path_change_reason reason = path_change_reason::preferred_path_available;
};

/// Abandon race or move `id` (its outcome will be ignored).
struct abort {
  std::uint64_t id = 0;
};

/// Close the session's connection (its interface is gone; the executor reports the loss
/// with connection_lost(network_down)).
struct drop_connection {};

/// The channel ends with `error`: fail the waiting sends (channel_errc::session_closed), stop
/// watching. A report_state(failed) follows.
struct give_up {
  std::error_code error;
};

/// The session runs over `to` now (the first path, the one after a failure, or a move).
struct path_changed {
  std::optional<tracked_path> from;
  tracked_path to;
  path_change_reason reason = path_change_reason::connected;
  /// Why the old path was left, when it failed ("wlan0 (wifi) is down", an error message).
  std::string detail;
};

/// Something for the log (see notice_kind for the fields each kind uses).
struct notice {
  notice_kind kind = notice_kind::reconnect_now;
  attempt_trigger trigger = attempt_trigger::network_changed;
  std::error_code error{};
  std::string what{};
  std::optional<tracked_path> path{};
  path_change_reason reason = path_change_reason::connected;
  kind_set kinds{};
  std::chrono::milliseconds duration{0};
};

} // namespace controller_actions

/// One action of the controller.
using controller_action =
    std::variant<controller_actions::report_state, controller_actions::race,
                 controller_actions::move, controller_actions::abort,
                 controller_actions::drop_connection, controller_actions::give_up,
                 controller_actions::path_changed, controller_actions::notice>;

} // namespace lanyard::core
