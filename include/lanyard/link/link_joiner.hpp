/// @file
/// link_joiner: how the app joins an accessory's setup access point (SoftAP) before
/// provisioning it. Joining a Wi-Fi network is the platform's business — NEHotspotConfiguration
/// on iOS, WifiNetworkSpecifier on Android, NetworkManager on a Linux desktop — so Lanyard only
/// defines the seam: provisioning calls join() with the SoftAP's SSID from the setup payload and
/// then connects to the accessory's fixed SoftAP address.
///
/// command_link_joiner runs a shell command to do it: in the lab, `ip link set sap0 up` (the
/// lab's SoftAP link, tests/lab); on a Linux machine, e.g. `nmcli dev wifi connect
/// "$LANYARD_SSID"`.
///
/// Errors: link_errc::join_failed with a sentence naming the command and its exit status.
/// Thread-safety: join() blocks; call it from one thread.
#pragma once

#include "lanyard/link/error.hpp"

#include <string>
#include <string_view>

namespace lanyard::link {

/// See the file comment.
class link_joiner {
public:
  virtual ~link_joiner() = default;
  /// Joins the network `ssid` (empty if the payload names none); returns once the link is up.
  virtual link_error join(std::string_view ssid) = 0;
};

/// Runs `command` with /bin/sh, the SSID in the environment as LANYARD_SSID; success is exit
/// status 0.
class command_link_joiner final : public link_joiner {
public:
  explicit command_link_joiner(std::string command) : command_(std::move(command)) {}
  link_error join(std::string_view ssid) override;

private:
  std::string command_;
};

} // namespace lanyard::link
