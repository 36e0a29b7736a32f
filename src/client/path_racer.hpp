// Private: races a channel's candidate paths to the accessory (RFC 8305 style, driven by
// core::connection_race) and hands back the first pinned TLS connection that completes.
//
// Each attempt: open the socket (TCP or MPTCP), pin it to the path's interface when one is
// given (link::bind_to_interface: SO_BINDTODEVICE + source address, so the packets really
// leave through that interface), connect, set TCP_NODELAY / TCP_USER_TIMEOUT, and run the
// TLS client handshake with the channel's pin check. An attempt *completes* only when the
// pinned handshake finished — a path whose TCP connects but whose TLS stalls does not win.
// Losers are closed. Every failure is kept with one line naming address, interface and kind.
//
// When every attempt fails, the outcome's error is a trust or certificate refusal only if every
// attempt was refused: then the verdict is final (the accessory presented another key on every
// path). If some path failed for transport reasons, the error is that failure and the
// refusals are in `failures`: anyone on the LAN can publish the accessory's id next to it, and
// such an impostor must not be able to end the channel while the real accessory is merely
// unreachable for a moment (the channel keeps retrying and logs every refusal). A relay
// attempt's failure (no answer through the broker) ranks below a refusal on a local path: an
// accessory that is switched off answers neither, and the refusal says more.
//
// The racer is a template over a connector (basic_path_racer<Connector>), the one seam between
// the race and the sockets: it makes each attempt's transport (the TLS stream's next layer) and
// does its synchronous steps (open, pin to the interface, configure); the connect and the
// handshake are the transport's own asynchronous operations. Production has one,
// path_racer = basic_path_racer<socket_connector> over a tcp::socket, compiled once in
// path_racer.cpp (extern template here); the unit tests race over
// tests/support/fail_count.hpp's transport, which fails the Nth step, to walk every error path
// (channel_path_racer_fail_test). The member definitions are in path_racer_impl.hpp.
//
// Lifetime: owned by shared_ptr; handlers hold it. Thread-safety: one executor.
#pragma once

#include <lanyard/channel/session_runner.hpp>

#include <lanyard/client/client_options.hpp>
#include <lanyard/core/connection_race.hpp>
#include <lanyard/core/path_ranking.hpp>
#include <lanyard/link/mptcp.hpp>
#include <lanyard/link/network_interface.hpp>
#include <lanyard/tls/stream.hpp>
#include <lanyard/tls_engine/context.hpp>
#include <lanyard/trust/trust_store.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace lanyard::client::detail {

using channel::detail::tls_stream;

/// One candidate path. A relay target (path.kind == core::interface_kind::relay) has no
/// endpoint to connect to: race_settings::open_relay opens its tunnel.
struct path_target {
  /// What ranking and messages need (interface name and kind, address text, family).
  core::path_candidate path;
  /// Where to connect; a link-local IPv6 address must carry its scope id.
  asio::ip::tcp::endpoint endpoint;
  /// Pin the socket to this interface; nullopt: let the routing table decide.
  std::optional<link::network_interface> bind_to;
};

/// Opens a relay tunnel to the accessory (the channel's relay link): `done` gets the tunnel or
/// why not, once, never inside the call.
using relay_opener = std::function<void(
    std::function<void(std::error_code, std::unique_ptr<channel::tunnel_io>)> done)>;

struct race_settings {
  /// RFC 8305 "connection attempt delay".
  std::chrono::milliseconds attempt_delay{250};
  /// Bound on one attempt (TCP connect + TLS handshake), e.g. a blackholed SYN.
  std::chrono::milliseconds attempt_timeout{10000};
  /// TCP_USER_TIMEOUT of the winning socket (0: kernel default).
  std::chrono::milliseconds tcp_user_timeout{0};
  link::transport_protocol transport = link::transport_protocol::tcp;
  /// How a target of kind core::interface_kind::relay is reached; null: it fails at once
  /// (channel::errc::relay_unavailable).
  relay_opener open_relay = nullptr;
};

