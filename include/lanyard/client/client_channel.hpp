/// @file
/// client_channel: the app's persistent channel to one accessory (asio). The lower layer: an
/// app normally holds an app::device (app/device.hpp), which owns one of these; use it
/// directly for what the product API does not wrap (push receive, your own discovery). It connects
/// to an explicit endpoint, or to a device id through the discovery directory, over pinned,
/// mutually authenticated TLS, drives a core::session (client role) over it, and keeps that session
/// alive across connections: when the connection dies it reconnects with backoff and the
/// session resumes, so every message is delivered exactly once and in order. If the accessory lost
/// the session, the session_reset handler receives every message it never acknowledged.
/// docs/channel.md has the states, send semantics and an example.
///
/// @code
///   client::client_channel ch(io.get_executor(), tls_ctx, opts);
///   ch.set_state_handler([](client::channel_state s, std::error_code why) { ... });
///   ch.set_message_handler([](std::uint64_t seq, std::span<const std::byte> m) { ... });
///   ch.start({"198.18.1.3", 7443});            // or: ch.start("lamp-1", directory);
///   ch.async_send(bytes, {}, [](std::error_code ec, std::uint64_t seq) { ... });
/// @endcode
///
/// Errors: see async_send(), the state handler (waiting(reason): transport, TLS and session
/// errors, channel::errc::not_discovered when started by device id; failed(error): trust refusals
/// such as trust::key_changed, tls_errc::peer_rejected_certificate (the accessory does not know
/// us), alpn_mismatch, or core::channel_errc::session_closed when the accessory ended the session).
///
/// Diagnostics: every notable event (an attempt or a path failed, a trust refusal, a reconnect, a
/// move) goes to client_options::diagnostics as data (ids in lanyard/client/diagnostics.hpp), or
/// as a line to client_options::log when no diagnostics handler is set.
/// last_error_detail() keeps the fields of the error the state handler reported last.
///
/// Thread-safety: distinct objects safe, shared objects unsafe: call members and run handlers
/// on the channel's executor only (use a strand with a multi-threaded io_context).
///
/// Cancellation: cancel() ends the session gracefully (CLOSE sent if connected) and completes
/// pending sends with asio::error::operation_aborted; the destructor does the same without
/// waiting for anything to be written. Per-operation cancellation slots are not supported.
#pragma once

#include <lanyard/channel/completion.hpp>
#include <lanyard/channel/error.hpp>
#include <lanyard/channel/receive_completion.hpp>
#include <lanyard/channel/send_completion.hpp>
#include <lanyard/channel/send_options.hpp>
#include <lanyard/client/channel_state.hpp>
#include <lanyard/client/client_options.hpp>
#include <lanyard/core/channel_error.hpp>
#include <lanyard/core/error_detail.hpp>
#include <lanyard/core/pairing_frame.hpp>
#include <lanyard/core/session_event.hpp>
#include <lanyard/discovery/directory.hpp>
#include <lanyard/tls_engine/context.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <system_error>
#include <utility>

namespace lanyard::client {

/// See the file comment.
class client_channel {
public:
  using executor_type = asio::any_io_executor;

  /// Called on every state change; `reason` is the error for waiting and failed, else empty.
  using state_handler = std::function<void(channel_state state, std::error_code reason)>;
  /// Called for every message from the accessory, exactly once, in order.
  using message_handler =
      std::function<void(std::uint64_t seq, std::span<const std::byte> payload)>;
  /// A library service's message from the accessory (a CONTROL frame: provisioning or
  /// controller administration, docs/PROTOCOL.md § 2.7), exactly once and in order with the
  /// application's messages, which never include it. For the services' own code
  /// (`lanyard provision`, `lanyard controllers`); an app provisions through the layer above.
  using control_handler = std::function<void(core::message_kind service, std::uint64_t seq,
                                             std::span<const std::byte> payload)>;
  /// Called when the accessory lost the session; `event.unacked` lists every application
  /// message it never acknowledged (their async_send()s complete with
  /// channel::errc::session_reset; service messages are not listed, their
  /// async_send_control()s complete with the same error).
  using session_reset_handler = std::function<void(const core::events::session_reset& event)>;
  /// Called whenever a connection of the session is established on a path (started by device
  /// id): the first one (reason connected), a move after the active path failed (path_failed,
  /// `detail` says why), or a make-before-break move back to a preferred or faster path.
  using path_handler = std::function<void(const path_change& change)>;

