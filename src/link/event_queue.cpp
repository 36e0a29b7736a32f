#include "event_queue.hpp"

#include <asio/error.hpp>

#include <chrono>
#include <utility>

namespace lanyard::link::detail {

void event_queue::push(path_event ev) {
  if (events_.size() >= max_) {
    // A consumer this far behind re-reads the snapshot anyway; the newest events matter more.
    if (!events_.empty()) events_.pop_front();
    lost_ = true;
    if (max_ == 0) return;
  }
  events_.push_back(std::move(ev));
}

void event_queue::deliver() {
  if (!waiter_) return;
  if (lost_) {
    lost_ = false;
    path_event ev;
    ev.type = path_event_type::events_lost;
    ev.time = std::chrono::steady_clock::now();
    std::exchange(waiter_, nullptr)->complete({}, std::move(ev));
  } else if (!events_.empty()) {
    auto ev = std::move(events_.front());
    events_.pop_front();
    std::exchange(waiter_, nullptr)->complete({}, std::move(ev));
  } else if (end_) {
    std::exchange(waiter_, nullptr)->complete(end_, {});
  }
}

void event_queue::wait(std::unique_ptr<path_event_op> op) {
  if (waiter_) {
    op->complete(asio::error::in_progress, {});
    return;
  }
  waiter_ = std::move(op);
  deliver();
}

void event_queue::cancel(std::uint64_t only) {
  if (!waiter_ || (only != 0 && waiter_->id != only)) return;
  std::exchange(waiter_, nullptr)->complete(asio::error::operation_aborted, {});
}

void event_queue::finish(std::error_code why) {
  if (!end_) end_ = why;
  deliver();
}

void event_queue::reset() {
  events_.clear();
  lost_ = false;
  end_ = {};
}

} // namespace lanyard::link::detail
