/// @file
/// tls::stream<NextLayer>: TLS over an asio stream (usually asio::ip::tcp::socket), in the
/// style of Beast's websocket::stream and asio::ssl::stream. It wraps the transport, exposes
/// next_layer(), forwards get_executor(), and drives a tls::engine (mbedTLS, no I/O of its own)
/// with the transport's async_read_some / async_write.
///
/// Usage (client):
/// @code
///   tls::stream<asio::ip::tcp::socket> s(std::move(socket), ctx);
///   s.set_peer_id(device_id);                      // session cache key, verifier hint
///   s.set_verifier([&](const core::fingerprint& fp, const tls::peer_cert_info&) {
///     return store.check(device_id, fp);           // trust::key_changed, ... or {}
///   });
///   co_await s.async_handshake(tls::role::client, asio::redirect_error(asio::use_awaitable, ec));
///   if (ec == trust::key_changed) ...              // the verifier's error, unchanged
///   co_await asio::async_write(s, asio::buffer(hello), use_awaitable);
/// @endcode
///
/// Security properties:
///  - The pin verifier runs inside the handshake, on the peer's certificate message, before
///    either side can send or accept an application byte; a refusal sends a fatal alert and the
///    handshake completes with the verifier's error_code.
///  - A resumed session (session ticket) re-runs the verifier on the certificate of the
///    original handshake before the handshake completes.
///  - ALPN must be negotiated ("lanyard/1"), on both sides, or the handshake fails with
///    tls_errc::alpn_mismatch.
///
/// Thread-safety: distinct objects safe; shared objects unsafe. All operations and their
/// completion run on the next layer's executor; with a multi-threaded io_context use a strand
/// executor for the socket. Outstanding operations allowed at once: one handshake (alone), or
/// one read and one write (full duplex), or one shutdown (no write).
///
/// Timeouts: every handshake has a deadline (set_handshake_timeout). The deadlines of all
/// streams on one execution context are kept by one watcher thread, started on the first
/// handshake and joined when the context shuts down (handshake_deadlines.hpp: a timer per
/// handshake cost a twentieth of a resumed handshake). An expiry runs on the stream's executor.
///
/// Memory: a read waits for its peer without an input buffer when the next layer can wait for
/// readiness (a socket: async_wait, non-blocking read_some), so an idle connection holds no
/// 16.5 KiB ciphertext buffer; such a socket is put in non-blocking mode by the first read.
///
/// Cancellation: cancel or close next_layer(); the pending operations complete with
/// asio::error::operation_aborted (a cancelled handshake leaves the stream unusable: close it).
/// Per-operation cancellation slots are not supported.
#pragma once

#include <lanyard/core/fingerprint.hpp>
#include <lanyard/tls/handshake_deadlines.hpp>
#include <lanyard/tls_engine/context.hpp>
#include <lanyard/tls_engine/engine.hpp>
#include <lanyard/tls_engine/error.hpp>
#include <lanyard/tls_engine/peer_verifier.hpp>
#include <lanyard/tls_engine/role.hpp>

#include <asio/async_result.hpp>
#include <asio/buffer.hpp>
#include <asio/compose.hpp>
#include <asio/error.hpp>
#include <asio/execution/context.hpp>
#include <asio/post.hpp>
#include <asio/query.hpp>
#include <asio/write.hpp>

#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace lanyard::tls {

