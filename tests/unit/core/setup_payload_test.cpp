#include "lanyard/core/setup_payload.hpp"

#include "lanyard/core/base32.hpp"
#include "lanyard/core/crc32c.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace lanyard::core;

namespace {

fingerprint sequence() {
  fingerprint fp;
  for (std::size_t i = 0; i < fp.bytes.size(); ++i)
    fp.bytes[i] = static_cast<std::uint8_t>(i);
  return fp;
}

setup_payload lamp() {
  setup_payload p;
  p.device_id = "lamp-01";
  p.device_fingerprint = sequence();
  return p;
}

setup_payload lamp_softap() {
  setup_payload p = lamp();
  p.softap_ssid = "Lanyard-Setup-1234";
  p.needs_provisioning = true;
  return p;
}

// Reference vectors computed independently (Python: base64.b32encode + a bitwise CRC-32C).
constexpr std::string_view lamp_text =
    "LNY1:AEAAO3DBNVYC2MBRAAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQTCQKRMFYYDENBWHA5DYPZWYYKEY";
constexpr std::string_view lamp_softap_text =
    "LNY1:AEBQO3DBNVYC2MBRAAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQTCQKRMFYYDENBWHA5DYPRETDBNZ4WC4TEFVJWK5D"
    "VOAWTCMRTGTUAIHEM";

std::string encode(const setup_payload& p, payload_layout layout = payload_layout::compact) {
  std::string out;
  REQUIRE_FALSE(encode_setup_payload(p, out, layout));
  return out;
}

// Builds "LNY1:" + base32(body + crc32c(body)) for hand-made (possibly invalid) bodies.
std::string wrap(std::vector<std::uint8_t> body, bool with_crc = true) {
  if (with_crc) {
    const std::uint32_t crc = crc32c(body);
    for (int shift = 24; shift >= 0; shift -= 8)
      body.push_back(static_cast<std::uint8_t>(crc >> shift));
  }
  return "LNY1:" + base32_encode(body);
}

std::vector<std::uint8_t> lamp_body() {
  std::vector<std::uint8_t> b{1, 0, 7, 'l', 'a', 'm', 'p', '-', '0', '1'};
  for (std::uint8_t i = 0; i < 32; ++i)
    b.push_back(i);
  return b;
}

} // namespace

TEST_CASE("crc32c matches the standard check value") {
  CHECK(crc32c(std::string_view("123456789")) == 0xE3069283U);
  CHECK(crc32c(std::string_view("")) == 0U);
  CHECK(crc32c(std::string_view("6789"), crc32c(std::string_view("12345"))) == 0xE3069283U);
}

TEST_CASE("setup payload encodes to the reference vectors") {
  CHECK(encode(lamp()) == lamp_text);
  CHECK(encode(lamp_softap()) == lamp_softap_text);
  const std::string grouped = encode(lamp(), payload_layout::grouped);
  CHECK(grouped.rfind("LNY1:AEAA-O3DB-NVYC-", 0) == 0);
}

TEST_CASE("setup payload round-trips every field") {
  setup_payload p = lamp_softap();
  p.pairing_window_open = true;
  for (const setup_payload& in : {lamp(), lamp_softap(), p}) {
    for (auto layout : {payload_layout::compact, payload_layout::grouped}) {
      const auto r = parse_setup_payload(encode(in, layout));
      INFO(r.describe());
      REQUIRE(r);
      CHECK(r.payload == in);
    }
  }
  setup_payload longest;
  longest.device_id = std::string(64, 'x');
  longest.softap_ssid = std::string(32, '\xff');
  const auto r = parse_setup_payload(encode(longest));
  REQUIRE(r);
  CHECK(r.payload == longest);
}

