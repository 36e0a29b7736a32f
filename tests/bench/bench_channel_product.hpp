// The product API's contender in `lanyard-bench channel`: one app::controller with its
// app::device on the app side and one node::node on the accessory side, both in this process
// on one io_context over loopback TCP, paired once with the node's setup payload before
// anything is measured (pairing is not part of the figures). Discovery and advertising are
// off: the device reaches the node by a static path to 127.0.0.1:<the node's port>.
//
// Both ends receive in pull mode, as the product API always does: the node takes the app's
// messages with node::async_receive(controller), the app the node's with
// device::async_receive(), each in a loop that is always waiting, and each session
// acknowledges a message only once it was taken (flow control). Sends are made as the
// lower-level contender makes them (bench_channel.cpp): send_mode::wait,
// send_completion_mode::queued, a fixed number of sends outstanding. Session settings are
// the defaults on both ends (app::controller_options{}.session, the node's
// accessory::server_options{}.session), as for the lower-level contender.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace lanyard::bench {

class product_link {
public:
  /// Makes the node's and the app's state under `dir` (identities, controller store, trust
  /// store), opens both, pairs and waits until the node has the app's session. Returns null
  /// with `error` set on failure.
  static std::unique_ptr<product_link> open(const std::filesystem::path& dir, std::string& error);
  ~product_link();

  /// App → accessory: `count` messages of `size` bytes with device::async_send(), keeping
  /// `window` sends outstanding; the node takes them with async_receive(). Returns seconds
  /// from the first send until the node took the last byte (then, untimed, waits until all
  /// were acknowledged), or < 0 with `error` set.
  double transfer(std::size_t count, std::size_t size, std::size_t window, std::string& error);

  /// Accessory → app, the same with node::async_send() and device::async_receive(): the
  /// receive side under flow control (the app's session acknowledges what the app took).
  double transfer_to_app(std::size_t count, std::size_t size, std::size_t window,
                         std::string& error);

  /// `iterations` round trips: the device sends `size` bytes, the node takes them and echoes
  /// them with async_send(), the device takes the echo. Appends microseconds per round trip.
  bool round_trips(std::size_t iterations, std::size_t size, std::vector<double>& samples_us,
                   std::string& error);

  struct impl;

private:
  explicit product_link(std::unique_ptr<impl> i);
  std::unique_ptr<impl> impl_;
};

} // namespace lanyard::bench
