// command_link_joiner: the SSID reaches the command through the environment only, and a failing
// command is an error naming it and its status.
#include "lanyard/link/link_joiner.hpp"

#include "support/io_test_support.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <string>

using lanyard::link::command_link_joiner;
using lanyard::link::link_errc;

TEST_CASE("command_link_joiner passes the SSID in LANYARD_SSID, never through the shell") {
  lanyard::test::temp_dir dir;
  const auto out = (dir.path / "ssid").string();
  command_link_joiner j("printf '%s' \"$LANYARD_SSID\" > '" + out + "'");
  const std::string hostile = "Lamp; rm -rf / $(reboot) `id`";
  REQUIRE_FALSE(j.join(hostile));
  std::ifstream in(out);
  std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(got == hostile);
}

TEST_CASE("command_link_joiner reports a failing command with its status") {
  command_link_joiner j("exit 3");
  auto e = j.join("Lamp-Setup");
  CHECK(e.code == link_errc::join_failed);
  CHECK(e.detail == "joining 'Lamp-Setup' failed: the join command 'exit 3' exited with status 3");
}
