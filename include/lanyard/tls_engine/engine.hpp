/// @file
/// The TLS engine: one mbedTLS connection that does no I/O (the shape of asio's
/// ssl/detail/engine.hpp). Ciphertext from the network is pushed in with prepare_input() /
/// commit_input(); ciphertext to send is taken with output() / consume_output(). Each operation
/// says what it needs next:
///
///  - want::input_and_retry:  read more ciphertext from the network (first send output() if
///                            it is not empty), then call the operation again;
///  - want::output_and_retry: send output(), then call the operation again;
///  - want::output:           send output(); the operation is complete;
///  - want::nothing:          the operation is complete.
///
/// An operation that fails sets `ec` and returns want::output when there is an alert to send
/// (send it, best effort, then report `ec`) or want::nothing. tls::stream (lanyard::tls) drives
/// an engine over an asio stream; firmware, a benchmark or a test may drive it over anything.
///
/// Module: lanyard::tls_engine, which depends on lanyard::core and mbedTLS only (no asio, no
/// threads of its own) and builds with -fno-exceptions -fno-rtti, so firmware links it.
///
/// Errors: std::error_code, never an exception. tls_errc (lanyard/tls_engine/error.hpp) for the
/// TLS layer's failures, or the pin verifier's own code when it refused the peer. The end of
/// the peer's data (its close_notify) is tls_errc::closed_by_peer: the engine knows nothing of
/// asio, and tls::stream turns it into asio::error::eof for asio's readers. A verifier that
/// throws (a bug) refuses the peer with std::errc::state_not_recoverable when the engine is
/// built with exceptions; built without them, the verifier cannot throw.
///
/// Memory: two ways to hold the ciphertext.
///  - engine(context): the engine allocates its buffers itself (prepare_input(), output()) and
///    frees them when idle (release_input(), release_output()); a write() may grow the output
///    to 64 KiB. What tls::stream uses.
///  - engine(context, engine_buffers) / create(): the ciphertext lives in two spans the caller
///    gives (firmware: static or arena memory) and the engine never allocates for it; a write()
///    encrypts only what fits in the free output room. tests/unit/tls_engine/
///    engine_buffers_test.cpp counts: no C++ allocation by reads and writes after the handshake.
/// Either way mbedTLS keeps its own record buffers besides (MBEDTLS_SSL_IN_CONTENT_LEN /
/// OUT_CONTENT_LEN, 16 KiB each, allocated by mbedtls_ssl_setup() at the first handshake()
/// with the C library's calloc: Debian's build has no MBEDTLS_PLATFORM_MEMORY to redirect it).
///
/// Thread-safety: distinct objects safe, shared objects unsafe (one operation at a time; a
/// read and a write may alternate). Engines made from one context may run on different
/// threads (tls::context is safe to share); the verifier and the context's diagnostics
/// handler are called on the thread running the operation, inside it.
#pragma once

#include <lanyard/core/error_detail.hpp>
#include <lanyard/core/fingerprint.hpp>
#include <lanyard/tls_engine/context.hpp>
#include <lanyard/tls_engine/peer_verifier.hpp>
#include <lanyard/tls_engine/role.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace lanyard::tls {

/// Ciphertext buffers the caller owns, for engine(context, engine_buffers): they must outlive
/// the engine (and its moves) and are not touched by anything else meanwhile.
struct engine_buffers {
  /// Neither has to hold a whole TLS record: mbedTLS assembles records in its own buffers
  /// (MBEDTLS_SSL_IN_CONTENT_LEN / OUT_CONTENT_LEN), takes ciphertext in whatever pieces the
  /// input buffer holds, and keeps what does not fit in the output buffer until the caller made
  /// room (operations return want::output_and_retry meanwhile). Smaller buffers cost round
  /// trips through the caller and, for write(), smaller records (each adds its expansion: 29
  /// bytes with AES-GCM); a firmware sizes the output buffer for its largest frame so that one
  /// write() fits. Minimums: 256 bytes each (the output's must exceed a record's expansion).
  static constexpr std::size_t min_input_bytes = 256;
  static constexpr std::size_t min_output_bytes = 256;

  /// Ciphertext received and not yet taken by mbedTLS (prepare_input() hands out its free room).
  std::span<std::uint8_t> input;
  /// Ciphertext waiting to be sent (output()).
  std::span<std::uint8_t> output;
};

