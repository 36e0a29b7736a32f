/// @file
/// Configuration of an accessory node: where it keeps its state, who it is, where it listens,
/// how it advertises, and the server settings below it.
///
/// Thread-safety: value types.
#pragma once

#include <lanyard/accessory/server_options.hpp>
#include <lanyard/core/diagnostic.hpp>
#include <lanyard/core/fingerprint.hpp>
#include <lanyard/core/frame.hpp>
#include <lanyard/core/pairing_window.hpp>
#include <lanyard/core/txt_record.hpp>
#include <lanyard/node/wifi_driver.hpp>

#include <asio/ip/tcp.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace lanyard::node {

/// How an unknown app proves it may pair (docs/trust.md § Pairing).
enum class pairing_mode : std::uint8_t {
  /// The setup secret (the payload on the label, or its 8-digit code): made on first boot and
  /// kept in `setup-credentials`.
  setup_secret,
  /// No setup secret at all (a bulb with neither a label nor a display for a code): the node
  /// never makes, loads or prints setup credentials; an app pairs by comparing a six-digit
  /// verification code while the window is open (server.pairing.on_verification_code is the
  /// accessory's display), and payloads or codes are refused (method_not_supported).
  confirmation,
};

/// Called for each CONTROL message of provisioning or administration a controller sent, before
/// the node answers it: for the product's log. `message` is untrusted text. Not for relay
/// settings (service 3): they carry broker passwords, and a node_event relay_event says that
/// an admin stored them.
using control_observer =
    std::function<void(const core::fingerprint& from, core::message_kind service, std::uint64_t seq,
                       std::span<const std::byte> message)>;

/// The product's TXT keys that follow the node's state, set in the node's own update: see
/// node_options::derive_txt. `advertised` is the record published now (empty on the first
/// call, inside node::open()); `next` the record about to be published: id, pv and sf set for
/// the new state, the product's keys as node_options::txt or node::set_txt() left them.
using txt_deriver = std::function<void(const core::txt_record& advertised, core::txt_record& next)>;

/// Which mDNS stack publishes the node's service (node_options::mdns).
enum class mdns_backend : std::uint8_t {
  /// avahi-daemon over D-Bus (discovery::advertiser): the host's daemon must run.
  avahi,
  /// Lanyard's embedded responder on the node's io_context (discovery::builtin_advertiser):
  /// no daemon; the process binds UDP port 5353 itself (shared with another mDNS stack), as
  /// firmware does.
  builtin,
};

/// "avahi" or "builtin".
constexpr const char* to_string(mdns_backend b) noexcept {
  return b == mdns_backend::builtin ? "builtin" : "avahi";
}

/// See the file comment; defaults are the recommended settings.
struct node_options {
  /// The accessory's state: `identity/` (its key, made on first boot, the same forever after),
  /// `setup-credentials` (the payload's secret and the setup code's verifier, made on first
  /// boot) and `controllers` (paired controllers and the pairing window). Created 0700.
  /// Required.
  std::filesystem::path state_dir;
  /// The stable device id (TXT `id`, the certificate's name, the payload's id). Required.
  std::string device_id;
  /// The DNS-SD instance name people see ("Kitchen Lamp"). Empty: the device id.
  std::string name;
  std::string service_type = "_lanyard._tcp";
  /// Where the node listens: several at once (a SoftAP address and the home network's); every
  /// listener feeds the same sessions. Port 0 picks a free port.
  std::vector<asio::ip::tcp::endpoint> listen = {{asio::ip::tcp::v6(), 7443}};
  /// Advertise the service (the port of the first listener), with the `mdns` backend. Off:
  /// apps reach the node by address only (tests, a SoftAP-only setup).
  bool advertise = true;
  /// Which mDNS stack advertises: avahi-daemon (the default) or the embedded responder. Both
  /// report the same advertising_event; advertise_interface and leave_setup_mode() work with
  /// either.
  mdns_backend mdns = mdns_backend::avahi;
  /// Advertise on this interface only (a SoftAP's in setup mode: the accessory is on no other
  /// network); empty: on every interface. node::leave_setup_mode() advertises everywhere.
  std::string advertise_interface;
  /// The product's own TXT keys, advertised next to id, pv and sf (core/accessory_txt.hpp);
  /// node::set_txt() changes them at run time. Keys id, pv and sf are the node's (their
  /// place in the record is kept if listed here).
  core::txt_record txt;
  /// Keys that follow the node's state (a configuration number `c#` bumped whenever `sf`
  /// changes): called each time the node rebuilds its record (every window, pairing and
  /// controller change), before it compares it with the advertised one, so they are published
  /// with the change that caused them: one change of state, one publication (one
  /// advertising_event, one announcement on the network). node::set_txt() in answer to a
  /// window_event cannot do that: events are taken later (async_next_event), after the node
  /// published, so every change would be announced twice. Changes to id, pv and sf are undone
  /// (they are the node's). Called on the node's executor; must not call the node (set_txt()
  /// from here would rebuild the record from inside its own rebuild). Null: none.
  txt_deriver derive_txt;
  /// How unknown apps pair.
  node::pairing_mode pairing = node::pairing_mode::setup_secret;
  /// Open the pairing window at start when no controller is paired (first boot, or after the
  /// last one was removed), or in setup mode (an accessory being set up, again; with
  /// pairing_mode::setup_secret only: by confirmation alone that would invite anyone near at
  /// every boot), for this long. A window locked by too many wrong proofs stays closed (the
  /// button reopens it).
  bool open_window_when_unpaired = true;
  core::pairing_window::duration pairing_window = core::pairing_window::default_timeout;
  /// Close the window once a controller paired (one pairing per button press, as HomeKit
  /// does): a neighbour cannot use the rest of the window the owner opened.
  bool close_window_after_pairing = true;
  /// Setup mode: the accessory has no network configuration yet. Its setup payload says so
  /// (needs_provisioning, `softap_ssid`), and with a `wifi` driver it answers an admin app's
  /// provisioning (node_event provisioning_event reports each step; the application stores
  /// the new network and moves its listeners: the node does not know how the product keeps
  /// it). After a successful join, provisioning requests are refused (not_in_setup_mode).
  bool setup_mode = false;
  /// The SoftAP's SSID in the setup payload (setup mode).
  std::string softap_ssid;
  /// The radio; null: provisioning is refused with `not_supported`.
  std::shared_ptr<wifi_driver> wifi;
  /// The server below: sessions, caps, linger, transport. Its `receive` is set to pull (every
  /// controller's messages are taken with node::async_receive()) and `pairing.credentials`
  /// to the node's setup credentials.
  accessory::server_options server;
  /// Every diagnostic of the node and its server, as data. Called on the node's executor.
  core::diagnostics_handler diagnostics;
  /// See control_observer; called on the node's executor. Null: none.
  control_observer on_control;
};

} // namespace lanyard::node
