/// @file
/// accessory::server: the accessory's side of the persistent channel (asio). The lower layer:
/// an accessory normally runs a node::node (node/node.hpp), which owns one of these with its
/// identity, store, window and advertisement; node::server() gives access to it. It accepts TCP
/// connections (TCP_NODELAY, TCP_USER_TIMEOUT), runs the TLS server handshake with the
/// accessory's identity, and admits a client certificate only if the controller store says so:
/// a paired controller always, an unknown one only while the pairing window is open — and then
/// only into a pairing state (core::pairing_responder): nothing but pairing frames, no session,
/// until it proves the setup secret or code bound to this connection (server_options::pairing).
/// A proven controller is paired (the first becomes admin) and the same connection goes on with
/// the channel. Only failed proofs count against the window; connections, resets, timeouts,
/// garbage and TLS failures do not. Each paired controller (keyed by its key fingerprint) has at
/// most one core::session (server role), at most server_options::max_sessions in all:
///  - a new connection of a controller takes its session over (the old connection is closed);
///  - a disconnected session is kept for server_options::session_linger, then dropped;
///  - a HELLO naming a session of another controller closes that connection with
///    core::channel_errc::session_not_owned and a diagnostic (server.connection_closed); both
///    sessions are unharmed.
///
/// Errors: listen() returns the bind/listen error; refusals and protocol errors are reported as
/// diagnostics (server_options::diagnostics, ids in lanyard/accessory/diagnostics.hpp) and
/// through the event and pairing handlers, never thrown.
///
/// Thread-safety: distinct objects safe, shared objects unsafe: call members and run handlers
/// on the server's executor only. Cancellation: close() stops accepting, closes every
/// connection and completes pending sends with asio::error::operation_aborted; the destructor
/// does the same.
#pragma once

#include <lanyard/accessory/server_options.hpp>
#include <lanyard/channel/error.hpp>
#include <lanyard/channel/receive_completion.hpp>
#include <lanyard/channel/send_completion.hpp>
#include <lanyard/channel/send_options.hpp>
#include <lanyard/channel/transport.hpp>
#include <lanyard/core/channel_error.hpp>
#include <lanyard/core/fingerprint.hpp>
#include <lanyard/core/pairing_frame.hpp>
#include <lanyard/core/session_event.hpp>
#include <lanyard/tls_engine/context.hpp>
#include <lanyard/trust/controller_store.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/ip/tcp.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace lanyard::accessory {

/// See the file comment.
class server {
public:
  using executor_type = asio::any_io_executor;
  using controller_id = core::fingerprint;

  /// A message from a controller, exactly once and in order per session.
  using message_handler = std::function<void(const controller_id& controller, std::uint64_t seq,
                                             std::span<const std::byte> payload)>;
  /// A library service's message from a controller (a CONTROL frame: provisioning or
  /// controller administration, docs/PROTOCOL.md § 2.7), exactly once and in order with its
  /// application messages, which never include it. Who may do what is the handler's decision
  /// (the controller store's role of `controller`; accessory/controller_admin.hpp,
  /// core/provisioning_responder.hpp): the server only says who sent it. Without a handler,
  /// the server answers every service message `v1 error re=SEQ reason=not_supported` on the
  /// same service, so an app's provisioning or administration fails at once instead of
  /// waiting for an answer that never comes.
  using control_handler =
      std::function<void(const controller_id& controller, core::message_kind service,
                         std::uint64_t seq, std::span<const std::byte> payload)>;
  /// Every event of every session (state changes, established, connection_failed, closed...).
  using event_handler =
      std::function<void(const controller_id& controller, const core::session_event& event)>;

  /// A pairing exchange that is under way: the controller's PAIR_START was accepted and did
  /// not decide the exchange at once (the controller runs SPAKE2+ with the setup code, or its
  /// proof waits out the delay after failed ones). An accessory's TXT `sf` drops for as long
  /// as one runs (core/accessory_txt.hpp).
  struct pairing_start {
    controller_id controller;
    /// The display name the controller sent: untrusted bytes, escape before showing them.
    std::string name;
    core::pairing_method method = core::pairing_method::setup_secret;
    /// "ADDRESS:PORT" of the controller.
    std::string peer;
  };
  using pairing_start_handler = std::function<void(const pairing_start& start)>;

