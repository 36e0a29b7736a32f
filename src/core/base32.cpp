#include "lanyard/core/base32.hpp"

#include "lanyard/core/error_condition.hpp"

#include <string>
#include <string_view>

namespace lanyard::core {
namespace {

constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

class base32_category_impl final : public lanyard_category {
public:
  const char* name() const noexcept override { return "lanyard.base32"; }
#if LANYARD_ERROR_MESSAGES // else lanyard_category::message() names the code
  std::string message(int ev) const override {
    switch (static_cast<base32_errc>(ev)) {
    case base32_errc::invalid_character:
      return "invalid base32 character (only A-Z and 2-7 are used)";
    case base32_errc::invalid_length:
      return "invalid base32 length: characters are missing or extra";
    case base32_errc::nonzero_trailing_bits:
      return "the last base32 character is impossible for this length (probably mistyped)";
    }
    return "unknown base32 error";
  }
#endif

  std::string_view code_name(int code) const noexcept override {
    switch (static_cast<base32_errc>(code)) {
    case base32_errc::invalid_character:
      return "invalid_character";
    case base32_errc::invalid_length:
      return "invalid_length";
    case base32_errc::nonzero_trailing_bits:
      return "nonzero_trailing_bits";
    }
    return {};
  }

  // What callers branch on (lanyard/core/error_condition.hpp); docs/design/error-model.md
  // §2.3 argues each row.
  condition_set conditions(int code) const noexcept override {
    using enum condition;
    switch (static_cast<base32_errc>(code)) {
    case base32_errc::invalid_character:
    case base32_errc::invalid_length:
    case base32_errc::nonzero_trailing_bits:
      return {permanent};
    }
    return {};
  }
};

// Returns the 5-bit value of a base32 character, or -1.
int value_of(char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= '2' && c <= '7') return c - '2' + 26;
  return -1;
}

bool is_separator(char c) noexcept {
  return c == '-' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// The base32 letter a person most likely meant when typing a character outside the alphabet.
char likely_meant(char c) noexcept {
  switch (c) {
  case '0':
    return 'O';
  case '1':
    return 'I';
  case '8':
    return 'B';
  case '9':
    return 'G';
  default:
    return '\0';
  }
}

} // namespace

const std::error_category& base32_category() noexcept {
  static const base32_category_impl category;
  return category;
}

std::size_t base32_encode(std::span<const std::uint8_t> data, std::span<char> out) noexcept {
  const std::size_t length = base32_encoded_length(data.size());
  if (out.size() < length) return 0;
  std::size_t at = 0;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (std::uint8_t b : data) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out[at++] = alphabet[(buffer >> bits) & 0x1FU];
    }
  }
  if (bits > 0) out[at++] = alphabet[(buffer << (5 - bits)) & 0x1FU];
  return at;
}

void base32_encode(std::span<const std::uint8_t> data, std::string& out) {
  const std::size_t start = out.size();
  out.resize(start + base32_encoded_length(data.size()));
  (void)base32_encode(data, std::span(out).subspan(start));
}

std::string base32_encode(std::span<const std::uint8_t> data) {
  std::string out;
  base32_encode(data, out);
  return out;
}

std::string base32_decode_error::describe() const {
  if (!code) return "no error";
  if (code == base32_errc::invalid_character) {
    std::string s = "character ";
    if (static_cast<unsigned char>(character) >= 0x20 &&
        static_cast<unsigned char>(character) < 0x7F) {
      s += '\'';
      s += character;
      s += '\'';
    } else {
      static constexpr char hex[] = "0123456789ABCDEF";
      s += "0x";
      s += hex[static_cast<unsigned char>(character) >> 4];
      s += hex[static_cast<unsigned char>(character) & 0xF];
    }
    s += " at position " + std::to_string(position + 1) + " is not base32 (A-Z, 2-7)";
    if (char m = likely_meant(character); m != '\0') {
      s += "; did you mean '";
      s += m;
      s += "'?";
    }
    return s;
  }
  if (code == base32_errc::invalid_length)
    return "the base32 text ends after an impossible number of characters: characters are "
           "missing or extra";
  if (code == base32_errc::nonzero_trailing_bits)
    return std::string("character '") + character + "' at position " +
           std::to_string(position + 1) +
           " cannot be the last base32 character of this text (probably mistyped)";
  return code.message();
}

base32_decode_error base32_decode(std::string_view text, std::vector<std::uint8_t>& out,
                                  base32_decode_options options) {
  const std::size_t original_size = out.size();
  std::uint32_t buffer = 0;
  int bits = 0;
  std::size_t count = 0;
  std::size_t last_position = 0;
  char last_char = '\0';
  int last_value = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const int v = value_of(c);
    if (v < 0) {
      if (options.ignore_separators && is_separator(c)) continue;
      out.resize(original_size);
      return {make_error_code(base32_errc::invalid_character), i, c};
    }
    ++count;
    last_position = i;
    last_char = c;
    last_value = v;
    buffer = (buffer << 5) | static_cast<std::uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>((buffer >> bits) & 0xFFU));
    }
  }
  // Unpadded lengths mod 8 are 0, 2, 4, 5 or 7 characters; 1, 3 and 6 encode no whole bytes.
  const std::size_t rest = count % 8;
  if (rest == 1 || rest == 3 || rest == 6) {
    out.resize(original_size);
    return {make_error_code(base32_errc::invalid_length), text.size(), '\0'};
  }
  // The leftover bits (fewer than 5) must be zero; otherwise the last character is not one an
  // encoder could have written.
  if (bits > 0 && (static_cast<std::uint32_t>(last_value) & ((1U << bits) - 1U)) != 0) {
    out.resize(original_size);
    return {make_error_code(base32_errc::nonzero_trailing_bits), last_position, last_char};
  }
  return {};
}

} // namespace lanyard::core
