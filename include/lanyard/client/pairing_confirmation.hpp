/// @file
/// Confirmation pairing (core::pairing_method::confirmation, for accessories without a setup
/// payload or code): after the accessory accepted the request it shows a six-digit code, this
/// side computes the same code from the TLS connection (client::verification_code()), and a
/// person compares the two. Only a yes pins the accessory's key. A neighbour in between would
/// show a different code: that is the whole defence, so the question must reach a person.
///
/// Thread-safety: value types; the answer callback may be called from any thread (it posts).
#pragma once

#include <lanyard/core/fingerprint.hpp>

#include <cstdint>
#include <functional>
#include <string>

namespace lanyard::client {

/// What the person compares.
struct pairing_confirmation {
  /// The device id the app asked for (the accessory's certificate names the same).
  std::string device_id;
  /// The key the accessory presented (pinned on a yes).
  core::fingerprint fingerprint;
  /// The accessory's certificate subject (untrusted: escape before showing,
  /// core::display_text()).
  std::string subject;
  /// Six decimal digits (0–999999): show them zero-padded, e.g. "042 917".
  std::uint32_t code = 0;
};

/// Called once per pairing exchange that needs a confirmation. Call `answer(true)` only when
/// the person confirmed that the accessory shows the same code, `answer(false)` otherwise; the
/// first answer counts. Until it comes the connection waits (bound it from the operation that
/// started the pairing: its cancellation ends the wait).
using confirm_handler =
    std::function<void(const pairing_confirmation& c, std::function<void(bool same)> answer)>;

} // namespace lanyard::client