  /// How one pairing exchange ended.
  struct pairing_report {
    controller_id controller;
    /// The display name the controller sent: untrusted bytes, escape before showing them.
    std::string name;
    core::pairing_method method = core::pairing_method::setup_secret;
    /// Empty when paired; else core::pairing_errc (wrong_proof, timeout, window_closed,
    /// controllers_full, ...), core::channel_errc::not_paired (channel traffic instead of
    /// pairing) or a frame error. core::pairing_errc::needs_full_handshake: the controller
    /// started pairing on a resumed TLS session; refused before PAIR_START was read, so `name`
    /// is empty and `method` is not the one it asked for. An exchange whose connection ended
    /// before it did (the controller left, a write failed, or the server closed it to admit a
    /// newer exchange: pairing_options::max_pending) reports protocol_violation, or
    /// wrong_proof when the controller left after the accessory's SPAKE2+ confirmation.
    std::error_code error;
    core::paired_role role = core::paired_role::user;
    /// Failed proofs the window still takes.
    std::uint32_t attempts_left = 0;
    /// "ADDRESS:PORT" of the controller.
    std::string peer;
    /// Why the accessory itself failed, when it did (core::pairing_errc::accessory_failure and
    /// refusals decided while writing the controller store): the store's sentence, e.g. which
    /// file could not be written and the OS's reason. Empty otherwise. It names files and
    /// errors, never the setup secret or code; it is for the accessory's logs, not to send to
    /// the controller.
    std::string detail;
  };
  using pairing_handler = std::function<void(const pairing_report& report)>;

  /// `ctx` carries the accessory's identity (its verifier is replaced per connection by the
  /// controller-store check). `store` must be loaded; it is shared with the caller (admin
  /// actions, opening the window).
  server(executor_type ex, tls::context ctx, std::shared_ptr<trust::controller_store> store,
         server_options options = {});
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  executor_type get_executor() const noexcept;

  void set_message_handler(message_handler h);
  void set_control_handler(control_handler h);
  void set_event_handler(event_handler h);
  /// Called once per pairing exchange, when it ends (on success, failure, timeout, or when its
  /// connection ends first), except for exchanges close() ends.
  void set_pairing_handler(pairing_handler h);
  /// Called when a pairing exchange is under way (see pairing_start). Every start is followed
  /// by exactly one call of the pairing handler, at most pairing_options::exchange.timeout
  /// later (sooner if the connection ends or the exchange is evicted), except when close()
  /// ends it; not every end has a start (an exchange its first frame decided, a refusal).
  void set_pairing_start_handler(pairing_start_handler h);
  /// Pairing exchanges started and not yet ended (see set_pairing_start_handler()). The start
  /// handler sees its exchange counted already; the pairing handler sees it no longer counted.
  std::size_t pairings_in_progress() const noexcept;

  /// Binds (SO_REUSEADDR), listens and starts accepting. Port 0 picks a free port. May be
  /// called again for more addresses (a SoftAP address and the home LAN's): every listener
  /// feeds the same sessions, so an app that reconnects through another one resumes.
  /// Errors: the bind/listen error (address_in_use: note that Linux refuses a wildcard
  /// address on a port a specific address of this server listens on, and the reverse).
  std::error_code listen(const asio::ip::tcp::endpoint& ep);

  /// Takes a connection that came through no listener: a relay tunnel
  /// (channel::transport(relay::make_tunnel_io(...))) that `opened_by` opened with its relay
  /// key. Its TLS handshake admits that controller's key only, and only while it is paired: not
  /// another controller's, not an unknown one even with the pairing window open, and pairing
  /// frames end it. Then it is a connection like any other: the controller's session moves onto
  /// it (or is created), and back to a TCP connection later, with nothing lost. `peer` names it
  /// in diagnostics ("relay tunnel 1f2e3d4c"). After close(), `t` is closed at once.
  void adopt_tunnel(channel::transport t, const controller_id& opened_by, std::string peer);
  /// Closes the listener bound to `ep` (as local_endpoints() reports it); connections that
  /// came in through it stay up. Errors: std::errc::no_such_device_or_address (no listener
  /// bound to `ep`).
  std::error_code stop_listening(const asio::ip::tcp::endpoint& ep);

  /// Ends the connections that came in through local endpoint `ep` (a wildcard address
  /// matches every address on its port) and returns how many. Their sessions stay (they
  /// linger), so the apps resume through another listener without losing a message: what an
  /// accessory does when it shuts its SoftAP after provisioning.
  std::size_t end_connections_through(const asio::ip::tcp::endpoint& ep);

  /// The first listener's bound endpoint (after listen()), or a default endpoint if none.
  asio::ip::tcp::endpoint local_endpoint() const;
  /// Every listener's bound endpoint, in listen() order.
  std::vector<asio::ip::tcp::endpoint> local_endpoints() const;

  /// Stops accepting and ends every connection (sessions are dropped). Idempotent.
  void close();

  /// Ends `controller`'s session now, connected or lingering: its connection is closed, its
  /// sends fail and a waiting receive ends (channel_errc::session_closed). For a controller an
  /// admin removed: it loses the access it had, not only its next connection (which the store
  /// refuses). False if it had no session.
  bool end_session(const controller_id& controller);

  /// Number of sessions (connected or lingering).
  std::size_t session_count() const noexcept;
  /// True if `controller` has a session with a live connection.
  bool connected(const controller_id& controller) const noexcept;

