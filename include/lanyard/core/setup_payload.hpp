/// @file
/// The setup payload: what an accessory's QR code or label holds so an app can find it, verify
/// its key on first use and prove to it that the app saw the label.
///
/// Text form: "LNY1:" followed by unpadded RFC 4648 base32 of the binary form below. Uppercase
/// "LNY1:" + base32 uses only QR-alphanumeric characters, so the QR code is compact. "LNY1:"
/// names the text format, not the payload version: the version byte inside tells them apart.
///
/// Binary form, version 2 (written by this code; all integers big-endian):
///
///     offset  size  field
///     0       1     version = 2
///     1       1     flags: bit 0 softap (an SSID field follows the setup secret),
///                          bit 1 needs_provisioning, bit 2 pairing_window_open,
///                          bits 3-7 reserved (written 0, ignored when read, so a newer
///                          accessory's label still pairs with an older app)
///     2       1     L = device id length, 1..64
///     3       L     device id, [A-Za-z0-9._:-] (see device_id.hpp)
///     3+L     32    fingerprint: SHA-256 of the accessory's SubjectPublicKeyInfo
///     35+L    16    setup secret: 128 random bits the app uses to prove to the accessory that
///                   it holds this payload (DESIGN.md, "Pairing proof")
///     51+L    1     S = SSID length, 1..32            (only if flags bit 0)
///     52+L    S     SoftAP SSID, any bytes (802.11)    (only if flags bit 0)
///     end-4   4     CRC-32C of every byte before it
///
/// A 16-character id without SoftAP gives 71 bytes: 114 base32 characters plus the prefix, 119
/// in all (a version 5-M QR code holds 122 alphanumeric characters).
///
/// Binary form, version 1 (still read, and written when asked for, so old labels keep working
/// and tests can make them; it has no setup secret, so it cannot pair: see check_pairable()):
///
///     offset  size  field
///     0       1     version = 1
///     1       1     flags: as in version 2 (bit 0: an SSID field follows the fingerprint)
///     2       1     L = device id length, 1..64
///     3       L     device id, [A-Za-z0-9._:-]
///     3+L     32    fingerprint
///     35+L    1     S = SSID length, 1..32            (only if flags bit 0)
///     36+L    S     SoftAP SSID                        (only if flags bit 0)
///     end-4   4     CRC-32C of every byte before it
///
/// A 16-character id without SoftAP gives 55 bytes: 88 base32 characters plus the prefix.
///
/// The text of a version-2 payload contains the setup secret: whoever reads it can pair while
/// the accessory's pairing window is open. Show it to the person setting the accessory up;
/// never write it to a log.
///
/// Reading is forgiving about what people do and strict about content: the prefix and the
/// base32 are case-insensitive; spaces, tabs, line breaks and '-' anywhere after the prefix are
/// ignored (labels print the payload in groups). Everything else is an error that says what and
/// where: see payload_errc and payload_parse_result::describe().
#pragma once

#include "lanyard/core/error_detail.hpp"
#include "lanyard/core/fingerprint.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace lanyard::core {

/// A setup secret: 128 random bits, chosen by the accessory when it makes its payload.
using setup_secret_bytes = std::array<std::uint8_t, 16>;

/// A decoded setup payload.
struct setup_payload {
  /// The version encode_setup_payload() writes by default.
  static constexpr std::uint8_t current_version = 2;
  /// The oldest version parse_setup_payload() reads.
  static constexpr std::uint8_t oldest_version = 1;
  static constexpr std::size_t max_ssid_length = 32;
  static constexpr std::size_t setup_secret_size = setup_secret_bytes{}.size();
  static constexpr std::string_view prefix = "LNY1:";

  /// The binary form's version: the one read by parse_setup_payload(), the one to write for
  /// encode_setup_payload(). 2 needs a setup_secret; 1 must have none.
  std::uint8_t version = current_version;
  /// The accessory's stable id (TXT `id`, certificate subject); see is_valid_device_id().
  std::string device_id;
  /// The accessory's key fingerprint: the app pins exactly this key.
  fingerprint device_fingerprint;
  /// The secret that proves the app saw this payload (version 2; absent in version 1). A secret:
  /// never log it, and compare it in constant time (operator== below is not: it is for tests).
  std::optional<setup_secret_bytes> setup_secret;
  /// The SSID of the accessory's setup access point, if it has one (1..32 bytes).
  std::optional<std::string> softap_ssid;
  /// The accessory has no network credentials yet: provision it over its SoftAP.
  bool needs_provisioning = false;
  /// The accessory's pairing window was open when the payload was shown (dynamic QR codes).
  bool pairing_window_open = false;

  friend bool operator==(const setup_payload&, const setup_payload&) = default;
};

