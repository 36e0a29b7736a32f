#include "lanyard/core/fingerprint.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <set>
#include <string>
#include <unordered_set>

using namespace lanyard::core;

namespace {

fingerprint sequence() {
  fingerprint fp;
  for (std::size_t i = 0; i < fp.bytes.size(); ++i)
    fp.bytes[i] = static_cast<std::uint8_t>(i);
  return fp;
}

fingerprint parse_ok(std::string_view text) {
  const auto r = parse_fingerprint(text);
  INFO(text << " -> " << r.describe());
  REQUIRE(r);
  return r.value;
}

} // namespace

TEST_CASE("fingerprint formats as grouped base32, hex with colons and plain hex") {
  const fingerprint fp = sequence();
  const std::string b32 = to_string(fp);
  CHECK(b32 == "AAAQ-EAYE-AUDA-OCAJ-BIFQ-YDIO-B4IB-CEQT-CQKR-MFYY-DENB-WHA5-DYPQ");
  CHECK(b32.size() == 52 + 12);
  CHECK(to_string(fp, fingerprint_format::hex) ==
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
  const std::string colon = to_string(fp, fingerprint_format::hex_colon);
  CHECK(colon.rfind("sha256:00:01:02:", 0) == 0);
  CHECK(colon.size() == 7 + 64 + 31);
  CHECK(to_short_string(fp) == "AAAQ-EAYE");
}

TEST_CASE("fingerprint parses back every format and common human variants") {
  fingerprint fp = sequence();
  for (auto& b : fp.bytes)
    b = static_cast<std::uint8_t>(b * 7 + 200);
  for (auto format :
       {fingerprint_format::base32_grouped, fingerprint_format::hex_colon, fingerprint_format::hex})
    CHECK(parse_ok(to_string(fp, format)) == fp);

  std::string b32 = to_string(fp);
  std::string lower = b32;
  for (auto& c : lower)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  CHECK(parse_ok(lower) == fp);
  std::string spaced = b32;
  for (auto& c : spaced)
    if (c == '-') c = ' ';
  CHECK(parse_ok("  " + spaced + "\n") == fp);
  std::string compact;
  for (char c : b32)
    if (c != '-') compact += c;
  CHECK(parse_ok(compact) == fp);

  std::string hex = to_string(fp, fingerprint_format::hex);
  std::string upper = hex;
  for (auto& c : upper)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  CHECK(parse_ok(upper) == fp);
  CHECK(parse_ok("SHA256:" + hex) == fp);
  std::string colon_upper = to_string(fp, fingerprint_format::hex_colon).substr(7);
  CHECK(parse_ok(colon_upper) == fp); // "ab:cd:..." without the prefix
}

TEST_CASE("fingerprint parse errors say what and where") {
  auto r = parse_fingerprint("   ");
  CHECK(r.code == fingerprint_errc::empty);

  r = parse_fingerprint("AAAQ-EAYE-AUDA");
  CHECK(r.code == fingerprint_errc::invalid_length);
  CHECK(r.position == 12);
  CHECK(r.describe() == "fingerprint: found 12 digits; a fingerprint is 52 base32 characters "
                        "(XXXX-XXXX-...) or 64 hex digits");

  std::string b32 = to_string(sequence());
  b32[5] = '0'; // '0' is hex but not base32: with 52 digits it must be base32
  r = parse_fingerprint(b32);
  CHECK(r.code == fingerprint_errc::invalid_character);
  CHECK(r.position == 5);
  CHECK(r.describe().find("did you mean O, I, B or G?") != std::string::npos);

  b32 = to_string(sequence());
  b32[7] = '!';
  r = parse_fingerprint(b32);
  CHECK(r.code == fingerprint_errc::invalid_character);
  CHECK(r.position == 7);
  CHECK(r.character == '!');
  CHECK(r.describe() == "fingerprint: character '!' at position 8 is not part of a fingerprint");

  std::string hex = "sha256:" + to_string(sequence(), fingerprint_format::hex);
  hex[10] = 'g';
  r = parse_fingerprint(hex);
  CHECK(r.code == fingerprint_errc::invalid_character);
  CHECK(r.position == 10);

  // A 52-character base32 text whose last character carries non-zero padding bits.
  b32 = to_string(sequence());
  b32.back() = 'R';
  r = parse_fingerprint(b32);
  CHECK(r.code == fingerprint_errc::invalid_last_character);
  CHECK(r.position == b32.size() - 1);

  // 64 digits that are not all hex.
  std::string h = to_string(sequence(), fingerprint_format::hex);
  h[63] = 'z';
  r = parse_fingerprint(h);
  CHECK(r.code == fingerprint_errc::invalid_character);
  CHECK(r.position == 63);
  CHECK(std::string(fingerprint_category().name()) == "lanyard.fingerprint");
}

TEST_CASE("fingerprints compare and hash by their bytes") {
  fingerprint a = sequence();
  fingerprint b = sequence();
  CHECK(a == b);
  b.bytes[31] = 0xFF;
  CHECK(a != b);
  CHECK(a < b);
  std::set<fingerprint> ordered{a, b, a};
  CHECK(ordered.size() == 2);
  std::unordered_set<fingerprint> hashed{a, b, a};
  CHECK(hashed.size() == 2);
}

TEST_CASE("format_fingerprint: to_string's text in fixed room, every format", "[fingerprint]") {
  const fingerprint fp = sequence();
  for (const auto format : {fingerprint_format::base32_grouped, fingerprint_format::hex_colon,
                            fingerprint_format::hex}) {
    const fingerprint_text t = format_fingerprint(fp, format);
    CHECK(t.view() == to_string(fp, format));
  }
  // The longest form fills the room exactly.
  CHECK(format_fingerprint(fp, fingerprint_format::hex_colon).size == fingerprint_text::max_size);
  CHECK(format_fingerprint(fp).view().size() == 64); // 52 characters in 13 groups
}