  /// `ctx` carries the app's (controller's) identity; its verifier is replaced per connection
  /// by the trust options. Nothing happens until start().
  client_channel(executor_type ex, tls::context ctx, client_options options);
  ~client_channel();
  client_channel(const client_channel&) = delete;
  client_channel& operator=(const client_channel&) = delete;

  executor_type get_executor() const noexcept;

  void set_state_handler(state_handler h);
  void set_message_handler(message_handler h);
  void set_control_handler(control_handler h);
  void set_session_reset_handler(session_reset_handler h);
  void set_path_handler(path_handler h);

  /// Starts connecting to `ep` (setup → preparing). Every attempt resolves `ep.host` and races
  /// its addresses (RFC 8305, client_options::paths.attempt_delay apart, over paths.transport)
  /// through the routing table, with the same pin check as start(device_id, dir); the first
  /// handshake to complete wins. No path events are reported (set_path_handler(),
  /// current_path() are for channels started by device id). Calling it again is ignored unless
  /// the channel is in setup.
  void start(endpoint ep);

  /// Starts connecting to the accessory whose device id (TXT `id`) is `device_id`, through
  /// the paths the discovery directory `dir` knows for it plus client_options::paths.
  /// static_paths (setup → preparing). Every attempt — the first and each reconnect — takes
  /// the current candidates, ranks them under the interface policy (docs/paths.md) and races
  /// them RFC 8305 style: the first pinned TLS handshake to complete wins, each socket bound to
  /// its interface. With no candidate the attempt fails with channel::errc::not_discovered (nothing
  /// known) or core::channel_errc::no_viable_path (the policy or the interfaces exclude every
  /// path; the diagnostic channel.attempt_failed and last_error_detail() say why) and the channel
  /// waits. The app keeps feeding `dir` from its browser on this channel's executor and hands the
  /// resulting events to directory_changed().
  ///
  /// The channel watches the local interfaces itself (rtnetlink, debounced; every channel on
  /// one io_context shares one monitor, link::shared_path_monitor): when the active
  /// path's interface or address goes, the session moves at once to the best other path; when
  /// a more preferred path (handover mode) or a clearly faster one (interactive mode) has been
  /// viable for paths.move_back_hold, it moves there make-before-break. set_path_handler()
  /// reports every move.
  ///
  /// `device_id` is also the trust id: it fills client_options::trust.device_id when that is
  /// empty. Errors (state failed, std::errc::invalid_argument, diagnostic channel.start_failed): a
  /// null `dir`, an empty `device_id`, a trust.device_id that names another device, or an
  /// inconsistent interface policy. Calling it again is ignored unless the channel is in setup.
  void start(std::string_view device_id, std::shared_ptr<const discovery::directory> dir);

  /// Tells a channel started by device id what changed in its directory (the events
  /// directory::apply(), or the app's report_unreachable() or report_reachable(), returned; the
  /// channel itself never writes the directory). A new or newly reachable path of this
  /// accessory (events added, path_added, path_reachable) makes a waiting channel attempt at
  /// once instead of waiting out its backoff, and restarts an
  /// attempt still in its TCP connect (it may be stuck on a path that just died) with the
  /// current paths; a ready channel keeps its connection. Other events, events of other
  /// accessories and calls on a channel started with an endpoint are ignored.
  void directory_changed(std::span<const discovery::directory_event> events);

