#include "lanyard/link/path_monitor.hpp"

#include "support/monitor_cancel_check.hpp"

#include <catch2/catch.hpp>

#include <asio/error.hpp>
#include <asio/io_context.hpp>

#include <functional>

using namespace lanyard::link;

// These run against the host's real rtnetlink. They only read: the interfaces they expect
// (loopback) exist everywhere; changes are exercised in the lab (tests/integration/link).

TEST_CASE("the initial dump reports loopback, its address, then snapshot_complete",
          "[path_monitor]") {
  asio::io_context io;
  path_monitor m(io.get_executor());
  REQUIRE_FALSE(m.start());
  std::vector<path_event> events;
  std::function<void()> next = [&] {
    m.async_next_event([&](std::error_code ec, path_event ev) {
      REQUIRE_FALSE(ec);
      events.push_back(ev);
      if (ev.type != path_event_type::snapshot_complete)
        next();
      else
        m.stop(); // lets io.run() return
    });
  };
  next();
  io.run();
  REQUIRE(!events.empty());
  CHECK(events.back().type == path_event_type::snapshot_complete);
  CHECK(m.ready());
  bool saw_lo = false, saw_127 = false;
  for (auto& ev : events) {
    if (ev.type == path_event_type::interface_added && ev.iface.kind == interface_kind::loopback)
      saw_lo = true;
    if (ev.type == path_event_type::address_added && ev.address &&
        ev.address->address == asio::ip::make_address("127.0.0.1")) {
      saw_127 = true;
      CHECK(ev.address->scope == address_scope::host);
      CHECK(ev.iface.kind == interface_kind::loopback);
    }
  }
  CHECK(saw_lo);
  CHECK(saw_127);
  auto lo = m.find("lo");
  REQUIRE(lo);
  CHECK(lo->up());
  CHECK(m.available(lo->index));
  CHECK(m.find(lo->index)->name == "lo");
  // The snapshot agrees with a one-shot query.
  link_error error;
  auto once = query_interfaces(error);
  REQUIRE_FALSE(error);
  CHECK(once.size() == m.interfaces().size());
}

TEST_CASE("cancel, a second waiter, a second start and stop", "[path_monitor]") {
  asio::io_context io;
  path_monitor m(io.get_executor());
  REQUIRE_FALSE(m.start());
  CHECK(m.start().code == asio::error::already_started);
  // Drain the initial dump first so that the waiter below really waits.
  bool complete = false;
  std::function<void()> next = [&] {
    m.async_next_event([&](std::error_code ec, path_event ev) {
      REQUIRE_FALSE(ec);
      if (ev.type == path_event_type::snapshot_complete)
        complete = true;
      else
        next();
    });
  };
  next();
  while (!complete)
    io.run_one();

  lanyard::test::check_cancel_and_second_waiter(io, m);
  lanyard::test::check_per_operation_cancellation(io, m);

  std::error_code after_stop;
  m.async_next_event([&](std::error_code ec, path_event) { after_stop = ec; });
  m.stop();
  io.poll();
  CHECK(after_stop == asio::error::operation_aborted);
  CHECK(m.find("lo")); // the snapshot survives stop()
}

TEST_CASE("destroying the monitor aborts a pending wait", "[path_monitor]") {
  asio::io_context io;
  std::error_code result;
  {
    path_monitor m(io.get_executor());
    REQUIRE_FALSE(m.start());
    // Consume until ready, then wait once more and destroy.
    bool complete = false;
    std::function<void()> next = [&] {
      m.async_next_event([&](std::error_code, path_event ev) {
        if (ev.type == path_event_type::snapshot_complete)
          complete = true;
        else
          next();
      });
    };
    next();
    while (!complete)
      io.run_one();
    m.async_next_event([&](std::error_code ec, path_event) { result = ec; });
  }
  io.run();
  CHECK(result == asio::error::operation_aborted);
}

TEST_CASE("a consumer that falls behind gets events_lost, then the newest events",
          "[path_monitor]") {
  asio::io_context io;
  path_monitor_settings s;
  s.max_queued_events = 1;
  path_monitor m(io.get_executor(), s);
  REQUIRE_FALSE(m.start());
  // Nobody waits while the initial dump arrives: the queue (1 event) overflows.
  while (!m.ready())
    io.run_one();
  std::vector<path_event_type> got;
  m.async_next_event([&](std::error_code ec, path_event ev) {
    REQUIRE_FALSE(ec);
    got.push_back(ev.type);
    m.async_next_event([&](std::error_code ec2, path_event ev2) {
      REQUIRE_FALSE(ec2);
      got.push_back(ev2.type);
      m.stop();
    });
  });
  io.run();
  CHECK(got == std::vector<path_event_type>{path_event_type::events_lost,
                                            path_event_type::snapshot_complete});
  CHECK(m.find("lo")); // the snapshot itself is whole
}
