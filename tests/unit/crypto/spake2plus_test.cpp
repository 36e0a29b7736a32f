#include "lanyard/crypto/spake2plus.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <new>
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

template <std::size_t N>
bool all_zero(const std::array<std::uint8_t, N>& a) {
  return a == std::array<std::uint8_t, N>{};
}

template <std::size_t N>
std::array<std::uint8_t, N> to_array(const std::vector<std::uint8_t>& v) {
  REQUIRE(v.size() == N);
  std::array<std::uint8_t, N> a{};
  std::copy(v.begin(), v.end(), a.begin());
  return a;
}

// RFC 9383 Appendix C, [Context=b'SPAKE2+-P256-SHA256-HKDF-SHA256-HMAC-SHA256 Test Vectors'],
// [idProver=b'client'], [idVerifier=b'server'].
namespace rfc {
constexpr std::string_view context = "SPAKE2+-P256-SHA256-HKDF-SHA256-HMAC-SHA256 Test Vectors";
constexpr std::string_view id_prover = "client";
constexpr std::string_view id_verifier = "server";
constexpr std::string_view w0 = "bb8e1bbcf3c48f62c08db243652ae55d3e5586053fca77102994f23ad95491b3";
constexpr std::string_view w1 = "7e945f34d78785b8a3ef44d0df5a1a97d6b3b460409a345ca7830387a74b1dba";
constexpr std::string_view L =
    "04eb7c9db3d9a9eb1f8adab81b5794c1f13ae3e225efbe91ea487425854c7fc00f00bfedcbd09b2400142d40a14f"
    "2064ef31dfaa903b91d1faea7093d835966efd";
constexpr std::string_view x = "d1232c8e8693d02368976c174e2088851b8365d0d79a9eee709c6a05a2fad539";
constexpr std::string_view share_p =
    "04ef3bd051bf78a2234ec0df197f7828060fe9856503579bb1733009042c15c0c1de127727f418b5966afadfdd95"
    "a6e4591d171056b333dab97a79c7193e341727";
constexpr std::string_view y = "717a72348a182085109c8d3917d6c43d59b224dc6a7fc4f0483232fa6516d8b3";
constexpr std::string_view share_v =
    "04c0f65da0d11927bdf5d560c69e1d7d939a05b0e88291887d679fcadea75810fb5cc1ca7494db39e82ff2f50665"
    "255d76173e09986ab46742c798a9a68437b048";
constexpr std::string_view Z =
    "04bbfce7dd7f277819c8da21544afb7964705569bdf12fb92aa388059408d50091a0c5f1d3127f56813b5337f9e4"
    "e67e2ca633117a4fbd559946ab474356c41839";
constexpr std::string_view V =
    "0458bf27c6bca011c9ce1930e8984a797a3419797b936629a5a937cf2f11c8b9514b82b993da8a46e664f23db7c0"
    "1edc87faa530db01c2ee405230b18997f16b68";
constexpr std::string_view TT =
    "38000000000000005350414b45322b2d503235362d5348413235362d484b44462d5348413235362d484d41432d53"
    "4841323536205465737420566563746f72730600000000000000636c69656e740600000000000000736572766572"
    "410000000000000004886e2f97ace46e55ba9dd7242579f2993b64e16ef3dcab95afd497333d8fa12f5ff355163e"
    "43ce224e0b0e65ff02ac8e5c7be09419c785e0ca547d55a12e2d20410000000000000004d8bbd6c639c62937b04d"
    "997f38c3770719c629d7014d49a24b4f98baa1292b4907d60aa6bfade45008a636337f5168c64d9bd36034808cd5"
    "64490b1e656edbe7410000000000000004ef3bd051bf78a2234ec0df197f7828060fe9856503579bb17330090"
    "42c15c0c1de127727f418b5966afadfdd95a6e4591d171056b333dab97a79c7193e341727410000000000000004"
    "c0f65da0d11927bdf5d560c69e1d7d939a05b0e88291887d679fcadea75810fb5cc1ca7494db39e82ff2f5066525"
    "5d76173e09986ab46742c798a9a68437b048410000000000000004bbfce7dd7f277819c8da21544afb79647055"
    "69bdf12fb92aa388059408d50091a0c5f1d3127f56813b5337f9e4e67e2ca633117a4fbd559946ab474356c418"
    "3941000000000000000458bf27c6bca011c9ce1930e8984a797a3419797b936629a5a937cf2f11c8b9514b82b993"
    "da8a46e664f23db7c01edc87faa530db01c2ee405230b18997f16b682000000000000000bb8e1bbcf3c48f62c08d"
    "b243652ae55d3e5586053fca77102994f23ad95491b3";
constexpr std::string_view K_main =
    "4c59e1ccf2cfb961aa31bd9434478a1089b56cd11542f53d3576fb6c2a438a29";
constexpr std::string_view K_confirmP =
    "871ae3f7b78445e34438fb284504240239031c39d80ac23eb5ab9be5ad6db58a";
constexpr std::string_view K_confirmV =
    "ccd53c7c1fa37b64a462b40db8be101cedcf838950162902054e644b400f1680";
// HMAC(K_confirmP, shareV) and HMAC(K_confirmV, shareP).
constexpr std::string_view confirm_p =
    "926cc713504b9b4d76c9162ded04b5493e89109f6d89462cd33adc46fda27527";
constexpr std::string_view confirm_v =
    "9747bcc4f8fe9f63defee53ac9b07876d907d55047e6ff2def2e7529089d3e68";
constexpr std::string_view K_shared =
    "0c5f8ccd1413423a54f6c1fb26ff01534a87f893779c6e68666d772bfd91f3e7";
// RFC 9383 section 4, compressed.
constexpr std::string_view M_compressed =
    "02886e2f97ace46e55ba9dd7242579f2993b64e16ef3dcab95afd497333d8fa12f";
constexpr std::string_view N_compressed =
    "03d8bbd6c639c62937b04d997f38c3770719c629d7014d49a24b4f98baa1292b49";
} // namespace rfc