  /// The network changed (a path monitor reported a new interface or address): if the channel
  /// is waiting, or still connecting (a SYN sent over the old path may never be answered), a
  /// new attempt starts at once instead of waiting out the backoff or the connect timeout. A
  /// ready channel keeps its connection (keep-alive decides whether it still works).
  void network_changed();

  /// Ends the session: sends CLOSE if connected, state cancelled, pending sends complete with
  /// asio::error::operation_aborted. Idempotent.
  void cancel();

  /// Ends the session once the accessory has acknowledged every message sent before this call
  /// (across reconnects, as the channel keeps delivering them): then CLOSE, state cancelled,
  /// as cancel(). Sends after this call complete with core::channel_errc::session_closed;
  /// receiving goes on until the end (what was received stays to be taken).
  ///
  /// @par Completion Signature
  /// @code void(std::error_code ec) @endcode
  /// Success: everything was acknowledged and the session closed. Errors: the reason the
  /// channel failed first (the sends still unacknowledged complete with it too),
  /// asio::error::operation_aborted (cancel(), the destructor, or cancellation of this
  /// operation), asio::error::in_progress (another close is waiting). On a cancelled channel
  /// it succeeds at once; never completes inside this call.
  ///
  /// @par Per-operation cancellation
  /// Any type: the channel is cancelled at once (cancel()), this operation completes with
  /// asio::error::operation_aborted. Bound a graceful close with a timer this way.
  template <class CompletionToken>
  auto async_close(CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(std::error_code)>(
        [this](auto handler) {
          close_impl(channel::completion<>(std::move(handler), get_executor()));
        },
        token);
  }
  /// The initiation behind async_close(), for the layer above.
  void close_impl(channel::completion<> c);

  channel_state state() const noexcept;
  /// The reason of the last waiting or failed state.
  std::error_code last_error() const noexcept;
  /// The last waiting or failed state's reason with what the channel knows about it: `code`
  /// is last_error(), `detail` the line that was logged for it, `fields` as in the diagnostic
  /// (lanyard/client/diagnostics.hpp, docs/diagnostics.md): for a trust refusal the
  /// fingerprints (fingerprint_presented, fingerprint_pinned, fingerprint_expected), for
  /// core::channel_errc::no_viable_path one group per rejected path (rejected_interface,
  /// rejected_kind, rejected_address, rejection), for a failed pairing attempts_left and
  /// retry_after_ms, for bad start() arguments `problem`. Fields are only those the channel
  /// learnt for this very error; empty when there was none.
  core::error_detail last_error_detail() const;
  /// The role the accessory gave this app in the pairing exchange this channel ran (pairing
  /// on first use); empty when it ran none.
  std::optional<core::paired_role> paired_role() const noexcept;
  /// The smoothed round-trip time, once measured.
  std::optional<std::chrono::nanoseconds> rtt() const noexcept;
  /// The path the session runs on now (started by device id, state ready).
  std::optional<path_info> current_path() const;
  /// Number of messages sent but not yet acknowledged (in the replay buffer).
  std::size_t unacked_count() const noexcept;

  /// Sends one message. The payload is copied before the initiation returns.
  ///
  /// @par Completion Signature
  /// @code void(std::error_code ec, std::uint64_t seq) @endcode
  /// `seq` is the message's sequence number in the session. Completes when the accessory
  /// acknowledged it, or once it is queued with send_completion_mode::queued. Errors:
  /// core::channel_errc::buffer_full (send_mode::fail and no room), message_too_large,
  /// channel::errc::too_many_waiting_sends, channel::errc::session_reset (the accessory lost the
  /// session before acknowledging; the message is in the session_reset event),
  /// core::channel_errc::session_closed (failed), asio::error::operation_aborted (cancelled). Never
  /// completes inside this call.
  ///
  /// @par Per-operation cancellation
  /// A cancellation slot bound to the handler (asio::bind_cancellation_slot, or an awaitable
  /// operator such as `||`): a send still waiting for room (send_mode::wait) is withdrawn on
  /// any cancellation type and completes with asio::error::operation_aborted, nothing sent. A
  /// send already in the session cannot be taken back: it stays in the replay buffer and is
  /// delivered exactly once; terminal or partial cancellation only stops waiting for its
  /// acknowledgement (operation_aborted with its `seq`), total cancellation is ignored.
  template <class CompletionToken>
  auto async_send(std::span<const std::byte> payload, channel::send_options options,
                  CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(std::error_code, std::uint64_t)>(
        [this](auto handler, std::span<const std::byte> p, channel::send_options o) {
          send_impl(p, o, channel::send_completion(std::move(handler), get_executor()));
        },
        token, payload, options);
  }

