/// @file
/// A key fingerprint: SHA-256 over a certificate's DER SubjectPublicKeyInfo, so re-issuing a
/// certificate for the same key keeps the fingerprint. Computing it from a certificate is done by
/// the TLS layer (lanyard/tls); this header only holds, compares, prints and parses it.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace lanyard::core {

/// 32 bytes of SHA-256. A plain value: copy, compare (== and <=> compare the bytes), hash.
struct fingerprint {
  static constexpr std::size_t size = 32;
  std::array<std::uint8_t, size> bytes{};

  friend bool operator==(const fingerprint&, const fingerprint&) = default;
  friend std::strong_ordering operator<=>(const fingerprint&, const fingerprint&) = default;
};

/// How to print a fingerprint.
enum class fingerprint_format {
  /// 52 base32 characters in 13 groups of 4: "MFRG-GZDF-...-Q". The form shown to people
  /// (shortest, no 0/1/8/9 to misread, case-insensitive when typed back).
  base32_grouped,
  /// "sha256:" then 32 lowercase hex pairs separated by ':' (OpenSSL's style, for comparing with
  /// `openssl x509 -pubkey | openssl pkey -pubin -outform der | sha256sum`-like tools).
  hex_colon,
  /// 64 lowercase hex digits, no prefix (what `sha256sum` prints).
  hex,
};

/// A fingerprint's text in room of its own: what firmware logs with, allocating nothing.
struct fingerprint_text {
  /// The longest form, hex_colon: "sha256:" and 32 hex pairs with 31 colons.
  static constexpr std::size_t max_size = 7 + 32 * 3 - 1;
  std::array<char, max_size> chars{};
  std::size_t size = 0;
  std::string_view view() const noexcept { return {chars.data(), size}; }
};

/// Formats `fp` into fixed room. Thread-safety: pure function.
fingerprint_text
format_fingerprint(const fingerprint& fp,
                   fingerprint_format format = fingerprint_format::base32_grouped) noexcept;

/// Formats `fp` (format_fingerprint()'s text as a string). Thread-safety: pure function.
std::string to_string(const fingerprint& fp,
                      fingerprint_format format = fingerprint_format::base32_grouped);

/// The first two base32 groups, "MFRG-GZDF" (40 bits): a hint for lists and TXT records, never
/// enough to verify a key.
std::string to_short_string(const fingerprint& fp);

/// What is wrong with a fingerprint given as text.
enum class fingerprint_errc {
  /// Nothing but whitespace.
  empty = 1,
  /// A character is not a base32 / hex digit or an accepted separator.
  invalid_character,
  /// After removing separators, neither 52 base32 characters nor 64 hex digits.
  invalid_length,
  /// 52 base32 characters whose last one is impossible for 32 bytes (mistyped).
  invalid_last_character,
};

/// The error category of fingerprint_errc, named "lanyard.fingerprint". Any thread.
const std::error_category& fingerprint_category() noexcept;

inline std::error_code make_error_code(fingerprint_errc e) noexcept {
  return {static_cast<int>(e), fingerprint_category()};
}

/// The result of parse_fingerprint(): the value, or what is wrong and where.
struct fingerprint_parse_result {
  fingerprint value;
  std::error_code code;
  /// 0-based index into the input of the offending character (invalid_character,
  /// invalid_last_character); the number of digits found for invalid_length.
  std::size_t position = 0;
  char character = '\0';

  explicit operator bool() const noexcept { return !code; }
  /// One sentence a person can act on, e.g. "fingerprint: character 'x' at position 9 is not a
  /// hex digit".
  std::string describe() const;
};

/// Parses any form to_string() prints, leniently about what people do when copying:
/// - leading/trailing whitespace is ignored, letters are case-insensitive;
/// - "sha256:" (any case) followed by 64 hex digits, optionally ':'-separated;
/// - 64 hex digits, optionally separated by ':', '-' or spaces;
/// - 52 base32 characters, optionally separated by '-' or spaces.
///
/// Thread-safety: pure function.
fingerprint_parse_result parse_fingerprint(std::string_view text);

} // namespace lanyard::core

template <>
struct std::is_error_code_enum<lanyard::core::fingerprint_errc> : std::true_type {};

/// Hashes the (already uniformly distributed) leading bytes.
template <>
struct std::hash<lanyard::core::fingerprint> {
  std::size_t operator()(const lanyard::core::fingerprint& fp) const noexcept {
    std::size_t h = 0;
    for (std::size_t i = 0; i < sizeof(std::size_t); ++i)
      h = (h << 8) | fp.bytes[i];
    return h;
  }
};
