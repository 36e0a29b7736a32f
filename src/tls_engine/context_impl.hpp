// The inside of lanyard::tls::context: the two mbedTLS configurations, DRBG, ticket key and the
// client's session cache.
#pragma once

#include <lanyard/core/diagnostic.hpp>
#include <lanyard/core/fingerprint.hpp>
#include <lanyard/tls_engine/context.hpp>

#include "mbedtls_util.hpp"

#include <mbedtls/ssl.h>
#include <mbedtls/ssl_ticket.h>

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace lanyard::tls {

// The client session cache is shared by the threads of an app. A standard library without
// threads (arm-none-eabi's newlib: libstdc++ without gthreads, where std::mutex does not exist)
// runs on one thread, firmware's poll loop: there is nothing to exclude.
#if !defined(__GLIBCXX__) || defined(_GLIBCXX_HAS_GTHREADS)
using session_cache_mutex = std::mutex;
#else
struct session_cache_mutex {
  void lock() noexcept {}
  void unlock() noexcept {}
};
#endif

namespace detail {
/// The server's ticket-parse callback (engine.cpp): mbedtls_ssl_ticket_parse, then the pin
/// check of the connection being handshaken on the session's client certificate.
int ticket_parse(void* p_ticket, mbedtls_ssl_session* session, unsigned char* buf, size_t len);
/// The key-export callback (engine.cpp): computes the connection's RFC 5705 exporter for
/// pairing (engine::exporter()).
int export_keys(void* p_expkey, const unsigned char* master, const unsigned char* key_block,
                size_t maclen, size_t keylen, size_t ivlen, const unsigned char client_random[32],
                const unsigned char server_random[32], mbedtls_tls_prf_types prf);
} // namespace detail

/// A client's cached session, kept parsed rather than serialized: offering it is one
/// mbedtls_ssl_set_session (a copy), where a serialized one took a mbedtls_ssl_session_load
/// (a certificate parse) first, two mbedtls_ssl_session_save to store it, and a SHA-256 of the
/// peer's key to show the verifier (docs/PERFORMANCE.md § Handshake). Shared and immutable:
/// engines on several threads may offer it while the cache replaces it.
struct cached_session {
  cached_session() noexcept { mbedtls_ssl_session_init(&session); }
  ~cached_session() { mbedtls_ssl_session_free(&session); }
  cached_session(const cached_session&) = delete;
  cached_session& operator=(const cached_session&) = delete;

  mbedtls_ssl_session session;
  // The session's peer key as it was verified when the session was stored: the pin verifier
  // is asked again before every offer (a key unpinned since must not resume), with these.
  core::fingerprint peer_fp{};
  std::string peer_cn;
};

struct context::impl {
  impl(identity local, context_options opts);
  ~impl();
  impl(const impl&) = delete;
  impl& operator=(const impl&) = delete;

  /// Builds everything; returns 0 or an mbedTLS error (what failed goes to `what`, as a phrase,
  /// and to `step`, a context_step).
  int setup(std::string_view& what, std::string_view& step);

  mbedtls_ssl_config* conf(role r) noexcept { return r == role::client ? &client_ : &server_; }

  /// Reports a diagnostic of one of this context's engines: to options.diagnostics, else its
  /// text to options.log (core::emit_diagnostic).
  void emit(const core::diagnostic& d) const {
    core::emit_diagnostic(options.diagnostics, options.log, d);
  }

  /// Client session cache, one session per peer id.
  std::shared_ptr<const cached_session> load_session(const std::string& peer_id) const;
  void store_session(const std::string& peer_id, std::shared_ptr<const cached_session> session);
  void erase_session(std::string_view peer_id);

  identity local;
  context_options options;

  detail::drbg rng;
  mbedtls_ssl_config client_;
  mbedtls_ssl_config server_;
  mbedtls_ssl_ticket_context ticket_;
  mbedtls_x509_crt_profile profile_{};
  // NUL-terminated lists mbedTLS keeps pointers to: must live as long as the configs.
  std::array<int, 3> ciphersuites_{};
  std::array<mbedtls_ecp_group_id, 2> curves_{};
  std::array<int, 2> sig_hashes_{};
  std::string alpn_storage_;
  std::array<const char*, 2> alpn_list_{};

  mutable session_cache_mutex sessions_mutex_;
  std::map<std::string, std::shared_ptr<const cached_session>, std::less<>> sessions_;
};

} // namespace lanyard::tls
