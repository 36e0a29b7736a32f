/// @file
/// Errors of the persistent channel: the wire codec, the session state machine, the asio
/// channel runtime (lanyard::channel), the client channel and the accessory server all report
/// through this one category, "lanyard.channel". One category, so that one situation has one
/// code: the runtime's former category "lanyard.channel.io" (lanyard::channel::errc, now an
/// alias of channel_errc) had a second session_reset that no comparison with this one matched.
///
/// Values 1-14 are part of the wire protocol: a CLOSE frame carries one of them as its error
/// code (docs/PROTOCOL.md § 7). No value is ever renumbered or reused, local ones included.
///
/// Thread-safety: the category is a stateless singleton; everything here is safe to use from any
/// thread.
#pragma once

#include <cstdint>
#include <system_error>

namespace lanyard::core {

/// What went wrong on a channel. 0 is not an error (it is the CLOSE code of a normal close).
enum class channel_errc : std::uint16_t {
  // --- Connection-level protocol errors: the connection is closed, the session survives. ---
  /// A frame arrived that the session's state does not allow (e.g. DATA before the handshake,
  /// a second HELLO, a WELCOME sent to a server).
  protocol_violation = 1,
  /// A frame announced a body longer than the configured maximum.
  frame_too_large = 2,
  /// A frame type byte this implementation does not know.
  unknown_frame_type = 3,
  /// A frame's version byte is not the protocol version this implementation speaks.
  bad_version = 4,
  /// A frame's body is shorter than the fixed fields its type requires.
  frame_truncated = 5,
  /// A frame's body is longer than its type allows (bytes after the last field).
  frame_trailing_bytes = 6,
  /// A field holds a value the protocol forbids (reserved flag bits, an all-zero session id
  /// where one is required, ...).
  invalid_frame_field = 7,
  /// A DATA, ACK, HELLO or WELCOME carried a sequence number outside the window the receiver
  /// can accept (a gap, a duplicate, or an acknowledgement of something never sent).
  sequence_out_of_window = 8,
  /// A HELLO asked to resume a session that belongs to another controller.
  session_not_owned = 9,
  /// No bytes arrived from the peer for longer than the keep-alive timeout.
  peer_dead = 10,
  /// The handshake (HELLO/WELCOME) did not complete within the handshake timeout.
  handshake_timeout = 11,
  /// The peer closed the connection with a CLOSE frame carrying an error code.
  closed_by_peer = 12,
  /// The accessory does not know this controller: it must pair (prove the setup secret or
  /// code) before it may open a session. Sent by the accessory in a CLOSE frame.
  not_paired = 13,
  /// The accessory holds as many sessions as it allows, all with a live connection. Sent by the
  /// accessory in a CLOSE frame.
  too_many_sessions = 14,

  // --- Local API errors: nothing is sent, nothing is lost. ---
  /// The replay buffer (unacknowledged messages) is full: wait for acknowledgements or fail.
  buffer_full = 20,
  /// The message is larger than the maximum message size.
  message_too_large = 21,
  /// The session has ended (closed locally or by the peer); it accepts nothing more.
  session_closed = 22,
  /// The call is not valid in the session's current state (e.g. on_connected twice).
  invalid_state = 23,
  /// The peer lost the session (the accessory restarted, or the session expired there) before
  /// it acknowledged this message. The message is listed in the session_reset event; send it
  /// again if it still matters.
  session_reset = 24,
  /// There was no candidate path to race (the interface policy excluded every known path, or a
  /// race was given none). A client channel started by device id that knows no path at all
  /// reports not_discovered instead.
  no_viable_path = 25,

  // --- The channel runtime's errors (until the fold: lanyard.channel.io 2-6 and 8). ---
  /// Accessory: the controller's disconnected session was kept for server_options::
  /// session_linger and then dropped; its unacknowledged pushes were not delivered.
  session_expired = 26,
  /// Accessory: async_send() to a controller that has no session (it never connected since the
  /// server started, or its session expired). Push again once it connects.
  no_session = 27,
  /// send_mode::wait, but server/client_options::max_waiting_sends sends are already waiting for
  /// room in the replay buffer: the caller is producing faster than the peer acknowledges.
  too_many_waiting_sends = 28,
  /// The connection was taken over by a newer connection of the same controller.
  connection_replaced = 29,
  /// The endpoint's host name did not resolve to any address.
  host_not_resolved = 30,
  /// Deprecated spelling of host_not_resolved (lanyard.channel.io's name, which
  /// link::link_errc::no_address also has with another meaning); removed in a later release.
  no_address = host_not_resolved,
  /// start(device_id, directory): the discovery directory has no reachable path to the
  /// accessory (not discovered yet, gone, or every path reported unreachable). The channel
  /// waits; a directory change (directory_changed()) or the backoff brings the next attempt.
  not_discovered = 31,
  /// A relay path was raced but cannot be used now: the app has no relay ticket for the
  /// accessory, or its connection to the relay's broker is down (docs/design/relay.md).
  relay_unavailable = 32,
  // lanyard.channel.io's not_started (7) was never produced and has no value here.
};

/// The "lanyard.channel" category.
const std::error_category& channel_category() noexcept;

/// Makes a std::error_code in channel_category(); found by ADL.
inline std::error_code make_error_code(channel_errc e) noexcept {
  return {static_cast<int>(e), channel_category()};
}

/// True for the errors after which the caller must close the current connection (the session
/// itself survives and may be resumed on a new connection).
bool is_connection_error(std::error_code ec) noexcept;

} // namespace lanyard::core

template <>
struct std::is_error_code_enum<lanyard::core::channel_errc> : std::true_type {};
