// Which failed sends `lanyard connect` reports as "not delivered" (design error-model.md §5).
#include "cli/send_report.hpp"

#include <lanyard/channel/error.hpp>
#include <lanyard/core/channel_error.hpp>

#include <asio/error.hpp>
#include <catch2/catch.hpp>

using lanyard::cli::report_as_undelivered;

TEST_CASE("a session reset is not reported again per message", "[cli][connect]") {
  // The code client_channel completes unacknowledged sends with on a reset (send_queue::
  // fail_unacked); the reset report already lists those messages.
  CHECK_FALSE(report_as_undelivered(lanyard::channel::errc::session_reset));
}

TEST_CASE("success and cancellation are not reported", "[cli][connect]") {
  CHECK_FALSE(report_as_undelivered({}));
  CHECK_FALSE(report_as_undelivered(asio::error::operation_aborted));
}

TEST_CASE("every other failed send is reported", "[cli][connect]") {
  CHECK(report_as_undelivered(lanyard::core::channel_errc::session_closed));
  CHECK(report_as_undelivered(lanyard::core::channel_errc::message_too_large));
  CHECK(report_as_undelivered(lanyard::channel::errc::too_many_waiting_sends));
  CHECK(report_as_undelivered(std::make_error_code(std::errc::connection_reset)));
}
