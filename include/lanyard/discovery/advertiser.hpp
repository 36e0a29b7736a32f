/// @file
/// Publishes one DNS-SD service instance through avahi-daemon.
///
/// - publish() checks the description before anything reaches the network (validate()) and
///   then registers it; the instance counts as registered only once Avahi's entry group is
///   ESTABLISHED (probing done, RFC 6762 §8), not when the request was sent.
/// - Name conflicts (another host already uses the name, RFC 6762 §9) rename the instance to
///   "Lamp (2)", "Lamp (3)", … and report the new name in a `renamed` event. From the 15th
///   conflict in a row (no registration in between) each new probe waits 5 s (RFC 6762
///   §8.1); it never gives up, so a storm ends with the instance registered again.
/// - update_txt() changes the TXT record in place (no withdraw/re-probe).
/// - withdraw() and the destructor remove the records (the daemon sends goodbye packets).
/// - If avahi-daemon goes away, an `unavailable` event is reported and the instance is
///   published again, under its current name, as soon as the daemon is back.
///
/// Thread-safety: distinct objects safe, shared objects unsafe; use from the client's
/// executor only. Handlers run on that executor (or the completion handler's associated
/// executor), never inside the initiating call.
///
/// Avahi's client library makes synchronous D-Bus calls to the daemon (a fraction of a
/// millisecond each): publish(), update_txt() and withdraw() block for that long.
#pragma once

#include "lanyard/discovery/client.hpp"
#include "lanyard/discovery/service.hpp"
#include "lanyard/discovery/wait_cancellation.hpp"

#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

struct AvahiEntryGroup;

namespace lanyard::discovery {

/// What an advertiser reports.
enum class advertiser_event_kind {
  registered,  ///< the instance is on the network under `name` (entry group established)
  renamed,     ///< a name conflict: the instance is being re-registered as `name`
  unavailable, ///< avahi-daemon is gone (`error`); re-published when it is back
  failed,      ///< the daemon refused the service (`error`); nothing is published
};

struct advertiser_event {
  advertiser_event_kind kind;
  std::string name;      ///< the instance name at the time of the event
  std::error_code error; ///< for unavailable and failed
};

/// The RFC 6762 §9 style alternative for a taken name: "Lamp" → "Lamp (2)", "Lamp (2)" →
/// "Lamp (3)"; truncates the base (on a UTF-8 boundary) to stay within 63 bytes.
std::string next_instance_name(std::string_view name);

class advertiser final : private detail::client_listener {
public:
  using executor_type = asio::any_io_executor;

  /// An advertiser that publishes nothing yet. `c` must outlive it.
  explicit advertiser(client& c);
  /// Withdraws the service (goodbye) and completes a pending async_publish() with
  /// asio::error::operation_aborted.
  ~advertiser();
  advertiser(const advertiser&) = delete;
  advertiser& operator=(const advertiser&) = delete;

  executor_type get_executor() const noexcept { return client_.get_executor(); }

  /// Starts publishing `d` (replacing whatever this advertiser published before). Returns a
  /// validation error (validation.hpp, unknown_interface) at once; otherwise progress and
  /// later errors arrive as events. daemon_unavailable is not returned: the service is
  /// published when the daemon appears.
  std::error_code publish(service_description d);

  /// publish(), completing once the instance is registered.
  ///
  /// @par Completion Signature
  /// `void(std::error_code, std::string name)`: the registered (possibly renamed) name; or a
  /// validation error, a `failed` event's error, or asio::error::operation_aborted after
  /// withdraw() / destruction. While the daemon is unavailable it keeps waiting.
  ///
  /// Per-operation cancellation (a cancellation slot bound to the handler): terminal or partial
  /// cancellation stops waiting (operation_aborted) while the service stays published or
  /// being published (withdraw() removes it); total cancellation, which promises no side
  /// effect, is not honoured once publishing began.
  template <class CompletionToken>
  auto async_publish(service_description d, CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(std::error_code, std::string)>(
        [this](auto handler, service_description desc) {
          auto ex = asio::get_associated_executor(handler, get_executor());
          asio::cancellation_slot slot = asio::get_associated_cancellation_slot(handler);
          auto h = std::make_shared<decltype(handler)>(std::move(handler));
          auto work = std::make_shared<asio::executor_work_guard<decltype(ex)>>(ex);
          complete_pending(asio::error::operation_aborted);
          const std::uint64_t id = ++publishes_;
          detail::arm_cancellation(
              slot, asio::cancellation_type::terminal | asio::cancellation_type::partial,
              get_executor(), alive_, [this, id] {
                if (publishes_ == id) complete_pending(asio::error::operation_aborted);
              });
          pending_ = [h, ex, work, slot](std::error_code ec, std::string name) mutable {
            if (slot.is_connected()) slot.clear();
            asio::post(ex, [h, ec, name = std::move(name)]() mutable {
              std::move (*h)(ec, std::move(name));
            });
            work->reset();
          };
          if (auto ec = publish(std::move(desc))) complete_pending(ec);
        },
        token, std::move(d));
  }

  /// Replaces the TXT record in place. Errors: txt_too_large, not_published, or the daemon's
  /// error. While the daemon is unavailable the new record is kept and published later.
  std::error_code update_txt(core::txt_record txt);

  /// Removes the service from the network (goodbye packets). Idempotent.
  void withdraw();

  /// The current instance name (after renames); empty if nothing is published.
  const std::string& name() const noexcept { return name_; }

  /// True while the entry group is established.
  bool registered() const noexcept { return established_; }

  /// The description being published (with the current TXT record).
  const service_description& description() const noexcept { return desc_; }

  /// Called for every event (replaces the previous handler).
  void on_event(std::function<void(const advertiser_event&)> handler) {
    handler_ = std::move(handler);
  }

private:
  void avahi_running(AvahiClient* c) override;
  void avahi_registering() override;
  void avahi_lost(std::error_code error) override;

  friend struct advertiser_access;
  void on_group_state(AvahiEntryGroup* g, int state);
  void register_service(AvahiClient* c);
  std::error_code add_entries();
  void rename();
  void emit(advertiser_event_kind kind, std::error_code ec = {});
  void complete_pending(std::error_code ec);
  void free_group();

  client& client_;
  service_description desc_;
  bool active_ = false;
  unsigned ifindex_ = 0;
  std::string name_;
  AvahiEntryGroup* group_ = nullptr;
  bool established_ = false;
  int renames_ = 0;
  asio::steady_timer reprobe_timer_; // RFC 6762 §8.1 holdoff after 15 conflicts
  asio::steady_timer watchdog_;      // a registration that never completes is tried again
  std::function<void(const advertiser_event&)> handler_;
  std::function<void(std::error_code, std::string)> pending_;
  std::uint64_t publishes_ = 0; // async_publish calls so far: which one pending_ is
  std::shared_ptr<int> alive_ = std::make_shared<int>(0); // weakly held by posted work
};

} // namespace lanyard::discovery
