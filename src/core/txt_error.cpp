#include <lanyard/core/txt_error.hpp>

#include <lanyard/core/error_condition.hpp>

#include <string>
#include <string_view>

namespace lanyard::core {
namespace {

class txt_category_impl final : public lanyard_category {
public:
  const char* name() const noexcept override { return "lanyard.txt"; }

#if LANYARD_ERROR_MESSAGES // else lanyard_category::message() names the code
  std::string message(int value) const override {
    switch (static_cast<txt_errc>(value)) {
    case txt_errc::truncated:
      return "TXT record truncated: a string's length byte runs past the end of the record";
    case txt_errc::empty_string:
      return "TXT record holds an empty string: only the empty record (a single zero byte) may";
    case txt_errc::empty_key:
      return "TXT key is missing: a key must be at least one byte, so a string may not start "
             "with '='";
    case txt_errc::bad_key_byte:
      return "TXT key holds a byte that is not printable US-ASCII (0x20-0x7E), or holds '='";
    case txt_errc::string_too_long:
      return "TXT string too long: key, '=' and value together may be at most 255 bytes";
    case txt_errc::record_too_long:
      return "TXT record too long: a record may be at most 65535 bytes";
    }
    return "unknown TXT record error " + std::to_string(value);
  }
#endif

  std::string_view code_name(int code) const noexcept override {
    switch (static_cast<txt_errc>(code)) {
    case txt_errc::truncated:
      return "truncated";
    case txt_errc::empty_string:
      return "empty_string";
    case txt_errc::empty_key:
      return "empty_key";
    case txt_errc::bad_key_byte:
      return "bad_key_byte";
    case txt_errc::string_too_long:
      return "string_too_long";
    case txt_errc::record_too_long:
      return "record_too_long";
    }
    return {};
  }

  // What callers branch on (lanyard/core/error_condition.hpp); docs/design/error-model.md
  // §2.3 argues each row.
  condition_set conditions(int code) const noexcept override {
    using enum condition;
    switch (static_cast<txt_errc>(code)) {
    case txt_errc::truncated:
    case txt_errc::empty_string:
    case txt_errc::empty_key:
    case txt_errc::bad_key_byte:
      return {protocol_violation, permanent};
    case txt_errc::string_too_long:
    case txt_errc::record_too_long:
      return {permanent};
    }
    return {};
  }
};

std::string hex_byte(std::uint8_t byte) {
  constexpr char digits[] = "0123456789ABCDEF";
  return {'0', 'x', digits[byte >> 4], digits[byte & 0xF]};
}

} // namespace

const std::error_category& txt_category() noexcept {
  static const txt_category_impl category;
  return category;
}

std::string txt_error_detail::describe() const {
  if (!code) {
    return "no error";
  }
  if (code.category() != txt_category()) {
    return code.message();
  }
  // People count strings from 1; the field is 0-based like every other index in the API.
  const std::string where =
      "TXT string " + std::to_string(string_index + 1) + " at byte " + std::to_string(offset);
  switch (static_cast<txt_errc>(code.value())) {
  case txt_errc::truncated: {
    // The length byte itself is in bounds, so offset < record_size; guard anyway so a
    // hand-made detail cannot make this underflow.
    const std::size_t left = record_size > offset ? record_size - offset - 1 : 0;
    return where + ": length " + std::to_string(length) + " runs past the end of the record (" +
           std::to_string(left) + " bytes left)";
  }
  case txt_errc::empty_string:
    return where + " is empty: only the empty record (a single zero byte) may hold an empty string";
  case txt_errc::empty_key:
    return where + " has no key (it starts with '='); RFC 6763 section 6.4 says to ignore such "
                   "strings, which lenient decoding does";
  case txt_errc::bad_key_byte:
    return where + ": key byte " + hex_byte(bad_byte) + " at byte " + std::to_string(bad_offset) +
           " is not printable US-ASCII (0x20-0x7E)";
  case txt_errc::string_too_long:
    return where + " is longer than 255 bytes";
  case txt_errc::record_too_long:
    return "TXT record of " + std::to_string(record_size) +
           " bytes exceeds the DNS limit of 65535 bytes";
  }
  return code.message();
}

error_detail txt_error_detail::to_error_detail() const {
  if (!code) return {};
  error_detail d{code, describe()};
  if (code.category() == txt_category() && code != txt_errc::record_too_long)
    d.with(field_key::position,
           std::uint64_t{code == txt_errc::bad_key_byte ? bad_offset : offset});
  return d;
}

} // namespace lanyard::core
