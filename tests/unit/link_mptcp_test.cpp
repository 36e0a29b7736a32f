// Kernel MPTCP sockets on loopback: MPTCP end to end when both ends ask for it, a transparent
// fallback to TCP when one end does not, and data flows either way.
#include "lanyard/link/mptcp.hpp"

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <string>

using lanyard::link::transport_protocol;
namespace lnk = lanyard::link;
using asio::ip::tcp;

namespace {

struct result {
  bool client_mptcp = false, server_mptcp = false;
  std::string echoed;
};

result exchange(transport_protocol client_transport, transport_protocol server_transport) {
  asio::io_context io;
  tcp::acceptor acceptor(io);
  REQUIRE_FALSE(lnk::open_acceptor(acceptor, tcp::v4(), server_transport));
  acceptor.set_option(tcp::acceptor::reuse_address(true));
  acceptor.bind({asio::ip::address_v4::loopback(), 0});
  acceptor.listen();
  tcp::socket client(io);
  REQUIRE_FALSE(lnk::open_socket(client, tcp::v4(), client_transport));
  client.connect(acceptor.local_endpoint());
  tcp::socket server = acceptor.accept();
  asio::write(client, asio::buffer(std::string("ping")));
  std::array<char, 4> buf{};
  asio::read(server, asio::buffer(buf));
  asio::write(server, asio::buffer(buf));
  asio::read(client, asio::buffer(buf));
  return {lnk::is_mptcp_connection(client), lnk::is_mptcp_connection(server),
          std::string(buf.data(), buf.size())};
}

} // namespace

TEST_CASE("MPTCP on both ends runs MPTCP end to end") {
  if (!lnk::mptcp_supported()) {
    WARN("this kernel has no MPTCP (net.mptcp.enabled=0?): only the fallback is tested");
    auto r = exchange(transport_protocol::mptcp, transport_protocol::mptcp);
    CHECK(r.echoed == "ping");
    CHECK_FALSE(r.client_mptcp);
    return;
  }
  auto r = exchange(transport_protocol::mptcp, transport_protocol::mptcp);
  CHECK(r.echoed == "ping");
  CHECK(r.client_mptcp);
  CHECK(r.server_mptcp);
  asio::io_context io;
  tcp::socket m(io), t(io);
  REQUIRE_FALSE(lnk::open_socket(m, tcp::v4(), transport_protocol::mptcp));
  REQUIRE_FALSE(lnk::open_socket(t, tcp::v4(), transport_protocol::tcp));
  CHECK(lnk::is_mptcp_socket(m));
  CHECK_FALSE(lnk::is_mptcp_socket(t));
}

TEST_CASE("an MPTCP client falls back to TCP against a TCP server, and the reverse") {
  auto a = exchange(transport_protocol::mptcp, transport_protocol::tcp);
  CHECK(a.echoed == "ping");
  CHECK_FALSE(a.client_mptcp);
  CHECK_FALSE(a.server_mptcp);
  auto b = exchange(transport_protocol::tcp, transport_protocol::mptcp);
  CHECK(b.echoed == "ping");
  CHECK_FALSE(b.client_mptcp);
  CHECK_FALSE(b.server_mptcp);
}

TEST_CASE("plain TCP sockets are not MPTCP connections") {
  auto r = exchange(transport_protocol::tcp, transport_protocol::tcp);
  CHECK(r.echoed == "ping");
  CHECK_FALSE(r.client_mptcp);
  CHECK(lnk::to_string(transport_protocol::mptcp) == "mptcp");
}
