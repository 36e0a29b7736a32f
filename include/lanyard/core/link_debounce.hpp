/// @file
/// Debounce and hold-down for one network link: raw up/down changes in, a stable state out.
///
/// A radio link flaps: Wi-Fi loses its carrier for a moment while it roams, a peer-to-peer
/// group renegotiates, a cable is reseated. Moving a session on every raw change would move it
/// away and back several times for one hiccup. This state machine turns the raw state the
/// kernel reports into a *stable* state:
///
///   - **down grace**: a raw `down` becomes a stable `down` only if the link stays down for
///     `down_grace` (default 20 ms). The grace is short because losing a link is usually real
///     and the failover budget is 100 ms; it only absorbs the down/up pairs the kernel emits
///     back to back while reconfiguring a link.
///   - **up hold-down**: a raw `up` becomes a stable `up` only after the link has stayed up for
///     the hold-down time (default 3 s), so a link that comes back for a moment is not used.
///   - **flap dampening**: if the link goes stably down again less than `flap_window` (30 s)
///     after its previous stable down, the hold-down doubles (up to `max_hold_down`, 60 s);
///     a link that has been quiet for a window starts again from `up_hold_down`.
///
/// With the defaults, the flap "up; down 8 s later for 2 s; up again" produces exactly one
/// stable down (20 ms after the drop) and one stable up (3 s after the link returns): at most
/// one move away and one move back. A down shorter than the grace produces nothing.
///
/// Sans-IO: time is only ever taken from the arguments (steady_clock time points), the object
/// owns no timer. The caller arms a timer for next_deadline() and calls handle_deadline(now).
///
/// Errors: none. Thread-safety: distinct objects are safe, shared objects are unsafe.
/// Cancellation: nothing to cancel; drop the object.
#pragma once

#include <chrono>
#include <cstdint>

namespace lanyard::core {

/// Debounce parameters (see the file comment for the reasons behind the defaults).
struct link_debounce_settings {
  /// How long a link must stay down before the stable state becomes down. 0: at once.
  std::chrono::nanoseconds down_grace = std::chrono::milliseconds(20);
  /// How long a link must stay up before the stable state becomes up again. 0: at once.
  std::chrono::nanoseconds up_hold_down = std::chrono::seconds(3);
  /// The hold-down never grows beyond this, however often the link flaps.
  std::chrono::nanoseconds max_hold_down = std::chrono::seconds(60);
  /// Two stable downs closer than this count as flapping and double the hold-down.
  std::chrono::nanoseconds flap_window = std::chrono::seconds(30);
};

/// What a call did to the stable state.
enum class link_change : std::uint8_t {
  none,      ///< the stable state is unchanged
  went_up,   ///< the stable state became up (move back to this link)
  went_down, ///< the stable state became down (move away from this link)
};

/// See the file comment.
class link_debounce {
public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;

  /// A link whose state is known at `now` (e.g. from the initial kernel dump): the stable state
  /// starts equal to the raw state, without any hold-down.
  link_debounce(bool up, time_point now, link_debounce_settings settings = {}) noexcept;

  /// The kernel reported the raw state `up` at `now`. Returns the stable change this causes
  /// immediately (only possible with a zero grace or hold-down); otherwise arm a timer for
  /// next_deadline(). Repeating the current raw state changes nothing.
  link_change on_raw(bool up, time_point now) noexcept;

  /// When handle_deadline() must be called next; time_point::max() if nothing is pending.
  time_point next_deadline() const noexcept { return deadline_; }

  /// Applies a pending change whose time has come. Calling it early or spuriously is harmless.
  link_change handle_deadline(time_point now) noexcept;

  /// The debounced state.
  bool stable_up() const noexcept { return stable_up_; }
  /// The last raw state reported.
  bool raw_up() const noexcept { return raw_up_; }
  /// The hold-down the next raw up will have to wait (grows while the link flaps).
  std::chrono::nanoseconds current_hold_down() const noexcept { return hold_down_; }

  const link_debounce_settings& settings() const noexcept { return settings_; }

private:
  link_change apply(time_point now) noexcept;

  link_debounce_settings settings_;
  bool raw_up_;
  bool stable_up_;
  time_point deadline_ = time_point::max();
  time_point last_stable_down_ = time_point::min();
  std::chrono::nanoseconds hold_down_;
};

} // namespace lanyard::core
