/// @file
/// SPAKE2+ (RFC 9383), the augmented PAKE behind manual-code pairing, with the ciphersuite
/// P256-SHA256-HKDF-SHA256-HMAC-SHA256, over mbedTLS's ECP and bignum code.
///
/// The prover (the controller, which knows the pairing code) and the verifier (the accessory,
/// which stores only w0 and L = w1*P: a stolen record lets a thief pose as the accessory and
/// search for the code offline, slowed by the PBKDF, but not pose as a controller) run:
///
///     prover                                             verifier
///     start()          --- shareP --------------------->
///                      <-- shareV, confirmV -----------  respond()
///     finish()         --- confirmP ------------------>  finish()
///     (K_shared)                                         (K_shared)
///
/// Both objects are sans-IO: bytes in, bytes out, no sockets, no clock, no global RNG. Each runs
/// exactly one exchange; calls out of order return crypto_errc::wrong_state, and any other
/// error ends the exchange (later calls return wrong_state) after wiping every secret. Secrets
/// (x, y, Z, V, w0, w1, the keys) are wiped as soon as they are no longer needed and when the
/// object is destroyed. Received points are checked (65-byte uncompressed SEC1, on the curve,
/// not the identity) before any use: a bad one is crypto_errc::bad_point.
///
/// No key leaves an object before the other side's confirmation has been checked: the prover's
/// finish() checks confirmV before it writes confirmP and K_shared; the verifier writes K_shared
/// only from its finish(), after checking confirmP (RFC 9383 section 3.3: the verifier sends no
/// application data before that).
///
/// How w0 and w1 come from the code is the application's choice (RFC 9383 section 3.2); Lanyard
/// uses PBKDF2-HMAC-SHA256(code, salt, iterations) like Matter, see spake2plus_derive().
///
/// Thread-safety: distinct objects safe, shared objects unsafe. Free functions are safe from any
/// thread.
#pragma once

#include <lanyard/crypto/error.hpp>
#include <lanyard/crypto/primitives.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>

namespace lanyard::crypto {

/// Size of a SPAKE2+ share (shareP, shareV) and of L: an uncompressed SEC1 P-256 point,
/// 0x04 ‖ X ‖ Y.
inline constexpr std::size_t spake2plus_point_size = 65;
/// Size of a P-256 scalar (w0, w1, x, y), big-endian.
inline constexpr std::size_t spake2plus_scalar_size = 32;
/// Size of each of w0s and w1s, the halves of the PBKDF output: ceil(log2(n)) + 64 bits = 40
/// bytes, so that reducing them modulo the group order n has a bias of at most 2^-64
/// (RFC 9383 section 3.2).
inline constexpr std::size_t spake2plus_ws_size = 40;
/// Size of confirmP and confirmV, HMAC-SHA256 tags.
inline constexpr std::size_t spake2plus_confirm_size = 32;
/// Size of K_shared, the key both sides agree on.
inline constexpr std::size_t spake2plus_shared_key_size = 32;

/// What the prover derives from the pairing code: w0 and w1, big-endian scalars in [1, n-1].
/// Wiped when destroyed.
///
/// Thread-safety: a plain value; distinct objects safe, shared objects safe to read.
struct spake2plus_prover_secret {
  std::array<std::uint8_t, spake2plus_scalar_size> w0{};
  std::array<std::uint8_t, spake2plus_scalar_size> w1{};

  ~spake2plus_prover_secret() {
    wipe(w0);
    wipe(w1);
  }
};

/// What the verifier stores instead of the code (the registration record of RFC 9383 section
/// 3.2): w0 and L = w1*P. Not the code, but still secret: with it, anyone can pose as this
/// verifier and search for the code offline. Wiped when destroyed.
///
/// Thread-safety: a plain value; distinct objects safe, shared objects safe to read.
struct spake2plus_verifier_data {
  std::array<std::uint8_t, spake2plus_scalar_size> w0{};
  std::array<std::uint8_t, spake2plus_point_size> L{};

