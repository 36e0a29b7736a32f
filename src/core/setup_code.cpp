#include "lanyard/core/setup_code.hpp"

#include "lanyard/core/error_condition.hpp"

#include "quote_char.hpp"

namespace lanyard::core {
namespace {

// The Verhoeff tables (Verhoeff 1969; as in Gallian, "Error detection methods", 1996):
// multiplication in the dihedral group D5, the position permutations (p[i] = p[1]^i) and the
// inverse in D5.
constexpr std::uint8_t verhoeff_d[10][10] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 2, 3, 4, 0, 6, 7, 8, 9, 5}, {2, 3, 4, 0, 1, 7, 8, 9, 5, 6},
    {3, 4, 0, 1, 2, 8, 9, 5, 6, 7}, {4, 0, 1, 2, 3, 9, 5, 6, 7, 8}, {5, 9, 8, 7, 6, 0, 4, 3, 2, 1},
    {6, 5, 9, 8, 7, 1, 0, 4, 3, 2}, {7, 6, 5, 9, 8, 2, 1, 0, 4, 3}, {8, 7, 6, 5, 9, 3, 2, 1, 0, 4},
    {9, 8, 7, 6, 5, 4, 3, 2, 1, 0},
};
constexpr std::uint8_t verhoeff_p[8][10] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 5, 7, 6, 2, 8, 3, 0, 9, 4}, {5, 8, 0, 3, 7, 9, 6, 1, 4, 2},
    {8, 9, 1, 6, 0, 4, 3, 5, 2, 7}, {9, 4, 5, 3, 1, 2, 6, 8, 7, 0}, {4, 2, 8, 6, 5, 7, 3, 9, 0, 1},
    {2, 7, 9, 3, 8, 0, 6, 4, 1, 5}, {7, 0, 4, 6, 9, 1, 3, 2, 5, 8},
};
constexpr std::uint8_t verhoeff_inv[10] = {0, 4, 3, 2, 1, 5, 6, 7, 8, 9};

// 10^7 codes; 429 * 10^7 is the largest multiple of it below 2^32.
constexpr std::uint32_t code_space = 10'000'000;
constexpr std::uint32_t rejection_limit = 429U * code_space;

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// Runs the Verhoeff check over `digits` from the right, the rightmost at position `first`.
// Returns 10 if a character is not a digit.
std::uint8_t verhoeff_sum(std::string_view digits, std::size_t first) noexcept {
  std::uint8_t c = 0;
  std::size_t i = first;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it, ++i) {
    if (!is_digit(*it)) return 10;
    c = verhoeff_d[c][verhoeff_p[i % 8][*it - '0']];
  }
  return c;
}

class setup_code_category_impl final : public lanyard_category {
public:
  const char* name() const noexcept override { return "lanyard.setup_code"; }
#if LANYARD_ERROR_MESSAGES // else lanyard_category::message() names the code
  std::string message(int ev) const override {
    switch (static_cast<setup_code_errc>(ev)) {
    case setup_code_errc::empty:
      return "the setup code is empty";
    case setup_code_errc::bad_character:
      return "the setup code contains a character that is not a digit";
    case setup_code_errc::wrong_length:
      return "a setup code has 8 digits";
    case setup_code_errc::check_digit_mismatch:
      return "the setup code's check digit does not match: a digit was mistyped or two were "
             "swapped: check the code on the label";
    case setup_code_errc::trivial_code:
      return "the setup code is one that is never issued: check the code on the label";
    case setup_code_errc::not_enough_random_bytes:
      return "not enough random bytes to make a setup code: pass 32 or more";
    }
    return "unknown setup code error";
  }
#endif

  std::string_view code_name(int code) const noexcept override {
    switch (static_cast<setup_code_errc>(code)) {
    case setup_code_errc::empty:
      return "empty";
    case setup_code_errc::bad_character:
      return "bad_character";
    case setup_code_errc::wrong_length:
      return "wrong_length";
    case setup_code_errc::check_digit_mismatch:
      return "check_digit_mismatch";
    case setup_code_errc::trivial_code:
      return "trivial_code";
    case setup_code_errc::not_enough_random_bytes:
      return "not_enough_random_bytes";
    }
    return {};
  }

  // What callers branch on (lanyard/core/error_condition.hpp); docs/design/error-model.md
  // §2.3 argues each row.
  condition_set conditions(int code) const noexcept override {
    using enum condition;
    switch (static_cast<setup_code_errc>(code)) {
    case setup_code_errc::empty:
    case setup_code_errc::bad_character:
    case setup_code_errc::wrong_length:
    case setup_code_errc::check_digit_mismatch:
    case setup_code_errc::trivial_code:
      return {permanent};
    case setup_code_errc::not_enough_random_bytes:
      return {transient};
    }
    return {};
  }
};

