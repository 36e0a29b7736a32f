/// @file
/// Errors of Lanyard's trust layer: pins, the trust store, paired controllers. The controller
/// store refuses a pairing with the pairing window's and the pairing exchange's own codes
/// (core::pairing_errc::window_closed, too_many_attempts, controllers_full), the ones the
/// accessory sends and the app receives: one code per situation, nothing to translate.
#pragma once

#include <lanyard/core/error_detail.hpp>

#include <string>
#include <system_error>
#include <type_traits>

namespace lanyard::trust {

/// What went wrong in the trust layer. Every message says what to do about it.
enum class trust_errc {
  /// A known device presented a key other than the pinned one. Refused before any application
  /// byte; the trust_decision carries both fingerprints.
  key_changed = 1,
  /// Strict mode: the device is not in the trust store. Also: forget()/touch() of an id that is
  /// not pinned.
  unknown_device,
  /// The key the device presented is not the one in its setup payload.
  payload_mismatch,
  /// Verified-first-use mode for an unknown device, but no setup payload fingerprint was given.
  payload_required,
  /// A state file does not parse; the detail names "FILE:LINE: what". Nothing was changed.
  store_corrupt,
  /// A state file was written by a newer Lanyard (its version line is unknown).
  store_unsupported_version,
  /// Reading or writing a state file failed (the detail has the path and the system's reason).
  store_io,
  /// A state file (or its directory) is writable by group or others, or owned by another user.
  store_permissions,
  /// A record to store is invalid: bad device id, name too long.
  invalid_record,
  /// Accessory: the controller is not in the controller store (its certificate is not paired)
  /// and no pairing window is open.
  not_paired = 10,
  // 11: reserved, was pairing_window_closed (now core::pairing_errc::window_closed).
  // 12: reserved, was too_many_attempts (now core::pairing_errc::too_many_attempts).
  /// Accessory: the operation needs an admin controller.
  not_admin = 13,
  /// Accessory: removing this controller would leave the accessory without an admin.
  last_admin = 14,
  // 15: reserved, was controllers_full (now core::pairing_errc::controllers_full).
  /// Accessory: it does not offer this request (it answered `not_supported` or
  /// `unknown_verb`: another product, or an older version without that service).
  request_not_supported = 16,
  /// Accessory: it refused the request for a reason this version does not know (its token is
  /// in the error's `reason` field).
  request_refused = 17,
};

/// The error category of trust_errc, named "lanyard.trust". Immutable; any thread.
const std::error_category& trust_category() noexcept;

inline std::error_code make_error_code(trust_errc e) noexcept {
  return {static_cast<int>(e), trust_category()};
}

/// The outcome of a trust-store or controller-store operation: an error code, plus the detail an
/// error_code cannot carry ("/home/u/.local/state/lanyard/trust-store:7: bad fingerprint ...").
/// The core's one "error plus detail" type: `ok()`, `failed()`, and `message()` (the detail if
/// there is one, else code.message(); "ok" on success; one line).
///
/// Thread-safety: a plain value.
using store_status = core::error_detail;

} // namespace lanyard::trust

template <>
struct std::is_error_code_enum<lanyard::trust::trust_errc> : std::true_type {};