  ~spake2plus_verifier_data() {
    wipe(w0);
    wipe(L);
  }
};

/// Derives the prover's secret from a pairing code: w0s ‖ w1s = PBKDF2-HMAC-SHA256(passcode,
/// salt, iterations, 2 * 40 bytes), w0 = w0s mod n, w1 = w1s mod n (n the order of P-256).
///
/// This is Lanyard's (and Matter's) registration, not the one RFC 9383 section 3.2 recommends
/// (which hashes len(pw) ‖ pw ‖ len(idProver) ‖ idProver ‖ len(idVerifier) ‖ idVerifier with
/// scrypt or Argon2id): the RFC leaves the choice to the application. Use a random salt of 16 to
/// 32 bytes and 1,000 to 100,000 iterations, sent by the verifier with the exchange.
///
/// Errors: crypto_errc::bad_input if `passcode` is empty or `iterations` is 0, or (with
/// probability 2^-256) if w0 or w1 comes out as 0; crypto_errc::mbedtls_failure. `out` is
/// zeroed on error.
/// Thread-safety: pure function, safe from any thread.
std::error_code spake2plus_derive(bytes_view passcode, bytes_view salt, std::uint32_t iterations,
                                  spake2plus_prover_secret& out) noexcept;

/// Builds the prover's secret from w0s and w1s directly (w0 = w0s mod n, w1 = w1s mod n): for a
/// PBKDF other than spake2plus_derive()'s, and for RFC 9383's test vectors, which give w0 and w1
/// already reduced (32 bytes each).
///
/// Each input is a big-endian integer of 32 to 64 bytes; use spake2plus_ws_size (40) bytes of
/// PBKDF output, so that the reduction is unbiased (32 bytes only for values already below n).
///
/// Errors: crypto_errc::bad_input if a size is out of range or a result is 0;
/// crypto_errc::mbedtls_failure. `out` is zeroed on error.
/// Thread-safety: pure function, safe from any thread.
std::error_code spake2plus_secret_from_ws(bytes_view w0s, bytes_view w1s,
                                          spake2plus_prover_secret& out) noexcept;

/// Computes the verifier's record from the prover's secret: w0 and L = w1*P.
///
/// Errors: crypto_errc::bad_input if w0 or w1 is 0 or not below n; crypto_errc::mbedtls_failure.
/// `out` is zeroed on error.
/// Thread-safety: pure function, safe from any thread.
std::error_code spake2plus_make_verifier(const spake2plus_prover_secret& secret,
                                         spake2plus_verifier_data& out) noexcept;

/// The prover's side of one SPAKE2+ exchange (RFC 9383 section 3.3): start(), then finish().
///
/// `context` binds the exchange to its surroundings (Lanyard: "lanyard pairing v1" ‖ TLS
/// exporter) and the identities to the two parties (Lanyard: the two certificate
/// fingerprints); both sides must pass the same bytes, or confirmation fails. Empty identities
/// are allowed by the RFC but invite unknown-key-share attacks.
///
/// Neither copyable nor movable: secrets are never duplicated, and the transcript hash state
/// lives inside the object.
///
/// Thread-safety: distinct objects safe, shared objects unsafe.
class spake2plus_prover {
public:
  spake2plus_prover() noexcept = default;
  ~spake2plus_prover();
  spake2plus_prover(const spake2plus_prover&) = delete;
  spake2plus_prover& operator=(const spake2plus_prover&) = delete;

  /// Picks x at random in [1, n-1] and writes shareP = X = x*P + w0*M to `share_p`, to be sent
  /// to the verifier. Copies what finish() needs (w0, w1, x, and the transcript hashed so far),
  /// so `secret`, `context` and the identities need not outlive this call.
  ///
  /// `rng` draws x and is kept to blind the scalar multiplications of finish(): its `ctx` must
  /// stay valid until finish() returns (system_random() needs none).
  ///
  /// Errors: crypto_errc::wrong_state unless this is the object's first call;
  /// crypto_errc::bad_input if `rng` has no fill function or w0 or w1 is 0 or not below n;
  /// crypto_errc::random_failure; crypto_errc::mbedtls_failure. `share_p` is zeroed on error.
  std::error_code start(bytes_view context, bytes_view id_prover, bytes_view id_verifier,
                        const spake2plus_prover_secret& secret, random_source rng,
                        std::span<std::uint8_t, spake2plus_point_size> share_p) noexcept;

  /// start() with a given x instead of a random one (32 bytes, big-endian, in [1, n-1]): for
  /// RFC 9383's test vectors only. Whoever knows x can test guesses of the code offline.
  ///
  /// Errors: as start(); crypto_errc::bad_input also if `x` is not 32 bytes or not in [1, n-1].
  std::error_code
  start_with_scalar(bytes_view context, bytes_view id_prover, bytes_view id_verifier,
                    const spake2plus_prover_secret& secret, bytes_view x,
                    std::span<std::uint8_t, spake2plus_point_size> share_p) noexcept;