namespace detail {

enum class op_kind { handshake, read, write, shutdown };

// A next layer that can wait for readability and then read without blocking (asio sockets).
template <class Layer>
concept readiness_waitable = requires(Layer& l, std::error_code& ec, asio::mutable_buffer b) {
  { l.non_blocking() } -> std::convertible_to<bool>;
  l.non_blocking(true, ec);
  l.read_some(b, ec);
  Layer::wait_read;
};

// A next layer that may be a connected socket of the kernel's: a handshake flight can be sent
// at once with send(2) (asio sockets; channel::transport when its native_handle() is not -1).
template <class Layer>
concept sendable_now = readiness_waitable<Layer> && requires(Layer& l) {
  { l.native_handle() } -> std::same_as<int>;
};

// The engine reports the peer's close_notify as tls_errc::closed_by_peer (it knows no asio);
// an asio stream ends with asio::error::eof, which asio::async_read and every reader of a
// tls::stream (the channel, pairing, the server) test for, so the stream reports that.
inline std::error_code end_of_stream_as_eof(std::error_code ec) noexcept {
  if (ec == tls_errc::closed_by_peer) return asio::error::eof;
  return ec;
}

template <class Buffers>
std::span<std::uint8_t> first_buffer(const Buffers& buffers) {
  for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers);
       ++it) {
    asio::mutable_buffer b(*it);
    if (b.size() != 0) return {static_cast<std::uint8_t*>(b.data()), b.size()};
  }
  return {};
}

template <class Buffers>
std::span<const std::uint8_t> first_const_buffer(const Buffers& buffers) {
  for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers);
       ++it) {
    asio::const_buffer b(*it);
    if (b.size() != 0) return {static_cast<const std::uint8_t*>(b.data()), b.size()};
  }
  return {};
}

// One composed operation: call the engine, then do what it wants (read ciphertext, write
// ciphertext) until it wants nothing (the shape of asio/ssl/detail/io.hpp).
template <class Stream, op_kind Kind>
class io_op {
public:
  io_op(Stream& s, role r) : s_(&s), role_(r) {}
  io_op(Stream& s, std::span<std::uint8_t> b) : s_(&s), read_buf_(b) {}
  io_op(Stream& s, std::span<const std::uint8_t> b) : s_(&s), write_buf_(b) {}
  explicit io_op(Stream& s) : s_(&s) {}

  template <class Self>
  void operator()(Self& self, std::error_code io_ec = {}, std::size_t io_n = 0) {
    switch (state_) {
    case state::start:
      if constexpr (Kind == op_kind::read && readiness_waitable<layer_type>)
        return read_now_or_wait(self);
      if constexpr (Kind != op_kind::read) s_->writing_ = true;
      if constexpr (Kind == op_kind::handshake) start_timer();
      step(self);
      return;
    case state::reading:
      did_io_ = true;
      inline_io_left_ = inline_io_budget;
      if (timed_out()) return finish(self, tls_errc::handshake_timeout);
      after_read(self, io_ec, io_n);
      return;
    case state::readable:
      did_io_ = true;
      inline_io_left_ = inline_io_budget; // a new call frame
      if (timed_out()) return finish(self, tls_errc::handshake_timeout);
      if (io_ec) return finish(self, io_ec);
      // Only receive_now_or_wait waits here: a next layer that can wait for readiness but has
      // no descriptor to recv(2) from (channel::transport over a tunnel: native_handle() -1)
      // never gets to this state.
      if constexpr (sendable_now<layer_type>) receive_now_or_wait(self);
      return;
    case state::writing:
      did_io_ = true;
      inline_io_left_ = inline_io_budget;
      if (timed_out()) return finish(self, tls_errc::handshake_timeout);
      after_write(self, io_ec);
      return;
    case state::waiting:
      did_io_ = true;
      if (io_ec) return finish(self, io_ec);
      // Only read_now_or_wait waits here: a next layer that cannot wait for readiness
      // (relay::tunnel_stream used directly) never gets to this state; channel::transport's
      // tunnels can, and do.
      if constexpr (readiness_waitable<layer_type>) read_now_or_wait(self);
      return;
    case state::posted:
      finish(self, ec_);
      return;
    }
  }

private:
  enum class state { start, reading, readable, writing, waiting, posted };
  using layer_type = typename Stream::next_layer_type;

