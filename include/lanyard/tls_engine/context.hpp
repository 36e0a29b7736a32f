/// @file
/// TLS configuration shared by many connections: our identity, the pin verifier, timeouts, the
/// server's session-ticket key and the client's cache of sessions to resume.
///
/// The policy is fixed, not configurable: TLS 1.2 only; cipher suites
/// ECDHE-ECDSA-AES128-GCM-SHA256 and ECDHE-ECDSA-CHACHA20-POLY1305-SHA256 only; curve P-256;
/// signatures ECDSA with SHA-256; ALPN required on both sides; mutual authentication (the server
/// requests and requires a client certificate); no CA chain - the peer's key is accepted only
/// if the peer_verifier accepts its fingerprint.
#pragma once

#include <lanyard/core/diagnostic.hpp>
#include <lanyard/tls_engine/entropy.hpp>
#include <lanyard/tls_engine/identity.hpp>
#include <lanyard/tls_engine/peer_verifier.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

namespace lanyard::tls {

/// Values of core::field_key::step in the errors of context::create(): which part of the setup
/// failed.
namespace context_step {
/// Seeding the context's random generator from the entropy source (context_options::entropy,
/// else the system's): a failing platform callback is reported here.
inline constexpr std::string_view seed_random = "seed_random";
/// mbedtls_ssl_config_defaults for the client or the server configuration.
inline constexpr std::string_view configure = "configure";
/// Installing the identity's key and certificate.
inline constexpr std::string_view own_certificate = "own_certificate";
/// Setting the ALPN protocol (context_options::alpn must be 1-255 bytes).
inline constexpr std::string_view alpn = "alpn";
/// Generating the session-ticket key.
inline constexpr std::string_view ticket_key = "ticket_key";
} // namespace context_step

/// Settings of a context. All have working defaults except `verifier`, which has none on
/// purpose: without one every handshake fails with tls_errc::no_peer_verifier.
struct context_options {
  /// Default pin check for streams that do not set their own (stream::set_verifier).
  peer_verifier verifier;
  /// Default handshake timeout for streams (both roles); zero disables it.
  std::chrono::milliseconds handshake_timeout{std::chrono::seconds(10)};
  /// The one ALPN protocol offered (client) and accepted (server). Changing it is for tests of
  /// version mismatches; real endpoints keep "lanyard/1".
  std::string alpn = "lanyard/1";
  /// Server: issue session tickets (RFC 5077) so reconnecting clients resume with an
  /// abbreviated handshake. Client: offer tickets and cache sessions per peer id.
  bool session_tickets = true;
  /// Server: how long a ticket (and its encryption key) is valid. Keys rotate at this period.
  std::chrono::seconds ticket_lifetime{std::chrono::hours(24)};
  /// Receives each failure or notable event of the streams and engines made from this context
  /// as a core::diagnostic: ids in lanyard/tls_engine/diagnostics.hpp (tls.handshake_failed,
  /// tls.read_failed, ...), the code the operation completed with, and fields (role, the
  /// mbedTLS error, the alert, the peer's fingerprint); docs/diagnostics.md § TLS lists them.
  /// The same error_detail is kept as engine::last_error(). Called on the stream's thread,
  /// during the operation (possibly inside mbedTLS): it must not call back into the stream.
  /// May be empty.
  core::diagnostics_handler diagnostics;
  /// Receives one line per failure or notable event ("TLS handshake as client failed: ...
  /// mbedTLS: SSL - ... (-0x7780)"): the `text` of each diagnostic, when `diagnostics` is
  /// empty. Called on the stream's thread; may be empty.
  std::function<void(std::string_view line)> log;
  /// True: a failure is described (engine::last_error()'s sentence and fields, `diagnostics`,
  /// `log`). False: only its code is kept (last_error().code; the sentence is empty) and
  /// nothing is reported, because composing the sentence allocates. Firmware that allocates
  /// nothing after start-up sets it false (the C API and examples/firmware_lamp do): then a
  /// stranger's failed handshake costs no heap. The codes are the same either way.
  bool describe_failures = true;
  /// The platform's entropy source (firmware): seeds the context's CTR-DRBG, and reseeds it,
  /// instead of mbedTLS's default source (lanyard/tls_engine/entropy.hpp). Empty: the default.
  /// The callback and its `user` must outlive the context and its engines.
  entropy_source entropy;
};

/// Shared TLS configuration (like asio::ssl::context). A cheap, copyable handle: copies refer
/// to the same configuration, ticket key and session cache, which live as long as any copy or
/// any stream/engine made from it.
///
/// Construction seeds a CTR-DRBG (one per context) from options.entropy or, without one, from
/// the system entropy source, builds a client and a server mbedTLS configuration and, for
/// servers, a ticket key.
///
/// Errors: the constructor throws std::system_error (tls_errc::crypto_failure, with mbedTLS's
/// reason in what()) if seeding, configuration or ticket-key generation fails; use create() for
/// a core::error_detail: `code` tls_errc::crypto_failure, one sentence ("setting ALPN \"\":
/// mbedTLS: ..."), and the fields core::field_key::step (one of context_step below) and
/// core::field_key::mbedtls_error (mbedTLS's negative return code); tls_errc::bad_identity_file
/// without fields for an empty identity.
///
/// Thread-safety: after construction a context may be shared by streams running on different
/// threads: the configuration is read-only, the DRBG and ticket key are protected by mbedTLS
/// mutexes (MBEDTLS_THREADING_C), the session cache by a std::mutex. The options are fixed at
/// construction.
class context {
public:
  /// Throws std::system_error on failure (see above). Precondition: `local` is not empty.
  /// Defined only when lanyard::tls_engine is built with exceptions (not in the
  /// core-freestanding build, nor in firmware): use create() there.
  explicit context(identity local, context_options options = {});

  /// Non-throwing construction; returns an empty handle (`!ctx`) and fills `error` on failure
  /// (see Errors above); clears `error` on success.
  static context create(identity local, context_options options, core::error_detail& error);
  /// Kept for compatibility: as above with only the code in `ec` and the sentence in `*detail`
  /// if not null.
  static context create(identity local, context_options options, std::error_code& ec,
                        std::string* detail = nullptr);

  context() noexcept = default;
  explicit operator bool() const noexcept { return impl_ != nullptr; }

  const identity& local_identity() const noexcept;
  const context_options& options() const noexcept;

  /// Client: drop the cached session of `peer_id`, so the next connection to it does a full
  /// handshake (call when a pin is forgotten or changed; a stale session would still be
  /// re-checked by the verifier, this just avoids the attempt).
  void forget_session(std::string_view peer_id);
  /// Client: drop all cached sessions.
  void clear_sessions();
  /// Client: number of peers with a cached session.
  std::size_t cached_sessions() const;

  struct impl; ///< Defined in src/tls; opaque to users.
  /// For the engine (src/tls). Not part of the stable API.
  const std::shared_ptr<impl>& internal() const noexcept { return impl_; }

private:
  std::shared_ptr<impl> impl_;
};

} // namespace lanyard::tls
