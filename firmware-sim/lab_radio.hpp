// The simulator's radio: node::wifi_driver over the lab's namespaces (README.md,
// Provisioning). --network SSID=PASSPHRASE[@IFACE] lists the networks it can join; joining one
// waits until IFACE is up, with carrier and an address (the lab brings the link up), for at
// most --join-timeout-ms. Without IFACE it "joins" on 127.0.0.1. On success the network is
// kept in wifi.conf before the node reports it (a device that reports "connected" and then
// forgets the network would come back in setup mode).
//
// Thread-safety: on the node's executor only, as node::wifi_driver says.
#pragma once

#include "options.hpp"
#include "state_dir.hpp"

#include <lanyard/node/wifi_driver.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

namespace lanyard::sim {

class lab_radio final : public node::wifi_driver, public std::enable_shared_from_this<lab_radio> {
public:
  lab_radio(asio::any_io_executor ex, const run_options& opts, const state_paths& paths);

  /// An SSID not among the networks: network_not_found; a wrong passphrase: auth_error (both
  /// after 300 ms, as a radio takes a moment to find out); the interface not up with an
  /// address in time: timeout; wifi.conf not written: timeout (with a warning line).
  void join(const core::wifi_credentials& network, join_handler done) override;

  /// The network of the last successful join (for the `provisioned` line).
  const std::optional<network_entry>& joined() const noexcept { return joined_; }

  /// Stops a join in progress (its handler is not called): the boot ends.
  void cancel();

private:
  void poll(network_entry net, std::chrono::steady_clock::time_point deadline, join_handler done);

  const run_options& opts_;
  const state_paths& paths_;
  asio::steady_timer timer_;
  std::optional<network_entry> joined_;
};

} // namespace lanyard::sim
