// lanyard::channel (the runtime lanyard::client and lanyard::accessory share; not an API for
// applications): the sends of one session that have not completed yet (shared by the client channel
// and the accessory server). Acknowledgement waits are ordered by sequence number (the peer
// acknowledges cumulatively); sends that found the replay buffer full in send_mode::wait wait
// for room (bounded by max_waiting).
//
// Per-operation cancellation (a cancellation slot bound to the async_send handler): a send still
// waiting for room was never handed to the session, so any cancellation type removes it and it
// completes with operation_aborted. A send in the session cannot be taken back (it is in the
// replay buffer and is delivered exactly once); terminal or partial cancellation only stops
// waiting for its acknowledgement (operation_aborted with its seq), total cancellation is not
// honoured. A cancellation is carried out from a handler posted to the queue's executor.
//
// Thread-safety: one executor, not thread-safe.
#pragma once

#include <lanyard/channel/session_runner.hpp>

#include <lanyard/channel/send_completion.hpp>
#include <lanyard/channel/send_options.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/cancellation_type.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <system_error>
#include <vector>

namespace lanyard::channel::detail {

class send_queue {
public:
  send_queue(asio::any_io_executor ex, std::size_t max_waiting)
      : ex_(std::move(ex)), max_waiting_(max_waiting) {}

  /// Hands the payload to the session, or makes it wait, or completes `c` with the error.
  /// `kind`: the application's message, or a library service's (a CONTROL frame); both wait
  /// in one queue, in order.
  void submit(session_runner& r, std::span<const std::byte> payload, send_options o,
              send_completion c, core::message_kind kind = core::message_kind::application);
  /// events::acked: completes every send below `next_unacked`, then admits waiting sends.
  void on_acked(session_runner& r, std::uint64_t next_unacked);
  /// Admits waiting sends while the replay buffer has room (after a session reset emptied it).
  void admit_waiting(session_runner& r);
  /// Completes every send waiting for an acknowledgement with `ec` (session reset/closed).
  void fail_unacked(std::error_code ec);
  /// Completes everything with `ec`.
  void fail_all(std::error_code ec);
  std::size_t waiting() const noexcept { return lists_ ? lists_->waiting.size() : 0; }
  /// True while a send waits (for an acknowledgement or for room): only then is storage held.
  bool holds_storage() const noexcept { return lists_ != nullptr; }

private:
  struct pending_ack {
    std::uint64_t id;
    std::uint64_t seq;
    send_completion c;
  };
  struct waiting_send {
    std::uint64_t id;
    std::vector<std::byte> payload;
    send_options options;
    send_completion c;
    core::message_kind kind;
  };
  // Shared with the cancellation handlers, which may run after the queue is gone. Allocated
  // while something is in it and freed when both lists are empty: two std::deques hold about
  // 1.2 KB even when empty, and an idle channel should not pay that on either side.
  struct lists {
    std::deque<pending_ack> acks;
    std::deque<waiting_send> waiting;
    void cancel(std::uint64_t id, asio::cancellation_type type);
  };
  bool admit(session_runner& r, std::uint64_t id, std::span<const std::byte> payload,
             send_options o, send_completion& c, core::message_kind kind);
  void make_wait(std::uint64_t id, std::span<const std::byte> payload, send_options o,
                 send_completion c, core::message_kind kind);
  lists& hold(std::uint64_t id, send_completion& c);
  void release_if_empty() noexcept;

  asio::any_io_executor ex_;
  std::shared_ptr<lists> lists_; // null while nothing waits (see lists)
  std::size_t max_waiting_;
  std::uint64_t next_id_ = 0;
  bool admitting_ = false;
};

} // namespace lanyard::channel::detail