  /// async_send(payload, channel::send_options{}, token): waits for room, completes when
  /// acknowledged.
  template <class CompletionToken>
  auto async_send(std::span<const std::byte> payload, CompletionToken&& token) {
    return async_send(payload, channel::send_options{}, std::forward<CompletionToken>(token));
  }

  /// Sends one message of library service `service` (core::message_kind::provisioning or
  /// administration) as a CONTROL frame: numbered, buffered and acknowledged with the
  /// application's messages, in order with them, but delivered to the accessory's service,
  /// never to its application. Completion, errors and cancellation as async_send(), plus
  /// core::channel_errc::invalid_frame_field for a `service` that is not a service
  /// (application, or no message_kind value).
  template <class CompletionToken>
  auto async_send_control(core::message_kind service, std::span<const std::byte> payload,
                          channel::send_options options, CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(std::error_code, std::uint64_t)>(
        [this](auto handler, core::message_kind k, std::span<const std::byte> p,
               channel::send_options o) {
          send_impl(p, o, channel::send_completion(std::move(handler), get_executor()), k);
        },
        token, service, payload, options);
  }

  /// receive_mode::pull: takes the accessory's next message, in order, exactly once. The
  /// session acknowledges a message only once it was handed over here, so while the app does
  /// not call this the accessory's sends wait for room (at most session.max_replay_bytes wait
  /// in the channel): a slow app slows the accessory down and loses nothing.
  ///
  /// @par Completion Signature
  /// @code void(std::error_code ec, core::message m) @endcode
  /// `m.seq` is the message's sequence number in the session (it restarts at 0 after a
  /// session reset). Errors: core::channel_errc::invalid_state (receive_mode::push),
  /// asio::error::in_progress (another async_receive is waiting), and, once every message
  /// received before was taken: asio::error::operation_aborted (cancel(), the destructor),
  /// core::channel_errc::session_closed (failed). Never completes inside this call.
  /// A receive waiting when a message is read completes from that read (asio::dispatch: inline
  /// on the handler's executor), so a burst is taken without an event-loop turn per message.
  ///
  /// @par Per-operation cancellation
  /// A cancellation slot bound to the handler (any type): a receive still waiting completes
  /// with asio::error::operation_aborted and takes no message; the next receive gets it.
  template <class CompletionToken>
  auto async_receive(CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(std::error_code, core::message)>(
        [this](auto handler) {
          receive_impl(channel::receive_completion(std::move(handler), get_executor()));
        },
        token);
  }

  /// receive_mode::pull: the next message already received, taken now, or nullopt when none
  /// is waiting (or an async_receive() waits: it gets them). For an app that fell behind and
  /// takes what has piled up without an operation per message; the same acknowledgement as
  /// async_receive(). nullopt in push mode.
  std::optional<core::message> try_receive();

  /// The initiations behind async_receive() and async_send()/async_send_control(), with the
  /// handler already wrapped: for the layer above (app::device), which forwards its own
  /// operations here without a second hop. Same semantics as those.
  void receive_impl(channel::receive_completion c);
  void send_impl(std::span<const std::byte> payload, channel::send_options options,
                 channel::send_completion c,
                 std::optional<core::message_kind> service = std::nullopt);

  struct impl; ///< private

private:
  std::shared_ptr<impl> impl_;
};

} // namespace lanyard::client
