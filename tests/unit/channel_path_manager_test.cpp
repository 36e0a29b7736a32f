// The channel's path manager without a kernel: interfaces are fed in, as the path monitor
// would after each event. The active path dying is reported at once; a better path is
// advised only after the hold; debounced-unavailable links are not candidates.
#include "client/path_manager.hpp"

#include "support/io_test_support.hpp"
#include "support/netlink_sockets.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <set>
#include <string>

using namespace lanyard;
using namespace std::chrono_literals;
using client::detail::path_manager;
using client::detail::path_target;
using link::interface_kind;

namespace {

link::network_interface make_iface(std::uint32_t index, std::string name, interface_kind kind,
                                   bool up, std::string address) {
  link::network_interface i;
  i.index = index;
  i.name = std::move(name);
  i.kind = kind;
  i.admin_up = i.running = up;
  i.operational = up ? link::oper_state::up : link::oper_state::down;
  if (!address.empty()) {
    link::interface_address a;
    a.address = asio::ip::make_address(address);
    a.prefix_length = 24;
    i.addresses.push_back(a);
  }
  return i;
}

struct harness {
  asio::io_context io;
  std::shared_ptr<path_manager> pm;
  std::optional<std::string> lost;
  std::optional<path_target> advised;
  std::optional<client::path_change_reason> reason;
  int changes = 0;
  std::set<std::uint32_t> unavailable;

  explicit harness(std::chrono::milliseconds hold = 200ms) {
    client::path_options o;
    o.move_back_hold = hold;
    o.static_paths = {{asio::ip::make_address("198.18.1.3"), 7443, "wlan0"},
                      {asio::ip::make_address("198.18.2.3"), 7443, "p2p0"}};
    pm = std::make_shared<path_manager>(io.get_executor(), o);
    pm->set_callbacks({[this] { ++changes; }, [this](const std::string& why) { lost = why; },
                       [this](const path_target& t, client::path_change_reason r) {
                         advised = t;
                         reason = r;
                       }});
  }
  void feed(bool wifi_up, bool wifi_has_address = true) {
    pm->interfaces_changed({make_iface(2, "wlan0", interface_kind::wifi, wifi_up,
                                       wifi_has_address ? "198.18.1.2" : ""),
                            make_iface(3, "p2p0", interface_kind::p2p, true, "198.18.2.2")},
                           [this](std::uint32_t i) { return !unavailable.count(i); });
  }
  path_target target_on(const std::string& name) {
    for (auto& t : pm->candidates().targets)
      if (t.path.interface_name == name) return t;
    FAIL("no candidate on " << name);
    return {};
  }
};

} // namespace

TEST_CASE("path_manager ranks Wi-Fi first and drops it when it goes down") {
  harness h;
  h.feed(true);
  auto c = h.pm->candidates();
  REQUIRE(c.targets.size() == 2);
  CHECK(c.targets[0].path.interface_name == "wlan0");
  h.pm->set_active(c.targets[0]);
  h.feed(false);
  REQUIRE(h.lost);
  CHECK(*h.lost == "wlan0 (wifi) is down");
  CHECK_FALSE(h.pm->active());
  c = h.pm->candidates();
  REQUIRE(c.targets.size() == 1);
  CHECK(c.targets[0].path.interface_name == "p2p0");
}

TEST_CASE("path_manager reports a lost source address on the active interface") {
  harness h;
  h.feed(true);
  h.pm->set_active(h.target_on("wlan0"));
  h.feed(true, false);
  REQUIRE(h.lost);
  CHECK(*h.lost == "wlan0 (wifi) lost its IPv4 address");
}

TEST_CASE("path_manager advises moving back to Wi-Fi only after the hold") {
  harness h(300ms);
  h.feed(false);
  h.pm->set_active(h.target_on("p2p0"));
  h.feed(true); // Wi-Fi is back
  CHECK_FALSE(h.advised);
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE(test::run_until(
      h.io, [&] { return h.advised.has_value(); }, std::chrono::seconds(10)));
  CHECK(std::chrono::steady_clock::now() - t0 >= 250ms); // the hold, not a performance bound
  CHECK(h.advised->path.interface_name == "wlan0");
  CHECK(h.reason == client::path_change_reason::preferred_path_available);
}

TEST_CASE("path_manager: a link that flaps within the hold is not moved back to") {
  harness h(300ms);
  h.feed(false);
  h.pm->set_active(h.target_on("p2p0"));
  h.feed(true);
  h.io.run_for(150ms);
  h.feed(false); // gone again before the hold ended
  h.io.restart();
  h.io.run_for(400ms);
  CHECK_FALSE(h.advised);
}