  engine::want call_engine(std::error_code& ec) {
    engine& e = s_->engine_;
    if constexpr (Kind == op_kind::handshake) {
      return e.handshake(role_, ec);
    } else if constexpr (Kind == op_kind::read) {
      const engine::want w = e.read(read_buf_, n_, ec);
      ec = end_of_stream_as_eof(ec);
      return w;
    } else if constexpr (Kind == op_kind::write) {
      // The engine consumes a prefix at a time; repeated calls (after each flush) would also
      // work, but one engine call + one socket write per operation is write_some semantics.
      return e.write(write_buf_, n_, ec);
    } else {
      return e.shutdown(ec);
    }
  }

  template <class Self>
  void step(Self& self) {
    want_ = call_engine(ec_);
    switch (want_) {
    case engine::want::input_and_retry: {
      if constexpr (Kind == op_kind::handshake && sendable_now<layer_type>) {
        if (inline_io_left_ > 0 && has_descriptor()) return receive_now_or_wait(self);
      }
      state_ = state::reading;
      std::span<std::uint8_t> in = s_->engine_.prepare_input();
      s_->next_layer_.async_read_some(asio::buffer(in.data(), in.size()), std::move(self));
      return;
    }
    case engine::want::output_and_retry:
    case engine::want::output: {
      std::vector<std::uint8_t>& out = Kind == op_kind::read ? s_->read_output_ : s_->write_output_;
      s_->engine_.take_output(out);
      if (Kind == op_kind::read && s_->writing_) {
        // Only a failing read produces output (an alert); never interleave it with a write in
        // progress - the connection is failing anyway.
        out.clear();
        if (want_ == engine::want::output_and_retry) return step(self);
        return finish(self, ec_);
      }
      state_ = state::writing;
      if constexpr (Kind == op_kind::handshake && sendable_now<layer_type>) {
        // A handshake flight is a few hundred bytes to a few KiB: the kernel takes it at once,
        // and going on from here saves the posted completion (and the turn of the loop) asio
        // gives even a write that succeeded at once — three per resumed handshake.
        if (inline_io_left_ > 0 && has_descriptor()) {
          --inline_io_left_;
          std::error_code send_ec;
          const std::size_t sent = send_now(out, send_ec);
          if (sent == out.size() || send_ec) return after_write(self, send_ec);
          out.erase(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(sent));
        }
      }
      asio::async_write(s_->next_layer_, asio::buffer(out), std::move(self));
      return;
    }
    case engine::want::nothing:
      if (!did_io_) {
        // Completed without I/O: never call the handler inside the initiating function.
        state_ = state::posted;
        asio::post(std::move(self));
        return;
      }
      finish(self, ec_);
      return;
    }
  }

  // A layer with a descriptor type may hold none (channel::transport over a relay tunnel says
  // -1): the send(2)/recv(2) shortcuts are for a kernel socket only.
  bool has_descriptor() requires sendable_now<layer_type> {
    return s_->next_layer_.native_handle() >= 0;
  }

  // What follows a read of ciphertext (asynchronous, or done at once by receive_now).
  template <class Self>
  void after_read(Self& self, std::error_code io_ec, std::size_t n) {
    if (io_ec == asio::error::eof)
      return complete_with(self, end_of_stream_as_eof(s_->engine_.transport_closed()));
    if (io_ec) return complete_with(self, io_ec);
    s_->engine_.commit_input(n);
    step(self);
  }

  // The handshake's reads: take what has arrived (the peer's flight often has), otherwise wait
  // for readability and read then. Either way no posted completion for a read that found
  // data, as asio's async_read_some gives; the system calls are the same.
  template <class Self>
  void receive_now_or_wait(Self& self) requires sendable_now<layer_type> {
    if (inline_io_left_ > 0) --inline_io_left_;
    std::span<std::uint8_t> in = s_->engine_.prepare_input();
    for (;;) {
      const ssize_t n = ::recv(s_->next_layer_.native_handle(), in.data(), in.size(), MSG_DONTWAIT);
      if (n > 0) return after_read(self, {}, static_cast<std::size_t>(n));
      if (n == 0) return after_read(self, asio::error::eof, 0);
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        return after_read(self, std::error_code(errno, asio::error::get_system_category()), 0);
      break;
    }
    state_ = state::readable;
    s_->next_layer_.async_wait(layer_type::wait_read, std::move(self));
  }

