/// @file
/// How an application takes the peer's messages from a channel: pushed to a handler, or
/// pulled with async_receive() under flow control. Both ends use it (client::client_options,
/// accessory::server_options).
///
/// Thread-safety: value types.
#pragma once

namespace lanyard::channel {

enum class receive_mode {
  /// The message handler is called for each message as it arrives; the session acknowledges
  /// on receipt, so a slow application must queue (and bound) them itself.
  push,
  /// The application pulls each message with async_receive(); the session acknowledges a
  /// message only once it was handed over (core::ack_policy::on_consume), so a slow
  /// application slows the peer down: at most session.max_replay_bytes (the window) wait, the
  /// peer's sends wait for room. The message handler is not called.
  pull,
};

} // namespace lanyard::channel
