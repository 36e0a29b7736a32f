#include <lanyard/channel/receive_queue.hpp>

#include <asio/error.hpp>
#include <asio/post.hpp>

#include <utility>

namespace lanyard::channel::detail {

receive_queue::state& receive_queue::get() {
  if (!state_) state_ = std::make_shared<state>();
  return *state_;
}

void receive_queue::push(session_runner& r, core::message m) {
  get().messages.push_back({std::move(m), generation_});
  deliver(r, true);
}

void receive_queue::receive(session_runner& r, receive_completion c) {
  state& s = get();
  if (s.waiting) return c.complete(asio::error::in_progress, {});
  const std::uint64_t id = next_id_++;
  c.on_cancel([w = std::weak_ptr<state>(state_), ex = ex_, id](asio::cancellation_type) {
    asio::post(ex, [w, id] {
      auto st = w.lock();
      if (!st || !st->waiting || st->waiting_id != id) return; // completed meanwhile
      st->take_waiting().complete(asio::error::operation_aborted, {});
    });
  });
  s.waiting = std::move(c);
  s.waiting_id = id;
  deliver(r, false);
}

std::optional<core::message> receive_queue::try_take(session_runner& r) {
  if (!state_ || state_->waiting || state_->messages.empty()) return std::nullopt;
  queued q = std::move(state_->messages.front());
  state_->messages.pop_front();
  if (q.generation == generation_) r.consume(q.m.seq, q.m.payload.size());
  return std::move(q.m);
}

// Hands the oldest message to the waiting receive. It leaves the queue here, with its
// completion posted or dispatched: from now on it is the application's. A message that
// arrives while the receive waits completes it from the read that brought it (dispatch: the
// handler runs inline, as push mode's handler does, so a burst read at once is taken without
// an event-loop turn per message, and an echo leaves with the same flush); a receive that finds
// a message waiting completes by post (never inside the initiating call).
void receive_queue::deliver(session_runner& r, bool arrived) {
  state& s = get();
  if (!s.waiting) return;
  if (s.messages.empty()) {
    if (closed_) s.take_waiting().complete(*closed_, {});
    return;
  }
  queued q = std::move(s.messages.front());
  s.messages.pop_front();
  receive_completion done = s.take_waiting();
  // Only the current session's messages are its to acknowledge.
  if (q.generation == generation_) r.consume(q.m.seq, q.m.payload.size());
  if (arrived)
    done.dispatch({}, std::move(q.m));
  else
    done.complete({}, std::move(q.m));
}

void receive_queue::close(std::error_code ec) {
  closed_ = ec;
  if (!state_ || !state_->waiting || !state_->messages.empty()) return;
  state_->take_waiting().complete(ec, {});
}

void receive_queue::fail_waiting(std::error_code ec) {
  if (!state_ || !state_->waiting) return;
  state_->take_waiting().complete(ec, {});
}

} // namespace lanyard::channel::detail