  // What follows a flush (asynchronous, or done at once by send_now).
  template <class Self>
  void after_write(Self& self, std::error_code io_ec) {
    // An engine error came with an alert to send: it is sent (best effort); report the
    // engine's error, not the transport's.
    if (ec_) return complete_with(self, ec_);
    if (io_ec) return complete_with(self, io_ec);
    if (want_ == engine::want::output) return complete_with(self, ec_);
    step(self);
  }

  // Writes what the kernel takes now without blocking and without changing the socket's mode
  // (MSG_DONTWAIT); would_block is not an error (returns what was sent).
  std::size_t send_now(const std::vector<std::uint8_t>& out,
                       std::error_code& ec) requires sendable_now<layer_type> {
    for (;;) {
      const ssize_t n = ::send(s_->next_layer_.native_handle(), out.data(), out.size(),
                               MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        ec = std::error_code(errno, asio::error::get_system_category());
      return 0;
    }
  }

  // A read over a socket spends most of its life waiting for the peer (an idle channel: all of
  // it): it takes what has arrived at once (read_some_now, as asio's own speculative read
  // does) and otherwise waits for readability with the engine's input buffer freed.
  template <class Self>
  void read_now_or_wait(Self& self) requires readiness_waitable<layer_type> {
    std::error_code ec;
    n_ = s_->read_some_now(read_buf_, ec);
    if (ec != asio::error::would_block) return complete_with(self, ec);
    state_ = state::waiting;
    s_->next_layer_.async_wait(layer_type::wait_read, std::move(self));
  }

  // Completes with `ec`, never inside the initiating function.
  template <class Self>
  void complete_with(Self& self, std::error_code ec) {
    if (did_io_) return finish(self, ec);
    ec_ = ec;
    state_ = state::posted;
    asio::post(std::move(self));
  }

  bool timed_out() const noexcept { return watch_ && watch_->fired; }

  // The timeout is one entry in the context's handshake_deadlines (not a timer per
  // handshake: see handshake_deadlines.hpp for what that saved).
  void start_timer() {
    auto timeout = s_->handshake_timeout_;
    if (timeout <= std::chrono::milliseconds::zero()) return;
    watch_ = std::make_shared<handshake_watch>(handshake_watch::clock::now() + timeout, s_,
                                               &io_op::expire);
    s_->handshake_deadlines().add(*watch_);
  }

  // Runs under the deadlines' lock, on whatever thread swept them: only posts.
  static void expire(handshake_watch& w) {
    auto* s = static_cast<Stream*>(w.owner());
    asio::post(s->get_executor(), [w = w.shared_from_this()] {
      // The operation may have completed after the sweep took it off the list.
      if (!w->active) return;
      w->fired = true;
      // The pending read/write completes with operation_aborted, then handshake_timeout.
      static_cast<Stream*>(w->owner())->cancel_next_layer();
    });
  }

  template <class Self>
  void finish(Self& self, std::error_code ec) {
    if (watch_) {
      watch_->active = false;
      s_->handshake_deadlines().remove(*watch_);
    }
    if constexpr (Kind != op_kind::read) s_->writing_ = false;
    // The handshake's buffers (16.5 KiB in, about 1 KiB of certificates out) are not needed by
    // a connection that goes idle next; what follows allocates its own.
    if constexpr (Kind == op_kind::handshake) {
      s_->release_write_buffers();
      s_->engine_.release_input();
    }
    if constexpr (Kind == op_kind::handshake || Kind == op_kind::shutdown) {
      self.complete(ec);
    } else {
      self.complete(ec, ec ? std::size_t{0} : n_);
    }
  }

  Stream* s_;
  role role_ = role::client;
  std::span<std::uint8_t> read_buf_;
  std::span<const std::uint8_t> write_buf_;
  std::shared_ptr<handshake_watch> watch_;
  engine::want want_ = engine::want::nothing;
  std::error_code ec_;
  std::size_t n_ = 0;
  state state_ = state::start;
  bool did_io_ = false;
  // Reads and writes done at once in a row (each continues the operation in this call frame):
  // bounded so that a peer feeding a handshake byte by byte cannot grow the stack; then the
  // operation goes through the loop as any other.
  static constexpr int inline_io_budget = 16;
  int inline_io_left_ = inline_io_budget;
};

// async_wait_readable: completes once the engine holds input it has not processed or the
// socket is readable, without a buffer of its own.
template <class Stream>
class readable_op {
public:
  explicit readable_op(Stream& s) : s_(&s) {}

