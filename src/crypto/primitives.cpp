#include "lanyard/crypto/primitives.hpp"

#include <mbedtls/entropy.h>
#include <mbedtls/hkdf.h>
#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>
// mbedTLS 2.28's constant_time.h, unlike its other headers, has no extern "C" guard.
extern "C" {
#include <mbedtls/constant_time.h>
}

// Hosts with getrandom(2) (Linux; bare-metal toolchains such as arm-none-eabi's newlib have no
// <sys/random.h>): there, firmware passes its platform's source and system_random() fails.
#if __has_include(<sys/random.h>)
#include <sys/random.h>
#define LANYARD_HAVE_GETRANDOM 1
#endif

#include <algorithm>
#include <array>
#include <cerrno>
#include <limits>

namespace lanyard::crypto {
namespace {

constexpr std::size_t sha256_size = 32;
// RFC 5869 section 2.3: L <= 255 * HashLen.
constexpr std::size_t hkdf_sha256_max_output = 255 * sha256_size;

const mbedtls_md_info_t* sha256_info() noexcept {
  return mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
}

// An mbedtls_md_context_t that is freed (and so wiped: mbedTLS zeroizes the HMAC pads and hash
// state on free) on every path out of a function.
class md_context {
public:
  md_context() noexcept { mbedtls_md_init(&ctx_); }
  ~md_context() { mbedtls_md_free(&ctx_); }
  md_context(const md_context&) = delete;
  md_context& operator=(const md_context&) = delete;

