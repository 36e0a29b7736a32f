#include "lanyard/core/relay_frame.hpp"
#include "lanyard/crypto/relay.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <string>
#include <string_view>

using namespace lanyard;

namespace {

core::fingerprint fp_of(std::uint8_t b) {
  core::fingerprint fp;
  fp.bytes.fill(b);
  return fp;
}

std::string inbox_of(const core::fingerprint& fp) {
  std::array<char, core::relay_inbox_length> out{};
  REQUIRE_FALSE(crypto::relay_inbox(fp, out));
  return {out.begin(), out.end()};
}

} // namespace

TEST_CASE("relay inbox: 26 base32 characters, stable, different per key") {
  const std::string a = inbox_of(fp_of(1));
  CHECK(core::valid_relay_inbox(a));
  CHECK(a == inbox_of(fp_of(1)));
  CHECK(a != inbox_of(fp_of(2)));
  // Pinned: SHA-256("lanyard relay inbox v1" || 32 x 0x01), first 130 bits in base32. A change
  // here moves every deployed accessory to another topic.
  // (Python: base64.b32encode(hashlib.sha256(b"lanyard relay inbox v1" + b"\x01" * 32)
  // .digest()[:17])[:26].)
  CHECK(a == "V6VXVBK453VV45SV5WCBPUPTEC");
}

TEST_CASE("relay keys and the OPEN tag: only the paired controller's key opens") {
  crypto::relay_key secret{};
  secret.fill(0x42);
  crypto::relay_key phone{}, tablet{};
  REQUIRE_FALSE(crypto::derive_relay_key(secret, fp_of(1), phone));
  REQUIRE_FALSE(crypto::derive_relay_key(secret, fp_of(2), tablet));
  CHECK(phone != tablet);
  crypto::relay_key again{};
  REQUIRE_FALSE(crypto::derive_relay_key(secret, fp_of(1), again));
  CHECK(again == phone);
  crypto::relay_key other_secret{};
  other_secret.fill(0x43);
  REQUIRE_FALSE(crypto::derive_relay_key(other_secret, fp_of(1), again));
  CHECK(again != phone); // another accessory's secret gives another key

  const std::string accessory = inbox_of(fp_of(9));
  const std::string reply_inbox = inbox_of(fp_of(1));
  core::relay_tunnel_id tunnel{};
  tunnel.fill(7);
  std::array<std::uint8_t, core::relay_nonce_size> nonce{};
  nonce.fill(3);
  std::array<std::uint8_t, core::relay_tag_size> tag{};
  REQUIRE_FALSE(
      crypto::relay_open_tag(phone, accessory, tunnel, {"home", reply_inbox}, nonce, tag));

  std::array<std::uint8_t, 200> buf{};
  std::error_code ec;
  const std::size_t n = core::encode_relay_open(tunnel, {"home", reply_inbox}, nonce, tag, buf, ec);
  REQUIRE_FALSE(ec);
  core::relay_frame open;
  REQUIRE_FALSE(core::parse_relay_frame(std::span(buf).first(n), open));
  CHECK(crypto::relay_open_tag_matches(phone, accessory, open));
  CHECK_FALSE(crypto::relay_open_tag_matches(tablet, accessory, open));
  // Bound to the accessory, the tunnel, the reply address and the nonce.
  CHECK_FALSE(crypto::relay_open_tag_matches(phone, inbox_of(fp_of(8)), open));
  for (std::size_t byte : {std::size_t{2}, core::relay_header_size + 1, n - 33, n - 1}) {
    auto copy = buf;
    copy[byte] ^= 0x01;
    core::relay_frame changed;
    if (core::parse_relay_frame(std::span(copy).first(n), changed)) continue;
    CHECK_FALSE(crypto::relay_open_tag_matches(phone, accessory, changed));
  }
  // Only OPEN frames carry a tag.
  core::relay_frame data = open;
  data.type = core::relay_frame_type::data;
  CHECK_FALSE(crypto::relay_open_tag_matches(phone, accessory, data));
}