  /// Takes the verifier's reply, checks its confirmV, and only then writes confirmP (to be sent
  /// to the verifier) and K_shared. Computes Z = x*(Y - w0*N), V = w1*(Y - w0*N), the transcript
  /// TT, K_main = SHA-256(TT), K_confirmP ‖ K_confirmV = HKDF(nil, K_main, "ConfirmationKeys"),
  /// K_shared = HKDF(nil, K_main, "SharedKey"), and expects confirmV = HMAC(K_confirmV, shareP);
  /// confirmP = HMAC(K_confirmP, shareV). Ends the exchange whatever the outcome.
  ///
  /// Errors: crypto_errc::wrong_state unless start() succeeded and finish() was not called yet;
  /// crypto_errc::bad_input if `confirm_v` is not 32 bytes; crypto_errc::bad_point if `share_v`
  /// is not a valid point (or Y - w0*N is the identity); crypto_errc::confirmation_mismatch if
  /// confirmV is wrong (wrong code, or the peer is not the verifier, or context or identities
  /// differ); crypto_errc::random_failure; crypto_errc::mbedtls_failure. `confirm_p` and
  /// `shared_key` are zeroed on error.
  std::error_code finish(bytes_view share_v, bytes_view confirm_v,
                         std::span<std::uint8_t, spake2plus_confirm_size> confirm_p,
                         std::span<std::uint8_t, spake2plus_shared_key_size> shared_key) noexcept;

private:
  enum class state : std::uint8_t { fresh, started, done };

  std::error_code begin(bytes_view context, bytes_view id_prover, bytes_view id_verifier,
                        const spake2plus_prover_secret& secret, random_source rng, bytes_view x,
                        std::span<std::uint8_t, spake2plus_point_size> share_p) noexcept;
  void wipe_secrets() noexcept;

  state state_ = state::fresh;
  random_source rng_{};
  std::array<std::uint8_t, spake2plus_scalar_size> w0_{};
  std::array<std::uint8_t, spake2plus_scalar_size> w1_{};
  std::array<std::uint8_t, spake2plus_scalar_size> x_{};
  std::array<std::uint8_t, spake2plus_point_size> share_p_{};
  // The SHA-256 state of TT up to and including shareP (an mbedtls_sha256_context, placed here
  // so that the header needs no mbedTLS include and the object no heap): the context and the
  // identities are not kept, whatever their size. Valid only in state::started.
  alignas(8) std::array<std::byte, 128> transcript_{};
};

/// The verifier's side of one SPAKE2+ exchange (RFC 9383 section 3.3): [prepare(),] respond(),
/// then finish().
///
/// prepare() is optional: it does before the prover's share arrives the half of respond()'s
/// work that does not depend on it (y, shareV = y*P + w0*N, V = y*L), so that the prover waits
/// for one scalar multiplication instead of three. An accessory calls it right after it sent
/// the salt (the prover is busy with its PBKDF then).
///
/// After respond(), the object keeps only the confirmP it expects and K_shared: y, Z, V, w0 and
/// the other keys are wiped before respond() returns.
///
/// Neither copyable nor movable: secrets are never duplicated.
///
/// Thread-safety: distinct objects safe, shared objects unsafe.
class spake2plus_verifier {
public:
  spake2plus_verifier() noexcept = default;
  ~spake2plus_verifier();
  spake2plus_verifier(const spake2plus_verifier&) = delete;
  spake2plus_verifier& operator=(const spake2plus_verifier&) = delete;

  /// Picks y at random in [1, n-1] and computes shareV = Y = y*P + w0*N and V = y*L, which do
  /// not depend on the prover's share, for respond() to use. `rng` is used only during this
  /// call (respond() takes its own for what is left).
  ///
  /// Errors: crypto_errc::wrong_state unless this is the object's first call;
  /// crypto_errc::bad_input if `rng` has no fill function or `v` is corrupt;
  /// crypto_errc::random_failure; crypto_errc::mbedtls_failure. Every error ends the exchange
  /// (use a new object).
  std::error_code prepare(const spake2plus_verifier_data& v, random_source rng) noexcept;