/// What is wrong with a setup payload (text or, for encoding, the struct).
enum class payload_errc {
  /// Nothing but whitespace.
  empty = 1,
  /// The text does not start with "LNY1:" (it is not a Lanyard setup payload, or not this
  /// format's generation).
  bad_prefix,
  /// A character after the prefix is not base32 (A-Z, 2-7) or a separator.
  bad_character,
  /// The number of base32 characters cannot encode whole bytes, or the last character is
  /// impossible: characters are missing, extra or mistyped.
  bad_length,
  /// Fewer bytes than the fields need: the payload was cut short when copied.
  truncated,
  /// The checksum does not match: a character was mistyped or the payload was altered.
  checksum_mismatch,
  /// The payload's version is one this code does not know (newer accessory; update the app).
  /// Encoding: setup_payload::version is neither 1 nor 2.
  unsupported_version,
  /// The device id is empty or contains a character outside [A-Za-z0-9._:-].
  bad_device_id,
  /// The device id is longer than 64 bytes.
  device_id_too_long,
  /// The SoftAP flag is set but the SSID is empty.
  bad_ssid,
  /// The SSID is longer than 32 bytes.
  ssid_too_long,
  /// Bytes follow the checksummed fields (the checksum matched, so the encoder is at fault).
  trailing_data,
  /// Encoding: a version-2 payload needs a setup_secret.
  missing_setup_secret,
  /// Encoding: a version-1 payload cannot carry a setup_secret (it would be dropped silently).
  unexpected_setup_secret,
  /// check_pairable(): a version-1 payload has no setup secret, so the app cannot prove to the
  /// accessory that it holds the payload. The message says what to do instead.
  no_setup_secret,
};

/// The error category of payload_errc, named "lanyard.payload". Any thread.
const std::error_category& payload_category() noexcept;

inline std::error_code make_error_code(payload_errc e) noexcept {
  return {static_cast<int>(e), payload_category()};
}

/// The result of parse_setup_payload(): the payload, or what is wrong and where.
struct payload_parse_result {
  setup_payload payload;
  std::error_code code;
  /// bad_prefix / bad_character / bad_length: 0-based index into the input text of the
  /// offending character (bad_length: of the last character, or the text's length).
  /// truncated / trailing_data: the number of bytes missing / extra (a version-2 payload whose
  /// fields stop inside the setup secret is truncated). unsupported_version: the version found.
  /// device_id_too_long / ssid_too_long: the length found.
  std::size_t position = 0;
  /// bad_character / bad_length: the offending character.
  char character = '\0';

  explicit operator bool() const noexcept { return !code; }

  /// One line a person can act on, e.g. "setup payload: character '0' at position 14 is not
  /// base32 (A-Z, 2-7); did you mean 'O'?" or "setup payload: checksum mismatch: a character
  /// was mistyped; check the payload again".
  std::string describe() const;

  /// As the one "error plus detail" type: `code`, describe() as `detail`, and
  /// field_key::position for bad_prefix / bad_character / bad_length (for the other codes
  /// `position` counts something else). `character` is no field: it is a character of the
  /// payload, which carries the setup secret. Empty (ok) when `code` is.
  error_detail to_error_detail() const;
};

/// Parses a setup payload of version 1 or 2 (payload.version says which; version 1 leaves
/// setup_secret empty). Thread-safety: pure function. Never reads outside `text`.
payload_parse_result parse_setup_payload(std::string_view text);

/// Whether the app can pair with `payload`: an empty error code if it carries a setup secret,
/// payload_errc::no_setup_secret if not (a version-1 payload). The error's message tells the
/// user what to do (update the accessory, or pair with its 8-digit setup code).
/// Thread-safety: pure function.
std::error_code check_pairable(const setup_payload& payload) noexcept;

/// How encode_setup_payload() lays out its text.
enum class payload_layout {
  /// "LNY1:" + uppercase base32, nothing else: for QR codes.
  compact,
  /// "LNY1:" + uppercase base32 in groups of 4 separated by '-': for printed labels.
  grouped,
};

/// Encodes `payload` (accessory side) in the binary form of `payload.version`. Fails, leaving
/// `out` untouched, with unsupported_version for a version other than 1 or 2,
/// missing_setup_secret for version 2 without a setup_secret, unexpected_setup_secret for
/// version 1 with one, and bad_device_id, device_id_too_long, bad_ssid or ssid_too_long if a
/// field breaks the rules above. Thread-safety: pure function.
std::error_code encode_setup_payload(const setup_payload& payload, std::string& out,
                                     payload_layout layout = payload_layout::compact);

} // namespace lanyard::core

template <>
struct std::is_error_code_enum<lanyard::core::payload_errc> : std::true_type {};
