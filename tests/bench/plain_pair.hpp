// A plain mbedTLS client/server pair with Lanyard's TLS policy and no Lanyard code on the
// handshake path: the baseline of `lanyard-bench handshake`. Private (not installed); it lives
// in src/tls so that every mbedTLS call stays in this directory.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

namespace lanyard::tls::detail {

class plain_pair {
public:
  /// How the pair moves ciphertext between mbedTLS and the sockets.
  enum class io_mode {
    /// The same I/O as Lanyard's engine and stream: one recv() of up to 16.5 KiB into a
    /// buffer mbedTLS then reads from, and everything one mbedtls_ssl_handshake call wrote
    /// sent with one send(). Then the two sides differ only by what Lanyard adds.
    buffered,
    /// mbedtls_net_recv / mbedtls_net_send, as mbedTLS's sample programs do: a read() for each
    /// record header and each record body, a write() per record, and an fcntl(F_GETFL) after
    /// each EAGAIN (mbedtls_net_recv checks that the socket is non-blocking).
    mbedtls_net,
  };

  /// Loads identity.key / identity.crt from both directories (as written by tls::identity).
  /// The client trusts exactly the server's certificate and vice versa (configured as the only
  /// CA, which is how a plain mbedTLS program pins a self-signed peer).
  static std::unique_ptr<plain_pair> create(const std::filesystem::path& server_dir,
                                            const std::filesystem::path& client_dir, io_mode io,
                                            std::string& error);
  ~plain_pair();

  /// One connection's whole TLS life on both ends, in the calling thread, between the
  /// connected, already non-blocking sockets `client_fd` and `server_fd` (it does not change
  /// their flags and does not close them): mbedtls_ssl_init + mbedtls_ssl_setup of a client and
  /// a server context, the handshake (both mbedtls_ssl_handshake calls in one poll() loop),
  /// the client keeping its session for the next resumption (mbedtls_ssl_get_session, as a
  /// plain mbedTLS client must), then mbedtls_ssl_free of both. `resume`: the client offers the
  /// session kept from its previous successful handshake. Returns 0 or an mbedTLS error (with
  /// `error` set; MBEDTLS_ERR_SSL_TIMEOUT if neither end progressed for 5 s); `resumed` tells
  /// whether no certificate was verified (abbreviated handshake). This is what
  /// `lanyard-bench handshake` times, matched by the same per-connection work on Lanyard's
  /// side (tls::stream construction, handshake, destruction).
  int handshake(int client_fd, int server_fd, bool resume, bool& resumed, std::string& error);

  struct impl;

private:
  explicit plain_pair(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace lanyard::tls::detail
