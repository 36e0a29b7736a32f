#include <lanyard/channel/session_runner.hpp>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

using asio::ip::tcp;
using namespace std::chrono_literals;

TEST_CASE("channel sockets get TCP_NODELAY and TCP_USER_TIMEOUT", "[channel]") {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  tcp::socket s(io);
  s.connect(acceptor.local_endpoint());
  REQUIRE(!lanyard::channel::detail::configure_socket(s, 4321ms));

  int nodelay = 0;
  socklen_t len = sizeof nodelay;
  REQUIRE(::getsockopt(s.native_handle(), IPPROTO_TCP, TCP_NODELAY, &nodelay, &len) == 0);
  CHECK(nodelay != 0);
  unsigned int timeout = 0;
  len = sizeof timeout;
  REQUIRE(::getsockopt(s.native_handle(), IPPROTO_TCP, TCP_USER_TIMEOUT, &timeout, &len) == 0);
  CHECK(timeout == 4321);

  // Zero leaves the kernel default alone.
  tcp::socket t(io);
  t.connect(acceptor.local_endpoint());
  REQUIRE(!lanyard::channel::detail::configure_socket(t, 0ms));
  len = sizeof timeout;
  REQUIRE(::getsockopt(t.native_handle(), IPPROTO_TCP, TCP_USER_TIMEOUT, &timeout, &len) == 0);
  CHECK(timeout == 0);

  // A closed socket is an error, not a crash.
  tcp::socket closed(io);
  CHECK(lanyard::channel::detail::configure_socket(closed, 1000ms));
}
