/// @file
/// The seam between a node and the radio: joining the network an admin app provisioned. A
/// node with a driver answers provisioning messages (core::provisioning_responder: connecting,
/// then connected with its addresses or failed with a reason); without one it refuses them
/// (`error reason=not_supported`). A product implements it over its Wi-Fi stack (ESP-IDF's
/// esp_wifi, wpa_supplicant, NetworkManager); the simulator implements it over the lab's
/// namespaces; tests implement it with a scripted verdict.
///
/// Thread-safety: called on the node's executor; the verdict may come from any thread if the
/// driver posts it to that executor (the node only accepts it there).
#pragma once

#include <lanyard/core/provisioning.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace lanyard::node {

/// How a join ended: the addresses on the new network (1 to 8 IP literals), or why it failed.
struct join_result {
  std::vector<std::string> addresses;
  std::optional<core::provisioning_failure> failure;
};

class wifi_driver {
public:
  using join_handler = std::function<void(join_result)>;
  virtual ~wifi_driver() = default;
  /// Starts joining `network` (already checked: SSID 1..32 bytes, a valid passphrase); calls
  /// `done` exactly once, on the node's executor, never inside this call. A node never has
  /// two joins running. There is no cancellation: a join still running when the node closes
  /// (or is destroyed) runs to its end, and its verdict is dropped (the handler holds the node
  /// weakly); a driver that must stop the radio does so itself.
  virtual void join(const core::wifi_credentials& network, join_handler done) = 0;
};

} // namespace lanyard::node
