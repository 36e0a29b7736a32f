/// @file
/// The relay's keys (docs/design/relay.md, "Relay settings and keys"): the inbox id a key's
/// fingerprint is known by at the broker, each controller's relay key, and the OPEN tag that
/// proves a tunnel request comes from a paired controller before the accessory spends anything
/// on it.
///
/// Thread-safety: pure functions, safe from any thread.
#pragma once

#include "lanyard/core/fingerprint.hpp"
#include "lanyard/core/relay_frame.hpp"
#include "lanyard/crypto/primitives.hpp"

#include <array>
#include <cstdint>
#include <span>
#include <system_error>

namespace lanyard::crypto {

/// Bytes of an accessory's relay secret and of a controller's relay key.
inline constexpr std::size_t relay_key_size = 32;
using relay_key = std::array<std::uint8_t, relay_key_size>;

/// The inbox id of the key with fingerprint `fp`: the first 130 bits of
/// SHA-256("lanyard relay inbox v1" ‖ fp) in base32 (RFC 4648 alphabet, no padding),
/// core::relay_inbox_length characters. Pseudonymous: it names no device, and knowing it lets
/// nobody read the inbox (the broker's ACL does that). Errors: crypto_errc::mbedtls_failure.
std::error_code relay_inbox(const core::fingerprint& fp,
                            std::array<char, core::relay_inbox_length>& out) noexcept;

/// The relay key of the controller with fingerprint `controller` under the accessory's relay
/// secret: HKDF-SHA256(salt empty, ikm = secret, info = "lanyard relay key v1" ‖ fingerprint).
/// Nothing per controller is stored; removing a controller from the table is what revokes it.
std::error_code derive_relay_key(const relay_key& secret, const core::fingerprint& controller,
                                 relay_key& out) noexcept;

/// The OPEN tag: HMAC-SHA256(key, "lanyard relay open v1" ‖ accessory inbox ‖ tunnel id ‖ reply
/// account length (1 B) ‖ reply account ‖ reply inbox ‖ nonce). Binds the request to the
/// accessory it is for, the tunnel and where the answer goes, so a tag seen at the broker is
/// no use for another tunnel, inbox or reply address.
std::error_code relay_open_tag(const relay_key& key, std::string_view accessory_inbox,
                               const core::relay_tunnel_id& tunnel,
                               const core::relay_address& reply,
                               const std::array<std::uint8_t, core::relay_nonce_size>& nonce,
                               std::array<std::uint8_t, core::relay_tag_size>& out) noexcept;

/// True if `open` (a parsed OPEN frame) carries the tag `key` gives for `accessory_inbox`;
/// compared in constant time.
bool relay_open_tag_matches(const relay_key& key, std::string_view accessory_inbox,
                            const core::relay_frame& open) noexcept;

} // namespace lanyard::crypto
