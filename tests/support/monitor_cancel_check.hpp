// The waiting contract path_monitor and shared_path_monitor both promise: cancel() completes
// the pending async_next_event with operation_aborted, through the executor (never inside the
// call), and a second concurrent wait completes with in_progress. For either monitor, started
// and with its initial dump consumed.
#pragma once

#include <lanyard/link/path_event.hpp>

#include <catch2/catch.hpp>

#include <asio/error.hpp>
#include <asio/io_context.hpp>

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

} // namespace lanyard::test
