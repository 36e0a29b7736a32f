#include "event_queue.hpp"

#include <utility>

namespace lanyard::app::detail {

namespace {

void merge(state_event& into, state_event&& e) {
  // The older `from` stays: the app sees where it was when it last looked and where it is.
  into.to = e.to;
  into.why = e.why;
  into.missed += 1 + e.missed;
}

void merge(path_event& into, path_event&& e) {
  into.change = std::move(e.change);
  into.missed += 1 + e.missed;
}

} // namespace

template <class Event>
bool event_queue::merge_into_newest(Event& e) {
  for (auto it = events_.rbegin(); it != events_.rend(); ++it)
    if (auto* queued = std::get_if<Event>(&*it)) {
      merge(*queued, std::move(e));
      return true;
    }
  return false;
}

void event_queue::push(device_event e) {
  if (events_.size() >= bound_) {
    if (auto* s = std::get_if<state_event>(&e); s != nullptr && merge_into_newest(*s)) return;
    if (auto* p = std::get_if<path_event>(&e); p != nullptr && merge_into_newest(*p)) return;
  }
  // Below the bound, or an event that must not be lost (a reset's messages, a provisioning
  // report), or the first of its kind: queued. Those are few per session, so the queue stays
  // near its bound.
  events_.push_back(std::move(e));
}

std::optional<device_event> event_queue::pop() {
  if (events_.empty()) return std::nullopt;
  device_event e = std::move(events_.front());
  events_.pop_front();
  return e;
}

} // namespace lanyard::app::detail
