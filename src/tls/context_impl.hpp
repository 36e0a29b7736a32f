// The inside of lanyard::tls::context: the two mbedTLS configurations, DRBG, ticket key and the
// client's session cache.
#pragma once

#include <lanyard/tls/context.hpp>

#include "mbedtls_util.hpp"

#include <mbedtls/ssl.h>
#include <mbedtls/ssl_ticket.h>

#include <array>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace lanyard::tls {

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

struct context::impl {
  impl(identity local, context_options opts);
  ~impl();
  impl(const impl&) = delete;
  impl& operator=(const impl&) = delete;

  /// Builds everything; returns 0 or an mbedTLS error (what failed goes to `what`).
  int setup(std::string& what);

  mbedtls_ssl_config* conf(role r) noexcept { return r == role::client ? &client_ : &server_; }

  void log(std::string_view line) const {
    if (options.log) options.log(line);
  }

  /// Client session cache: serialized mbedtls_ssl_session (mbedtls_ssl_session_save) per peer.
  std::optional<std::vector<unsigned char>> load_session(const std::string& peer_id) const;
  void store_session(const std::string& peer_id, std::vector<unsigned char> blob);
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

  mutable std::mutex sessions_mutex_;
  std::map<std::string, std::vector<unsigned char>, std::less<>> sessions_;
};

} // namespace lanyard::tls
