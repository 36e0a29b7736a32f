/// @file
/// The connection to avahi-daemon that advertisers and browsers share.
///
/// A client owns one AvahiClient driven by the application's executor (a custom AvahiPoll on
/// asio: no thread of its own). It is created with AVAHI_CLIENT_NO_FAIL and never gives up:
/// while avahi-daemon (or the D-Bus system bus) is absent or restarting, status() is
/// discovery_errc::daemon_unavailable (or bus_unavailable) and the status handler is told;
/// when the daemon is back, every advertiser re-publishes and every browser re-browses by
/// itself. Each new connection has a new generation() so that work queued for an old
/// connection is recognised and dropped.
///
/// Thread-safety: distinct objects safe, shared objects unsafe; use a client, and the
/// advertisers and browsers made from it, from its executor only (e.g. one thread running the
/// io_context, or a strand). Handlers run on that executor, never inside the call that
/// registered them.
///
/// Lifetime: advertisers and browsers must be destroyed before their client.
#pragma once

#include "lanyard/discovery/error.hpp"

#include <asio/any_io_executor.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <system_error>

struct AvahiClient;

namespace lanyard::discovery {

namespace detail {
/// Implemented by advertisers and browsers: told when the daemon comes and goes.
class client_listener {
public:
  /// The daemon is running and `c` is ready for entry groups and browsers (first connection,
  /// after a restart of the daemon, and after a host name change).
  virtual void avahi_running(AvahiClient* c) = 0;
  /// The daemon is re-registering the host (host name collision or change): entry groups
  /// must be reset and are re-added at the next avahi_running().
  virtual void avahi_registering() {}
  /// The connection is gone; free every Avahi object made from it now (the client is freed
  /// right after). `error` is daemon_unavailable or bus_unavailable.
  virtual void avahi_lost(std::error_code error) = 0;

protected:
  ~client_listener() = default;
};
} // namespace detail

class client {
public:
  using executor_type = asio::any_io_executor;

  /// Connects (asynchronously) to avahi-daemon over the system bus. Never fails: see status().
  explicit client(const executor_type& executor);
  /// Frees the AvahiClient. Advertisers and browsers must be gone already.
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  executor_type get_executor() const noexcept;

  /// Empty while connected to a running daemon; otherwise daemon_unavailable or
  /// bus_unavailable (the client keeps retrying by itself).
  std::error_code status() const noexcept;

  /// True while connected to a running daemon.
  bool running() const noexcept { return !status(); }

  /// Called with the new status whenever it changes (an empty error_code: daemon reachable).
  void on_status(std::function<void(std::error_code)> handler);

  /// The daemon's host name ("phone"), empty while not running.
  std::string host_name() const;

  /// Incremented every time a new AvahiClient is made (reconnects).
  std::uint64_t generation() const noexcept;

  /// For advertisers and browsers: (un)subscribe to daemon up/down. A listener added while
  /// the client is running is told avahi_running() from the executor's queue.
  void add_listener(detail::client_listener* l);
  void remove_listener(detail::client_listener* l);

  /// The live AvahiClient, or nullptr while the daemon is unavailable.
  AvahiClient* native_handle() const noexcept;

  struct impl;

private:
  std::shared_ptr<impl> impl_;
};

} // namespace lanyard::discovery
