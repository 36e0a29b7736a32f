// lanyard::channel (the runtime lanyard::client and lanyard::accessory share; not an API for
// applications): drives one core::session over one TLS connection at a time (shared by the client
// channel and the accessory server). The session outlives connections; attach() hands it a new
// connection (closing the previous one: takeover), and the runner moves bytes and time:
// a read loop feeding session::receive(), a writer flushing session::poll_output(), one
// steady_timer armed at session::next_deadline(). Events are drained after every call and
// passed to the owner in order; when the session asks for the connection to be closed (state
// closing/closed) the pending output (a CLOSE frame) is written first.
//
// The runner is a template over the TLS stream it drives (basic_session_runner<Stream>):
// production has one, session_runner over tls::stream<channel::transport> (a TCP socket or a
// relay tunnel: one session moves between both), compiled once in
// session_runner.cpp (extern template here, so callers get no copy); the unit tests run it over
// tests/support/fail_count.hpp's transport, which fails the Nth read/write/wait, to walk every
// error path. The member definitions are in src/channel/session_runner_impl.hpp.
//
// Lifetime: owned by shared_ptr; every handler holds one, so stop() may be called any time and
// the runner is freed once its last handler ran. Thread-safety: one executor, not thread-safe.
#pragma once

#include <lanyard/channel/transport.hpp>
#include <lanyard/core/session.hpp>
#include <lanyard/tls/stream.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

namespace lanyard::channel::detail {

using socket_type = asio::ip::tcp::socket;
using tls_stream = tls::stream<transport>;

/// Sets TCP_NODELAY and TCP_USER_TIMEOUT (ms; 0 = leave the kernel default) on `s`.
std::error_code configure_socket(socket_type& s, std::chrono::milliseconds user_timeout);

/// Drives one core::session over `Stream`: a tls::stream<Next> (async_write_some,
/// async_wait_readable, read_some_now, async_shutdown) whose next layer can close(ec) and
/// shutdown(socket_base::shutdown_type, ec).
template <class Stream>
class basic_session_runner : public std::enable_shared_from_this<basic_session_runner<Stream>> {
public:
  using stream_type = Stream;

  struct callbacks {
    /// Every session event, in order.
    std::function<void(core::session_event& ev)> on_event;
    /// The current connection ended; `why` is the transport error, or the session's
    /// connection_failed error. Not called after stop().
    std::function<void(std::error_code why)> on_link_lost;
  };

  /// `settings.delivery` is always message_delivery::copy here (handlers keep what they get).
  basic_session_runner(asio::any_io_executor ex, core::session_role role,
                       core::session_settings settings);

  void set_callbacks(callbacks cb) { cb_ = std::move(cb); }

  /// Hands the session a new, handshaken connection. An existing one is closed first
  /// (reported with errc::connection_replaced). `already_read`: bytes the caller read from `s`
  /// before (the accessory reads the first frame to tell HELLO from pairing); the session gets
  /// them first. Errors: the session's on_connected() error (session_closed): `s` is closed
  /// then.
  std::error_code attach(std::unique_ptr<Stream> s, std::span<const std::byte> already_read = {});

  /// Closes the current connection (if any) and reports it with `why`.
  void drop_link(std::error_code why);

  core::session::send_result send(std::span<const std::byte> payload,
                                  core::message_kind kind = core::message_kind::application);

  /// The application took received message `seq` (core::session::consume(), on_consume
  /// sessions): the acknowledgement it allows goes out in time.
  std::error_code consume(std::uint64_t seq, std::size_t payload_size);

  /// Ends the session (CLOSE(0) written if connected, then the connection closed).
  std::error_code close();

  /// Abandons everything at once: timer cancelled, connection closed, no more callbacks.
  void stop();

  bool has_link() const noexcept { return link_ != nullptr; }
  bool stopped() const noexcept { return stopped_; }
  core::session& session() noexcept { return session_; }
  const core::session& session() const noexcept { return session_; }

  static core::session::time_point now() { return std::chrono::steady_clock::now(); }

private:
  struct link {
    explicit link(std::unique_ptr<Stream> s) : stream(std::move(s)) {}
    std::unique_ptr<Stream> stream;
    std::vector<std::byte> wbuf;
    bool writing = false;
    bool closing = false;
    std::error_code error; // why the session closes it
  };
  using link_ptr = std::shared_ptr<link>;

  void after();
  void flush();
  // Closes a finished link's connection: after a close_notify when the end was planned.
  void end_transport(const link_ptr& l, std::error_code why);
  static constexpr std::chrono::seconds close_notify_limit{2};
  void rearm();
  void start_read(const link_ptr& l);
  void read_ready(const link_ptr& l);
  static std::span<std::uint8_t> read_buffer();
  void finish_link(link_ptr l, std::error_code why);

  asio::any_io_executor ex_;
  core::session session_;
  asio::steady_timer timer_;
  callbacks cb_;
  link_ptr link_;
  bool busy_ = false;
  bool again_ = false;
  bool stopped_ = false;
  std::optional<std::error_code> link_lost_;
  std::optional<core::session::time_point> armed_at_;
  std::uint64_t timer_gen_ = 0;
};

/// The runner production uses (client channel, accessory server).
using session_runner = basic_session_runner<tls_stream>;
extern template class basic_session_runner<tls_stream>;

} // namespace lanyard::channel::detail
