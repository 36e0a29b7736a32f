/// @file
/// controller: the app as a whole. It owns the app's identity and trust store, discovery (an
/// app::accessory_browser: avahi-daemon, browsed on the controller's executor and merged by
/// device id), and one app::device per accessory, which it feeds with what discovery finds.
/// The app never touches Avahi, the directory or netlink unless it wants to (the layers below
/// stay public). An app that lists accessories before it has an identity (an onboarding
/// screen) opens an app::accessory_browser instead: open() loads or creates the identity.
///
/// @code
///   std::unique_ptr<app::controller> ctl;
///   if (auto e = app::controller::open(io.get_executor(), {.state_dir = dir}, ctl)) ...;
///   auto [ec, paired] = co_await ctl->async_pair(payload, as_tuple(use_awaitable));
///   auto lamp = ctl->get(paired.device_id);            // already connected by the pairing
///   auto [pec, where] = co_await lamp->async_provision({"HomeLAN", pass}, ...);
/// @endcode
///
/// Thread-safety: distinct objects safe, shared objects unsafe: call members on the executor
/// given to open() only; the controller's devices run on it too.
///
/// Cancellation: each async operation honours a cancellation slot bound to its handler (see
/// each); cancel() completes every pending operation of the controller and of its devices
/// with asio::error::operation_aborted. The destructor stops discovery and releases the
/// controller's references to its devices: a device the app still holds keeps its session but
/// learns of no new paths.
#pragma once

#include <lanyard/app/accessory_info.hpp>
#include <lanyard/app/controller_options.hpp>
#include <lanyard/app/device.hpp>
#include <lanyard/channel/completion.hpp>
#include <lanyard/client/pairing_confirmation.hpp>
#include <lanyard/core/error_detail.hpp>
#include <lanyard/core/setup_payload.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace lanyard::app {

/// How one controller::async_pair() runs.
struct pair_options {
  /// Run the pairing exchange even when this app has pinned the accessory already (by default
  /// a pinned accessory is only connected to): proves the secret again, so an app an admin
  /// removed from the accessory's list is added back, and pairing_result::role says what the
  /// accessory gives now. The device's connection is replaced by the pairing one. The
  /// accessory must still present the pinned key, and its window must be open for the proof.
  bool prove_again = false;
};

/// See the file comment.
class controller {
public:
  using executor_type = asio::any_io_executor;

  /// Loads the identity and the trust store in options.state_dir, creating them on first use,
  /// and starts discovery (unless options.discovery is off; a missing avahi-daemon is no
  /// error: browsing starts when it appears). On success sets `out` and returns an empty
  /// error_detail. Errors: std::errc::invalid_argument (no state_dir), the tls codes of
  /// tls::identity_files::load_or_create() and the trust codes of trust::trust_store::load(), with
  /// the file in their fields; discovery's codes for a bad service_type.
  static core::error_detail open(executor_type ex, controller_options options,
                                 std::unique_ptr<controller>& out);

  ~controller();
  controller(const controller&) = delete;
  controller& operator=(const controller&) = delete;

  executor_type get_executor() const noexcept;
  /// This app's key fingerprint (what accessories record for it).
  const core::fingerprint& fingerprint() const noexcept;

  /// Whether discovery is browsing now: empty while avahi-daemon is running (accessories() and
  /// the discovery events follow the network); discovery::discovery_errc::daemon_unavailable or
  /// bus_unavailable while it is not (the controller keeps trying and browses as soon as it
  /// comes: wait, or tell the user); std::errc::operation_not_supported with
  /// controller_options::discovery off. Right after open() it already says whether the daemon
  /// answered.
  std::error_code discovery_status() const noexcept;

  /// Every accessory discovered now or paired with this app (paired ones that are away are
  /// listed with reachable false), ordered by id.
  std::vector<accessory_info> accessories() const;