  template <class Self>
  void operator()(Self& self, std::error_code ec = {}) {
    if (started_) return self.complete(ec);
    started_ = true;
    if (s_->engine_.has_pending_input()) return asio::post(std::move(self));
    s_->engine_.release_input();
    s_->next_layer_.async_wait(Stream::next_layer_type::wait_read, std::move(self));
  }

private:
  Stream* s_;
  bool started_ = false;
};

} // namespace detail

/// TLS over `NextLayer` (an asio AsyncReadStream + AsyncWriteStream with cancel(ec) or
/// close(ec), e.g. asio::ip::tcp::socket). Itself an AsyncReadStream and AsyncWriteStream, so
/// asio::async_read / async_write work on it. See the file comment for semantics.
template <class NextLayer>
class stream {
public:
  using next_layer_type = std::remove_reference_t<NextLayer>;
  using executor_type = typename next_layer_type::executor_type;

  /// Constructs the next layer from `arg` (a socket to move in, an executor, an io_context)
  /// and a TLS connection using `ctx` (kept alive by the stream).
  template <class Arg>
  stream(Arg&& arg, context ctx)
      : next_layer_(std::forward<Arg>(arg)), engine_(ctx),
        handshake_timeout_(ctx.options().handshake_timeout) {}

  executor_type get_executor() noexcept { return next_layer_.get_executor(); }
  next_layer_type& next_layer() noexcept { return next_layer_; }
  const next_layer_type& next_layer() const noexcept { return next_layer_; }

  // --- Before the handshake. ---

  /// The peer's id (the accessory's device id on a client): key of the client's session cache
  /// (a later stream with the same id resumes) and peer_cert_info::expected_peer_id.
  void set_peer_id(std::string peer_id) { engine_.set_peer_id(std::move(peer_id)); }
  /// The pin check for this connection (overrides context_options::verifier).
  void set_verifier(peer_verifier verifier) { engine_.set_verifier(std::move(verifier)); }
  /// Overrides context_options::handshake_timeout; zero disables the timeout.
  void set_handshake_timeout(std::chrono::milliseconds timeout) noexcept {
    handshake_timeout_ = timeout;
  }

  // --- After the handshake. ---

  /// True if the last handshake was abbreviated (resumed from a session ticket).
  bool resumed() const noexcept { return engine_.resumed(); }
  /// The peer key's fingerprint (also set when the verifier refused it).
  const core::fingerprint& peer_fingerprint() const noexcept { return engine_.peer_fingerprint(); }
  /// This end's own key fingerprint.
  const core::fingerprint& local_fingerprint() const noexcept {
    return engine_.local_fingerprint();
  }
  /// The peer certificate's subject CN (the device id it claims).
  std::string_view peer_subject() const noexcept { return engine_.peer_subject(); }
  /// The connection's pairing exporter (engine::exporter()).
  std::optional<std::span<const std::uint8_t, 32>> exporter() const noexcept {
    return engine_.exporter();
  }
  std::string_view alpn_protocol() const noexcept { return engine_.alpn_protocol(); }
  std::string_view ciphersuite() const noexcept { return engine_.ciphersuite(); }
  /// The last failure as code, sentence and fields (engine::last_error()); also reported to
  /// context_options::diagnostics. A handshake timeout is the stream's, not the engine's: it
  /// is not recorded here.
  const core::error_detail& last_error() const noexcept { return engine_.last_error(); }
  /// last_error().detail: one line on the last failure (mbedTLS's reason, the alert received,
  /// the verifier's refusal).
  const std::string& last_error_detail() const noexcept { return engine_.last_error_detail(); }

