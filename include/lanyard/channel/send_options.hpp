/// @file
/// How async_send() behaves (client_channel and accessory::server).
///
/// Thread-safety: value types.
#pragma once

namespace lanyard::channel {

/// What a send does when the replay buffer (core::session_settings::max_replay_bytes) is full.
enum class send_mode {
  /// Wait until acknowledgements make room (bounded by max_waiting_sends; beyond it the send
  /// fails with errc::too_many_waiting_sends). Order is kept: a send never overtakes an
  /// earlier waiting one.
  wait,
  /// Fail at once with lanyard::core::channel_errc::buffer_full; nothing is queued. Also fails when
  /// earlier sends are still waiting (it could not be sent before them).
  fail,
};

/// When async_send() completes successfully.
enum class send_completion_mode {
  /// When the peer acknowledged the message (it was delivered to the peer's application).
  acknowledged,
  /// As soon as the message is in the replay buffer (it will be delivered exactly once unless
  /// the session is reset, in which case it is listed in the session_reset event).
  queued,
};

/// Options of one async_send().
struct send_options {
  send_mode mode = send_mode::wait;
  send_completion_mode completion = send_completion_mode::acknowledged;
};

} // namespace lanyard::channel
