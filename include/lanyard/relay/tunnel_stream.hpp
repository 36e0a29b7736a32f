/// @file
/// relay::tunnel_stream: one relay tunnel (docs/design/relay.md) as an asio stream
/// (AsyncReadStream, AsyncWriteStream, with cancel/close/shutdown like a socket), so that
/// tls::stream<relay::tunnel_stream> runs the channel's pinned TLS end to end through the
/// broker. Made by relay::tunnel_hub (async_open on the app, its accept handler on the
/// accessory).
///
/// Bytes written go out as DATA frames (at most core::relay_max_data each), numbered, QoS 1;
/// bytes read are the peer's DATA frames in order. A gap in the numbering, the peer's CLOSE,
/// the loss of the MQTT connection or the end of the hub ends the tunnel: pending and later
/// operations fail with the reason (core::relay_errc::sequence_gap, asio::error::eof,
/// relay::mqtt_errc::connection_lost). Writes complete once libmosquitto has the frame: a
/// tunnel has no flow control of its own beyond what the channel's window allows.
///
/// Thread-safety: the hub's executor only. One read and one write may be outstanding.
#pragma once

#include "lanyard/channel/tunnel_io.hpp"
#include "lanyard/core/fingerprint.hpp"
#include "lanyard/core/relay_frame.hpp"

#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/buffer.hpp>
#include <asio/socket_base.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <system_error>
#include <type_traits>

namespace lanyard::relay {

namespace detail {
struct tunnel;
} // namespace detail

/// See the file comment.
class tunnel_stream {
public:
  using executor_type = asio::any_io_executor;
  using completion = std::function<void(std::error_code, std::size_t)>;

  explicit tunnel_stream(std::shared_ptr<detail::tunnel> t) noexcept;
  ~tunnel_stream();
  tunnel_stream(tunnel_stream&&) noexcept;
  tunnel_stream& operator=(tunnel_stream&&) noexcept;

  executor_type get_executor() const noexcept;

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(std::error_code, std::size_t)>(
        [this](auto handler, const MutableBuffers& b) {
          auto h = std::make_shared<std::decay_t<decltype(handler)>>(std::move(handler));
          asio::mutable_buffer first;
          for (auto it = asio::buffer_sequence_begin(b); it != asio::buffer_sequence_end(b); ++it)
            if (asio::mutable_buffer m(*it); m.size() != 0) {
              first = m;
              break;
            }
          start_read(first, [h](std::error_code ec, std::size_t n) { (*h)(ec, n); });
        },
        token, buffers);
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(std::error_code, std::size_t)>(
        [this](auto handler, const ConstBuffers& b) {
          auto h = std::make_shared<std::decay_t<decltype(handler)>>(std::move(handler));
          asio::const_buffer first;
          for (auto it = asio::buffer_sequence_begin(b); it != asio::buffer_sequence_end(b); ++it)
            if (asio::const_buffer c(*it); c.size() != 0) {
              first = c;
              break;
            }
          start_write(first, [h](std::error_code ec, std::size_t n) { (*h)(ec, n); });
        },
        token, buffers);
  }

  /// A pending read completes with asio::error::operation_aborted.
  void cancel(std::error_code& ec);
  /// Ends the tunnel: a CLOSE to the peer, pending operations aborted.
  void close(std::error_code& ec);
  /// As close() (a tunnel has no half-close).
  void shutdown(asio::socket_base::shutdown_type, std::error_code& ec);
  bool is_open() const noexcept;

  const core::relay_tunnel_id& id() const noexcept;
  /// On the accessory: the controller whose relay key opened the tunnel (the TLS handshake
  /// inside must present the same key).
  const std::optional<core::fingerprint>& opened_by() const noexcept;

private:
  friend std::unique_ptr<channel::tunnel_io> make_tunnel_io(tunnel_stream s);
  void start_read(asio::mutable_buffer into, completion done);
  void start_write(asio::const_buffer from, completion done);
  std::shared_ptr<detail::tunnel> t_;
};

/// The tunnel as a channel connection's transport: channel::transport(make_tunnel_io(...)), so
/// a session runs over it exactly as over TCP.
std::unique_ptr<channel::tunnel_io> make_tunnel_io(tunnel_stream s);

} // namespace lanyard::relay
