// What the simulated device does with application messages (core::app_message, vocabulary in
// README.md): a lamp with on/off and brightness, a sensor producing temperature readings.
// Pure: no I/O, no clock; the device feeds it messages and timer ticks.
#pragma once

#include "options.hpp"

#include <lanyard/core/app_message.hpp>

#include <cstdint>
#include <span>
#include <string>

namespace lanyard::sim {

class behaviour {
public:
  behaviour(device_kind kind, std::string id, std::string name);

  /// The result of one request.
  struct outcome {
    core::app_message reply;    ///< to the sender (carries re=SEQ)
    bool state_changed = false; ///< push state() to every other controller too
  };

  /// Handles one message from a controller (its channel sequence number is `seq`).
  outcome handle(std::span<const std::byte> payload, std::uint64_t seq);

  /// Lamp: "v1 state kind=lamp on=0|1 brightness=N". Sensor: the latest reading.
  core::app_message state() const;

  /// Sensor: the next reading (n counts from 1 within this boot).
  core::app_message next_reading();

  device_kind kind() const noexcept { return kind_; }
  bool on() const noexcept { return on_; }
  unsigned brightness() const noexcept { return brightness_; }
  std::uint64_t readings() const noexcept { return reading_n_; }

  /// "v1 error re=SEQ reason=REASON detail=…" (the detail percent-encoded and shortened).
  static core::app_message error(std::uint64_t seq, const char* reason, const std::string& detail);

private:
  core::app_message reading_message() const;

  device_kind kind_;
  std::string id_;
  std::string name_;
  bool on_ = false;
  unsigned brightness_ = 100;
  std::uint64_t reading_n_ = 0;
};

} // namespace lanyard::sim