// The order n and field prime p of P-256, for out-of-range values.
constexpr std::string_view order_n =
    "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
constexpr std::string_view prime_p =
    "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff";

spake2plus_prover_secret rfc_secret() {
  spake2plus_prover_secret s;
  REQUIRE_FALSE(spake2plus_secret_from_ws(from_hex(rfc::w0), from_hex(rfc::w1), s));
  return s;
}

spake2plus_verifier_data rfc_verifier() {
  spake2plus_verifier_data v;
  REQUIRE_FALSE(spake2plus_make_verifier(rfc_secret(), v));
  return v;
}

// A deterministic source (xorshift64*), so that failures reproduce.
struct test_rng {
  std::uint64_t state = 0x9e3779b97f4a7c15ULL;
  bool fail = false;

  static int fill(void* ctx, unsigned char* out, std::size_t len) {
    auto* self = static_cast<test_rng*>(ctx);
    if (self->fail) return -1;
    for (std::size_t i = 0; i < len; ++i) {
      self->state ^= self->state >> 12;
      self->state ^= self->state << 25;
      self->state ^= self->state >> 27;
      out[i] = static_cast<unsigned char>((self->state * 0x2545f4914f6cdd1dULL) >> 56);
    }
    return 0;
  }
  random_source source() { return {&fill, this}; }
};

// Lanyard's context and identities, shaped like the real ones.
constexpr std::string_view context = "lanyard pairing v1 0123456789abcdef0123456789abcdef";
constexpr std::string_view controller_fp = "controller-fingerprint-0123456789abcdef0123456789ab";
constexpr std::string_view accessory_fp = "accessory-fingerprint-0123456789abcdef0123456789abc";
constexpr std::string_view salt = "0123456789abcdef";

spake2plus_prover_secret derive(std::string_view code) {
  spake2plus_prover_secret s;
  REQUIRE_FALSE(spake2plus_derive(text(code), text(salt), 1000, s));
  return s;
}

struct exchange_result {
  std::error_code prover_ec;
  std::error_code verifier_ec;
  std::array<std::uint8_t, 32> prover_key{};
  std::array<std::uint8_t, 32> verifier_key{};
};

// Runs one exchange with random scalars; `prover_context` lets a test make the two sides
// disagree.
exchange_result run(const spake2plus_prover_secret& secret, const spake2plus_verifier_data& v,
                    std::string_view prover_context = context,
                    std::string_view prover_id = controller_fp,
                    std::string_view verifier_id = accessory_fp) {
  exchange_result r;
  test_rng rng_p, rng_v{0x0123456789abcdefULL};
  spake2plus_prover prover;
  spake2plus_verifier verifier;
  std::array<std::uint8_t, 65> share_p{}, share_v{};
  std::array<std::uint8_t, 32> confirm_v{}, confirm_p{};
  REQUIRE_FALSE(prover.start(text(prover_context), text(prover_id), text(verifier_id), secret,
                             rng_p.source(), share_p));
  REQUIRE_FALSE(verifier.respond(text(context), text(controller_fp), text(accessory_fp), v, share_p,
                                 rng_v.source(), share_v, confirm_v));
  r.prover_ec = prover.finish(share_v, confirm_v, confirm_p, r.prover_key);
  if (!r.prover_ec) r.verifier_ec = verifier.finish(confirm_p, r.verifier_key);
  return r;
}

} // namespace

TEST_CASE("M and N are RFC 9383's compressed P-256 constants, uncompressed") {
  const auto m = from_hex(rfc::M_compressed);
  const auto n = from_hex(rfc::N_compressed);
  const auto& M = detail::spake2plus_m;
  const auto& N = detail::spake2plus_n;
  CHECK(M[0] == 0x04);
  CHECK(N[0] == 0x04);
  // Same X coordinate; the parity of Y is what the 02/03 prefix says (02: even, 03: odd).
  CHECK(std::vector<std::uint8_t>(M.begin() + 1, M.begin() + 33) ==
        std::vector<std::uint8_t>(m.begin() + 1, m.end()));
  CHECK(std::vector<std::uint8_t>(N.begin() + 1, N.begin() + 33) ==
        std::vector<std::uint8_t>(n.begin() + 1, n.end()));
  CHECK((M[64] & 1) == (m[0] & 1));
  CHECK((N[64] & 1) == (n[0] & 1));
  // And they are the points the RFC's transcript carries, byte for byte.
  const auto tt = from_hex(rfc::TT);
  const std::size_t m_at = 8 + 56 + 8 + 6 + 8 + 6 + 8;
  CHECK(std::vector<std::uint8_t>(tt.begin() + m_at, tt.begin() + m_at + 65) == vec(M));
  CHECK(std::vector<std::uint8_t>(tt.begin() + m_at + 65 + 8, tt.begin() + m_at + 130 + 8) ==
        vec(N));
}

