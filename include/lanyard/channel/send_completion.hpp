/// @file
/// The completion of async_send(): void(std::error_code, std::uint64_t seq), a
/// channel::completion (completion.hpp: type-erased, one-shot, posted, with the handler's
/// cancellation slot).
///
/// Thread-safety: distinct objects safe, shared objects unsafe. Not part of the stable API.
#pragma once

#include <lanyard/channel/completion.hpp>

#include <cstdint>

namespace lanyard::channel {

/// See the file comment.
using send_completion = completion<std::uint64_t>;

} // namespace lanyard::channel
