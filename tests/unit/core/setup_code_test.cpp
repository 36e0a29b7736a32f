#include "lanyard/core/setup_code.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

using namespace lanyard::core;

namespace {

setup_code code_of(std::string_view digits) {
  REQUIRE(digits.size() == setup_code::length);
  setup_code c;
  for (std::size_t i = 0; i < c.digits.size(); ++i)
    c.digits[i] = digits[i];
  return c;
}

// The 7 digits plus their check digit.
std::string with_check(std::string digits) {
  digits.push_back(verhoeff_check_digit(digits));
  return digits;
}

std::array<std::uint8_t, 4> be32(std::uint32_t x) {
  return {static_cast<std::uint8_t>(x >> 24), static_cast<std::uint8_t>(x >> 16),
          static_cast<std::uint8_t>(x >> 8), static_cast<std::uint8_t>(x)};
}

std::vector<std::uint8_t> bytes_of(std::initializer_list<std::uint32_t> words) {
  std::vector<std::uint8_t> out;
  for (std::uint32_t w : words) {
    const auto b = be32(w);
    out.insert(out.end(), b.begin(), b.end());
  }
  return out;
}

// Valid codes to mutate: a few fixed ones and the check digits they need.
const std::vector<std::string>& sample_codes() {
  static const std::vector<std::string> codes = {
      with_check("2718281"), with_check("3141592"), with_check("0012345"),
      with_check("9081726"), with_check("5550123"), with_check("1000000"),
  };
  return codes;
}

} // namespace

TEST_CASE("verhoeff: known check digits") {
  // The classic examples (Wikipedia, "Verhoeff algorithm").
  CHECK(verhoeff_check_digit("236") == '3');
  CHECK(verhoeff_check_digit("12345") == '1');
  CHECK(verhoeff_check_digit("142857") == '0');
  CHECK(verhoeff_is_valid("2363"));
  CHECK(verhoeff_is_valid("123451"));
  CHECK(verhoeff_is_valid("1428570"));
  CHECK_FALSE(verhoeff_is_valid("2364"));
  CHECK_FALSE(verhoeff_is_valid("123415"));
  // Computed independently (Python) for 7-digit prefixes.
  CHECK(verhoeff_check_digit("0000000") == '1');
  CHECK(verhoeff_check_digit("1234567") == '9');
  CHECK(verhoeff_check_digit("8765432") == '0');
  CHECK(verhoeff_check_digit("0012345") == '8');
  CHECK(verhoeff_check_digit("2718281") == '2');
  // Every row of the position permutation table (here row 4, for 6 and 7) is exercised.
  CHECK(verhoeff_check_digit("0006000") == '4');
  CHECK(verhoeff_check_digit("0007000") == '2');
  CHECK(verhoeff_check_digit("6767676") == '5');
  CHECK(verhoeff_check_digit("7676767") == '7');
  // Not digits.
  CHECK(verhoeff_check_digit("12a") == '\0');
  CHECK_FALSE(verhoeff_is_valid("2a63"));
  CHECK_FALSE(verhoeff_is_valid(""));
}

TEST_CASE("verhoeff: every check digit it computes validates, every other one does not") {
  for (std::uint32_t v = 0; v < 100'000; v += 7) {
    std::string s = std::to_string(v);
    s.insert(0, 7 - s.size(), '0');
    const char check = verhoeff_check_digit(s);
    for (char d = '0'; d <= '9'; ++d)
      CHECK(verhoeff_is_valid(s + d) == (d == check));
  }
}

TEST_CASE("setup code: every single-digit substitution is caught") {
  for (const std::string& good : sample_codes()) {
    REQUIRE(parse_setup_code(good));
    for (std::size_t i = 0; i < good.size(); ++i) {
      for (char d = '0'; d <= '9'; ++d) {
        if (d == good[i]) continue;
        std::string bad = good;
        bad[i] = d;
        const auto r = parse_setup_code(bad);
        INFO(good << " -> " << bad);
        CHECK(r.code == setup_code_errc::check_digit_mismatch);
      }
    }
  }
}

