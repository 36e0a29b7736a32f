// What node tests share: a radio seam with a scripted verdict, and a node on loopback.
#pragma once

#include <lanyard/node/node.hpp>
#include <lanyard/node/wifi_driver.hpp>

#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>
#include <asio/post.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace lanyard::test {

/// The radio seam with a scripted verdict: what a test of firmware logic wants from a driver.
/// Records the SSIDs it was asked to join; answers `verdict` on the next turn.
struct scripted_driver final : node::wifi_driver {
  explicit scripted_driver(asio::io_context& context) : io(context) {}
  void join(const core::wifi_credentials& network, join_handler done) override {
    joins.push_back(network.ssid);
    asio::post(io, [this, done = std::move(done)] { done(verdict); });
  }
  asio::io_context& io;
  node::join_result verdict{{"127.0.0.1"}, std::nullopt};
  std::vector<std::string> joins;
};

/// A node's options on 127.0.0.1 (a free port), device id "lamp-1", not advertised.
inline node::node_options loopback_node_options(const std::filesystem::path& dir) {
  node::node_options o;
  o.state_dir = dir;
  o.device_id = "lamp-1";
  o.listen = {{asio::ip::make_address("127.0.0.1"), 0}};
  o.advertise = false;
  return o;
}

/// Opens a node (REQUIRE: it opens).
inline std::unique_ptr<node::node> open_node(asio::io_context& io, node::node_options o) {
  std::unique_ptr<node::node> n;
  const core::error_detail e = node::node::open(io.get_executor(), std::move(o), n);
  INFO(e.message());
  REQUIRE_FALSE(e);
  REQUIRE(n);
  return n;
}

} // namespace lanyard::test
