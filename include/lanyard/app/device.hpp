/// @file
/// device: one accessory, as the app sees it. Obtained from app::controller::get() by device
/// id (the same object until controller::forget()), it owns the channel to that
/// accessory: connecting and staying connected through every path discovery finds, pinned
/// TLS, a session that resumes across reconnects and moves without losing or repeating a
/// message. The app sends, pulls the accessory's messages, pulls events, and provisions.
///
/// @code
///   auto lamp = ctl->get("lamp-1");
///   lamp->start();
///   auto [ec, seq] = co_await lamp->async_send(bytes, as_tuple(use_awaitable));
///   auto [rec, m] = co_await lamp->async_receive(as_tuple(use_awaitable));  // pull
///   auto [eec, ev] = co_await lamp->async_next_event(as_tuple(use_awaitable));
/// @endcode
///
/// Flow control: messages are pulled (async_receive). The session acknowledges a message only
/// once the app took it, so an app that stops receiving holds the accessory to the window
/// (controller_options::session.max_replay_bytes): its sends wait, nothing is lost, nothing
/// piles up in the app.
///
/// Thread-safety: call members on the controller's executor only (a strand with a
/// multi-threaded io_context); completions run on the handler's associated executor.
///
/// Cancellation: each async operation honours a cancellation slot bound to its handler (see
/// each); cancel() ends the session (CLOSE sent if connected) and completes every pending
/// operation with asio::error::operation_aborted.
///
/// Errors: state events carry the channel's reasons (client_channel.hpp); last_error() has
/// their fields. Operations complete with the codes each one lists.
///
/// The layer below (client::client_channel) stays public for apps that want push delivery,
/// explicit endpoints or their own discovery.
#pragma once

#include <lanyard/app/device_event.hpp>
#include <lanyard/channel/completion.hpp>
#include <lanyard/channel/receive_completion.hpp>
#include <lanyard/channel/send_completion.hpp>
#include <lanyard/channel/send_options.hpp>
#include <lanyard/client/channel_state.hpp>
#include <lanyard/client/path_options.hpp>
#include <lanyard/core/error_detail.hpp>
#include <lanyard/core/fingerprint.hpp>
#include <lanyard/core/pairing_frame.hpp>
#include <lanyard/core/pairing_initiator.hpp>
#include <lanyard/core/provisioning.hpp>
#include <lanyard/core/session_event.hpp>
#include <lanyard/discovery/directory.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

namespace lanyard::app {

/// The accessory's answer to a successful provisioning.
struct provisioning_outcome {
  /// Its addresses on the new network (IP literals as it reported them).
  std::vector<std::string> addresses;
};

/// What device::async_provision() calls with each report answering it (see there).
using provisioning_progress_handler = std::function<void(const core::provisioning_progress&)>;

/// A completed pairing (controller::async_pair()).
struct pairing_result {
  std::string device_id;
  /// The accessory's key, now pinned in the trust store.
  core::fingerprint fingerprint;
  /// The role the accessory gave this app (the first app paired is its admin), when this
  /// call ran a pairing exchange; empty when the accessory was pinned already and the call
  /// only connected.
  std::optional<core::paired_role> role;
};

namespace detail {
struct controller_context;
struct pair_request;
} // namespace detail

/// See the file comment.
class device {
  struct passkey {
    explicit passkey() = default;
  };

public:
  using executor_type = asio::any_io_executor;

  /// Made by controller::get(); `key` keeps the constructor out of reach.
  device(passkey key, std::string id, std::shared_ptr<detail::controller_context> ctx);
  /// Ends the session as cancel() does, without waiting for anything.
  ~device();
  device(const device&) = delete;
  device& operator=(const device&) = delete;

  const std::string& id() const noexcept;
  executor_type get_executor() const noexcept;

  /// setup until start(); then preparing, ready, waiting, failed or cancelled.
  client::channel_state state() const noexcept;
  /// The reason of the last waiting or failed state with its fields (fingerprints of a refused
  /// key, the rejected paths, a pairing's attempts_left); empty when there was none.
  core::error_detail last_error() const;
  /// The path the session runs on now (state ready).
  std::optional<client::path_info> current_path() const;

  /// Connects, and stays connected, to the accessory (it must be paired, or pinned on first
  /// use). Idempotent while connecting or connected; after failed or cancelled it starts over
  /// with a new channel (a new session: messages not yet taken from the old one are dropped
  /// with it).
  void start();

