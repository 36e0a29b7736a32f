// Fault injection for the adapters' error paths (the idea of Beast's test::fail_count and
// test::stream): a fail_count fails the Nth operation of a transport, and fail_transport is a
// next layer for tls::stream<Next> over a real connected TCP socket that asks the counter
// before every read, write, readiness wait and connect. A test runs its scenario for N = 1,
// 2, 3, ... until a run completes without reaching the Nth operation: then every operation
// the scenario does has failed once, at its place in the sequence.
#pragma once

#include "support/io_test_support.hpp"

#include <lanyard/tls/context.hpp>
#include <lanyard/tls/stream.hpp>

#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/buffer.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/socket_base.hpp>

#include <cstddef>
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
class fail_count {
public:
  enum mode { from_nth, once };

  explicit fail_count(std::size_t n, std::error_code error = fail_count_errc::injected,
                      mode m = from_nth)
      : n_(n), error_(error), mode_(m) {}

  /// Counts one operation; from the Nth on (only the Nth: once) sets `ec` to the error and
  /// returns true.
  bool fail(std::error_code& ec) noexcept {
    if (++operations_ < n_) return false;
    if (mode_ == once && operations_ > n_) return false;
    fired_ = true;
    ec = error_;
    return true;
  }

  /// Operations counted so far.
  std::size_t operations() const noexcept { return operations_; }
  /// True once the Nth operation was reached (and failed).
  bool fired() const noexcept { return fired_; }
  std::error_code error() const noexcept { return error_; }

private:
  std::size_t n_;
  std::error_code error_;
  mode mode_;
  std::size_t operations_ = 0;
  bool fired_ = false;
};

/// A tls::stream next layer: a connected (or connecting) TCP socket whose reads, writes,
/// readiness waits and connects each ask a fail_count first (none while no counter is set:
/// a test handshakes, then sets one). An injected failure completes an asynchronous operation
/// through the executor with the error, never inside the initiating call; close, cancel and
/// shutdown are never failed (tearing down must always work).
///
/// It is readiness_waitable (async_wait, non-blocking read_some: tls::stream's idle reads and
/// read_some_now go through the counter) but deliberately not sendable_now: it has no
/// native_handle(), so tls::stream's handshake fast path, which calls send(2)/recv(2) with
/// MSG_DONTWAIT on the descriptor itself, is not taken and every handshake byte goes through
/// async_read_some/async_write_some here. Counting inside that path would need a hook in
/// tls::stream for tests only; the fast path is tls::stream's own business (tls_stream_test),
/// what the adapters do with a failure is the same whichever path reported it.
class fail_transport {
public:
  using socket_type = asio::ip::tcp::socket;
  using executor_type = socket_type::executor_type;
  using wait_type = asio::socket_base::wait_type;
  using shutdown_type = asio::socket_base::shutdown_type;
  static constexpr wait_type wait_read = asio::socket_base::wait_read;

  explicit fail_transport(socket_type socket, fail_count* counter = nullptr)
      : socket_(std::move(socket)), counter_(counter) {}
  explicit fail_transport(const executor_type& ex, fail_count* counter = nullptr)
      : socket_(ex), counter_(counter) {}

  /// The counter asked from now on (nullptr: none, nothing fails).
  void set_fail_count(fail_count* counter) noexcept { counter_ = counter; }

  /// The socket itself, for a test's setup; operations on it are not counted.
  socket_type& socket() noexcept { return socket_; }

  /// Counts a step a user of the transport takes on socket() itself (open, bind, a socket
  /// option): true, with `ec` set, if the counter fails it; the caller then skips the step.
  bool fail_step(std::error_code& ec) { return failed(ec); }

  executor_type get_executor() noexcept { return socket_.get_executor(); }

  bool non_blocking() const { return socket_.non_blocking(); }
  void non_blocking(bool mode, std::error_code& ec) { socket_.non_blocking(mode, ec); }
  bool is_open() const noexcept { return socket_.is_open(); }
  void cancel(std::error_code& ec) { socket_.cancel(ec); }
  void close(std::error_code& ec) { socket_.close(ec); }
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

  // Starts `start(handler)` unless the counter fails the operation: then the handler gets the
  // error (and 0 bytes) on its executor.
  template <class Signature, class Token, class Start>
  auto counted(Token&& token, Start start) {
    return asio::async_initiate<Token, Signature>(
        [this](auto handler, Start begin) {
          std::error_code ec;
          if (!failed(ec)) return begin(std::move(handler));
          auto ex = asio::get_associated_executor(handler, socket_.get_executor());
          asio::post(ex, [handler = std::move(handler), ec]() mutable {
            if constexpr (std::is_same_v<Signature, void(std::error_code)>)
              handler(ec);
            else
              handler(ec, std::size_t{0});
          });
        },
        token, std::move(start));
  }

  socket_type socket_;
  fail_count* counter_;
};

static_assert(tls::detail::readiness_waitable<fail_transport>);
static_assert(!tls::detail::sendable_now<fail_transport>,
              "tls::stream's send(2)/recv(2) fast path would bypass the fail_count");

using fail_stream = tls::stream<fail_transport>;

/// A client and a server fail_stream connected over loopback TCP, not handshaken, with no
/// counter set; each end presents an identity of its own (made once per process) and accepts
/// any peer.
struct fail_stream_pair {
  std::unique_ptr<fail_stream> client;
  std::unique_ptr<fail_stream> server;

  explicit fail_stream_pair(asio::io_context& io) {
    static const tls::identity app = make_identity("app-fail");
    static const tls::identity accessory = make_identity("lamp-fail");
    tls::context_options o;
    o.verifier = [](const core::fingerprint&, const tls::peer_cert_info&) {
      return std::error_code();
    };
    asio::ip::tcp::acceptor acceptor(io, {asio::ip::address_v4::loopback(), 0});
    asio::ip::tcp::socket c(io);
    c.connect(acceptor.local_endpoint());
    client = std::make_unique<fail_stream>(fail_transport(std::move(c)), tls::context(app, o));
    server = std::make_unique<fail_stream>(fail_transport(acceptor.accept()),
                                           tls::context(accessory, o));
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

} // namespace lanyard::test
