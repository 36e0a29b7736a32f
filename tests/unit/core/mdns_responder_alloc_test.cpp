// The responder allocates nothing once it exists: every operator new in this executable is
// counted, and the count must not move across configure(), interface changes, queries,
// conflicts, renames, TXT updates, goodbyes and every packet written.
#include <lanyard/core/mdns_responder.hpp>

#include <lanyard/core/mdns_writer.hpp>

#include <catch2/catch.hpp>

#include "support/counting_new.hpp"

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

using lanyard::test::alloc_count::allocations;
using lanyard::test::alloc_count::counting;

using namespace lanyard::core;
using namespace std::chrono_literals;

TEST_CASE("mdns_responder allocates nothing", "[mdns][responder]") {
  counting = true; // every operator new from here on: the checks compare counts
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
