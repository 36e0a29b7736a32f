// The responder allocates nothing once it exists: every operator new in this executable is
// counted, and the count must not move across configure(), interface changes, queries,
// conflicts, renames, TXT updates, goodbyes and every packet written.
#include <lanyard/core/mdns_responder.hpp>

#include <lanyard/core/mdns_writer.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace {
std::size_t allocations = 0;
}

void* operator new(std::size_t size) {
  ++allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  std::abort();
}
void* operator new[](std::size_t size) {
  return ::operator new(size);
}
// The nothrow forms too (Catch allocates with them): every new is this file's, so every delete
// below frees what malloc gave (ASan checks that new and delete match).
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  ++allocations;
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept {
  return ::operator new(size, tag);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}

using namespace lanyard::core;
using namespace std::chrono_literals;

TEST_CASE("mdns_responder allocates nothing", "[mdns][responder]") {
  static const std::uint8_t txt_a[] = {5, 'i', 'd', '=', '4', '2'};
  static const std::uint8_t txt_b[] = {5, 'i', 'd', '=', '4', '3'};
  const mdns_address v4 = mdns_address::ipv4(198, 18, 0, 7);
  const mdns_address v6 =
      mdns_address::ipv6({0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7});
  const mdns_address both[] = {v4, v6};
  const mdns_address only_v4[] = {v4};

  // Packets to feed, built before counting starts.
  static std::array<std::byte, 512> query_buffer{};
  dns_writer query(query_buffer);
  dns_wire_name service;
  REQUIRE(service.push_dotted("_lanyard._tcp.local"));
  dns_wire_name host;
  REQUIRE(host.push_dotted("lamp.local"));
  REQUIRE_FALSE(query.add_question(service.wire(), dns_type::ptr));
  REQUIRE_FALSE(query.add_question(host.wire(), dns_type::any, true));
  static std::array<std::byte, 512> conflict_buffer{};
  dns_writer conflict(conflict_buffer, 0, dns_flag::response);
  const std::uint8_t other[] = {198, 18, 0, 99};
  REQUIRE_FALSE(
      conflict.add_raw({dns_section::answer, host.wire(), 120, true}, dns_type::a, other));

  static mdns_responder responder; // static storage, as firmware would place it
  static std::array<std::byte, 1452> buffer{};
  mdns_responder_config config;
  config.host_name = "lamp";
  config.instance_name = "Lamp";
  config.port = 8443;
  config.txt = txt_a;
  config.random_seed = 3;
  const mdns_source querier{1, mdns_address::ipv4(198, 18, 0, 20), mdns_port};
  const mdns_source resolver{1, mdns_address::ipv4(198, 18, 0, 20), 40000};

  const std::size_t before = allocations;
  bool ok = !responder.configure(config) && !responder.interface_up({}, 1, both);
  std::size_t packets = 0;
  for (auto t = 0ms; t < 20s; t += 10ms) {
    const mdns_responder::time_point now{t};
    if (t == 3s) responder.on_packet(now, querier, query.bytes());
    if (t == 4s) responder.on_packet(now, resolver, query.bytes());
    if (t == 5s) ok = ok && !responder.set_txt(now, txt_b);
    if (t == 7s) ok = ok && !responder.set_addresses(now, 1, only_v4);
    if (t == 9s) responder.on_packet(now, querier, conflict.bytes());     // conflict: re-probe
    if (t == 9100ms) responder.on_packet(now, querier, conflict.bytes()); // probing: rename
    if (t == 15s) responder.stop(now);
    responder.on_timer(now);
    while (const auto out = responder.next_packet(now, buffer))
      ++packets;
    while (responder.next_event()) {
    }
  }
  const std::size_t after = allocations;
  CHECK(ok);
  CHECK(after == before);
  CHECK(packets > 10);
  CHECK(responder.host_name() == "lamp-2");
}