TEST_CASE("RFC 9383 Appendix C: P256-SHA256-HKDF-SHA256-HMAC-SHA256, every value") {
  const spake2plus_prover_secret secret = rfc_secret();
  CHECK(vec(secret.w0) == from_hex(rfc::w0));
  CHECK(vec(secret.w1) == from_hex(rfc::w1));

  // Registration: L = w1*P.
  spake2plus_verifier_data v;
  REQUIRE_FALSE(spake2plus_make_verifier(secret, v));
  CHECK(vec(v.w0) == from_hex(rfc::w0));
  CHECK(vec(v.L) == from_hex(rfc::L));

  // Z and V, computed by each side.
  detail::spake2plus_zv prover_zv, verifier_zv;
  REQUIRE_FALSE(
      detail::spake2plus_prover_zv(secret, from_hex(rfc::x), from_hex(rfc::share_v), prover_zv));
  CHECK(vec(prover_zv.Z) == from_hex(rfc::Z));
  CHECK(vec(prover_zv.V) == from_hex(rfc::V));
  REQUIRE_FALSE(
      detail::spake2plus_verifier_zv(v, from_hex(rfc::y), from_hex(rfc::share_p), verifier_zv));
  CHECK(vec(verifier_zv.Z) == from_hex(rfc::Z));
  CHECK(vec(verifier_zv.V) == from_hex(rfc::V));

  // The transcript as the RFC prints it hashes to K_main...
  std::array<std::uint8_t, 32> tt_hash{};
  REQUIRE_FALSE(sha256({from_hex(rfc::TT)}, tt_hash));
  CHECK(vec(tt_hash) == from_hex(rfc::K_main));

  // ...and so does the transcript built from its parts; then the key schedule.
  detail::spake2plus_keys keys;
  REQUIRE_FALSE(detail::spake2plus_key_schedule(
      text(rfc::context), text(rfc::id_prover), text(rfc::id_verifier), from_hex(rfc::share_p),
      from_hex(rfc::share_v), prover_zv, secret.w0, keys));
  CHECK(vec(keys.K_main) == from_hex(rfc::K_main));
  CHECK(vec(keys.K_confirmP) == from_hex(rfc::K_confirmP));
  CHECK(vec(keys.K_confirmV) == from_hex(rfc::K_confirmV));
  CHECK(vec(keys.K_shared) == from_hex(rfc::K_shared));

  std::array<std::uint8_t, 32> mac{};
  REQUIRE_FALSE(hmac_sha256(keys.K_confirmP, {from_hex(rfc::share_v)}, mac));
  CHECK(vec(mac) == from_hex(rfc::confirm_p));
  REQUIRE_FALSE(hmac_sha256(keys.K_confirmV, {from_hex(rfc::share_p)}, mac));
  CHECK(vec(mac) == from_hex(rfc::confirm_v));

  // The same exchange through the two objects, message by message.
  spake2plus_prover prover;
  spake2plus_verifier verifier;
  std::array<std::uint8_t, 65> share_p{}, share_v{};
  std::array<std::uint8_t, 32> confirm_v{}, confirm_p{}, prover_key{}, verifier_key{};
  REQUIRE_FALSE(prover.start_with_scalar(text(rfc::context), text(rfc::id_prover),
                                         text(rfc::id_verifier), secret, from_hex(rfc::x),
                                         share_p));
  CHECK(vec(share_p) == from_hex(rfc::share_p));
  REQUIRE_FALSE(verifier.respond_with_scalar(text(rfc::context), text(rfc::id_prover),
                                             text(rfc::id_verifier), v, share_p, from_hex(rfc::y),
                                             share_v, confirm_v));
  CHECK(vec(share_v) == from_hex(rfc::share_v));
  CHECK(vec(confirm_v) == from_hex(rfc::confirm_v));
  REQUIRE_FALSE(prover.finish(share_v, confirm_v, confirm_p, prover_key));
  CHECK(vec(confirm_p) == from_hex(rfc::confirm_p));
  CHECK(vec(prover_key) == from_hex(rfc::K_shared));
  REQUIRE_FALSE(verifier.finish(confirm_p, verifier_key));
  CHECK(vec(verifier_key) == from_hex(rfc::K_shared));
}