class engine {
public:
  enum class want {
    input_and_retry,
    output_and_retry,
    output,
    nothing,
  };

  /// An engine using `ctx`'s configuration (the engine keeps the context alive).
  /// Precondition: `ctx` is not empty.
  explicit engine(context ctx);
  /// An engine whose ciphertext lives in `buffers` (see Memory above): it never allocates for
  /// it. Preconditions: `ctx` is not empty; each buffer is at least engine_buffers::min_*_bytes
  /// (create() checks both).
  engine(context ctx, engine_buffers buffers);
  /// The checked form of engine(ctx, buffers): an empty optional and `error` filled
  /// (std::errc::invalid_argument, a sentence with the sizes given and required) if a buffer is
  /// too small or `ctx` is empty; `error` cleared on success. Never throws.
  /// Its memory comes from the non-throwing operator new: std::errc::not_enough_memory (the
  /// code alone, no sentence) if that failed.
  static std::optional<engine> create(context ctx, engine_buffers buffers,
                                      core::error_detail& error);
  /// create() for firmware: the error code alone (std::errc::invalid_argument,
  /// std::errc::not_enough_memory), so that neither the sentences nor their code are linked.
  static std::optional<engine> create(context ctx, engine_buffers buffers,
                                      std::error_code& error) noexcept;
  ~engine();
  engine(engine&&) noexcept;
  engine& operator=(engine&&) noexcept;

  /// Returns the engine to the state it was made in, for a new connection: same context and
  /// buffers, everything of the last connection forgotten (its mbedTLS SSL context freed, the
  /// peer, the results, the verifier set with set_verifier(), last_error()). Allocates
  /// nothing: a firmware makes one engine per connection slot at start-up and resets it when
  /// the slot is reused. Does nothing on an engine moved from.
  void reset() noexcept;

  // --- Before the handshake. ---

  /// The id of the peer this connection is for (the accessory's device id on a client; free
  /// text on a server). Client: the key of the session cache, so a later connection with the
  /// same peer id resumes the session. Passed to the verifier as peer_cert_info::expected_peer_id.
  void set_peer_id(std::string peer_id);
  /// Overrides the context's verifier for this connection (e.g. a lambda pinning one device).
  void set_verifier(peer_verifier verifier);

  // --- Operations. ---

  /// Advances the handshake as `r`. Errors: the verifier's error, or tls_errc (alpn_mismatch,
  /// peer_rejected_certificate, handshake_failed, ...), or tls_errc::already_handshaken.
  want handshake(role r, std::error_code& ec);
  /// Decrypts up to out.size() bytes into `out`; `n` receives the count. Errors:
  /// tls_errc::closed_by_peer after the peer's close_notify (and on every read after it; there
  /// may be a want::output with it: the alert mbedTLS answers with), tls_errc::bad_record,
  /// peer_alert, protocol_error, not_connected. (tls::stream reports closed_by_peer as
  /// asio::error::eof.)
  want read(std::span<std::uint8_t> out, std::size_t& n, std::error_code& ec);
  /// Encrypts up to in.size() bytes (at most 64 KiB per call) into output(); `n` receives how
  /// many were consumed. With engine_buffers, only what fits in the free output room: if not all
  /// of `in` was consumed (possibly none) it returns want::output_and_retry (send output(),
  /// write the rest); a full buffer is never an error. Errors: tls_errc::not_connected.
  want write(std::span<const std::uint8_t> in, std::size_t& n, std::error_code& ec);
  /// Queues a close_notify alert in output(). With engine_buffers and a full output buffer:
  /// want::output_and_retry (send output(), call shutdown() again for the rest).
  want shutdown(std::error_code& ec);

  // --- Ciphertext buffers. ---

