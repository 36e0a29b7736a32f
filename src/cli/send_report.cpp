#include "send_report.hpp"

#include <lanyard/channel/error.hpp>

#include <asio/error.hpp>

namespace lanyard::cli {

bool report_as_undelivered(std::error_code ec) noexcept {
  return ec && ec != asio::error::operation_aborted && ec != channel::errc::session_reset;
}

} // namespace lanyard::cli
