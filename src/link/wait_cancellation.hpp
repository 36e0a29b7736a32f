// Private: per-operation cancellation of a waiting async_next_event (path_monitor and
// shared_path_monitor). Waiting for an event has no side effect, so every cancellation type
// ends the wait (operation_aborted); the queued events stay for the next call.
//
// The slot's handler runs in the frame of whoever emits the cancellation (possibly inside
// another handler), and completing the wait frees that very handler (path_event_op::complete
// clears the slot): so it only posts `cancel` to the monitor's executor.
#pragma once

#include "lanyard/link/path_monitor.hpp"

#include <asio/any_io_executor.hpp>
#include <asio/cancellation_type.hpp>
#include <asio/post.hpp>

#include <functional>
#include <utility>

namespace lanyard::link::detail {

inline void arm_cancellation(path_event_op& op, asio::any_io_executor ex,
                             std::function<void()> cancel) {
  if (!op.slot.is_connected()) return;
  op.slot.assign([ex = std::move(ex), cancel = std::move(cancel)](asio::cancellation_type) {
    asio::post(ex, cancel);
  });
}

} // namespace lanyard::link::detail
