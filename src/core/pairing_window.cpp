#include "lanyard/core/pairing_window.hpp"

namespace lanyard::core {
std::error_code pairing_window::open(time_point now, duration timeout, window_opener opener) {
  if (timeout < min_timeout || timeout > max_timeout) return pairing_errc::invalid_timeout;
  if (opener == window_opener::admin || opener == window_opener::local)
    state_.failed_attempts = 0;
  else if (state_.failed_attempts >= max_failed_attempts)
    return pairing_errc::too_many_attempts;
  state_.open = true;
  state_.opened_at = now;
  state_.deadline = now + timeout;
  return {};
}

void pairing_window::close() noexcept {
  if (state_.open) {
    state_.open = false;
    state_.close_reason = window_close_reason::closed;
  }
}

bool pairing_window::expire(time_point now) noexcept {
  if (!state_.open) return false;
  if (now >= state_.deadline || now < state_.opened_at) {
    state_.open = false;
    state_.close_reason = window_close_reason::timed_out;
    return true;
  }
  return false;
}

std::error_code pairing_window::admit(time_point now) const noexcept {
  if (state_.failed_attempts >= max_failed_attempts) return pairing_errc::too_many_attempts;
  if (!state_.open || now >= state_.deadline || now < state_.opened_at)
    return pairing_errc::window_closed;
  return {};
}

void pairing_window::record_failure() noexcept {
  if (state_.failed_attempts < max_failed_attempts) ++state_.failed_attempts;
  if (state_.failed_attempts >= max_failed_attempts && state_.open) {
    state_.open = false;
    state_.close_reason = window_close_reason::too_many_attempts;
  }
}

void pairing_window::refund_failure(time_point now) noexcept {
  if (state_.failed_attempts == 0) return;
  const bool closed_by_charge = !state_.open &&
                                state_.close_reason == window_close_reason::too_many_attempts &&
                                state_.failed_attempts == max_failed_attempts;
  --state_.failed_attempts;
  if (closed_by_charge && now >= state_.opened_at && now < state_.deadline) state_.open = true;
}

std::optional<pairing_window::time_point> pairing_window::next_expiry() const noexcept {
  if (!state_.open) return std::nullopt;
  return state_.deadline;
}

pairing_window::duration pairing_window::remaining(time_point now) const noexcept {
  if (admit(now)) return duration::zero();
  return state_.deadline - now;
}

std::string pairing_window::describe(time_point now) const {
  const std::string failures = std::to_string(state_.failed_attempts) + " of " +
                               std::to_string(max_failed_attempts) + " attempts failed";
  if (state_.failed_attempts >= max_failed_attempts)
    return "pairing window closed after " + std::to_string(max_failed_attempts) +
           " failed attempts; press the accessory's pairing button (or open it from an admin "
           "controller)";
  if (!admit(now)) {
    const auto secs = std::chrono::ceil<std::chrono::seconds>(remaining(now)).count();
    return "pairing window open for " + std::to_string(secs) + " more seconds (" + failures + ")";
  }
  if (state_.open || state_.close_reason == window_close_reason::timed_out)
    return "pairing window closed: it timed out (" + failures + ")";
  if (state_.close_reason == window_close_reason::never_opened)
    return "pairing window closed: it was never opened";
  return "pairing window closed (" + failures + ")";
}

} // namespace lanyard::core