  /// Sends one message to the accessory's application. The payload is copied before the
  /// initiation returns. A send made before the channel is ready waits in the session.
  ///
  /// @par Completion Signature
  /// @code void(std::error_code ec, std::uint64_t seq) @endcode
  /// As client::client_channel::async_send() (completes once acknowledged by default; errors
  /// buffer_full, message_too_large, too_many_waiting_sends, session_reset, session_closed,
  /// operation_aborted), plus core::channel_errc::invalid_state before start().
  ///
  /// @par Per-operation cancellation
  /// As client_channel::async_send(): a send still waiting for room is withdrawn; one in the
  /// session is delivered exactly once and only the wait for its acknowledgement ends.
  template <class CompletionToken>
  auto async_send(std::span<const std::byte> payload, channel::send_options options,
                  CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(std::error_code, std::uint64_t)>(
        [this](auto handler, std::span<const std::byte> p, channel::send_options o) {
          send_impl(p, o, channel::send_completion(std::move(handler), get_executor()));
        },
        token, payload, options);
  }
  /// async_send(payload, {}, token).
  template <class CompletionToken>
  auto async_send(std::span<const std::byte> payload, CompletionToken&& token) {
    return async_send(payload, channel::send_options{}, std::forward<CompletionToken>(token));
  }

  /// Takes the accessory's next message, in order, exactly once (see Flow control above).
  ///
  /// @par Completion Signature
  /// @code void(std::error_code ec, core::message m) @endcode
  /// `m.seq` restarts at 0 in a new session (after a session_reset_event). Errors:
  /// asio::error::in_progress (another async_receive is waiting),
  /// core::channel_errc::invalid_state before start(), and once every message received before
  /// was taken: asio::error::operation_aborted (cancel()), core::channel_errc::session_closed
  /// and the other reasons of a failed channel.
  ///
  /// A receive waiting when a message is read completes from that read (asio::dispatch: inline
  /// when the read runs on the handler's executor, as asio's own socket reads complete), so a
  /// burst is taken without an event-loop turn per message and a reply leaves with the same
  /// write; a receive that finds a message waiting completes by post, never inside this call.
  ///
  /// @par Per-operation cancellation
  /// Any type: a waiting receive completes with asio::error::operation_aborted and takes no
  /// message; the next receive gets it.
  template <class CompletionToken>
  auto async_receive(CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(std::error_code, core::message)>(
        [this](auto handler) {
          receive_impl(channel::receive_completion(std::move(handler), get_executor()));
        },
        token);
  }

  /// The next message already received, taken now (acknowledged as async_receive() does), or
  /// nullopt when none is waiting or an async_receive() waits (it gets them, in order). For an
  /// app that fell behind: take what piled up in one go, then wait with async_receive().
  std::optional<core::message> try_receive();

  /// The next event (device_event.hpp), in order.
  ///
  /// @par Completion Signature
  /// @code void(std::error_code ec, device_event e) @endcode
  /// Errors: asio::error::in_progress (another async_next_event is waiting),
  /// asio::error::operation_aborted once the queue is empty after cancel() or the device's
  /// destruction.
  ///
  /// @par Per-operation cancellation
  /// Any type: the waiting call completes with asio::error::operation_aborted; events stay
  /// queued for the next call.
  template <class CompletionToken>
  auto async_next_event(CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(std::error_code, device_event)>(
        [this](auto handler) {
          next_event_impl(channel::completion<device_event>(std::move(handler), get_executor()));
        },
        token);
  }

