// The channel's candidate paths: directory paths and static endpoints over the interfaces the
// kernel reports, pinned to their interface, as facts (all_targets); ranked here as the core
// ranks them (core::rank_paths, whose own tests pin the order and the sentences), so that the
// facts are checked for what the ranking makes of them.
#include "client/path_candidates.hpp"

#include "support/network_interfaces.hpp"

#include <lanyard/core/path_ranking.hpp>

#include <catch2/catch.hpp>

#include <span>
#include <string>
#include <vector>

using namespace lanyard;
using client::static_path;
using client::detail::all_targets;
using client::detail::path_target;
using link::interface_kind;
using test::make_iface;

namespace {

discovery::accessory_path path(const link::network_interface& i, std::string address,
                               bool reachable = true) {
  discovery::accessory_path p;
  p.interface = {i.index, i.name, i.kind};
  p.address = asio::ip::make_address(address);
  if (p.address.is_v6() && p.address.to_v6().is_link_local()) {
    auto v6 = p.address.to_v6();
    v6.scope_id(i.index);
    p.address = v6;
  }
  p.port = 7443;
  p.reachable = reachable;
  return p;
}

const auto wlan0 =
    make_iface(2, "wlan0", interface_kind::wifi, true, {"198.18.1.2", "2001:2:0:1::2", "fe80::a"});
const auto p2p0 = make_iface(3, "p2p0", interface_kind::p2p, true, {"198.18.2.2", "fe80::b"});
const auto cell0 = make_iface(4, "cell0", interface_kind::cellular, false, {"198.18.3.2"});

// all_targets' facts ranked by the core: the viable targets best first, the rejected ones with
// their reason, and the sentence when nothing is viable.
struct ranked {
  std::vector<path_target> targets;
  struct rejection {
    core::path_candidate path;
    core::path_rejection_reason reason;
  };
  std::vector<rejection> rejected;
  std::string reason;
};

ranked rank_targets(std::span<const discovery::accessory_path> discovered,
                    std::span<const static_path> statics,
                    std::span<const link::network_interface> interfaces,
                    const core::interface_policy& policy) {
  std::vector<path_target> all = all_targets(discovered, statics, interfaces);
  std::vector<core::path_candidate> candidates;
  for (const auto& t : all)
    candidates.push_back(t.path);
  core::path_ranking ranking = core::rank_paths(candidates, policy, core::ranking_mode::handover);
  ranked out;
  out.reason = std::move(ranking.reason);
  for (const core::path_rejection& r : ranking.rejected)
    out.rejected.push_back({all[r.candidate].path, r.reason});
  for (std::size_t i : ranking.viable)
    out.targets.push_back(all[i]);
  return out;
}

} // namespace

TEST_CASE("rank_targets: Wi-Fi before p2p, IPv6 before IPv4, pinned to their interfaces") {
  std::vector<discovery::accessory_path> paths{path(p2p0, "198.18.2.3"), path(p2p0, "fe80::3"),
                                               path(wlan0, "198.18.1.3"),
                                               path(wlan0, "2001:2:0:1::3")};
  std::vector<link::network_interface> ifs{wlan0, p2p0, cell0};
  auto r = rank_targets(paths, {}, ifs, {});
  REQUIRE(r.targets.size() == 4);
  CHECK(r.reason.empty());
  CHECK(r.targets[0].path.address == "2001:2:0:1::3");
  CHECK(r.targets[1].path.address == "198.18.1.3");
  CHECK(r.targets[0].path.interface_name == "wlan0");
  CHECK(r.targets[2].path.interface_name == "p2p0");
  CHECK(r.targets[2].path.address == "fe80::3");
  CHECK(r.targets[2].path.link_local);
  CHECK(r.targets[2].endpoint.address().to_v6().scope_id() == 3); // scoped to p2p0
  REQUIRE(r.targets[3].bind_to);
  CHECK(r.targets[3].bind_to->name == "p2p0");
}