TEST_CASE("spake2plus_derive is PBKDF2-HMAC-SHA256 to 80 bytes, each half reduced mod n") {
  // Computed independently (Python hashlib.pbkdf2_hmac and int % n).
  const auto ws = from_hex("5b6f336d4670bea5bbc456e52012858206dbf7e802730dbbf765c022728f1dc6"
                           "f331d89210a81f6dfc5e26fc7a09865beb3c454fe2e9f34813bfff8bf56ee35f"
                           "673058b1f31fdaffbda4c1223dd32457");
  spake2plus_prover_secret s;
  REQUIRE_FALSE(spake2plus_derive(text("20202021"), text("SPAKE2P Key Salt"), 1000, s));
  CHECK(vec(s.w0) == from_hex("0235158a7e32936f1ed302204ee64f822e02e13a0119a998ca623e312976c86a"));
  CHECK(vec(s.w1) == from_hex("6545cbaa6c8245f055e54e311ebd7930c0e3ee20a64b38135db4236821ef937f"));

  spake2plus_prover_secret from_ws;
  const bytes_view all = ws;
  REQUIRE_FALSE(spake2plus_secret_from_ws(all.first(spake2plus_ws_size),
                                          all.subspan(spake2plus_ws_size), from_ws));
  CHECK(from_ws.w0 == s.w0);
  CHECK(from_ws.w1 == s.w1);

  // Another salt, another secret.
  spake2plus_prover_secret other;
  REQUIRE_FALSE(spake2plus_derive(text("20202021"), text("SPAKE2P Key Salu"), 1000, other));
  CHECK(other.w0 != s.w0);
}

TEST_CASE("a full exchange with the right code gives both sides the same key") {
  const auto secret = derive("12345678");
  spake2plus_verifier_data v;
  REQUIRE_FALSE(spake2plus_make_verifier(secret, v));
  const exchange_result r = run(secret, v);
  REQUIRE_FALSE(r.prover_ec);
  REQUIRE_FALSE(r.verifier_ec);
  CHECK(r.prover_key == r.verifier_key);
  CHECK_FALSE(all_zero(r.prover_key));
}

TEST_CASE("prepare() then respond() sends what respond() alone sends for the same y") {
  const auto secret = derive("12345678");
  spake2plus_verifier_data v;
  REQUIRE_FALSE(spake2plus_make_verifier(secret, v));
  test_rng rng_p;
  spake2plus_prover prover;
  std::array<std::uint8_t, 65> share_p{};
  REQUIRE_FALSE(prover.start(text(context), text(controller_fp), text(accessory_fp), secret,
                             rng_p.source(), share_p));

  // The same random stream: y is its first draw either way.
  test_rng alone_rng{7}, prepared_rng{7}, respond_rng{99};
  spake2plus_verifier alone, prepared;
  std::array<std::uint8_t, 65> share_alone{}, share_prepared{};
  std::array<std::uint8_t, 32> confirm_alone{}, confirm_prepared{};
  REQUIRE_FALSE(alone.respond(text(context), text(controller_fp), text(accessory_fp), v, share_p,
                              alone_rng.source(), share_alone, confirm_alone));
  REQUIRE_FALSE(prepared.prepare(v, prepared_rng.source()));
  CHECK(prepared.prepare(v, prepared_rng.source()) == crypto_errc::wrong_state);
  REQUIRE_FALSE(prepared.respond(text(context), text(controller_fp), text(accessory_fp), v, share_p,
                                 respond_rng.source(), share_prepared, confirm_prepared));
  CHECK(share_prepared == share_alone);
  CHECK(confirm_prepared == confirm_alone);

  std::array<std::uint8_t, 32> confirm_p{}, key_p{}, key_v{};
  REQUIRE_FALSE(prover.finish(share_prepared, confirm_prepared, confirm_p, key_p));
  REQUIRE_FALSE(prepared.finish(confirm_p, key_v));
  CHECK(key_p == key_v);
}