  /// Gives the accessory the credentials of the network to join, as a provisioning message
  /// (docs/PROTOCOL.md § 2.7: never application data), and follows its reports: `connecting`
  /// arrives as a provisioning_event, the final report completes the operation. The device
  /// starts if it was not started. The channel then follows the accessory onto the new network
  /// by itself (discovery finds it there and the session resumes).
  ///
  /// @par Completion Signature
  /// @code void(std::error_code ec, provisioning_outcome outcome) @endcode
  /// Success: the accessory joined; `outcome.addresses` are its addresses there. Errors:
  /// core::provisioning_errc::bad_ssid or bad_passphrase (checked before anything is sent),
  /// wrong_passphrase, network_not_found, join_timeout (the accessory stays in setup mode: call
  /// again with other credentials), not_admin (only its admin, the first app paired, may
  /// provision it), credentials_refused (another refusal; last_error()'s field `refusal` has
  /// the accessory's word), asio::error::in_progress (another provisioning is running), the
  /// channel's errors (session_reset before the accessory took the credentials,
  /// session_closed, the reason of a failed channel), asio::error::operation_aborted.
  ///
  /// @par Per-operation cancellation
  /// Terminal or partial: completes with asio::error::operation_aborted and tells the
  /// accessory nothing: credentials it already received may still be applied (ESP-IDF's
  /// provisioning behaves the same).
  ///
  /// `credentials` is copied before the initiation returns. (It is taken by reference because
  /// GCC 12 destroys a temporary argument in a co_await expression twice: from a coroutine,
  /// pass a named object.)
  template <class CompletionToken>
  auto async_provision(const core::wifi_credentials& credentials, CompletionToken&& token) {
    return async_provision(credentials, provisioning_progress_handler{},
                           std::forward<CompletionToken>(token));
  }
  /// As above, and `progress` is called with each report the accessory sends in answer to this
  /// request, in order, the final one (connected or failed) included, right before the
  /// operation completes: a setup screen shows "joining HomeLAN…" on `connecting` without
  /// taking device events (which report the same, later). Called on the controller's executor,
  /// from the device's own handler: it should only record or post. Not called for reports
  /// answering another request, nor after the operation completed (cancelled, failed).
  template <class CompletionToken>
  auto async_provision(const core::wifi_credentials& credentials,
                       provisioning_progress_handler progress, CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(std::error_code, provisioning_outcome)>(
        [this](auto handler, core::wifi_credentials c, provisioning_progress_handler p) {
          provision_impl(
              std::move(c), std::move(p),
              channel::completion<provisioning_outcome>(std::move(handler), get_executor()));
        },
        token, credentials, std::move(progress));
  }

  /// Ends the session: CLOSE sent if connected, state cancelled, every pending operation
  /// completes with asio::error::operation_aborted (receives and event waits once their queue
  /// is empty). start() begins anew. Idempotent.
  void cancel();

  /// Ends the session gracefully: once the accessory has acknowledged every message sent
  /// before this call (the device keeps reconnecting and delivering them meanwhile), CLOSE,
  /// state cancelled, as cancel(). Sends after this call complete with
  /// core::channel_errc::session_closed; receiving goes on until the end. start() begins anew.
  /// What Network.framework's `cancel()` is to its `forceCancel()`, this is to cancel().
  ///
  /// @par Completion Signature
  /// @code void(std::error_code ec) @endcode
  /// Success: all acknowledged, the session closed (also at once on a device not started or
  /// already cancelled). Errors: the reason the channel failed first (unacknowledged sends
  /// complete with it too), asio::error::operation_aborted (cancel(), the destructor, or this
  /// operation cancelled), asio::error::in_progress (another close is waiting). Never
  /// completes inside this call.
  ///
  /// @par Per-operation cancellation
  /// Any type: the device is cancelled at once (cancel()); completes with
  /// asio::error::operation_aborted. `co_await (dev.async_close(use_awaitable) ||
  /// timer.async_wait(use_awaitable))` bounds a graceful close.
  template <class CompletionToken>
  auto async_close(CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(std::error_code)>(
        [this](auto handler) {
          close_impl(channel::completion<>(std::move(handler), get_executor()));
        },
        token);
  }

  struct impl; ///< private

private:
  friend class controller;
  // controller::async_pair(): (re)start with these pairing credentials; `done` completes when
  // the channel is ready (paired and pinned) or failed.
  void pair_impl(detail::pair_request request, channel::completion<pairing_result> done);
  // The controller's directory changed.
  void directory_changed(std::span<const discovery::directory_event> events);

  void send_impl(std::span<const std::byte> payload, channel::send_options options,
                 channel::send_completion c);
  void close_impl(channel::completion<> c);
  void receive_impl(channel::receive_completion c);
  void next_event_impl(channel::completion<device_event> c);
  void provision_impl(core::wifi_credentials credentials, provisioning_progress_handler progress,
                      channel::completion<provisioning_outcome> c);

  std::shared_ptr<impl> impl_;
};

} // namespace lanyard::app
