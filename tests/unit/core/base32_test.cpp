#include "lanyard/core/base32.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <string>
#include <vector>

using namespace lanyard::core;

namespace {

std::vector<std::uint8_t> bytes_of(std::string_view s) {
  return {s.begin(), s.end()};
}

std::string decode_ok(std::string_view text, base32_decode_options options = {}) {
  std::vector<std::uint8_t> out;
  const auto e = base32_decode(text, out, options);
  INFO(e.describe());
  REQUIRE_FALSE(e);
  return {out.begin(), out.end()};
}

} // namespace

TEST_CASE("base32 encodes the RFC 4648 section 10 vectors without padding") {
  CHECK(base32_encode(bytes_of("")) == "");
  CHECK(base32_encode(bytes_of("f")) == "MY");
  CHECK(base32_encode(bytes_of("fo")) == "MZXQ");
  CHECK(base32_encode(bytes_of("foo")) == "MZXW6");
  CHECK(base32_encode(bytes_of("foob")) == "MZXW6YQ");
  CHECK(base32_encode(bytes_of("fooba")) == "MZXW6YTB");
  CHECK(base32_encode(bytes_of("foobar")) == "MZXW6YTBOI");
  CHECK(base32_encoded_length(32) == 52);
}

TEST_CASE("base32 decodes the RFC 4648 vectors, case-insensitively") {
  CHECK(decode_ok("") == "");
  CHECK(decode_ok("MY") == "f");
  CHECK(decode_ok("MZXQ") == "fo");
  CHECK(decode_ok("MZXW6") == "foo");
  CHECK(decode_ok("MZXW6YQ") == "foob");
  CHECK(decode_ok("MZXW6YTB") == "fooba");
  CHECK(decode_ok("mzxw6ytboi") == "foobar");
  CHECK(decode_ok("MzXw6YtBoI") == "foobar");
}

TEST_CASE("base32 round-trips every length and byte value") {
  std::vector<std::uint8_t> data;
  for (int n = 0; n < 300; ++n) {
    std::vector<std::uint8_t> out;
    const std::string text = base32_encode(data);
    CHECK(text.size() == base32_encoded_length(data.size()));
    REQUIRE_FALSE(base32_decode(text, out));
    CHECK(out == data);
    data.push_back(static_cast<std::uint8_t>(n * 37 + 11));
  }
}

TEST_CASE("base32 separators are skipped only when asked") {
  CHECK(decode_ok("MZXW-6YTB OI", {.ignore_separators = true}) == "foobar");
  CHECK(decode_ok("\tMZXW\n6YTBOI\r\n", {.ignore_separators = true}) == "foobar");
  std::vector<std::uint8_t> out;
  const auto e = base32_decode("MZXW-6YTBOI", out);
  CHECK(e.code == base32_errc::invalid_character);
  CHECK(e.position == 4);
  CHECK(e.character == '-');
}

TEST_CASE("base32 reports a bad character with its position and a hint") {
  std::vector<std::uint8_t> out{1, 2, 3};
  auto e = base32_decode("MZXW0YTB", out);
  CHECK(e.code == base32_errc::invalid_character);
  CHECK(e.position == 4);
  CHECK(e.character == '0');
  CHECK(e.describe() == "character '0' at position 5 is not base32 (A-Z, 2-7); did you mean 'O'?");
  CHECK(out == std::vector<std::uint8_t>{1, 2, 3}); // untouched on error

  e = base32_decode("MZXW6YT=", out);
  CHECK(e.code == base32_errc::invalid_character);
  CHECK(e.position == 7);
  e = base32_decode("MZ\x01", out);
  CHECK(e.describe() == "character 0x01 at position 3 is not base32 (A-Z, 2-7)");
  for (char c : std::string_view("0189!@=/+")) {
    std::string text = "MZXW6YTB";
    text[2] = c;
    e = base32_decode(text, out);
    CHECK(e.code == base32_errc::invalid_character);
    CHECK(e.position == 2);
  }
}

TEST_CASE("base32 rejects impossible lengths") {
  std::vector<std::uint8_t> out;
  for (std::string_view text : {"M", "MZX", "MZXW6Y", "MZXW6YTBO"}) {
    const auto e = base32_decode(text, out);
    CHECK(e.code == base32_errc::invalid_length);
    CHECK(e.position == text.size());
  }
  CHECK(out.empty());
}

TEST_CASE("base32 rejects non-zero trailing bits (non-canonical last character)") {
  std::vector<std::uint8_t> out;
  // "MY" is 'f'; "MZ" has a 1 in the 2 unused bits.
  auto e = base32_decode("MZ", out);
  CHECK(e.code == base32_errc::nonzero_trailing_bits);
  CHECK(e.position == 1);
  CHECK(e.character == 'Z');
  CHECK(e.describe().find("position 2") != std::string::npos);
  CHECK(out.empty());
  CHECK(std::string(base32_category().name()) == "lanyard.base32");
  CHECK_FALSE(make_error_code(base32_errc::invalid_length).message().empty());
}

TEST_CASE("base32_encode into fixed room: the string form's characters, nothing if short",
          "[base32]") {
  const auto data = bytes_of("foobar");
  std::array<char, 16> room{};
  const std::size_t n = base32_encode(data, room);
  CHECK(std::string_view(room.data(), n) == base32_encode(data));
  CHECK(n == base32_encoded_length(data.size()));
  std::array<char, 9> short_room{};
  short_room.fill('?');
  CHECK(base32_encode(data, short_room) == 0);
  CHECK(short_room[0] == '?');
}
