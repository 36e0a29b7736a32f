#include "lanyard/crypto/pairing_crypto.hpp"

#include <lanyard/core/channel_error.hpp>
#include <lanyard/core/pairing_error.hpp>

#include <string>

namespace lanyard::crypto {
namespace {

constexpr std::string_view spake_context_label = "lanyard pairing v1";

bytes_view as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// "lanyard pairing v1" ‖ exporter: the SPAKE2+ context (RFC 9383 § 3.3).
std::array<std::uint8_t, 18 + 32> spake_context(const core::pairing_binding& b) {
  std::array<std::uint8_t, 18 + 32> c{};
  std::copy(spake_context_label.begin(), spake_context_label.end(), c.begin());
  std::copy(b.exporter.begin(), b.exporter.end(), c.begin() + 18);
  return c;
}

// The core's contract: a peer's point that is no point is a malformed frame field; a wrong
// confirmation is the peer's failed proof.
std::error_code translate(std::error_code ec, core::pairing_errc mismatch) {
  if (ec == crypto_errc::bad_point) return core::channel_errc::invalid_frame_field;
  if (ec == crypto_errc::confirmation_mismatch) return mismatch;
  return ec;
}

} // namespace

std::error_code mbedtls_pairing_crypto::secret_proof(std::span<const std::uint8_t> secret,
                                                     const core::pairing_binding& b,
                                                     core::pairing_party who,
                                                     core::pairing_mac& out) {
  const std::string_view info = who == core::pairing_party::controller
                                    ? "lanyard pair v1 controller"
                                    : "lanyard pair v1 accessory";
  std::array<std::uint8_t, 32> key{};
  std::error_code ec = hkdf_sha256(b.exporter, secret, as_bytes(info), key);
  if (!ec)
    ec = hmac_sha256(key, {b.controller.bytes, b.accessory.bytes, b.exporter},
                     std::span<std::uint8_t, 32>(out));
  wipe(key);
  return ec;
}

bool mbedtls_pairing_crypto::equal(std::span<const std::uint8_t> a,
                                   std::span<const std::uint8_t> b) {
  return equal_constant_time(a, b);
}

std::error_code mbedtls_pairing_crypto::verification_code(const core::pairing_binding& b,
                                                          std::uint32_t& out) {
  std::array<std::uint8_t, 32> mac{};
  if (std::error_code ec = hmac_sha256(
          b.exporter, {as_bytes("lanyard verify v1"), b.controller.bytes, b.accessory.bytes}, mac))
    return ec;
  const std::uint32_t v = static_cast<std::uint32_t>(mac[0]) << 24 |
                          static_cast<std::uint32_t>(mac[1]) << 16 |
                          static_cast<std::uint32_t>(mac[2]) << 8 | mac[3];
  out = v % 1'000'000;
  return {};
}

std::error_code mbedtls_pairing_crypto::code_prover_start(std::string_view code,
                                                          std::span<const std::uint8_t> salt,
                                                          std::uint32_t iterations,
                                                          const core::pairing_binding& b,
                                                          core::pairing_point& share_p) {
  spake2plus_prover_secret secret;
  if (std::error_code ec = spake2plus_derive(as_bytes(code), salt, iterations, secret)) return ec;
  auto& prover = spake_.emplace<spake2plus_prover>();
  const auto context = spake_context(b);
  return prover.start(context, b.controller.bytes, b.accessory.bytes, secret, rng_, share_p);
}

std::error_code mbedtls_pairing_crypto::code_prover_finish(const core::pairing_point& share_v,
                                                           const core::pairing_mac& confirm_v,
                                                           core::pairing_mac& confirm_p) {
  auto* prover = std::get_if<spake2plus_prover>(&spake_);
  if (!prover) return crypto_errc::wrong_state;
  std::array<std::uint8_t, spake2plus_shared_key_size> shared{};
  std::error_code ec = prover->finish(share_v, confirm_v, confirm_p, shared);
  wipe(shared); // the TLS connection already encrypts; the proof is what pairing needs
  return translate(ec, core::pairing_errc::accessory_unverified);
}

std::error_code mbedtls_pairing_crypto::code_verifier_prepare(const core::setup_code_verifier& v) {
  spake2plus_verifier_data data;
  data.w0 = v.w0;
  data.L = v.L;
  std::error_code ec = spake_.emplace<spake2plus_verifier>().prepare(data, rng_);
  if (ec) spake_.emplace<std::monostate>(); // respond() starts afresh
  return ec;
}

std::error_code mbedtls_pairing_crypto::code_verifier_respond(const core::setup_code_verifier& v,
                                                              const core::pairing_binding& b,
                                                              const core::pairing_point& share_p,
                                                              core::pairing_point& share_v,
                                                              core::pairing_mac& confirm_v) {
  spake2plus_verifier_data data;
  data.w0 = v.w0;
  data.L = v.L;
  auto* verifier = std::get_if<spake2plus_verifier>(&spake_);
  if (!verifier) verifier = &spake_.emplace<spake2plus_verifier>();
  const auto context = spake_context(b);
  std::error_code ec = verifier->respond(context, b.controller.bytes, b.accessory.bytes, data,
                                         share_p, rng_, share_v, confirm_v);
  return translate(ec, core::pairing_errc::wrong_proof);
}

std::error_code mbedtls_pairing_crypto::code_verifier_finish(const core::pairing_mac& confirm_p) {
  auto* verifier = std::get_if<spake2plus_verifier>(&spake_);
  if (!verifier) return crypto_errc::wrong_state;
  std::array<std::uint8_t, spake2plus_shared_key_size> shared{};
  std::error_code ec = verifier->finish(confirm_p, shared);
  wipe(shared);
  return translate(ec, core::pairing_errc::wrong_proof);
}

std::error_code make_setup_code_verifier(std::string_view code, random_source rng,
                                         std::uint32_t iterations, core::setup_code_verifier& out) {
  if (rng.fill == nullptr) return crypto_errc::bad_input;
  core::setup_code_verifier v;
  v.salt.resize(default_setup_code_salt);
  if (rng.fill(rng.ctx, v.salt.data(), v.salt.size()) != 0) return crypto_errc::random_failure;
  v.iterations = iterations;
  spake2plus_prover_secret secret;
  if (std::error_code ec = spake2plus_derive(as_bytes(code), v.salt, iterations, secret)) return ec;
  spake2plus_verifier_data data;
  if (std::error_code ec = spake2plus_make_verifier(secret, data)) return ec;
  v.w0 = data.w0;
  v.L = data.L;
  out = std::move(v);
  return {};
}

} // namespace lanyard::crypto
