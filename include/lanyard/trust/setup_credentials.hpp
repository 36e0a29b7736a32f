/// @file
/// The accessory's pairing secrets, kept next to its identity: the 128-bit setup secret of its
/// setup payload (QR code) and the SPAKE2+ verifier (w0, L, salt, iterations) of its 8-digit
/// setup code — never the code itself, so reading the file does not reveal what is on the
/// label. Created once with the identity (firmware: at manufacturing, when the label is
/// printed) and read at every start.
///
/// File format (the state-file container of trust_store and controller_store; mode 0600,
/// written atomically):
///
///     lanyard-setup-credentials 1
///     secret HEX32
///     verifier ITERATIONS SALT-HEX W0-HEX L-HEX
///     end 2 CRC32C
///
/// A missing file is not an error (`exists` false: the caller creates it); a damaged one is
/// store_corrupt with "FILE:LINE: what", never silently replaced, since a new secret would
/// invalidate the label.
///
/// Thread-safety: pure functions over files; concurrent writers are not coordinated (write
/// once at creation).
#pragma once

#include <lanyard/core/pairing_crypto.hpp>
#include <lanyard/core/setup_code.hpp>
#include <lanyard/trust/error.hpp>

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace lanyard::trust {

/// The accessory's pairing secrets.
struct setup_credentials {
  /// The setup payload's secret (what the QR code holds besides the key fingerprint).
  std::array<std::uint8_t, 16> secret{};
  /// The setup code's SPAKE2+ verifier.
  core::setup_code_verifier verifier;
};

/// Reads `path`. `exists` is false (and the status ok) when there is no file.
store_status load_setup_credentials(const std::filesystem::path& path, setup_credentials& out,
                                    bool& exists);

/// Writes `creds` to `path` atomically, mode 0600.
store_status save_setup_credentials(const std::filesystem::path& path,
                                    const setup_credentials& creds);

/// What an accessory does at its first start (or its factory, when it prints the label): loads
/// `path`, or — when there is none — draws a new setup secret and 8-digit setup code from the
/// system's CSPRNG, makes the code's SPAKE2+ verifier (lanyard::crypto) and saves secret and
/// verifier. `new_code` is set only when they were made now: print it on the label (or show it
/// once), it is kept nowhere else. Errors: the load and save errors; store_io when no random
/// bytes could be drawn.
store_status load_or_create_setup_credentials(const std::filesystem::path& path,
                                              setup_credentials& out,
                                              std::optional<core::setup_code>& new_code);

/// The file's text (pure; for tests and fuzzing) and its parser.
std::string serialize_setup_credentials(const setup_credentials& creds);
store_status parse_setup_credentials(std::string_view text, std::string_view file,
                                     setup_credentials& out);

} // namespace lanyard::trust
