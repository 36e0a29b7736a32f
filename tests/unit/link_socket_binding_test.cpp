#include "lanyard/link/socket_binding.hpp"

#include "lanyard/link/interface_policy.hpp"
#include "lanyard/link/path_monitor.hpp"

#include <catch2/catch.hpp>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/error.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include <cstring>
#include <net/if.h>
#include <sys/socket.h>
#include <type_traits>

using namespace lanyard::link;
namespace field_key = lanyard::core::field_key;

// link_error is the core's one "error plus detail" type (error-model.md §7.4 step 10).
static_assert(std::is_same_v<link_error, lanyard::core::error_detail>);

namespace {

// The loopback interface as the kernel reports it: the one interface every test host has.
network_interface loopback() {
  link_error error;
  for (auto& i : query_interfaces(error))
    if (i.kind == interface_kind::loopback) return i;
  FAIL("no loopback interface: " << error.message());
  return {};
}

std::string bound_device(asio::ip::tcp::socket& s) {
  char name[IFNAMSIZ] = {};
  socklen_t len = sizeof name;
  if (::getsockopt(s.native_handle(), SOL_SOCKET, SO_BINDTODEVICE, name, &len) != 0) return "";
  return name;
}

} // namespace

TEST_CASE("a socket bound to loopback connects through it", "[socket_binding]") {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  auto lo = loopback();
  asio::ip::tcp::socket s(io);
  bool called = false;
  std::error_code result;
  link_error detail{make_error_code(link_errc::interface_down), "unset"};
  async_connect_via(s, acceptor.local_endpoint(), lo, [&](std::error_code ec, link_error d) {
    called = true;
    result = ec;
    detail = std::move(d);
  });
  CHECK_FALSE(called); // never from inside the initiating call
  io.run();
  REQUIRE(called);
  CHECK_FALSE(result);
  CHECK(detail.ok());
  CHECK(detail.detail.empty());
  CHECK(detail.fields.empty());
  CHECK(s.local_endpoint().address() == asio::ip::make_address("127.0.0.1"));
  // With CAP_NET_RAW the socket is pinned by SO_BINDTODEVICE; otherwise by IP_UNICAST_IF.
  auto dev = bound_device(s);
  CHECK((dev == lo.name || dev.empty()));
}

TEST_CASE("an interface without an address of the family fails with the precise error",
          "[socket_binding]") {
  asio::io_context io;
  network_interface wlan;
  wlan.index = 42;
  wlan.name = "wlan0";
  wlan.kind = interface_kind::wifi;
  wlan.admin_up = wlan.running = true;
  wlan.operational = oper_state::up;
  asio::ip::tcp::socket s(io);
  auto e = bind_to_interface(s, wlan, asio::ip::make_address("198.18.1.3"));
  CHECK(e.code == link_errc::no_address);
  CHECK(e.text(field_key::address) == "198.18.1.3");
  CHECK(e.text(field_key::interface) == "wlan0");
  CHECK(e.text(field_key::interface_kind) == "wifi");
  CHECK(e.text(field_key::problem) == "no_address_of_family");
  // The one golden sentence of a binding's "no route" (a person reads it).
  CHECK(e.detail ==
        "no route to 198.18.1.3 via interface wlan0 (wifi): the interface has no IPv4 address");
  CHECK_FALSE(s.is_open()); // nothing was touched

  SECTION("a tentative address is named as such") {
    wlan.addresses.push_back({asio::ip::make_address("2001:2:0:1::2"), 64, address_scope::global,
                              true, false, false, false});
    e = bind_to_interface(s, wlan, asio::ip::make_address("2001:2:0:1::3"));
    CHECK(e.code == link_errc::no_address);
    CHECK(e.text(field_key::address) == "2001:2:0:1::3");
    CHECK(e.text(field_key::problem) == "address_tentative");
  }
  SECTION("a link-local address cannot reach a routable one") {
    wlan.addresses.push_back(
        {asio::ip::make_address("fe80::1"), 64, address_scope::link, false, false, false, false});
    e = bind_to_interface(s, wlan, asio::ip::make_address("2001:2:0:1::3"));
    CHECK(e.code == link_errc::no_address);
    CHECK(e.text(field_key::address) == "2001:2:0:1::3");
    CHECK(e.text(field_key::problem) == "link_local_only");
  }
}