  // Sets up SHA-256 with HMAC; false if mbedTLS fails (allocation, or SHA-256 compiled out).
  bool setup_hmac() noexcept {
    const mbedtls_md_info_t* info = sha256_info();
    return info != nullptr && mbedtls_md_setup(&ctx_, info, 1) == 0;
  }
  mbedtls_md_context_t* get() noexcept { return &ctx_; }

private:
  mbedtls_md_context_t ctx_;
};

class sha256_context {
public:
  sha256_context() noexcept { mbedtls_sha256_init(&ctx_); }
  ~sha256_context() { mbedtls_sha256_free(&ctx_); }
  sha256_context(const sha256_context&) = delete;
  sha256_context& operator=(const sha256_context&) = delete;
  mbedtls_sha256_context* get() noexcept { return &ctx_; }

private:
  mbedtls_sha256_context ctx_;
};

std::error_code fail(std::span<std::uint8_t> out, crypto_errc e) noexcept {
  wipe(out);
  return e;
}

#if defined(LANYARD_HAVE_GETRANDOM)
int getrandom_fill(void* /*ctx*/, unsigned char* out, std::size_t len) {
  while (len > 0) {
    const ssize_t n = ::getrandom(out, len, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
    }
    out += n;
    len -= static_cast<std::size_t>(n);
  }
  return 0;
}
#else
// No system source to fall back on: a caller that forgot to pass its platform's gets an error
// from the first key or nonce it asks for, never predictable bytes.
int getrandom_fill(void* /*ctx*/, unsigned char* /*out*/, std::size_t /*len*/) {
  return MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
}
#endif

} // namespace

std::error_code hmac_sha256(bytes_view key, std::initializer_list<bytes_view> parts,
                            std::span<std::uint8_t, 32> out) noexcept {
  md_context md;
  if (!md.setup_hmac() || mbedtls_md_hmac_starts(md.get(), key.data(), key.size()) != 0)
    return fail(out, crypto_errc::mbedtls_failure);
  for (bytes_view part : parts) {
    if (!part.empty() && mbedtls_md_hmac_update(md.get(), part.data(), part.size()) != 0)
      return fail(out, crypto_errc::mbedtls_failure);
  }
  if (mbedtls_md_hmac_finish(md.get(), out.data()) != 0)
    return fail(out, crypto_errc::mbedtls_failure);
  return {};
}

std::error_code hkdf_sha256(bytes_view salt, bytes_view ikm, bytes_view info,
                            std::span<std::uint8_t> out) noexcept {
  if (out.empty() || out.size() > hkdf_sha256_max_output) return fail(out, crypto_errc::bad_input);
  const mbedtls_md_info_t* md = sha256_info();
  if (md == nullptr) return fail(out, crypto_errc::mbedtls_failure);
  // mbedTLS reads a null salt as "HashLen zeros"; an empty non-null one gives the same HMAC key
  // (keys are zero-padded to the block size), but say what RFC 5869 means explicitly.
  const unsigned char* salt_ptr = salt.empty() ? nullptr : salt.data();
  if (mbedtls_hkdf(md, salt_ptr, salt.size(), ikm.data(), ikm.size(), info.data(), info.size(),
                   out.data(), out.size()) != 0)
    return fail(out, crypto_errc::mbedtls_failure);
  return {};
}

// PBKDF2-HMAC-SHA256 with the HMAC's two pad blocks hashed once, not once per iteration:
// mbedtls_pkcs5_pbkdf2_hmac() restarts HMAC for every U_j, four SHA-256 compressions where two
// do, and setup-code pairing runs 3 x 1,000 iterations on the app's side while the user waits.
// The unit tests check it against RFC 7914's vectors and against mbedTLS's own.
std::error_code pbkdf2_hmac_sha256(bytes_view password, bytes_view salt, std::uint32_t iterations,
                                   std::span<std::uint8_t> out) noexcept {
  if (iterations == 0 || out.empty() || out.size() > std::numeric_limits<std::uint32_t>::max())
    return fail(out, crypto_errc::bad_input);
  constexpr std::size_t block = 64; // SHA-256's input block
  std::array<std::uint8_t, block> key{}, pad{};
  std::array<std::uint8_t, sha256_size> u{}, t{};
  sha256_context inner, outer, step;
  bool ok = true;
  // HMAC's key: the password, or its hash if it is longer than a block (RFC 2104).
  if (password.size() > block) {
    ok = mbedtls_sha256_ret(password.data(), password.size(), key.data(), 0) == 0;
  } else if (!password.empty()) {
    std::copy(password.begin(), password.end(), key.begin());
  }
  for (std::size_t i = 0; i < block; ++i)
    pad[i] = key[i] ^ 0x36;
  ok = ok && mbedtls_sha256_starts_ret(inner.get(), 0) == 0 &&
       mbedtls_sha256_update_ret(inner.get(), pad.data(), block) == 0;
  for (std::size_t i = 0; i < block; ++i)
    pad[i] = key[i] ^ 0x5c;
  ok = ok && mbedtls_sha256_starts_ret(outer.get(), 0) == 0 &&
       mbedtls_sha256_update_ret(outer.get(), pad.data(), block) == 0;
  // HMAC(key, message parts) from the hashed pads.
  auto hmac = [&](bytes_view first, bytes_view second) {
    mbedtls_sha256_clone(step.get(), inner.get());
    if (mbedtls_sha256_update_ret(step.get(), first.data(), first.size()) != 0 ||
        mbedtls_sha256_update_ret(step.get(), second.data(), second.size()) != 0 ||
        mbedtls_sha256_finish_ret(step.get(), u.data()) != 0)
      return false;
    mbedtls_sha256_clone(step.get(), outer.get());
    return mbedtls_sha256_update_ret(step.get(), u.data(), u.size()) == 0 &&
           mbedtls_sha256_finish_ret(step.get(), u.data()) == 0;
  };
  std::uint32_t index = 1;
  for (std::size_t at = 0; ok && at < out.size(); at += sha256_size, ++index) {
    // T_i = U_1 ^ ... ^ U_c, U_1 = PRF(P, S || INT(i)), U_j = PRF(P, U_{j-1}).
    const std::array<std::uint8_t, 4> be{
        static_cast<std::uint8_t>(index >> 24), static_cast<std::uint8_t>(index >> 16),
        static_cast<std::uint8_t>(index >> 8), static_cast<std::uint8_t>(index)};
    ok = hmac(salt, be);
    t = u;
    for (std::uint32_t j = 1; ok && j < iterations; ++j) {
      ok = hmac(u, {});
      for (std::size_t k = 0; k < sha256_size; ++k)
        t[k] ^= u[k];
    }
    const std::size_t n = std::min(sha256_size, out.size() - at);
    std::copy_n(t.begin(), n, out.begin() + static_cast<std::ptrdiff_t>(at));
  }
  wipe(key);
  wipe(pad);
  wipe(u);
  wipe(t);
  if (!ok) return fail(out, crypto_errc::mbedtls_failure);
  return {};
}

std::error_code sha256(std::initializer_list<bytes_view> parts,
                       std::span<std::uint8_t, 32> out) noexcept {
  sha256_context ctx;
  if (mbedtls_sha256_starts_ret(ctx.get(), 0) != 0) return fail(out, crypto_errc::mbedtls_failure);
  for (bytes_view part : parts) {
    if (!part.empty() && mbedtls_sha256_update_ret(ctx.get(), part.data(), part.size()) != 0)
      return fail(out, crypto_errc::mbedtls_failure);
  }
  if (mbedtls_sha256_finish_ret(ctx.get(), out.data()) != 0)
    return fail(out, crypto_errc::mbedtls_failure);
  return {};
}

bool equal_constant_time(bytes_view a, bytes_view b) noexcept {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return mbedtls_ct_memcmp(a.data(), b.data(), a.size()) == 0;
}

void wipe(std::span<std::uint8_t> secret) noexcept {
  if (!secret.empty()) mbedtls_platform_zeroize(secret.data(), secret.size());
}

random_source system_random() noexcept {
  return {&getrandom_fill, nullptr};
}

} // namespace lanyard::crypto
