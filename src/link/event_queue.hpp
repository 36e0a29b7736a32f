// Private: one consumer's view of the path monitor's event stream. A bounded queue (the
// oldest events dropped beyond the limit, one events_lost delivered in their place), at most
// one waiting async_next_event, and how the stream ends for this consumer (the monitor failed,
// or it was stopped). The monitor engine pushes every event into the queue of every consumer,
// so a standalone path_monitor is an engine with one queue and a shared monitor one with many.
//
// Thread-safety: none of its own; the engine calls it under its mutex.
#pragma once

#include "lanyard/link/path_event.hpp"
#include "lanyard/link/path_monitor.hpp"

#include <cstddef>
#include <deque>
#include <memory>
#include <system_error>

namespace lanyard::link::detail {

class event_queue {
public:
  explicit event_queue(std::size_t max_events) : max_(max_events) {}

  /// Appends `ev`, dropping the oldest event beyond the limit. Call deliver() after a batch.
  void push(path_event ev);

  /// Completes the waiter with the next event, or with how the stream ended once nothing is
  /// queued; otherwise it keeps waiting.
  void deliver();

  /// Becomes the waiter (a second one completes with asio::error::in_progress).
  void wait(std::unique_ptr<path_event_op> op);

  /// Completes the waiter with asio::error::operation_aborted; with `only`, only if the waiter
  /// is that wait (path_event_op::id: a per-operation cancellation).
  void cancel(std::uint64_t only = 0);

  /// The stream ends with `why` after the queued events (the first reason stays: a failure
  /// followed by stop() still reports the failure).
  void finish(std::error_code why);

  /// Empty again and not ended (a new subscription). Only without a waiter.
  void reset();

private:
  std::size_t max_;
  std::deque<path_event> events_;
  bool lost_ = false;
  std::unique_ptr<path_event_op> waiter_;
  std::error_code end_;
};

} // namespace lanyard::link::detail
