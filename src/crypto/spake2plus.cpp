#include "lanyard/crypto/spake2plus.hpp"

#include <mbedtls/bignum.h>
#include <mbedtls/ecp.h>
#include <mbedtls/sha256.h>

#include <algorithm>
#include <new>
#include <string_view>

// RFC 9383 (SPAKE2+) with P256-SHA256-HKDF-SHA256-HMAC-SHA256. The cofactor h of P-256 is 1, so
// the "h*" of section 3.3 disappears and "in the prime-order subgroup" is "on the curve and not
// the identity", which mbedtls_ecp_check_pubkey() checks.
//
// Side channels: every multiplication by a secret scalar (x, y, w0, w1) goes through
// mbedtls_ecp_mul(), which runs in constant time and blinds with the caller's RNG (or, without
// one, an internal DRBG seeded from the scalar). mbedtls_ecp_muladd() would compute x*P + w0*M
// in one call but is documented as not constant-time, so it only ever adds two points (both
// scalars 1): then its one data-dependent branch is whether the points are equal or opposite,
// which for these points happens with negligible probability (and is rejected where a peer
// could force it).

namespace lanyard::crypto {
namespace {

bytes_view as_bytes(std::string_view s) noexcept {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

constexpr std::string_view confirmation_keys_info = "ConfirmationKeys";
constexpr std::string_view shared_key_info = "SharedKey";

// Hands a random_source to mbedTLS and remembers whether it failed, so that a failure of the
// source is reported as random_failure and not as whatever mbedTLS makes of it.
struct rng_adapter {
  random_source source;
  bool failed = false;

  using f_rng_type = int (*)(void*, unsigned char*, std::size_t);

  static int fill(void* self, unsigned char* out, std::size_t len) {
    auto* a = static_cast<rng_adapter*>(self);
    if (a->source.fill(a->source.ctx, out, len) == 0) return 0;
    a->failed = true;
    return MBEDTLS_ERR_ECP_RANDOM_FAILED;
  }
  // Without a source, mbedTLS's scalar multiplication blinds with its internal DRBG.
  f_rng_type f_rng() const noexcept { return source.fill != nullptr ? &fill : nullptr; }
  void* p_rng() noexcept { return source.fill != nullptr ? this : nullptr; }
};

std::error_code mbedtls_error(const rng_adapter* rng) noexcept {
  if (rng != nullptr && rng->failed) return crypto_errc::random_failure;
  return crypto_errc::mbedtls_failure;
}

// RAII for mbedTLS's C types. mbedtls_mpi_free() zeroizes the limbs, so freeing is wiping.
class mpi {
public:
  mpi() noexcept { mbedtls_mpi_init(&v_); }
  ~mpi() { mbedtls_mpi_free(&v_); }
  mpi(const mpi&) = delete;
  mpi& operator=(const mpi&) = delete;
  mbedtls_mpi* get() noexcept { return &v_; }
  const mbedtls_mpi* get() const noexcept { return &v_; }

private:
  mbedtls_mpi v_;
};

class point {
public:
  point() noexcept { mbedtls_ecp_point_init(&v_); }
  ~point() { mbedtls_ecp_point_free(&v_); }
  point(const point&) = delete;
  point& operator=(const point&) = delete;
  mbedtls_ecp_point* get() noexcept { return &v_; }
  const mbedtls_ecp_point* get() const noexcept { return &v_; }
  bool is_identity() const noexcept {
    return mbedtls_ecp_is_zero(const_cast<mbedtls_ecp_point*>(&v_)) == 1;
  }

private:
  mbedtls_ecp_point v_;
};

// The group P-256, loaded once per thread and kept until the thread exits (the destructor frees,
// and so zeroizes, all of it). Loading the group per operation cost more than a scalar
// multiplication, and so did the precomputed multiples of the base point that mbedtls_ecp_mul()
// builds on first use and caches in the group (grp.T) whenever the point it multiplies is the
// group's G. That cache is why the groups are per thread and never shared: the first
// multiplication by G writes it.
//
// M and N are fixed too, so each gets the same treatment: a copy of P-256 whose G is M (or N).
// The curve, its order n and cofactor 1 are the same, and M and N are points of order n, so the
// comb multiplication computes exactly m*M (or m*N), in constant time and blinded as for the
// generator; only the table it keeps is different. Nothing here depends on a secret: the tables
// hold multiples of public points.
class p256_state {
public:
  p256_state() noexcept { init(); }
  ~p256_state() { release(); }
  p256_state(const p256_state&) = delete;
  p256_state& operator=(const p256_state&) = delete;

  // Loads everything on first use; after a failure (out of memory) the next call tries again.
  bool ensure_loaded() noexcept {
    if (loaded_) return true;
    release();
    init();
    loaded_ = mbedtls_ecp_group_load(&grp_, MBEDTLS_ECP_DP_SECP256R1) == 0 &&
              mbedtls_mpi_lset(&one_, 1) == 0 && load_fixed_base(detail::spake2plus_m, grp_m_) &&
              load_fixed_base(detail::spake2plus_n, grp_n_);
    return loaded_;
  }

  mbedtls_ecp_group grp_;   // P-256 as standardized: G is the generator P of RFC 9383
  mbedtls_ecp_group grp_m_; // P-256 with G = M
  mbedtls_ecp_group grp_n_; // P-256 with G = N
  mbedtls_mpi one_;

private:
  // `out` = P-256 with G replaced by `base`, one of the constants M and N, which are known to be
  // valid (checked all the same: a fixed base that is not on the curve must never be used).
  //
  // mbedtls_ecp_group_load() makes the curve's numbers, G included, point into mbedTLS's
  // read-only tables and marks them (h == 1) as not to be freed by mbedtls_ecp_group_free(). So
  // G is not overwritten but dropped (re-initialized, which frees nothing) and read anew into
  // memory of its own, which release() frees. The group must come with no precomputed table
  // (mbedTLS 2.x builds it on first use; 3.x ships one for the standard G, which would be wrong
  // for M and N), else the load fails.
  bool load_fixed_base(std::span<const std::uint8_t, spake2plus_point_size> base,
                       mbedtls_ecp_group& out) noexcept {
    const int rc = mbedtls_ecp_group_load(&out, MBEDTLS_ECP_DP_SECP256R1);
    mbedtls_ecp_point_init(&out.G); // whatever the load did, G now owns nothing
    return rc == 0 && out.T == nullptr && out.T_size == 0 &&
           mbedtls_ecp_point_read_binary(&grp_, &out.G, base.data(), base.size()) == 0 &&
           mbedtls_ecp_check_pubkey(&grp_, &out.G) == 0;
  }
  void init() noexcept {
    mbedtls_ecp_group_init(&grp_);
    mbedtls_ecp_group_init(&grp_m_);
    mbedtls_ecp_group_init(&grp_n_);
    mbedtls_mpi_init(&one_);
  }
  void release() noexcept {
    mbedtls_mpi_free(&one_);
    // The G of a fixed-base group is ours (see load_fixed_base()), or empty.
    mbedtls_ecp_point_free(&grp_n_.G);
    mbedtls_ecp_group_free(&grp_n_);
    mbedtls_ecp_point_free(&grp_m_.G);
    mbedtls_ecp_group_free(&grp_m_);
    mbedtls_ecp_group_free(&grp_);
    loaded_ = false;
  }

  bool loaded_ = false;
};

// One of the fixed bases M and N, for p256::share() and p256::unblind().
enum class fixed_base : std::uint8_t { m, n };

// This thread's P-256. An operation takes it for its duration; operations never nest, and a
// group is never handed to another thread.
class p256 {
public:
  p256() noexcept : s_(this_thread()), ok_(s_.ensure_loaded()) {}
  p256(const p256&) = delete;
  p256& operator=(const p256&) = delete;

  bool ok() const noexcept { return ok_; }
  mbedtls_ecp_group* grp() noexcept { return &s_.grp_; }
  const mbedtls_mpi* order() const noexcept { return &s_.grp_.N; }
  const mbedtls_ecp_point* generator() const noexcept { return &s_.grp_.G; }

  // Reads a big-endian scalar that must be in [1, n-1].
  std::error_code read_scalar(bytes_view in, mpi& out) noexcept {
    if (in.size() != spake2plus_scalar_size) return crypto_errc::bad_input;
    if (mbedtls_mpi_read_binary(out.get(), in.data(), in.size()) != 0)
      return crypto_errc::mbedtls_failure;
    if (mbedtls_mpi_cmp_int(out.get(), 1) < 0 || mbedtls_mpi_cmp_mpi(out.get(), order()) >= 0)
      return crypto_errc::bad_input;
    return {};
  }

  // out = ws mod n, which must not be 0. RFC 9383 section 3.2 asks for 40-byte halves.
  std::error_code reduce(bytes_view ws, mpi& out) noexcept {
    if (ws.size() < spake2plus_scalar_size || ws.size() > 2 * spake2plus_scalar_size)
      return crypto_errc::bad_input;
    mpi wide;
    if (mbedtls_mpi_read_binary(wide.get(), ws.data(), ws.size()) != 0 ||
        mbedtls_mpi_mod_mpi(out.get(), wide.get(), order()) != 0)
      return crypto_errc::mbedtls_failure;
    if (mbedtls_mpi_cmp_int(out.get(), 0) == 0) return crypto_errc::bad_input;
    return {};
  }

  static std::error_code
  write_scalar(const mpi& in, std::span<std::uint8_t, spake2plus_scalar_size> out) noexcept {
    if (mbedtls_mpi_write_binary(in.get(), out.data(), out.size()) != 0)
      return crypto_errc::mbedtls_failure;
    return {};
  }

  // Reads a point received from outside: exactly 65 bytes, 0x04 ‖ X ‖ Y, coordinates below p,
  // on the curve. The identity has no 65-byte encoding, and check_pubkey rejects it too.
  std::error_code read_point(bytes_view in, point& out) noexcept {
    if (in.size() != spake2plus_point_size || in[0] != 0x04) return crypto_errc::bad_point;
    const int rc = mbedtls_ecp_point_read_binary(&s_.grp_, out.get(), in.data(), in.size());
    if (rc == MBEDTLS_ERR_MPI_ALLOC_FAILED) return crypto_errc::mbedtls_failure;
    if (rc != 0 || mbedtls_ecp_check_pubkey(&s_.grp_, out.get()) != 0 || out.is_identity())
      return crypto_errc::bad_point;
    return {};
  }

  std::error_code write_point(const point& in,
                              std::span<std::uint8_t, spake2plus_point_size> out) noexcept {
    std::size_t written = 0;
    if (in.is_identity() ||
        mbedtls_ecp_point_write_binary(&s_.grp_, in.get(), MBEDTLS_ECP_PF_UNCOMPRESSED, &written,
                                       out.data(), out.size()) != 0 ||
        written != out.size())
      return crypto_errc::mbedtls_failure;
    return {};
  }

  // out = m*P in constant time, blinded with `rng`. m must be in [1, n-1], P valid.
  std::error_code mul(point& out, const mpi& m, const mbedtls_ecp_point* p,
                      rng_adapter& rng) noexcept {
    if (mbedtls_ecp_mul(&s_.grp_, out.get(), m.get(), p, rng.f_rng(), rng.p_rng()) != 0)
      return mbedtls_error(&rng);
    return {};
  }

  // out = m*M or m*N, as mul() does it, with the precomputed multiples of M or N.
  std::error_code mul(point& out, const mpi& m, fixed_base base, rng_adapter& rng) noexcept {
    mbedtls_ecp_group* g = base == fixed_base::m ? &s_.grp_m_ : &s_.grp_n_;
    if (mbedtls_ecp_mul(g, out.get(), m.get(), &g->G, rng.f_rng(), rng.p_rng()) != 0)
      return mbedtls_error(&rng);
    return {};
  }

  // out = a + b (possibly the identity).
  std::error_code add(point& out, const point& a, const point& b) noexcept {
    if (mbedtls_ecp_muladd(&s_.grp_, out.get(), &s_.one_, a.get(), &s_.one_, b.get()) != 0)
      return crypto_errc::mbedtls_failure;
    return {};
  }

  // share = s*P + w0*base (RFC 9383 section 3.3: X = x*P + w0*M, Y = y*P + w0*N).
  std::error_code share(const mpi& s, const mpi& w0, fixed_base base, rng_adapter& rng,
                        std::span<std::uint8_t, spake2plus_point_size> out) noexcept {
    point sp, blind, sum;
    if (auto ec = mul(sp, s, generator(), rng)) return ec;
    if (auto ec = mul(blind, w0, base, rng)) return ec;
    if (auto ec = add(sum, sp, blind)) return ec;
    // s*P == -w0*base only if someone knows the discrete log of M or N: not a real outcome.
    return write_point(sum, out);
  }

  // out = peer_share - w0*base (Y - w0*N for the prover, X - w0*M for the verifier), computed
  // as peer_share + (n - w0)*base so that the secret w0 only meets the constant-time mul().
  std::error_code unblind(const point& peer_share, const mpi& w0, fixed_base base, rng_adapter& rng,
                          point& out) noexcept {
    mpi negated;
    point blind;
    if (mbedtls_mpi_sub_mpi(negated.get(), order(), w0.get()) != 0)
      return crypto_errc::mbedtls_failure;
    if (auto ec = mul(blind, negated, base, rng)) return ec;
    if (auto ec = add(out, peer_share, blind)) return ec;
    // The peer sent exactly w0*base: Z and V would be the identity (RFC 9383 section 6).
    if (out.is_identity()) return crypto_errc::bad_point;
    return {};
  }

private:
  static p256_state& this_thread() noexcept {
    thread_local p256_state state;
    return state;
  }

  p256_state& s_;
  bool ok_;
};

// The prover's Z = x*(Y - w0*N), V = w1*(Y - w0*N).
std::error_code prover_zv(p256& g, const mpi& w0, const mpi& w1, const mpi& x, const point& y_share,
                          rng_adapter& rng, detail::spake2plus_zv& out) noexcept {
  point t, z, v;
  if (auto ec = g.unblind(y_share, w0, fixed_base::n, rng, t)) return ec;
  if (auto ec = g.mul(z, x, t.get(), rng)) return ec;
  if (auto ec = g.mul(v, w1, t.get(), rng)) return ec;
  if (auto ec = g.write_point(z, out.Z)) return ec;
  return g.write_point(v, out.V);
}

// The verifier's V = y*L: it does not depend on the prover's share.
std::error_code verifier_v(p256& g, const point& l, const mpi& y, rng_adapter& rng,
                           std::span<std::uint8_t, spake2plus_point_size> out) noexcept {
  point v;
  if (auto ec = g.mul(v, y, l.get(), rng)) return ec;
  return g.write_point(v, out);
}

// The verifier's Z = y*(X - w0*M).
std::error_code verifier_z(p256& g, const mpi& w0, const mpi& y, const point& x_share,
                           rng_adapter& rng,
                           std::span<std::uint8_t, spake2plus_point_size> out) noexcept {
  point t, z;
  if (auto ec = g.unblind(x_share, w0, fixed_base::m, rng, t)) return ec;
  if (auto ec = g.mul(z, y, t.get(), rng)) return ec;
  return g.write_point(z, out);
}

// The verifier's Z = y*(X - w0*M), V = y*L.
std::error_code verifier_zv(p256& g, const mpi& w0, const point& l, const mpi& y,
                            const point& x_share, rng_adapter& rng,
                            detail::spake2plus_zv& out) noexcept {
  if (auto ec = verifier_z(g, w0, y, x_share, rng, out.Z)) return ec;
  return verifier_v(g, l, y, rng, out.V);
}

// Appends len(item) ‖ item to the transcript TT: the length as 8 bytes, little-endian
// (RFC 9383 section 3).
int transcript_add(mbedtls_sha256_context* tt, bytes_view item) noexcept {
  std::array<std::uint8_t, 8> len{};
  std::uint64_t n = item.size();
  for (auto& b : len) {
    b = static_cast<std::uint8_t>(n & 0xFF);
    n >>= 8;
  }
  if (int rc = mbedtls_sha256_update_ret(tt, len.data(), len.size()); rc != 0) return rc;
  if (item.empty()) return 0;
  return mbedtls_sha256_update_ret(tt, item.data(), item.size());
}

// TT up to and including shareP: everything the prover knows when it sends shareP.
std::error_code transcript_begin(mbedtls_sha256_context* tt, bytes_view context,
                                 bytes_view id_prover, bytes_view id_verifier,
                                 bytes_view share_p) noexcept {
  const bytes_view items[] = {
      context, id_prover, id_verifier, detail::spake2plus_m, detail::spake2plus_n, share_p};
  if (mbedtls_sha256_starts_ret(tt, 0) != 0) return crypto_errc::mbedtls_failure;
  for (bytes_view item : items) {
    if (transcript_add(tt, item) != 0) return crypto_errc::mbedtls_failure;
  }
  return {};
}

// The rest of TT, then the key schedule of RFC 9383 section 3.4.
std::error_code transcript_finish(mbedtls_sha256_context* tt, bytes_view share_v,
                                  const detail::spake2plus_zv& zv, bytes_view w0,
                                  detail::spake2plus_keys& out) noexcept {
  const bytes_view items[] = {share_v, zv.Z, zv.V, w0};
  for (bytes_view item : items) {
    if (transcript_add(tt, item) != 0) return crypto_errc::mbedtls_failure;
  }
  if (mbedtls_sha256_finish_ret(tt, out.K_main.data()) != 0) return crypto_errc::mbedtls_failure;
  // K_confirmP ‖ K_confirmV = KDF(nil, K_main, "ConfirmationKeys"): one 64-byte expansion.
  std::array<std::uint8_t, 64> confirmation{};
  std::error_code ec = hkdf_sha256({}, out.K_main, as_bytes(confirmation_keys_info), confirmation);
  if (!ec) {
    std::copy_n(confirmation.begin(), 32, out.K_confirmP.begin());
    std::copy_n(confirmation.begin() + 32, 32, out.K_confirmV.begin());
    ec = hkdf_sha256({}, out.K_main, as_bytes(shared_key_info), out.K_shared);
  }
  wipe(confirmation);
  return ec;
}

// A SHA-256 context on the stack, freed (and so zeroized) on every path out.
class local_transcript {
public:
  local_transcript() noexcept { mbedtls_sha256_init(&ctx_); }
  ~local_transcript() { mbedtls_sha256_free(&ctx_); }
  local_transcript(const local_transcript&) = delete;
  local_transcript& operator=(const local_transcript&) = delete;
  mbedtls_sha256_context* get() noexcept { return &ctx_; }

private:
  mbedtls_sha256_context ctx_;
};

void wipe_all(spake2plus_prover_secret& s) noexcept {
  wipe(s.w0);
  wipe(s.w1);
}
void wipe_all(spake2plus_verifier_data& v) noexcept {
  wipe(v.w0);
  wipe(v.L);
}
void wipe_all(detail::spake2plus_zv& zv) noexcept {
  wipe(zv.Z);
  wipe(zv.V);
}
void wipe_all(detail::spake2plus_keys& k) noexcept {
  wipe(k.K_main);
  wipe(k.K_confirmP);
  wipe(k.K_confirmV);
  wipe(k.K_shared);
}

// Reads our own stored L: a bad one is corrupt input from the caller, not a hostile peer.
std::error_code read_stored_point(p256& g, bytes_view in, point& out) noexcept {
  const std::error_code ec = g.read_point(in, out);
  return ec == crypto_errc::bad_point ? crypto_errc::bad_input : ec;
}

} // namespace

// ---------------------------------------------------------------------------------------------
// Registration.

std::error_code spake2plus_secret_from_ws(bytes_view w0s, bytes_view w1s,
                                          spake2plus_prover_secret& out) noexcept {
  p256 g;
  mpi w0, w1;
  std::error_code ec = g.ok() ? std::error_code{} : crypto_errc::mbedtls_failure;
  if (!ec) ec = g.reduce(w0s, w0);
  if (!ec) ec = g.reduce(w1s, w1);
  if (!ec) ec = p256::write_scalar(w0, out.w0);
  if (!ec) ec = p256::write_scalar(w1, out.w1);
  if (ec) wipe_all(out);
  return ec;
}

std::error_code spake2plus_derive(bytes_view passcode, bytes_view salt, std::uint32_t iterations,
                                  spake2plus_prover_secret& out) noexcept {
  if (passcode.empty() || iterations == 0) {
    wipe_all(out);
    return crypto_errc::bad_input;
  }
  std::array<std::uint8_t, 2 * spake2plus_ws_size> ws{};
  std::error_code ec = pbkdf2_hmac_sha256(passcode, salt, iterations, ws);
  if (!ec) {
    const bytes_view all = ws;
    ec = spake2plus_secret_from_ws(all.first(spake2plus_ws_size), all.subspan(spake2plus_ws_size),
                                   out);
  }
  wipe(ws);
  if (ec) wipe_all(out);
  return ec;
}

std::error_code spake2plus_make_verifier(const spake2plus_prover_secret& secret,
                                         spake2plus_verifier_data& out) noexcept {
  p256 g;
  mpi w0, w1;
  point l;
  rng_adapter no_rng{};
  std::error_code ec = g.ok() ? std::error_code{} : crypto_errc::mbedtls_failure;
  if (!ec) ec = g.read_scalar(secret.w0, w0);
  if (!ec) ec = g.read_scalar(secret.w1, w1);
  if (!ec) ec = g.mul(l, w1, g.generator(), no_rng);
  if (!ec) ec = g.write_point(l, out.L);
  if (!ec) out.w0 = secret.w0;
  if (ec) wipe_all(out);
  return ec;
}

// ---------------------------------------------------------------------------------------------
// Prover.

namespace {

mbedtls_sha256_context* transcript_of(std::span<std::byte> storage) noexcept {
  return std::launder(reinterpret_cast<mbedtls_sha256_context*>(storage.data()));
}

} // namespace

spake2plus_prover::~spake2plus_prover() {
  wipe_secrets();
}

void spake2plus_prover::wipe_secrets() noexcept {
  if (state_ == state::started) mbedtls_sha256_free(transcript_of(transcript_));
  wipe(w0_);
  wipe(w1_);
  wipe(x_);
  wipe(share_p_);
  rng_ = {};
}

std::error_code
spake2plus_prover::start(bytes_view context, bytes_view id_prover, bytes_view id_verifier,
                         const spake2plus_prover_secret& secret, random_source rng,
                         std::span<std::uint8_t, spake2plus_point_size> share_p) noexcept {
  return begin(context, id_prover, id_verifier, secret, rng, {}, share_p);
}

std::error_code spake2plus_prover::start_with_scalar(
    bytes_view context, bytes_view id_prover, bytes_view id_verifier,
    const spake2plus_prover_secret& secret, bytes_view x,
    std::span<std::uint8_t, spake2plus_point_size> share_p) noexcept {
  // No random_source: begin() then reads x, and mbedTLS blinds with its internal DRBG.
  return begin(context, id_prover, id_verifier, secret, {}, x, share_p);
}

std::error_code
spake2plus_prover::begin(bytes_view context, bytes_view id_prover, bytes_view id_verifier,
                         const spake2plus_prover_secret& secret, random_source rng,
                         bytes_view x_given,
                         std::span<std::uint8_t, spake2plus_point_size> share_p) noexcept {
  if (state_ != state::fresh) {
    wipe(share_p);
    return crypto_errc::wrong_state;
  }
  // Whatever happens below, this object has had its one start.
  state_ = state::done;

  static_assert(sizeof(mbedtls_sha256_context) <= sizeof(transcript_),
                "spake2plus_prover::transcript_ is too small for this mbedTLS's SHA-256 context");
  static_assert(alignof(mbedtls_sha256_context) <= 8,
                "spake2plus_prover::transcript_ is not aligned enough for mbedtls_sha256_context");

  p256 g;
  mpi w0, w1, x;
  rng_adapter adapter{rng};
  std::error_code ec = g.ok() ? std::error_code{} : crypto_errc::mbedtls_failure;
  if (!ec && rng.fill == nullptr && x_given.empty()) ec = crypto_errc::bad_input;
  if (!ec) ec = g.read_scalar(secret.w0, w0);
  if (!ec) ec = g.read_scalar(secret.w1, w1);
  if (!ec && rng.fill == nullptr) ec = g.read_scalar(x_given, x);
  // x <- [1, n-1], uniformly. (RFC 9383 says [0, p-1]; x = 0 would send X = w0*M, which lets a
  // listener test guesses of the code offline, and mbedTLS never draws it.)
  if (!ec && rng.fill != nullptr &&
      mbedtls_ecp_gen_privkey(g.grp(), x.get(), adapter.f_rng(), adapter.p_rng()) != 0)
    ec = mbedtls_error(&adapter);
  if (!ec) ec = g.share(x, w0, fixed_base::m, adapter, share_p_);
  if (!ec) ec = p256::write_scalar(x, x_);
  if (!ec) {
    mbedtls_sha256_context* tt = new (transcript_.data()) mbedtls_sha256_context;
    mbedtls_sha256_init(tt);
    ec = transcript_begin(tt, context, id_prover, id_verifier, share_p_);
    if (ec) mbedtls_sha256_free(tt);
  }
  if (ec) {
    wipe_secrets();
    wipe(share_p);
    return ec;
  }
  w0_ = secret.w0;
  w1_ = secret.w1;
  rng_ = rng;
  std::copy(share_p_.begin(), share_p_.end(), share_p.begin());
  state_ = state::started;
  return {};
}

std::error_code
spake2plus_prover::finish(bytes_view share_v, bytes_view confirm_v,
                          std::span<std::uint8_t, spake2plus_confirm_size> confirm_p,
                          std::span<std::uint8_t, spake2plus_shared_key_size> shared_key) noexcept {
  if (state_ != state::started) {
    wipe(confirm_p);
    wipe(shared_key);
    return crypto_errc::wrong_state;
  }

  std::error_code ec;
  {
    p256 g;
    mpi w0, w1, x;
    point y_share;
    rng_adapter adapter{rng_};
    detail::spake2plus_zv zv;
    detail::spake2plus_keys keys;
    std::array<std::uint8_t, spake2plus_confirm_size> expected_confirm_v{};
    ec = g.ok() ? std::error_code{} : crypto_errc::mbedtls_failure;
    if (!ec && confirm_v.size() != spake2plus_confirm_size) ec = crypto_errc::bad_input;
    if (!ec) ec = g.read_point(share_v, y_share);
    if (!ec) ec = g.read_scalar(w0_, w0);
    if (!ec) ec = g.read_scalar(w1_, w1);
    if (!ec) ec = g.read_scalar(x_, x);
    if (!ec) ec = prover_zv(g, w0, w1, x, y_share, adapter, zv);
    if (!ec) ec = transcript_finish(transcript_of(transcript_), share_v, zv, w0_, keys);
    // The verifier proves first (RFC 9383 section 3.3): nothing leaves this object unless its
    // confirmV = MAC(K_confirmV, shareP) is right.
    if (!ec) ec = hmac_sha256(keys.K_confirmV, {share_p_}, expected_confirm_v);
    if (!ec && !equal_constant_time(expected_confirm_v, confirm_v))
      ec = crypto_errc::confirmation_mismatch;
    if (!ec) ec = hmac_sha256(keys.K_confirmP, {share_v}, confirm_p);
    if (!ec) std::copy(keys.K_shared.begin(), keys.K_shared.end(), shared_key.begin());
    wipe(expected_confirm_v);
  }
  wipe_secrets();
  state_ = state::done;
  if (ec) {
    wipe(confirm_p);
    wipe(shared_key);
  }
  return ec;
}

// ---------------------------------------------------------------------------------------------
// Verifier.

spake2plus_verifier::~spake2plus_verifier() {
  wipe_secrets();
}

void spake2plus_verifier::wipe_secrets() noexcept {
  wipe(y_);
  wipe(share_v_);
  wipe(v_);
  wipe(w0_);
  wipe(l_);
  wipe(expected_confirm_p_);
  wipe(shared_key_);
}

std::error_code spake2plus_verifier::prepare(const spake2plus_verifier_data& v,
                                             random_source rng) noexcept {
  if (state_ != state::fresh) return crypto_errc::wrong_state;
  state_ = state::done;
  std::error_code ec;
  {
    p256 g;
    mpi w0, y;
    point l;
    rng_adapter adapter{rng};
    ec = g.ok() ? std::error_code{} : crypto_errc::mbedtls_failure;
    if (!ec && rng.fill == nullptr) ec = crypto_errc::bad_input;
    if (!ec) ec = g.read_scalar(v.w0, w0);
    if (!ec) ec = read_stored_point(g, v.L, l);
    if (!ec && mbedtls_ecp_gen_privkey(g.grp(), y.get(), adapter.f_rng(), adapter.p_rng()) != 0)
      ec = mbedtls_error(&adapter);
    if (!ec) ec = g.share(y, w0, fixed_base::n, adapter, share_v_);
    if (!ec) ec = verifier_v(g, l, y, adapter, v_);
    if (!ec) ec = p256::write_scalar(y, y_);
  }
  if (ec) {
    wipe_secrets();
    return ec;
  }
  w0_ = v.w0;
  l_ = v.L;
  state_ = state::prepared;
  return {};
}

std::error_code
spake2plus_verifier::respond(bytes_view context, bytes_view id_prover, bytes_view id_verifier,
                             const spake2plus_verifier_data& v, bytes_view share_p,
                             random_source rng,
                             std::span<std::uint8_t, spake2plus_point_size> share_v,
                             std::span<std::uint8_t, spake2plus_confirm_size> confirm_v) noexcept {
  return begin(context, id_prover, id_verifier, v, share_p, rng, {}, share_v, confirm_v);
}

std::error_code spake2plus_verifier::respond_with_scalar(
    bytes_view context, bytes_view id_prover, bytes_view id_verifier,
    const spake2plus_verifier_data& v, bytes_view share_p, bytes_view y,
    std::span<std::uint8_t, spake2plus_point_size> share_v,
    std::span<std::uint8_t, spake2plus_confirm_size> confirm_v) noexcept {
  // No random_source: begin() then reads y, and mbedTLS blinds with its internal DRBG.
  return begin(context, id_prover, id_verifier, v, share_p, {}, y, share_v, confirm_v);
}

std::error_code
spake2plus_verifier::begin(bytes_view context, bytes_view id_prover, bytes_view id_verifier,
                           const spake2plus_verifier_data& v, bytes_view share_p, random_source rng,
                           bytes_view y_given,
                           std::span<std::uint8_t, spake2plus_point_size> share_v,
                           std::span<std::uint8_t, spake2plus_confirm_size> confirm_v) noexcept {
  const bool prepared = state_ == state::prepared;
  if (!(state_ == state::fresh || (prepared && y_given.empty()))) {
    wipe(share_v);
    wipe(confirm_v);
    return crypto_errc::wrong_state;
  }
  state_ = state::done;

  std::error_code ec;
  {
    p256 g;
    mpi w0, y;
    point l, x_share;
    rng_adapter adapter{rng};
    detail::spake2plus_zv zv;
    detail::spake2plus_keys keys;
    local_transcript tt;
    ec = g.ok() ? std::error_code{} : crypto_errc::mbedtls_failure;
    // Our own inputs first: a bad one is the caller's problem, not the peer's.
    if (!ec && rng.fill == nullptr && y_given.empty()) ec = crypto_errc::bad_input;
    if (!ec) ec = g.read_scalar(v.w0, w0);
    if (!ec && prepared && !(equal_constant_time(v.w0, w0_) && equal_constant_time(v.L, l_)))
      ec = crypto_errc::bad_input; // prepare() computed shareV and V from another record
    if (!ec && !prepared) ec = read_stored_point(g, v.L, l);
    if (!ec && rng.fill == nullptr) ec = g.read_scalar(y_given, y);
    if (!ec) ec = g.read_point(share_p, x_share);
    if (!ec && prepared) {
      ec = g.read_scalar(y_, y);
      std::copy(share_v_.begin(), share_v_.end(), share_v.begin());
      zv.V = v_;
    } else if (!ec) {
      // y <- [1, n-1], uniformly.
      if (rng.fill != nullptr &&
          mbedtls_ecp_gen_privkey(g.grp(), y.get(), adapter.f_rng(), adapter.p_rng()) != 0)
        ec = mbedtls_error(&adapter);
      if (!ec) ec = g.share(y, w0, fixed_base::n, adapter, share_v);
      if (!ec) ec = verifier_v(g, l, y, adapter, zv.V);
    }
    if (!ec) ec = verifier_z(g, w0, y, x_share, adapter, zv.Z);
    if (!ec) ec = transcript_begin(tt.get(), context, id_prover, id_verifier, share_p);
    if (!ec) ec = transcript_finish(tt.get(), share_v, zv, v.w0, keys);
    // confirmV = MAC(K_confirmV, shareP) goes out now; confirmP = MAC(K_confirmP, shareV) is
    // what finish() will expect.
    if (!ec) ec = hmac_sha256(keys.K_confirmV, {share_p}, confirm_v);
    if (!ec) ec = hmac_sha256(keys.K_confirmP, {share_v}, expected_confirm_p_);
    if (!ec) shared_key_ = keys.K_shared;
  }
  // prepare()'s y and V were used once; only confirmP and K_shared stay.
  wipe(y_);
  wipe(share_v_);
  wipe(v_);
  wipe(w0_);
  wipe(l_);
  if (ec) {
    wipe_secrets();
    wipe(share_v);
    wipe(confirm_v);
    return ec;
  }
  state_ = state::responded;
  return {};
}

std::error_code spake2plus_verifier::finish(
    bytes_view confirm_p, std::span<std::uint8_t, spake2plus_shared_key_size> shared_key) noexcept {
  if (state_ != state::responded) {
    wipe(shared_key);
    return crypto_errc::wrong_state;
  }
  std::error_code ec;
  if (confirm_p.size() != spake2plus_confirm_size)
    ec = crypto_errc::bad_input;
  else if (!equal_constant_time(expected_confirm_p_, confirm_p))
    ec = crypto_errc::confirmation_mismatch;
  else
    std::copy(shared_key_.begin(), shared_key_.end(), shared_key.begin());
  wipe_secrets();
  state_ = state::done;
  if (ec) wipe(shared_key);
  return ec;
}

// ---------------------------------------------------------------------------------------------
// The steps, for the test vectors.

namespace detail {

std::error_code spake2plus_prover_zv(const spake2plus_prover_secret& secret, bytes_view x,
                                     bytes_view share_v, spake2plus_zv& out) noexcept {
  p256 g;
  mpi w0, w1, xs;
  point y_share;
  rng_adapter no_rng{};
  std::error_code ec = g.ok() ? std::error_code{} : crypto_errc::mbedtls_failure;
  if (!ec) ec = g.read_scalar(secret.w0, w0);
  if (!ec) ec = g.read_scalar(secret.w1, w1);
  if (!ec) ec = g.read_scalar(x, xs);
  if (!ec) ec = g.read_point(share_v, y_share);
  if (!ec) ec = prover_zv(g, w0, w1, xs, y_share, no_rng, out);
  if (ec) wipe_all(out);
  return ec;
}

std::error_code spake2plus_verifier_zv(const spake2plus_verifier_data& v, bytes_view y,
                                       bytes_view share_p, spake2plus_zv& out) noexcept {
  p256 g;
  mpi w0, ys;
  point l, x_share;
  rng_adapter no_rng{};
  std::error_code ec = g.ok() ? std::error_code{} : crypto_errc::mbedtls_failure;
  if (!ec) ec = g.read_scalar(v.w0, w0);
  if (!ec) ec = read_stored_point(g, v.L, l);
  if (!ec) ec = g.read_scalar(y, ys);
  if (!ec) ec = g.read_point(share_p, x_share);
  if (!ec) ec = verifier_zv(g, w0, l, ys, x_share, no_rng, out);
  if (ec) wipe_all(out);
  return ec;
}

std::error_code spake2plus_key_schedule(bytes_view context, bytes_view id_prover,
                                        bytes_view id_verifier, bytes_view share_p,
                                        bytes_view share_v, const spake2plus_zv& zv, bytes_view w0,
                                        spake2plus_keys& out) noexcept {
  local_transcript tt;
  std::error_code ec = transcript_begin(tt.get(), context, id_prover, id_verifier, share_p);
  if (!ec) ec = transcript_finish(tt.get(), share_v, zv, w0, out);
  if (ec) wipe_all(out);
  return ec;
}

} // namespace detail

} // namespace lanyard::crypto