TEST_CASE("a prepared verifier refuses another record, a given y and a wrong code") {
  const auto right = derive("12345678");
  spake2plus_verifier_data v, other;
  REQUIRE_FALSE(spake2plus_make_verifier(right, v));
  REQUIRE_FALSE(spake2plus_make_verifier(derive("87654321"), other));
  test_rng rng_p, rng_v{5};
  std::array<std::uint8_t, 65> share_p{}, share_v{};
  std::array<std::uint8_t, 32> confirm_v{}, confirm_p{}, key{};
  {
    spake2plus_prover prover;
    REQUIRE_FALSE(prover.start(text(context), text(controller_fp), text(accessory_fp), right,
                               rng_p.source(), share_p));
  }
  SECTION("another record: bad_input, and the exchange is over") {
    spake2plus_verifier verifier;
    REQUIRE_FALSE(verifier.prepare(v, rng_v.source()));
    share_v.fill(0xee);
    CHECK(verifier.respond(text(context), text(controller_fp), text(accessory_fp), other, share_p,
                           rng_v.source(), share_v, confirm_v) == crypto_errc::bad_input);
    CHECK(all_zero(share_v));
    CHECK(verifier.respond(text(context), text(controller_fp), text(accessory_fp), v, share_p,
                           rng_v.source(), share_v, confirm_v) == crypto_errc::wrong_state);
  }
  SECTION("a given y after prepare() is wrong_state") {
    spake2plus_verifier verifier;
    REQUIRE_FALSE(verifier.prepare(v, rng_v.source()));
    const auto y = from_hex(rfc::y);
    CHECK(verifier.respond_with_scalar(text(context), text(controller_fp), text(accessory_fp), v,
                                       share_p, y, share_v, confirm_v) == crypto_errc::wrong_state);
  }
  SECTION("a bad record or no random source fails prepare() itself") {
    spake2plus_verifier_data corrupt = v;
    corrupt.L[10] ^= 1;
    spake2plus_verifier a, b;
    CHECK(a.prepare(corrupt, rng_v.source()) == crypto_errc::bad_input);
    CHECK(b.prepare(v, random_source{}) == crypto_errc::bad_input);
  }
  SECTION("a wrong code still fails at the prover") {
    spake2plus_prover prover;
    spake2plus_verifier verifier;
    REQUIRE_FALSE(verifier.prepare(v, rng_v.source()));
    REQUIRE_FALSE(prover.start(text(context), text(controller_fp), text(accessory_fp),
                               derive("12345679"), rng_p.source(), share_p));
    REQUIRE_FALSE(verifier.respond(text(context), text(controller_fp), text(accessory_fp), v,
                                   share_p, rng_v.source(), share_v, confirm_v));
    CHECK(prover.finish(share_v, confirm_v, confirm_p, key) == crypto_errc::confirmation_mismatch);
  }
}

TEST_CASE("an exchange with system_random: fresh shares and keys every time") {
  const auto secret = derive("12345678");
  spake2plus_verifier_data v;
  REQUIRE_FALSE(spake2plus_make_verifier(secret, v));
  std::array<std::uint8_t, 65> first_share{};
  std::array<std::uint8_t, 32> first_key{};
  for (int round = 0; round < 2; ++round) {
    spake2plus_prover prover;
    spake2plus_verifier verifier;
    std::array<std::uint8_t, 65> share_p{}, share_v{};
    std::array<std::uint8_t, 32> confirm_v{}, confirm_p{}, key_p{}, key_v{};
    REQUIRE_FALSE(prover.start(text(context), text(controller_fp), text(accessory_fp), secret,
                               system_random(), share_p));
    REQUIRE_FALSE(verifier.respond(text(context), text(controller_fp), text(accessory_fp), v,
                                   share_p, system_random(), share_v, confirm_v));
    REQUIRE_FALSE(prover.finish(share_v, confirm_v, confirm_p, key_p));
    REQUIRE_FALSE(verifier.finish(confirm_p, key_v));
    CHECK(key_p == key_v);
    if (round == 0) {
      first_share = share_p;
      first_key = key_p;
    } else {
      CHECK(share_p != first_share);
      CHECK(key_p != first_key);
    }
  }
}

TEST_CASE("a wrong code fails at the prover, before it reveals anything") {
  const auto right = derive("12345678");
  const auto wrong = derive("12345679");
  spake2plus_verifier_data v;
  REQUIRE_FALSE(spake2plus_make_verifier(right, v));

  spake2plus_prover prover;
  spake2plus_verifier verifier;
  test_rng rng_p, rng_v{42};
  std::array<std::uint8_t, 65> share_p{}, share_v{};
  std::array<std::uint8_t, 32> confirm_v{}, confirm_p{}, key{};
  confirm_p.fill(0xee);
  key.fill(0xee);
  REQUIRE_FALSE(prover.start(text(context), text(controller_fp), text(accessory_fp), wrong,
                             rng_p.source(), share_p));
  REQUIRE_FALSE(verifier.respond(text(context), text(controller_fp), text(accessory_fp), v, share_p,
                                 rng_v.source(), share_v, confirm_v));
  CHECK(prover.finish(share_v, confirm_v, confirm_p, key) == crypto_errc::confirmation_mismatch);
  CHECK(all_zero(confirm_p));
  CHECK(all_zero(key));
  // The exchange is over for the prover.
  CHECK(prover.finish(share_v, confirm_v, confirm_p, key) == crypto_errc::wrong_state);
}

TEST_CASE("a forged confirmP fails at the verifier") {
  const auto secret = derive("12345678");
  spake2plus_verifier_data v;
  REQUIRE_FALSE(spake2plus_make_verifier(secret, v));

  auto attempt = [&](auto forge) {
    spake2plus_prover prover;
    spake2plus_verifier verifier;
    test_rng rng_p, rng_v{7};
    std::array<std::uint8_t, 65> share_p{}, share_v{};
    std::array<std::uint8_t, 32> confirm_v{}, confirm_p{}, key_p{}, key_v{};
    REQUIRE_FALSE(prover.start(text(context), text(controller_fp), text(accessory_fp), secret,
                               rng_p.source(), share_p));
    REQUIRE_FALSE(verifier.respond(text(context), text(controller_fp), text(accessory_fp), v,
                                   share_p, rng_v.source(), share_v, confirm_v));
    REQUIRE_FALSE(prover.finish(share_v, confirm_v, confirm_p, key_p));
    forge(confirm_p, confirm_v);
    key_v.fill(0xee);
    const std::error_code ec = verifier.finish(confirm_p, key_v);
    CHECK(all_zero(key_v));
    CHECK(verifier.finish(confirm_p, key_v) == crypto_errc::wrong_state);
    return ec;
  };
  using tag = std::array<std::uint8_t, 32>;
  CHECK(attempt([](tag& p, const tag&) { p[31] ^= 1; }) == crypto_errc::confirmation_mismatch);
  CHECK(attempt([](tag& p, const tag&) { p.fill(0); }) == crypto_errc::confirmation_mismatch);
  // Reflecting the verifier's own confirmation back does not work either.
  CHECK(attempt([](tag& p, const tag& v_tag) { p = v_tag; }) == crypto_errc::confirmation_mismatch);
}