TEST_CASE("a down interface is refused with its state", "[socket_binding]") {
  asio::io_context io;
  network_interface cell;
  cell.index = 7;
  cell.name = "cell0";
  cell.kind = interface_kind::cellular;
  cell.admin_up = true;
  cell.operational = oper_state::lower_layer_down;
  asio::ip::tcp::socket s(io);
  auto e = bind_to_interface(s, cell, asio::ip::make_address("198.18.1.3"));
  CHECK(e.code == link_errc::interface_down);
  CHECK(e.text(field_key::address) == "198.18.1.3");
  CHECK(e.text(field_key::interface) == "cell0");
  CHECK(e.text(field_key::interface_kind) == "cellular");
  CHECK(e.text(field_key::problem) == "no_carrier");
  cell.admin_up = false;
  e = bind_to_interface(s, cell, asio::ip::make_address("198.18.1.3"));
  CHECK(e.code == link_errc::interface_down);
  CHECK(e.text(field_key::problem) == "administratively_down");
}

TEST_CASE("the policy is checked before the socket is touched", "[socket_binding]") {
  asio::io_context io;
  auto lo = loopback();
  interface_policy p;
  p.required.insert(lanyard::core::interface_kind::cellular);
  asio::ip::tcp::socket s(io);
  auto e = bind_to_interface(s, lo, asio::ip::make_address("127.0.0.1"), &p);
  CHECK(e.code == link_errc::policy_prohibits);
  CHECK(e.text(field_key::address) == "127.0.0.1");
  CHECK(e.text(field_key::interface) == "lo");
  CHECK(e.text(field_key::interface_kind) == "loopback");
  // The one golden sentence of a policy refusal (a person reads it).
  CHECK(e.detail == "not connecting to 127.0.0.1 via interface lo (loopback): the interface "
                    "policy requires cellular");
  CHECK_FALSE(s.is_open());

  bool called = false;
  async_connect_via(
      s, {asio::ip::make_address("127.0.0.1"), 9}, lo,
      [&](std::error_code ec, link_error d) {
        called = true;
        CHECK(ec == link_errc::policy_prohibits);
        CHECK(d.code == ec);
        CHECK(d.detail == e.detail); // bind_to_interface's error, fields and all
        CHECK(d.text(field_key::interface) == "lo");
        CHECK(d.text(field_key::interface_kind) == "loopback");
        CHECK(d.text(field_key::address) == "127.0.0.1");
      },
      &p);
  CHECK_FALSE(called);
  io.run();
  CHECK(called);
}

TEST_CASE("a socket of the other family is refused", "[socket_binding]") {
  asio::io_context io;
  asio::ip::tcp::socket s(io, asio::ip::tcp::v6());
  auto e = bind_to_interface(s, loopback(), asio::ip::make_address("127.0.0.1"));
  CHECK(e.code == link_errc::family_mismatch);
  CHECK(e.text(field_key::address) == "127.0.0.1");
  CHECK(e.text(field_key::interface) == "lo");
}

TEST_CASE("binding by name finds the interface, or says there is none", "[socket_binding]") {
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  auto lo = loopback();
  CHECK_FALSE(bind_to_interface(s, lo.name, asio::ip::make_address("127.0.0.1")));
  CHECK(s.local_endpoint().address().is_loopback());
  asio::ip::tcp::socket t(io);
  auto e = bind_to_interface(t, "nosuch0", asio::ip::make_address("198.18.1.3"));
  CHECK(e.code == link_errc::no_such_interface);
  CHECK(e.text(field_key::address) == "198.18.1.3");
  CHECK(e.text(field_key::interface) == "nosuch0");
  CHECK(e.find(field_key::interface_kind) == nullptr); // unknown: there is no such interface
}

