// The directory, fed with made-up browse events (no Avahi): merging by TXT id, paths,
// reachability reports, removal.
#include "lanyard/discovery/directory.hpp"

#include <catch2/catch.hpp>

using namespace lanyard::discovery;
using lanyard::link::interface_kind;

namespace {

interface_info wlan0{2, "wlan0", interface_kind::wifi};
interface_info p2p0{3, "p2p0", interface_kind::p2p};

asio::ip::address addr(const char* s) {
  return asio::ip::make_address(s);
}

service_instance instance(const interface_info& i, ip_protocol proto,
                          std::vector<asio::ip::address> addresses, const char* id = "dev-1",
                          const char* name = "Lamp") {
  service_instance s;
  s.name = name;
  s.type = "_lanyard._tcp";
  s.domain = "local";
  s.interface = i;
  s.protocol = proto;
  s.host = "accessory.local";
  s.port = 4433;
  s.addresses = std::move(addresses);
  if (id) REQUIRE_FALSE(s.txt.set("id", id));
  REQUIRE_FALSE(s.txt.set("pv", "1"));
  return s;
}

browse_event ev(browse_event_kind k, service_instance s) {
  return {k, std::move(s)};
}

std::vector<directory_event_kind> kinds(const std::vector<directory_event>& events) {
  std::vector<directory_event_kind> out;
  for (auto& e : events)
    out.push_back(e.kind);
  return out;
}

using K = directory_event_kind;

} // namespace

TEST_CASE("one device seen on wlan0 and p2p0, over IPv4 and IPv6, is one accessory") {
  directory dir;
  auto a = dir.apply(
      ev(browse_event_kind::added, instance(wlan0, ip_protocol::ipv4, {addr("198.18.1.3")})));
  REQUIRE(kinds(a) == std::vector<K>{K::added, K::path_added});
  CHECK(a[0].accessory.id == "dev-1");
  CHECK(a[1].path.address == addr("198.18.1.3"));
  CHECK(a[1].path.interface == wlan0);

  // The same address again via mDNS over IPv6: no new path.
  auto b = dir.apply(
      ev(browse_event_kind::added, instance(wlan0, ip_protocol::ipv6, {addr("198.18.1.3")})));
  CHECK(b.empty());

  auto c =
      dir.apply(ev(browse_event_kind::added, instance(p2p0, ip_protocol::ipv6, {addr("fe80::1")})));
  REQUIRE(kinds(c) == std::vector<K>{K::path_added});
  CHECK(c[0].path.interface == p2p0);

  REQUIRE(dir.accessories().size() == 1);
  const discovered_accessory* acc = dir.find("dev-1");
  REQUIRE(acc != nullptr);
  CHECK(acc->instances == 3);
  REQUIRE(acc->paths.size() == 2);
  CHECK(acc->paths[0].interface.name == "wlan0");
  CHECK(acc->paths[1].interface.name == "p2p0");
}

TEST_CASE("address changes become path events; TXT changes an update") {
  directory dir;
  dir.apply(ev(browse_event_kind::added, instance(wlan0, ip_protocol::ipv4, {addr("198.18.1.3")})));
  auto moved = instance(wlan0, ip_protocol::ipv4, {addr("198.18.1.9"), addr("2001:2:0:1::3")});
  auto e = dir.apply(ev(browse_event_kind::updated, moved));
  CHECK(kinds(e) == std::vector<K>{K::path_removed, K::path_added, K::path_added});
  CHECK(e[0].path.address == addr("198.18.1.3"));

  auto txt = moved;
  REQUIRE_FALSE(txt.txt.set("c#", "2"));
  e = dir.apply(ev(browse_event_kind::updated, txt));
  REQUIRE(kinds(e) == std::vector<K>{K::updated});
  CHECK(e[0].accessory.txt.find("c#")->value == "2");
}

TEST_CASE("the accessory is removed with its last instance") {
  directory dir;
  auto w = instance(wlan0, ip_protocol::ipv4, {addr("198.18.1.3")});
  auto p = instance(p2p0, ip_protocol::ipv4, {addr("198.18.2.3")});
  dir.apply(ev(browse_event_kind::added, w));
  dir.apply(ev(browse_event_kind::added, p));
  auto e = dir.apply(ev(browse_event_kind::removed, w));
  REQUIRE(kinds(e) == std::vector<K>{K::path_removed});
  CHECK(e[0].path.interface == wlan0);
  e = dir.apply(ev(browse_event_kind::removed, p));
  REQUIRE(kinds(e) == std::vector<K>{K::removed});
  CHECK(e[0].accessory.id == "dev-1");
  CHECK(dir.accessories().empty());
  CHECK(dir.apply(ev(browse_event_kind::removed, p)).empty()); // unknown: nothing
}

