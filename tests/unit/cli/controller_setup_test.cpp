// HOST:PORT parsing shared by `lanyard pair` and `lanyard connect`; the controller options of
// `lanyard provision` (the same identity and trust store as the other commands).
#include "cli/controller_setup.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>

using lanyard::cli::controller_device_id;
using lanyard::cli::controller_options_from;
using lanyard::cli::parsed_args;
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

TEST_CASE("controller_options_from: --identity-dir, --trust-store and --name, as the others") {
  parsed_args args;
  args.options = {
      {"identity-dir", "/tmp/lab/ctl"}, {"trust-store", "/tmp/lab/ts"}, {"name", "bench laptop"}};
  lanyard::core::error_detail error;
  const auto o = controller_options_from(args, error);
  REQUIRE(o);
  CHECK_FALSE(error);
  CHECK(o->identity_dir == "/tmp/lab/ctl");
  CHECK(o->trust_store == "/tmp/lab/ts");
  CHECK(o->state_dir == "/tmp/lab");
  CHECK(o->name == "bench laptop");
  CHECK(o->identity_id == controller_device_id());
  CHECK(o->discovery);

  args.options = {{"identity-dir", "ctl"}, {"trust-store", "ts"}};
  const auto here = controller_options_from(args, error);
  REQUIRE(here);
  CHECK(here->state_dir == ".");
  CHECK(here->name == controller_device_id());
}

TEST_CASE("controller_options_from: the default locations under XDG_STATE_HOME") {
  const char* saved = std::getenv("XDG_STATE_HOME");
  const std::string old = saved != nullptr ? saved : "";
  ::setenv("XDG_STATE_HOME", "/tmp/xdg-state", 1);
  lanyard::core::error_detail error;
  const auto o = controller_options_from(parsed_args{}, error);
  if (saved != nullptr)
    ::setenv("XDG_STATE_HOME", old.c_str(), 1);
  else
    ::unsetenv("XDG_STATE_HOME");
  REQUIRE(o);
  CHECK(o->identity_dir == "/tmp/xdg-state/lanyard/controller");
  CHECK(o->trust_store == "/tmp/xdg-state/lanyard/trust-store");
  CHECK(o->state_dir == "/tmp/xdg-state/lanyard");
}
