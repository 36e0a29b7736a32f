/// @file
/// What a device reports besides its messages, pulled with device::async_next_event(): its
/// state changes, the path its session moved to, a session the accessory lost, and the
/// progress of a provisioning.
///
/// Events queue without loss up to controller_options::max_queued_events (64). Past that bound a
/// state or path event is merged into the newest one of its kind already queued (a state is a
/// level, not a message: the merged event keeps the older `from`, takes the newer `to` and
/// `why`, and `missed` counts the changes merged away); session resets and provisioning
/// reports are always queued (there is at most one per session and a few per provisioning).
///
/// Thread-safety: value types.
#pragma once

#include <lanyard/client/channel_state.hpp>
#include <lanyard/client/path_options.hpp>
#include <lanyard/core/provisioning.hpp>
#include <lanyard/core/session_event.hpp>

#include <cstddef>
#include <system_error>
#include <variant>
#include <vector>

namespace lanyard::app {

/// The device's channel changed state (client::channel_state). `why` is the reason of waiting
/// and failed (device::last_error() has its fields), else empty.
struct state_event {
  client::channel_state from = client::channel_state::setup;
  client::channel_state to = client::channel_state::setup;
  std::error_code why;
  /// Changes merged into this one because the queue was full.
  std::size_t missed = 0;
};

/// The session runs on a new path: the first connection, a failover, or a move back.
struct path_event {
  client::path_change change;
  /// Moves merged into this one because the queue was full (`change` is the latest).
  std::size_t missed = 0;
};

/// The accessory lost the session (it restarted without its state): the device goes on in a
/// new session. `unacked` are this app's messages the accessory never acknowledged (their
/// async_send()s completed with channel::errc::session_reset): resend what still matters.
/// Messages the app receives afterwards restart at seq 0.
struct session_reset_event {
  std::vector<core::message> unacked;
};

/// A provisioning report the accessory sent while device::async_provision() runs:
/// `connecting` (the final `connected` or `failed` completes the operation and is reported
/// here too, in order with the state events).
struct provisioning_event {
  core::provisioning_progress progress;
};

using device_event = std::variant<state_event, path_event, session_reset_event, provisioning_event>;

} // namespace lanyard::app
