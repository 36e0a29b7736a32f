// node_options::mdns without a network: the backend is chosen and its errors reach open() with
// the interface and the backend named.
#include <lanyard/node/node_options.hpp>

#include <catch2/catch.hpp>

#include <lanyard/discovery/error.hpp>
#include <lanyard/node/node.hpp>

#include <asio/io_context.hpp>

#include <filesystem>
#include <string>

#include <unistd.h>

using namespace lanyard;

TEST_CASE("mdns_backend: avahi by default, with names") {
  node::node_options o;
  CHECK(o.mdns == node::mdns_backend::avahi);
  CHECK(std::string(node::to_string(node::mdns_backend::avahi)) == "avahi");
  CHECK(std::string(node::to_string(node::mdns_backend::builtin)) == "builtin");
}

TEST_CASE("builtin mDNS: an advertise_interface that does not exist fails open(), named") {
  const auto dir =
      std::filesystem::temp_directory_path() / ("lanyard-node-mdns-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  asio::io_context io;
  node::node_options o;
  o.state_dir = dir;
  o.device_id = "lamp-mdns";
  o.listen = {{asio::ip::make_address("127.0.0.1"), 0}};
  o.mdns = node::mdns_backend::builtin;
  o.advertise_interface = "nosuchif0";
  std::unique_ptr<node::node> n;
  const core::error_detail e = node::node::open(io.get_executor(), o, n);
  CHECK(e.code == discovery::discovery_errc::unknown_interface);
  CHECK(e.message().find("nosuchif0") != std::string::npos);
  CHECK(e.message().find("builtin") != std::string::npos);
  CHECK_FALSE(n);
  std::filesystem::remove_all(dir);
}
