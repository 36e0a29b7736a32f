/// @file
/// What a node reports, pulled with node::async_next_event(): its pairing window, pairings,
/// controllers' sessions, its advertisement, provisioning and the relay.
///
/// Thread-safety: value types.
#pragma once

#include <lanyard/core/fingerprint.hpp>
#include <lanyard/core/pairing_frame.hpp>
#include <lanyard/core/pairing_window.hpp>
#include <lanyard/core/provisioning.hpp>
#include <lanyard/core/txt_record.hpp>
#include <lanyard/relay/mqtt_client.hpp>
#include <lanyard/trust/controller_store.hpp>

#include <asio/ip/tcp.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <system_error>
#include <variant>
#include <vector>

namespace lanyard::node {

/// The pairing window opened (`until`: its deadline) or closed (`reason`).
struct window_event {
  bool open = false;
  core::pairing_window::time_point until{};
  core::window_close_reason reason = core::window_close_reason::never_opened;
};

/// A controller paired (`error` empty, `role`) or a pairing attempt failed (`error`:
/// core::pairing_errc; `attempts_left` in this window). `name` is what the app sent:
/// untrusted bytes, escape before showing them (core::display_text). `method`: how it
/// proved itself (the payload's secret, the setup code, or a compared verification code).
struct pairing_event {
  core::fingerprint controller;
  std::string name;
  std::error_code error;
  trust::controller_role role = trust::controller_role::user;
  std::uint32_t attempts_left = 0;
  core::pairing_method method = core::pairing_method::setup_secret;
};

/// A pairing exchange is under way: `controller` sent PAIR_START for the setup code or for a
/// compared code (a product shows "pairing…", or the code to compare once the app shows its
/// own). Exactly one pairing_event follows for it, at most the exchange's timeout
/// (accessory::pairing_options::exchange) later. A proof of the payload's secret is decided by
/// its first frame and has no start. `name` is untrusted bytes (core::display_text before
/// showing it); `peer` is "ADDRESS:PORT".
struct pairing_started_event {
  core::fingerprint controller;
  std::string name;
  core::pairing_method method = core::pairing_method::setup_code;
  std::string peer;
};

/// A controller's session started (`open`) or ended (`why`).
struct session_event {
  core::fingerprint controller;
  bool open = true;
  std::error_code why;
};

/// A controller whose session is live connected again (after a lost connection, a sleeping
/// radio, a move between networks): its session resumed (`resumed`, nothing lost), or the app
/// started a new one in its place (`resumed` false: a session reset). No session_event comes
/// with it: an async_receive() loop started for this controller carries on.
struct reconnect_event {
  core::fingerprint controller;
  bool resumed = true;
};

/// The advertised TXT record changed (`txt`); avahi-daemon registered the instance
/// (`registered_name`, `renamed` when a conflict made it pick another name); or advertising
/// failed (`error`: the daemon went away, discovery::errc::daemon_unavailable, and the node
/// re-publishes when it is back; or the daemon refused the service).
struct advertising_event {
  core::txt_record txt;
  std::error_code error;
  std::string registered_name;
  bool renamed = false;
};

/// The listeners node::leave_setup_mode() left behind (`closed`: the SoftAP's) were closed
/// after the grace period, and the connections that came in through them ended
/// (`connections_ended`); their sessions stay, so the apps resume on the new listeners.
struct setup_listeners_closed_event {
  std::vector<asio::ip::tcp::endpoint> closed;
  std::size_t connections_ended = 0;
};

/// Provisioning (setup mode with a wifi_driver): `controller` (an admin) sent credentials and
/// the node is joining (connecting), joined (connected, `addresses`) or failed (`reason`; the
/// node stays in setup mode and the app may retry). The credentials are not in the event:
/// they went to the driver, which keeps them if the product must.
struct provisioning_event {
  core::fingerprint controller;
  core::provisioning_state state = core::provisioning_state::connecting;
  std::vector<std::string> addresses;
  core::provisioning_failure reason = core::provisioning_failure::timeout;
};

/// The relay (docs/design/relay.md): an admin stored relay settings (`settings_by`; `error`
/// says why storing or applying them failed) or switched the relay off (`settings_by` and
/// `switched_off`: the settings are deleted and the broker connection closed), or the
/// connection to the broker changed `state` (`error`: why it is waiting to retry:
/// mqtt_errc::not_authorized, tls_failed, ...).
struct relay_event {
  relay::mqtt_state state = relay::mqtt_state::stopped;
  std::error_code error;
  std::optional<core::fingerprint> settings_by;
  bool switched_off = false;
};

using node_event = std::variant<window_event, pairing_started_event, pairing_event, session_event,
                                advertising_event, provisioning_event, reconnect_event,
                                setup_listeners_closed_event, relay_event>;

} // namespace lanyard::node
