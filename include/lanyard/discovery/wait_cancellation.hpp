/// @file
/// Private to lanyard::discovery: per-operation cancellation of a browser's async_next and an
/// advertiser's async_publish (a cancellation slot bound to the handler).
///
/// The slot's handler runs in the frame of whoever emits the cancellation (possibly inside
/// another handler), and completing the wait frees that very handler (the completion clears
/// the slot): so it only posts `cancel` to the object's executor, where it runs only while the
/// object lives (`alive`) and only for the wait it was armed for (`cancel` checks the id).
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/associated_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/cancellation_type.hpp>
#include <asio/post.hpp>

#include <memory>
#include <utility>

namespace lanyard::discovery::detail {

/// Arms `slot` (no effect if unconnected): a cancellation of a type in `honoured` posts
/// `cancel()`.
template <class Cancel>
void arm_cancellation(asio::cancellation_slot slot, asio::cancellation_type honoured,
                      asio::any_io_executor ex, std::weak_ptr<int> alive, Cancel cancel) {
  if (!slot.is_connected()) return;
  slot.assign([honoured, ex = std::move(ex), alive = std::move(alive),
               cancel = std::move(cancel)](asio::cancellation_type type) {
    if ((type & honoured) == asio::cancellation_type::none) return;
    asio::post(ex, [alive, cancel] {
      if (alive.lock()) cancel();
    });
  });
}

} // namespace lanyard::discovery::detail
