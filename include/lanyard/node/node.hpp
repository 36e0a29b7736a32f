/// @file
/// node: the accessory as firmware developers reach for it. It owns the accessory's identity,
/// setup credentials, paired controllers and pairing window, the channel server with one
/// resumable session per controller, and its DNS-SD advertisement, whose TXT record follows
/// the state by events (the window opened, closed or expired, a pairing exchange started or
/// ended, a controller paired or was removed) and never by polling: `sf=1` while the window is
/// open, no exchange is in progress and there is room for a controller. The application takes each
/// controller's messages with async_receive() (flow control: what it has not taken holds that
/// controller to the window), sends with async_send() and broadcast().
///
/// @code
///   std::unique_ptr<node::node> n;
///   if (auto e = node::node::open(io.get_executor(), {.state_dir = dir, .device_id = "lamp-1"},
///   n))
///     ...;
///   std::puts(n->setup_payload_text().c_str());        // for the QR code
///   auto [ec, ev] = co_await n->async_next_event(as_tuple(use_awaitable));
///   if (auto* s = std::get_if<node::session_event>(&ev); s && s->open)
///     co_spawn(io, serve(*n, s->controller), detached); // async_receive(controller) loop
/// @endcode
///
/// Administration messages of admin controllers (list, remove, roles, the window) are
/// answered by the node (accessory/controller_admin.hpp); provisioning messages go to the
/// node_options::wifi driver, or are answered `error reason=not_supported` without one. Other
/// verbs on those services are answered `error reason=unknown_verb`, unreadable messages
/// `reason=bad_message` (node_options::on_control sees each first).
///
/// Thread-safety: call members on the node's executor only.
///
/// Cancellation: each async operation honours a cancellation slot bound to its handler (see
/// each); close() ends everything (pending operations complete with operation_aborted).
///
/// The layers below (accessory::server, discovery::advertiser, trust::controller_store) stay
/// public; server() and controllers() give access to this node's.
#pragma once

#include <lanyard/accessory/server.hpp>
#include <lanyard/channel/completion.hpp>
#include <lanyard/channel/receive_completion.hpp>
#include <lanyard/channel/send_completion.hpp>
#include <lanyard/channel/send_options.hpp>
#include <lanyard/core/error_detail.hpp>
#include <lanyard/core/setup_code.hpp>
#include <lanyard/core/setup_payload.hpp>
#include <lanyard/core/txt_record.hpp>
#include <lanyard/node/node_event.hpp>
#include <lanyard/node/node_options.hpp>
#include <lanyard/trust/controller_store.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

namespace lanyard::node {

using controller_id = core::fingerprint;

/// See the file comment.
class node {
public:
  using executor_type = asio::any_io_executor;

  /// Loads or creates the state, starts listening and advertising. On success sets `out`.
  /// Errors (nothing keeps running then): std::errc::invalid_argument (no state_dir or
  /// device_id), the tls, trust and setup-credential codes with the file in their fields, the
  /// listen error of the first endpoint that fails (address_in_use...), discovery's codes for
  /// a description the mDNS backend would refuse (unknown_interface names advertise_interface
  /// in the text); with mdns_backend::builtin, the system's error binding UDP port 5353. A
  /// missing avahi-daemon is no error: the node advertises when it appears.
  static core::error_detail open(executor_type ex, node_options options,
                                 std::unique_ptr<node>& out);

  /// close().
  ~node();
  node(const node&) = delete;
  node& operator=(const node&) = delete;

  executor_type get_executor() const noexcept;
  const std::string& device_id() const noexcept;
  /// The key's fingerprint: what apps pin.
  const core::fingerprint& fingerprint() const noexcept;

  /// The setup payload for the QR code: id, fingerprint and the setup secret (a product
  /// prints it on its label: whoever reads the label may pair while the window is open).
  const core::setup_payload& setup_payload() const noexcept;
  /// setup_payload() as text (LNY1:...).
  std::string setup_payload_text() const;
  /// The 8-digit setup code, only on the start that made the setup credentials (first boot):
  /// print it on the label then; afterwards only its verifier is kept.
  const std::optional<core::setup_code>& new_setup_code() const noexcept;

  /// The TXT record advertised now.
  const core::txt_record& txt() const noexcept;
  /// Replaces the product's own TXT keys (node_options::txt: a model `md`, a configuration
  /// number `c#` that changes with the product's configuration...). The record is rebuilt
  /// with id, pv and sf and published (advertising_event) only if it changed. Keys that follow
  /// the node's state belong in node_options::derive_txt instead: set in answer to an event,
  /// they would be published after the node published the change itself. Errors (nothing
  /// changes then): core::txt_errc (string_too_long, record_too_long, a bad key).
  core::error_detail set_txt(core::txt_record product_keys);

  /// The ports the node listens on, in the order of node_options::listen.
  std::vector<std::uint16_t> ports() const;
  /// The endpoints the node listens on now (ports resolved).
  std::vector<asio::ip::tcp::endpoint> local_endpoints() const;
  /// Whether the mDNS backend (avahi-daemon, or the embedded responder) has registered the
  /// advertisement (false with advertising off).
  bool advertised() const noexcept;