TEST_CASE("setup code: every adjacent transposition is caught") {
  int checked = 0;
  for (const std::string& good : sample_codes()) {
    for (std::size_t i = 0; i + 1 < good.size(); ++i) {
      if (good[i] == good[i + 1]) continue;
      std::string bad = good;
      std::swap(bad[i], bad[i + 1]);
      INFO(good << " -> " << bad);
      CHECK(parse_setup_code(bad).code == setup_code_errc::check_digit_mismatch);
      ++checked;
    }
  }
  CHECK(checked > 30);
}

TEST_CASE("setup code: every adjacent transposition of every digit pair at every position") {
  // Whether a swap is caught depends only on the two digits and their position, not on the
  // others: so one context per position covers all codes.
  int checked = 0;
  for (std::size_t i = 0; i + 1 < setup_code::random_digits; ++i) {
    for (char a = '0'; a <= '9'; ++a) {
      for (char b = '0'; b <= '9'; ++b) {
        if (a == b) continue;
        std::string prefix = "5550123";
        prefix[i] = a;
        prefix[i + 1] = b;
        std::string bad = with_check(prefix);
        std::swap(bad[i], bad[i + 1]);
        INFO(prefix << " swapped at " << i);
        CHECK_FALSE(verhoeff_is_valid(bad));
        ++checked;
      }
    }
  }
  // The last random digit and the check digit.
  for (char a = '0'; a <= '9'; ++a) {
    std::string bad = with_check(std::string("555012") + a);
    if (bad[6] == bad[7]) continue;
    std::swap(bad[6], bad[7]);
    CHECK_FALSE(verhoeff_is_valid(bad));
    ++checked;
  }
  CHECK(checked >= 6 * 90 + 9);
}

TEST_CASE("setup code: substitutions and transpositions of many random codes are caught") {
  std::mt19937 rng(20240601);
  std::vector<std::uint8_t> bytes(setup_code_random_bytes);
  for (int n = 0; n < 500; ++n) {
    for (auto& b : bytes)
      b = static_cast<std::uint8_t>(rng());
    setup_code c;
    REQUIRE_FALSE(make_setup_code(bytes, c));
    const std::string good(c.view());
    for (std::size_t i = 0; i < good.size(); ++i) {
      for (char d = '0'; d <= '9'; ++d) {
        if (d == good[i]) continue;
        std::string bad = good;
        bad[i] = d;
        REQUIRE_FALSE(verhoeff_is_valid(bad));
      }
      if (i + 1 < good.size() && good[i] != good[i + 1]) {
        std::string bad = good;
        std::swap(bad[i], bad[i + 1]);
        REQUIRE_FALSE(verhoeff_is_valid(bad));
      }
    }
  }
}

TEST_CASE("setup code: formats as 1234-5678 and parses back") {
  const setup_code c = code_of("27182812");
  CHECK(to_string(c) == "2718-2812");
  CHECK(c.view() == "27182812");
  CHECK(c.view().size() == 8);
  for (std::string_view text : {"27182812", "2718-2812", "2718 2812", "  2718-2812\n",
                                "\t27182812 ", "27-18-28-12", "2718 - 2812"}) {
    const auto r = parse_setup_code(text);
    INFO(text << ": " << r.describe());
    REQUIRE(r);
    CHECK(r.value == c);
    CHECK(r.describe() == "no error");
  }
  const auto r = parse_setup_code(to_string(c));
  REQUIRE(r);
  CHECK(r.value == c);
}

