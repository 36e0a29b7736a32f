/// @file
/// Errors of the asio channel layer (client_channel and accessory::server) that the session core
/// does not have: what happened to a send that can no longer be acknowledged, and why a
/// connection attempt was abandoned. Wire and session errors stay in lanyard::core::channel_errc
/// (lanyard/core/channel_error.hpp); cancellation is asio::error::operation_aborted.
///
/// Thread-safety: the category is a stateless singleton; safe from any thread.
#pragma once

#include <system_error>
#include <type_traits>

namespace lanyard::channel {

/// What went wrong in the channel's asio layer.
enum class errc {
  /// The accessory lost the session (it restarted, or the session expired there) before it
  /// acknowledged this message. The message is listed in the session_reset event; send it again
  /// if it still matters.
  session_reset = 1,
  /// Accessory: the controller's disconnected session was kept for server_options::
  /// session_linger and then dropped; its unacknowledged pushes were not delivered.
  session_expired,
  /// Accessory: async_send() to a controller that has no session (it never connected since the
  /// server started, or its session expired). Push again once it connects.
  no_session,
  /// send_mode::wait, but server/client_options::max_waiting_sends sends are already waiting for
  /// room in the replay buffer: the caller is producing faster than the peer acknowledges.
  too_many_waiting_sends,
  /// The connection was taken over by a newer connection of the same controller.
  connection_replaced,
  /// The endpoint's host name did not resolve to any address.
  no_address,
  /// The client channel was used before start() or after it failed.
  not_started,
  /// start(device_id, directory): the discovery directory has no reachable path to the
  /// accessory (not discovered yet, gone, or every path reported unreachable). The channel
  /// waits; a directory change (directory_changed()) or the backoff brings the next attempt.
  not_discovered,
};

/// The "lanyard.channel.io" category.
const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

} // namespace lanyard::channel

template <>
struct std::is_error_code_enum<lanyard::channel::errc> : std::true_type {};
