// libFuzzer target for the SPAKE2+ objects: whatever a peer sends, never a crash, never a key.
// The input is split into a share and a confirmation, which go
//   - to a verifier, as shareP, and (if respond() accepts the point) as confirmP;
//   - to a prover that has started, as shareV and confirmV.
// Properties (a violation aborts, which libFuzzer reports as a crash):
//   - the prover's finish() always fails, with bad_input, bad_point or confirmation_mismatch
//     (a valid confirmV for a fresh x cannot be guessed), and zeroes its outputs;
//   - respond() accepts a share only if it is a point (65 bytes, 0x04 first); it fails with
//     bad_point otherwise; the verifier's finish() then always fails;
//   - after any of this, both objects answer wrong_state.
//
// Input layout: byte 0 is the length of the share (clamped to what is left), then the share,
// then the confirmation (the rest).
#include <lanyard/crypto/spake2plus.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string_view>

using namespace lanyard::crypto;

#define SPAKE2PLUS_FUZZ_CHECK(cond)                                                                \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      std::fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond);             \
      std::abort();                                                                                \
    }                                                                                              \
  } while (false)

namespace {

bytes_view text(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

template <std::size_t N>
bool all_zero(const std::array<std::uint8_t, N>& a) {
  return std::all_of(a.begin(), a.end(), [](std::uint8_t b) { return b == 0; });
}

// Deterministic randomness (splitmix64), so that a crash reproduces from its input alone.
struct fuzz_rng {
  std::uint64_t state = 0x5eed5eed5eed5eedULL;
  static int fill(void* ctx, unsigned char* out, std::size_t len) {
    auto* self = static_cast<fuzz_rng*>(ctx);
    for (std::size_t i = 0; i < len; ++i) {
      std::uint64_t z = (self->state += 0x9e3779b97f4a7c15ULL);
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      out[i] = static_cast<unsigned char>(z ^ (z >> 31));
    }
    return 0;
  }
  random_source source() { return {&fill, this}; }
};

constexpr std::string_view context = "lanyard pairing v1 fuzz";
constexpr std::string_view id_prover = "prover";
constexpr std::string_view id_verifier = "verifier";

// Derived once: PBKDF2 per input would only slow the fuzzer down.
struct fixture {
  spake2plus_prover_secret secret;
  spake2plus_verifier_data record;
  fixture() {
    SPAKE2PLUS_FUZZ_CHECK(
        !spake2plus_derive(text("12345678"), text("fuzz salt 0123456"), 1, secret));
    SPAKE2PLUS_FUZZ_CHECK(!spake2plus_make_verifier(secret, record));
  }
};

bool is_point_shaped(bytes_view share) {
  return share.size() == spake2plus_point_size && share[0] == 0x04;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  static const fixture fx;
  const bytes_view input(data + 1, size - 1);
  const std::size_t share_len = std::min<std::size_t>(data[0], input.size());
  const bytes_view share = input.first(share_len);
  const bytes_view confirm = input.subspan(share_len);

  // Verifier: the input as shareP, then as confirmP.
  {
    fuzz_rng rng;
    spake2plus_verifier verifier;
    std::array<std::uint8_t, spake2plus_point_size> share_v{};
    std::array<std::uint8_t, spake2plus_confirm_size> confirm_v{}, key{};
    const std::error_code ec = verifier.respond(text(context), text(id_prover), text(id_verifier),
                                                fx.record, share, rng.source(), share_v, confirm_v);
    if (ec) {
      SPAKE2PLUS_FUZZ_CHECK(ec == crypto_errc::bad_point);
      SPAKE2PLUS_FUZZ_CHECK(all_zero(share_v) && all_zero(confirm_v));
    } else {
      SPAKE2PLUS_FUZZ_CHECK(is_point_shaped(share));
      const std::error_code fin = verifier.finish(confirm, key);
      SPAKE2PLUS_FUZZ_CHECK(fin == crypto_errc::bad_input ||
                            fin == crypto_errc::confirmation_mismatch);
      SPAKE2PLUS_FUZZ_CHECK(all_zero(key));
    }
    SPAKE2PLUS_FUZZ_CHECK(verifier.finish(confirm, key) == crypto_errc::wrong_state);
  }

  // Prover: the input as shareV and confirmV.
  {
    fuzz_rng rng;
    spake2plus_prover prover;
    std::array<std::uint8_t, spake2plus_point_size> share_p{};
    std::array<std::uint8_t, spake2plus_confirm_size> confirm_p{}, key{};
    SPAKE2PLUS_FUZZ_CHECK(!prover.start(text(context), text(id_prover), text(id_verifier),
                                        fx.secret, rng.source(), share_p));
    const std::error_code ec = prover.finish(share, confirm, confirm_p, key);
    SPAKE2PLUS_FUZZ_CHECK(ec == crypto_errc::bad_input || ec == crypto_errc::bad_point ||
                          ec == crypto_errc::confirmation_mismatch);
    if (ec == crypto_errc::bad_point) SPAKE2PLUS_FUZZ_CHECK(confirm.size() == 32);
    if (ec == crypto_errc::confirmation_mismatch) SPAKE2PLUS_FUZZ_CHECK(is_point_shaped(share));
    SPAKE2PLUS_FUZZ_CHECK(all_zero(confirm_p) && all_zero(key));
    SPAKE2PLUS_FUZZ_CHECK(prover.finish(share, confirm, confirm_p, key) ==
                          crypto_errc::wrong_state);
  }
  return 0;
}