TEST_CASE("different contexts or identities on the two sides fail confirmation") {
  const auto secret = derive("12345678");
  spake2plus_verifier_data v;
  REQUIRE_FALSE(spake2plus_make_verifier(secret, v));
  CHECK(run(secret, v, "lanyard pairing v2 0123456789abcdef0123456789abcdef").prover_ec ==
        crypto_errc::confirmation_mismatch);
  CHECK(run(secret, v, context, "someone-else").prover_ec == crypto_errc::confirmation_mismatch);
  CHECK(run(secret, v, context, controller_fp, "another-accessory").prover_ec ==
        crypto_errc::confirmation_mismatch);
  // Swapped roles are different identities too.
  CHECK(run(secret, v, context, accessory_fp, controller_fp).prover_ec ==
        crypto_errc::confirmation_mismatch);
  // An identity moved into the context is not the same transcript (length prefixes).
  CHECK(run(secret, v, std::string(context) + std::string(controller_fp), "", accessory_fp)
            .prover_ec == crypto_errc::confirmation_mismatch);
}

namespace {

// Encodings that are not an acceptable point; `genuine` is a valid share to tamper with.
std::vector<std::vector<std::uint8_t>> bad_points(const std::vector<std::uint8_t>& genuine) {
  std::vector<std::vector<std::uint8_t>> bad;
  bad.push_back({});                                   // nothing
  bad.push_back({0x00});                               // SEC1's encoding of the identity
  bad.push_back(std::vector<std::uint8_t>(65, 0));     // zeros
  bad.push_back(from_hex(rfc::M_compressed));          // a valid point, compressed
  bad.push_back({genuine.begin(), genuine.end() - 1}); // 64 bytes
  auto longer = genuine;                               // 66 bytes
  longer.push_back(0);
  bad.push_back(longer);
  auto off_curve = genuine; // Y changed: not on the curve
  off_curve[64] ^= 1;
  bad.push_back(off_curve);
  auto hybrid = genuine; // SEC1's hybrid form of a valid point
  hybrid[0] = static_cast<std::uint8_t>(0x06 | (genuine[64] & 1));
  bad.push_back(hybrid);
  auto origin = std::vector<std::uint8_t>(65, 0); // (0, 0)
  origin[0] = 0x04;
  bad.push_back(origin);
  auto big_x = genuine; // X = p, out of the field
  const auto p = from_hex(prime_p);
  std::copy(p.begin(), p.end(), big_x.begin() + 1);
  bad.push_back(big_x);
  return bad;
}

} // namespace

TEST_CASE("a tampered shareP is bad_point at the verifier, and ends the exchange") {
  const auto v = rfc_verifier();
  auto cases = bad_points(from_hex(rfc::share_p));
  // w0*M: X - w0*M would be the identity (computed independently, for the RFC's w0).
  cases.push_back(from_hex("043a04152acf75cc407d2be034241cd0425ac5d85571f009635a0370cdf234ccd6"
                           "202ef6b1062332f92256373f0b0795d3763942e7d1a596652b1dac85c3b0dec5"));
  for (std::size_t i = 0; i < cases.size(); ++i) {
    CAPTURE(i);
    spake2plus_verifier verifier;
    test_rng rng;
    std::array<std::uint8_t, 65> share_v{};
    std::array<std::uint8_t, 32> confirm_v{}, key{};
    share_v.fill(0xee);
    confirm_v.fill(0xee);
    CHECK(verifier.respond(text(rfc::context), text(rfc::id_prover), text(rfc::id_verifier), v,
                           cases[i], rng.source(), share_v, confirm_v) == crypto_errc::bad_point);
    CHECK(all_zero(share_v));
    CHECK(all_zero(confirm_v));
    CHECK(verifier.finish(confirm_v, key) == crypto_errc::wrong_state);
  }
}

