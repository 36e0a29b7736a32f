/// @file
/// accessory_browser: the accessories around, without an identity. It browses a DNS-SD service
/// type with avahi-daemon on the given executor, merges what it finds by device id (TXT `id`)
/// across interfaces, address families and instance names, and reports accessories with their
/// TXT metadata: a snapshot (accessories()) and the changes, pulled one at a time
/// (async_next_discovery_event()). An app lists accessories with it before it has an identity
/// or a trust store, e.g. on an onboarding screen, as Network.framework's NWBrowser lists
/// services next to NWConnection; app::controller browses with one inside, so both report the
/// same accessories and the same events.
///
/// @code
///   std::unique_ptr<app::accessory_browser> b;
///   if (auto e = app::accessory_browser::open(io.get_executor(), {}, b)) ...;
///   for (;;) {
///     auto [ec, e] = co_await b->async_next_discovery_event(as_tuple(use_awaitable));
///     if (ec == asio::error::operation_aborted) break;
///     if (!ec && e.info.pairing_window_open) show(e.info);  // escape peers' words first
///   }
/// @endcode
///
/// Errors: open() fails only on options it can check at once (the service type, the
/// interface). A missing avahi-daemon is no error: discovery_status() says so, browsing starts
/// when the daemon appears, and a discovery_event of kind discovery_status reports each change
/// (the daemon went away, or browsing runs again), queued like the accessories' changes. What peers
/// announce (names, TXT values) is unauthenticated and may hold terminal escapes: escape it before
/// showing it (core::display_text) and trust only a pin.
///
/// Thread-safety: distinct objects safe, shared objects unsafe: call members on the executor
/// given to open() only (a strand with a multi-threaded io_context). Completions run on the
/// handler's associated executor, never inside the initiating call.
///
/// Cancellation: async_next_discovery_event() honours a cancellation slot bound to its handler
/// (any type: changes stay queued). cancel() stops browsing for good: a pending call completes
/// with asio::error::operation_aborted, and so does every later call once the queued changes
/// are taken. Destruction stops browsing and completes a pending call with
/// asio::error::operation_aborted.
#pragma once

#include <lanyard/app/accessory_info.hpp>
#include <lanyard/channel/completion.hpp>
#include <lanyard/core/error_detail.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

namespace lanyard::trust {
class trust_store;
} // namespace lanyard::trust

namespace lanyard::app {

namespace detail {
class discovery_feed;
} // namespace detail

class controller;

/// What an accessory_browser browses; defaults are the recommended settings.
struct accessory_browser_options {
  /// The DNS-SD service type, or a subtype ("_setup._sub._lanyard._tcp": only accessories
  /// that announce it).
  std::string service_type = "_lanyard._tcp";
  /// Browse on this interface only (a name or an index); empty: every interface.
  std::string interface;
  /// The app's pins, read for accessory_info::paired (never written): with it, accessories()
  /// also lists the paired accessories that are away. Null: nothing is paired.
  std::shared_ptr<const trust::trust_store> trust_store;
};

/// See the file comment.
class accessory_browser {
public:
  using executor_type = asio::any_io_executor;

  /// Changes that wait for async_next_discovery_event(); beyond this the oldest are dropped
  /// (accessories() has the present).
  static constexpr std::size_t max_queued_events = 1024;

  /// Starts browsing. On success sets `out` and returns an empty error_detail. Errors (nothing
  /// started): discovery::discovery_errc codes for a bad options.service_type (those of
  /// discovery::parse_browse_type()) or an unknown options.interface (unknown_interface).
  static core::error_detail open(executor_type ex, accessory_browser_options options,
                                 std::unique_ptr<accessory_browser>& out);

  ~accessory_browser();
  accessory_browser(const accessory_browser&) = delete;
  accessory_browser& operator=(const accessory_browser&) = delete;

  executor_type get_executor() const noexcept;

  /// Whether it is browsing now: empty while avahi-daemon is running (accessories() and the
  /// events follow the network); discovery::discovery_errc::daemon_unavailable or
  /// bus_unavailable while it is not (it keeps trying and browses as soon as the daemon comes:
  /// wait, or tell the user); asio::error::operation_aborted after cancel(). Right after open()
  /// it already says whether the daemon answered.
  std::error_code discovery_status() const noexcept;

  /// Every accessory discovered now, ordered by id; with a trust store in the options, the
  /// paired ones that are away too (reachable false). After cancel(): as they were then.
  std::vector<accessory_info> accessories() const;

  /// The next discovery change (accessory_info.hpp), in order: one event per accessory and
  /// browse result. Changes queue until taken (at most max_queued_events; beyond that the
  /// oldest are dropped).
  ///
  /// @par Completion Signature
  /// @code void(std::error_code ec, discovery_event e) @endcode
  /// Errors: asio::error::in_progress (another call is waiting), asio::error::operation_aborted
  /// (cancel(), destruction). avahi-daemon going away and browsing running again are events
  /// (kind discovery_status, with the status), not errors: browsing resumes by itself.
  ///
  /// @par Per-operation cancellation
  /// Any type: completes with asio::error::operation_aborted; changes stay queued.
  template <class CompletionToken>
  auto async_next_discovery_event(CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(std::error_code, discovery_event)>(
        [this](auto handler) {
          next_impl(channel::completion<discovery_event>(std::move(handler), get_executor()));
        },
        token);
  }

  /// Stops browsing for good (see the file comment). Idempotent.
  void cancel();

  struct impl; ///< private

private:
  friend class controller; // browses with one, sharing its feed (directory and queue)
  explicit accessory_browser(std::unique_ptr<impl> i);
  void next_impl(channel::completion<discovery_event> c);
  const std::shared_ptr<detail::discovery_feed>& feed() const noexcept;

  std::unique_ptr<impl> impl_;
};

} // namespace lanyard::app
