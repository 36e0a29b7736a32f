// `ctl status`: what the simulated accessory says about itself. The device gathers it
// (device::status()); to_json() writes the one JSON object scripts read (README.md § Control socket
// and `ctl`). Value types and a pure function: any thread.
#pragma once

#include "options.hpp"

#include <lanyard/core/txt_record.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lanyard::sim {

/// One paired controller.
struct controller_status {
  std::string fingerprint;
  /// As the app sent it: untrusted, escaped by to_json().
  std::string name;
  std::string role;
  bool connected = false;
};

/// See the file comment.
struct device_status {
  std::string id;
  device_kind kind = device_kind::lamp;
  std::string name;
  bool setup_mode = false;
  std::string address;
  std::uint16_t port = 0;
  std::string fingerprint;
  pairing_mode pairing = pairing_mode::secret;
  /// The setup payload printed at start; empty if none (--pairing-method confirm).
  std::string payload;
  /// The label's setup code, if the accessory has one.
  std::optional<std::string> setup_code;
  bool window_open = false;
  /// The window in words (core::pairing_window::describe()).
  std::string window_describe;
  std::vector<controller_status> controllers;
  std::size_t sessions = 0;
  std::uint64_t messages_in = 0;
  std::uint64_t messages_out = 0;
  std::uint64_t sends_failed = 0;
  bool advertised = false;
  /// The TXT record advertised now, and how many records the node has published in this boot
  /// (one per change of state: sf and c# change together).
  core::txt_record txt;
  std::uint64_t txt_published = 0;
  unsigned slow_ms = 0;
  /// The lamp's state (kind lamp).
  bool lamp_on = false;
  unsigned brightness = 0;
  /// The sensor's readings so far in this boot (kind sensor).
  std::uint64_t readings = 0;
};

/// {"id":...,"kind":...,...,"lamp":{...}} or ...,"sensor":{...}}: one line, valid JSON whatever
/// bytes a controller's name holds.
std::string to_json(const device_status& s);

} // namespace lanyard::sim
