#include <lanyard/core/interface_kind.hpp>

#include <catch2/catch.hpp>

using lanyard::core::interface_kind;
using lanyard::core::interface_kind_count;
using lanyard::core::parse_interface_kind;

TEST_CASE("interface kind names round-trip, and nothing else parses") {
  for (std::size_t i = 0; i < interface_kind_count; ++i) {
    auto k = static_cast<interface_kind>(i);
    CHECK(parse_interface_kind(to_string(k)) == k);
  }
  CHECK(to_string(interface_kind::p2p) == "p2p");
  CHECK(to_string(static_cast<interface_kind>(interface_kind_count)) == "other");
  CHECK_FALSE(parse_interface_kind("bluetooth"));
  CHECK_FALSE(parse_interface_kind("WIFI"));
  CHECK_FALSE(parse_interface_kind(""));
}
