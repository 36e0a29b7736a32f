// lanyard::channel (the runtime lanyard::client and lanyard::accessory share; not an API for
// applications): the sends of one session that have not completed yet (shared by the client channel
// and the accessory server). `acks_` waits for the peer's cumulative acknowledgement (ordered by
// sequence number); `waiting_` holds sends that found the replay buffer full in send_mode::wait
// (bounded by max_waiting). Thread-safety: one executor, not thread-safe.
#pragma once

#include <lanyard/channel/session_runner.hpp>

#include <lanyard/channel/send_completion.hpp>
#include <lanyard/channel/send_options.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <system_error>
#include <vector>

namespace lanyard::channel::detail {

class send_queue {
public:
  explicit send_queue(std::size_t max_waiting) : max_waiting_(max_waiting) {}

  /// Hands the payload to the session, or makes it wait, or completes `c` with the error.
  void submit(session_runner& r, std::span<const std::byte> payload, send_options o,
              send_completion c);
  /// events::acked: completes every send below `next_unacked`, then admits waiting sends.
  void on_acked(session_runner& r, std::uint64_t next_unacked);
  /// Admits waiting sends while the replay buffer has room (after a session reset emptied it).
  void admit_waiting(session_runner& r);
  /// Completes every send waiting for an acknowledgement with `ec` (session reset/closed).
  void fail_unacked(std::error_code ec);
  /// Completes everything with `ec`.
  void fail_all(std::error_code ec);
  std::size_t waiting() const noexcept { return waiting_.size(); }

private:
  struct pending_ack {
    std::uint64_t seq;
    send_completion c;
  };
  struct waiting_send {
    std::vector<std::byte> payload;
    send_options options;
    send_completion c;
  };
  bool admit(session_runner& r, std::span<const std::byte> payload, send_options o,
             send_completion& c);

  std::size_t max_waiting_;
  std::deque<pending_ack> acks_;
  std::deque<waiting_send> waiting_;
  bool admitting_ = false;
};

} // namespace lanyard::channel::detail
