/// @file
/// Browses for DNS-SD service instances and keeps each one resolved.
///
/// A browser watches one service type (or subtype, "_setup._sub._lanyard._tcp") on all
/// interfaces or one, and reports each instance — per (interface, mDNS protocol, name) — as
/// `added` once it is fully resolved: host, port, TXT record and at least one address. It then
/// stays subscribed (Avahi record browsers on the instance's SRV and TXT records and on the
/// host's A and AAAA records, not a one-shot resolver) and reports `updated` when the TXT
/// record, the addresses, the host or the port change, and `removed` when the instance leaves
/// (goodbye, expiry, or its interface going down). An instance that appears before its host's
/// addresses are known is reported as soon as they are. A TXT record is never reported empty
/// because resolution raced: an instance without a TXT record is not reported at all.
///
/// TXT records received from the network are decoded leniently (core::txt_decode_mode::
/// lenient: malformed strings are skipped, the first occurrence of a key wins).
///
/// When avahi-daemon goes away the error handler is told (daemon_unavailable) and known
/// instances are kept; once the daemon is back the browse is started again, instances that
/// are still there are reconciled (an `updated` only if something changed) and those that
/// are not are reported `removed`.
///
/// Thread-safety: distinct objects safe, shared objects unsafe; use from the client's
/// executor only. Handlers run on that executor, never inside the initiating call.
///
/// Cancellation: stop() or destruction completes a pending async_next() with
/// asio::error::operation_aborted.
#pragma once

#include "lanyard/discovery/client.hpp"
#include "lanyard/discovery/service.hpp"
#include "lanyard/discovery/validation.hpp"
#include "lanyard/discovery/wait_cancellation.hpp"

#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

struct AvahiServiceBrowser;

namespace lanyard::discovery {

enum class browse_event_kind { added, updated, removed };

/// "added", "updated" or "removed".
std::string_view to_string(browse_event_kind kind) noexcept;

/// One change of one service instance.
struct browse_event {
  browse_event_kind kind = browse_event_kind::added;
  /// The instance as it is now (for `removed`: as it was last reported).
  service_instance service;
  /// For `updated`: what changed.
  bool txt_changed = false;
  bool addresses_changed = false;
  bool endpoint_changed = false; ///< host or port
};

class browser final : private detail::client_listener {
public:
  using executor_type = asio::any_io_executor;

  /// Bounds the queue of events nobody has collected with async_next() yet (when no
  /// on_event() handler is set): beyond it the oldest events are dropped.
  static constexpr std::size_t max_queued_events = 4096;

  /// A browser that browses nothing yet. `c` must outlive it.
  explicit browser(client& c);
  ~browser();
  browser(const browser&) = delete;
  browser& operator=(const browser&) = delete;

  executor_type get_executor() const noexcept { return client_.get_executor(); }

  /// Starts browsing `type` ("_lanyard._tcp" or "_setup._sub._lanyard._tcp") on `interface`
  /// (a name or an index; empty: all interfaces) in `domain` (empty: local). Replaces a
  /// previous browse (its instances are forgotten without events). Errors (at once, nothing
  /// started): those of parse_browse_type(), unknown_interface. A missing daemon is not an
  /// error here: browsing starts when it appears (see on_error()).
  std::error_code start(std::string_view type, std::string_view interface = {},
                        std::string_view domain = {});

  /// Stops browsing and forgets all instances (no events).
  void stop();

  /// Events go to `handler` (replacing the previous one) instead of the async_next() queue.
  void on_event(std::function<void(const browse_event&)> handler) {
    event_handler_ = std::move(handler);
  }

  /// Told about the daemon: daemon_unavailable when it goes (or is absent at start),
  /// an empty error_code when browsing runs again, daemon_error if the daemon refuses the
  /// browse.
  void on_error(std::function<void(std::error_code)> handler) {
    error_handler_ = std::move(handler);
  }

  /// The next event (queued if nobody was waiting).
  ///
  /// @par Completion Signature
  /// `void(std::error_code, browse_event)`: an empty error and the event; or
  /// daemon_unavailable / daemon_error (browsing goes on: call again), or
  /// asio::error::operation_aborted after stop() / destruction, or when a cancellation slot
  /// bound to the handler is emitted (any type: events stay queued for the next call).
  template <class CompletionToken>
  auto async_next(CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(std::error_code, browse_event)>(
        [this](auto handler) {
          auto ex = asio::get_associated_executor(handler, get_executor());
          asio::cancellation_slot slot = asio::get_associated_cancellation_slot(handler);
          auto h = std::make_shared<decltype(handler)>(std::move(handler));
          auto work = std::make_shared<asio::executor_work_guard<decltype(ex)>>(ex);
          complete_waiter(asio::error::operation_aborted, {});
          const std::uint64_t id = ++waits_;
          waiter_ = [h, ex, work, slot](std::error_code ec, browse_event e) mutable {
            if (slot.is_connected()) slot.clear();
            asio::post(ex,
                       [h, ec, e = std::move(e)]() mutable { std::move (*h)(ec, std::move(e)); });
            work->reset();
          };
          detail::arm_cancellation(slot, asio::cancellation_type::all, get_executor(), alive_,
                                   [this, id] {
                                     if (waits_ == id)
                                       complete_waiter(asio::error::operation_aborted, {});
                                   });
          deliver_queued();
        },
        token);
  }

  /// The instances reported so far and not removed.
  std::vector<service_instance> services() const;

  struct instance; // per (interface, protocol, name): its record browsers and state

private:
  friend struct browser_access;
  void avahi_running(AvahiClient* c) override;
  void avahi_lost(std::error_code error) override;

  void create_browser(AvahiClient* c);
  void free_avahi_objects();
  void on_browse(int ifindex, int protocol, int event, const char* name, const char* domain);
  void start_records(instance& in);
  void schedule_flush(instance& in);
  void flush();
  void emit(browse_event e);
  void report(std::error_code ec);
  void complete_waiter(std::error_code ec, browse_event e);
  void deliver_queued();

  using key = std::tuple<int, int, std::string, std::string>; // ifindex, protocol, name, domain

  client& client_;
  service_type type_;
  unsigned ifindex_ = 0;
  std::string domain_;
  bool active_ = false;
  bool resyncing_ = false; // after a daemon restart, until the first ALL_FOR_NOW
  AvahiServiceBrowser* avahi_browser_ = nullptr;
  std::map<key, std::unique_ptr<instance>> instances_;
  bool flush_scheduled_ = false;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
  std::function<void(const browse_event&)> event_handler_;
  std::function<void(std::error_code)> error_handler_;
  std::deque<std::pair<std::error_code, browse_event>> queue_;
  std::function<void(std::error_code, browse_event)> waiter_;
  std::uint64_t waits_ = 0; // async_next calls so far: which one waiter_ is
};

} // namespace lanyard::discovery
