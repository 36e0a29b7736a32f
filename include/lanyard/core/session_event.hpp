/// @file
/// Events a channel session reports (pulled with session::poll_event()), and its states.
///
/// Thread-safety: value types; distinct objects are safe.
#pragma once

#include "lanyard/core/frame.hpp"
#include "lanyard/core/session_id.hpp"

#include <chrono>
#include <cstdint>
#include <span>
#include <string_view>
#include <system_error>
#include <variant>
#include <vector>

namespace lanyard::core {

/// The state of a session with respect to its current connection.
enum class session_state {
  /// No connection. The session (ids, sequence numbers, replay buffer) is kept; send() queues.
  disconnected,
  /// Connected, HELLO/WELCOME not yet exchanged.
  handshaking,
  /// Handshake done: messages and acknowledgements flow.
  established,
  /// The connection failed (protocol error, timeout, the peer's CLOSE): flush poll_output()
  /// (it may hold a CLOSE frame), close the transport and call on_disconnected(). The session
  /// survives.
  closing,
  /// The session has ended (close() or the peer's CLOSE with code 0). Flush poll_output(),
  /// close the transport. Nothing is accepted any more.
  closed,
};

/// A short name for logs: "disconnected", "handshaking", ...
std::string_view to_string(session_state s) noexcept;

/// A message of the session with its sequence number: the application's, or a library
/// service's (`kind`, sent in a CONTROL frame).
struct message {
  std::uint64_t seq = 0;
  std::vector<std::byte> payload;
  message_kind kind = message_kind::application;
};

namespace events {

/// The session changed state.
struct state_changed {
  session_state from;
  session_state to;
};

/// The handshake finished: `resumed` tells whether the previous session continues (false
/// for a new one; see also session_reset).
struct established {
  session_id id;
  bool resumed = false;
};

/// A message from the peer, delivered exactly once and in order.
struct message_received {
  std::uint64_t seq = 0;
  std::vector<std::byte> payload;
};

/// A library service's message from the peer (a CONTROL frame), exactly once and in order
/// with the application's messages. Never an application message: hand it to the service
/// `kind` names. Under ack_policy::on_consume the session consumes it itself, as soon as every
/// message before it is consumed: the application never sees it, so never takes it.
struct control_received {
  std::uint64_t seq = 0;
  message_kind kind = message_kind::provisioning;
  std::vector<std::byte> payload;
};

/// message_delivery::view: a message from the peer, the application's (`kind` application:
/// take it with session::consume()) or a library service's (taken by the session itself), in
/// order and exactly once. `payload` is a view of the session's frame buffer: valid until the
/// next session::receive_some(), on_disconnected() or close(); copy what must outlive that.
struct message_view {
  std::uint64_t seq = 0;
  message_kind kind = message_kind::application;
  std::span<const std::byte> payload;
};
/// The peer acknowledged every message with a sequence number below `next_unacked`; they
/// have left the replay buffer.
struct acked {
  std::uint64_t next_unacked = 0;
};

/// The peer no longer knows the session (it restarted, or the session expired there). The
/// session starts afresh under `new_id` with sequence numbers from 0; `unacked` holds every
/// message this side sent or queued that the peer never acknowledged, in order. They were
/// not delivered in the new session; they may have reached the peer's lost incarnation.
struct session_reset {
  session_id old_id;
  session_id new_id;
  /// Empty under unacked_report::count.
  std::vector<message> unacked;
  /// How many messages the peer never acknowledged (unacked.size() when they are reported).
  std::size_t unacked_count = 0;
};

/// The current connection failed: protocol_violation, frame_too_large, ..., peer_dead,
/// handshake_timeout, or the peer's CLOSE code (`by_peer`). Close the transport; the session
/// survives and resumes on the next connection.
struct connection_failed {
  std::error_code error;
  bool by_peer = false;
};

/// A round-trip time measurement (PING → PONG, or HELLO → WELCOME on the client).
struct rtt_sample {
  std::chrono::nanoseconds sample;
  std::chrono::nanoseconds smoothed;  ///< RFC 6298 SRTT
  std::chrono::nanoseconds variation; ///< RFC 6298 RTTVAR
};

/// The session ended: `error` is empty for a normal close (close(), or the peer's CLOSE with
/// code 0). `unacked` holds the messages the peer never acknowledged.
struct closed {
  std::error_code error;
  bool by_peer = false;
  /// Empty under unacked_report::count.
  std::vector<message> unacked;
  /// How many messages the peer never acknowledged (unacked.size() when they are reported).
  std::size_t unacked_count = 0;
};

} // namespace events

/// Any session event.
using session_event = std::variant<events::state_changed, events::established,
                                   events::message_received, events::control_received,
                                   events::acked, events::session_reset, events::connection_failed,
                                   events::rtt_sample, events::closed, events::message_view>;

} // namespace lanyard::core
