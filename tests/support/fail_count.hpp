// Fault injection for the adapters' error paths (the idea of Beast's test::fail_count and
// test::stream): a fail_count fails the Nth operation of a transport, and fail_transport is a
// next layer for tls::stream<Next> over a real connected TCP socket that asks the counter
// before every read, write, readiness wait and connect. A test runs its scenario for N = 1,
// 2, 3, ... until a run completes without reaching the Nth operation: then every operation
// the scenario does has failed once, at its place in the sequence.
//
// Instead of failing, the Nth asynchronous operation can hang (fail_count::hanging): it
// neither fails nor completes until its transport is cancelled or closed, as a read from a
// silent peer or a connect to a blackholed address does; walking N then reaches every place
// where a timeout or a cancellation can find an operation pending. fail_socket_transport adds
// a descriptor, so that tls::stream's own send(2)/recv(2) fast path is walked too.
#pragma once

#include "support/io_test_support.hpp"

#include <lanyard/tls/stream.hpp>
#include <lanyard/tls_engine/context.hpp>

#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/buffer.hpp>
#include <asio/error.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/socket_base.hpp>
#include <asio/steady_timer.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

namespace lanyard::test {

/// The error a fail_count injects unless told otherwise: no real transport reports it, so a
/// test sees where it went.
enum class fail_count_errc { injected = 1 };

inline const std::error_category& fail_count_category() noexcept {
  static const struct : std::error_category {
    const char* name() const noexcept override { return "lanyard.test.fail_count"; }
    std::string message(int) const override { return "failure injected by a fail_count"; }
  } category;
  return category;
}

inline std::error_code make_error_code(fail_count_errc e) noexcept {
  return {static_cast<int>(e), fail_count_category()};
}

} // namespace lanyard::test

template <>
struct std::is_error_code_enum<lanyard::test::fail_count_errc> : std::true_type {};

namespace lanyard::test {

/// Fails the `n`th operation (1-based) and every later one with `error`: a transport that
/// broke stays broken, as a real one does (a close_notify after the failure fails as well).
/// With fail_count::once only the Nth fails: one counter shared by several transports (the
/// attempts of a path race) then breaks one operation of one of them, and the others go on.
/// With fail_count::hang (made by hanging()) nothing fails: the Nth asynchronous operation
/// hangs, and only asynchronous operations are counted (a synchronous step cannot hang).
class fail_count {
public:
  enum mode { from_nth, once, hang };

  explicit fail_count(std::size_t n, std::error_code error = fail_count_errc::injected,
                      mode m = from_nth)
      : n_(n), error_(error), mode_(m) {}

  /// A counter whose `n`th asynchronous operation hangs until its transport is cancelled or
  /// closed (then it completes with operation_aborted, as a socket's would). `at_hang` runs
  /// when it starts hanging, inside the operation's initiating call: it may only post (a
  /// test emits a cancellation there, which then finds the operation pending).
  static fail_count hanging(std::size_t n, std::function<void()> at_hang = {}) {
    fail_count c(n, std::error_code(), hang);
    c.at_hang_ = std::move(at_hang);
    return c;
  }

  /// Counts one operation; from the Nth on (only the Nth: once) sets `ec` to the error and
  /// returns true. Never fails, and does not count, in hang mode.
  bool fail(std::error_code& ec) noexcept {
    if (mode_ == hang) return false;
    if (++operations_ < n_) return false;
    if (mode_ == once && operations_ > n_) return false;
    fired_ = true;
    ec = error_;
    return true;
  }

  /// Counts one asynchronous operation in hang mode: true if it is the Nth, which is to hang.
  /// Returns false without counting in the other modes (fail() counts there).
  bool hang_now() {
    if (mode_ != hang || ++operations_ != n_) return false;
    fired_ = true;
    if (at_hang_) at_hang_();
    return true;
  }

  /// Operations counted so far.
  std::size_t operations() const noexcept { return operations_; }
  /// True once the Nth operation was reached (and failed, or hung).
  bool fired() const noexcept { return fired_; }
  /// Hang mode: true once the hung operation's transport was cancelled or closed, which ended
  /// it (a transport destroyed with the operation pending does not count: nobody closed it).
  bool released() const noexcept { return released_; }
  void release() noexcept { released_ = true; }
  std::error_code error() const noexcept { return error_; }

private:
  std::size_t n_;
  std::error_code error_;
  mode mode_;
  std::function<void()> at_hang_;
  std::size_t operations_ = 0;
  bool fired_ = false;
  bool released_ = false;
};

/// A tls::stream next layer: a connected (or connecting) TCP socket whose reads, writes,
/// readiness waits and connects each ask a fail_count first (none while no counter is set:
/// a test handshakes, then sets one). An injected failure completes an asynchronous operation
/// through the executor with the error, never inside the initiating call; a hung one waits
/// until cancel() or close() (then operation_aborted); close, cancel and shutdown are never
/// failed (tearing down must always work).
///
/// It is readiness_waitable (async_wait, non-blocking read_some: tls::stream's idle reads and
/// read_some_now go through the counter) but deliberately not sendable_now: it has no
/// native_handle(), so tls::stream's handshake fast path, which calls send(2)/recv(2) with
/// MSG_DONTWAIT on the descriptor itself, is not taken and every handshake byte goes through
/// async_read_some/async_write_some here. fail_socket_transport below walks that path.
class fail_transport {
public:
  using socket_type = asio::ip::tcp::socket;
  using executor_type = socket_type::executor_type;
  using wait_type = asio::socket_base::wait_type;
  using shutdown_type = asio::socket_base::shutdown_type;
  static constexpr wait_type wait_read = asio::socket_base::wait_read;