TEST_CASE("different ids are different accessories; no id means keyed by name") {
  directory dir;
  dir.apply(ev(browse_event_kind::added, instance(wlan0, ip_protocol::ipv4, {addr("198.18.1.3")})));
  dir.apply(ev(browse_event_kind::added,
               instance(wlan0, ip_protocol::ipv4, {addr("198.18.1.4")}, "dev-2", "Lamp (2)")));
  dir.apply(ev(browse_event_kind::added,
               instance(wlan0, ip_protocol::ipv4, {addr("198.18.1.5")}, nullptr, "Printer")));
  auto all = dir.accessories();
  REQUIRE(all.size() == 3);
  CHECK(all[0].id == "dev-1");
  CHECK(all[1].id == "dev-2");
  CHECK(all[2].id == "name:Printer");
}

TEST_CASE("an instance whose id changes moves to the other accessory") {
  directory dir;
  auto s = instance(wlan0, ip_protocol::ipv4, {addr("198.18.1.3")});
  dir.apply(ev(browse_event_kind::added, s));
  REQUIRE_FALSE(s.txt.set("id", "dev-9"));
  auto e = dir.apply(ev(browse_event_kind::updated, s));
  CHECK(kinds(e) == std::vector<K>{K::removed, K::added, K::path_added});
  CHECK(dir.find("dev-1") == nullptr);
  CHECK(dir.find("dev-9") != nullptr);
}

TEST_CASE("connection attempts mark paths unreachable at once, and reachable again") {
  directory dir;
  dir.apply(ev(browse_event_kind::added,
               instance(wlan0, ip_protocol::ipv4, {addr("198.18.1.3"), addr("2001:2:0:1::3")})));
  dir.apply(ev(browse_event_kind::added, instance(p2p0, ip_protocol::ipv4, {addr("198.18.2.3")})));

  auto e = dir.report_unreachable(2, addr("198.18.1.3"), 4433);
  REQUIRE(kinds(e) == std::vector<K>{K::path_unreachable});
  CHECK_FALSE(e[0].path.reachable);
  CHECK(e[0].accessory.reachable());                                  // other paths still are
  CHECK(dir.report_unreachable(2, addr("198.18.1.3"), 4433).empty()); // already
  CHECK(dir.report_unreachable(2, addr("198.18.1.3"), 80).empty());   // unknown port
  CHECK(dir.report_unreachable(3, addr("198.18.1.3"), 4433).empty()); // other interface

  // An update that keeps the path keeps what we learned about it.
  auto s = instance(wlan0, ip_protocol::ipv4, {addr("198.18.1.3"), addr("2001:2:0:1::3")});
  REQUIRE_FALSE(s.txt.set("c#", "3"));
  dir.apply(ev(browse_event_kind::updated, s));
  CHECK_FALSE(dir.find("dev-1")->paths[0].reachable);

  dir.report_unreachable(2, addr("2001:2:0:1::3"), 4433);
  dir.report_unreachable(3, addr("198.18.2.3"), 4433);
  CHECK_FALSE(dir.find("dev-1")->reachable());

  e = dir.report_reachable(3, addr("198.18.2.3"), 4433);
  REQUIRE(kinds(e) == std::vector<K>{K::path_reachable});
  CHECK(dir.find("dev-1")->reachable());
}

TEST_CASE("a fresh announcement (added) makes its paths reachable again") {
  directory dir;
  auto s = instance(wlan0, ip_protocol::ipv4, {addr("198.18.1.3")});
  auto s6 = instance(wlan0, ip_protocol::ipv6, {addr("198.18.1.3")});
  dir.apply(ev(browse_event_kind::added, s));
  dir.apply(ev(browse_event_kind::added, s6));
  dir.report_unreachable(2, addr("198.18.1.3"), 4433);
  dir.apply(ev(browse_event_kind::removed, s));
  auto e = dir.apply(ev(browse_event_kind::added, s)); // it came back
  REQUIRE(kinds(e) == std::vector<K>{K::path_reachable});
  CHECK(dir.find("dev-1")->paths[0].reachable);
}
