// The baseline of `lanyard-bench channel`: one plain mbedTLS TLS 1.2 connection (client and
// server ends in this process, over a connected loopback TCP pair) with Lanyard's TLS policy —
// ECDHE-ECDSA-AES128-GCM-SHA256 first, P-256, mutual authentication, ALPN "lanyard/1" — and no
// Lanyard code on the data path. Both ends run in the calling thread: each step calls
// mbedtls_ssl_write / mbedtls_ssl_read until they would block, then poll(2)s both sockets, which
// is what an event loop does, so it competes fairly with Lanyard's single-threaded io_context.
//
// It lives in the benchmark (not in plain_pair.cpp, which only does handshakes) because the
// benchmark owns it; the mbedTLS calls are confined to bench_channel_plain.cpp.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace lanyard::bench {

class plain_tls_stream {
public:
  /// Loads identity.key / identity.crt from both directories (as written by tls::identity),
  /// connects a loopback TCP pair (TCP_NODELAY, like Lanyard's sockets) and runs the handshake.
  /// Returns null with `error` set on failure.
  static std::unique_ptr<plain_tls_stream> open(const std::filesystem::path& server_dir,
                                                const std::filesystem::path& client_dir,
                                                std::string& error);
  ~plain_tls_stream();

  /// The negotiated cipher suite, e.g. "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256".
  std::string ciphersuite() const;

  /// Client → server: `total` bytes written `chunk` bytes per mbedtls_ssl_write call (an
  /// application's "message": one TLS record, and one `send`, per message of up to 16 KiB),
  /// read by the server into a 16 KiB buffer. Returns seconds from the first write to the last
  /// byte read, or a negative value with `error` set.
  double transfer(std::size_t total, std::size_t chunk, std::string& error);

  /// Client → server: `count` messages of `size` bytes, buffered as a program that batches its
  /// writes would, the way Lanyard's session does (core::session::poll_output): each message is
  /// appended to a buffer behind a 4-byte big-endian length, and the buffer is written —
  /// mbedtls_ssl_write with the rest of it until all of it is taken, so one TLS record and one
  /// `send` per 16 KiB — once it holds `batch_bytes` or more, or when no message is left to
  /// append (Lanyard's session adds its 78-byte frames to a write while it holds less than
  /// output_batch_bytes, 64 KiB). The server reads into a 16 KiB buffer and splits the messages
  /// out: whole ones are handed out where they lie, one cut by a read is put together in a second
  /// buffer; it counts them and their bytes, as Lanyard's message handler here does. Returns
  /// seconds from the first write to the last message counted, or a negative value with `error`
  /// set.
  double transfer_buffered(std::size_t count, std::size_t size, std::size_t batch_bytes,
                           std::string& error);

  /// `iterations` request/response round trips of `size` bytes (client writes, server reads
  /// all and writes them back, client reads all). Appends each round trip's time in
  /// microseconds to `samples_us`. Returns false with `error` set on failure.
  bool round_trips(std::size_t iterations, std::size_t size, std::vector<double>& samples_us,
                   std::string& error);

  struct impl;

private:
  explicit plain_tls_stream(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace lanyard::bench
