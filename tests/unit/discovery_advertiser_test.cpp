// The advertiser without a network: RFC 6762 §9 style renaming, validation before anything is
// sent, and completion semantics when avahi-daemon cannot be reached.
#include "lanyard/discovery/advertiser.hpp"

#include <catch2/catch.hpp>

#include "lanyard/discovery/browser.hpp"

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/io_context.hpp>

#include <cstdlib>
#include <optional>

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

// Per-operation cancellation: a cancellation slot bound to the handler.
TEST_CASE("async_publish and async_next honour per-operation cancellation") {
  no_bus guard;
  asio::io_context io;
  client c(io.get_executor());
  auto poll = [&] {
    io.restart();
    io.poll();
  };

  // Publishing has begun (it waits for the daemon): total cancellation, which promises no
  // side effect, is not honoured; terminal cancellation stops the wait only.
  advertiser adv(c);
  service_description d;
  d.name = "Lamp";
  d.type = "_lanyard._tcp";
  d.port = 4433;
  asio::cancellation_signal publish_sig;
  std::optional<std::error_code> published;
  adv.async_publish(
      d, asio::bind_cancellation_slot(publish_sig.slot(),
                                      [&](std::error_code ec, std::string) { published = ec; }));
  publish_sig.emit(asio::cancellation_type::total);
  poll();
  CHECK_FALSE(published);
  publish_sig.emit(asio::cancellation_type::terminal);
  CHECK_FALSE(published); // through the executor, never inside emit()
  poll();
  REQUIRE(published);
  CHECK(*published == asio::error::operation_aborted);
  CHECK_FALSE(publish_sig.slot().has_handler()); // the completion freed the slot
  CHECK(adv.name() == "Lamp");                   // still publishing: withdraw() is what removes it

  // Waiting for a browse event has no side effect: any type ends it.
  browser b(c);
  REQUIRE_FALSE(b.start("_lanyard._tcp"));
  std::optional<std::error_code> first, second, third, fourth;
  b.async_next([&](std::error_code ec, browse_event) { first = ec; });
  poll();
  CHECK(first == discovery_errc::bus_unavailable); // browsing goes on
  asio::cancellation_signal next_sig;
  b.async_next(asio::bind_cancellation_slot(
      next_sig.slot(), [&](std::error_code ec, browse_event) { second = ec; }));
  next_sig.emit(asio::cancellation_type::total);
  CHECK_FALSE(second);
  poll();
  CHECK(second == asio::error::operation_aborted);
  // A new wait before a cancellation is carried out replaces the cancelled one, and the late
  // cancellation must not end the new wait.
  b.async_next(asio::bind_cancellation_slot(next_sig.slot(),
                                            [&](std::error_code ec, browse_event) { third = ec; }));
  next_sig.emit(asio::cancellation_type::terminal);
  b.async_next([&](std::error_code ec, browse_event) { fourth = ec; });
  poll();
  CHECK(third == asio::error::operation_aborted);
  CHECK_FALSE(fourth);
  b.stop();
  poll();
  CHECK(fourth == asio::error::operation_aborted);
}
