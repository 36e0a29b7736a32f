/// @file
/// A subscription to the one path monitor of an execution context (an asio::io_context): every
/// shared_path_monitor on the same context reads the same rtnetlink socket, instead of each
/// opening its own. The client channel uses it, so a process with a thousand channels on one
/// io_context watches the kernel once.
///
/// The events and the snapshot are those of path_monitor (see path_monitor.hpp): every
/// subscriber receives every event in its own bounded queue (a subscriber that falls behind
/// gets its own events_lost; the others are not held back). The first start() on a context
/// opens the socket and starts the initial dump. A subscriber that starts later catches up
/// first: its first events describe the current snapshot the way an initial dump does
/// (interface_added, address_added, default_route_added for everything known, then
/// snapshot_complete if the initial dump is complete), and ready() / interfaces() answer from
/// the shared snapshot at once. The socket closes when the last subscriber stops (or is
/// destroyed); the next start() opens a new one.
///
/// The shared monitor runs with the default path_monitor_settings (debounce, receive buffer,
/// interface kinds from interface_kind_of(), i.e. sysfs and LANYARD_INTERFACE_KINDS), except
/// for each subscriber's own queue bound. A program that needs other settings runs a
/// path_monitor of its own.
///
/// Usage:
/// @code
///   lanyard::link::shared_path_monitor monitor(io.get_executor());
///   if (auto ec = monitor.start()) { ... } // e.g. no netlink in a sandbox
///   monitor.async_next_event([](std::error_code ec, lanyard::link::path_event ev) { ... });
/// @endcode
///
/// Errors: start() returns what path_monitor::start() would (link_errc::netlink_failed with
/// the system error in the detail); each subscriber that starts while the socket cannot be
/// opened gets the error, and none is left holding a half-started monitor. A failure of the
/// socket later completes every subscriber's pending (or next) async_next_event with that
/// error after the events already queued; a subscriber that starts after such a failure gets a
/// fresh monitor.
///
/// Thread-safety: distinct objects safe, shared objects unsafe (call a subscriber's members
/// from its executor). Subscribers of one context may run on different threads or strands:
/// the shared monitor locks. Cancellation: cancel() completes a pending async_next_event with
/// asio::error::operation_aborted; stop() and the destructor end the subscription (a pending
/// async_next_event completes with operation_aborted) and, for the last subscriber, close the
/// socket.
#pragma once

#include "lanyard/link/error.hpp"
#include "lanyard/link/path_event.hpp"
#include "lanyard/link/path_monitor.hpp"

#include <asio/any_io_executor.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <system_error>
#include <vector>

namespace lanyard::link {

/// See the file comment.
class shared_path_monitor {
public:
  using executor_type = asio::any_io_executor;

  /// `max_queued_events`: this subscriber's queue bound (path_monitor_settings).
  explicit shared_path_monitor(executor_type ex, std::size_t max_queued_events = 1024);
  ~shared_path_monitor();
  shared_path_monitor(const shared_path_monitor&) = delete;
  shared_path_monitor& operator=(const shared_path_monitor&) = delete;

  executor_type get_executor() const noexcept;

  /// Subscribes: to the context's running monitor, or starts one. Calling it again while
  /// subscribed is an error (asio::error::already_started); after stop() it subscribes again.
  link_error start();

  /// Ends the subscription (the socket closes if this was the last one). A pending
  /// async_next_event completes with asio::error::operation_aborted; from then on the
  /// subscriber has no snapshot (ready() is false, interfaces() empty).
  void stop();

  /// Completes a pending async_next_event with asio::error::operation_aborted.
  void cancel();

  /// Waits for the next event, as path_monitor::async_next_event (completes with
  /// operation_aborted if not subscribed).
  ///
  /// @par Completion Signature
  /// @code void(std::error_code ec, lanyard::link::path_event event) @endcode
  template <class CompletionToken>
  auto async_next_event(CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(std::error_code, path_event)>(
        [this](auto handler) {
          start_wait(detail::make_path_event_op(std::move(handler), get_executor()));
        },
        token);
  }

  /// The shared snapshot (see path_monitor); empty / false while not subscribed.
  bool ready() const noexcept;
  std::vector<network_interface> interfaces() const;
  std::optional<network_interface> find(std::uint32_t index) const;
  std::optional<network_interface> find(std::string_view name) const;
  bool available(std::uint32_t index) const;
  std::vector<default_route> default_routes() const;

  /// How many subscribers share the monitor of `ex`'s execution context now (0: no socket
  /// open). For diagnostics; a snapshot that may be stale once returned.
  static std::size_t subscribers(const executor_type& ex);

private:
  struct impl;
  void start_wait(std::unique_ptr<detail::path_event_op> op);
  std::shared_ptr<impl> impl_; // shared: a per-operation cancellation holds it weakly
};

} // namespace lanyard::link
