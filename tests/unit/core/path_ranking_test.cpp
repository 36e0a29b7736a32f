#include "lanyard/core/path_ranking.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace std::chrono_literals;
using namespace lanyard::core;

namespace {

path_candidate make(std::string name, std::uint32_t index, interface_kind kind, std::string address,
                    address_family family = address_family::ipv4) {
  path_candidate c;
  c.interface_name = std::move(name);
  c.interface_index = index;
  c.kind = kind;
  c.address = std::move(address);
  c.family = family;
  return c;
}

// The phone in the lab: Wi-Fi, peer-to-peer and cellular paths to the accessory.
std::vector<path_candidate> phone_paths() {
  return {
      make("cell0", 4, interface_kind::cellular, "198.18.1.3"),
      make("p2p0", 3, interface_kind::p2p, "fe80::2", address_family::ipv6),
      make("wlan0", 2, interface_kind::wifi, "198.18.1.3"),
      make("wlan0", 2, interface_kind::wifi, "2001:2:0:1::3", address_family::ipv6),
  };
}

} // namespace

TEST_CASE("kind sets and policy descriptions read as English", "[path_ranking]") {
  CHECK(kind_set{}.describe().empty());
  CHECK(kind_set{interface_kind::cellular}.describe() == "cellular");
  CHECK(kind_set{interface_kind::p2p, interface_kind::wifi}.describe() == "wifi or p2p");
  CHECK(kind_set{interface_kind::wired, interface_kind::p2p, interface_kind::wifi}.describe(
            "and") == "wired, wifi and p2p");
  interface_policy p;
  CHECK(p.describe().empty());
  CHECK(p.unrestricted());
  p.required = {interface_kind::cellular};
  p.prohibited = {interface_kind::wifi};
  CHECK(p.describe() == "requires cellular and prohibits wifi");
  CHECK(p.check().empty());
  p.prohibited.insert(interface_kind::cellular);
  CHECK(p.check() == "policy both requires and prohibits cellular: remove it from one of the "
                     "two lists");
}

TEST_CASE("preference order: listed kinds first, the rest in the default order", "[path_ranking]") {
  interface_policy p;
  CHECK(p.rank(interface_kind::wired) == 0);
  CHECK(p.rank(interface_kind::loopback) == 6);
  p.preference = {interface_kind::p2p, interface_kind::cellular};
  CHECK(p.rank(interface_kind::p2p) == 0);
  CHECK(p.rank(interface_kind::cellular) == 1);
  CHECK(p.rank(interface_kind::wired) == 2);
  CHECK(p.rank(interface_kind::wifi) == 3);
  CHECK(p.rank(interface_kind::softap) == 4);
  CHECK(p.rank(interface_kind::loopback) == 6);
}

TEST_CASE("handover mode: wifi before p2p before cellular, IPv6 first within an interface",
          "[path_ranking]") {
  auto c = phone_paths();
  auto r = rank_paths(c, {});
  CHECK(r.reason.empty());
  CHECK(r.rejected.empty());
  CHECK(r.viable == std::vector<std::size_t>{3, 2, 1, 0});
}

TEST_CASE("handover mode follows the policy's preference order", "[path_ranking]") {
  auto c = phone_paths();
  interface_policy p;
  p.preference = {interface_kind::cellular, interface_kind::p2p};
  CHECK(rank_paths(c, p).viable == std::vector<std::size_t>{0, 1, 3, 2});
}

TEST_CASE("the relay comes after every local path, whatever the preference or its RTT",
          "[path_ranking]") {
  auto c = phone_paths();
  c.insert(c.begin(), make("relay", 0, interface_kind::relay, "198.18.5.2"));
  interface_policy p;
  p.preference = {interface_kind::relay, interface_kind::cellular};
  CHECK(rank_paths(c, p).viable == std::vector<std::size_t>{1, 4, 3, 2, 0});
  c[0].rtt = 1ms;
  c[3].rtt = 5ms;
  CHECK(rank_paths(c, {}, ranking_mode::interactive).viable ==
        std::vector<std::size_t>{3, 4, 2, 1, 0});
  // Alone, it is viable; prohibited, the reason names it.
  std::vector<path_candidate> only_relay{c[0]};
  CHECK(rank_paths(only_relay, {}).viable == std::vector<std::size_t>{0});
  p.prohibited = {interface_kind::relay};
  p.preference.clear();
  CHECK(rank_paths(only_relay, p).reason == "policy prohibits relay; relay (relay) is prohibited");
  CHECK(parse_interface_kind("relay") == interface_kind::relay);
}

TEST_CASE("routable addresses come before link-local ones on the same interface",
          "[path_ranking]") {
  std::vector<path_candidate> c = {
      make("p2p0", 3, interface_kind::p2p, "fe80::2", address_family::ipv6),
      make("p2p0", 3, interface_kind::p2p, "2001:2:0:2::3", address_family::ipv6),
  };
  c[0].link_local = true;
  CHECK(rank_paths(c, {}).viable == std::vector<std::size_t>{1, 0});
}

