/// @file
/// The application message format between a companion app and an accessory (what the
/// simulated accessory, firmware-sim/, speaks inside the channel): one short line of ASCII text
/// per channel message, versioned, easy to read in logs and to type in tests.
///
/// Grammar, version 1 (one channel message = one line, no line terminator):
///
///     message = "v1" SP verb *( SP field )
///     verb    = 1*32( %x61-7A / "_" )             ; a-z and '_': "get", "set", "state", ...
///     field   = key "=" value
///     key     = 1*32( %x61-7A / DIGIT / "_" )     ; a-z, 0-9, '_'
///     value   = *128( %x21-7E )                   ; printable ASCII, no space (may contain '=')
///
/// Limits: the whole message is at most 1024 bytes, at most 16 fields, each key at most once
/// (a repeated key is an error, not "first wins": two different values for `brightness` are a
/// bug in the sender). A message that starts with "v<digits>" other than "v1" is
/// unsupported_version, so a newer app or accessory gets a clear answer; an older peer answers
/// unknown verbs and keys with an error message instead of guessing. Values carry no spaces; a
/// field that needs them (free text) percent-encodes them (see percent_encode()).
///
/// The vocabulary (verbs and keys) belongs to the device kind and is documented with it
/// (firmware-sim/README.md); this codec only checks the syntax.
///
/// Thread-safety: value types and pure functions. No exceptions; allocation only in the
/// std::string / std::vector members.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace lanyard::core {

/// What is wrong with an application message.
enum class app_message_errc {
  /// The message is empty.
  empty = 1,
  /// It does not start with "v1 " (not an application message of this format).
  bad_version,
  /// It starts with "vN" for another N: a newer peer; update this side.
  unsupported_version,
  /// The verb is missing, too long, or has a character outside a-z and '_'.
  bad_verb,
  /// A field is not key=value, the key is empty, too long or has a character outside a-z,
  /// 0-9 and '_'.
  bad_key,
  /// A value is longer than 128 bytes or has a character outside printable ASCII (0x21-0x7E).
  bad_value,
  /// The same key appears twice.
  duplicate_key,
  /// More than 16 fields.
  too_many_fields,
  /// More than 1024 bytes.
  too_long,
  /// Two spaces in a row, or a space at the start or end.
  bad_spacing,
};

/// The error category of app_message_errc, named "lanyard.app_message". Any thread.
const std::error_category& app_message_category() noexcept;

inline std::error_code make_error_code(app_message_errc e) noexcept {
  return {static_cast<int>(e), app_message_category()};
}

/// One application message: a verb and its fields, in order.
struct app_message {
  static constexpr std::string_view version_token = "v1";
  static constexpr std::size_t max_size = 1024;
  static constexpr std::size_t max_fields = 16;
  static constexpr std::size_t max_verb_length = 32;
  static constexpr std::size_t max_key_length = 32;
  static constexpr std::size_t max_value_length = 128;

  std::string verb;
  std::vector<std::pair<std::string, std::string>> fields;

  app_message() = default;
  explicit app_message(std::string v) : verb(std::move(v)) {}

  /// The value of `key`, if present.
  std::optional<std::string_view> get(std::string_view key) const noexcept;

  /// An unsigned integer field in [min, max] (decimal, no sign, no leading '+'); empty if the
  /// key is missing, not a number or out of range.
  std::optional<std::uint64_t> get_uint(std::string_view key, std::uint64_t min,
                                        std::uint64_t max) const noexcept;

  /// Appends (or replaces) a field. The encoder checks the syntax.
  app_message& set(std::string_view key, std::string_view value);
  app_message& set(std::string_view key, std::uint64_t value);

  friend bool operator==(const app_message&, const app_message&) = default;
};

/// The result of parse_app_message(): the message, or what is wrong and where.
struct app_message_parse_result {
  app_message message;
  std::error_code code;
  /// 0-based byte offset of the offending token (or of the byte that broke a limit).
  std::size_t position = 0;

  explicit operator bool() const noexcept { return !code; }

  /// One line a person can act on, e.g. "application message: field at byte 12: key
  /// 'Brightness' has a character outside a-z, 0-9 and '_'".
  std::string describe() const;
};

/// Parses one message (the payload of one channel message). Never reads outside `text`.
app_message_parse_result parse_app_message(std::string_view text);

/// As above, for a channel payload.
app_message_parse_result parse_app_message(std::span<const std::byte> payload);

/// Encodes `m` into `out` (replacing its contents). Fails with the errc of the first field that
/// breaks the grammar or a limit; `out` is untouched then.
std::error_code encode_app_message(const app_message& m, std::string& out);

/// Percent-encodes `text` so it is a valid value: bytes outside 0x21-0x7E, '%' and nothing
/// else become "%XX". The result may still exceed max_value_length (the encoder says so).
std::string percent_encode(std::string_view text);

/// Reverses percent_encode(); empty if a '%' is not followed by two hex digits.
std::optional<std::string> percent_decode(std::string_view value);

} // namespace lanyard::core

template <>
struct std::is_error_code_enum<lanyard::core::app_message_errc> : std::true_type {};