TEST_CASE("a connection refused names the endpoint and the interface", "[socket_binding]") {
  asio::io_context io;
  // A port that was just free: bind an acceptor, note its port, close it.
  asio::ip::tcp::endpoint target;
  {
    asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
    target = a.local_endpoint();
  }
  asio::ip::tcp::socket s(io);
  std::error_code result;
  link_error detail;
  async_connect_via(s, target, loopback(), [&](std::error_code ec, link_error d) {
    result = ec;
    detail = std::move(d);
  });
  io.run();
  CHECK(result == asio::error::connection_refused);
  CHECK(detail.code == result);
  CHECK(detail.text(field_key::address) == "127.0.0.1");
  CHECK(detail.number(field_key::port) == target.port());
  CHECK(detail.text(field_key::interface) == "lo");
  CHECK(detail.text(field_key::interface_kind) == "loopback");
  CHECK(detail.text(field_key::step) == "tcp_connect");
  // The one golden sentence of a failed connect (a person reads it).
  CHECK(detail.detail == "connecting to 127.0.0.1 port " + std::to_string(target.port()) +
                             " via interface lo (loopback) failed: " + result.message());
}

TEST_CASE("link-local destinations get the interface as scope id", "[socket_binding]") {
  network_interface p2p;
  p2p.index = 5;
  auto e = scoped_endpoint({asio::ip::make_address("fe80::3"), 4711}, p2p);
  CHECK(e.address().to_v6().scope_id() == 5);
  auto g = scoped_endpoint({asio::ip::make_address("2001:2::3"), 4711}, p2p);
  CHECK(g.address().to_v6().scope_id() == 0);
}

// Per-operation cancellation: the caller's slot reaches the socket's connect. A listener with
// a full accept queue (backlog 0, nothing accepts) drops further SYNs, so a connect to it stays
// pending on loopback until it is cancelled.
TEST_CASE("async_connect_via: a cancellation bound to the handler cancels the pending connect",
          "[socket_binding][cancellation]") {
  using namespace std::chrono_literals;
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io);
  const asio::ip::tcp::endpoint local{asio::ip::make_address("127.0.0.1"), 0};
  acceptor.open(local.protocol());
  acceptor.bind(local);
  acceptor.listen(0);
  std::vector<std::unique_ptr<asio::ip::tcp::socket>> fillers;
  std::deque<bool> connected; // the fillers' handlers may run after the loop: stable addresses
  for (int i = 0; i < 8 && (connected.empty() || connected.back()); ++i) {
    fillers.push_back(std::make_unique<asio::ip::tcp::socket>(io));
    bool& c = connected.emplace_back(false);
    fillers.back()->async_connect(acceptor.local_endpoint(), [&c](std::error_code ec) {
      if (!ec) c = true;
    });
    io.restart();
    io.run_for(200ms);
  }
  REQUIRE_FALSE(connected.back()); // the queue is full: the last filler's SYN goes unanswered

  asio::ip::tcp::socket s(io);
  asio::cancellation_signal signal;
  std::optional<std::error_code> result;
  link_error detail;
  async_connect_via(
      s, acceptor.local_endpoint(), loopback(),
      asio::bind_cancellation_slot(signal.slot(), [&](std::error_code ec, link_error d) {
        result = ec;
        detail = std::move(d);
      }));
  io.restart();
  io.run_for(200ms);
  REQUIRE_FALSE(result); // still connecting
  signal.emit(asio::cancellation_type::terminal);
  for (int i = 0; i < 100 && !result; ++i) {
    io.restart();
    io.run_for(50ms);
  }
  REQUIRE(result);
  CHECK(*result == asio::error::operation_aborted);
  CHECK(detail.code == asio::error::operation_aborted);
  CHECK(detail.text(field_key::interface) == "lo"); // names the destination and the interface
  CHECK(detail.number(field_key::port) == acceptor.local_endpoint().port());
  for (auto& f : fillers)
    f->close();
}
