// What controller::async_pair() hands to the device it pairs: the credentials to prove (none
// when a pinned accessory is only connected to), the key a setup payload names, and the
// options of the call.
//
// Thread-safety: value type.
#pragma once

#include <lanyard/client/pairing_confirmation.hpp>
#include <lanyard/core/fingerprint.hpp>
#include <lanyard/core/pairing_initiator.hpp>

#include <optional>

namespace lanyard::app::detail {

struct pair_request {
  std::optional<core::pairing_credentials> credentials;
  /// The setup payload's key: the accessory must present exactly this one.
  std::optional<core::fingerprint> expected;
  /// Run the exchange even when the accessory is pinned (pair_options::prove_again).
  bool prove_again = false;
  /// Confirmation pairing's question to the person.
  client::confirm_handler confirm;
};

} // namespace lanyard::app::detail