TEST_CASE("setup code: errors say what and where") {
  auto r = parse_setup_code("");
  CHECK(r.code == setup_code_errc::empty);
  r = parse_setup_code(" \t\n");
  CHECK(r.code == setup_code_errc::empty);
  CHECK(r.describe() == "setup code: empty; type the 8 digits from the accessory's label");

  r = parse_setup_code("  2718-28l2");
  CHECK(r.code == setup_code_errc::bad_character);
  CHECK(r.position == 9);
  CHECK(r.character == 'l');
  CHECK(r.describe() ==
        "setup code: character 'l' at position 10 is not a digit; did you mean '1'?");
  r = parse_setup_code("O718-2812");
  CHECK(r.position == 0);
  CHECK(r.describe() ==
        "setup code: character 'O' at position 1 is not a digit; did you mean '0'?");
  r = parse_setup_code("2718_2812");
  CHECK(r.code == setup_code_errc::bad_character);
  CHECK(r.position == 4);
  CHECK(r.describe() == "setup code: character '_' at position 5 is not a digit; a setup code is "
                        "8 digits, e.g. 1234-5678");
  r = parse_setup_code("2718\x01");
  CHECK(r.describe() == "setup code: character byte 0x01 at position 5 is not a digit; a setup "
                        "code is 8 digits, e.g. 1234-5678");
  // A bad character is reported before the length.
  r = parse_setup_code("12x");
  CHECK(r.code == setup_code_errc::bad_character);

  r = parse_setup_code("2718-281");
  CHECK(r.code == setup_code_errc::wrong_length);
  CHECK(r.position == 7);
  CHECK(r.describe() == "setup code: 7 digits found; a setup code has 8 (e.g. 1234-5678)");
  r = parse_setup_code("2718-28123");
  CHECK(r.code == setup_code_errc::wrong_length);
  CHECK(r.position == 9);
  r = parse_setup_code("1");
  CHECK(r.describe() == "setup code: 1 digit found; a setup code has 8 (e.g. 1234-5678)");
  r = parse_setup_code("----");
  CHECK(r.code == setup_code_errc::wrong_length);
  CHECK(r.position == 0);

  r = parse_setup_code("2718-2813");
  CHECK(r.code == setup_code_errc::check_digit_mismatch);
  CHECK(r.describe() == "setup code: the check digit does not match: a digit was mistyped or two "
                        "were swapped; check the code on the label");
  CHECK(r.code.message().find("a digit was mistyped or two were swapped") != std::string::npos);
  CHECK(r.code.message().find("check the code on the label") != std::string::npos);
}

TEST_CASE("setup code: trivial codes are refused even with a valid check digit") {
  for (char d = '0'; d <= '9'; ++d) {
    const std::string s = with_check(std::string(7, d));
    const auto r = parse_setup_code(s);
    INFO(s);
    CHECK(r.code == setup_code_errc::trivial_code);
    CHECK(is_trivial_setup_code(code_of(s)));
  }
  CHECK(parse_setup_code("1234-5679").code == setup_code_errc::trivial_code);
  CHECK(parse_setup_code("8765-4320").code == setup_code_errc::trivial_code);
  CHECK(parse_setup_code("3333-3333").code == setup_code_errc::trivial_code);
  CHECK(parse_setup_code("6666-6666").code == setup_code_errc::trivial_code);
  // The Matter-style full-8-digit forms are not even valid codes.
  CHECK(parse_setup_code("1234-5678").code == setup_code_errc::check_digit_mismatch);
  CHECK(parse_setup_code("8765-4321").code == setup_code_errc::check_digit_mismatch);
  CHECK(parse_setup_code("0000-0000").code == setup_code_errc::check_digit_mismatch);
  CHECK(parse_setup_code("3333-3333").describe() ==
        "setup code: this code is never issued (it is too easy to guess), so it is not an "
        "accessory's code; check the code on the label");
  // Near misses are ordinary codes.
  CHECK_FALSE(is_trivial_setup_code(code_of(with_check("1234568"))));
  CHECK_FALSE(is_trivial_setup_code(code_of(with_check("0000001"))));
  CHECK(parse_setup_code(with_check("1234568")));
}

