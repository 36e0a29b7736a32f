/// @file
/// Which side of a TLS handshake this end plays.
#pragma once

namespace lanyard::tls {

/// The side of the handshake. Lanyard's TLS is always mutual: the client (the app, a
/// "controller") and the server (the accessory) both present and verify a certificate.
enum class role {
  client,
  server,
};

/// "client" / "server". Thread-safety: pure function.
constexpr const char* to_string(role r) noexcept {
  return r == role::client ? "client" : "server";
}

} // namespace lanyard::tls