  /// The next discovery change (accessory_info.hpp), in order. Changes queue until taken
  /// (at most 1024; beyond that the oldest are dropped: accessories() has the current view).
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
          next_discovery_impl(
              channel::completion<discovery_event>(std::move(handler), get_executor()));
        },
        token);
  }

  /// Pairs with the accessory of a setup payload (its QR code): connects to it (by its id,
  /// through discovery and the static paths, e.g. its SoftAP), accepts exactly the key in the
  /// payload, proves the payload's secret and has the accessory prove it in return, and pins
  /// the key. The device (get(payload.device_id)) stays connected afterwards, in the session
  /// the pairing opened. An accessory this app paired before (pinned in its trust store) is
  /// only connected to: the operation completes once the device is ready, with or without a
  /// secret in the payload (an operational accessory's payload has none).
  ///
  /// @par Completion Signature
  /// @code void(std::error_code ec, pairing_result r) @endcode
  /// Errors: core::pairing_errc (wrong_proof, window_closed, too_many_attempts — the device's
  /// last_error() has attempts_left and retry_after_ms —, controllers_full,
  /// method_not_supported, accessory_unverified, protocol_violation), trust::trust_errc
  /// (key_changed: this app pinned another key for this id), tls codes
  /// (peer_rejected_certificate), core::payload_errc::no_setup_secret (a payload without a
  /// secret for an accessory not paired yet: pair with the code), asio::error::operation_aborted.
  /// While the accessory cannot be reached the operation keeps trying: bind a timeout (`||` a
  /// timer) to give up.
  ///
  /// @par Per-operation cancellation
  /// Terminal or partial: completes with asio::error::operation_aborted and cancels the
  /// device (it stops trying; the accessory may have counted an attempt).
  template <class CompletionToken>
  auto async_pair(const core::setup_payload& payload, CompletionToken&& token) {
    return async_pair(payload, pair_options{}, std::forward<CompletionToken>(token));
  }
  /// As above, with options (pair_options::prove_again).
  template <class CompletionToken>
  auto async_pair(const core::setup_payload& payload, const pair_options& options,
                  CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(std::error_code, pairing_result)>(
        [this](auto handler, const core::setup_payload& p, const pair_options& o) {
          pair_payload_impl(
              p, o, channel::completion<pairing_result>(std::move(handler), get_executor()));
        },
        token, payload, options);
  }

  /// Pairs with accessory `device_id` by its 8-digit setup code (SPAKE2+: a neighbour who
  /// does not know the code learns nothing it could try offline). As above otherwise; the
  /// code's format is checked first (core::parse_setup_code()'s errors). Both strings are
  /// read before the initiation returns.
  ///
  /// The key is new to this app and no payload names it: the accessory's certificate must
  /// name `device_id` (else trust::trust_errc::payload_mismatch before any pairing frame), and
  /// the key is pinned only once the exchange proved that the accessory knows the code
  /// (pin method setup_code).
  template <class CompletionToken>
  auto async_pair(std::string_view device_id, std::string_view code, CompletionToken&& token) {
    return async_pair(device_id, code, pair_options{}, std::forward<CompletionToken>(token));
  }
  /// As above, with options (pair_options::prove_again).
  template <class CompletionToken>
  auto async_pair(std::string_view device_id, std::string_view code, const pair_options& options,
                  CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(std::error_code, pairing_result)>(
        [this](auto handler, std::string_view id, std::string_view c, const pair_options& o) {
          pair_code_impl(std::string(id), std::string(c), o,
                         channel::completion<pairing_result>(std::move(handler), get_executor()));
        },
        token, device_id, code, options);
  }

  /// Pairs with accessory `device_id` by confirmation, for an accessory without a setup
  /// payload or code (one that has either refuses: core::pairing_errc::method_not_supported).
  /// Once the accessory accepted the request it shows a six-digit code; `confirm` is called
  /// with the code this side computed and the key presented (client/pairing_confirmation.hpp):
  /// show both, and answer true only if the person says the codes are the same. The key is
  /// pinned (pin method tofu) only on a yes; on a no the operation completes with
  /// core::pairing_errc::not_confirmed and nothing is pinned (the accessory recorded this app
  /// meanwhile: if the codes differed, someone is in between; reset the accessory's pairing).
  /// The certificate must name `device_id` (trust::trust_errc::payload_mismatch otherwise).
  /// Otherwise as the payload overload: the same errors, cancellation, and the device stays
  /// connected. A confirmation not answered keeps the operation waiting: bind a timeout.
  template <class CompletionToken>
  auto async_pair_by_confirmation(std::string_view device_id, client::confirm_handler confirm,
                                  const pair_options& options, CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(std::error_code, pairing_result)>(
        [this](auto handler, std::string_view id, client::confirm_handler f,
               const pair_options& o) {
          pair_confirmation_impl(
              std::string(id), std::move(f), o,
              channel::completion<pairing_result>(std::move(handler), get_executor()));
        },
        token, device_id, std::move(confirm), options);
  }

  /// Unpins `device_id` in the trust store (the accessory keeps this app in its list until
  /// an admin removes it). A device of it is cancelled. Errors: trust::trust_errc codes.
  core::error_detail forget(std::string_view device_id);

  /// The device for `device_id`, made on first call: the same object until forget() (the
  /// controller keeps it). Not started (device::start(), or async_pair()).
  std::shared_ptr<device> get(std::string_view device_id);

  /// Every pending operation of the controller and its devices completes with
  /// asio::error::operation_aborted; the devices' sessions end (device::cancel()).
  void cancel();

  struct impl; ///< private

private:
  explicit controller(std::shared_ptr<impl> i);
  void next_discovery_impl(channel::completion<discovery_event> c);
  void pair_payload_impl(const core::setup_payload& p, const pair_options& o,
                         channel::completion<pairing_result> c);
  void pair_code_impl(std::string id, std::string code, const pair_options& o,
                      channel::completion<pairing_result> c);
  void pair_confirmation_impl(std::string id, client::confirm_handler confirm,
                              const pair_options& o, channel::completion<pairing_result> c);

  std::shared_ptr<impl> impl_;
};

} // namespace lanyard::app
