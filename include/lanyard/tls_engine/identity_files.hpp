/// @file
/// An identity kept in a directory (POSIX): `identity.key` (the private key, PEM, SEC1
/// "EC PRIVATE KEY", mode 0600; created with O_EXCL, so two processes starting at once never
/// overwrite each other's key) and `identity.crt` (the certificate, PEM, mode 0644). Apart from
/// identity.hpp so that firmware, which keeps its identity as bytes in its own storage
/// (identity::from_der()), needs no <filesystem>; the definitions are in their own object
/// (src/tls_engine/identity_files.cpp), so a link that never calls them takes none of it.
///
/// Errors: a core::error_detail as in identity.hpp, the sentence naming the file and what to
/// do (e.g. "/var/lib/x/identity.key is accessible by group/others (mode 0644); a private key
/// must be mode 0600. Run: chmod 600 /var/lib/x/identity.key"), and besides those of
/// identity.hpp:
///  - tls_errc::identity_permissions: identity.key is group/other readable or writable
///    (fields: `file`, `mode`).
///  - tls_errc::bad_identity_file also when the key is missing while the certificate exists
///    (the identity is lost, `os_error` ENOENT; remove identity.crt to make a new one - peers
///    that pinned the old key will refuse the new one).
///  - tls_errc::identity_io: the directory or a file cannot be created/read/written, or does not
///    exist for load() (`file`, `os_error`: the errno).
///
/// Thread-safety: safe to call concurrently on different directories.
#pragma once

#include <lanyard/core/error_detail.hpp>
#include <lanyard/tls_engine/identity.hpp>

#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace lanyard::tls::identity_files {

inline constexpr std::string_view key_file_name = "identity.key";
inline constexpr std::string_view cert_file_name = "identity.crt";

/// Loads the identity in `dir`; on first use (no files) creates `dir` (mode 0700) if needed,
/// a new key and a certificate for `device_id`. If only the certificate is missing, a new one
/// is issued for the existing key (same fingerprint). An existing certificate for another
/// device id is an error (bad_identity_file). On failure returns an empty identity and fills
/// `error` (see Errors above); on success `error` is cleared.
identity load_or_create(const std::filesystem::path& dir, std::string_view device_id,
                        core::error_detail& error);

/// As above; throws std::system_error whose what() carries the detail sentence. Defined only
/// when lanyard::tls_engine is built with exceptions (not in the core-freestanding build).
identity load_or_create(const std::filesystem::path& dir, std::string_view device_id);

/// Loads an existing identity from `dir`, never creating anything. Errors as above.
identity load(const std::filesystem::path& dir, core::error_detail& error);

/// Replaces `dir`/identity.crt with a newly issued certificate for the same key (new serial),
/// keeping the device id; returns the reloaded identity. The fingerprint does not change.
/// Errors as above.
identity reissue_certificate(const std::filesystem::path& dir, core::error_detail& error);

/// Kept for compatibility: the forms above with only the code in `ec` and the sentence
/// (error_detail::detail) in `*detail` if not null; the fields are dropped.
identity load_or_create(const std::filesystem::path& dir, std::string_view device_id,
                        std::error_code& ec, std::string* detail = nullptr);
/// Kept for compatibility (see above).
identity load(const std::filesystem::path& dir, std::error_code& ec, std::string* detail = nullptr);
/// Kept for compatibility (see above).
identity reissue_certificate(const std::filesystem::path& dir, std::error_code& ec,
                             std::string* detail = nullptr);

} // namespace lanyard::tls::identity_files
