// Errors of the DNS-SD TXT record codec (RFC 6763 section 6).
#pragma once

#include "lanyard/core/error_detail.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>
#include <type_traits>

namespace lanyard::core {

/// What is wrong with a TXT record, one of its strings, or a key given to txt_record.
///
/// Each rule of RFC 6763 section 6 that the codec enforces has exactly one code. Decoding
/// reports the first violation only.
enum class txt_errc {
  /// Decoding: a string's length byte claims more bytes than the record has left. Not
  /// recoverable in any mode, because every later string boundary is unknown.
  truncated = 1,
  /// Decoding, strict mode: a zero-length string in a record other than the empty record (which
  /// is exactly one zero byte, RFC 6763 section 6.1). Lenient mode skips such strings.
  empty_string,
  /// The key is missing: txt_record::set() got an empty key, or a string on the wire starts with
  /// '=' (RFC 6763 section 6.4). Lenient decoding skips such strings.
  empty_key,
  /// A key byte is not printable US-ASCII (0x20-0x7E), or a key given to txt_record contains '='
  /// (RFC 6763 section 6.4). Lenient decoding skips strings with such keys.
  bad_key_byte,
  /// txt_record::set(): key, '=' and value together exceed 255 bytes, the most one length byte
  /// can describe (RFC 6763 section 6.1). Decoding cannot produce this code.
  string_too_long,
  /// The record would exceed 65535 bytes, the most a DNS resource record's data can hold:
  /// txt_record::set() would grow it past that, or decoding got a longer input.
  record_too_long,
};

/// The error category of txt_errc, named "lanyard.txt".
///
/// Thread-safety: the returned object is immutable and safe to use from any thread.
const std::error_category& txt_category() noexcept;

/// Makes a std::error_code of txt_category(); found by argument-dependent lookup, so a
/// txt_errc converts implicitly to std::error_code.
inline std::error_code make_error_code(txt_errc e) noexcept {
  return {static_cast<int>(e), txt_category()};
}

/// Where and why a TXT record failed to decode: an error_code cannot carry the position, and
/// "string 3 at byte 17" is what a person needs to find the bad byte in a packet capture.
///
/// Which fields are meaningful depends on `code`; the others are zero:
/// - every decode error: `string_index`, `offset`, `record_size`;
/// - txt_errc::truncated, empty_string, empty_key: also `length`;
/// - txt_errc::bad_key_byte: also `length`, `bad_offset`, `bad_byte`;
/// - txt_errc::record_too_long: only `record_size`.
///
/// Thread-safety: a plain value; distinct objects safe, shared objects safe to read.
struct txt_error_detail {
  /// The error; empty (false) when decoding succeeded.
  std::error_code code;
  /// 0-based index of the offending string in the record (describe() counts from 1).
  std::size_t string_index = 0;
  /// Byte offset of the offending string's length byte from the start of the record.
  std::size_t offset = 0;
  /// The offending string's length as stated by its length byte.
  std::size_t length = 0;
  /// Size in bytes of the whole input handed to the decoder.
  std::size_t record_size = 0;
  /// bad_key_byte: byte offset of the first bad key byte from the start of the record.
  std::size_t bad_offset = 0;
  /// bad_key_byte: the value of that byte.
  std::uint8_t bad_byte = 0;

  /// True if this holds an error.
  explicit operator bool() const noexcept { return static_cast<bool>(code); }

  /// A sentence a person can act on, e.g. "TXT string 3 at byte 17: length 40 runs past the end
  /// of the record (26 bytes left)". "no error" when `code` is empty; for codes of other
  /// categories, their message().
  std::string describe() const;

  /// As the one "error plus detail" type: `code`, describe() as `detail`, and field_key::position
  /// (the offending byte: `bad_offset` for bad_key_byte, else `offset`; none for
  /// record_too_long). Empty (ok) when `code` is.
  error_detail to_error_detail() const;
};

} // namespace lanyard::core

template <>
struct std::is_error_code_enum<lanyard::core::txt_errc> : std::true_type {};
