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
// unreachable for a moment (the channel keeps retrying and logs every refusal).
//
// Lifetime: owned by shared_ptr; handlers hold it. Thread-safety: one executor.
#pragma once

#include <lanyard/channel/session_runner.hpp>

#include <lanyard/client/client_options.hpp>
#include <lanyard/core/connection_race.hpp>
#include <lanyard/core/path_ranking.hpp>
#include <lanyard/link/mptcp.hpp>
#include <lanyard/link/network_interface.hpp>
#include <lanyard/tls/context.hpp>
#include <lanyard/trust/trust_store.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace lanyard::client::detail {

using channel::detail::tls_stream;

/// One candidate path.
struct path_target {
  /// What ranking and messages need (interface name and kind, address text, family).
  core::path_candidate path;
  /// Where to connect; a link-local IPv6 address must carry its scope id.
  asio::ip::tcp::endpoint endpoint;
  /// Pin the socket to this interface; nullopt: let the routing table decide.
  std::optional<link::network_interface> bind_to;
};

struct race_settings {
  /// RFC 8305 "connection attempt delay".
  std::chrono::milliseconds attempt_delay{250};
  /// Bound on one attempt (TCP connect + TLS handshake), e.g. a blackholed SYN.
  std::chrono::milliseconds attempt_timeout{10000};
  /// TCP_USER_TIMEOUT of the winning socket (0: kernel default).
  std::chrono::milliseconds tcp_user_timeout{0};
  link::transport_protocol transport = link::transport_protocol::tcp;
};

/// One failed attempt.
struct attempt_failure {
  std::size_t index;
  std::error_code error;
  /// "TLS handshake with 198.18.1.3 port 7443 via wlan0 (wifi) failed: <reason>".
  std::string what;
};

struct race_outcome {
  /// Empty when a path won.
  std::error_code error;
  std::unique_ptr<tls_stream> stream;
  /// Index of the winning target.
  std::size_t winner = 0;
  /// The trust store's verdict on the winner (with a store), to commit the pin.
  std::optional<trust::trust_decision> decision;
  std::vector<attempt_failure> failures;
};

class path_racer : public std::enable_shared_from_this<path_racer> {
public:
  using handler = std::function<void(race_outcome)>;

  path_racer(asio::any_io_executor ex, tls::context ctx, trust_options trust,
             race_settings settings);

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
  void succeeded(std::size_t i);
  void failed(std::size_t i, std::error_code ec, const std::string& step);
  void abort(std::size_t i);
  void finish(race_outcome o);

  asio::any_io_executor ex_;
  tls::context ctx_;
  trust_options trust_;
  race_settings settings_;
  std::vector<path_target> targets_;
  std::vector<std::shared_ptr<attempt>> attempts_;
  std::optional<core::connection_race> race_;
  asio::steady_timer timer_;
  handler handler_;
  std::vector<attempt_failure> failures_;
  std::optional<std::error_code> refusal_;
  std::optional<std::error_code> transport_failure_;
  bool done_ = false;
};

} // namespace lanyard::client::detail
