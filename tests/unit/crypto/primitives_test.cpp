#include "lanyard/crypto/primitives.hpp"

#include <catch2/catch.hpp>
#include <mbedtls/md.h>
#include <mbedtls/pkcs5.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

using namespace lanyard::crypto;

namespace {

std::vector<std::uint8_t> from_hex(std::string_view hex) {
  auto nibble = [](char c) -> std::uint8_t {
    if (c >= '0' && c <= '9') return static_cast<std::uint8_t>(c - '0');
    if (c >= 'a' && c <= 'f') return static_cast<std::uint8_t>(c - 'a' + 10);
    return static_cast<std::uint8_t>(c - 'A' + 10);
  };
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
  return out;
}

bytes_view text(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

template <std::size_t N>
std::vector<std::uint8_t> vec(const std::array<std::uint8_t, N>& a) {
  return {a.begin(), a.end()};
}

int failing_fill(void*, unsigned char*, std::size_t) {
  return -1;
}

} // namespace

TEST_CASE("crypto errors live in category lanyard.crypto with actionable messages") {
  std::error_code ec = crypto_errc::confirmation_mismatch;
  CHECK(std::string(ec.category().name()) == "lanyard.crypto");
  CHECK(ec.category() == crypto_category());
  CHECK(ec.message().find("code") != std::string::npos);
  const crypto_errc all[] = {
      crypto_errc::bad_input,   crypto_errc::bad_point,       crypto_errc::confirmation_mismatch,
      crypto_errc::wrong_state, crypto_errc::mbedtls_failure, crypto_errc::random_failure};
  for (crypto_errc e : all) {
    std::error_code code = e;
    CAPTURE(code.value());
    CHECK(code);
    CHECK(code.message().size() > 40);
    CHECK(code.message().find("unknown") == std::string::npos);
  }
  CHECK(static_cast<int>(crypto_errc::bad_input) == 1);
  CHECK(std::error_code(99, crypto_category()).message() == "unknown lanyard.crypto error 99");
}

TEST_CASE("hmac_sha256 matches RFC 4231 test case 2, in one part or several") {
  const auto expected =
      from_hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  std::array<std::uint8_t, 32> out{};
  REQUIRE_FALSE(hmac_sha256(text("Jefe"), {text("what do ya want for nothing?")}, out));
  CHECK(vec(out) == expected);

  out.fill(0);
  REQUIRE_FALSE(
      hmac_sha256(text("Jefe"), {text("what do ya "), {}, text("want for nothing?")}, out));
  CHECK(vec(out) == expected);
}

TEST_CASE("hmac_sha256 accepts keys longer than a block (RFC 4231 test case 6)") {
  const std::vector<std::uint8_t> key(131, 0xaa);
  std::array<std::uint8_t, 32> out{};
  REQUIRE_FALSE(
      hmac_sha256(key, {text("Test Using Larger Than Block-Size Key - Hash Key First")}, out));
  CHECK(vec(out) == from_hex("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"));
}

TEST_CASE("hkdf_sha256 matches RFC 5869 test cases 1 and 3") {
  SECTION("test case 1: salt and info") {
    const std::vector<std::uint8_t> ikm(22, 0x0b);
    const auto salt = from_hex("000102030405060708090a0b0c");
    const auto info = from_hex("f0f1f2f3f4f5f6f7f8f9");
    std::vector<std::uint8_t> okm(42);
    REQUIRE_FALSE(hkdf_sha256(salt, ikm, info, okm));
    CHECK(okm == from_hex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
                          "34007208d5b887185865"));
  }
  SECTION("test case 3: empty salt and info, as SPAKE2+'s KDF(nil, ...) uses") {
    const std::vector<std::uint8_t> ikm(22, 0x0b);
    std::vector<std::uint8_t> okm(42);
    REQUIRE_FALSE(hkdf_sha256({}, ikm, {}, okm));
    CHECK(okm == from_hex("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
                          "9d201395faa4b61a96c8"));
  }
}

TEST_CASE("hkdf_sha256 refuses lengths HKDF cannot produce and zeroes the output") {
  const std::vector<std::uint8_t> ikm(32, 1);
  std::vector<std::uint8_t> too_long(255 * 32 + 1, 0x5a);
  CHECK(hkdf_sha256({}, ikm, {}, too_long) == crypto_errc::bad_input);
  CHECK(too_long == std::vector<std::uint8_t>(too_long.size(), 0));
  CHECK(hkdf_sha256({}, ikm, {}, std::span<std::uint8_t>{}) == crypto_errc::bad_input);
  std::vector<std::uint8_t> longest(255 * 32);
  CHECK_FALSE(hkdf_sha256({}, ikm, {}, longest));
}

TEST_CASE("pbkdf2_hmac_sha256 matches RFC 7914 section 11 (passwd, salt, 1 iteration)") {
  std::vector<std::uint8_t> out(64);
  REQUIRE_FALSE(pbkdf2_hmac_sha256(text("passwd"), text("salt"), 1, out));
  CHECK(out == from_hex("55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
                        "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"));
}

