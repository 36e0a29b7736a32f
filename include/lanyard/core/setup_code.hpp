/// @file
/// The manual setup code: 8 decimal digits printed on an accessory's label ("1234-5678") for
/// people who cannot scan its QR code. The app proves to the accessory that it knows the code
/// with SPAKE2+ (DESIGN.md, "Pairing proof"); the accessory stores only its verifier.
///
/// The digits: 7 random digits, then a check digit computed with the Verhoeff algorithm
/// (Verhoeff 1969; the dihedral group D5), which catches every single mistyped digit and every
/// swap of two adjacent digits, as Matter's manual pairing code does. The check digit adds no
/// secrecy: a code holds log2(10^7 - 12) ~ 23.25 bits.
///
/// Codes whose first 7 digits are all equal (0000000, ..., 9999999), 1234567 or 8765432 are
/// never issued and never accepted: they are what people guess first (Matter forbids the same
/// passcodes). The rule looks at the first 7 digits, not all 8, because the check digit of such a
/// prefix is rarely the "expected" one (1234567's is 9, not 8), so comparing all 8 would let
/// "1234-5679" through; 33333333 and 66666666 are the only all-equal strings that are valid.
///
/// What the SPAKE2+ derivation hashes: the 8 ASCII digits of setup_code::digits, check digit
/// included, without any separator ("27182812" for "2718-2812"); see setup_code::view().
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace lanyard::core {

/// An 8-digit setup code: 7 random digits and a Verhoeff check digit, as ASCII '0'..'9'.
/// A plain value; only make_setup_code() and parse_setup_code() produce valid ones. A secret:
/// never log it.
struct setup_code {
  static constexpr std::size_t length = 8;
  /// The random digits: all but the last.
  static constexpr std::size_t random_digits = length - 1;

  /// '0'..'9'; digits[7] is the Verhoeff check digit of digits[0..6].
  std::array<char, length> digits{};

  /// The 8 digits without separator: exactly the bytes the SPAKE2+ key derivation hashes.
  /// Valid as long as this object is.
  std::string_view view() const noexcept { return {digits.data(), digits.size()}; }

  friend bool operator==(const setup_code&, const setup_code&) = default;
};

/// Formats `code` for people: "1234-5678". Thread-safety: pure function.
std::string to_string(const setup_code& code);

/// The Verhoeff check digit ('0'..'9') for `digits`, or '\0' if `digits` contains anything but
/// '0'..'9'. E.g. "236" -> '3', "12345" -> '1'. Thread-safety: pure function.
char verhoeff_check_digit(std::string_view digits) noexcept;

/// Whether `digits` (the last one being the check digit) passes the Verhoeff check. False if it
/// is empty or contains anything but '0'..'9'. Thread-safety: pure function.
bool verhoeff_is_valid(std::string_view digits) noexcept;

/// Whether the first 7 of `code`'s digits are a code that is never issued (see the file
/// comment). Thread-safety: pure function.
bool is_trivial_setup_code(const setup_code& code) noexcept;

/// What is wrong with a setup code, or why one could not be made.
enum class setup_code_errc {
  /// Nothing but whitespace.
  empty = 1,
  /// A character is neither a digit nor a separator ('-' or whitespace).
  bad_character,
  /// Not 8 digits.
  wrong_length,
  /// The check digit does not match: a digit was mistyped or two were swapped.
  check_digit_mismatch,
  /// A valid code that is never issued (7 equal digits, 1234567..., 8765432...): not this
  /// accessory's code.
  trivial_code,
  /// make_setup_code(): the random bytes ran out before an acceptable code came up.
  not_enough_random_bytes,
};

/// The error category of setup_code_errc, named "lanyard.setup_code". Immutable; any thread.
const std::error_category& setup_code_category() noexcept;

inline std::error_code make_error_code(setup_code_errc e) noexcept {
  return {static_cast<int>(e), setup_code_category()};
}

/// How many random bytes make_setup_code() consumes per attempt.
inline constexpr std::size_t setup_code_bytes_per_attempt = 4;
/// How many random bytes to pass make_setup_code() so that it practically never fails: 8
/// attempts, each failing with probability ~0.00116, so all fail with probability ~3e-24.
inline constexpr std::size_t setup_code_random_bytes = 32;

/// Makes a setup code from caller-provided random bytes (from a CSPRNG; the core has none).
///
/// Each attempt reads the next 4 bytes as a big-endian 32-bit number x. If x >= 4,290,000,000
/// (the largest multiple of 10^7 that fits, so that what follows is uniform) the attempt is
/// rejected; otherwise the 7 random digits are x mod 10^7, zero-padded. Trivial codes (see
/// the file comment) are rejected too. An attempt fails with probability ~0.00116; pass
/// setup_code_random_bytes (32) bytes and failure is practically impossible (~3e-24), 16 give
/// ~2e-12. The result is uniform over the 10^7 - 12 acceptable codes.
///
/// Returns not_enough_random_bytes, leaving `out` untouched, if the bytes run out (fewer than
/// 4, or every attempt rejected); leftover bytes are ignored. Use fresh bytes for nothing
/// else. Thread-safety: pure function.
std::error_code make_setup_code(std::span<const std::uint8_t> random_bytes, setup_code& out);

/// The result of parse_setup_code(): the code, or what is wrong and where.
struct setup_code_parse_result {
  setup_code value;
  std::error_code code;
  /// bad_character: 0-based index into the input text of the offending character.
  /// wrong_length: the number of digits found.
  std::size_t position = 0;
  /// bad_character: the offending character.
  char character = '\0';

  explicit operator bool() const noexcept { return !code; }

  /// One line a person can act on, e.g. "setup code: 7 digits found; a setup code has 8
  /// (e.g. 1234-5678)" or "setup code: the check digit does not match: a digit was mistyped or
  /// two were swapped; check the code on the label".
  std::string describe() const;
};

/// Parses a setup code as people type it: 8 digits, in any grouping: "12345678", "1234-5678",
/// "1234 5678" ('-' and whitespace between digits are ignored, as is whitespace around the
/// code). Then checks the check digit (check_digit_mismatch) and refuses codes that are never
/// issued (trivial_code). Thread-safety: pure function. Never reads outside `text`.
setup_code_parse_result parse_setup_code(std::string_view text);

} // namespace lanyard::core

template <>
struct std::is_error_code_enum<lanyard::core::setup_code_errc> : std::true_type {};
