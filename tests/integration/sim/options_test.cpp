// lanyard-accessory-sim's command line: --mdns (the advertising backend), without I/O.
#include "options.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace lanyard;
using namespace lanyard::sim;

TEST_CASE("--mdns chooses the advertising backend, avahi by default") {
  std::string error;
  auto o = parse_run({"--state-dir", "/tmp/x"}, error);
  REQUIRE(o);
  CHECK(o->mdns == node::mdns_backend::avahi);

  o = parse_run({"--state-dir", "/tmp/x", "--mdns", "builtin"}, error);
  REQUIRE(o);
  CHECK(o->mdns == node::mdns_backend::builtin);
  CHECK(o->advertise);

  o = parse_run({"--mdns", "avahi", "--state-dir", "/tmp/x"}, error);
  REQUIRE(o);
  CHECK(o->mdns == node::mdns_backend::avahi);
}

TEST_CASE("--mdns with a bad or missing value: one sentence naming the flag and the choices") {
  std::string error;
  CHECK_FALSE(parse_run({"--state-dir", "/tmp/x", "--mdns", "bonjour"}, error));
  CHECK(error.find("--mdns") != std::string::npos);
  CHECK(error.find("avahi") != std::string::npos);
  CHECK(error.find("builtin") != std::string::npos);
  CHECK(error.find("'bonjour'") != std::string::npos);

  error.clear();
  CHECK_FALSE(parse_run({"--state-dir", "/tmp/x", "--mdns"}, error));
  CHECK(error.find("--mdns") != std::string::npos);
}

TEST_CASE("--help documents --mdns") {
  CHECK(std::string(usage_text).find("--mdns avahi|builtin") != std::string::npos);
}