  /// Checks the prover's shareP, picks y at random in [1, n-1] (or takes prepare()'s: `v` must
  /// then be the same, else crypto_errc::bad_input), and writes shareV = Y =
  /// y*P + w0*N and confirmV = HMAC(K_confirmV, shareP), both to be sent to the prover (in one
  /// message, as RFC 9383 section 3.1 allows). Computes Z = y*(X - w0*M), V = y*L and the key
  /// schedule as spake2plus_prover::finish() describes. `rng` is used only during this call.
  ///
  /// Errors: crypto_errc::wrong_state unless this is the object's first call or follows
  /// prepare(); crypto_errc::bad_input if `rng` has no fill function or `v` is corrupt (w0 not in
  /// [1, n-1], or L not a valid point); crypto_errc::bad_point if `share_p` is not a valid point
  /// (or X - w0*M is the identity); crypto_errc::random_failure; crypto_errc::mbedtls_failure.
  /// `share_v` and `confirm_v` are zeroed on error, and every error ends the exchange.
  std::error_code respond(bytes_view context, bytes_view id_prover, bytes_view id_verifier,
                          const spake2plus_verifier_data& v, bytes_view share_p, random_source rng,
                          std::span<std::uint8_t, spake2plus_point_size> share_v,
                          std::span<std::uint8_t, spake2plus_confirm_size> confirm_v) noexcept;

  /// respond() with a given y instead of a random one (32 bytes, big-endian, in [1, n-1]): for
  /// RFC 9383's test vectors only. Whoever knows y can test guesses of the code offline.
  ///
  /// Errors: as respond(); crypto_errc::bad_input also if `y` is not 32 bytes or not in
  /// [1, n-1]; crypto_errc::wrong_state after prepare().
  std::error_code
  respond_with_scalar(bytes_view context, bytes_view id_prover, bytes_view id_verifier,
                      const spake2plus_verifier_data& v, bytes_view share_p, bytes_view y,
                      std::span<std::uint8_t, spake2plus_point_size> share_v,
                      std::span<std::uint8_t, spake2plus_confirm_size> confirm_v) noexcept;

  /// Checks the prover's confirmP and, if it is right, writes K_shared. Ends the exchange
  /// whatever the outcome.
  ///
  /// Errors: crypto_errc::wrong_state unless respond() succeeded and finish() was not called
  /// yet; crypto_errc::bad_input if `confirm_p` is not 32 bytes;
  /// crypto_errc::confirmation_mismatch if it is wrong (wrong code, or a forged or replayed
  /// confirmation). `shared_key` is zeroed on error.
  std::error_code finish(bytes_view confirm_p,
                         std::span<std::uint8_t, spake2plus_shared_key_size> shared_key) noexcept;

private:
  enum class state : std::uint8_t { fresh, prepared, responded, done };

  std::error_code begin(bytes_view context, bytes_view id_prover, bytes_view id_verifier,
                        const spake2plus_verifier_data& v, bytes_view share_p, random_source rng,
                        bytes_view y, std::span<std::uint8_t, spake2plus_point_size> share_v,
                        std::span<std::uint8_t, spake2plus_confirm_size> confirm_v) noexcept;
  void wipe_secrets() noexcept;