TEST_CASE("a tampered shareV is bad_point at the prover, and ends the exchange") {
  const auto secret = rfc_secret();
  auto cases = bad_points(from_hex(rfc::share_v));
  // w0*N: Y - w0*N would be the identity.
  cases.push_back(from_hex("048b58955995f4f1a52bb5340107501a94844fc53c4b9fab949c74a3d320144eba"
                           "e45beca1d2b0a7785a5737dc1779bbd5c5619788e05284f4eaa2174f6eec1543"));
  const auto confirm_v = from_hex(rfc::confirm_v);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    CAPTURE(i);
    spake2plus_prover prover;
    std::array<std::uint8_t, 65> share_p{};
    std::array<std::uint8_t, 32> confirm_p{}, key{};
    REQUIRE_FALSE(prover.start_with_scalar(text(rfc::context), text(rfc::id_prover),
                                           text(rfc::id_verifier), secret, from_hex(rfc::x),
                                           share_p));
    CHECK(prover.finish(cases[i], confirm_v, confirm_p, key) == crypto_errc::bad_point);
    CHECK(all_zero(confirm_p));
    CHECK(all_zero(key));
    CHECK(prover.finish(from_hex(rfc::share_v), confirm_v, confirm_p, key) ==
          crypto_errc::wrong_state);
  }
}

TEST_CASE("calls out of order are wrong_state and leave a running exchange alone") {
  const auto secret = rfc_secret();
  const auto v = rfc_verifier();
  const auto x = from_hex(rfc::x);
  const auto y = from_hex(rfc::y);
  std::array<std::uint8_t, 65> share_p{}, share_v{}, scratch65{};
  std::array<std::uint8_t, 32> confirm_v{}, confirm_p{}, key_p{}, key_v{}, scratch32{};

  spake2plus_prover prover;
  spake2plus_verifier verifier;
  CHECK(prover.finish(from_hex(rfc::share_v), from_hex(rfc::confirm_v), confirm_p, key_p) ==
        crypto_errc::wrong_state);
  CHECK(verifier.finish(from_hex(rfc::confirm_p), key_v) == crypto_errc::wrong_state);

  REQUIRE_FALSE(prover.start_with_scalar(text(rfc::context), text(rfc::id_prover),
                                         text(rfc::id_verifier), secret, x, share_p));
  CHECK(prover.start_with_scalar(text(rfc::context), text(rfc::id_prover), text(rfc::id_verifier),
                                 secret, x, scratch65) == crypto_errc::wrong_state);
  test_rng rng;
  CHECK(prover.start(text(rfc::context), text(rfc::id_prover), text(rfc::id_verifier), secret,
                     rng.source(), scratch65) == crypto_errc::wrong_state);

  REQUIRE_FALSE(verifier.respond_with_scalar(text(rfc::context), text(rfc::id_prover),
                                             text(rfc::id_verifier), v, share_p, y, share_v,
                                             confirm_v));
  CHECK(verifier.respond(text(rfc::context), text(rfc::id_prover), text(rfc::id_verifier), v,
                         share_p, rng.source(), scratch65, scratch32) == crypto_errc::wrong_state);

  // The exchange that was running still completes, with the RFC's values.
  REQUIRE_FALSE(prover.finish(share_v, confirm_v, confirm_p, key_p));
  REQUIRE_FALSE(verifier.finish(confirm_p, key_v));
  CHECK(vec(key_p) == from_hex(rfc::K_shared));
  CHECK(key_p == key_v);

  // And then both are done.
  CHECK(prover.finish(share_v, confirm_v, confirm_p, key_p) == crypto_errc::wrong_state);
  CHECK(all_zero(key_p));
  CHECK(verifier.finish(confirm_p, key_v) == crypto_errc::wrong_state);
  CHECK(all_zero(key_v));
  CHECK(prover.start_with_scalar(text(rfc::context), text(rfc::id_prover), text(rfc::id_verifier),
                                 secret, x, share_p) == crypto_errc::wrong_state);
}