  /// Ciphertext waiting to be sent; valid until the next call on the engine (with
  /// engine_buffers it is a part of the caller's output buffer, moved to its front when the
  /// engine needs room).
  std::span<const std::uint8_t> output() const noexcept;
  /// Drops the first `n` bytes of output() (they were sent).
  void consume_output(std::size_t n) noexcept;
  /// Moves all pending output into `buffer` (replacing its contents; its old storage is reused
  /// for the next output, so a stream that keeps one buffer allocates nothing in steady
  /// state). Unlike output(), `buffer` stays valid while the engine keeps working, so an
  /// asynchronous write can send it while another operation runs. With engine_buffers it copies
  /// (allocating in `buffer`, which is the caller's) and empties the engine's output: firmware
  /// sends output() and calls consume_output() instead.
  void take_output(std::vector<std::uint8_t>& buffer);
  /// Frees the output buffer's storage if nothing in it is waiting to be sent. Nothing to do
  /// with engine_buffers (the storage is the caller's).
  void release_output() noexcept;
  /// Bytes of ciphertext buffer storage the engine holds (input and output, not mbedTLS's own
  /// record buffers): what an idle connection should not keep. 0 with engine_buffers.
  std::size_t buffer_bytes() const noexcept;
  /// A buffer of `size` bytes to receive ciphertext into; valid until the next call on the
  /// engine. Follow with commit_input(bytes_received). With engine_buffers: the free room of
  /// the caller's input buffer, at most `size` bytes and possibly fewer (empty when the
  /// ciphertext there is not taken yet: call read() or handshake() first).
  std::span<std::uint8_t> prepare_input(std::size_t size = 16 * 1024 + 512);
  void commit_input(std::size_t n) noexcept;
  /// Frees the input buffer if it holds no ciphertext mbedTLS has not taken yet (true if so,
  /// or if there was none): a connection waiting for its peer then holds no input buffer. With
  /// engine_buffers nothing is freed; the result says the same.
  bool release_input() noexcept;
  /// True if read() may make progress without new input: ciphertext not yet taken by mbedTLS,
  /// or a record it has read but not returned in full.
  bool has_pending_input() const noexcept;

  // --- State and results. ---

  bool handshake_done() const noexcept;
  /// True if the handshake resumed a session (abbreviated handshake: no certificates were
  /// exchanged, only the ticket).
  bool resumed() const noexcept;
  /// The fingerprint of the peer's key (valid after a successful handshake, including a
  /// resumed one, and after a refusal by the verifier).
  const core::fingerprint& peer_fingerprint() const noexcept;
  /// The fingerprint of this end's own key (the context's identity).
  const core::fingerprint& local_fingerprint() const noexcept;
  /// The peer certificate's subject CN (the device id it claims, at most max_peer_subject
  /// bytes); empty before the handshake. Valid until the next handshake or reset().
  std::string_view peer_subject() const noexcept;
  /// This connection's keying material for binding a pairing proof to it: the RFC 5705
  /// exporter with label "EXPORTER-lanyard-pairing", no context, 32 bytes. Both ends compute
  /// the same value; no other connection (not even a resumption of this session) has it.
  /// Empty before the handshake completed (or if mbedTLS could not derive it). Not a secret to
  /// log: treat it as one anyway.
  std::optional<std::span<const std::uint8_t, 32>> exporter() const noexcept;
  /// The negotiated ALPN protocol ("lanyard/1"), empty before the handshake.
  std::string_view alpn_protocol() const noexcept;
  /// The negotiated cipher suite's IANA-like name, e.g. "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256".
  std::string_view ciphersuite() const noexcept;
  /// The last failure (or refusal) this engine noted, as data: `code` is the error the
  /// operation reported (the verifier's own code for a refusal by the pin verifier), `detail`
  /// the sentence, `fields` what a program reads instead of parsing it (role, cause,
  /// mbedtls_error, tls_alert, alert_sent, fingerprint_presented, device_id, peer_name:
  /// lanyard/tls_engine/diagnostics.hpp). The same values went to context_options::diagnostics (or
  /// the sentence to context_options::log). Empty (no code) until something was noted; it is
  /// not cleared by a later success, and a session the verifier refused to resume is noted
  /// even though the full handshake that follows may succeed.
  const core::error_detail& last_error() const noexcept;
  /// last_error().detail: one line explaining the last failure (mbedTLS's reason, the alert
  /// received, ...).
  const std::string& last_error_detail() const noexcept;

  /// The error a driver reports when the transport ends (EOF) during an operation: depends on
  /// the engine state (tls_errc::peer_closed_during_handshake, stream_truncated, or
  /// closed_by_peer after a close_notify). Records the detail line.
  std::error_code transport_closed();

  struct impl; ///< Defined in src/tls.

private:
  engine() noexcept = default; // create(): the impl is made apart, without throwing
  std::unique_ptr<impl> impl_;
};

} // namespace lanyard::tls
