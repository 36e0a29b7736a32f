/// @file
/// The states a client_channel reports (see lanyard/core/channel_state.hpp for the diagram).
/// The enum lives in the core so that the sans-IO connection policy can report it; these are
/// its public names.
///
/// Thread-safety: value types and pure functions.
#pragma once

#include <lanyard/core/channel_state.hpp>

namespace lanyard::client {

/// setup, preparing, ready, waiting, failed, cancelled (core::channel_state).
using channel_state = core::channel_state;
/// "setup", "preparing", "ready", "waiting", "failed", "cancelled".
using core::to_string;

} // namespace lanyard::client
