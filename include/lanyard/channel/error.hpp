/// @file
/// The channel runtime's error spellings. Its codes (a send the accessory can no longer
/// acknowledge, a session that expired, a replaced connection, an attempt that found no
/// address) are values of lanyard::core::channel_errc, category "lanyard.channel", like the
/// wire and session errors: one situation, one code (docs/design/error-model.md §7.4 step 8).
/// Until that fold they had a category of their own, "lanyard.channel.io", whose session_reset
/// compared unequal to the session's. Cancellation is asio::error::operation_aborted.
///
/// Thread-safety: the category is a stateless singleton; safe from any thread.
#pragma once

#include <lanyard/core/channel_error.hpp>

#include <system_error>

namespace lanyard::channel {

/// channel::errc::session_reset, channel::errc::no_session, ... keep compiling and name the
/// same codes as core::channel_errc::X.
using errc = core::channel_errc;

/// Deprecated: returns core::channel_category() (the "lanyard.channel.io" category is gone);
/// use that. Kept for one release; not [[deprecated]], so that callers built with -Werror keep
/// building.
inline const std::error_category& error_category() noexcept {
  return core::channel_category();
}

} // namespace lanyard::channel
