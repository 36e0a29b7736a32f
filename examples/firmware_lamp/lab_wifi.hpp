// The lamp's Wi-Fi driver on a POSIX host (the lab's stand-in for a radio), like the
// simulator's lab_radio: --network SSID=PASSPHRASE@IFACE lists the networks it can join;
// joining one waits until IFACE is up with an address. A wrong passphrase is auth_error and an
// unknown SSID network_not_found, each after 300 ms (a radio takes a moment to find out); an
// interface without an address in time is timeout. Fixed memory: at most max_networks.
#pragma once

#include "network_interface.hpp"

#include <lanyard/core/provisioning.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string_view>

namespace lamp {

class lab_wifi {
public:
  using time_point = std::chrono::steady_clock::time_point;
  static constexpr std::size_t max_networks = 4;

  /// What a join ended with (poll()).
  struct outcome {
    std::optional<lanyard::core::provisioning_failure> failure; // empty: joined
    network_interface joined;                                   // the interface, if joined
    std::string_view ssid;
  };

  /// Adds "SSID=PASSPHRASE@IFACE"; false if malformed or full.
  bool add_network(std::string_view spec) noexcept;
  /// Starts joining (replaces a join in progress).
  void join(const lanyard::core::wifi_credentials_view& request, time_point now,
            std::chrono::milliseconds timeout) noexcept;
  /// The join's verdict once it has one (then no join is in progress).
  std::optional<outcome> poll(time_point now) noexcept;
  /// When poll() should run next (time_point::max() without a join).
  time_point next_deadline() const noexcept;
  /// The interface of network `ssid`, if it is one of ours (after a restart: where it joined).
  std::string_view interface_of(std::string_view ssid) const noexcept;

private:
  struct network {
    std::array<char, 33> ssid{};
    std::array<char, 64> passphrase{};
    std::array<char, 16> interface {};
  };
  const network* find(std::string_view ssid) const noexcept;

  std::array<network, max_networks> networks_{};
  std::size_t count_ = 0;
  bool joining_ = false;
  const network* target_ = nullptr;
  bool passphrase_ok_ = false;
  time_point check_at_{};
  time_point deadline_{};
};

} // namespace lamp