  /// The engine, for inspection. Do not drive it while an operation is pending.
  engine& tls_engine() noexcept { return engine_; }

  // --- Operations. ---

  /// Performs the TLS handshake as `r`, bounded by the handshake timeout.
  ///
  /// @par Completion Signature
  /// @code void(std::error_code ec) @endcode
  /// Errors: the verifier's own error_code when it refused the peer (e.g. trust::key_changed);
  /// tls_errc::handshake_timeout, alpn_mismatch, peer_rejected_certificate,
  /// peer_certificate_missing, bad_peer_certificate, handshake_failed,
  /// peer_closed_during_handshake, no_peer_verifier, already_handshaken; transport errors.
  template <class CompletionToken = asio::default_completion_token_t<executor_type>>
  auto
  async_handshake(role r,
                  CompletionToken&& token = asio::default_completion_token_t<executor_type>{}) {
    return asio::async_compose<CompletionToken, void(std::error_code)>(
        detail::io_op<stream, detail::op_kind::handshake>(*this, r), token, *this);
  }

  /// Reads and decrypts at least one byte into the first non-empty buffer of `buffers`
  /// (completes at once with 0 bytes if all are empty).
  ///
  /// @par Completion Signature
  /// @code void(std::error_code ec, std::size_t bytes_transferred) @endcode
  /// Errors: asio::error::eof after the peer's close_notify; tls_errc::stream_truncated (TCP
  /// closed without close_notify), bad_record, peer_alert, not_connected; transport errors.
  template <class MutableBufferSequence,
            class CompletionToken = asio::default_completion_token_t<executor_type>>
  auto
  async_read_some(const MutableBufferSequence& buffers,
                  CompletionToken&& token = asio::default_completion_token_t<executor_type>{}) {
    return asio::async_compose<CompletionToken, void(std::error_code, std::size_t)>(
        detail::io_op<stream, detail::op_kind::read>(*this, detail::first_buffer(buffers)), token,
        *this);
  }

  /// Completes when read_some_now() may return data: the socket is readable or the engine
  /// holds input it has not returned yet. Holds no buffer while it waits, so a reader that
  /// uses this with a buffer it shares (one per thread) keeps an idle connection small.
  ///
  /// @par Completion Signature
  /// @code void(std::error_code ec) @endcode
  /// Errors: transport errors (operation_aborted when the next layer was cancelled or closed).
  template <class CompletionToken = asio::default_completion_token_t<executor_type>>
  requires detail::readiness_waitable<next_layer_type>
  auto
  async_wait_readable(CompletionToken&& token = asio::default_completion_token_t<executor_type>{}) {
    return asio::async_compose<CompletionToken, void(std::error_code)>(
        detail::readable_op<stream>(*this), token, *this);
  }

  /// Reads and decrypts what has arrived, without waiting: returns the bytes placed in `out`
  /// (at least one) or sets `ec`: asio::error::would_block when no complete record is there
  /// yet (wait with async_wait_readable), and the errors of async_read_some. Not while an
  /// async_read_some is pending. A fatal alert that a failing read produces is sent if the
  /// socket takes it at once and no write is in progress (the connection is failing anyway).
  std::size_t
  read_some_now(std::span<std::uint8_t> out,
                std::error_code& ec) requires detail::readiness_waitable<next_layer_type> {
    ec.clear();
    if (out.empty()) return 0;
    if (!next_layer_.non_blocking()) {
      next_layer_.non_blocking(true, ec);
      if (ec) return 0;
    }
    for (;;) {
      std::size_t n = 0;
      const engine::want w = engine_.read(out, n, ec);
      ec = detail::end_of_stream_as_eof(ec);
      if (w == engine::want::input_and_retry) {
        std::span<std::uint8_t> in = engine_.prepare_input();
        const std::size_t got = next_layer_.read_some(asio::buffer(in.data(), in.size()), ec);
        if (ec == asio::error::would_block || ec == asio::error::try_again) {
          engine_.release_input();
          ec = asio::error::would_block;
          return 0;
        }
        if (ec == asio::error::eof) ec = detail::end_of_stream_as_eof(engine_.transport_closed());
        if (ec) return 0;
        engine_.commit_input(got);
        continue;
      }
      if (w == engine::want::output || w == engine::want::output_and_retry) {
        engine_.take_output(read_output_);
        std::error_code ignored;
        if (!writing_) next_layer_.write_some(asio::buffer(read_output_), ignored);
        read_output_.clear();
        if (w == engine::want::output_and_retry && !ec) continue;
      }
      return ec ? 0 : n;
    }
  }

