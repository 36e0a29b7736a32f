/// @file
/// Configuration of an app::controller: where the app keeps its identity and its pins, how it
/// calls itself, and the settings every device of it shares.
///
/// Thread-safety: value types.
#pragma once

#include <lanyard/client/path_options.hpp>
#include <lanyard/core/backoff.hpp>
#include <lanyard/core/diagnostic.hpp>
#include <lanyard/core/session_settings.hpp>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <string>

namespace lanyard::app {

/// See the file comment; defaults are the recommended settings.
struct controller_options {
  /// The app's state: `identity/` (its key and certificate, created on first use, mode 0700)
  /// and `trust-store.json` (the accessories it pinned). Required.
  std::filesystem::path state_dir;
  /// Where the identity is, if not in `state_dir`/identity (an app that already has one, the
  /// CLI's --identity-dir). An existing identity is loaded as it is, whatever `name` says.
  std::filesystem::path identity_dir;
  /// The trust store file, if not `state_dir`/trust-store.json (the CLI's --trust-store).
  std::filesystem::path trust_store;
  /// The name accessories record for this app (their controller list; at most 64 bytes are
  /// sent) and, unless identity_id is given, the device id in its certificate on first use.
  std::string name = "app";
  /// The device id in the certificate of an identity created on first use (it must be valid:
  /// core::is_valid_device_id(), else open() fails with tls::tls_errc::invalid_device_id).
  /// Empty: "app-" and `name` in the characters a device id allows. An existing identity keeps
  /// the id it has (the CLI passes "controller-<hostname>", as its other commands create it).
  std::string identity_id;
  /// The DNS-SD service type browsed for accessories.
  std::string service_type = "_lanyard._tcp";
  /// Browse with avahi-daemon. Off: devices reach accessories by paths.static_paths only (a
  /// setup-only app on an accessory's SoftAP, a test on loopback).
  bool discovery = true;
  /// Paths of every device (docs/paths.md): the interface policy, handover or interactive
  /// ranking, static paths (e.g. the SoftAP address accessories in setup mode serve on).
  client::path_options paths;
  /// The session of every device. max_replay_bytes is also the receive window: at most that
  /// many bytes of the accessory's messages wait for the app's async_receive() (docs/channel.md,
  /// "Receiving: push or pull").
  core::session_settings session;
  /// Reconnect backoff of every device.
  core::backoff_settings backoff;
  /// Bound on one connection attempt (TCP connect plus TLS handshake). 10 s.
  std::chrono::milliseconds connect_timeout{10000};
  /// Events a device queues for async_next_event() before state and path events are merged
  /// (device_event.hpp). 64.
  std::size_t max_queued_events = 64;
  /// Every diagnostic of the controller and its devices' channels, as data
  /// (docs/diagnostics.md). Called on the controller's executor. May be empty.
  core::diagnostics_handler diagnostics;
};

} // namespace lanyard::app
