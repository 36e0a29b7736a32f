/// @file
/// Limits, intervals and environment hooks of a channel session (lanyard::core::session).
///
/// Everything the session needs from its environment arrives here: limits, timer intervals
/// and, for the accessory (server) side, where new session ids come from and which ids belong
/// to other controllers. The session itself never reads a clock or a random source.
///
/// Thread-safety: a value type. The hooks are called synchronously from inside the session's
/// member functions, on the caller's thread, never concurrently for one session.
#pragma once

#include "lanyard/core/session_id.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>

namespace lanyard::core {

/// Accounting overhead charged per message in the replay buffer (sequence number, frame
/// header, bookkeeping), so that even empty messages cannot fill memory without bound.
inline constexpr std::size_t replay_overhead_per_message = 32;

/// When a receiving session acknowledges a message (session_settings::acknowledge).
enum class ack_policy : std::uint8_t {
  /// As soon as the session received it (the default). The application's handler cannot
  /// refuse a message, so a slow application queues or drops what arrives faster than it
  /// reads.
  on_receipt,
  /// Once the application took it (session::consume()). The sender's replay buffer then bounds
  /// what is in flight or waiting unread at the receiver: a slow reader slows the sender down
  /// (its sends wait for room) instead of losing or piling up messages. docs/PROTOCOL.md § 3.1.
  on_consume,
};

/// How a session holds its buffers (session_settings::memory): the replay buffer, the frame
/// being decoded, the output batch and the event queue.
enum class session_memory : std::uint8_t {
  /// Grown as traffic needs them and given back when idle (the default): a phone's or a Linux
  /// accessory's session with a 1 MiB replay bound mostly holds a few KiB.
  grow,
  /// Each reserved at its bound when the session is created (the replay buffer
  /// max_replay_bytes, the decoder the largest frame, the output batch output_batch_bytes and
  /// a frame) and kept: sending, receiving, resuming allocate nothing after that (a firmware
  /// with a fixed heap). Received messages still allocate under message_delivery::copy.
  reserve,
};

/// How received messages reach the application (session_settings::delivery).
enum class message_delivery : std::uint8_t {
  /// events::message_received and events::control_received own a copy of the payload (the
  /// default).
  copy,
  /// events::message_view: a view of the payload in the session's own frame buffer, no copy.
  /// The session acknowledges on consumption (ack_policy::on_consume is implied) and takes
  /// input with receive_some(), which stops after each message: after an application's
  /// message, until consume() took it (the sender's window waits meanwhile: backpressure
  /// instead of a queue); after a service's, until the next call. A view is valid until the
  /// next receive_some(), on_disconnected() or close(). For firmware: with
  /// session_memory::reserve, a session allocates nothing per message.
  view,
};

/// What events::session_reset and events::closed say of the messages the peer never
/// acknowledged (session_settings::unacked).
enum class unacked_report : std::uint8_t {
  /// The messages themselves, copied out of the replay buffer (`unacked`), for an app to send
  /// again or report (the default).
  messages,
  /// Their number only (`unacked_count`): a session that ends or resets allocates nothing. For
  /// firmware, which has nobody to hand them to.
  count,
};

/// Settings of one session. max_message_size and max_replay_bytes need not match the peer's:
/// each end announces its own in HELLO / WELCOME (docs/PROTOCOL.md § 3.3) and sends within the
/// other's.
struct session_settings {
  /// Largest application message (DATA payload) sent or accepted, in bytes. A larger incoming
  /// frame closes the connection with frame_too_large. 64 KiB: large enough for any control
  /// message or push, small enough that one message never monopolises a link for long.
  std::size_t max_message_size = 64 * 1024;

  /// Bound of the replay buffer: payload bytes of unacknowledged messages plus
  /// replay_overhead_per_message each. send() fails with buffer_full beyond it. 1 MiB keeps
  /// a few seconds of a Wi-Fi link's worth of data resumable while bounding memory per
  /// session; raised to at least one maximum message if configured lower.
  std::size_t max_replay_bytes = 1024 * 1024;

  /// When received messages are acknowledged: on receipt, or once the application consumed
  /// them (flow control; the receiver then also refuses, with sequence_out_of_window, a peer
  /// that sends more unread bytes than max_replay_bytes). Each end chooses for what it
  /// receives; the sender's rules are the same either way.
  ack_policy acknowledge = ack_policy::on_receipt;
  /// Buffers grown as needed, or reserved once (see session_memory).
  session_memory memory = session_memory::grow;
  /// Received messages as copies, or as views under back-pressure (see message_delivery).
  message_delivery delivery = message_delivery::copy;
  /// The unacknowledged messages of a session that ends or resets, or only their number (see
  /// unacked_report).
  unacked_report unacked = unacked_report::messages;

  /// Send a cumulative ACK at once after this many unacknowledged messages... (16: one ACK
  /// per 16 messages keeps ACK traffic under ~2% for small messages while freeing the
  /// sender's replay buffer steadily.)
  std::size_t ack_every = 16;

  /// ...or at the latest this long after the first unacknowledged message. 20 ms is below a
  /// human-noticeable delay and far below any sensible peer_timeout.
  std::chrono::milliseconds ack_delay{20};

  /// The client sends a PING this often while connected; each PONG is an RTT sample. The
  /// server sends one only after hearing nothing for 1.5 intervals, so with the same settings
  /// on both ends an idle connection carries one PING/PONG exchange per interval (about 1,440
  /// TLS records of 43 bytes per hour, both directions together). 5 s lets a dead link be
  /// detected within peer_timeout even when idle, at a cost a phone does not notice.
  std::chrono::milliseconds keepalive_interval{5000};

  /// The connection is dead (event connection_failed with peer_dead) when nothing at all has
  /// been received for this long. 15 s = 3 keep-alive intervals: two lost exchanges in a row
  /// (a radio asleep, a congested AP) are tolerated, and a dead accessory or app is noticed
  /// within 15 s of its last sign of life. It must exceed the peer's PING spacing plus an RTT.
  std::chrono::milliseconds peer_timeout{15000};

  /// The handshake (HELLO → WELCOME) must complete within this time after on_connected().
  /// 10 s: covers a TLS handshake on a slow link plus one round trip.
  std::chrono::milliseconds handshake_timeout{10000};

  /// poll_output() adds DATA frames while its output stays within this many bytes (the first
  /// frame goes whatever its size), so that one call never copies the whole replay buffer
  /// (64 KiB ≈ one large socket write) and a caller with a write buffer of a batch, or of one
  /// largest frame, can always take the whole output.
  std::size_t output_batch_bytes = 64 * 1024;

  /// Server only, required: returns a fresh random session id (never all zero) from a
  /// cryptographically secure source; it must never repeat, so that an id the accessory lost
  /// in a reboot is unknown to it rather than confused with a new one. Without it the server
  /// refuses to start sessions (connection closed with invalid_state).
  std::function<session_id()> new_session_id;

  /// Server only, optional: returns true if `id` is a session that belongs to another
  /// controller (the accessory layer knows which controller owns which session). Such a HELLO
  /// closes the connection with session_not_owned and leaves this session untouched. When
  /// absent, any id other than this session's own is treated as unknown (a new session).
  std::function<bool(const session_id&)> is_foreign_session;
};

} // namespace lanyard::core