  /// In setup mode (node_options::setup_mode, until leave_setup_mode()).
  bool setup_mode() const noexcept;
  /// After a successful join (provisioning_event connected, the product having stored the
  /// network): serves the home network in the same boot, so every session carries on. The
  /// current listeners (the SoftAP's) stop accepting, the node listens on `listen`, advertises
  /// on every interface with the first new listener's port, and refuses provisioning
  /// (not_in_setup_mode); the setup payload loses needs_provisioning and the SoftAP's SSID.
  /// Connections that came in through the old listeners stay up for `grace` (so the app reads
  /// the connected report), then end: setup_listeners_closed_event, and the apps resume their
  /// sessions on the home network. The pairing window is left as it is (close it if the home
  /// network is a bigger audience than the SoftAP). Call it once the join is reported, not
  /// while one runs.
  /// Errors: invalid_argument (no endpoint), operation_aborted (closed), the listen error of
  /// the first endpoint that fails (address_in_use...): the node then listens where it did
  /// and stays in setup mode (best effort; a product may restart instead).
  core::error_detail leave_setup_mode(std::vector<asio::ip::tcp::endpoint> listen,
                                      std::chrono::milliseconds grace);

  /// The pairing button: opens the window for node_options::pairing_window (a physical
  /// action: resets the count of failed attempts). The TXT record says sf=1 (unless a pairing
  /// exchange is in progress or the controllers are full). Errors: the controller store's.
  core::error_detail open_pairing_window();
  /// Closes the window (sf=0).
  core::error_detail close_pairing_window();

  /// The controllers with a session now (connected or lingering).
  std::vector<controller_id> sessions() const;

  /// The next event (node_event.hpp), in order. At most 256 wait; past that the oldest go
  /// (dropped_events() counts them).
  ///
  /// @par Completion Signature
  /// @code void(std::error_code ec, node_event e) @endcode
  /// Errors: asio::error::in_progress (another call is waiting), asio::error::operation_aborted
  /// once the queue is empty after close().
  ///
  /// @par Per-operation cancellation
  /// Any type: completes with asio::error::operation_aborted; events stay queued.
  template <class CompletionToken>
  auto async_next_event(CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(std::error_code, node_event)>(
        [this](auto handler) {
          next_event_impl(channel::completion<node_event>(std::move(handler), get_executor()));
        },
        token);
  }
  /// Events dropped because nobody took them (see async_next_event()).
  std::size_t dropped_events() const noexcept;

  /// Takes `controller`'s next message, in order, exactly once: accessory::server::
  /// async_receive() (its completion signature, errors and cancellation). Until the node takes
  /// a message, that controller's session does not acknowledge it: a busy node holds the app
  /// to the window and loses nothing.
  template <class CompletionToken>
  auto async_receive(const controller_id& controller, CompletionToken&& token) {
    return server().async_receive(controller, std::forward<CompletionToken>(token));
  }

  /// `controller`'s next message already received, taken now (and acknowledged), or nullopt
  /// when none is waiting or an async_receive() for it waits: accessory::server::try_receive().
  std::optional<core::message> try_receive(const controller_id& controller) {
    return server().try_receive(controller);
  }

  /// Sends one message to `controller`: accessory::server::async_send() (completion,
  /// errors, cancellation); `options` as there (send_mode, and completion once acknowledged
  /// or once queued), the same as app::device::async_send() takes.
  template <class CompletionToken>
  auto async_send(const controller_id& controller, std::span<const std::byte> payload,
                  channel::send_options options, CompletionToken&& token) {
    return server().async_send(controller, payload, options, std::forward<CompletionToken>(token));
  }
  /// async_send(controller, payload, channel::send_options{}, token).
  template <class CompletionToken>
  auto async_send(const controller_id& controller, std::span<const std::byte> payload,
                  CompletionToken&& token) {
    return server().async_send(controller, payload, std::forward<CompletionToken>(token));
  }

  /// Sends `payload` to every controller with a session, each through its own replay buffer
  /// and window (a send waits for room; one that cannot wait any more, because that app has
  /// not read for long, is dropped for that app only: channel::errc::too_many_waiting_sends
  /// in a diagnostic). Returns how many sessions it was given to.
  std::size_t broadcast(std::span<const std::byte> payload);

  /// Withdraws the advertisement (goodbye packets), stops listening, ends every session and
  /// completes pending operations with asio::error::operation_aborted. Idempotent.
  void close();

  /// The layers below, for what the node does not wrap.
  accessory::server& server() noexcept;
  trust::controller_store& controllers() noexcept;

  struct impl; ///< private

private:
  explicit node(std::shared_ptr<impl> i);
  void next_event_impl(channel::completion<node_event> c);
  std::shared_ptr<impl> impl_;
};

} // namespace lanyard::node
