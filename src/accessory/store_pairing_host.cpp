#include "store_pairing_host.hpp"

#include <lanyard/core/pairing_error.hpp>
#include <lanyard/core/pairing_window.hpp>
#include <lanyard/trust/window_clock.hpp>

#include <chrono>
#include <utility>

namespace lanyard::accessory::detail {
namespace {

// The window runs on the accessory's monotonic wall clock: a wall-clock jump while it runs
// (NTP setting an RTC-less accessory's 1970 clock) neither closes nor extends it.
using sys = trust::window_clock;

// The store refuses with the pairing codes themselves (window closed, too many attempts,
// controllers full): they go to the app as they are. Anything else is the accessory's storage
// failing, which the app cannot fix.
std::error_code to_pairing(std::error_code ec) {
  if (ec.category() == core::pairing_category()) return ec;
  return core::pairing_errc::accessory_failure;
}

} // namespace

std::error_code store_pairing_host::note(const trust::store_status& s) {
  if (!s.failed()) return {};
  detail_ = s.message();
  return to_pairing(s.code);
}

std::error_code store_pairing_host::admit(time_point) {
  if (known_) return {};
  const auto now = sys::now();
  if (std::error_code ec = note(store_->expire_window(now))) return ec;
  return core::pairing_window(store_->window()).admit(now);
}

std::uint32_t store_pairing_host::attempts_left() {
  return core::pairing_window(store_->window()).attempts_left();
}

std::error_code store_pairing_host::record_failure(time_point now) {
  // Persisted before the caller reveals anything: a crash right after still counts it.
  if (std::error_code ec = note(store_->record_failure(sys::now()))) return ec;
  throttle_before_ = throttle_.not_before();
  throttle_.record_failure(now, store_->window().failed_attempts);
  return {};
}

std::error_code store_pairing_host::refund_failure(time_point) {
  // The proof was right: it delays nobody, and the count comes back with the pairing's write
  // (add_controller follows at once).
  if (throttle_before_) throttle_.restore(*throttle_before_);
  refund_pending_ = true;
  return {};
}

store_pairing_host::~store_pairing_host() {
  // A refund not followed by add_controller (cannot happen with the responder; be safe).
  if (refund_pending_) store_->refund_failure(sys::now());
}

std::error_code store_pairing_host::add_controller(const core::fingerprint& fp,
                                                   std::string_view name, core::paired_role& role) {
  if (!known_) {
    std::string_view kept = name.substr(0, trust::controller_store::max_name_length);
    if (std::error_code ec = note(store_->pair(fp, kept, trust::controller_role::user, sys::now())))
      return ec;
  }
  const auto record = known_ ? known_ : store_->find(fp);
  role = record && record->role == trust::controller_role::admin ? core::paired_role::admin
                                                                 : core::paired_role::user;
  return {};
}

std::optional<std::span<const std::uint8_t>> store_pairing_host::setup_secret() {
  if (!opts_.credentials) return std::nullopt;
  return std::span<const std::uint8_t>(opts_.credentials->secret);
}

const core::setup_code_verifier* store_pairing_host::code_verifier() {
  return opts_.credentials ? &opts_.credentials->verifier : nullptr;
}

} // namespace lanyard::accessory::detail
