#include "lanyard/core/connection_race.hpp"

#include "lanyard/core/channel_error.hpp"

#include <algorithm>

namespace lanyard::core {

connection_race::connection_race(std::size_t candidates, connection_race_settings settings)
    : settings_(settings), attempts_(candidates, attempt::pending) {}

void connection_race::start(time_point now) {
  if (state_ != state::idle) return;
  state_ = state::racing;
  if (attempts_.empty()) {
    state_ = state::lost;
    error_ = channel_errc::no_viable_path;
    return;
  }
  start_next(now);
}

void connection_race::start_next(time_point now) {
  if (next_ >= attempts_.size()) {
    next_start_ = time_point::max();
    return;
  }
  attempts_[next_] = attempt::running;
  actions_.push_back({action::kind::start, next_});
  ++next_;
  next_start_ = next_ < attempts_.size() ? now + settings_.attempt_delay : time_point::max();
}

void connection_race::on_attempt_succeeded(std::size_t index, time_point) {
  if (index >= attempts_.size() || attempts_[index] != attempt::running) return;
  if (state_ != state::racing) {
    // A late winner after the race was decided or cancelled: not wanted.
    attempts_[index] = attempt::aborted;
    actions_.push_back({action::kind::abort, index});
    return;
  }
  attempts_[index] = attempt::succeeded;
  state_ = state::won;
  winner_ = index;
  next_start_ = time_point::max();
  for (std::size_t i = 0; i < attempts_.size(); ++i) {
    if (attempts_[i] != attempt::running) continue;
    attempts_[i] = attempt::aborted;
    actions_.push_back({action::kind::abort, i});
  }
}

void connection_race::on_attempt_failed(std::size_t index, std::error_code ec, time_point now) {
  if (index >= attempts_.size() || attempts_[index] != attempt::running) return;
  attempts_[index] = attempt::failed;
  if (state_ != state::racing) return;
  error_ = ec;
  // RFC 8305 §5: when nothing else is in flight, the next candidate starts at once.
  if (!running_any()) start_next(now);
  finish_if_exhausted();
}

void connection_race::handle_deadline(time_point now) {
  if (state_ != state::racing || now < next_start_) return;
  start_next(now);
}

void connection_race::cancel() {
  if (state_ == state::lost || state_ == state::cancelled) return;
  for (std::size_t i = 0; i < attempts_.size(); ++i) {
    if (attempts_[i] != attempt::running) continue;
    attempts_[i] = attempt::aborted;
    actions_.push_back({action::kind::abort, i});
  }
  next_start_ = time_point::max();
  if (state_ != state::won) state_ = state::cancelled;
}

void connection_race::finish_if_exhausted() {
  if (state_ != state::racing || running_any() || next_ < attempts_.size()) return;
  state_ = state::lost;
  next_start_ = time_point::max();
}

bool connection_race::running_any() const noexcept {
  return std::find(attempts_.begin(), attempts_.end(), attempt::running) != attempts_.end();
}

std::optional<connection_race::action> connection_race::poll_action() {
  if (actions_read_ == actions_.size()) {
    actions_.clear();
    actions_read_ = 0;
    return std::nullopt;
  }
  return actions_[actions_read_++];
}

connection_race::time_point connection_race::next_deadline() const noexcept {
  return state_ == state::racing ? next_start_ : time_point::max();
}

} // namespace lanyard::core
