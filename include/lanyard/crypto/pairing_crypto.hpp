/// @file
/// core::pairing_crypto over mbedTLS (HKDF, HMAC, PBKDF2, SPAKE2+ of spake2plus.hpp): what the
/// app side and the accessory pass to core::pairing_initiator / core::pairing_responder. Also
/// the accessory's one-time set-up: its setup secret, setup code and the code's verifier.
///
/// Thread-safety: distinct objects safe, shared objects unsafe (one object per exchange). The
/// free functions are safe from any thread.
#pragma once

#include <lanyard/core/pairing_crypto.hpp>
#include <lanyard/crypto/primitives.hpp>
#include <lanyard/crypto/spake2plus.hpp>

#include <array>
#include <cstdint>
#include <string_view>
#include <system_error>
#include <variant>

namespace lanyard::crypto {

/// PBKDF2 iterations of a new setup-code verifier. Only the controller runs PBKDF2 (the
/// accessory stores w0 and L), once per pairing. 1,000 is Matter's minimum: the 8-digit code
/// has about 23 bits, so no iteration count makes an offline search of a stolen verifier
/// costly (10^7 guesses × 1,000 iterations is minutes of GPU time); the defence is that the
/// verifier never leaves the accessory and that online guesses are capped at 20. A higher count
/// would only slow every honest pairing. docs/SECURITY.md explains the choice.
inline constexpr std::uint32_t default_setup_code_iterations = 1000;

/// Salt length of a new verifier (RFC 9383 / Matter: 16 to 32 bytes).
inline constexpr std::size_t default_setup_code_salt = 16;

/// See the file comment.
class mbedtls_pairing_crypto final : public core::pairing_crypto {
public:
  /// `rng` draws the SPAKE2+ scalars; its context must outlive the object.
  explicit mbedtls_pairing_crypto(random_source rng = system_random()) noexcept : rng_(rng) {}

  std::error_code secret_proof(std::span<const std::uint8_t> secret, const core::pairing_binding& b,
                               core::pairing_party who, core::pairing_mac& out) override;
  bool equal(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) override;
  std::error_code verification_code(const core::pairing_binding& b, std::uint32_t& out) override;
  std::error_code code_prover_start(std::string_view code, std::span<const std::uint8_t> salt,
                                    std::uint32_t iterations, const core::pairing_binding& b,
                                    core::pairing_point& share_p) override;
  std::error_code code_prover_finish(const core::pairing_point& share_v,
                                     const core::pairing_mac& confirm_v,
                                     core::pairing_mac& confirm_p) override;
  std::error_code code_verifier_prepare(const core::setup_code_verifier& v) override;
  std::error_code code_verifier_respond(const core::setup_code_verifier& v,
                                        const core::pairing_binding& b,
                                        const core::pairing_point& share_p,
                                        core::pairing_point& share_v,
                                        core::pairing_mac& confirm_v) override;
  std::error_code code_verifier_finish(const core::pairing_mac& confirm_p) override;

private:
  random_source rng_;
  // The one SPAKE2+ side this object plays, in place (a pairing allocates nothing): the
  // controller's prover or the accessory's verifier.
  std::variant<std::monostate, spake2plus_prover, spake2plus_verifier> spake_;
};

/// Makes the verifier of setup code `code` (the 8 ASCII digits) with a fresh random salt.
/// Errors: crypto_errc (bad_input, random_failure, mbedtls_failure).
std::error_code make_setup_code_verifier(std::string_view code, random_source rng,
                                         std::uint32_t iterations, core::setup_code_verifier& out);

} // namespace lanyard::crypto
