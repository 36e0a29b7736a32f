/// @file
/// The path monitor: watches the host's network interfaces, addresses and default routes over
/// rtnetlink and publishes changes as path events, each interface with its index, name and
/// kind (wifi, p2p, cellular… see interface_kind.hpp).
///
/// On start() it opens a NETLINK_ROUTE socket, subscribes to link, IPv4/IPv6 address and
/// IPv4/IPv6 route notifications, and dumps the current links, addresses and routes: every
/// interface, address and default route is first reported as an *_added event, then
/// snapshot_complete follows. From then on, changes arrive as they happen. Link state changes
/// are reported twice: raw (interface_up / interface_down, as the kernel says) and debounced
/// (interface_available / interface_unavailable, see lanyard/core/link_debounce.hpp): a
/// connection should move on the debounced events only.
///
/// If the kernel overruns the socket (a burst of changes larger than the receive buffer), the
/// monitor re-reads everything and reports the differences, so the snapshot never goes stale.
/// Events wait in a bounded queue; a consumer that falls behind by more than
/// `max_queued_events` gets one events_lost event instead of the oldest ones and should re-read
/// the snapshot.
///
/// Each path_monitor opens a socket of its own. Many consumers on one io_context (every client
/// channel) share one instead through shared_path_monitor.hpp.
///
/// Usage:
/// @code
///   lanyard::link::path_monitor monitor(io.get_executor());
///   if (auto ec = monitor.start()) { ... }
///   monitor.async_next_event([](std::error_code ec, lanyard::link::path_event ev) { ... });
/// @endcode
///
/// Errors: start() returns link_errc::netlink_failed (with the system error in the detail) if
/// the socket cannot be opened or bound. A failure of the socket later completes the pending
/// async_next_event with that error.
///
/// Thread-safety: distinct objects safe, shared objects unsafe: call every member from the
/// executor's thread (or strand). Cancellation: cancel() completes a pending async_next_event
/// with asio::error::operation_aborted, and so does a cancellation slot bound to its handler
/// (per-operation cancellation, any type: queued events stay for the next call); stop() and
/// the destructor close the socket (a pending async_next_event completes with
/// operation_aborted).
#pragma once

#include "lanyard/core/link_debounce.hpp"
#include "lanyard/link/error.hpp"
#include "lanyard/link/path_event.hpp"

#include <asio/any_io_executor.hpp>
#include <asio/associated_cancellation_slot.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace lanyard::link {

/// Path monitor settings.
struct path_monitor_settings {
  /// Debounce of interface_available / interface_unavailable (defaults in link_debounce.hpp).
  core::link_debounce_settings debounce;
  /// Events kept for a consumer that is not waiting; beyond this the oldest are dropped and
  /// one events_lost event is delivered. 1024 events are several seconds of a busy host.
  std::size_t max_queued_events = 1024;
  /// Socket receive buffer (SO_RCVBUFFORCE if permitted, else SO_RCVBUF). 1 MiB holds the
  /// dump of a host with hundreds of interfaces.
  std::size_t receive_buffer_bytes = 1 << 20;
  /// Interface kind of a name; empty: interface_kind_of() (sysfs, LANYARD_INTERFACE_KINDS).
  std::function<interface_kind(std::string_view)> resolve_kind;
};

namespace detail {
struct path_event_op {
  virtual ~path_event_op() = default;
  /// Completes the handler through its executor; its cancellation slot is freed first.
  void complete(std::error_code ec, path_event ev) {
    if (slot.is_connected()) slot.clear();
    post(ec, std::move(ev));
  }
  /// The handler's cancellation slot (per-operation cancellation); unconnected if none.
  asio::cancellation_slot slot;
  /// Which wait of its monitor this is: a cancellation that arrives late cannot end the next.
  std::uint64_t id = 0;

private:
  virtual void post(std::error_code ec, path_event ev) = 0;
};

// A waiting async_next_event: completes through the handler's executor (never inside the
// initiating call), holding work on it meanwhile. Shared by path_monitor and
// shared_path_monitor.
template <class Handler>
std::unique_ptr<path_event_op> make_path_event_op(Handler&& handler,
                                                  const asio::any_io_executor& ex) {
  using handler_type = std::decay_t<Handler>;
  struct op final : path_event_op {
    handler_type h;
    asio::executor_work_guard<asio::associated_executor_t<handler_type, asio::any_io_executor>>
        work;
    op(handler_type&& hh, const asio::any_io_executor& ex)
        : h(std::move(hh)), work(asio::get_associated_executor(h, ex)) {
      slot = asio::get_associated_cancellation_slot(h);
    }
    void post(std::error_code ec, path_event ev) override {
      auto ex = work.get_executor();
      asio::post(ex, [h = std::move(h), ec, ev = std::move(ev)]() mutable {
        std::move(h)(ec, std::move(ev));
      });
      work.reset();
    }
  };
  return std::make_unique<op>(std::forward<Handler>(handler), ex);
}
} // namespace detail

/// See the file comment.
class path_monitor {
public:
  using executor_type = asio::any_io_executor;

  explicit path_monitor(executor_type ex, path_monitor_settings settings = {});
  ~path_monitor();
  path_monitor(const path_monitor&) = delete;
  path_monitor& operator=(const path_monitor&) = delete;

  executor_type get_executor() const noexcept;

  /// Opens the netlink socket, subscribes and starts the initial dump. Events (and
  /// snapshot_complete) follow through async_next_event. Calling it twice is an error
  /// (asio::error::already_started).
  link_error start();

  /// Closes the socket; the snapshot stays as it was. A pending async_next_event completes with
  /// asio::error::operation_aborted.
  void stop();

  /// Completes a pending async_next_event with asio::error::operation_aborted.
  void cancel();

  /// Waits for the next event (returns at once, through the executor, if one is queued).
  /// Only one may be pending at a time (another completes with asio::error::in_progress).
  ///
  /// @par Completion Signature
  /// @code void(std::error_code ec, lanyard::link::path_event event) @endcode
  /// `ec` is operation_aborted after cancel()/stop(), netlink_failed (or the system error) if
  /// the socket failed; `event` is meaningful only when `!ec`.
  template <class CompletionToken>
  auto async_next_event(CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(std::error_code, path_event)>(
        [this](auto handler) {
          start_wait(detail::make_path_event_op(std::move(handler), get_executor()));
        },
        token);
  }

  /// True once the initial dump is complete (snapshot_complete has been queued).
  bool ready() const noexcept;

  /// A copy of every known interface with its addresses, ordered by index.
  std::vector<network_interface> interfaces() const;
  /// The interface with that index or name, if known.
  std::optional<network_interface> find(std::uint32_t index) const;
  std::optional<network_interface> find(std::string_view name) const;
  /// The debounced state of the interface (false for an unknown index).
  bool available(std::uint32_t index) const;
  /// The default routes of the main table.
  std::vector<default_route> default_routes() const;

private:
  struct impl;
  void start_wait(std::unique_ptr<detail::path_event_op> op);
  std::shared_ptr<impl> impl_;
};

/// Reads the interfaces and their addresses once, synchronously, through a private netlink
/// socket (no subscription, no events). For callers that need a snapshot without running a
/// monitor, e.g. bind_to_interface() by name.
///
/// Errors: link_errc::netlink_failed (detail names the system error).
std::vector<network_interface> query_interfaces(link_error& error);

} // namespace lanyard::link
