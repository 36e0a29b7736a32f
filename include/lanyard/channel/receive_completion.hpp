/// @file
/// The completion of async_receive(): void(std::error_code, core::message), a
/// channel::completion (completion.hpp: type-erased, one-shot, posted, with the handler's
/// cancellation slot).
///
/// Thread-safety: distinct objects safe, shared objects unsafe. Not part of the stable API.
#pragma once

#include <lanyard/channel/completion.hpp>
#include <lanyard/core/session_event.hpp>

namespace lanyard::channel {

/// See the file comment.
using receive_completion = completion<core::message>;

} // namespace lanyard::channel
