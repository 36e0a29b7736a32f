/// @file
/// Why pairing failed or was refused: one category, "lanyard.pairing", shared by the pairing
/// window (pairing_window.hpp), the pairing exchange (pairing_initiator.hpp,
/// pairing_responder.hpp) and everything above them. Each message says what to do next.
///
/// Thread-safety: the category is a stateless singleton; safe from any thread.
#pragma once

#include <system_error>
#include <type_traits>

namespace lanyard::core {

/// Why pairing is refused or failed.
enum class pairing_errc {
  /// No pairing window is open (never opened, timed out or closed).
  window_closed = 1,
  /// 20 proofs failed: the window is closed until it is reopened on the accessory (its pairing
  /// button) or by an admin controller.
  too_many_attempts,
  /// A timeout outside 3..15 minutes was asked for.
  invalid_timeout,
  /// The proof was wrong: the setup secret or code does not match this accessory's.
  wrong_proof,
  /// The accessory did not prove that it knows the setup secret or code: it is not the
  /// accessory on the label, or the code was mistyped (SPAKE2+ cannot tell the two apart).
  accessory_unverified,
  /// The accessory does not offer this way of pairing (e.g. no setup code, or unproven
  /// pairing with a verification code asked of an accessory that requires its setup code).
  method_not_supported,
  /// The accessory already has as many paired controllers as it holds; an admin must remove
  /// one first.
  controllers_full,
  /// The pairing exchange did not finish in time.
  timeout,
  /// A pairing frame was malformed or arrived out of order.
  protocol_violation = 9,
  // 10: reserved, was not_paired (channel traffic before pairing: now channel_errc::not_paired,
  // the code the accessory sends in its CLOSE).
  /// Pairing needs a full TLS handshake (a resumed one has no fresh key exchange to bind to).
  /// The accessory refuses such a pairing before it starts and reports this to its application
  /// (server::pairing_report); the app's side never offers a resumed session before pairing.
  needs_full_handshake = 11,
  /// The accessory could not complete pairing on its side (its storage failed); nothing was
  /// paired. Try again; if it persists the accessory needs attention.
  accessory_failure,
  /// The user did not confirm the verification code.
  not_confirmed,
};

/// The "lanyard.pairing" category. Any thread.
const std::error_category& pairing_category() noexcept;

inline std::error_code make_error_code(pairing_errc e) noexcept {
  return {static_cast<int>(e), pairing_category()};
}

} // namespace lanyard::core

template <>
struct std::is_error_code_enum<lanyard::core::pairing_errc> : std::true_type {};
