// The waiting contract path_monitor and shared_path_monitor both promise: cancel() completes
// the pending async_next_event with operation_aborted, through the executor (never inside the
// call), and a second concurrent wait completes with in_progress. For either monitor, started
// and with its initial dump consumed.
#pragma once

#include <lanyard/link/path_event.hpp>

#include <catch2/catch.hpp>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/error.hpp>
#include <asio/io_context.hpp>

#include <optional>
#include <system_error>

namespace lanyard::test {

template <class Monitor>
void check_cancel_and_second_waiter(asio::io_context& io, Monitor& m) {
  std::error_code first, second;
  bool first_called = false;
  m.async_next_event([&](std::error_code ec, link::path_event) {
    first_called = true;
    first = ec;
  });
  m.async_next_event([&](std::error_code ec, link::path_event) { second = ec; });
  m.cancel();
  CHECK_FALSE(first_called); // completions go through the executor
  io.poll();
  CHECK(first == asio::error::operation_aborted);
  CHECK(second == asio::error::in_progress);
}

// Per-operation cancellation: a signal bound to one wait ends that wait (any type: waiting has
// no side effect), through the executor; once the wait is over, its slot is free, and a
// cancellation emitted just before another wait began does not end that one.
template <class Monitor>
void check_per_operation_cancellation(asio::io_context& io, Monitor& m) {
  asio::cancellation_signal sig;
  std::optional<std::error_code> a;
  m.async_next_event(asio::bind_cancellation_slot(
      sig.slot(), [&](std::error_code ec, link::path_event) { a = ec; }));
  sig.emit(asio::cancellation_type::total);
  CHECK_FALSE(a); // completions go through the executor
  io.poll();
  REQUIRE(a);
  CHECK(*a == asio::error::operation_aborted);

  // A late cancellation: emitted for wait b, which then ends another way before it is carried
  // out; wait c begins meanwhile and must not be ended by it.
  std::optional<std::error_code> b, c;
  m.async_next_event(asio::bind_cancellation_slot(
      sig.slot(), [&](std::error_code ec, link::path_event) { b = ec; }));
  sig.emit(asio::cancellation_type::terminal);
  m.cancel();
  m.async_next_event([&](std::error_code ec, link::path_event) { c = ec; });
  io.poll();
  REQUIRE(b);
  CHECK(*b == asio::error::operation_aborted);
  CHECK_FALSE(c);
  CHECK_FALSE(sig.slot().has_handler());       // b is over: its slot is free
  sig.emit(asio::cancellation_type::terminal); // and emitting on it reaches nobody
  io.poll();
  CHECK_FALSE(c);
  m.cancel();
  io.poll();
  CHECK(c == asio::error::operation_aborted);
}

} // namespace lanyard::test