TEST_CASE("path_manager: a debounced-unavailable link is no candidate and every change is told") {
  harness h;
  h.unavailable.insert(2); // up, but still in its hold-down
  h.feed(true);
  auto c = h.pm->candidates();
  REQUIRE(c.targets.size() == 1);
  CHECK(c.targets[0].path.interface_name == "p2p0");
  CHECK(h.changes == 1);
  h.unavailable.clear();
  h.feed(true);
  CHECK(h.changes == 2);
  CHECK(h.pm->candidates().targets.size() == 2);
}

TEST_CASE("path_manager: the policy is applied to candidates") {
  asio::io_context io;
  client::path_options o;
  o.policy.prohibited.insert(core::interface_kind::wifi);
  o.static_paths = {{asio::ip::make_address("198.18.1.3"), 7443, "wlan0"}};
  auto pm = std::make_shared<path_manager>(io.get_executor(), o);
  pm->interfaces_changed({make_iface(2, "wlan0", interface_kind::wifi, true, "198.18.1.2")},
                         [](std::uint32_t) { return true; });
  auto c = pm->candidates();
  CHECK(c.targets.empty());
  REQUIRE(c.rejected.size() == 1);
  CHECK(c.rejected[0].path.interface_name == "wlan0");
  CHECK(c.rejected[0].reason == core::path_rejection_reason::prohibited_kind);
  CHECK_FALSE(c.reason.empty());
}

TEST_CASE("path_manager: a suspect link is raced last and not moved back to") {
  harness h(100ms);
  h.feed(true);
  REQUIRE(h.pm->candidates().targets[0].path.interface_name == "wlan0");
  h.pm->suspect(2); // wlan0's connection died on keep-alive timeout, link still up
  auto c = h.pm->candidates();
  REQUIRE(c.targets.size() == 2);
  CHECK(c.targets[0].path.interface_name == "p2p0");
  CHECK(c.targets[1].path.interface_name == "wlan0"); // still tried, last
  h.pm->set_active(c.targets[0]);
  h.io.run_for(300ms);
  CHECK_FALSE(h.advised); // no move back to a suspect Wi-Fi
  h.pm->suspect(2, 0ms);  // suspicion over
  h.feed(true);
  REQUIRE(test::run_until(
      h.io, [&] { return h.advised.has_value(); }, std::chrono::seconds(10)));
  CHECK(h.advised->path.interface_name == "wlan0");
}

// With the kernel: every channel's path manager on one io_context watches through one
// rtnetlink socket (link::shared_path_monitor), and each still sees the interfaces, including
// one that starts after the monitor's snapshot is complete.
TEST_CASE("path managers on one io_context share one rtnetlink socket") {
  asio::io_context io;
  client::path_options o;
  o.static_paths = {{asio::ip::make_address("127.0.0.1"), 7443, "lo"}};
  const std::size_t before = test::open_rtnetlink_sockets();
  auto make = [&](int& told) {
    auto pm = std::make_shared<path_manager>(io.get_executor(), o);
    // Told only from monitor events, once the snapshot is whole and shows lo with 127.0.0.1.
    pm->set_callbacks({[&told] { ++told; }, {}, {}});
    return pm;
  };
  int told1 = 0, told2 = 0, told3 = 0;
  auto pm1 = make(told1), pm2 = make(told2);
  REQUIRE_FALSE(pm1->start());
  REQUIRE_FALSE(pm2->start());
  CHECK(test::open_rtnetlink_sockets() == before + 1);
  REQUIRE(test::run_until(io, [&] { return told1 > 0 && told2 > 0; }));
  auto pm3 = make(told3); // late: catches up with the snapshot
  REQUIRE_FALSE(pm3->start());
  REQUIRE(test::run_until(io, [&] { return told3 > 0; }));
  CHECK(test::open_rtnetlink_sockets() == before + 1);
  REQUIRE(pm3->candidates().targets.size() == 1);
  CHECK(pm3->candidates().targets[0].path.interface_name == "lo");
  pm1->stop();
  pm2->stop();
  CHECK(test::open_rtnetlink_sockets() == before + 1);
  pm3.reset(); // destroyed without stop(): its subscription ends with it
  CHECK(test::open_rtnetlink_sockets() == before);
  io.poll();
}
