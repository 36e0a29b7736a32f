// What `lanyard connect` says about a send that did not complete: kept apart from the command
// so that the decision can be unit-tested.
#pragma once

#include <system_error>

namespace lanyard::cli {

/// True if a send that completed with `ec` is reported as "message N not delivered". False for
/// success, for cancellation (the command is ending) and for a session reset: the reset report
/// already lists every message the accessory never acknowledged, and each of their sends
/// completes with `channel::errc::session_reset`.
bool report_as_undelivered(std::error_code ec) noexcept;

} // namespace lanyard::cli
