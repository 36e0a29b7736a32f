#include "lanyard/core/link_debounce.hpp"

#include <algorithm>

namespace lanyard::core {

link_debounce::link_debounce(bool up, time_point now, link_debounce_settings settings) noexcept
    : settings_(settings), raw_up_(up), stable_up_(up), hold_down_(settings.up_hold_down) {
  (void)now; // the initial state is known, not a change: nothing to wait for
}

link_change link_debounce::on_raw(bool up, time_point now) noexcept {
  if (up == raw_up_) return link_change::none;
  raw_up_ = up;
  if (raw_up_ == stable_up_) {
    // Back to the stable state before the pending change was due: the blip is absorbed.
    deadline_ = time_point::max();
    return link_change::none;
  }
  const auto wait = up ? hold_down_ : settings_.down_grace;
  deadline_ = (now > time_point::max() - wait) ? time_point::max() : now + wait;
  if (wait.count() <= 0) return apply(now);
  return link_change::none;
}

link_change link_debounce::handle_deadline(time_point now) noexcept {
  if (deadline_ == time_point::max() || now < deadline_) return link_change::none;
  return apply(now);
}

link_change link_debounce::apply(time_point now) noexcept {
  deadline_ = time_point::max();
  stable_up_ = raw_up_;
  if (stable_up_) return link_change::went_up;
  // Flap dampening: a second stable down within the window doubles the next hold-down.
  const bool flapping =
      last_stable_down_ != time_point::min() && now - last_stable_down_ < settings_.flap_window;
  if (flapping)
    hold_down_ = std::min(settings_.max_hold_down, hold_down_ * 2);
  else
    hold_down_ = settings_.up_hold_down;
  last_stable_down_ = now;
  return link_change::went_down;
}

} // namespace lanyard::core