setup_code_parse_result fail(setup_code_errc e, std::size_t position = 0, char c = '\0') {
  setup_code_parse_result r;
  r.code = make_error_code(e);
  r.position = position;
  r.character = c;
  return r;
}

} // namespace

const std::error_category& setup_code_category() noexcept {
  static const setup_code_category_impl category;
  return category;
}

std::string to_string(const setup_code& code) {
  std::string s;
  s.reserve(setup_code::length + 1);
  s.append(code.digits.data(), 4);
  s.push_back('-');
  s.append(code.digits.data() + 4, setup_code::length - 4);
  return s;
}

char verhoeff_check_digit(std::string_view digits) noexcept {
  const std::uint8_t c = verhoeff_sum(digits, 1);
  if (c > 9) return '\0';
  return static_cast<char>('0' + verhoeff_inv[c]);
}

bool verhoeff_is_valid(std::string_view digits) noexcept {
  return !digits.empty() && verhoeff_sum(digits, 0) == 0;
}

bool is_trivial_setup_code(const setup_code& code) noexcept {
  const std::string_view first(code.digits.data(), setup_code::random_digits);
  if (first == "1234567" || first == "8765432") return true;
  return first.find_first_not_of(first[0]) == std::string_view::npos;
}

std::error_code make_setup_code(std::span<const std::uint8_t> random_bytes, setup_code& out) {
  const std::size_t n = setup_code_bytes_per_attempt;
  for (std::size_t at = 0; random_bytes.size() - at >= n; at += n) {
    const std::uint8_t* b = random_bytes.data() + at;
    const std::uint32_t x = (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) |
                            (std::uint32_t{b[2]} << 8) | std::uint32_t{b[3]};
    if (x >= rejection_limit) continue; // keep x mod 10^7 uniform
    std::uint32_t v = x % code_space;
    setup_code code;
    for (std::size_t i = setup_code::random_digits; i-- > 0; v /= 10)
      code.digits[i] = static_cast<char>('0' + v % 10);
    code.digits[setup_code::random_digits] =
        verhoeff_check_digit(std::string_view(code.digits.data(), setup_code::random_digits));
    if (is_trivial_setup_code(code)) continue;
    out = code;
    return {};
  }
  return setup_code_errc::not_enough_random_bytes;
}

std::string setup_code_parse_result::describe() const {
  const std::string p = "setup code: ";
  if (!code) return "no error";
  if (code.category() != setup_code_category()) return p + code.message();
  switch (static_cast<setup_code_errc>(code.value())) {
  case setup_code_errc::empty:
    return p + "empty; type the 8 digits from the accessory's label";
  case setup_code_errc::bad_character: {
    std::string s = p + "character " + detail::quote_char(character) + " at position " +
                    std::to_string(position + 1) + " is not a digit";
    switch (character) {
    case 'O':
    case 'o':
      s += "; did you mean '0'?";
      break;
    case 'I':
    case 'i':
    case 'l':
      s += "; did you mean '1'?";
      break;
    case 'Z':
    case 'z':
      s += "; did you mean '2'?";
      break;
    case 'S':
    case 's':
      s += "; did you mean '5'?";
      break;
    case 'B':
      s += "; did you mean '8'?";
      break;
    default:
      s += "; a setup code is 8 digits, e.g. 1234-5678";
      break;
    }
    return s;
  }
  case setup_code_errc::wrong_length:
    return p + std::to_string(position) + " digit" + (position == 1 ? "" : "s") +
           " found; a setup code has 8 (e.g. 1234-5678)";
  case setup_code_errc::check_digit_mismatch:
    return p + "the check digit does not match: a digit was mistyped or two were swapped; check "
               "the code on the label";
  case setup_code_errc::trivial_code:
    return p + "this code is never issued (it is too easy to guess), so it is not an "
               "accessory's code; check the code on the label";
  case setup_code_errc::not_enough_random_bytes:
    break;
  }
  return p + code.message();
}

setup_code_parse_result parse_setup_code(std::string_view text) {
  std::size_t begin = 0;
  std::size_t end = text.size();
  while (begin < end && is_space(text[begin]))
    ++begin;
  while (end > begin && is_space(text[end - 1]))
    --end;
  if (begin == end) return fail(setup_code_errc::empty);

  setup_code_parse_result result;
  std::size_t count = 0;
  for (std::size_t i = begin; i < end; ++i) {
    const char c = text[i];
    if (is_digit(c)) {
      if (count < setup_code::length) result.value.digits[count] = c;
      ++count;
    } else if (c != '-' && !is_space(c)) {
      return fail(setup_code_errc::bad_character, i, c);
    }
  }
  if (count != setup_code::length) return fail(setup_code_errc::wrong_length, count);
  if (!verhoeff_is_valid(result.value.view())) return fail(setup_code_errc::check_digit_mismatch);
  if (is_trivial_setup_code(result.value)) return fail(setup_code_errc::trivial_code);
  return result;
}

} // namespace lanyard::core
