// The advertiser without a network: RFC 6762 §9 style renaming, validation before anything is
// sent, and completion semantics when avahi-daemon cannot be reached.
#include "lanyard/discovery/advertiser.hpp"

#include <catch2/catch.hpp>

#include "lanyard/discovery/browser.hpp"

#include <asio/io_context.hpp>

#include <cstdlib>

using namespace lanyard::discovery;

TEST_CASE("alternative names count up in parentheses") {
  CHECK(next_instance_name("Lamp") == "Lamp (2)");
  CHECK(next_instance_name("Lamp (2)") == "Lamp (3)");
  CHECK(next_instance_name("Lamp (9)") == "Lamp (10)");
  CHECK(next_instance_name("Lamp (1)") == "Lamp (1) (2)"); // "(1)" is part of the name
  CHECK(next_instance_name("Lamp (02)") == "Lamp (02) (2)");
  CHECK(next_instance_name("Lamp ()") == "Lamp () (2)");
  CHECK(next_instance_name("(3)") == "(3) (2)");
  // At most 63 bytes, cut on a character boundary.
  std::string long_name(63, 'x');
  CHECK(next_instance_name(long_name) == std::string(59, 'x') + " (2)");
  std::string suns;
  for (int i = 0; i < 21; ++i)
    suns += "\xe2\x98\x80"; // 63 bytes
  std::string renamed = next_instance_name(suns);
  CHECK(renamed.size() <= 63);
  CHECK(renamed == suns.substr(0, 57) + " (2)"); // 19 whole suns
  CHECK_FALSE(validate_instance_name(renamed));
}

namespace {
// Points libdbus at a bus that does not exist, so the tests never touch a real daemon.
struct no_bus {
  no_bus() { ::setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/lanyard-test-bus", 1); }
  ~no_bus() { ::unsetenv("DBUS_SYSTEM_BUS_ADDRESS"); }
};
} // namespace

TEST_CASE("without a bus the client reports it and keeps trying") {
  no_bus guard;
  asio::io_context io;
  client c(io.get_executor());
  CHECK(c.status() == discovery_errc::bus_unavailable);
  CHECK_FALSE(c.running());
  CHECK(c.native_handle() == nullptr);
  CHECK(c.host_name().empty());
  auto first = c.generation();
  io.run_for(std::chrono::milliseconds(600)); // retries after 250 ms, then 500 ms
  CHECK(c.generation() > first);
  CHECK(c.status() == discovery_errc::bus_unavailable);
}

TEST_CASE("publish validates before the network; async_publish never completes inline") {
  no_bus guard;
  asio::io_context io;
  client c(io.get_executor());
  advertiser adv(c);
  service_description d;
  d.name = "Lamp";
  d.type = "_lanyard._tcp";
  d.port = 0;
  CHECK(adv.publish(d) == discovery_errc::port_zero);
  d.port = 4433;
  d.interface = "no-such-if0";
  CHECK(adv.publish(d) == discovery_errc::unknown_interface);
  CHECK(adv.update_txt({}) == discovery_errc::not_published);

  d.interface.clear();
  d.type = "_x_y._tcp";
  bool done = false;
  std::error_code result;
  adv.async_publish(d, [&](std::error_code ec, std::string) {
    done = true;
    result = ec;
  });
  CHECK_FALSE(done); // not from inside the initiating call
  io.restart();
  io.poll();
  CHECK(done);
  CHECK(result == discovery_errc::service_name_characters);

  // A valid service waits for the daemon; withdraw() cancels the wait.
  d.type = "_lanyard._tcp";
  done = false;
  adv.async_publish(d, [&](std::error_code ec, std::string) {
    done = true;
    result = ec;
  });
  io.restart();
  io.poll();
  CHECK_FALSE(done);
  CHECK(adv.name() == "Lamp");
  CHECK_FALSE(adv.registered());
  adv.withdraw();
  io.restart();
  io.poll();
  CHECK(done);
  CHECK(result == asio::error::operation_aborted);
}

TEST_CASE("browser start validates; errors reach async_next; stop cancels it") {
  no_bus guard;
  asio::io_context io;
  client c(io.get_executor());
  browser b(c);
  CHECK(b.start("_lanyard._sctp") == discovery_errc::service_type_protocol);
  CHECK(b.start("_lanyard._tcp", "no-such-if0") == discovery_errc::unknown_interface);
  REQUIRE_FALSE(b.start("_lanyard._tcp"));

  std::error_code result;
  int calls = 0;
  b.async_next([&](std::error_code ec, browse_event) {
    ++calls;
    result = ec;
  });
  CHECK(calls == 0);
  io.restart();
  io.poll();
  CHECK(calls == 1);
  CHECK(result == discovery_errc::bus_unavailable); // browsing goes on: call again

  b.async_next([&](std::error_code ec, browse_event) {
    ++calls;
    result = ec;
  });
  b.stop();
  io.restart();
  io.poll();
  CHECK(calls == 2);
  CHECK(result == asio::error::operation_aborted);
}
