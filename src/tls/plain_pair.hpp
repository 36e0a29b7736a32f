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
  /// Loads identity.key / identity.crt from both directories (as written by tls::identity).
  /// The client trusts exactly the server's certificate and vice versa (configured as the only
  /// CA, which is how a plain mbedTLS program pins a self-signed peer).
  static std::unique_ptr<plain_pair> create(const std::filesystem::path& server_dir,
                                            const std::filesystem::path& client_dir,
                                            std::string& error);
  ~plain_pair();

  /// Runs one handshake between connected sockets `client_fd` and `server_fd` (set to
  /// non-blocking here), both sides in the calling thread. `resume`: the client offers the
  /// session of its previous successful handshake. Returns 0 or an mbedTLS error (with
  /// `error` set); `resumed` tells whether no certificate was verified (abbreviated).
  int handshake(int client_fd, int server_fd, bool resume, bool& resumed, std::string& error);

  struct impl;

private:
  explicit plain_pair(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace lanyard::tls::detail
