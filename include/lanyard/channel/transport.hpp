/// @file
/// channel::transport: what a channel connection runs its TLS over, either a TCP socket or a
/// tunnel that is not a socket (a relay tunnel through an MQTT broker, docs/design/relay.md).
/// One session moves between connections of both kinds with nothing lost, so the session runner,
/// the client channel and the accessory server take one type: tls::stream<channel::transport>.
///
/// A small variant with the dispatch at run time, not a virtual base for every byte: the TCP
/// path keeps asio's socket operations (and tls::stream's readiness waits, so an idle TCP
/// connection still holds no TLS input buffer); a tunnel is reached through channel::tunnel_io,
/// which it implements the same way (wait until bytes are queued, then take them without
/// blocking).
///
/// Not for applications: lanyard::client and lanyard::accessory use it.
///
/// Thread-safety: as the socket or tunnel it holds (one executor).
#pragma once

#include <lanyard/channel/tunnel_io.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/buffer.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/socket_base.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

namespace lanyard::channel {

/// See the file comment.
class transport {
public:
  using executor_type = asio::any_io_executor;
  using wait_type = asio::socket_base::wait_type;
  static constexpr wait_type wait_read = asio::socket_base::wait_read;

  /// A TCP connection (or a socket not connected yet: async_connect()).
  transport(asio::ip::tcp::socket s) : socket_(std::move(s)) {} // NOLINT: converting on purpose
  /// A tunnel; must not be null.
  explicit transport(std::unique_ptr<tunnel_io> t) : tunnel_(std::move(t)) {}

  transport(transport&&) noexcept = default;
  transport& operator=(transport&&) noexcept = default;

  executor_type get_executor() {
    return socket_ ? socket_->get_executor() : tunnel_->get_executor();
  }

  /// The TCP socket, or null for a tunnel.
  asio::ip::tcp::socket* socket() noexcept { return socket_ ? &*socket_ : nullptr; }
  const asio::ip::tcp::socket* socket() const noexcept { return socket_ ? &*socket_ : nullptr; }
  /// The tunnel, or null for a TCP socket.
  tunnel_io* tunnel() noexcept { return tunnel_.get(); }
  const tunnel_io* tunnel() const noexcept { return tunnel_.get(); }

  /// The socket's descriptor, -1 for a tunnel (tls::stream then skips its send(2)/recv(2)
  /// shortcuts).
  int native_handle() { return socket_ ? socket_->native_handle() : -1; }

  /// A tunnel's reads never block: always true there.
  bool non_blocking() const { return socket_ ? socket_->non_blocking() : true; }
  void non_blocking(bool mode, std::error_code& ec) {
    ec.clear();
    if (socket_) socket_->non_blocking(mode, ec);
  }

  /// Reads what has arrived: asio::error::would_block when nothing has (in non-blocking mode).
  std::size_t read_some(const asio::mutable_buffer& b, std::error_code& ec) {
    if (socket_) return socket_->read_some(b, ec);
    return tunnel_->read_now(b, ec);
  }
  /// Writes at once (a socket in non-blocking mode may take less, or would_block).
  std::size_t write_some(const asio::const_buffer& b, std::error_code& ec) {
    if (socket_) return socket_->write_some(b, ec);
    return tunnel_->write_now(b, ec);
  }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(std::error_code, std::size_t)>(
        [this](auto handler, const MutableBuffers& b) {
          if (socket_) return socket_->async_read_some(b, std::move(handler));
          tunnel_->async_read_some(first_buffer<asio::mutable_buffer>(b),
                                   shared_completion(std::move(handler)));
        },
        token, buffers);
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(std::error_code, std::size_t)>(
        [this](auto handler, const ConstBuffers& b) {
          if (socket_) return socket_->async_write_some(b, std::move(handler));
          tunnel_->async_write_some(first_buffer<asio::const_buffer>(b),
                                    shared_completion(std::move(handler)));
        },
        token, buffers);
  }

  /// Completes when a read_some() may find bytes (or the end). Only wait_read.
  template <class Token>
  auto async_wait(wait_type w, Token&& token) {
    return asio::async_initiate<Token, void(std::error_code)>(
        [this, w](auto handler) {
          if (socket_) return socket_->async_wait(w, std::move(handler));
          auto h = std::make_shared<std::decay_t<decltype(handler)>>(std::move(handler));
          tunnel_->async_wait_readable([h](std::error_code ec) { (*h)(ec); });
        },
        token);
  }

  /// TCP only (the path racer's attempts): a tunnel completes with operation_not_supported.
  template <class Token>
  auto async_connect(const asio::ip::tcp::endpoint& to, Token&& token) {
    return asio::async_initiate<Token, void(std::error_code)>(
        [this, to](auto handler) {
          if (socket_) return socket_->async_connect(to, std::move(handler));
          auto h = std::make_shared<std::decay_t<decltype(handler)>>(std::move(handler));
          tunnel_->post([h] { (*h)(asio::error::operation_not_supported); });
        },
        token);
  }

  // (A moved-from transport holds neither: these do nothing and it is not open.)

  /// Pending reads and waits complete with asio::error::operation_aborted.
  void cancel(std::error_code& ec) {
    ec.clear();
    if (socket_) return (void)socket_->cancel(ec);
    if (tunnel_) tunnel_->cancel();
  }
  /// Ends the connection; pending operations complete with operation_aborted.
  void close(std::error_code& ec) {
    ec.clear();
    if (socket_) return (void)socket_->close(ec);
    if (tunnel_) tunnel_->close();
  }
  /// A socket's shutdown(2); a tunnel has no half-close: as close().
  void shutdown(asio::socket_base::shutdown_type what, std::error_code& ec) {
    ec.clear();
    if (socket_) return (void)socket_->shutdown(what, ec);
    if (tunnel_) tunnel_->close();
  }
  bool is_open() const {
    return socket_ ? socket_->is_open() : tunnel_ != nullptr && tunnel_->is_open();
  }

private:
  template <class Buffer, class Buffers>
  static Buffer first_buffer(const Buffers& buffers) {
    for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers);
         ++it)
      if (Buffer b(*it); b.size() != 0) return b;
    return Buffer();
  }
  // A tunnel takes std::function completions; asio's handlers are move-only.
  template <class Handler>
  static tunnel_io::completion shared_completion(Handler&& handler) {
    auto h = std::make_shared<std::decay_t<Handler>>(std::forward<Handler>(handler));
    return [h](std::error_code ec, std::size_t n) { (*h)(ec, n); };
  }

  std::optional<asio::ip::tcp::socket> socket_;
  std::unique_ptr<tunnel_io> tunnel_;
};

} // namespace lanyard::channel
