/// @file
/// Configuration of a client_channel: where to connect, how to trust the accessory, and the
/// session, keep-alive, TCP and reconnect settings.
///
/// Thread-safety: value types.
#pragma once

#include <lanyard/channel/receive_mode.hpp>
#include <lanyard/client/pairing_confirmation.hpp>
#include <lanyard/client/path_options.hpp>
#include <lanyard/core/backoff.hpp>
#include <lanyard/core/diagnostic.hpp>
#include <lanyard/core/fingerprint.hpp>
#include <lanyard/core/pairing_initiator.hpp>
#include <lanyard/core/session_settings.hpp>
#include <lanyard/trust/trust_store.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace lanyard::client {

/// An explicit endpoint: a host name or address literal (IPv6 link-local with "%scope") and a
/// TCP port. All resolved addresses are tried in order.
struct endpoint {
  std::string host;
  std::uint16_t port = 0;
};

/// Who the accessory must be. The TLS handshake presents its key's fingerprint; it is accepted
/// only if this says so, before any application byte is exchanged.
struct trust_options {
  /// The accessory's device id: the trust store key and the TLS peer id (session resumption
  /// cache key). Required.
  std::string device_id;
  /// The app's trust store. When set, trust::trust_store::check() decides (mode and
  /// expected_fingerprint below) and a new pin is committed after a successful handshake.
  /// When null, the accessory must present exactly expected_fingerprint.
  std::shared_ptr<trust::trust_store> store;
  /// How an accessory that is not pinned yet is treated (with a store).
  trust::trust_mode mode = trust::trust_mode::verified_first_use;
  /// The fingerprint from the accessory's setup payload, if known. Required without a store.
  std::optional<core::fingerprint> expected_fingerprint;
  /// Display name recorded with a new pin.
  std::string name;
  /// Pair on first use: when the accessory is not pinned yet (the store's decision is to pin
  /// a new key), the first connection runs the pairing exchange (channel/pair.hpp) with these
  /// credentials before the session starts, and the pin is committed only once the accessory
  /// has paired this app. Without it, an accessory that does not know this app answers
  /// CLOSE(not_paired) and the channel fails with core::channel_errc::not_paired.
  std::optional<core::pairing_credentials> pairing;
  /// With `pairing`: run the exchange on this channel's first connection even when the
  /// accessory is pinned already. It proves the secret again (an app an admin removed from
  /// the accessory's list is added back) and learns the role the accessory gives
  /// (client_channel::paired_role()). The pin must still match: a pinned accessory presenting
  /// another key is refused before any pairing frame.
  bool pair_when_pinned = false;
  /// Confirmation pairing (pairing->method == core::pairing_method::confirmation): asked once
  /// the accessory has accepted the request (pairing_confirmation.hpp); the pin is committed
  /// only on a yes. Without it, or on a no, the channel fails with
  /// core::pairing_errc::not_confirmed (the accessory has recorded this app meanwhile: an
  /// admin removes it, or its pairing is reset).
  confirm_handler confirm;
  /// This app's name in the accessory's controller list (pairing; at most 64 bytes sent).
  std::string controller_name;
};

/// How the app takes the accessory's messages: push (a handler, acknowledged on receipt) or
/// pull (client_channel::async_receive(), acknowledged once taken: flow control). See
/// lanyard/channel/receive_mode.hpp.
using receive_mode = channel::receive_mode;

/// Everything a client_channel needs besides its executor and TLS context.
struct client_options {
  trust_options trust;

  /// push (the default) or pull; see receive_mode. pull sets session.acknowledge to
  /// on_consume.
  receive_mode receive = receive_mode::push;

  /// The session: message size, replay buffer bound, acks and keep-alive. The keep-alive
  /// defaults (PING every 5 s, peer dead after 15 s of silence) are documented with their
  /// reasons in core::session_settings; a phone app that must notice a dead accessory faster
  /// lowers both (e.g. 1 s / 4 s) at the price of more radio wake-ups.
  core::session_settings session;

  /// Reconnect backoff: attempt n waits uniformly in [0, min(cap, initial·2^n)] (full
  /// jitter), reset when a session is established. Defaults: 250 ms initial, 30 s cap.
  core::backoff_settings backoff;

  /// TCP_USER_TIMEOUT: how long written data may stay unacknowledged by the peer's TCP before
  /// the kernel fails the connection. Zero = the session's peer_timeout (the default: a link
  /// that swallows our data is declared dead no later than a silent one).
  std::chrono::milliseconds tcp_user_timeout{0};

  /// Bound on one connection attempt to one address: TCP connect plus TLS handshake (a
  /// blackholed SYN, or a peer that accepts and then stays silent). A channel started with an
  /// endpoint also resolves its host within this bound. 10 s.
  std::chrono::milliseconds connect_timeout{10000};

  /// Bound on sends waiting for room in the replay buffer (send_mode::wait). 1024.
  std::size_t max_waiting_sends = 1024;

  /// Paths (docs/paths.md): the interface policy, handover or interactive mode, static paths,
  /// the RFC 8305 attempt delay, the move-back hold and TCP or MPTCP. They apply to a channel
  /// started by device id (start(device_id, directory)): its candidates are the directory's
  /// paths plus the static ones, raced under the policy, each socket pinned to its interface.
  /// A channel started with an explicit endpoint connects through the routing table: its
  /// host's addresses are raced in the resolver's order with attempt_delay and transport; the
  /// interface policy, static paths and moves do not apply to it.
  path_options paths;

  /// Receives every diagnostic the channel emits (an attempt or path failed, a trust refusal,
  /// a reconnect, a move, a session reset, pairing), as data: an id from
  /// lanyard/client/diagnostics.hpp, a level, the error code and named fields
  /// (docs/diagnostics.md). Called on the channel's executor; must not call back into the
  /// channel. May be empty.
  core::diagnostics_handler diagnostics;

  /// One line per notable event: the `text` of each diagnostic, called only when `diagnostics`
  /// is empty (so a program that prints lines keeps printing the same lines). Prefer
  /// `diagnostics`: branch on its ids and fields, never on this text. May be empty.
  std::function<void(std::string_view line)> log;
};

} // namespace lanyard::client
