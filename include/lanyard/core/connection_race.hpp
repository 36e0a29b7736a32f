/// @file
/// connection_race: RFC 8305 ("Happy Eyeballs v2") style racing of an accessory's candidate
/// paths, as a sans-IO state machine.
///
/// The connector ranks the candidates (core::rank_paths) and races them in that order: the
/// first attempt starts at once; each further attempt starts when the previous one has had
/// `attempt_delay` (default 250 ms, RFC 8305 §5 recommends 250 ms) without completing, or at
/// once when every running attempt has failed (RFC 8305 §5: a failure moves on without
/// waiting out the delay). An attempt *completes* when the pinned TLS handshake (not merely the
/// TCP connect) finished: a path whose TCP connects but whose TLS stalls (e.g. a captive
/// middlebox) must not win. The first completed attempt wins; the others are to be cancelled.
/// When every candidate failed the race is lost, with the last failure's error.
///
/// Why a state machine and not a coroutine: the same race runs under a fake clock in the unit
/// tests and under asio timers in the channel; the connector owns sockets and the timer.
///
/// Driving it:
/// @code
///   core::connection_race race(candidates.size(), {});
///   race.start(now);
///   for (;;) {                       // after start() and every call below:
///     while (auto a = race.poll_action()) { a->kind == start ? connect(a->index) :
///     abort(a->index); } arm_timer(race.next_deadline());   // time_point::max(): none
///   }
///   // events: race.on_attempt_succeeded(i, now), on_attempt_failed(i, ec, now),
///   handle_deadline(now)
/// @endcode
///
/// Errors: the lost race reports the last attempt's error (or channel_errc::no_viable_path when
/// there were no candidates). Calls naming an attempt that is not running are ignored.
/// Thread-safety: distinct objects are safe, shared objects are unsafe. Cancellation: cancel()
/// asks to abort every running attempt.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <system_error>
#include <vector>

namespace lanyard::core {

/// Race parameters.
struct connection_race_settings {
  /// Delay before the next candidate is tried while earlier attempts are still running.
  std::chrono::nanoseconds attempt_delay = std::chrono::milliseconds(250);
};

/// See the file comment.
class connection_race {
public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;

  enum class state : std::uint8_t { idle, racing, won, lost, cancelled };

  /// What the connector must do next.
  struct action {
    enum class kind : std::uint8_t {
      start, ///< begin connecting candidate `index`
      abort, ///< close candidate `index`'s attempt (a loser, or cancel())
    };
    kind what;
    std::size_t index;
  };

  connection_race(std::size_t candidates, connection_race_settings settings = {});

  /// Starts the race: the first candidate at once (or lost at once with no candidates).
  void start(time_point now);
  /// Candidate `index`'s pinned handshake completed: it wins if the race is still open, and
  /// every other running attempt is aborted; a late success after the race ended is aborted.
  void on_attempt_succeeded(std::size_t index, time_point now);
  /// Candidate `index`'s attempt failed with `ec`.
  void on_attempt_failed(std::size_t index, std::error_code ec, time_point now);
  /// Call at next_deadline(): starts the next candidate if the delay has passed.
  void handle_deadline(time_point now);
  /// Aborts every running attempt; state cancelled.
  void cancel();

  /// The next action, or nothing when there is none pending.
  std::optional<action> poll_action();
  /// When handle_deadline() must be called (time_point::max() if no timer is needed).
  time_point next_deadline() const noexcept;

  state current_state() const noexcept { return state_; }
  /// The winning candidate (state won).
  std::optional<std::size_t> winner() const noexcept { return winner_; }
  /// Why the race was lost (state lost).
  std::error_code error() const noexcept { return error_; }
  /// Number of attempts started so far.
  std::size_t attempts_started() const noexcept { return next_; }

private:
  enum class attempt : std::uint8_t { pending, running, failed, succeeded, aborted };
  void start_next(time_point now);
  void finish_if_exhausted();
  bool running_any() const noexcept;

  connection_race_settings settings_;
  std::vector<attempt> attempts_;
  std::vector<action> actions_; // FIFO, drained by poll_action()
  std::size_t actions_read_ = 0;
  std::size_t next_ = 0; // next candidate to start
  time_point next_start_ = time_point::max();
  state state_ = state::idle;
  std::optional<std::size_t> winner_;
  std::error_code error_;
};

} // namespace lanyard::core
