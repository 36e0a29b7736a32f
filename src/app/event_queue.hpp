// The events of one device waiting to be pulled with device::async_next_event(), bounded:
// past the bound a state or path event merges into the newest queued event of its kind
// (lanyard/app/device_event.hpp says why a level may merge and a reset may not).
//
// Thread-safety: one executor, not thread-safe.
#pragma once

#include <lanyard/app/device_event.hpp>

#include <cstddef>
#include <deque>
#include <optional>

namespace lanyard::app::detail {

class event_queue {
public:
  explicit event_queue(std::size_t bound) : bound_(bound == 0 ? 1 : bound) {}
  void push(device_event e);
  /// The oldest event, removed; nullopt when empty.
  std::optional<device_event> pop();
  bool empty() const noexcept { return events_.empty(); }
  std::size_t size() const noexcept { return events_.size(); }

private:
  template <class Event>
  bool merge_into_newest(Event& e);
  std::size_t bound_;
  std::deque<device_event> events_;
};

} // namespace lanyard::app::detail
