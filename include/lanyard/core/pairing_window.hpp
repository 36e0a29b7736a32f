/// @file
/// The accessory's pairing window: the rules for when an unknown controller may pair.
///
/// Sans-IO and clock-parameterised: every call takes `now`, nothing reads a clock, nothing is
/// stored here. The accessory persists state() after every change (lanyard::trust::
/// controller_store does) so that the failure count and the deadline survive a restart.
///
/// Rules:
/// - The window opens in setup mode (first boot, no controllers yet), by a local physical action
///   on the accessory (its pairing button), or when an admin controller opens it, for a timeout
///   between 3 and 15 minutes (default 15).
/// - It closes at its deadline, when closed explicitly, or after 20 failed proofs of the setup
///   secret or code: the 20th failure closes it and the 21st attempt is refused with
///   too_many_attempts. Only a failed proof is a failure: connections, resets, timeouts and TLS
///   failures are not (a stranger must not be able to lock the owner out without guessing).
/// - Failures count across restarts and are reset only by the physical action or an admin
///   opening the window. Setup mode reopening after a reboot does not reset them, so
///   power-cycling does not buy an attacker more guesses; pressing the button means someone is
///   standing at the accessory, which no remote stranger can be.
/// - A proof whose failure is recorded before the accessory reveals whether it was right (a
///   SPAKE2+ confirmation) and then turns out right is refunded (refund_failure()).
/// - Time is wall-clock (system_clock) because the deadline must survive a reboot. If `now` is
///   before opened_at (the clock went backwards, e.g. no RTC after a reboot) the window counts as
///   expired: a wrong clock may close the window early, never keep it open longer.
#pragma once

#include "lanyard/core/pairing_error.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <system_error>

namespace lanyard::core {

/// Why the window is (or was last) closed: kept so the refusal can say why.
enum class window_close_reason : std::uint8_t {
  never_opened = 0,
  timed_out,
  too_many_attempts,
  closed, // closed explicitly (by an admin, or after pairing when the accessory chooses to)
};

/// Who opens the window. The physical action and an admin reset the failure count; setup mode
/// does not.
enum class window_opener : std::uint8_t {
  setup_mode,
  admin,
  /// A local physical action on the accessory (a button; the simulator's `ctl`).
  local,
};

/// The persisted state of a pairing window. A plain value.
struct pairing_window_state {
  using time_point = std::chrono::system_clock::time_point;

  bool open = false;
  time_point opened_at{};
  time_point deadline{};
  std::uint32_t failed_attempts = 0;
  window_close_reason close_reason = window_close_reason::never_opened;

  friend bool operator==(const pairing_window_state&, const pairing_window_state&) = default;
};

/// The window's rules over a pairing_window_state.
///
/// Thread-safety: a plain value; distinct objects safe, shared objects unsafe.
class pairing_window {
public:
  using time_point = std::chrono::system_clock::time_point;
  using duration = std::chrono::system_clock::duration;

  static constexpr std::chrono::minutes default_timeout{15};
  static constexpr std::chrono::minutes min_timeout{3};
  static constexpr std::chrono::minutes max_timeout{15};
  static constexpr std::uint32_t max_failed_attempts = 20;

  pairing_window() = default;
  /// Resumes from a persisted state (after a restart). Call expire(now) next.
  explicit pairing_window(const pairing_window_state& state) : state_(state) {}

  /// Opens (or re-opens, moving the deadline) the window until now + timeout.
  /// Errors: invalid_timeout (outside 3..15 min); too_many_attempts when `opener` is setup_mode
  /// and 20 attempts have already failed (only the physical action or an admin reopen then).
  std::error_code open(time_point now, duration timeout = default_timeout,
                       window_opener opener = window_opener::setup_mode);

  /// Closes the window (reason closed). Keeps the failure count.
  void close() noexcept;

  /// Closes the window if its deadline has passed (or `now` is before it was opened). Returns
  /// true if this changed the state (persist it).
  bool expire(time_point now) noexcept;

  /// True if an unknown controller may attempt to pair at `now`.
  bool is_open(time_point now) const noexcept { return !admit(now); }

  /// May an unknown controller attempt to pair at `now`? Empty on yes; else window_closed or
  /// too_many_attempts. Does not change the state (call expire() to record a timeout).
  std::error_code admit(time_point now) const noexcept;

  /// Records a failed proof of the setup secret or code. The 20th failure closes the window
  /// (reason too_many_attempts).
  void record_failure() noexcept;

  /// Takes back one failure recorded ahead of a proof that then succeeded (a SPAKE2+ exchange
  /// is charged before the accessory's confirmation lets the peer check its guess). If that
  /// charge had closed the window and its deadline has not passed at `now`, it opens again.
  void refund_failure(time_point now) noexcept;

  /// Attempts left before the window closes (0 when closed for too many attempts).
  std::uint32_t attempts_left() const noexcept {
    return state_.failed_attempts >= max_failed_attempts
               ? 0
               : max_failed_attempts - state_.failed_attempts;
  }

  /// When expire() must next be called (the deadline), if the window is open.
  std::optional<time_point> next_expiry() const noexcept;

  /// Time left at `now` (zero if closed or expired).
  duration remaining(time_point now) const noexcept;

  const pairing_window_state& state() const noexcept { return state_; }

  /// A sentence for logs and refusals: "pairing window open for 12 more minutes (3 of 20
  /// attempts failed)", "pairing window closed after 20 failed attempts; an admin must reopen
  /// it", ...
  std::string describe(time_point now) const;

private:
  pairing_window_state state_;
};

} // namespace lanyard::core
