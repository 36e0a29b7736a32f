/// @file
/// channel::tunnel_io: the little the channel needs of a connection that is not a socket (a
/// relay tunnel, docs/design/relay.md): bytes in, bytes out, a wait until bytes are queued, an
/// end. Declared here so that the channel depends on no relay code; lanyard::relay implements it
/// (relay::make_tunnel_io) and channel::transport holds it.
///
/// Semantics are a connected stream socket's in non-blocking mode:
///  - read_now() takes queued bytes at once, asio::error::would_block when none are queued, the
///    end's reason once the tunnel ended and everything queued was read (asio::error::eof when
///    the peer closed it);
///  - async_wait_readable() completes when read_now() will not say would_block;
///  - writes complete when the bytes are handed on (no flow control below the channel's window).
///
/// Completions run on get_executor(), never inside the initiating call.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/buffer.hpp>

#include <cstddef>
#include <functional>
#include <string>
#include <system_error>

namespace lanyard::channel {

/// See the file comment.
class tunnel_io {
public:
  using completion = std::function<void(std::error_code, std::size_t)>;

  virtual ~tunnel_io() = default;

  virtual asio::any_io_executor get_executor() const = 0;
  virtual std::size_t read_now(asio::mutable_buffer into, std::error_code& ec) = 0;
  virtual std::size_t write_now(asio::const_buffer from, std::error_code& ec) = 0;
  virtual void async_read_some(asio::mutable_buffer into, completion done) = 0;
  virtual void async_write_some(asio::const_buffer from, completion done) = 0;
  virtual void async_wait_readable(std::function<void(std::error_code)> done) = 0;
  /// Runs `f` on the executor, later.
  virtual void post(std::function<void()> f) = 0;
  /// Pending reads and waits complete with asio::error::operation_aborted.
  virtual void cancel() = 0;
  /// Ends the tunnel (the peer is told); pending operations complete with operation_aborted.
  virtual void close() = 0;
  virtual bool is_open() const = 0;
  /// Who is at the other end, for messages: "relay tunnel 1f2e3d4c".
  virtual std::string describe() const = 0;
};

} // namespace lanyard::channel
