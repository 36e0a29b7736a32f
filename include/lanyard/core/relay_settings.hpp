/// @file
/// The relay's settings as they travel inside the channel (docs/design/relay.md, "Relay
/// settings and keys"): what an admin provisions an accessory with, and the ticket the accessory
/// gives each controller. Binary, because the broker's CA certificate does not fit an app
/// message's value. Pure codec, no I/O; what arrives is checked field by field.
///
///   version (1 B, = 1) | kind (1 B: 1 settings, 2 ticket) | fields...
///   field = type (1 B) | length (u16 BE) | value
///
///   type  field                 settings  ticket   value
///   1     broker host           required  required 1..253 bytes: a host name or an IP literal
///   2     broker port           required  required u16 BE, not 0
///   3     broker CA             required  required PEM, 1..8192 bytes, one or more certificates
///   4     accessory password    required  -        1..256 bytes (its user name is its inbox id)
///   5     household account     required  required core::valid_relay_account()
///   6     household password    required  required 1..256 bytes
///   7     accessory inbox       -         required core::valid_relay_inbox()
///   8     relay key             -         required 32 bytes (crypto::derive_relay_key())
///
/// Each field at most once; a field the kind does not have, an unknown type, a missing required
/// field or bytes after the last field is an error: a peer that needs more bumps the version.
///
/// Secrets: the passwords and the relay key. Nothing here prints a value; callers must not log
/// them either (describe() names fields, never values).
///
/// Thread-safety: value types and pure functions.
#pragma once

#include "lanyard/core/relay_frame.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

namespace lanyard::core {

/// What is wrong with relay settings or a ticket.
enum class relay_settings_errc {
  /// Fewer bytes than a header or a field's length says.
  truncated = 1,
  /// A version other than 1.
  bad_version,
  /// A kind other than settings (1) or ticket (2), or not the kind expected.
  bad_kind,
  /// A field type that is unknown, or that this kind does not have.
  unknown_field,
  /// A field given twice.
  duplicate_field,
  /// A required field is missing.
  missing_field,
  /// A field's value is out of its bounds (length, port 0, an account or inbox that cannot be
  /// part of a topic, a CA without a PEM certificate).
  bad_value,
};

const std::error_category& relay_settings_category() noexcept;

inline std::error_code make_error_code(relay_settings_errc e) noexcept {
  return {static_cast<int>(e), relay_settings_category()};
}

/// Where the broker is and how to trust it.
struct relay_broker {
  std::string host;
  std::uint16_t port = 8883;
  std::string ca_pem;
};

/// What an admin provisions an accessory with.
struct relay_settings {
  relay_broker broker;
  std::string accessory_password;
  std::string household_account;
  std::string household_password;
};

/// What the accessory gives a paired controller: all it needs to reach the accessory through
/// the broker.
struct relay_ticket {
  relay_broker broker;
  std::string household_account;
  std::string household_password;
  std::string accessory_inbox;
  std::array<std::uint8_t, 32> relay_key{};
};

/// Encoders: append the encoding to `out`. bad_value if a field is out of its bounds (nothing is
/// appended then).
std::error_code encode_relay_settings(const relay_settings& s, std::vector<std::uint8_t>& out);
std::error_code encode_relay_ticket(const relay_ticket& t, std::vector<std::uint8_t>& out);

/// Decoders: on error `out` is unspecified, and `field` (if not null) says which field type was
/// wrong (0 for the header).
std::error_code decode_relay_settings(std::span<const std::uint8_t> in, relay_settings& out,
                                      std::uint8_t* field = nullptr);
std::error_code decode_relay_ticket(std::span<const std::uint8_t> in, relay_ticket& out,
                                    std::uint8_t* field = nullptr);

/// The name of field `type` ("broker host", ...; "field <n>" for an unknown one): for error
/// messages, which name fields and never print their values.
std::string relay_settings_field_name(std::uint8_t type);

} // namespace lanyard::core

template <>
struct std::is_error_code_enum<lanyard::core::relay_settings_errc> : std::true_type {};