  explicit fail_transport(socket_type socket, fail_count* counter = nullptr)
      : socket_(std::move(socket)), hung_(socket_.get_executor()), counter_(counter) {}
  explicit fail_transport(const executor_type& ex, fail_count* counter = nullptr)
      : socket_(ex), hung_(ex), counter_(counter) {}

  /// The counter asked from now on (nullptr: none, nothing fails).
  void set_fail_count(fail_count* counter) noexcept { counter_ = counter; }
  fail_count* get_fail_count() const noexcept { return counter_; }

  /// The socket itself, for a test's setup; operations on it are not counted.
  socket_type& socket() noexcept { return socket_; }

  /// Counts a step a user of the transport takes on socket() itself (open, bind, a socket
  /// option): true, with `ec` set, if the counter fails it; the caller then skips the step.
  bool fail_step(std::error_code& ec) { return failed(ec); }

  executor_type get_executor() noexcept { return socket_.get_executor(); }

  bool non_blocking() const { return socket_.non_blocking(); }
  void non_blocking(bool mode, std::error_code& ec) { socket_.non_blocking(mode, ec); }
  bool is_open() const noexcept { return socket_.is_open(); }
  void cancel(std::error_code& ec) {
    release_hung();
    socket_.cancel(ec);
  }
  void close(std::error_code& ec) {
    release_hung();
    socket_.close(ec);
  }
  void shutdown(shutdown_type what, std::error_code& ec) { socket_.shutdown(what, ec); }

  template <class MutableBuffers>
  std::size_t read_some(const MutableBuffers& buffers, std::error_code& ec) {
    if (failed(ec)) return 0;
    return socket_.read_some(buffers, ec);
  }

  template <class ConstBuffers>
  std::size_t write_some(const ConstBuffers& buffers, std::error_code& ec) {
    if (failed(ec)) return 0;
    return socket_.write_some(buffers, ec);
  }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return counted<void(std::error_code, std::size_t)>(
        std::forward<Token>(token),
        [this, buffers](auto handler) { socket_.async_read_some(buffers, std::move(handler)); });
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return counted<void(std::error_code, std::size_t)>(
        std::forward<Token>(token),
        [this, buffers](auto handler) { socket_.async_write_some(buffers, std::move(handler)); });
  }

  template <class Token>
  auto async_wait(wait_type what, Token&& token) {
    return counted<void(std::error_code)>(std::forward<Token>(token), [this, what](auto handler) {
      socket_.async_wait(what, std::move(handler));
    });
  }

  template <class Token>
  auto async_connect(const socket_type::endpoint_type& to, Token&& token) {
    return counted<void(std::error_code)>(std::forward<Token>(token), [this, to](auto handler) {
      socket_.async_connect(to, std::move(handler));
    });
  }

private:
  bool failed(std::error_code& ec) { return counter_ != nullptr && counter_->fail(ec); }

  // Starts `start(handler)` unless the counter fails the operation (then the handler gets the
  // error, and 0 bytes, on its executor) or hangs it.
  template <class Signature, class Token, class Start>
  auto counted(Token&& token, Start start) {
    return asio::async_initiate<Token, Signature>(
        [this](auto handler, Start begin) {
          // An operation started on a closed socket fails at once (bad_descriptor), as on a
          // real one (a completion that was queued before the close may start one): it cannot
          // hang, and is not counted as the hung step.
          if (counter_ != nullptr && socket_.is_open() && counter_->hang_now())
            return hang<Signature>(std::move(handler));
          std::error_code ec;
          if (!failed(ec)) return begin(std::move(handler));
          auto ex = asio::get_associated_executor(handler, socket_.get_executor());
          asio::post(ex, [handler = std::move(handler), ec]() mutable {
            complete<Signature>(handler, ec);
          });
        },
        token, std::move(start));
  }

  template <class Signature, class Handler>
  static void complete(Handler& handler, std::error_code ec) {
    if constexpr (std::is_same_v<Signature, void(std::error_code)>)
      handler(ec);
    else
      handler(ec, std::size_t{0});
  }