TEST_CASE("setup payload parsing forgives case, whitespace and separators") {
  std::string lower(lamp_text);
  for (auto& c : lower)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto r = parse_setup_payload(lower);
  REQUIRE(r);
  CHECK(r.payload == lamp());

  r = parse_setup_payload("  " + encode(lamp(), payload_layout::grouped) + "\n");
  REQUIRE(r);
  CHECK(r.payload == lamp());
  r = parse_setup_payload(
      "LNY1: AEAA O3DB\nNVYC-2MBR AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQTCQKRMFYYDENBWHA5"
      "DYPZWYYKEY");
  REQUIRE(r);
}

TEST_CASE("setup payload reserved flag bits are ignored") {
  auto body = lamp_body();
  body[1] = 0xF8;
  const auto r = parse_setup_payload(wrap(body));
  REQUIRE(r);
  CHECK(r.payload == lamp());
}

TEST_CASE("setup payload: empty and bad prefix") {
  auto r = parse_setup_payload(" \n");
  CHECK(r.code == payload_errc::empty);
  r = parse_setup_payload("WIFI:S:home;;");
  CHECK(r.code == payload_errc::bad_prefix);
  CHECK(r.position == 0);
  CHECK(r.describe() == "setup payload: does not start with \"LNY1:\" (character 'W' at position "
                        "1); is this the code from a Lanyard accessory?");
  r = parse_setup_payload("LNY2:AAAA");
  CHECK(r.code == payload_errc::bad_prefix);
  CHECK(r.position == 3);
  r = parse_setup_payload("LNY");
  CHECK(r.code == payload_errc::bad_prefix);
}

TEST_CASE("setup payload: a bad character is named with its position in the input") {
  std::string text(lamp_text);
  text[20] = '1';
  auto r = parse_setup_payload(text);
  CHECK(r.code == payload_errc::bad_character);
  CHECK(r.position == 20);
  CHECK(r.describe() ==
        "setup payload: character '1' at position 21 is not base32 (A-Z, 2-7); did you mean 'I'?");
  // Positions count in the original text, separators included.
  r = parse_setup_payload("  LNY1:AEAA-O3DB-N*YC");
  CHECK(r.code == payload_errc::bad_character);
  CHECK(r.position == 18);
  CHECK(r.character == '*');
}

TEST_CASE("setup payload: every single-character substitution is detected") {
  const std::string good(lamp_softap_text);
  constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  int checked = 0;
  for (std::size_t i = 5; i < good.size(); ++i) {
    for (char c : alphabet) {
      if (c == good[i]) continue;
      std::string bad = good;
      bad[i] = c;
      const auto r = parse_setup_payload(bad);
      INFO("position " << i << " -> " << c);
      CHECK_FALSE(r);
      ++checked;
    }
  }
  CHECK(checked == static_cast<int>((good.size() - 5) * 31));
  std::string bad = good;
  bad[30] = bad[30] == 'A' ? 'B' : 'A';
  CHECK(parse_setup_payload(bad).code == payload_errc::checksum_mismatch);
  CHECK(parse_setup_payload(bad).describe() ==
        "setup payload: checksum mismatch: a character was mistyped or changed; check it again");
}

TEST_CASE("setup payload: swapped adjacent characters are detected") {
  const std::string good(lamp_text);
  for (std::size_t i = 5; i + 1 < good.size(); ++i) {
    if (good[i] == good[i + 1]) continue;
    std::string bad = good;
    std::swap(bad[i], bad[i + 1]);
    CHECK_FALSE(parse_setup_payload(bad));
  }
}

TEST_CASE("setup payload: every truncation is an error, never a shorter payload") {
  const std::string good(lamp_softap_text);
  for (std::size_t n = 0; n < good.size(); ++n) {
    const auto r = parse_setup_payload(good.substr(0, n));
    INFO("cut at " << n << ": " << r.describe());
    REQUIRE_FALSE(r);
    if (n > 5 + 8) {
      const bool truncated_or_length =
          r.code == payload_errc::truncated || r.code == payload_errc::bad_length;
      CHECK(truncated_or_length);
    }
  }
  const auto r = parse_setup_payload(good.substr(0, good.size() - 8));
  CHECK(r.code == payload_errc::truncated);
  CHECK(r.position == 5);
  CHECK(r.describe() ==
        "setup payload: truncated: 5 bytes (about 8 characters) missing; copy the whole payload");
}