TEST_CASE("interactive mode: lowest RTT first, unmeasured paths last in handover order",
          "[path_ranking]") {
  auto c = phone_paths();
  c[0].rtt = 40ms; // cellular
  c[1].rtt = 2ms;  // p2p
  c[2].rtt = 9ms;  // wifi v4
  auto r = rank_paths(c, {}, ranking_mode::interactive);
  CHECK(r.viable == std::vector<std::size_t>{1, 2, 0, 3});
}

TEST_CASE("a required kind excludes every other kind even when they are up", "[path_ranking]") {
  auto c = phone_paths();
  interface_policy p;
  p.required = {interface_kind::cellular};
  auto r = rank_paths(c, p);
  CHECK(r.viable == std::vector<std::size_t>{0});
  REQUIRE(r.rejected.size() == 3);
  CHECK(r.rejected[0].reason == path_rejection_reason::not_required_kind);
}

TEST_CASE("no viable path: the reason names the policy and the interface", "[path_ranking]") {
  auto c = phone_paths();
  interface_policy p;
  p.required = {interface_kind::cellular};
  c[0].interface_up = false;
  auto r = rank_paths(c, p);
  CHECK(r.viable.empty());
  REQUIRE(r.rejected.size() == 4);
  CHECK(r.rejected[0].candidate == 0);
  CHECK(r.rejected[0].reason == path_rejection_reason::interface_down);
  // The one golden sentence of a refusal under a policy (a person reads it).
  CHECK(r.reason == "policy requires cellular; cell0 (cellular) is down");
}

TEST_CASE("no viable path because of the policy alone lists the prohibited interfaces",
          "[path_ranking]") {
  std::vector<path_candidate> c = {
      make("wlan0", 2, interface_kind::wifi, "198.18.1.3"),
      make("wlan0", 2, interface_kind::wifi, "2001:2:0:1::3", address_family::ipv6),
  };
  interface_policy p;
  p.prohibited = {interface_kind::wifi};
  auto r = rank_paths(c, p);
  CHECK(r.viable.empty());
  REQUIRE(r.rejected.size() == 2);
  CHECK(r.rejected[0].reason == path_rejection_reason::prohibited_kind);
  CHECK(r.rejected[1].reason == path_rejection_reason::prohibited_kind);
  CHECK_FALSE(r.reason.empty());
}

TEST_CASE("a required kind nobody offers is named with what was seen", "[path_ranking]") {
  std::vector<path_candidate> c = {make("wlan0", 2, interface_kind::wifi, "198.18.1.3")};
  interface_policy p;
  p.required = {interface_kind::cellular};
  auto r = rank_paths(c, p);
  CHECK(r.viable.empty());
  REQUIRE(r.rejected.size() == 1);
  CHECK(r.rejected[0].candidate == 0);
  CHECK(r.rejected[0].reason == path_rejection_reason::not_required_kind);
  CHECK_FALSE(r.reason.empty());
}

TEST_CASE("without a policy every failing interface is named once", "[path_ranking]") {
  auto c = phone_paths();
  c[0].interface_up = false;
  c[1].has_source_address = false;
  c[2].has_source_address = false;
  c[3].reachable = false;
  auto r = rank_paths(c, {});
  REQUIRE(r.rejected.size() == 4);
  CHECK(r.rejected[0].reason == path_rejection_reason::interface_down);
  CHECK(r.rejected[1].reason == path_rejection_reason::no_source_address);
  CHECK(r.rejected[2].reason == path_rejection_reason::no_source_address);
  CHECK(r.rejected[3].reason == path_rejection_reason::unreachable);
  // The one golden sentence of "no viable path" without a policy (a person reads it).
  CHECK(r.reason == "no viable path; cell0 (cellular) is down; p2p0 (p2p) has no IPv6 address; "
                    "wlan0 (wifi) has no IPv4 address; 2001:2:0:1::3 is unreachable via wlan0 "
                    "(wifi)");
  CHECK(r.rejected.size() == 4);
}

TEST_CASE("link-local destinations need an interface", "[path_ranking]") {
  std::vector<path_candidate> c = {
      make("", 0, interface_kind::other, "fe80::2", address_family::ipv6)};
  c[0].link_local = true;
  auto r = rank_paths(c, {});
  REQUIRE(r.rejected.size() == 1);
  CHECK(r.rejected[0].reason == path_rejection_reason::link_local_no_scope);
  CHECK(r.viable.empty());
  CHECK_FALSE(r.reason.empty());
}

TEST_CASE("no candidates at all says so", "[path_ranking]") {
  auto r = rank_paths({}, {});
  CHECK(r.viable.empty());
  CHECK(r.rejected.empty());
  CHECK_FALSE(r.reason.empty()); // nothing to list: the sentence is all there is
}
