#include "lanyard/core/fingerprint.hpp"

#include "quote_char.hpp"

#include "lanyard/core/base32.hpp"
#include "lanyard/core/error_condition.hpp"

#include <vector>

namespace lanyard::core {
namespace {

constexpr std::size_t base32_chars = base32_encoded_length(fingerprint::size); // 52
constexpr std::size_t hex_chars = 2 * fingerprint::size;                       // 64
constexpr char hex_digits[] = "0123456789abcdef";

class fingerprint_category_impl final : public lanyard_category {
public:
  const char* name() const noexcept override { return "lanyard.fingerprint"; }
#if LANYARD_ERROR_MESSAGES // else lanyard_category::message() names the code
  std::string message(int ev) const override {
    switch (static_cast<fingerprint_errc>(ev)) {
    case fingerprint_errc::empty:
      return "the fingerprint is empty";
    case fingerprint_errc::invalid_character:
      return "the fingerprint contains a character that is neither base32 (A-Z, 2-7) nor hex";
    case fingerprint_errc::invalid_length:
      return "a fingerprint is 52 base32 characters or 64 hex digits";
    case fingerprint_errc::invalid_last_character:
      return "the fingerprint's last base32 character is impossible (mistyped?)";
    }
    return "unknown fingerprint error";
  }
#endif

  std::string_view code_name(int code) const noexcept override {
    switch (static_cast<fingerprint_errc>(code)) {
    case fingerprint_errc::empty:
      return "empty";
    case fingerprint_errc::invalid_character:
      return "invalid_character";
    case fingerprint_errc::invalid_length:
      return "invalid_length";
    case fingerprint_errc::invalid_last_character:
      return "invalid_last_character";
    }
    return {};
  }

  // What callers branch on (lanyard/core/error_condition.hpp); docs/design/error-model.md
  // §2.3 argues each row.
  condition_set conditions(int code) const noexcept override {
    using enum condition;
    switch (static_cast<fingerprint_errc>(code)) {
    case fingerprint_errc::empty:
    case fingerprint_errc::invalid_character:
    case fingerprint_errc::invalid_length:
    case fingerprint_errc::invalid_last_character:
      return {permanent};
    }
    return {};
  }
};

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_base32(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7');
}

bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

bool is_separator(char c) noexcept {
  return c == ':' || c == '-' || is_space(c);
}

fingerprint_parse_result fail(fingerprint_errc e, std::size_t position, char c = '\0') {
  fingerprint_parse_result r;
  r.code = make_error_code(e);
  r.position = position;
  r.character = c;
  return r;
}

} // namespace

const std::error_category& fingerprint_category() noexcept {
  static const fingerprint_category_impl category;
  return category;
}

fingerprint_text format_fingerprint(const fingerprint& fp, fingerprint_format format) noexcept {
  fingerprint_text t;
  const auto put = [&t](char c) { t.chars[t.size++] = c; };
  switch (format) {
  case fingerprint_format::base32_grouped: {
    std::array<char, base32_encoded_length(fingerprint::size)> plain;
    (void)base32_encode(fp.bytes, plain);
    for (std::size_t i = 0; i < plain.size(); ++i) {
      if (i != 0 && i % 4 == 0) put('-');
      put(plain[i]);
    }
    break;
  }
  case fingerprint_format::hex_colon:
    for (const char c : std::string_view("sha256:"))
      put(c);
    for (std::size_t i = 0; i < fp.bytes.size(); ++i) {
      if (i != 0) put(':');
      put(hex_digits[fp.bytes[i] >> 4]);
      put(hex_digits[fp.bytes[i] & 0xF]);
    }
    break;
  case fingerprint_format::hex:
    for (std::uint8_t b : fp.bytes) {
      put(hex_digits[b >> 4]);
      put(hex_digits[b & 0xF]);
    }
    break;
  }
  return t;
}

std::string to_string(const fingerprint& fp, fingerprint_format format) {
  return std::string(format_fingerprint(fp, format).view());
}

std::string to_short_string(const fingerprint& fp) {
  return to_string(fp, fingerprint_format::base32_grouped).substr(0, 9);
}

std::string fingerprint_parse_result::describe() const {
  if (!code) return "no error";
  if (code == fingerprint_errc::invalid_character) {
    std::string s = "fingerprint: character " + detail::quote_char(character) + " at position " +
                    std::to_string(position + 1) + " is not part of a fingerprint";
    if (character == '0' || character == '1' || character == '8' || character == '9')
      s += " (base32 uses no 0, 1, 8 or 9: did you mean O, I, B or G?)";
    return s;
  }
  if (code == fingerprint_errc::invalid_length)
    return "fingerprint: found " + std::to_string(position) +
           " digits; a fingerprint is 52 base32 characters (XXXX-XXXX-...) or 64 hex digits";
  if (code == fingerprint_errc::invalid_last_character)
    return "fingerprint: the last character " + detail::quote_char(character) + " (position " +
           std::to_string(position + 1) +
           ") is impossible at the end of a fingerprint; it must be A or Q (mistyped?)";
  return "fingerprint: " + code.message();
}

fingerprint_parse_result parse_fingerprint(std::string_view text) {
  std::size_t begin = 0;
  std::size_t end = text.size();
  while (begin < end && is_space(text[begin]))
    ++begin;
  while (end > begin && is_space(text[end - 1]))
    --end;
  if (begin == end) return fail(fingerprint_errc::empty, 0);

  bool hex_only = false;
  constexpr std::string_view prefix = "sha256:";
  if (end - begin >= prefix.size()) {
    bool match = true;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
      char c = text[begin + i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c != prefix[i]) match = false;
    }
    if (match) {
      hex_only = true;
      begin += prefix.size();
    }
  }

  // First pass: reject characters that belong to neither alphabet, count digits.
  std::size_t digits = 0;
  for (std::size_t i = begin; i < end; ++i) {
    const char c = text[i];
    if (is_separator(c)) continue;
    const bool ok = hex_only ? hex_value(c) >= 0 : (hex_value(c) >= 0 || is_base32(c));
    if (!ok) return fail(fingerprint_errc::invalid_character, i, c);
    ++digits;
  }

  fingerprint_parse_result result;
  if (digits == hex_chars) {
    std::size_t n = 0;
    int high = -1;
    for (std::size_t i = begin; i < end; ++i) {
      const char c = text[i];
      if (is_separator(c)) continue;
      const int v = hex_value(c);
      if (v < 0) return fail(fingerprint_errc::invalid_character, i, c);
      if (high < 0) {
        high = v;
      } else {
        result.value.bytes[n++] = static_cast<std::uint8_t>((high << 4) | v);
        high = -1;
      }
    }
    return result;
  }
  if (digits == base32_chars && !hex_only) {
    std::vector<std::uint8_t> bytes;
    const base32_decode_error e =
        base32_decode(text.substr(begin, end - begin), bytes, {.ignore_separators = true});
    if (e) {
      // ':' is a hex separator only; base32_decode() reports it as an invalid character.
      if (e.code == base32_errc::nonzero_trailing_bits)
        return fail(fingerprint_errc::invalid_last_character, begin + e.position, e.character);
      return fail(fingerprint_errc::invalid_character, begin + e.position, e.character);
    }
    for (std::size_t i = 0; i < fingerprint::size; ++i)
      result.value.bytes[i] = bytes[i];
    return result;
  }
  return fail(fingerprint_errc::invalid_length, digits);
}

} // namespace lanyard::core
