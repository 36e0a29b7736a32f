#include "discovery_feed.hpp"

#include "accessory_list.hpp"

#include <asio/error.hpp>
#include <asio/post.hpp>

#include <utility>

namespace lanyard::app::detail {

discovery_feed::discovery_feed(asio::any_io_executor ex,
                               std::shared_ptr<const trust::trust_store> store, std::size_t bound)
    : executor_(std::move(ex)), store_(std::move(store)), bound_(bound == 0 ? 1 : bound) {}

discovery_feed::~discovery_feed() {
  // A taker must hear that nothing more will come; dropping its handler would leave it
  // waiting for ever.
  waiter_.complete(asio::error::operation_aborted, {});
}

void discovery_feed::apply(const discovery::browse_event& e) {
  const std::vector<discovery::directory_event> changes = directory_->apply(e);
  if (changes.empty()) return;
  if (on_changes_) on_changes_(changes);
  for (discovery_event& ev : to_discovery_events(changes, store_.get()))
    push(std::move(ev));
}

void discovery_feed::push(discovery_event e) {
  if (waiter_) return waiter_.complete({}, std::move(e));
  if (events_.size() >= bound_) events_.pop_front();
  events_.push_back(std::move(e));
}

void discovery_feed::next(channel::completion<discovery_event> c) {
  if (waiter_) return c.complete(asio::error::in_progress, {});
  if (!events_.empty()) {
    discovery_event e = std::move(events_.front());
    events_.pop_front();
    return c.complete({}, std::move(e));
  }
  if (aborted_) return c.complete(asio::error::operation_aborted, {});
  waiter_ = std::move(c);
  const std::uint64_t op = ++waiter_id_;
  // The slot's handler runs in the canceller's frame: it only posts (completion.hpp).
  waiter_.on_cancel([w = weak_from_this(), ex = executor_, op](asio::cancellation_type) {
    asio::post(ex, [w, op] {
      if (auto self = w.lock(); self && self->waiter_ && self->waiter_id_ == op)
        self->waiter_.complete(asio::error::operation_aborted, {});
    });
  });
}

void discovery_feed::report_status(std::error_code ec) {
  if (ec == status_) return;
  status_ = ec;
  discovery_event e;
  e.what_happened = discovery_event::kind::discovery_status;
  e.status = ec;
  push(std::move(e));
}

void discovery_feed::abort() {
  aborted_ = true;
  waiter_.complete(asio::error::operation_aborted, {});
}

std::vector<accessory_info> discovery_feed::accessories() const {
  return list_accessories(*directory_, store_.get());
}

accessory_info discovery_feed::describe(std::string_view id) const {
  return detail::describe(id, *directory_, store_.get());
}

} // namespace lanyard::app::detail