  /// Pushes a message to `controller` (the Local Push use case). The payload is copied before
  /// the initiation returns.
  ///
  /// @par Completion Signature
  /// @code void(std::error_code ec, std::uint64_t seq) @endcode
  /// Completes when the app acknowledged it (or once queued, send_completion_mode::queued).
  /// Errors: channel::errc::no_session, core::channel_errc::buffer_full (send_mode::fail),
  /// message_too_large, channel::errc::too_many_waiting_sends, channel::errc::session_expired,
  /// core::channel_errc::session_closed (the app ended the session), asio::error::operation_aborted
  /// (close()). Never completes inside this call.
  ///
  /// @par Per-operation cancellation
  /// A cancellation slot bound to the handler (asio::bind_cancellation_slot, or an awaitable
  /// operator such as `||`): a send still waiting for room (send_mode::wait) is withdrawn on
  /// any cancellation type and completes with asio::error::operation_aborted, nothing sent. A
  /// send already in the session cannot be taken back: it stays in the replay buffer and is
  /// delivered exactly once; terminal or partial cancellation only stops waiting for its
  /// acknowledgement (operation_aborted with its `seq`), total cancellation is ignored.
  template <class CompletionToken>
  auto async_send(const controller_id& controller, std::span<const std::byte> payload,
                  channel::send_options options, CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(std::error_code, std::uint64_t)>(
        [this](auto handler, const controller_id& c, std::span<const std::byte> p,
               channel::send_options o) {
          send_impl(c, p, o, channel::send_completion(std::move(handler), get_executor()));
        },
        token, controller, payload, options);
  }

  /// async_send(controller, payload, channel::send_options{}, token).
  template <class CompletionToken>
  auto async_send(const controller_id& controller, std::span<const std::byte> payload,
                  CompletionToken&& token) {
    return async_send(controller, payload, channel::send_options{},
                      std::forward<CompletionToken>(token));
  }

  /// Sends one message of library service `service` (core::message_kind::provisioning or
  /// administration: a provisioning report, an administration answer) to `controller` as a
  /// CONTROL frame, in order with the application's messages but never delivered as one.
  /// Completion, errors and cancellation as async_send(), plus
  /// core::channel_errc::invalid_frame_field for a `service` that is not a service.
  template <class CompletionToken>
  auto async_send_control(const controller_id& controller, core::message_kind service,
                          std::span<const std::byte> payload, channel::send_options options,
                          CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(std::error_code, std::uint64_t)>(
        [this](auto handler, const controller_id& c, core::message_kind k,
               std::span<const std::byte> p, channel::send_options o) {
          send_impl(c, p, o, channel::send_completion(std::move(handler), get_executor()), k);
        },
        token, controller, service, payload, options);
  }

  /// server_options::receive == pull: takes `controller`'s next message, in order, exactly
  /// once. Its session acknowledges a message only once it was handed over here, so while the
  /// accessory does not call this the controller's sends wait for room (at most
  /// session.max_replay_bytes wait here): one busy controller's traffic never piles up.
  ///
  /// @par Completion Signature
  /// @code void(std::error_code ec, core::message m) @endcode
  /// `m.seq` restarts at 0 after a session reset. Errors: core::channel_errc::invalid_state
  /// (receive_mode::push), channel::errc::no_session (no session with `controller`: wait for
  /// its events::established), asio::error::in_progress (another receive for `controller` is
  /// waiting), and when the session ends: core::channel_errc::session_closed (the app closed
  /// it), channel::errc::session_expired (dropped after its linger or to make room),
  /// asio::error::operation_aborted (close()). Never completes inside this call.
  /// A receive waiting when a message is read completes from that read (asio::dispatch: inline
  /// on the handler's executor), so a burst is taken without an event-loop turn per message.
  ///
  /// @par Per-operation cancellation
  /// A cancellation slot bound to the handler (any type): a waiting receive completes with
  /// asio::error::operation_aborted and takes no message; the next receive gets it.
  template <class CompletionToken>
  auto async_receive(const controller_id& controller, CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(std::error_code, core::message)>(
        [this](auto handler, const controller_id& c) {
          receive_impl(c, channel::receive_completion(std::move(handler), get_executor()));
        },
        token, controller);
  }

  /// The initiation behind async_receive(), the handler already wrapped (for the layer above).
  void receive_impl(const controller_id& controller, channel::receive_completion c);

  /// server_options::receive == pull: `controller`'s next message already received, taken now
  /// and acknowledged as async_receive() does; nullopt when none is waiting, when an
  /// async_receive() for `controller` waits (it gets them, in order), without a session with
  /// `controller`, in push mode or after close(). For an accessory that fell behind and takes
  /// what piled up without an operation per message.
  std::optional<core::message> try_receive(const controller_id& controller);

  struct impl; ///< private

private:
  void send_impl(const controller_id& controller, std::span<const std::byte> payload,
                 channel::send_options options, channel::send_completion c,
                 std::optional<core::message_kind> service = std::nullopt);
  std::shared_ptr<impl> impl_;
};

} // namespace lanyard::accessory
