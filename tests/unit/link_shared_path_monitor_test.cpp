#include "lanyard/link/shared_path_monitor.hpp"

#include "support/io_test_support.hpp"
#include "support/monitor_cancel_check.hpp"
#include "support/netlink_sockets.hpp"

#include <catch2/catch.hpp>

#include <asio/error.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <vector>

using namespace lanyard::link;
using lanyard::test::open_rtnetlink_sockets;
using lanyard::test::run_until;

// Like link_path_monitor_test, these only read the host's real rtnetlink (loopback exists
// everywhere). Sockets are counted as the kernel lists them (support/netlink_sockets.hpp), not
// through shared_path_monitor::subscribers(): the point of the shared monitor is the number of
// sockets, and that count also catches a socket opened per subscriber below the bookkeeping.

namespace {

// A subscriber that keeps listening and records what it got. The log is shared with the
// handlers, so a completion that runs after the subscriber is gone has somewhere to go.
struct listener {
  struct log {
    std::vector<path_event> events;
    std::error_code end;
    bool ended = false;
    bool saw(path_event_type t) const {
      return std::any_of(events.begin(), events.end(), [t](auto& e) { return e.type == t; });
    }
    std::size_t count(path_event_type t) const {
      return static_cast<std::size_t>(
          std::count_if(events.begin(), events.end(), [t](auto& e) { return e.type == t; }));
    }
  };
  shared_path_monitor m;
  std::shared_ptr<log> got = std::make_shared<log>();

  explicit listener(asio::io_context& io, std::size_t max = 1024) : m(io.get_executor(), max) {}
  void listen() {
    m.async_next_event([this, l = got](std::error_code ec, path_event ev) {
      if (ec) {
        l->end = ec;
        l->ended = true;
        return;
      }
      l->events.push_back(std::move(ev));
      listen();
    });
  }
  bool complete() const { return got->saw(path_event_type::snapshot_complete); }
};

bool saw_loopback(const listener::log& l) {
  bool lo = false, v4 = false;
  for (const auto& ev : l.events) {
    if (ev.type == path_event_type::interface_added && ev.iface.name == "lo") lo = true;
    if (ev.type == path_event_type::address_added && ev.address &&
        ev.address->address == asio::ip::make_address("127.0.0.1"))
      v4 = true;
  }
  return lo && v4;
}

// Lowers RLIMIT_NOFILE so that no descriptor can be opened (every one below the lowest free
// one is taken), and restores it.
struct no_free_descriptors {
  rlimit saved{};
  no_free_descriptors() {
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved) == 0);
    const int lowest_free = ::dup(0);
    REQUIRE(lowest_free >= 0);
    ::close(lowest_free);
    rlimit r = saved;
    r.rlim_cur = static_cast<rlim_t>(lowest_free);
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &r) == 0);
  }
  ~no_free_descriptors() { ::setrlimit(RLIMIT_NOFILE, &saved); }
};

} // namespace

TEST_CASE("subscribers on one io_context share one rtnetlink socket until the last one goes",
          "[shared_path_monitor]") {
  asio::io_context io;
  const auto ex = io.get_executor();
  const std::size_t before = open_rtnetlink_sockets();
  CHECK(shared_path_monitor::subscribers(ex) == 0);
  {
    listener a(io), b(io), c(io);
    REQUIRE_FALSE(a.m.start());
    REQUIRE_FALSE(b.m.start());
    REQUIRE_FALSE(c.m.start());
    CHECK(a.m.start().code == asio::error::already_started);
    CHECK(open_rtnetlink_sockets() == before + 1);
    CHECK(shared_path_monitor::subscribers(ex) == 3);
    a.listen();
    b.listen();
    c.listen();
    REQUIRE(run_until(io, [&] { return a.complete() && b.complete() && c.complete(); }));
    for (auto* l : {&a, &b, &c}) {
      CHECK(saw_loopback(*l->got));
      CHECK(l->m.ready());
      CHECK(l->m.find("lo"));
    }
    // One subscriber leaving ends its own stream only.
    a.m.stop();
    io.poll();
    CHECK(a.got->ended);
    CHECK(a.got->end == asio::error::operation_aborted);
    CHECK_FALSE(b.got->ended);
    CHECK_FALSE(a.m.ready()); // no snapshot without a subscription
    CHECK(b.m.ready());
    CHECK(open_rtnetlink_sockets() == before + 1);
    CHECK(shared_path_monitor::subscribers(ex) == 2);

    b.m.stop();
    CHECK(open_rtnetlink_sockets() == before + 1);
    c.m.stop(); // the last one: the socket closes now, not when a handler runs
    CHECK(open_rtnetlink_sockets() == before);
    CHECK(shared_path_monitor::subscribers(ex) == 0);
    io.poll();
    CHECK(c.got->end == asio::error::operation_aborted);

    // Subscribing again opens a fresh monitor, with a fresh initial dump.
    a.got = std::make_shared<listener::log>();
    REQUIRE_FALSE(a.m.start());
    CHECK(open_rtnetlink_sockets() == before + 1);
    a.listen();
    REQUIRE(run_until(io, [&] { return a.complete(); }));
    CHECK(saw_loopback(*a.got));
  }
  CHECK(open_rtnetlink_sockets() == before); // the destructor unsubscribes too
  io.poll();
}

