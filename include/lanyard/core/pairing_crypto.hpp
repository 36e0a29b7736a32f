/// @file
/// The cryptography the pairing exchange needs, as an interface: the core holds the pairing
/// state machines (pairing_initiator.hpp, pairing_responder.hpp) but no cryptography, so it
/// stays standard-library only. lanyard::crypto implements it over mbedTLS
/// (lanyard/crypto/pairing_crypto.hpp); firmware may implement it over its own crypto engine.
///
/// What each operation must compute (docs/PROTOCOL.md § Pairing; both sides must agree):
///  - binding: `exporter` is the TLS exporter of RFC 5705 with label "EXPORTER-lanyard-pairing",
///    no context, 32 bytes, of the connection being paired; the two fingerprints are the
///    controller's and the accessory's certificate keys on that connection.
///  - secret_proof(who): HMAC-SHA256(K, controller fp ‖ accessory fp ‖ exporter) with
///    K = HKDF-SHA256(salt = exporter, ikm = setup secret, info = "lanyard pair v1 controller"
///    or "lanyard pair v1 accessory").
///  - verification_code: the first 4 bytes of HMAC-SHA256(exporter, "lanyard verify v1" ‖
///    controller fp ‖ accessory fp), big-endian, modulo 1,000,000 (six digits shown to people).
///  - SPAKE2+ (RFC 9383, P-256, SHA-256, HKDF, HMAC): context "lanyard pairing v1" ‖ exporter,
///    idProver = controller fp, idVerifier = accessory fp; the prover derives w0, w1 with
///    PBKDF2-HMAC-SHA256(code digits, salt, iterations) as RFC 9383 § 3.2 describes.
///
/// One object serves one connection's exchange. Errors: every operation returns {} or an error;
/// a confirmation that does not match must be pairing_errc::wrong_proof (verifier side) or
/// pairing_errc::accessory_unverified (prover side), a malformed point
/// channel_errc::invalid_frame_field; anything else is an internal failure.
///
/// Thread-safety: distinct objects safe, shared objects unsafe.
#pragma once

#include "lanyard/core/fingerprint.hpp"
#include "lanyard/core/pairing_frame.hpp"

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <system_error>
#include <vector>

namespace lanyard::core {

/// What a proof is bound to: this TLS connection and the two keys on it.
struct pairing_binding {
  std::array<std::uint8_t, 32> exporter{};
  fingerprint controller;
  fingerprint accessory;
};

/// The two ends of a pairing exchange.
enum class pairing_party : std::uint8_t { controller, accessory };

/// The accessory's SPAKE2+ verifier for its setup code (RFC 9383 registration record): the
/// accessory stores this, never the code.
struct setup_code_verifier {
  std::vector<std::uint8_t> salt; ///< 16..32 bytes
  std::uint32_t iterations = 0;   ///< PBKDF2 iterations
  std::array<std::uint8_t, 32> w0{};
  pairing_point L{};
};

/// See the file comment.
class pairing_crypto {
public:
  virtual ~pairing_crypto() = default;

  /// The HMAC proof of `who` over `b`, keyed by the setup secret.
  virtual std::error_code secret_proof(std::span<const std::uint8_t> secret,
                                       const pairing_binding& b, pairing_party who,
                                       pairing_mac& out) = 0;

  /// True if `a` and `b` are equal, in constant time over their contents.
  virtual bool equal(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) = 0;

  /// The six-digit code both sides show for unproven (confirmation) pairing.
  virtual std::error_code verification_code(const pairing_binding& b, std::uint32_t& out) = 0;

  /// Prover: derives w0, w1 from `code` (the 8 ASCII digits), picks x and writes shareP.
  virtual std::error_code code_prover_start(std::string_view code,
                                            std::span<const std::uint8_t> salt,
                                            std::uint32_t iterations, const pairing_binding& b,
                                            pairing_point& share_p) = 0;
  /// Prover: checks confirmV (accessory_unverified if wrong) and writes confirmP.
  virtual std::error_code code_prover_finish(const pairing_point& share_v,
                                             const pairing_mac& confirm_v,
                                             pairing_mac& confirm_p) = 0;
  /// Verifier, optional: picks y and computes what does not depend on the prover's share
  /// (shareV and y·L) ahead of code_verifier_respond(), while the prover runs its PBKDF. The
  /// responder calls it once the salt is on its way. An implementation may do nothing here;
  /// an error only means respond() starts afresh.
  virtual std::error_code code_verifier_prepare(const setup_code_verifier& v) {
    (void)v;
    return {};
  }
  /// Verifier: picks y (or takes the prepared one), writes shareV and confirmV for `share_p`.
  virtual std::error_code code_verifier_respond(const setup_code_verifier& v,
                                                const pairing_binding& b,
                                                const pairing_point& share_p,
                                                pairing_point& share_v, pairing_mac& confirm_v) = 0;
  /// Verifier: checks confirmP (wrong_proof if wrong).
  virtual std::error_code code_verifier_finish(const pairing_mac& confirm_p) = 0;
};

} // namespace lanyard::core
