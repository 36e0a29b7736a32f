// The simulated device (firmware-sim/device.hpp) on loopback, without avahi-daemon: what its
// TXT record does when the pairing window changes. One change is one publication, sf and c#
// together (they used to go out one after the other: sf from the node, then c# from the
// simulator's answer to the node's window event).
#include "device.hpp"

#include <asio/io_context.hpp>

#include <catch2/catch.hpp>

#include "support/io_test_support.hpp"

#include <string>

using namespace lanyard;
using namespace lanyard::sim;

namespace {

std::string value(const core::txt_record& t, const char* key) {
  const core::txt_entry* e = t.find(key);
  return e != nullptr && e->value ? *e->value : "<none>";
}

// Runs every handler that is ready, and those they make ready: the device's answers to the
// node's events are posts, not I/O, so all of them have run when this returns.
void settle(asio::io_context& io) {
  io.restart();
  while (io.poll() > 0) {
  }
}

} // namespace

TEST_CASE("sim device: a pairing-window change publishes one TXT record, sf and c# together",
          "[sim]") {
  asio::io_context io;
  test::temp_dir dir("lanyard-sim-device");
  run_options opts;
  opts.state_dir = dir.path;
  opts.kind = device_kind::lamp;
  opts.listen = "127.0.0.1:0";
  opts.advertise = false;
  opts.qr = false;
  const state_paths paths{dir.path};
  std::string error;
  REQUIRE(write_wifi_config(paths, {"HomeLAN"}, error)); // operational: no SoftAP
  fault_settings faults;
  device d(io, opts, paths, {"lamp-1", device_kind::lamp, "Lamp", pairing_mode::secret}, faults,
           {});
  REQUIRE(d.start(error));
  settle(io);
  const device_status first = d.status();
  CHECK(first.window_open); // first boot: nobody paired
  CHECK(first.txt_published == 1);
  CHECK(value(first.txt, "sf") == "1");
  CHECK(value(first.txt, "c#") == "1");

  REQUIRE(d.set_pairing_window(false).empty());
  settle(io);
  const device_status closed = d.status();
  CHECK(closed.txt_published == 2);
  CHECK(value(closed.txt, "sf") == "0");
  CHECK(value(closed.txt, "c#") == "2");

  REQUIRE(d.set_pairing_window(true).empty());
  settle(io);
  const device_status opened = d.status();
  CHECK(opened.txt_published == 3);
  CHECK(value(opened.txt, "sf") == "1");
  CHECK(value(opened.txt, "c#") == "3");
  CHECK(to_json(opened).find("\"txt\":{\"id\":\"lamp-1\",\"pv\":\"1\",\"md\":\"lanyard-sim-lamp\","
                             "\"sf\":\"1\",\"c#\":\"3\"},\"txt_published\":3") !=
        std::string::npos);
  d.stop();
  settle(io);
}