TEST_CASE("bad arguments are bad_input, and end the exchange") {
  const auto secret = rfc_secret();
  const auto v = rfc_verifier();
  std::array<std::uint8_t, 65> share{};
  std::array<std::uint8_t, 32> confirm{}, key{};
  const auto zero32 = std::vector<std::uint8_t>(32, 0);
  const auto n = from_hex(order_n);

  SECTION("a random_source without a function") {
    spake2plus_prover prover;
    CHECK(prover.start(text(context), {}, {}, secret, random_source{}, share) ==
          crypto_errc::bad_input);
    test_rng rng;
    CHECK(prover.start(text(context), {}, {}, secret, rng.source(), share) ==
          crypto_errc::wrong_state);
    spake2plus_verifier verifier;
    CHECK(verifier.respond(text(context), {}, {}, v, from_hex(rfc::share_p), random_source{}, share,
                           confirm) == crypto_errc::bad_input);
  }
  SECTION("x or y not a scalar in [1, n-1]") {
    const std::vector<std::vector<std::uint8_t>> bad = {
        {}, std::vector<std::uint8_t>(31, 1), std::vector<std::uint8_t>(33, 1), zero32, n};
    for (const auto& s : bad) {
      spake2plus_prover prover;
      CHECK(prover.start_with_scalar(text(context), {}, {}, secret, s, share) ==
            crypto_errc::bad_input);
      CHECK(all_zero(share));
      spake2plus_verifier verifier;
      CHECK(verifier.respond_with_scalar(text(context), {}, {}, v, from_hex(rfc::share_p), s, share,
                                         confirm) == crypto_errc::bad_input);
    }
  }
  SECTION("a secret or verifier record out of range") {
    spake2plus_prover_secret zero_w0 = secret;
    zero_w0.w0.fill(0);
    spake2plus_prover_secret big_w1 = secret;
    big_w1.w1 = to_array<32>(n);
    test_rng rng;
    for (const auto* s : {&zero_w0, &big_w1}) {
      spake2plus_prover prover;
      CHECK(prover.start(text(context), {}, {}, *s, rng.source(), share) == crypto_errc::bad_input);
      spake2plus_verifier_data out;
      CHECK(spake2plus_make_verifier(*s, out) == crypto_errc::bad_input);
      CHECK(all_zero(out.L));
    }
    spake2plus_verifier_data corrupt_l = v;
    corrupt_l.L[10] ^= 1;
    spake2plus_verifier_data zero_w0_v = v;
    zero_w0_v.w0.fill(0);
    for (const auto* record : {&corrupt_l, &zero_w0_v}) {
      spake2plus_verifier verifier;
      CHECK(verifier.respond(text(context), {}, {}, *record, from_hex(rfc::share_p), rng.source(),
                             share, confirm) == crypto_errc::bad_input);
    }
  }
  SECTION("a confirmation of the wrong size") {
    spake2plus_prover prover;
    REQUIRE_FALSE(prover.start_with_scalar(text(rfc::context), text(rfc::id_prover),
                                           text(rfc::id_verifier), secret, from_hex(rfc::x),
                                           share));
    auto short_confirm = from_hex(rfc::confirm_v);
    short_confirm.pop_back();
    CHECK(prover.finish(from_hex(rfc::share_v), short_confirm, confirm, key) ==
          crypto_errc::bad_input);

    spake2plus_verifier verifier;
    REQUIRE_FALSE(verifier.respond_with_scalar(text(rfc::context), text(rfc::id_prover),
                                               text(rfc::id_verifier), v, from_hex(rfc::share_p),
                                               from_hex(rfc::y), share, confirm));
    auto long_confirm = from_hex(rfc::confirm_p);
    long_confirm.push_back(0);
    CHECK(verifier.finish(long_confirm, key) == crypto_errc::bad_input);
    CHECK(verifier.finish(from_hex(rfc::confirm_p), key) == crypto_errc::wrong_state);
  }
  SECTION("derivation inputs") {
    spake2plus_prover_secret out;
    CHECK(spake2plus_derive({}, text(salt), 1000, out) == crypto_errc::bad_input);
    CHECK(spake2plus_derive(text("1234"), text(salt), 0, out) == crypto_errc::bad_input);
    CHECK(spake2plus_secret_from_ws(std::vector<std::uint8_t>(31, 1), from_hex(rfc::w1), out) ==
          crypto_errc::bad_input);
    CHECK(spake2plus_secret_from_ws(from_hex(rfc::w0), std::vector<std::uint8_t>(65, 1), out) ==
          crypto_errc::bad_input);
    // n mod n == 0, which is no scalar.
    CHECK(spake2plus_secret_from_ws(n, from_hex(rfc::w1), out) == crypto_errc::bad_input);
    CHECK(all_zero(out.w0));
    CHECK(all_zero(out.w1));
    // 64-byte halves are fine.
    CHECK_FALSE(spake2plus_secret_from_ws(std::vector<std::uint8_t>(64, 0xff),
                                          std::vector<std::uint8_t>(64, 0xff), out));
  }
}

TEST_CASE("a failing random source is random_failure") {
  const auto secret = rfc_secret();
  const auto v = rfc_verifier();
  std::array<std::uint8_t, 65> share_p{}, share_v{};
  std::array<std::uint8_t, 32> confirm_v{}, confirm_p{}, key{};

  test_rng broken;
  broken.fail = true;
  spake2plus_prover prover;
  CHECK(prover.start(text(context), {}, {}, secret, broken.source(), share_p) ==
        crypto_errc::random_failure);
  spake2plus_verifier verifier;
  CHECK(verifier.respond(text(context), {}, {}, v, from_hex(rfc::share_p), broken.source(), share_v,
                         confirm_v) == crypto_errc::random_failure);

  // The prover's source also blinds finish(): it must still work then.
  test_rng flaky;
  spake2plus_prover later;
  REQUIRE_FALSE(later.start(text(context), {}, {}, secret, flaky.source(), share_p));
  flaky.fail = true;
  CHECK(later.finish(from_hex(rfc::share_v), from_hex(rfc::confirm_v), confirm_p, key) ==
        crypto_errc::random_failure);
}

TEST_CASE("the secret types wipe themselves") {
  alignas(spake2plus_prover_secret) unsigned char storage[sizeof(spake2plus_prover_secret)];
  auto* s = new (storage) spake2plus_prover_secret;
  s->w0.fill(0xaa);
  s->w1.fill(0xbb);
  s->~spake2plus_prover_secret();
  // Reading the bytes of a destroyed object through unsigned char is allowed.
  bool all_zeroed = true;
  for (unsigned char b : storage)
    all_zeroed = all_zeroed && b == 0;
  CHECK(all_zeroed);
}
