#include "lanyard/link/interface_policy.hpp"

#include <catch2/catch.hpp>

using namespace lanyard::link;
namespace core = lanyard::core;

TEST_CASE("policies parse from the CLI's lists", "[interface_policy]") {
  interface_policy p;
  std::string error;
  REQUIRE(parse_interface_policy("cellular", "", "", p, error));
  CHECK(p.required == core::kind_set{core::interface_kind::cellular});
  REQUIRE(parse_interface_policy("", "wifi,softap", "p2p, wired", p, error));
  CHECK(p.prohibited.contains(core::interface_kind::softap));
  CHECK(p.preference ==
        std::vector<core::interface_kind>{core::interface_kind::p2p, core::interface_kind::wired});
  CHECK(p.describe() == "prohibits wifi and softap");
}

TEST_CASE("bad policy lists name the option and the entry", "[interface_policy]") {
  interface_policy p;
  std::string error;
  CHECK_FALSE(parse_interface_policy("wlan", "", "", p, error));
  CHECK(error == "--require: unknown interface kind 'wlan' (expected wired, wifi, softap, p2p, "
                 "cellular, loopback, other or relay)");
  CHECK_FALSE(parse_interface_policy("", "", "wifi,wifi", p, error));
  CHECK(error == "--prefer: interface kind 'wifi' is listed twice");
  CHECK_FALSE(parse_interface_policy("", "wifi,", "", p, error));
  CHECK(error == "--prohibit: empty interface kind in list (expected e.g. wifi,p2p)");
  CHECK_FALSE(parse_interface_policy("cellular", "cellular", "", p, error));
  CHECK(error ==
        "policy both requires and prohibits cellular: remove it from one of the two lists");
}

TEST_CASE("candidates from the snapshot feed the ranking", "[interface_policy]") {
  network_interface wlan{2, "wlan0", interface_kind::wifi, true, true, oper_state::up, 1500, {}};
  wlan.addresses.push_back({asio::ip::make_address("198.18.1.2"), 24});
  network_interface cell{
      4, "cell0", interface_kind::cellular, true, false, oper_state::lower_layer_down, 1500, {}};
  cell.addresses.push_back({asio::ip::make_address("198.18.3.2"), 24});
  const auto dest = asio::ip::make_address("198.18.1.3");
  std::vector<core::path_candidate> c = {make_path_candidate(wlan, wlan.up(), dest),
                                         make_path_candidate(cell, cell.up(), dest)};
  CHECK(c[0].interface_name == "wlan0");
  CHECK(c[0].kind == core::interface_kind::wifi);
  CHECK(c[0].has_source_address);
  CHECK(c[0].address == "198.18.1.3");
  CHECK_FALSE(c[1].interface_up);
  interface_policy p;
  std::string error;
  REQUIRE(parse_interface_policy("cellular", "", "", p, error));
  auto r = core::rank_paths(c, p);
  CHECK(r.viable.empty());
  CHECK(r.reason == "policy requires cellular; cell0 (cellular) is down");
  CHECK(allows(p, cell));
  CHECK_FALSE(allows(p, wlan));

  auto v6 = make_path_candidate(wlan, true, asio::ip::make_address("fe80::3"));
  CHECK(v6.link_local);
  CHECK(v6.family == core::address_family::ipv6);
  CHECK_FALSE(v6.has_source_address);
  CHECK(v6.address == "fe80::3");
}