TEST_CASE("rank_targets: the policy's preference and prohibitions apply") {
  std::vector<discovery::accessory_path> paths{path(wlan0, "198.18.1.3"), path(p2p0, "198.18.2.3")};
  std::vector<link::network_interface> ifs{wlan0, p2p0};
  core::interface_policy prefer_p2p;
  prefer_p2p.preference = {core::interface_kind::p2p};
  auto r = rank_targets(paths, {}, ifs, prefer_p2p);
  REQUIRE(r.targets.size() == 2);
  CHECK(r.targets[0].path.interface_name == "p2p0");

  core::interface_policy no_wifi;
  no_wifi.prohibited.insert(core::interface_kind::wifi);
  r = rank_targets(paths, {}, ifs, no_wifi);
  REQUIRE(r.targets.size() == 1);
  CHECK(r.targets[0].path.interface_name == "p2p0");
}

TEST_CASE("rank_targets: nothing viable comes with a reason naming policy and interfaces") {
  std::vector<discovery::accessory_path> paths{path(wlan0, "198.18.1.3")};
  std::vector<link::network_interface> ifs{wlan0, p2p0, cell0};
  core::interface_policy cellular_only;
  cellular_only.required.insert(core::interface_kind::cellular);
  auto r = rank_targets(paths, {}, ifs, cellular_only);
  CHECK(r.targets.empty());
  REQUIRE(r.rejected.size() == 1);
  CHECK(r.rejected[0].path.interface_name == "wlan0");
  CHECK(r.rejected[0].path.address == "198.18.1.3");
  CHECK(r.rejected[0].reason == core::path_rejection_reason::not_required_kind);
  CHECK_FALSE(r.reason.empty()); // the sentence: core/path_ranking_test.cpp has its goldens

  r = rank_targets({}, {}, ifs, {});
  CHECK(r.targets.empty());
  CHECK(r.rejected.empty());
  CHECK_FALSE(r.reason.empty());
}

TEST_CASE("rank_targets: unreachable paths and down interfaces are skipped") {
  auto wlan_down = make_iface(2, "wlan0", interface_kind::wifi, false, {"198.18.1.2"});
  std::vector<discovery::accessory_path> paths{path(wlan0, "198.18.1.3"),
                                               path(p2p0, "198.18.2.3", false)};
  std::vector<link::network_interface> ifs{wlan_down, p2p0};
  auto r = rank_targets(paths, {}, ifs, {});
  CHECK(r.targets.empty());
  REQUIRE(r.rejected.size() == 2);
  CHECK(r.rejected[0].path.interface_name == "wlan0");
  CHECK(r.rejected[0].reason == core::path_rejection_reason::interface_down);
  CHECK(r.rejected[1].path.interface_name == "p2p0");
  CHECK(r.rejected[1].reason == core::path_rejection_reason::unreachable);
  CHECK_FALSE(r.reason.empty());
}

TEST_CASE("rank_targets: static endpoints, pinned by name or left to routing") {
  auto sap0 = make_iface(5, "sap0", interface_kind::softap, true, {"198.18.4.2"});
  std::vector<link::network_interface> ifs{wlan0, sap0};
  std::vector<static_path> statics{{asio::ip::make_address("198.18.4.1"), 7443, "sap0"},
                                   {asio::ip::make_address("127.0.0.1"), 7443, ""}};
  auto r = rank_targets({}, statics, ifs, {});
  REQUIRE(r.targets.size() == 2);
  CHECK(r.targets[0].path.interface_name == "sap0");
  REQUIRE(r.targets[0].bind_to);
  CHECK_FALSE(r.targets[1].bind_to); // no interface named: the routing table decides

  std::vector<static_path> absent{{asio::ip::make_address("198.18.4.1"), 7443, "sap0"}};
  std::vector<link::network_interface> no_sap{wlan0};
  r = rank_targets({}, absent, no_sap, {});
  CHECK(r.targets.empty());
  REQUIRE(r.rejected.size() == 1);
  CHECK(r.rejected[0].path.interface_name == "sap0");
  CHECK(r.rejected[0].reason == core::path_rejection_reason::interface_down);
}