TEST_CASE("a late subscriber catches up with the snapshot", "[shared_path_monitor]") {
  asio::io_context io;
  const std::size_t before = open_rtnetlink_sockets();
  listener early(io);
  REQUIRE_FALSE(early.m.start());
  early.listen();
  REQUIRE(run_until(io, [&] { return early.complete(); }));

  listener late(io);
  REQUIRE_FALSE(late.m.start());
  // ready() and the snapshot at once: path_watcher reads them on its first event.
  CHECK(late.m.ready());
  CHECK(late.m.interfaces().size() == early.m.interfaces().size());
  REQUIRE(late.m.find("lo"));
  CHECK(late.m.available(late.m.find("lo")->index));
  CHECK(late.m.default_routes() == early.m.default_routes());
  CHECK(open_rtnetlink_sockets() == before + 1);

  // Its first events are the snapshot, as an initial dump reports it, then snapshot_complete.
  late.listen();
  REQUIRE(run_until(io, [&] { return late.complete(); }));
  const auto& ev = late.got->events;
  CHECK(ev.back().type == path_event_type::snapshot_complete);
  CHECK(late.got->count(path_event_type::snapshot_complete) == 1);
  CHECK(late.got->count(path_event_type::interface_added) == early.m.interfaces().size());
  CHECK(late.got->count(path_event_type::default_route_added) == early.m.default_routes().size());
  CHECK(ev.front().type == path_event_type::interface_added);
  CHECK(saw_loopback(*late.got));
  for (const auto& e : ev)
    if (e.type == path_event_type::interface_added && e.iface.name == "lo") CHECK(e.available);
  // The early subscriber got nothing twice.
  CHECK(early.got->count(path_event_type::snapshot_complete) == 1);
  early.m.stop();
  late.m.stop();
  io.poll();
}

TEST_CASE("each io_context has a monitor of its own", "[shared_path_monitor]") {
  asio::io_context one, two;
  const std::size_t before = open_rtnetlink_sockets();
  listener a(one), b(two), c(two);
  REQUIRE_FALSE(a.m.start());
  REQUIRE_FALSE(b.m.start());
  REQUIRE_FALSE(c.m.start());
  CHECK(open_rtnetlink_sockets() == before + 2);
  CHECK(shared_path_monitor::subscribers(one.get_executor()) == 1);
  CHECK(shared_path_monitor::subscribers(two.get_executor()) == 2);
  a.m.stop();
  b.m.stop();
  c.m.stop();
  CHECK(open_rtnetlink_sockets() == before);
  one.poll();
  two.poll();
}

TEST_CASE("a subscriber that falls behind loses its own events, not the others'",
          "[shared_path_monitor]") {
  asio::io_context io;
  listener slow(io, 1), fast(io);
  REQUIRE_FALSE(slow.m.start());
  REQUIRE_FALSE(fast.m.start());
  fast.listen(); // slow does not wait while the initial dump arrives: its queue overflows
  REQUIRE(run_until(io, [&] { return fast.complete(); }));
  CHECK_FALSE(fast.got->saw(path_event_type::events_lost));
  slow.listen();
  REQUIRE(run_until(io, [&] { return slow.complete(); }));
  std::vector<path_event_type> types;
  for (const auto& e : slow.got->events)
    types.push_back(e.type);
  CHECK(types == std::vector<path_event_type>{path_event_type::events_lost,
                                              path_event_type::snapshot_complete});
  slow.m.stop();
  fast.m.stop();
  io.poll();
}

TEST_CASE("cancel, a second waiter and a wait without a subscription", "[shared_path_monitor]") {
  asio::io_context io;
  shared_path_monitor m(io.get_executor());
  std::error_code unsubscribed;
  m.async_next_event([&](std::error_code ec, path_event) { unsubscribed = ec; });
  io.poll();
  CHECK(unsubscribed == asio::error::operation_aborted);

  REQUIRE_FALSE(m.start());
  REQUIRE(run_until(io, [&] { return m.ready(); }));
  // Drain the catch-up so that the waiter below really waits.
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
  REQUIRE(run_until(io, [&] { return complete; }));
  lanyard::test::check_cancel_and_second_waiter(io, m);
  lanyard::test::check_per_operation_cancellation(io, m);
  m.stop();
}

TEST_CASE("when the monitor cannot start, every subscriber gets the error and holds nothing",
          "[shared_path_monitor]") {
  asio::io_context io;
  const auto ex = io.get_executor();
  // The context's reactor (epoll, eventfd) opens its descriptors with the first I/O object:
  // open them now, so that only the monitor's socket meets the limit.
  { asio::steady_timer warm_up(io); }
  const std::size_t before = open_rtnetlink_sockets();
  shared_path_monitor a(ex), b(ex);
  link_error ea, eb;
  {
    no_free_descriptors limit;
    ea = a.start();
    eb = b.start();
  }
  CHECK(ea.code == link_errc::netlink_failed);
  CHECK(eb.code == link_errc::netlink_failed);
  CHECK(ea.message() == eb.message());
  CHECK(ea.message().find("socket(AF_NETLINK, NETLINK_ROUTE)") != std::string::npos);
  CHECK_FALSE(a.ready());
  CHECK(a.interfaces().empty());
  CHECK(shared_path_monitor::subscribers(ex) == 0);
  CHECK(open_rtnetlink_sockets() == before);
  // Nothing half-started was kept: with descriptors back, the next start works.
  REQUIRE_FALSE(a.start());
  REQUIRE_FALSE(b.start());
  CHECK(open_rtnetlink_sockets() == before + 1);
  REQUIRE(run_until(io, [&] { return a.ready() && b.ready(); }));
  a.stop();
  b.stop();
  io.poll();
}
