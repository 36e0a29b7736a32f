/// @file
/// RFC 4648 base32 (alphabet A-Z 2-7), unpadded: the text form of setup payloads and
/// fingerprints.
///
/// Why base32: its alphabet and ':' are all in the QR code alphanumeric set (so an uppercase
/// payload packs densely into a QR code), it has no 0/1/8/9 to confuse with O/I/B/g on a
/// printed label, and it is case-insensitive when typed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

namespace lanyard::core {

/// What is wrong with base32 text.
enum class base32_errc {
  /// A character is neither a letter nor a digit 2-7 (nor, if allowed, a separator).
  invalid_character = 1,
  /// The number of base32 characters leaves 1, 3 or 6 characters in the last group of 8:
  /// no whole number of bytes has that length, so characters are missing or extra.
  invalid_length,
  /// The unused low bits of the last character are not zero: the text is not what any encoder
  /// produces (usually the last character was mistyped).
  nonzero_trailing_bits,
};

/// The error category of base32_errc, named "lanyard.base32". Immutable; any thread.
const std::error_category& base32_category() noexcept;

inline std::error_code make_error_code(base32_errc e) noexcept {
  return {static_cast<int>(e), base32_category()};
}

/// Appends the unpadded, uppercase base32 encoding of `data` to `out` (RFC 4648 section 6;
/// the trailing '=' padding is omitted, as section 3.2 allows when the length is known).
void base32_encode(std::span<const std::uint8_t> data, std::string& out);

/// Returns the unpadded, uppercase base32 encoding of `data`.
std::string base32_encode(std::span<const std::uint8_t> data);

/// Writes the same into `out` without allocating: the characters written
/// (base32_encoded_length(data.size())), or 0 with nothing written if `out` is shorter.
std::size_t base32_encode(std::span<const std::uint8_t> data, std::span<char> out) noexcept;

/// Number of base32 characters base32_encode() produces for `bytes` bytes.
constexpr std::size_t base32_encoded_length(std::size_t bytes) noexcept {
  return (bytes * 8 + 4) / 5;
}

/// Options of base32_decode().
struct base32_decode_options {
  /// Skip '-' and ASCII whitespace anywhere, so "ABCD-EFGH" and "ABCD EFGH" decode like
  /// "ABCDEFGH" (people group characters when they copy them).
  bool ignore_separators = false;
};

/// Where and why decoding failed. `position` is the 0-based index into the input text of the
/// offending character (invalid_character, nonzero_trailing_bits) or the input's length
/// (invalid_length).
struct base32_decode_error {
  std::error_code code;
  std::size_t position = 0;
  /// The offending character (invalid_character, nonzero_trailing_bits), else '\0'.
  char character = '\0';

  explicit operator bool() const noexcept { return static_cast<bool>(code); }

  /// One sentence, e.g. "character '0' at position 13 is not base32 (A-Z, 2-7); did you mean
  /// 'O'?" (positions counted from 1 for people).
  std::string describe() const;
};

/// Decodes unpadded base32, case-insensitively, appending the bytes to `out`. On error `out`
/// is left as it was. '=' is not accepted (this is the unpadded variant).
///
/// Thread-safety: pure function.
base32_decode_error base32_decode(std::string_view text, std::vector<std::uint8_t>& out,
                                  base32_decode_options options = {});

} // namespace lanyard::core

template <>
struct std::is_error_code_enum<lanyard::core::base32_errc> : std::true_type {};
