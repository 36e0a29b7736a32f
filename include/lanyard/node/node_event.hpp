/// @file
/// What a node reports, pulled with node::async_next_event(): its pairing window, pairings,
/// controllers' sessions, and its advertisement.
///
/// Thread-safety: value types.
#pragma once

#include <lanyard/core/fingerprint.hpp>
#include <lanyard/core/pairing_window.hpp>
#include <lanyard/core/provisioning.hpp>
#include <lanyard/core/txt_record.hpp>
#include <lanyard/trust/controller_store.hpp>

#include <cstdint>
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
/// untrusted bytes, escape before showing them (core::display_text).
struct pairing_event {
  core::fingerprint controller;
  std::string name;
  std::error_code error;
  trust::controller_role role = trust::controller_role::user;
  std::uint32_t attempts_left = 0;
};

/// A controller's session started (`open`) or ended (`why`).
struct session_event {
  core::fingerprint controller;
  bool open = true;
  std::error_code why;
};

/// The advertised TXT record changed (`txt`), or advertising failed (`error`, e.g. the daemon
/// refused the service; it is retried when the daemon comes back).
struct advertising_event {
  core::txt_record txt;
  std::error_code error;
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

using node_event =
    std::variant<window_event, pairing_event, session_event, advertising_event, provisioning_event>;

} // namespace lanyard::node