TEST_CASE("pbkdf2_hmac_sha256 matches RFC 7914 section 11 (Password, NaCl, 80000 iterations)") {
  std::vector<std::uint8_t> out(64);
  REQUIRE_FALSE(pbkdf2_hmac_sha256(text("Password"), text("NaCl"), 80000, out));
  CHECK(out == from_hex("4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"
                        "a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d"));
}

TEST_CASE("pbkdf2_hmac_sha256 agrees with mbedTLS's PBKDF2 for every shape of input") {
  // Keys shorter than, as long as and longer than a SHA-256 block (hashed first); outputs of
  // part of a block, one block and several; one to three iterations and the pairing's 1,000.
  const mbedtls_md_info_t* info = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
  REQUIRE(info != nullptr);
  for (std::size_t password_size : {0, 1, 8, 63, 64, 65, 200}) {
    for (std::size_t out_size : {1, 31, 32, 33, 80, 100}) {
      for (std::uint32_t iterations : {1u, 2u, 3u, 1000u}) {
        std::string password(password_size, '\0');
        for (std::size_t i = 0; i < password_size; ++i)
          password[i] = static_cast<char>('0' + i % 43);
        const std::string salt = "salt-" + std::to_string(out_size);
        std::vector<std::uint8_t> ours(out_size), theirs(out_size);
        REQUIRE_FALSE(pbkdf2_hmac_sha256(text(password), text(salt), iterations, ours));
        mbedtls_md_context_t md;
        mbedtls_md_init(&md);
        REQUIRE(mbedtls_md_setup(&md, info, 1) == 0);
        REQUIRE(mbedtls_pkcs5_pbkdf2_hmac(
                    &md, reinterpret_cast<const unsigned char*>(password.data()), password.size(),
                    reinterpret_cast<const unsigned char*>(salt.data()), salt.size(), iterations,
                    static_cast<std::uint32_t>(out_size), theirs.data()) == 0);
        mbedtls_md_free(&md);
        INFO("password " << password_size << " bytes, out " << out_size << ", iterations "
                         << iterations);
        CHECK(ours == theirs);
      }
    }
  }
}

TEST_CASE("pbkdf2_hmac_sha256 refuses zero iterations and an empty output") {
  std::vector<std::uint8_t> out(32, 0x5a);
  CHECK(pbkdf2_hmac_sha256(text("pw"), text("salt"), 0, out) == crypto_errc::bad_input);
  CHECK(out == std::vector<std::uint8_t>(32, 0));
  CHECK(pbkdf2_hmac_sha256(text("pw"), text("salt"), 1, std::span<std::uint8_t>{}) ==
        crypto_errc::bad_input);
}

TEST_CASE("sha256 hashes the concatenation of its parts (FIPS 180-2 \"abc\")") {
  const auto abc = from_hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::array<std::uint8_t, 32> out{};
  REQUIRE_FALSE(sha256({text("abc")}, out));
  CHECK(vec(out) == abc);
  REQUIRE_FALSE(sha256({text("a"), {}, text("bc")}, out));
  CHECK(vec(out) == abc);
  REQUIRE_FALSE(sha256({}, out));
  CHECK(vec(out) == from_hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
}

TEST_CASE("equal_constant_time compares content, and sizes first") {
  const std::array<std::uint8_t, 4> a{1, 2, 3, 4};
  const std::array<std::uint8_t, 4> b{1, 2, 3, 4};
  const std::array<std::uint8_t, 4> c{1, 2, 3, 5};
  const std::array<std::uint8_t, 3> shorter{1, 2, 3};
  CHECK(equal_constant_time(a, b));
  CHECK_FALSE(equal_constant_time(a, c));
  CHECK_FALSE(equal_constant_time(a, shorter));
  CHECK_FALSE(equal_constant_time(shorter, a));
  CHECK(equal_constant_time({}, {}));
  CHECK_FALSE(equal_constant_time(a, {}));
}

TEST_CASE("wipe zeroes a buffer, and an empty one is fine") {
  std::array<std::uint8_t, 16> secret{};
  secret.fill(0xa5);
  wipe(secret);
  CHECK(secret == std::array<std::uint8_t, 16>{});
  wipe({});
}

TEST_CASE("system_random fills buffers of any size with fresh bytes") {
  const random_source rng = system_random();
  REQUIRE(rng.fill != nullptr);
  std::array<std::uint8_t, 32> a{}, b{};
  REQUIRE(rng.fill(rng.ctx, a.data(), a.size()) == 0);
  REQUIRE(rng.fill(rng.ctx, b.data(), b.size()) == 0);
  CHECK(a != b);
  CHECK(a != std::array<std::uint8_t, 32>{});
  std::vector<std::uint8_t> big(100000);
  REQUIRE(rng.fill(rng.ctx, big.data(), big.size()) == 0);
  CHECK(rng.fill(rng.ctx, nullptr, 0) == 0);
}

TEST_CASE("a random_source is just a function and a context") {
  random_source failing{&failing_fill, nullptr};
  unsigned char byte = 0;
  CHECK(failing.fill(failing.ctx, &byte, 1) != 0);
  CHECK(random_source{}.fill == nullptr);
}
