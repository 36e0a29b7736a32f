/// @file
/// The accessory's TLS identity (its key and self-signed certificate) kept through the
/// platform's storage, not in files: the firmware's flash holds two blobs, the private key
/// (DER, storage_key::identity_key: a secret, never log it) and the certificate (DER,
/// storage_key::identity_certificate). The first start makes them with the platform's random
/// source; every later start makes the same identity again from them (tls::identity::from_der,
/// which checks that the certificate is the key's).
#pragma once
#include <lanyard/core/error_detail.hpp>
#include <lanyard/firmware/platform.hpp>
#include <lanyard/tls_engine/identity.hpp>

#include <string_view>

namespace lanyard::firmware {

namespace storage_key {
inline constexpr const char* identity_key = "identity.key";
inline constexpr const char* identity_certificate = "identity.crt";
} // namespace storage_key

/// Loads the identity from storage, or makes and stores a new one for `device_id` when there
/// is none (a first boot or a factory reset). Returns an empty identity and fills `error` on
/// failure: firmware_errc::platform_incomplete, storage_failed (a read or write failed; one of
/// the two blobs without the other is storage_corrupt, except a certificate without its key
/// and no controller table: a first boot cut between the two writes, whose key was never
/// stored nor used, so a new identity is made), storage_corrupt (the stored bytes are
/// no P-256 key, no certificate, or not a pair: never replaced, since the accessory's key is
/// what every controller pinned), or tls_errc from generating the key. `error.detail` says
/// which blob and why.
tls::identity load_or_create_identity(const platform& p, std::string_view device_id,
                                      core::error_detail& error);

} // namespace lanyard::firmware
