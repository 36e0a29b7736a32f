// HOST:PORT parsing shared by `lanyard pair` and `lanyard connect`.
#include "cli/controller_setup.hpp"

#include <catch2/catch.hpp>

using lanyard::cli::split_host_port;

TEST_CASE("split_host_port accepts IPv4, bracketed IPv6 with scope, and names") {
  std::string host, port, error;
  REQUIRE(split_host_port("198.18.1.3:7443", host, port, error));
  CHECK(host == "198.18.1.3");
  CHECK(port == "7443");
  REQUIRE(split_host_port("[fe80::1%p2p0]:7443", host, port, error));
  CHECK(host == "fe80::1%p2p0");
  REQUIRE(split_host_port("lamp.local:1", host, port, error));
  CHECK(host == "lamp.local");
}

// Usage errors for people only (exit 2, lanyard.cli.bad_argument): one golden per kind.
TEST_CASE("split_host_port refuses what is not HOST:PORT, naming the input") {
  std::string host, port, error;
  CHECK_FALSE(split_host_port("198.18.1.3", host, port, error));
  CHECK(error == "'198.18.1.3' is not HOST:PORT (e.g. 198.18.0.2:5577 or [fe80::1%eth0]:5577)");
  CHECK_FALSE(split_host_port("[]:80", host, port, error));
  CHECK(error == "'[]:80' has no host (e.g. 198.18.0.2:5577 or [fe80::1%eth0]:5577)");
  CHECK_FALSE(split_host_port("h:0", host, port, error));
  CHECK_FALSE(split_host_port("h:65536", host, port, error));
  CHECK(error == "'h:65536': the port must be a number from 1 to 65535");
  CHECK_FALSE(split_host_port(":80", host, port, error));
}