  /// Bytes of buffer storage the stream and its engine hold besides mbedTLS's record buffers
  /// (for memory accounting and tests): none while a read waits on a socket and no write left
  /// a large buffer behind.
  std::size_t buffer_bytes() const noexcept {
    return engine_.buffer_bytes() + write_output_.capacity() + read_output_.capacity();
  }

  /// Frees the storage that finished writes left behind (up to twice 64 KiB after large
  /// writes; reused while writes keep coming). No effect while a write is in progress.
  void release_write_buffers() noexcept {
    if (writing_) return;
    std::vector<std::uint8_t>().swap(write_output_);
    engine_.release_output();
  }

  /// Encrypts and sends a prefix (up to 64 KiB) of the first non-empty buffer of `buffers`;
  /// completes when its ciphertext has been written to the next layer.
  ///
  /// @par Completion Signature
  /// @code void(std::error_code ec, std::size_t bytes_transferred) @endcode
  /// Errors: tls_errc::not_connected; transport errors.
  template <class ConstBufferSequence,
            class CompletionToken = asio::default_completion_token_t<executor_type>>
  auto
  async_write_some(const ConstBufferSequence& buffers,
                   CompletionToken&& token = asio::default_completion_token_t<executor_type>{}) {
    return asio::async_compose<CompletionToken, void(std::error_code, std::size_t)>(
        detail::io_op<stream, detail::op_kind::write>(*this, detail::first_const_buffer(buffers)),
        token, *this);
  }

  /// Sends a TLS close_notify and completes when it is written. It does not wait for the
  /// peer's close_notify (read until asio::error::eof for that) and does not close the socket.
  ///
  /// @par Completion Signature
  /// @code void(std::error_code ec) @endcode
  /// Errors: tls_errc::not_connected; transport errors.
  template <class CompletionToken = asio::default_completion_token_t<executor_type>>
  auto async_shutdown(CompletionToken&& token = asio::default_completion_token_t<executor_type>{}) {
    return asio::async_compose<CompletionToken, void(std::error_code)>(
        detail::io_op<stream, detail::op_kind::shutdown>(*this), token, *this);
  }

private:
  template <class S, detail::op_kind K>
  friend class detail::io_op;
  template <class S>
  friend class detail::readable_op;

  // The context's handshake timeouts (looked up once: a lookup locks the service registry).
  detail::handshake_deadlines& handshake_deadlines() {
    if (deadlines_ == nullptr)
      deadlines_ = &asio::use_service<detail::handshake_deadlines>(
          asio::query(get_executor(), asio::execution::context));
    return *deadlines_;
  }

  void cancel_next_layer() {
    std::error_code ignored;
    if constexpr (requires(next_layer_type & l, std::error_code & e) { l.cancel(e); }) {
      next_layer_.cancel(ignored);
    } else {
      next_layer_.close(ignored);
    }
  }

  next_layer_type next_layer_;
  engine engine_;
  detail::handshake_deadlines* deadlines_ = nullptr;
  std::chrono::milliseconds handshake_timeout_;
  bool writing_ = false; // a handshake, write or shutdown is flushing write_output_
  std::vector<std::uint8_t> write_output_;
  std::vector<std::uint8_t> read_output_;
};

} // namespace lanyard::tls