  // A hung operation waits on a timer that never expires: only release_hung() (cancel, close)
  // ends it, or the transport's destruction, with operation_aborted as a socket's would.
  template <class Signature, class Handler>
  void hang(Handler handler) {
    hanging_ = true;
    hung_.expires_at(asio::steady_timer::time_point::max());
    hung_.async_wait([handler = std::move(handler)](std::error_code) mutable {
      complete<Signature>(handler, asio::error::operation_aborted);
    });
  }

  void release_hung() {
    if (!hanging_) return;
    hanging_ = false;
    if (counter_ != nullptr) counter_->release();
    hung_.cancel();
  }

  socket_type socket_;
  asio::steady_timer hung_;
  fail_count* counter_;
  bool hanging_ = false;
};

static_assert(tls::detail::readiness_waitable<fail_transport>);
static_assert(!tls::detail::sendable_now<fail_transport>,
              "tls::stream's send(2)/recv(2) fast path would bypass the fail_count");

/// A fail_transport with a descriptor, so that tls::stream takes its handshake fast path over
/// it (send(2)/recv(2) with MSG_DONTWAIT on native_handle(), not through the transport's
/// operations), walked without a hook in tls::stream: every call of native_handle() is an
/// operation of the counter, and a failed one hands out the descriptor of a TCP socket that
/// was never connected, so that the system call tls::stream then makes fails for real
/// (send(2): EPIPE, recv(2): ENOTCONN) and goes through the stream's own error branches. The
/// readiness waits between the receives are fail_transport's, counted as there.
class fail_socket_transport : public fail_transport {
public:
  explicit fail_socket_transport(socket_type socket, fail_count* counter = nullptr)
      : fail_transport(std::move(socket), counter), unconnected_(this->socket().get_executor()) {}
  explicit fail_socket_transport(const executor_type& ex, fail_count* counter = nullptr)
      : fail_transport(ex, counter), unconnected_(ex) {}

  int native_handle() {
    const bool failing_already = get_fail_count() != nullptr && get_fail_count()->fired();
    std::error_code ec;
    if (!fail_step(ec)) return socket().native_handle();
    if (!failing_already) descriptor_failed_ = true;
    // Opened once it is needed (a failed open leaves -1: EBADF, a real failure all the same).
    if (!unconnected_.is_open()) unconnected_.open(asio::ip::tcp::v4(), ec);
    return unconnected_.native_handle();
  }

  /// True if the counter's Nth operation (its first failure) was a native_handle() call: the
  /// stream then reports the system call's error, not fail_count_errc::injected.
  bool descriptor_failed() const noexcept { return descriptor_failed_; }

private:
  socket_type unconnected_;
  bool descriptor_failed_ = false;
};

static_assert(tls::detail::sendable_now<fail_socket_transport>);

using fail_stream = tls::stream<fail_transport>;
using fail_socket_stream = tls::stream<fail_socket_transport>;

/// The identities of the two ends of a basic_fail_stream_pair (key generation is slow: made
/// once per process).
inline const tls::identity& fail_stream_identity(tls::role r) {
  static const tls::identity app = make_identity("app-fail");
  static const tls::identity accessory = make_identity("lamp-fail");
  return r == tls::role::client ? app : accessory;
}

/// A client and a server tls::stream<Transport> (fail_transport or fail_socket_transport)
/// connected over loopback TCP, not handshaken, with no counter set; each end presents an
/// identity of its own and accepts any peer.
template <class Transport>
struct basic_fail_stream_pair {
  using stream_type = tls::stream<Transport>;
  std::unique_ptr<stream_type> client;
  std::unique_ptr<stream_type> server;

  explicit basic_fail_stream_pair(asio::io_context& io) {
    tls::context_options o;
    o.verifier = [](const core::fingerprint&, const tls::peer_cert_info&) {
      return std::error_code();
    };
    asio::ip::tcp::acceptor acceptor(io, {asio::ip::address_v4::loopback(), 0});
    asio::ip::tcp::socket c(io);
    c.connect(acceptor.local_endpoint());
    client = std::make_unique<stream_type>(
        Transport(std::move(c)), tls::context(fail_stream_identity(tls::role::client), o));
    server = std::make_unique<stream_type>(
        Transport(acceptor.accept()), tls::context(fail_stream_identity(tls::role::server), o));
  }

  /// Runs both handshakes (with no counter set: they must succeed).
  void handshake(asio::io_context& io) {
    std::optional<std::error_code> c, s;
    client->async_handshake(tls::role::client, [&](std::error_code ec) { c = ec; });
    server->async_handshake(tls::role::server, [&](std::error_code ec) { s = ec; });
    REQUIRE(run_until(io, [&] { return c && s; }));
    REQUIRE_FALSE(*c);
    REQUIRE_FALSE(*s);
  }
};

using fail_stream_pair = basic_fail_stream_pair<fail_transport>;

} // namespace lanyard::test