  state state_ = state::fresh;
  // prepare()'s results and what they were computed from (state::prepared only).
  std::array<std::uint8_t, spake2plus_scalar_size> y_{};
  std::array<std::uint8_t, spake2plus_point_size> share_v_{};
  std::array<std::uint8_t, spake2plus_point_size> v_{};
  std::array<std::uint8_t, spake2plus_scalar_size> w0_{};
  std::array<std::uint8_t, spake2plus_point_size> l_{};
  std::array<std::uint8_t, spake2plus_confirm_size> expected_confirm_p_{};
  std::array<std::uint8_t, spake2plus_shared_key_size> shared_key_{};
};

/// The steps of RFC 9383 one by one, exposed so that the unit tests can check every
/// intermediate value of the RFC's Appendix C test vectors (Z, V, K_main, K_confirmP,
/// K_confirmV). Applications use the two classes above, which run the same code.
namespace detail {

/// M for P-256 (RFC 9383 section 4, given there compressed as 02886e2f…8fa12f), uncompressed.
inline constexpr std::array<std::uint8_t, spake2plus_point_size> spake2plus_m = {
    0x04, 0x88, 0x6e, 0x2f, 0x97, 0xac, 0xe4, 0x6e, 0x55, 0xba, 0x9d, 0xd7, 0x24,
    0x25, 0x79, 0xf2, 0x99, 0x3b, 0x64, 0xe1, 0x6e, 0xf3, 0xdc, 0xab, 0x95, 0xaf,
    0xd4, 0x97, 0x33, 0x3d, 0x8f, 0xa1, 0x2f, 0x5f, 0xf3, 0x55, 0x16, 0x3e, 0x43,
    0xce, 0x22, 0x4e, 0x0b, 0x0e, 0x65, 0xff, 0x02, 0xac, 0x8e, 0x5c, 0x7b, 0xe0,
    0x94, 0x19, 0xc7, 0x85, 0xe0, 0xca, 0x54, 0x7d, 0x55, 0xa1, 0x2e, 0x2d, 0x20};

/// N for P-256 (RFC 9383 section 4, given there compressed as 03d8bbd6…292b49), uncompressed.
inline constexpr std::array<std::uint8_t, spake2plus_point_size> spake2plus_n = {
    0x04, 0xd8, 0xbb, 0xd6, 0xc6, 0x39, 0xc6, 0x29, 0x37, 0xb0, 0x4d, 0x99, 0x7f,
    0x38, 0xc3, 0x77, 0x07, 0x19, 0xc6, 0x29, 0xd7, 0x01, 0x4d, 0x49, 0xa2, 0x4b,
    0x4f, 0x98, 0xba, 0xa1, 0x29, 0x2b, 0x49, 0x07, 0xd6, 0x0a, 0xa6, 0xbf, 0xad,
    0xe4, 0x50, 0x08, 0xa6, 0x36, 0x33, 0x7f, 0x51, 0x68, 0xc6, 0x4d, 0x9b, 0xd3,
    0x60, 0x34, 0x80, 0x8c, 0xd5, 0x64, 0x49, 0x0b, 0x1e, 0x65, 0x6e, 0xdb, 0xe7};

/// Z and V of RFC 9383 section 3.3, uncompressed. Wiped when destroyed.
struct spake2plus_zv {
  std::array<std::uint8_t, spake2plus_point_size> Z{};
  std::array<std::uint8_t, spake2plus_point_size> V{};

  ~spake2plus_zv() {
    wipe(Z);
    wipe(V);
  }
};

/// The keys of RFC 9383 section 3.4. Wiped when destroyed.
struct spake2plus_keys {
  std::array<std::uint8_t, 32> K_main{};
  std::array<std::uint8_t, 32> K_confirmP{};
  std::array<std::uint8_t, 32> K_confirmV{};
  std::array<std::uint8_t, 32> K_shared{};

  ~spake2plus_keys() {
    wipe(K_main);
    wipe(K_confirmP);
    wipe(K_confirmV);
    wipe(K_shared);
  }
};

/// The prover's Z = x*(Y - w0*N) and V = w1*(Y - w0*N), Y = `share_v`.
/// Errors: as spake2plus_prover::start_with_scalar() and finish(). `out` is zeroed on error.
std::error_code spake2plus_prover_zv(const spake2plus_prover_secret& secret, bytes_view x,
                                     bytes_view share_v, spake2plus_zv& out) noexcept;

/// The verifier's Z = y*(X - w0*M) and V = y*L, X = `share_p`.
/// Errors: as spake2plus_verifier::respond_with_scalar(). `out` is zeroed on error.
std::error_code spake2plus_verifier_zv(const spake2plus_verifier_data& v, bytes_view y,
                                       bytes_view share_p, spake2plus_zv& out) noexcept;

/// TT (with 8-byte little-endian length prefixes), K_main = SHA-256(TT), K_confirmP ‖
/// K_confirmV = HKDF(nil, K_main, "ConfirmationKeys"), K_shared = HKDF(nil, K_main,
/// "SharedKey"). Takes the values as they are (no point validation).
/// Errors: crypto_errc::mbedtls_failure. `out` is zeroed on error.
std::error_code spake2plus_key_schedule(bytes_view context, bytes_view id_prover,
                                        bytes_view id_verifier, bytes_view share_p,
                                        bytes_view share_v, const spake2plus_zv& zv, bytes_view w0,
                                        spake2plus_keys& out) noexcept;

} // namespace detail

} // namespace lanyard::crypto
