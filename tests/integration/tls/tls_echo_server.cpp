// A tiny TLS echo server on 127.0.0.1 for interoperability tests (openssl_s_client_test.sh):
// Lanyard's server side (identity on disk, mbedTLS, pin check) against a foreign client.
//
//   tls_echo_server --dir DIR --device-id ID --pin FINGERPRINT [--connections N]
//
// Prints "port <n>" and "fingerprint <64 hex digits>" on stdout once listening, then serves
// connections one at a time: handshake as server (only the client key whose fingerprint is
// --pin is trusted), echo every chunk back, and close after a chunk containing "bye". Each
// handshake result is one line on stderr ("handshake ok ..." / "handshake failed: ...").
// Exits after N connections (default: runs until killed).
#include <lanyard/core/fingerprint.hpp>
#include <lanyard/tls/stream.hpp>
#include <lanyard/tls_engine/context.hpp>
#include <lanyard/tls_engine/error.hpp>
#include <lanyard/tls_engine/identity.hpp>
#include <lanyard/tls_engine/identity_files.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <span>
#include <string>
#include <string_view>

// GCC 12 reports a false -Wmismatched-new-delete on asio's awaitable frames (its coroutine frame
// operator new/delete pair is matched; GCC does not see through the coroutine lowering).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

using asio::ip::tcp;
namespace tls = lanyard::tls;
namespace core = lanyard::core;

namespace {

// The pairing exporter (RFC 5705, "EXPORTER-lanyard-pairing", 32 bytes), for a check against
// OpenSSL's -keymatexport.
std::string hex(std::optional<std::span<const std::uint8_t, 32>> bytes) {
  if (!bytes) return "none";
  std::string out;
  static constexpr char digits[] = "0123456789abcdef";
  for (std::uint8_t b : *bytes) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

std::string describe(std::error_code ec) {
  return ec.message() + " [" + ec.category().name() + ":" + std::to_string(ec.value()) + "]";
}

asio::awaitable<void> serve(tls::stream<tcp::socket> s) {
  std::error_code ec;
  co_await s.async_handshake(tls::role::server, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    std::cerr << "handshake failed: " << describe(ec) << " | " << s.last_error_detail()
              << std::endl;
    co_return;
  }
  std::cerr << "handshake ok alpn=" << s.alpn_protocol() << " suite=" << s.ciphersuite()
            << " resumed=" << (s.resumed() ? "yes" : "no")
            << " peer=" << core::to_string(s.peer_fingerprint(), core::fingerprint_format::hex)
            << " exporter=" << hex(s.exporter()) << std::endl;
  std::array<char, 4096> buf{};
  for (;;) {
    std::size_t n = co_await s.async_read_some(asio::buffer(buf),
                                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    co_await asio::async_write(s, asio::buffer(buf.data(), n),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    if (std::string_view(buf.data(), n).find("bye") != std::string_view::npos) {
      co_await s.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
      break;
    }
  }
  std::error_code ignored;
  s.next_layer().shutdown(tcp::socket::shutdown_both, ignored);
  s.next_layer().close(ignored);
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, tls::context ctx, long connections) {
  for (long i = 0; connections <= 0 || i < connections; ++i) {
    std::error_code ec;
    tcp::socket sock =
        co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    co_await serve(tls::stream<tcp::socket>(std::move(sock), ctx));
  }
}

[[noreturn]] void usage() {
  std::cerr << "usage: tls_echo_server --dir DIR --device-id ID --pin FINGERPRINT "
               "[--connections N]\n";
  std::exit(2);
}

} // namespace

int main(int argc, char** argv) {
  std::string dir, device_id, pin_text;
  long connections = 0;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (i + 1 >= argc) usage();
    if (a == "--dir")
      dir = argv[++i];
    else if (a == "--device-id")
      device_id = argv[++i];
    else if (a == "--pin")
      pin_text = argv[++i];
    else if (a == "--connections")
      connections = std::strtol(argv[++i], nullptr, 10);
    else
      usage();
  }
  if (dir.empty() || device_id.empty() || pin_text.empty()) usage();

  core::fingerprint_parse_result pin = core::parse_fingerprint(pin_text);
  if (!pin) {
    std::cerr << "tls_echo_server: --pin: " << pin.describe() << "\n";
    return 2;
  }
  lanyard::core::error_detail id_error;
  tls::identity id = tls::identity_files::load_or_create(dir, device_id, id_error);
  if (id_error) {
    std::cerr << "tls_echo_server: " << id_error.message() << "\n";
    return 1;
  }

  tls::context_options options;
  options.verifier = [expected = pin.value](const core::fingerprint& presented,
                                            const tls::peer_cert_info&) -> std::error_code {
    if (presented == expected) return {};
    return std::make_error_code(std::errc::permission_denied);
  };
  options.log = [](std::string_view line) { std::cerr << "log: " << line << std::endl; };
  tls::context ctx(id, options);

  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  std::cout << "port " << acceptor.local_endpoint().port() << "\n"
            << "fingerprint " << core::to_string(id.fingerprint(), core::fingerprint_format::hex)
            << std::endl;
  asio::co_spawn(io, accept_loop(acceptor, ctx, connections), asio::detached);
  io.run();
  return 0;
}