TEST_CASE("setup payload: version, field and trailing-data errors") {
  auto body = lamp_body();
  body[0] = 2;
  auto r = parse_setup_payload(wrap(body));
  CHECK(r.code == payload_errc::unsupported_version);
  CHECK(r.position == 2);
  CHECK(r.describe() ==
        "setup payload: version 2 is not supported (this app reads version 1); update the app");

  body = lamp_body();
  body[2] = 0;
  body.erase(body.begin() + 3, body.begin() + 10);
  r = parse_setup_payload(wrap(body));
  CHECK(r.code == payload_errc::bad_device_id);
  CHECK(r.describe() == "setup payload: the device id is empty");

  body = lamp_body();
  body[6] = ' ';
  r = parse_setup_payload(wrap(body));
  CHECK(r.code == payload_errc::bad_device_id);
  CHECK(r.position == 3);
  CHECK(r.describe() == "setup payload: the device id has character ' ' at position 4; only A-Z "
                        "a-z 0-9 . _ : - are allowed");

  body = {1, 0, 65};
  body.insert(body.end(), 65 + 32, 'a');
  r = parse_setup_payload(wrap(body));
  CHECK(r.code == payload_errc::device_id_too_long);
  CHECK(r.position == 65);

  body = lamp_body();
  body[1] = 1;
  body.push_back(0);
  r = parse_setup_payload(wrap(body));
  CHECK(r.code == payload_errc::bad_ssid);

  body = lamp_body();
  body[1] = 1;
  body.push_back(33);
  body.insert(body.end(), 33, 's');
  r = parse_setup_payload(wrap(body));
  CHECK(r.code == payload_errc::ssid_too_long);
  CHECK(r.position == 33);

  body = lamp_body();
  body.push_back(0xAA);
  body.push_back(0xBB);
  r = parse_setup_payload(wrap(body));
  CHECK(r.code == payload_errc::trailing_data);
  CHECK(r.position == 2);

  body = lamp_body();
  body.resize(20); // checksum fine, fields short: encoder bug, reported as truncated
  r = parse_setup_payload(wrap(body));
  CHECK(r.code == payload_errc::truncated);
}

TEST_CASE("setup payload: a wrong last character is a length error") {
  // 46 bytes encode to 74 characters, leaving 2 unused bits in the last one.
  std::string text = wrap(lamp_body());
  REQUIRE((text.size() - 5) % 8 == 2);
  text.back() = text.back() == 'Z' ? 'Y' : 'Z';
  const auto r = parse_setup_payload(text);
  CHECK(r.code == payload_errc::bad_length);
  CHECK(r.position == text.size() - 1);
}

TEST_CASE("setup payload encoding validates fields") {
  std::string out = "untouched";
  setup_payload p = lamp();
  p.device_id = "";
  CHECK(encode_setup_payload(p, out) == payload_errc::bad_device_id);
  p.device_id = "has space";
  CHECK(encode_setup_payload(p, out) == payload_errc::bad_device_id);
  p.device_id = std::string(65, 'a');
  CHECK(encode_setup_payload(p, out) == payload_errc::device_id_too_long);
  p = lamp();
  p.softap_ssid = "";
  CHECK(encode_setup_payload(p, out) == payload_errc::bad_ssid);
  p.softap_ssid = std::string(33, 'a');
  CHECK(encode_setup_payload(p, out) == payload_errc::ssid_too_long);
  CHECK(out == "untouched");
  CHECK(std::string(payload_category().name()) == "lanyard.payload");
  for (int e = 1; e <= static_cast<int>(payload_errc::trailing_data); ++e)
    CHECK(payload_category().message(e).find("unknown") == std::string::npos);
}