/// One failed attempt.
struct attempt_failure {
  std::size_t index;
  std::error_code error;
  /// "TLS handshake with 198.18.1.3 port 7443 via wlan0 (wifi) failed: <reason>".
  std::string what;
  /// The step that failed, as the field_key::step value: "socket_open", "bind_to_interface",
  /// "tcp_connect", "relay_open", "attempt_timeout", "socket_configure" or "tls_handshake".
  std::string_view step;
  /// The trust store's verdict when it refused this path's key (every fingerprint involved),
  /// so the channel can report who presented what; nullopt for other failures.
  std::optional<trust::trust_decision> refused = std::nullopt;
};

template <class Stream>
struct basic_race_outcome {
  /// Empty when a path won.
  std::error_code error;
  std::unique_ptr<Stream> stream;
  /// Index of the winning target.
  std::size_t winner = 0;
  /// The trust store's verdict on the winner (with a store), to commit the pin.
  std::optional<trust::trust_decision> decision;
  std::vector<attempt_failure> failures;
};

using race_outcome = basic_race_outcome<tls_stream>;

/// The production connector: each attempt's transport is a tcp::socket (TCP or MPTCP).
///
/// A connector is what basic_path_racer asks for the steps of an attempt that are not the
/// transport's own asynchronous operations (async_connect, then the TLS handshake over it):
/// `next_layer_type make(asio::any_io_executor, std::size_t attempt)`, and open(), bind() and
/// configure() below with the same meaning on its next_layer_type, each returning the step's
/// error. The next layer must be a tls::stream next layer with async_connect(endpoint, token)
/// and close(ec).
struct socket_connector {
  /// A TCP socket in the transport a session runner takes (which may also be a relay tunnel).
  using next_layer_type = channel::transport;

  next_layer_type make(asio::any_io_executor ex, std::size_t attempt);
  /// Opens `s` for `family` (link::open_socket: MPTCP falls back to TCP).
  std::error_code open(next_layer_type& s, asio::ip::tcp family,
                       link::transport_protocol transport);
  /// Pins `s` to `iface` with its source address for `destination` (link::bind_to_interface).
  std::error_code bind(next_layer_type& s, const link::network_interface& iface,
                       const asio::ip::address& destination);
  /// TCP_NODELAY and TCP_USER_TIMEOUT on the connected socket.
  std::error_code configure(next_layer_type& s, std::chrono::milliseconds user_timeout);
};

template <class Connector>
class basic_path_racer : public std::enable_shared_from_this<basic_path_racer<Connector>> {
public:
  using connector_type = Connector;
  using stream_type = tls::stream<typename Connector::next_layer_type>;
  using outcome_type = basic_race_outcome<stream_type>;
  using handler = std::function<void(outcome_type)>;

  basic_path_racer(asio::any_io_executor ex, tls::context ctx, trust_options trust,
                   race_settings settings, Connector connector = {});

  /// Races `targets` (best first). `h` is called exactly once, never inside this call:
  /// with the winner, with the race's error, or operation_aborted after cancel().
  void start(std::vector<path_target> targets, handler h);

  /// Aborts every attempt; the handler gets asio::error::operation_aborted.
  void cancel();

  /// True if `ec` is a refusal that no other path or retry can fix (trust, certificate, ALPN):
  /// `ec == core::condition::permanent`.
  static bool is_refusal(std::error_code ec) noexcept;

private:
  struct attempt;

  void drive();
  void launch(std::size_t i);
  void connected(std::size_t i);
  void launch_relay(std::size_t i);
  void handshake(std::size_t i);
  void succeeded(std::size_t i);
  /// `step`: attempt_failure::step; `phrase`: how `what` names it ("TCP connect to").
  void failed(std::size_t i, std::error_code ec, std::string_view step, const std::string& phrase);
  void abort(std::size_t i);
  void finish(outcome_type o);

  asio::any_io_executor ex_;
  tls::context ctx_;
  trust_options trust_;
  race_settings settings_;
  Connector connector_;
  std::vector<path_target> targets_;
  std::vector<std::shared_ptr<attempt>> attempts_;
  std::optional<core::connection_race> race_;
  asio::steady_timer timer_;
  handler handler_;
  std::vector<attempt_failure> failures_;
  std::optional<std::error_code> refusal_;
  std::optional<std::error_code> transport_failure_;
  std::optional<std::error_code> relay_failure_;
  bool done_ = false;
};

using path_racer = basic_path_racer<socket_connector>;
extern template class basic_path_racer<socket_connector>;

} // namespace lanyard::client::detail
