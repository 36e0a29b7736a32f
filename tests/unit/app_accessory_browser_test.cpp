// app::accessory_browser without avahi-daemon (libdbus pointed at a bus that does not exist,
// so no test touches a real daemon): open() checks its options at once and needs no identity;
// a missing daemon is a status, not an error, and reaches a waiting caller; cancel() and
// destruction end the pulls. What it reports of the network is tested in the feed it shares
// with app::controller (app_discovery_feed_test.cpp) and in the lab (integration.app.discovery).
#include <lanyard/app/accessory_browser.hpp>

#include <lanyard/discovery/error.hpp>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/error.hpp>
#include <asio/io_context.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <system_error>

using lanyard::app::accessory_browser;
using lanyard::app::discovery_event;
using lanyard::discovery::discovery_errc;
namespace app = lanyard::app;

namespace {

// Points libdbus at a bus that does not exist (as discovery_advertiser_test does).
struct no_bus {
  no_bus() { ::setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/lanyard-test-bus", 1); }
  ~no_bus() { ::unsetenv("DBUS_SYSTEM_BUS_ADDRESS"); }
};

struct result {
  bool done = false;
  std::error_code ec;
};

auto record(result& r) {
  return [&r](std::error_code ec, discovery_event) {
    r.done = true;
    r.ec = ec;
  };
}

void poll(asio::io_context& io) {
  io.restart();
  io.poll();
}

} // namespace

TEST_CASE("accessory_browser: options are checked at open; nothing else is needed", "[app]") {
  no_bus guard;
  asio::io_context io;
  std::unique_ptr<accessory_browser> b;

  app::accessory_browser_options bad;
  bad.service_type = "_lanyard._sctp";
  auto e = accessory_browser::open(io.get_executor(), bad, b);
  CHECK(e.code == discovery_errc::service_type_protocol);
  CHECK(e.message().find("_lanyard._sctp") != std::string::npos);
  CHECK_FALSE(b);

  app::accessory_browser_options nowhere;
  nowhere.interface = "no-such-if0";
  e = accessory_browser::open(io.get_executor(), nowhere, b);
  CHECK(e.code == discovery_errc::unknown_interface);
  CHECK_FALSE(b);

  // The defaults: _lanyard._tcp on every interface, no trust store (no state of the app).
  REQUIRE_FALSE(accessory_browser::open(io.get_executor(), {}, b));
  REQUIRE(b);
  CHECK(b->accessories().empty());
}

TEST_CASE("accessory_browser: without the daemon, a status and no event until it changes",
          "[app]") {
  no_bus guard;
  asio::io_context io;
  std::unique_ptr<accessory_browser> b;
  REQUIRE_FALSE(accessory_browser::open(io.get_executor(), {}, b));
  // Known as soon as open() returns, so an app can say why the list stays empty.
  CHECK(b->discovery_status() == discovery_errc::bus_unavailable);

  // What discovery_status() said at open() is no event: the call waits (the client keeps
  // retrying; when the daemon comes, a discovery_status event says so), and a second one is
  // refused.
  result r;
  b->async_next_discovery_event(record(r));
  CHECK_FALSE(r.done); // never inside the initiating call
  poll(io);
  CHECK_FALSE(r.done);
  io.restart();
  io.run_for(std::chrono::milliseconds(300)); // one retry of the client (250 ms)
  CHECK_FALSE(r.done);
  CHECK(b->discovery_status() == discovery_errc::bus_unavailable);
  result second;
  b->async_next_discovery_event(record(second));
  poll(io);
  REQUIRE(second.done);
  CHECK(second.ec == asio::error::in_progress);
  CHECK_FALSE(r.done);

  // Destruction completes the waiting call.
  b.reset();
  poll(io);
  REQUIRE(r.done);
  CHECK(r.ec == asio::error::operation_aborted);
}

TEST_CASE("accessory_browser: per-operation cancellation, then cancel() for good", "[app]") {
  no_bus guard;
  asio::io_context io;
  std::unique_ptr<accessory_browser> b;
  REQUIRE_FALSE(accessory_browser::open(io.get_executor(), {}, b));
  poll(io); // the browser's first report of the daemon's absence: no event

  asio::cancellation_signal signal;
  result r;
  b->async_next_discovery_event(asio::bind_cancellation_slot(signal.slot(), record(r)));
  poll(io);
  CHECK_FALSE(r.done);
  signal.emit(asio::cancellation_type::terminal);
  poll(io);
  REQUIRE(r.done);
  CHECK(r.ec == asio::error::operation_aborted);
  CHECK(b->discovery_status() == discovery_errc::bus_unavailable); // still trying

  r = {};
  b->async_next_discovery_event(record(r));
  poll(io);
  CHECK_FALSE(r.done);
  b->cancel();
  CHECK_FALSE(r.done); // posted, as every completion
  poll(io);
  REQUIRE(r.done);
  CHECK(r.ec == asio::error::operation_aborted);
  CHECK(b->discovery_status() == asio::error::operation_aborted);
  // Later calls end at once: a loop that pulls after cancel() stops instead of waiting.
  r = {};
  b->async_next_discovery_event(record(r));
  poll(io);
  REQUIRE(r.done);
  CHECK(r.ec == asio::error::operation_aborted);
  b->cancel(); // idempotent
  CHECK(b->discovery_status() == asio::error::operation_aborted);
}
