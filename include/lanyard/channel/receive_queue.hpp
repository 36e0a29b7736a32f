// lanyard::channel (the runtime lanyard::client and lanyard::accessory share; not an API for
// applications): the messages of one session waiting to be pulled with async_receive(), and the
// one receive waiting for a message. A message is handed over (and then consumed in the
// session, which lets the acknowledgement go out: core::ack_policy::on_consume) only when its
// completion is posted, so a receive that is cancelled loses nothing. How many messages wait
// here is bounded by the protocol, not by this queue: a session under on_consume refuses a peer
// that sends more than its window (session_settings::max_replay_bytes) unread.
//
// Messages of a session that was reset stay the application's (they were delivered to this
// side) but are not consumed any more: the new session counts from 0 (core::session::consume()).
//
// Per-operation cancellation (a cancellation slot bound to the async_receive handler): any
// type completes the waiting receive with operation_aborted; no message was taken.
//
// Thread-safety: one executor, not thread-safe.
#pragma once

#include <lanyard/channel/receive_completion.hpp>
#include <lanyard/channel/session_runner.hpp>
#include <lanyard/core/session_event.hpp>

#include <asio/any_io_executor.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <system_error>

namespace lanyard::channel::detail {

class receive_queue {
public:
  explicit receive_queue(asio::any_io_executor ex) : ex_(std::move(ex)) {}

  /// A message arrived (events::message_received of the current session).
  void push(session_runner& r, core::message m);
  /// events::session_reset: the messages queued now belong to the old session.
  void new_session() noexcept { ++generation_; }
  /// Hands the next message to `c`, at once if one waits, else when one arrives. Errors:
  /// asio::error::in_progress (another receive is waiting), the error of close() once every
  /// queued message was taken.
  void receive(session_runner& r, receive_completion c);
  /// The next queued message, taken (and consumed) now; nullopt if none is queued or a
  /// receive is waiting (it gets them, in order).
  std::optional<core::message> try_take(session_runner& r);
  /// No more messages will come (the session ended): the waiting receive, and every later one
  /// once the queue is empty, completes with `ec`.
  void close(std::error_code ec);
  /// Completes the waiting receive with `ec` (nothing taken); later receives work as before.
  void fail_waiting(std::error_code ec);
  /// Messages waiting to be taken.
  std::size_t size() const noexcept { return state_ ? state_->messages.size() : 0; }

private:
  struct queued {
    core::message m;
    std::uint64_t generation;
  };
  // Shared with the cancellation handler, which may run after the queue is gone. Allocated at
  // the first message or receive: an idle channel that never pulls holds none.
  struct state {
    std::deque<queued> messages;
    std::optional<receive_completion> waiting;
    std::uint64_t waiting_id = 0;
    // The waiting receive, taken out to be completed (the queue may be re-entered then).
    receive_completion take_waiting() {
      receive_completion c = std::move(*waiting);
      waiting.reset();
      return c;
    }
  };
  state& get();
  void deliver(session_runner& r, bool arrived);

  asio::any_io_executor ex_;
  std::shared_ptr<state> state_;
  std::uint64_t generation_ = 0;
  std::uint64_t next_id_ = 0;
  std::optional<std::error_code> closed_;
};

} // namespace lanyard::channel::detail