TEST_CASE("make_setup_code: the documented mapping from bytes to digits") {
  setup_code c;
  auto bytes = bytes_of({12345});
  REQUIRE_FALSE(make_setup_code(bytes, c));
  CHECK(c.view() == "00123458");
  // x mod 10^7, up to the last accepted x.
  bytes = bytes_of({4'289'999'998U});
  REQUIRE_FALSE(make_setup_code(bytes, c));
  CHECK(c.view() == "99999982");
  bytes = bytes_of({30'000'000U + 2'718'281U});
  REQUIRE_FALSE(make_setup_code(bytes, c));
  CHECK(c.view() == "27182812");
  // Every code it makes parses.
  CHECK(parse_setup_code(to_string(c)).value == c);
}

TEST_CASE("make_setup_code: rejection sampling skips biased and trivial draws") {
  setup_code c = code_of("27182812");
  const setup_code before = c;
  // 4,290,000,000 and above are rejected; so are the trivial codes.
  auto bytes = bytes_of({0xFFFFFFFFU, 4'290'000'000U, 0, 1'234'567U, 8'765'432U,
                         10'000'000U + 3'333'333U, 5'550'123U});
  REQUIRE_FALSE(make_setup_code(bytes, c));
  CHECK(c.view() == with_check("5550123"));
  // The bytes run out: out is untouched.
  c = before;
  bytes = bytes_of({0xFFFFFFFFU, 0});
  CHECK(make_setup_code(bytes, c) == setup_code_errc::not_enough_random_bytes);
  CHECK(c == before);
  CHECK(make_setup_code({}, c) == setup_code_errc::not_enough_random_bytes);
  const std::array<std::uint8_t, 3> three{1, 2, 3};
  CHECK(make_setup_code(three, c) == setup_code_errc::not_enough_random_bytes);
  CHECK(c == before);
  // Leftover bytes (fewer than 4) are ignored.
  bytes = bytes_of({0xFFFFFFFFU, 5'550'123U});
  bytes.push_back(0xAB);
  REQUIRE_FALSE(make_setup_code(bytes, c));
  CHECK(c.view() == with_check("5550123"));
  bytes.resize(bytes.size() - 5);
  CHECK(make_setup_code(bytes, c) == setup_code_errc::not_enough_random_bytes);
  CHECK(make_error_code(setup_code_errc::not_enough_random_bytes).message() ==
        "not enough random bytes to make a setup code: pass 32 or more");
}

TEST_CASE("make_setup_code: uniform enough, never trivial, always valid") {
  std::mt19937 rng(42);
  std::vector<std::uint8_t> bytes(setup_code_random_bytes);
  std::array<std::array<int, 10>, setup_code::random_digits> counts{};
  std::set<std::string> distinct;
  constexpr int n = 10'000;
  for (int k = 0; k < n; ++k) {
    for (auto& b : bytes)
      b = static_cast<std::uint8_t>(rng());
    setup_code c;
    REQUIRE_FALSE(make_setup_code(bytes, c));
    REQUIRE_FALSE(is_trivial_setup_code(c));
    REQUIRE(verhoeff_is_valid(c.view()));
    for (std::size_t i = 0; i < setup_code::random_digits; ++i)
      ++counts[i][static_cast<std::size_t>(c.digits[i] - '0')];
    distinct.insert(std::string(c.view()));
  }
  // Each digit in each random position: expected 1,000, standard deviation 30.
  for (std::size_t i = 0; i < setup_code::random_digits; ++i) {
    for (int d = 0; d < 10; ++d) {
      INFO("position " << i << ", digit " << d);
      CHECK(counts[i][static_cast<std::size_t>(d)] > 850);
      CHECK(counts[i][static_cast<std::size_t>(d)] < 1150);
    }
  }
  // Birthday bound: ~5 collisions expected among 10,000 draws from 10^7.
  CHECK(distinct.size() > n - 30);
}

TEST_CASE("setup code: category") {
  CHECK(std::string(setup_code_category().name()) == "lanyard.setup_code");
  for (int e = 1; e <= static_cast<int>(setup_code_errc::not_enough_random_bytes); ++e) {
    CHECK(setup_code_category().message(e).find("unknown") == std::string::npos);
    setup_code_parse_result r;
    r.code = static_cast<setup_code_errc>(e);
    CHECK(r.describe().rfind("setup code: ", 0) == 0);
  }
  const std::error_code ec = setup_code_errc::wrong_length;
  CHECK(ec.category() == setup_code_category());
}
