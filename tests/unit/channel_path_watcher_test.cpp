// The channel's path watcher without a kernel: interfaces are fed in, as the path monitor
// would after each event. The active path dying is reported at once, with its interface and
// why; the targets and usable kinds say what the interfaces say (debounced-unavailable links
// are not up); every change is told. What the facts mean (ranking, suspicion, moving back,
// the policy) is the core's: core.path_tracker_test, core.channel_controller*_test.
#include "client/path_watcher.hpp"

#include "support/io_test_support.hpp"
#include "support/netlink_sockets.hpp"
#include "support/network_interfaces.hpp"

#include <catch2/catch.hpp>

#include <optional>
#include <set>
#include <string>
#include <vector>

using namespace lanyard;
using client::detail::path_target;
using client::detail::path_watcher;
using link::interface_kind;
using test::make_iface;

namespace {

struct harness {
  asio::io_context io;
  std::shared_ptr<path_watcher> pw;
  std::optional<std::string> lost;
  int changes = 0;
  std::set<std::uint32_t> unavailable;

  harness() {
    pw = std::make_shared<path_watcher>(
        io.get_executor(),
        std::vector<client::static_path>{{asio::ip::make_address("198.18.1.3"), 7443, "wlan0"},
                                         {asio::ip::make_address("198.18.2.3"), 7443, "p2p0"}});
    pw->set_fact_handlers(
        {[this](const std::string& why) { lost = why; }, {}, [this] { ++changes; }});
  }
  // wlan0 (index 2) as given, p2p0 (index 3) up with its address.
  void feed(bool wifi_up, bool wifi_has_address = true, bool wifi_present = true) {
    std::vector<link::network_interface> ifs;
    if (wifi_present)
      ifs.push_back(make_iface(2, "wlan0", interface_kind::wifi, wifi_up,
                               wifi_has_address ? std::vector<std::string>{"198.18.1.2"}
                                                : std::vector<std::string>{}));
    ifs.push_back(make_iface(3, "p2p0", interface_kind::p2p, true, {"198.18.2.2"}));
    pw->interfaces_changed(std::move(ifs),
                           [this](std::uint32_t i) { return !unavailable.count(i); });
  }
  path_target target_on(const std::string& name) {
    for (auto& t : pw->targets())
      if (t.path.interface_name == name) return t;
    FAIL("no target on " << name);
    return {};
  }
};

} // namespace

TEST_CASE("path_watcher: the static paths in order, with what the interfaces say") {
  harness h;
  h.feed(true);
  auto t = h.pw->targets();
  REQUIRE(t.size() == 2);
  CHECK(t[0].path.interface_name == "wlan0");
  CHECK(t[0].path.kind == interface_kind::wifi);
  CHECK(t[0].path.interface_up);
  CHECK(t[0].path.has_source_address);
  REQUIRE(t[0].bind_to);
  CHECK(t[1].path.interface_name == "p2p0");
  CHECK(h.pw->usable_kinds() == core::kind_set{interface_kind::wifi, interface_kind::p2p});
  CHECK(h.changes == 1);
  CHECK_FALSE(h.lost);
}

TEST_CASE("path_watcher reports the active path's interface going down at once") {
  harness h;
  h.feed(true);
  h.pw->set_active(h.target_on("wlan0"));
  h.feed(false);
  REQUIRE(h.lost);
  CHECK(*h.lost == "wlan0 (wifi) is down");
  CHECK_FALSE(h.pw->active());
  CHECK_FALSE(h.target_on("wlan0").path.interface_up);
  CHECK(h.target_on("p2p0").path.interface_up);
  CHECK(h.pw->usable_kinds() == core::kind_set{interface_kind::p2p});
  h.lost.reset();
  h.feed(false); // told once: the active path is forgotten
  CHECK_FALSE(h.lost);
}

TEST_CASE("path_watcher reports a lost source address on the active interface") {
  harness h;
  h.feed(true);
  h.pw->set_active(h.target_on("wlan0"));
  h.feed(true, false);
  REQUIRE(h.lost);
  CHECK(*h.lost == "wlan0 (wifi) lost its IPv4 address");
  CHECK_FALSE(h.target_on("wlan0").path.has_source_address);
  CHECK_FALSE(h.pw->usable_kinds().contains(interface_kind::wifi));
}

TEST_CASE("path_watcher reports the active path's interface removed") {
  harness h;
  h.feed(true);
  h.pw->set_active(h.target_on("wlan0"));
  h.feed(true, true, false);
  REQUIRE(h.lost);
  CHECK(*h.lost == "wlan0 (wifi) was removed");
  CHECK_FALSE(h.target_on("wlan0").bind_to); // named but absent: a down interface
  CHECK_FALSE(h.target_on("wlan0").path.interface_up);
}

TEST_CASE("path_watcher: a debounced-unavailable link is not up, and every change is told") {
  harness h;
  h.unavailable.insert(2); // up, but still in its hold-down
  h.feed(true);
  CHECK_FALSE(h.target_on("wlan0").path.interface_up);
  CHECK(h.target_on("p2p0").path.interface_up);
  CHECK(h.pw->usable_kinds() == core::kind_set{interface_kind::p2p});
  CHECK(h.changes == 1);
  h.unavailable.clear();
  h.feed(true);
  CHECK(h.changes == 2);
  CHECK(h.target_on("wlan0").path.interface_up);
  CHECK(h.pw->usable_kinds().contains(interface_kind::wifi));
}

// With the kernel: every channel's path watcher on one io_context watches through one
// rtnetlink socket (link::shared_path_monitor), and each still sees the interfaces, including
// one that starts after the monitor's snapshot is complete.
TEST_CASE("path watchers on one io_context share one rtnetlink socket") {
  asio::io_context io;
  const std::vector<client::static_path> lo = {{asio::ip::make_address("127.0.0.1"), 7443, "lo"}};
  const std::size_t before = test::open_rtnetlink_sockets();
  auto make = [&](int& told) {
    auto pw = std::make_shared<path_watcher>(io.get_executor(), lo);
    // Told only from monitor events, once the snapshot is whole.
    pw->set_fact_handlers({{}, {}, [&told] { ++told; }});
    return pw;
  };
  int told1 = 0, told2 = 0, told3 = 0;
  auto pw1 = make(told1), pw2 = make(told2);
  REQUIRE_FALSE(pw1->start());
  REQUIRE_FALSE(pw2->start());
  CHECK(test::open_rtnetlink_sockets() == before + 1);
  REQUIRE(test::run_until(io, [&] { return told1 > 0 && told2 > 0; }));
  auto pw3 = make(told3); // late: catches up with the snapshot
  REQUIRE_FALSE(pw3->start());
  REQUIRE(test::run_until(io, [&] { return told3 > 0; }));
  CHECK(test::open_rtnetlink_sockets() == before + 1);
  const auto t = pw3->targets();
  REQUIRE(t.size() == 1);
  CHECK(t[0].path.interface_name == "lo");
  CHECK(t[0].path.interface_up);
  CHECK(t[0].path.has_source_address);
  pw1->stop();
  pw2->stop();
  CHECK(test::open_rtnetlink_sockets() == before + 1);
  pw3.reset(); // destroyed without stop(): its subscription ends with it
  CHECK(test::open_rtnetlink_sockets() == before);
  io.poll();
}
