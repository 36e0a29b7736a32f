#include <lanyard/core/mdns_responder.hpp>

#include "mdns_avahi_captures.hpp"
#include "mdns_test_support.hpp"

#include <lanyard/core/mdns_message.hpp>
#include <lanyard/core/mdns_writer.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

using namespace lanyard::core;
using namespace std::chrono_literals;
using mdns_test::wire;
using tp = mdns_responder::time_point;

namespace {

tp at(std::chrono::milliseconds ms) {
  return tp{} + ms;
}

const std::vector<std::uint8_t> txt_v1 = {5, 'i', 'd', '=', '4', '2', 4, 's', 'f', '=', '1'};
const std::vector<std::uint8_t> txt_v2 = {5, 'i', 'd', '=', '4', '2', 4, 's', 'f', '=', '0'};
const mdns_address our_v4 = mdns_address::ipv4(198, 18, 0, 7);
const mdns_address our_v6 =
    mdns_address::ipv6({0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7});
constexpr std::uint32_t iface = 2;
const mdns_source querier{iface, mdns_address::ipv4(198, 18, 0, 20), 5353};
const mdns_source other_host{iface, mdns_address::ipv4(198, 18, 0, 30), 5353};

mdns_responder_config config() {
  mdns_responder_config c;
  c.host_name = "lamp";
  c.instance_name = "Lamp";
  c.service_type = "_lanyard._tcp";
  c.port = 8443;
  c.txt = txt_v1;
  c.random_seed = 7;
  return c;
}

// One record of a packet the responder sent, in words a test can compare.
struct record {
  std::string name;
  std::uint16_t type = 0;
  std::uint32_t ttl = 0;
  bool flush = false;
  dns_section section = dns_section::answer;
  std::string value; // PTR/SRV target, address, TXT bytes, NSEC types
};

struct question {
  std::string name;
  std::uint16_t type = 0;
  bool qu = false;
};

struct packet_seen {
  mdns_outgoing out;
  dns_header header;
  std::vector<question> questions;
  std::vector<record> records;

  std::vector<record> in(dns_section s) const {
    std::vector<record> r;
    std::copy_if(records.begin(), records.end(), std::back_inserter(r),
                 [&](const record& x) { return x.section == s; });
    return r;
  }
  const record* find(std::string_view name, std::uint16_t type,
                     dns_section s = dns_section::answer) const {
    for (const record& r : records) {
      if (r.name == name && r.type == type && r.section == s) return &r;
    }
    return nullptr;
  }
};

std::string value_of(const dns_record& r) {
  switch (r.type) {
  case dns_type::ptr: {
    dns_name n;
    REQUIRE_FALSE(r.as_ptr(n));
    return n.to_string();
  }
  case dns_type::srv: {
    dns_srv s;
    REQUIRE_FALSE(r.as_srv(s));
    return std::to_string(s.port) + " " + s.target.to_string();
  }
  case dns_type::a: {
    std::array<std::uint8_t, 4> a{};
    REQUIRE_FALSE(r.as_a(a));
    return std::to_string(a[0]) + "." + std::to_string(a[1]) + "." + std::to_string(a[2]) + "." +
           std::to_string(a[3]);
  }
  case dns_type::aaaa: {
    std::array<std::uint8_t, 16> a{};
    REQUIRE_FALSE(r.as_aaaa(a));
    return "v6:" + std::to_string(a[15]);
  }
  case dns_type::txt: {
    std::span<const std::uint8_t> t;
    REQUIRE_FALSE(r.as_txt(t));
    return std::string(t.begin(), t.end());
  }
  case dns_type::nsec: {
    dns_nsec n;
    REQUIRE_FALSE(r.as_nsec(n));
    std::string types;
    for (const auto& [t, name] :
         {std::pair{dns_type::a, "A"}, std::pair{dns_type::txt, "TXT"},
          std::pair{dns_type::aaaa, "AAAA"}, std::pair{dns_type::srv, "SRV"}}) {
      if (n.has_type(t)) types += types.empty() ? name : std::string(" ") + name;
    }
    return types;
  }
  }
  return {};
}

packet_seen parse(const mdns_outgoing& out, std::span<const std::byte> bytes) {
  packet_seen p;
  p.out = out;
  REQUIRE_FALSE(validate_dns_message(bytes));
  dns_reader reader(bytes);
  p.header = reader.header();
  dns_question q;
  while (reader.next(q))
    p.questions.push_back({q.name.to_string(), q.type, q.unicast_response});
  dns_record r;
  while (reader.next(r))
    p.records.push_back({r.name.to_string(), r.type, r.ttl, r.cache_flush, r.section, value_of(r)});
  return p;
}

// Everything the responder sends at `now`.
std::vector<packet_seen> drain(mdns_responder& responder, tp now) {
  std::vector<packet_seen> seen;
  responder.on_timer(now);
  std::array<std::byte, 1452> buffer{};
  for (int guard = 0; guard < 50; ++guard) {
    const std::optional<mdns_outgoing> out = responder.next_packet(now, buffer);
    if (!out) break;
    REQUIRE(out->size <= buffer.size());
    seen.push_back(parse(*out, std::span(buffer).first(out->size)));
  }
  return seen;
}

std::vector<mdns_event> events(mdns_responder& responder) {
  std::vector<mdns_event> e;
  while (auto event = responder.next_event())
    e.push_back(*event);
  return e;
}

// A DNS message built with dns_writer.
struct message {
  std::array<std::byte, 1500> buffer{};
  dns_writer writer;
  explicit message(std::uint16_t flags = 0, std::uint16_t id = 0) : writer(buffer, id, flags) {}
  message& q(std::string_view name, std::uint16_t type, bool qu = false) {
    REQUIRE_FALSE(writer.add_question(wire(name), type, qu));
    return *this;
  }
  message& a(dns_section s, std::string_view name, const mdns_address& address,
             std::uint32_t ttl = 120, bool flush = true) {
    REQUIRE_FALSE(writer.add_raw({s, wire(name), ttl, flush},
                                 address.v6 ? dns_type::aaaa : dns_type::a, address.data()));
    return *this;
  }
  message& ptr(dns_section s, std::string_view name, std::string_view target, std::uint32_t ttl) {
    REQUIRE_FALSE(writer.add_ptr({s, wire(name), ttl, false}, wire(target)));
    return *this;
  }
  message& srv(dns_section s, std::string_view name, std::uint16_t port, std::string_view target,
               std::uint32_t ttl = 120) {
    REQUIRE_FALSE(writer.add_srv({s, wire(name), ttl, true}, 0, 0, port, wire(target)));
    return *this;
  }
  message& txt(dns_section s, std::string_view name, const std::vector<std::uint8_t>& data,
               std::uint32_t ttl = 4500) {
    REQUIRE_FALSE(writer.add_raw({s, wire(name), ttl, true}, dns_type::txt, data));
    return *this;
  }
  std::span<const std::byte> bytes() const { return writer.bytes(); }
};

// A responder on interface 2 with both addresses, up at 0 ms.
struct harness {
  mdns_responder responder;
  tp first_probe{};

  explicit harness(const mdns_responder_config& c = config()) {
    REQUIRE_FALSE(responder.configure(c));
    const mdns_address addresses[] = {our_v4, our_v6};
    REQUIRE_FALSE(responder.interface_up(at(0ms), iface, addresses));
    first_probe = responder.next_deadline();
  }

  // Probes and announces; returns when the second announcement has gone out.
  tp announce() {
    for (int i = 0; i < 3; ++i)
      REQUIRE(drain(responder, first_probe + i * 250ms).size() == 1);
    REQUIRE(drain(responder, first_probe + 750ms).size() == 1);
    REQUIRE(drain(responder, first_probe + 1750ms).size() == 1);
    REQUIRE(responder.state() == mdns_state::announced);
    events(responder);
    return first_probe + 1750ms;
  }

  void feed(tp now, const mdns_source& from, std::span<const std::byte> bytes) {
    responder.on_packet(now, from, bytes);
  }
};

} // namespace

TEST_CASE("mdns_responder: configuration is checked", "[mdns][responder]") {
  mdns_responder r;
  const mdns_address addresses[] = {our_v4};
  CHECK(r.interface_up(at(0ms), 1, addresses) == mdns_errc::not_configured);
  CHECK(r.state() == mdns_state::idle);
  auto with = [](auto change) {
    mdns_responder_config c = config();
    change(c);
    mdns_responder x;
    return x.configure(c);
  };
  CHECK(with([](auto& c) { c.host_name = "lamp.local"; }) == mdns_errc::invalid_host_name);
  CHECK(with([](auto& c) { c.host_name = ""; }) == mdns_errc::invalid_host_name);
  const std::string long_label(64, 'x');
  CHECK(with([&](auto& c) { c.instance_name = long_label; }) == mdns_errc::invalid_instance_name);
  CHECK(with([](auto& c) { c.service_type = "_lanyard._sctp"; }) ==
        mdns_errc::invalid_service_type);
  CHECK(with([](auto& c) { c.service_type = "lanyard._tcp"; }) == mdns_errc::invalid_service_type);
  CHECK(with([](auto& c) { c.service_type = "_a-very-long-name._tcp"; }) ==
        mdns_errc::invalid_service_type);
  static const std::vector<std::uint8_t> big(mdns_limits::max_txt_size + 1, 1);
  CHECK(with([](auto& c) { c.txt = big; }) == mdns_errc::txt_too_large);
  static const std::vector<std::uint8_t> cut = {5, 'a', 'b'};
  CHECK(with([](auto& c) { c.txt = cut; }) == mdns_errc::invalid_txt);
  CHECK_FALSE(with([](auto& c) { c.instance_name = "Wohnzimmer Lampe (Küche).1"; }));

  REQUIRE_FALSE(r.configure(config()));
  const mdns_address five[] = {our_v4, our_v4, our_v4, our_v4, our_v4};
  CHECK(r.interface_up(at(0ms), 1, five) == mdns_errc::too_many_addresses);
  for (std::uint32_t i = 1; i <= mdns_limits::max_interfaces; ++i)
    CHECK_FALSE(r.interface_up(at(0ms), i, addresses));
  CHECK(r.interface_up(at(0ms), 99, addresses) == mdns_errc::too_many_interfaces);
}

TEST_CASE("mdns_responder: three probes 250 ms apart after a random 0-250 ms, then two "
          "announcements 1 s apart",
          "[mdns][responder]") {
  harness h;
  mdns_responder& r = h.responder;
  CHECK(r.state() == mdns_state::probing);
  const tp d = h.first_probe;
  REQUIRE(d >= at(0ms));
  REQUIRE(d <= at(250ms));
  if (d > at(0ms)) CHECK(drain(r, d - 1ms).empty());

  for (int i = 0; i < 3; ++i) {
    INFO("probe " << i + 1);
    const auto probes = drain(r, d + i * 250ms);
    REQUIRE(probes.size() == 1);
    const packet_seen& p = probes[0];
    CHECK(p.out.multicast);
    CHECK(p.out.interface == iface);
    CHECK_FALSE(p.header.is_response());
    REQUIRE(p.questions.size() == 2);
    CHECK(p.questions[0].name == "Lamp._lanyard._tcp.local.");
    CHECK(p.questions[0].type == dns_type::any);
    CHECK(p.questions[1].name == "lamp.local.");
    CHECK(p.questions[0].qu == (i == 0)); // the first probe asks for a unicast reply
    const auto authority = p.in(dns_section::authority);
    REQUIRE(authority.size() == 4);
    CHECK(p.find("Lamp._lanyard._tcp.local.", dns_type::srv, dns_section::authority)->value ==
          "8443 lamp.local.");
    CHECK(p.find("Lamp._lanyard._tcp.local.", dns_type::txt, dns_section::authority));
    CHECK(p.find("lamp.local.", dns_type::a, dns_section::authority)->value == "198.18.0.7");
    CHECK(p.find("lamp.local.", dns_type::aaaa, dns_section::authority)->value == "v6:7");
    CHECK(r.next_deadline() == d + (i + 1) * 250ms);
    CHECK(drain(r, d + (i + 1) * 250ms - 1ms).empty());
  }
  CHECK(r.state() == mdns_state::probing);

  const auto first = drain(r, d + 750ms);
  REQUIRE(first.size() == 1);
  CHECK(r.state() == mdns_state::announcing);
  const packet_seen& a = first[0];
  CHECK(a.out.multicast);
  CHECK(a.header.is_response());
  CHECK(a.header.flags == (dns_flag::response | dns_flag::authoritative));
  CHECK(a.questions.empty());
  REQUIRE(a.in(dns_section::answer).size() == 6);
  const record* ptr = a.find("_lanyard._tcp.local.", dns_type::ptr);
  REQUIRE(ptr);
  CHECK(ptr->value == "Lamp._lanyard._tcp.local.");
  CHECK(ptr->ttl == 4500);
  CHECK_FALSE(ptr->flush); // shared
  const record* enumeration = a.find("_services._dns-sd._udp.local.", dns_type::ptr);
  REQUIRE(enumeration);
  CHECK(enumeration->value == "_lanyard._tcp.local.");
  const record* srv = a.find("Lamp._lanyard._tcp.local.", dns_type::srv);
  REQUIRE(srv);
  CHECK(srv->ttl == 120);
  CHECK(srv->flush); // unique
  const record* txt = a.find("Lamp._lanyard._tcp.local.", dns_type::txt);
  REQUIRE(txt);
  CHECK(txt->ttl == 4500);
  CHECK(txt->flush);
  CHECK(txt->value == std::string(txt_v1.begin(), txt_v1.end()));
  CHECK(a.find("lamp.local.", dns_type::a)->flush);
  CHECK(a.find("lamp.local.", dns_type::aaaa)->ttl == 120);
  CHECK(events(r).empty());

  CHECK(r.next_deadline() == d + 1750ms);
  CHECK(drain(r, d + 1749ms).empty());
  const auto second = drain(r, d + 1750ms);
  REQUIRE(second.size() == 1);
  CHECK(second[0].in(dns_section::answer).size() == 6);
  CHECK(r.state() == mdns_state::announced);
  CHECK(r.announced_on(iface));
  const auto e = events(r);
  REQUIRE(e.size() == 1);
  CHECK(e[0].kind == mdns_event_kind::announced);
  CHECK(e[0].interface == iface);
  CHECK(r.next_deadline() == tp::max());
  CHECK(drain(r, d + 10s).empty());
}

TEST_CASE("mdns_responder: answers each query type with the right additional records",
          "[mdns][responder]") {
  harness h;
  const tp t = h.announce() + 2s; // past the once-a-second multicast limit
  mdns_responder& r = h.responder;

  SECTION("PTR: shared, so 20-120 ms later; SRV, TXT and addresses as additional records") {
    h.feed(t, querier, message().q("_lanyard._tcp.local", dns_type::ptr).bytes());
    const tp due = r.next_deadline();
    CHECK(due >= t + 20ms);
    CHECK(due <= t + 120ms);
    CHECK(drain(r, due - 1ms).empty());
    const auto sent = drain(r, due);
    REQUIRE(sent.size() == 1);
    const packet_seen& p = sent[0];
    CHECK(p.out.multicast);
    CHECK(p.header.id == 0);
    REQUIRE(p.in(dns_section::answer).size() == 1);
    CHECK(p.find("_lanyard._tcp.local.", dns_type::ptr)->value == "Lamp._lanyard._tcp.local.");
    const auto extra = p.in(dns_section::additional);
    CHECK(extra.size() == 4);
    CHECK(p.find("Lamp._lanyard._tcp.local.", dns_type::srv, dns_section::additional));
    CHECK(p.find("Lamp._lanyard._tcp.local.", dns_type::txt, dns_section::additional));
    CHECK(p.find("lamp.local.", dns_type::a, dns_section::additional));
    CHECK(p.find("lamp.local.", dns_type::aaaa, dns_section::additional));
  }
  SECTION("SRV: unique only, so at once; the addresses as additional records") {
    h.feed(t, querier, message().q("Fan._lanyard._tcp.local", dns_type::srv).bytes());
    CHECK(r.next_deadline() == tp::max()); // not our instance: nothing
    // Names compare ignoring ASCII case.
    h.feed(t, querier, message().q("LAMP._LANYARD._TCP.local", dns_type::srv).bytes());
    CHECK(r.next_deadline() == t);
    const auto sent = drain(r, t);
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].find("Lamp._lanyard._tcp.local.", dns_type::srv)->value == "8443 lamp.local.");
    CHECK(sent[0].in(dns_section::answer).size() == 1);
    CHECK(sent[0].in(dns_section::additional).size() == 2);
  }
  SECTION("TXT") {
    h.feed(t, querier, message().q("Lamp._lanyard._tcp.local", dns_type::txt).bytes());
    const auto sent = drain(r, t);
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].records.size() == 1);
    CHECK(sent[0].find("Lamp._lanyard._tcp.local.", dns_type::txt)->flush);
  }
  SECTION("A, with the AAAA record as additional record") {
    h.feed(t, querier, message().q("lamp.local", dns_type::a).bytes());
    const auto sent = drain(r, t);
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].find("lamp.local.", dns_type::a)->value == "198.18.0.7");
    CHECK(sent[0].find("lamp.local.", dns_type::aaaa, dns_section::additional));
    CHECK(sent[0].records.size() == 2);
  }
  SECTION("AAAA, with the A record as additional record") {
    h.feed(t, querier, message().q("lamp.local", dns_type::aaaa).bytes());
    const auto sent = drain(r, t);
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].find("lamp.local.", dns_type::aaaa)->value == "v6:7");
    CHECK(sent[0].find("lamp.local.", dns_type::a, dns_section::additional));
  }
  SECTION("service enumeration") {
    h.feed(t, querier, message().q("_services._dns-sd._udp.local", dns_type::ptr).bytes());
    const tp due = r.next_deadline();
    CHECK(due >= t + 20ms);
    const auto sent = drain(r, due);
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].records.size() == 1);
    CHECK(sent[0].find("_services._dns-sd._udp.local.", dns_type::ptr)->value ==
          "_lanyard._tcp.local.");
  }
  SECTION("a type we do not have: NSEC") {
    h.feed(t, querier, message().q("lamp.local", dns_type::txt).bytes());
    const auto sent = drain(r, t);
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].find("lamp.local.", dns_type::nsec)->value == "A AAAA");
  }
  SECTION("ANY for the instance: SRV and TXT") {
    h.feed(t, querier, message().q("Lamp._lanyard._tcp.local", dns_type::any).bytes());
    const auto sent = drain(r, t);
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].in(dns_section::answer).size() == 2);
  }
  SECTION("names of others: nothing") {
    h.feed(t, querier, message().q("_other._tcp.local", dns_type::ptr).bytes());
    h.feed(t, querier, message().q("printer.local", dns_type::a).bytes());
    CHECK(r.next_deadline() == tp::max());
    CHECK(drain(r, t + 1s).empty());
  }
  SECTION("a query within a second of the last multicast is not answered by multicast") {
    h.feed(t, querier, message().q("lamp.local", dns_type::a).bytes());
    REQUIRE(drain(r, t).size() == 1);
    h.feed(t + 500ms, querier, message().q("lamp.local", dns_type::a).bytes());
    CHECK(drain(r, t + 500ms).empty());
    h.feed(t + 1s, querier, message().q("lamp.local", dns_type::a).bytes());
    CHECK(drain(r, t + 1s).size() == 1);
  }
  SECTION("two PTR queries within the delay are answered once") {
    h.feed(t, querier, message().q("_lanyard._tcp.local", dns_type::ptr).bytes());
    h.feed(t + 10ms, other_host, message().q("_lanyard._tcp.local", dns_type::ptr).bytes());
    CHECK(drain(r, t + 200ms).size() == 1);
  }
}

TEST_CASE("mdns_responder: known-answer suppression at half our TTL", "[mdns][responder]") {
  harness h;
  const tp t = h.announce() + 2s;
  mdns_responder& r = h.responder;
  SECTION("known with 2250 s of 4500: not answered") {
    h.feed(t, querier,
           message()
               .q("_lanyard._tcp.local", dns_type::ptr)
               .ptr(dns_section::answer, "_lanyard._tcp.local", "Lamp._lanyard._tcp.local", 2250)
               .bytes());
    CHECK(r.next_deadline() == tp::max());
    CHECK(drain(r, t + 1s).empty());
  }
  SECTION("known with 2249 s: answered") {
    h.feed(t, querier,
           message()
               .q("_lanyard._tcp.local", dns_type::ptr)
               .ptr(dns_section::answer, "_lanyard._tcp.local", "Lamp._lanyard._tcp.local", 2249)
               .bytes());
    CHECK(drain(r, t + 200ms).size() == 1);
  }
  SECTION("a known answer for another instance does not suppress ours") {
    h.feed(t, querier,
           message()
               .q("_lanyard._tcp.local", dns_type::ptr)
               .ptr(dns_section::answer, "_lanyard._tcp.local", "Fan._lanyard._tcp.local", 4500)
               .bytes());
    CHECK(drain(r, t + 200ms).size() == 1);
  }
  SECTION("known additional records are left out too") {
    h.feed(t, querier,
           message()
               .q("Lamp._lanyard._tcp.local", dns_type::srv)
               .a(dns_section::answer, "lamp.local", our_v4, 120)
               .bytes());
    const auto sent = drain(r, t);
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].find("Lamp._lanyard._tcp.local.", dns_type::srv));
    CHECK_FALSE(sent[0].find("lamp.local.", dns_type::a, dns_section::additional));
    CHECK(sent[0].find("lamp.local.", dns_type::aaaa, dns_section::additional));
  }
  SECTION("TC: the answer waits 400-500 ms for more known answers from the same querier") {
    message first(dns_flag::truncated);
    first.q("_lanyard._tcp.local", dns_type::ptr);
    h.feed(t, querier, first.bytes());
    const tp due = r.next_deadline();
    CHECK(due >= t + 400ms);
    CHECK(due <= t + 500ms);
    message more;
    more.ptr(dns_section::answer, "_lanyard._tcp.local", "Lamp._lanyard._tcp.local", 4500);
    h.feed(t + 100ms, other_host, more.bytes()); // not from the querier: ignored
    CHECK(r.next_deadline() == due);
    h.feed(t + 100ms, querier, more.bytes());
    CHECK(drain(r, t + 600ms).empty());
  }
}

TEST_CASE("mdns_responder: QU questions get unicast replies, unless the record is due a "
          "multicast",
          "[mdns][responder]") {
  harness h;
  const tp announced = h.announce();
  mdns_responder& r = h.responder;
  SECTION("recently multicast: unicast to the querier") {
    const tp t = announced + 2s;
    h.feed(t, querier, message().q("Lamp._lanyard._tcp.local", dns_type::srv, true).bytes());
    const auto sent = drain(r, t);
    REQUIRE(sent.size() == 1);
    CHECK_FALSE(sent[0].out.multicast);
    CHECK(sent[0].out.destination == querier.address);
    CHECK(sent[0].out.port == 5353);
    CHECK(sent[0].out.interface == iface);
    CHECK(sent[0].find("Lamp._lanyard._tcp.local.", dns_type::srv)->flush);
  }
  SECTION("not multicast within a quarter of its TTL (30 s of 120): multicast") {
    const tp t = announced + 31s;
    h.feed(t, querier, message().q("Lamp._lanyard._tcp.local", dns_type::srv, true).bytes());
    const auto sent = drain(r, t);
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].out.multicast);
  }
}

TEST_CASE("mdns_responder: legacy unicast queries get a DNS reply", "[mdns][responder]") {
  harness h;
  const tp t = h.announce() + 100ms; // no once-a-second limit for unicast replies
  mdns_responder& r = h.responder;
  const mdns_source resolver{iface, mdns_address::ipv4(198, 18, 0, 40), 40000};
  h.feed(t, resolver, message(0, 0xBEEF).q("lamp.local", dns_type::a).bytes());
  const auto sent = drain(r, t);
  REQUIRE(sent.size() == 1);
  const packet_seen& p = sent[0];
  CHECK_FALSE(p.out.multicast);
  CHECK(p.out.destination == resolver.address);
  CHECK(p.out.port == 40000);
  CHECK(p.header.id == 0xBEEF);
  CHECK(p.header.is_response());
  REQUIRE(p.questions.size() == 1);
  CHECK(p.questions[0].name == "lamp.local.");
  CHECK(p.questions[0].type == dns_type::a);
  const record* a = p.find("lamp.local.", dns_type::a);
  REQUIRE(a);
  CHECK(a->ttl == 10);
  CHECK_FALSE(a->flush);
  for (const record& x : p.records) {
    CHECK(x.ttl <= 10);
    CHECK_FALSE(x.flush);
  }
  // A response from a port other than 5353 is no mDNS response (section 11): ignored.
  message reply(dns_flag::response);
  reply.a(dns_section::answer, "lamp.local", mdns_address::ipv4(198, 18, 0, 99));
  h.feed(t, resolver, reply.bytes());
  CHECK(r.state() == mdns_state::announced);
}

TEST_CASE("mdns_responder: simultaneous probes, tie-break both ways (section 8.2)",
          "[mdns][responder]") {
  harness h;
  mdns_responder& r = h.responder;
  const tp d = h.first_probe;
  REQUIRE(drain(r, d).size() == 1);
  const tp t = d + 100ms;

  SECTION("their A record is later than ours: they win, we probe again 1 s later") {
    message probe;
    probe.q("lamp.local", dns_type::any, true)
        .a(dns_section::authority, "lamp.local", mdns_address::ipv4(198, 18, 0, 99), 120, false);
    h.feed(t, other_host, probe.bytes());
    const auto e = events(r);
    REQUIRE(e.size() == 1);
    CHECK(e[0].kind == mdns_event_kind::probe_deferred);
    CHECK(r.next_deadline() == t + 1s);
    CHECK(drain(r, t + 999ms).empty());
    const auto again = drain(r, t + 1s);
    REQUIRE(again.size() == 1);
    CHECK(again[0].questions[0].qu); // a new sequence starts with QU
    CHECK(r.host_name() == "lamp");  // no rename: the other host keeps the name if it wins
  }
  SECTION("their A record is earlier than ours: we win and carry on") {
    message probe;
    probe.q("lamp.local", dns_type::any, true)
        .a(dns_section::authority, "lamp.local", mdns_address::ipv4(198, 18, 0, 1), 120, false);
    h.feed(t, other_host, probe.bytes());
    CHECK(events(r).empty());
    CHECK(r.next_deadline() == d + 250ms);
    REQUIRE(drain(r, d + 250ms).size() == 1);
    REQUIRE(drain(r, d + 500ms).size() == 1);
    REQUIRE(drain(r, d + 750ms).size() == 1);
    CHECK(r.state() == mdns_state::announcing);
  }
  SECTION("for the instance: SRV data decides after TXT") {
    // Ours: TXT, SRV (port 8443 = 0x20FB). Theirs: the same TXT, SRV with port 9000 (0x2328).
    message probe;
    probe.q("Lamp._lanyard._tcp.local", dns_type::any, true)
        .srv(dns_section::authority, "Lamp._lanyard._tcp.local", 9000, "lamp.local")
        .txt(dns_section::authority, "Lamp._lanyard._tcp.local", txt_v1);
    h.feed(t, other_host, probe.bytes());
    const auto e = events(r);
    REQUIRE(e.size() == 1);
    CHECK(e[0].kind == mdns_event_kind::probe_deferred);
  }
  SECTION("our own probe, looped back, is no tie-break") {
    std::array<std::byte, 1452> buffer{};
    mdns_responder twin; // same seed and names: writes the very same probe
    REQUIRE_FALSE(twin.configure(config()));
    const mdns_address addresses[] = {our_v4, our_v6};
    REQUIRE_FALSE(twin.interface_up(at(0ms), iface, addresses));
    const auto out = twin.next_packet(d, buffer);
    REQUIRE(out);
    h.feed(t, other_host, std::span(buffer).first(out->size));
    CHECK(events(r).empty());
    CHECK(r.next_deadline() == d + 250ms);
  }
}

TEST_CASE("mdns_responder: a conflict while probing renames and probes again",
          "[mdns][responder]") {
  harness h;
  mdns_responder& r = h.responder;
  const tp d = h.first_probe;
  REQUIRE(drain(r, d).size() == 1);
  const tp t = d + 50ms;

  SECTION("the host name") {
    message reply(dns_flag::response | dns_flag::authoritative);
    reply.a(dns_section::answer, "lamp.local", mdns_address::ipv4(198, 18, 0, 99));
    h.feed(t, other_host, reply.bytes());
    const auto e = events(r);
    REQUIRE(e.size() == 1);
    CHECK(e[0].kind == mdns_event_kind::host_renamed);
    CHECK(r.host_name() == "lamp-2");
    CHECK(r.instance_name() == "Lamp");
    CHECK(r.state() == mdns_state::probing);
    const tp again = r.next_deadline();
    CHECK(again >= t);
    CHECK(again <= t + 250ms);
    const auto probes = drain(r, again);
    REQUIRE(probes.size() == 1);
    CHECK(probes[0].questions[1].name == "lamp-2.local.");
    CHECK(
        probes[0].find("Lamp._lanyard._tcp.local.", dns_type::srv, dns_section::authority)->value ==
        "8443 lamp-2.local.");
    // And once more: lamp-3.
    h.feed(again + 10ms, other_host,
           message(dns_flag::response)
               .a(dns_section::answer, "lamp-2.local", mdns_address::ipv4(198, 18, 0, 98))
               .bytes());
    CHECK(r.host_name() == "lamp-3");
  }
  SECTION("the instance name") {
    message reply(dns_flag::response | dns_flag::authoritative);
    reply.srv(dns_section::answer, "Lamp._lanyard._tcp.local", 80, "printer.local");
    h.feed(t, other_host, reply.bytes());
    CHECK(r.instance_name() == "Lamp (2)");
    CHECK(r.host_name() == "lamp");
    const auto e = events(r);
    REQUIRE(e.size() == 1);
    CHECK(e[0].kind == mdns_event_kind::instance_renamed);
    const auto probes = drain(r, r.next_deadline());
    REQUIRE(probes.size() == 1);
    CHECK(probes[0].questions[0].name == "Lamp (2)._lanyard._tcp.local.");
    // Probing then announcing completes under the new name.
    const tp p1 = r.next_deadline() - 250ms;
    REQUIRE(drain(r, p1 + 250ms).size() == 1);
    REQUIRE(drain(r, p1 + 500ms).size() == 1);
    const auto announcement = drain(r, p1 + 750ms);
    REQUIRE(announcement.size() == 1);
    CHECK(announcement[0].find("_lanyard._tcp.local.", dns_type::ptr)->value ==
          "Lamp (2)._lanyard._tcp.local.");
  }
  SECTION("an identical record (ours, from another link) is no conflict") {
    message reply(dns_flag::response | dns_flag::authoritative);
    reply.a(dns_section::answer, "lamp.local", our_v4);
    h.feed(t, other_host, reply.bytes());
    CHECK(events(r).empty());
    CHECK(r.host_name() == "lamp");
  }
  SECTION("a suffix in the configured name is counted on") {
    mdns_responder_config c = config();
    c.instance_name = "Lamp (7)";
    c.host_name = "lamp-7";
    harness h7(c);
    REQUIRE(drain(h7.responder, h7.first_probe).size() == 1);
    h7.feed(h7.first_probe + 10ms, other_host,
            message(dns_flag::response)
                .srv(dns_section::answer, "Lamp (7)._lanyard._tcp.local", 80, "x.local")
                .a(dns_section::answer, "lamp-7.local", mdns_address::ipv4(198, 18, 0, 99))
                .bytes());
    CHECK(h7.responder.instance_name() == "Lamp (8)");
    CHECK(h7.responder.host_name() == "lamp-8");
  }
}

TEST_CASE("mdns_responder: 15 conflicts within 10 s hold the next probe for 5 s",
          "[mdns][responder]") {
  harness h;
  mdns_responder& r = h.responder;
  tp t = h.first_probe;
  bool limited = false;
  for (int i = 0; i < 15; ++i) {
    t += 100ms;
    const std::string host = i == 0 ? "lamp" : "lamp-" + std::to_string(i + 1);
    h.feed(t, other_host,
           message(dns_flag::response)
               .a(dns_section::answer, host + ".local", mdns_address::ipv4(198, 18, 0, 99))
               .bytes());
    for (const mdns_event& e : events(r))
      limited = limited || e.kind == mdns_event_kind::rate_limited;
    INFO("conflict " << i + 1);
    CHECK(limited == (i == 14));
    CHECK(r.host_name() == "lamp-" + std::to_string(i + 2));
  }
  // 15 conflicts in 1.5 s: the next probe waits 5 s from the last one.
  CHECK(r.next_deadline() == t + 5s);
  CHECK(drain(r, t + 4999ms).empty());
  CHECK(drain(r, t + 5s).size() == 1);
}

TEST_CASE("mdns_responder: a conflict after announcing sends it back to probing (section 9)",
          "[mdns][responder]") {
  harness h;
  const tp t = h.announce() + 10s;
  mdns_responder& r = h.responder;
  SECTION("another SRV for our instance") {
    h.feed(t, other_host,
           message(dns_flag::response)
               .srv(dns_section::answer, "Lamp._lanyard._tcp.local", 80, "printer.local")
               .bytes());
    const auto e = events(r);
    REQUIRE(e.size() == 1);
    CHECK(e[0].kind == mdns_event_kind::conflict);
    CHECK(e[0].interface == iface);
    CHECK(r.state() == mdns_state::probing);
    CHECK(r.instance_name() == "Lamp"); // probing again decides
    // The other host answers our new probe: now we rename.
    const auto probes = drain(r, r.next_deadline());
    REQUIRE(probes.size() == 1);
    h.feed(r.next_deadline() - 100ms, other_host,
           message(dns_flag::response)
               .srv(dns_section::answer, "Lamp._lanyard._tcp.local", 80, "printer.local")
               .bytes());
    CHECK(r.instance_name() == "Lamp (2)");
  }
  SECTION("our own records, looped back, are no conflict") {
    h.feed(t, other_host,
           message(dns_flag::response)
               .srv(dns_section::answer, "Lamp._lanyard._tcp.local", 8443, "lamp.local")
               .txt(dns_section::answer, "Lamp._lanyard._tcp.local", txt_v1)
               .a(dns_section::answer, "lamp.local", our_v4)
               .a(dns_section::answer, "lamp.local", our_v6)
               .bytes());
    CHECK(events(r).empty());
    CHECK(r.state() == mdns_state::announced);
  }
  SECTION("a goodbye from another host for our name is no conflict") {
    h.feed(t, other_host,
           message(dns_flag::response)
               .a(dns_section::answer, "lamp.local", mdns_address::ipv4(198, 18, 0, 99), 0)
               .bytes());
    CHECK(r.state() == mdns_state::announced);
  }
  SECTION("another type under our name is no conflict once announced") {
    h.feed(t, other_host,
           message(dns_flag::response).txt(dns_section::answer, "lamp.local", txt_v1).bytes());
    CHECK(r.state() == mdns_state::announced);
  }
}

TEST_CASE("mdns_responder: goodbyes on stop, and for a removed address", "[mdns][responder]") {
  harness h;
  const tp t = h.announce() + 5s;
  mdns_responder& r = h.responder;
  SECTION("stop") {
    r.stop(t);
    CHECK(r.state() == mdns_state::stopped);
    CHECK(r.next_deadline() <= t);
    const auto sent = drain(r, t);
    REQUIRE(sent.size() == 1);
    const packet_seen& p = sent[0];
    CHECK(p.out.multicast);
    CHECK(p.records.size() == 5); // PTR, SRV, TXT, A, AAAA: not the shared enumeration PTR
    for (const record& x : p.records)
      CHECK(x.ttl == 0);
    CHECK(p.find("_lanyard._tcp.local.", dns_type::ptr));
    CHECK_FALSE(p.find("_services._dns-sd._udp.local.", dns_type::ptr));
    CHECK(r.next_deadline() == tp::max());
    CHECK(drain(r, t + 10s).empty());
    // Stopped: queries are not answered, nothing is accepted.
    h.feed(t + 11s, querier, message().q("lamp.local", dns_type::a).bytes());
    CHECK(drain(r, t + 11s).empty());
    CHECK(r.set_txt(t, txt_v2) == mdns_errc::stopped);
  }
  SECTION("a removed address") {
    const mdns_address only_v4[] = {our_v4};
    REQUIRE_FALSE(r.set_addresses(t, iface, only_v4));
    const auto sent = drain(r, t);
    REQUIRE(sent.size() == 1);
    REQUIRE(sent[0].records.size() == 1);
    CHECK(sent[0].records[0].type == dns_type::aaaa);
    CHECK(sent[0].records[0].ttl == 0);
    // Then an AAAA query gets an NSEC: there is none on this interface now.
    h.feed(t + 2s, querier, message().q("lamp.local", dns_type::aaaa).bytes());
    const auto answer = drain(r, t + 2s);
    REQUIRE(answer.size() == 1);
    CHECK(answer[0].find("lamp.local.", dns_type::nsec)->value == "A");
  }
  SECTION("a new address is announced") {
    const mdns_address three[] = {our_v4, our_v6, mdns_address::ipv4(198, 18, 1, 7)};
    REQUIRE_FALSE(r.set_addresses(t, iface, three));
    const auto first = drain(r, t);
    REQUIRE(first.size() == 1);
    CHECK(first[0].records.size() == 3);
    CHECK(drain(r, t + 1s).size() == 1);
    CHECK(drain(r, t + 3s).empty());
  }
  SECTION("an address removed between two announcements is not announced again") {
    // (Found by mdns_responder_fuzz: the announcement kept the removed address's slot.)
    const mdns_address three[] = {our_v4, our_v6, mdns_address::ipv4(198, 18, 1, 7)};
    REQUIRE_FALSE(r.set_addresses(t, iface, three));
    REQUIRE(drain(r, t).size() == 1);
    const mdns_address only_v4[] = {our_v4};
    REQUIRE_FALSE(r.set_addresses(t + 500ms, iface, only_v4));
    const auto goodbye = drain(r, t + 500ms);
    REQUIRE(goodbye.size() == 1);
    CHECK(goodbye[0].records.size() == 2);
    const auto second = drain(r, t + 1s);
    REQUIRE(second.size() == 1);
    for (const record& x : second[0].records) {
      CHECK(x.type == dns_type::a);
      CHECK(x.value == "198.18.0.7");
    }
  }
  SECTION("an interface that never announced sends no goodbye") {
    const mdns_address addresses[] = {our_v4};
    REQUIRE_FALSE(r.interface_up(t, 3, addresses));
    r.stop(t);
    const auto sent = drain(r, t);
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].out.interface == iface);
  }
}

TEST_CASE("mdns_responder: a TXT update is announced twice, 1 s apart", "[mdns][responder]") {
  harness h;
  const tp t = h.announce() + 300ms; // inside the once-a-second limit: a new record is not held
  mdns_responder& r = h.responder;
  REQUIRE_FALSE(r.set_txt(t, txt_v2));
  CHECK(r.state() == mdns_state::announcing);
  const auto first = drain(r, t);
  REQUIRE(first.size() == 1);
  REQUIRE(first[0].records.size() == 1);
  const record& txt = first[0].records[0];
  CHECK(txt.type == dns_type::txt);
  CHECK(txt.flush);
  CHECK(txt.value == std::string(txt_v2.begin(), txt_v2.end()));
  CHECK(r.next_deadline() == t + 1s);
  const auto second = drain(r, t + 1s);
  REQUIRE(second.size() == 1);
  CHECK(second[0].records[0].value == std::string(txt_v2.begin(), txt_v2.end()));
  CHECK(r.state() == mdns_state::announced);
  CHECK(drain(r, t + 5s).empty());
  // Queries see the new TXT.
  h.feed(t + 5s, querier, message().q("Lamp._lanyard._tcp.local", dns_type::txt).bytes());
  const auto answer = drain(r, t + 5s);
  REQUIRE(answer.size() == 1);
  CHECK(answer[0].records[0].value == std::string(txt_v2.begin(), txt_v2.end()));
  CHECK(r.set_txt(t, std::vector<std::uint8_t>{9, 'x'}) == mdns_errc::invalid_txt);
}

TEST_CASE("mdns_responder: another responder's identical answer suppresses ours (section 7.4)",
          "[mdns][responder]") {
  harness h;
  const tp t = h.announce() + 2s;
  mdns_responder& r = h.responder;
  h.feed(t, querier, message().q("_lanyard._tcp.local", dns_type::ptr).bytes());
  REQUIRE(r.next_deadline() > t);
  h.feed(t + 5ms, other_host,
         message(dns_flag::response)
             .ptr(dns_section::answer, "_lanyard._tcp.local", "Lamp._lanyard._tcp.local", 4500)
             .bytes());
  CHECK(drain(r, t + 200ms).empty());
}

TEST_CASE("mdns_responder: nothing is answered while probing, malformed packets are ignored",
          "[mdns][responder]") {
  harness h;
  mdns_responder& r = h.responder;
  REQUIRE(drain(r, h.first_probe).size() == 1);
  h.feed(h.first_probe + 10ms, querier, message().q("lamp.local", dns_type::a).bytes());
  CHECK(r.next_deadline() == h.first_probe + 250ms);
  const std::byte junk[] = {std::byte{0}, std::byte{0}, std::byte{0x84}, std::byte{0}, std::byte{0},
                            std::byte{0}, std::byte{0}, std::byte{1},    std::byte{0}, std::byte{0},
                            std::byte{0}, std::byte{0}, std::byte{0xC0}, std::byte{12}};
  h.feed(h.first_probe + 20ms, other_host, junk);
  CHECK(events(r).empty());
  CHECK(r.host_name() == "lamp");
  // A packet on an interface that is not up is not ours to read.
  h.feed(h.first_probe + 30ms, {7, other_host.address, 5353},
         message(dns_flag::response)
             .a(dns_section::answer, "lamp.local", mdns_address::ipv4(198, 18, 0, 99))
             .bytes());
  CHECK(r.host_name() == "lamp");
  // Interface down: forgotten, nothing more on it.
  r.interface_down(h.first_probe + 40ms, iface);
  CHECK(r.state() == mdns_state::idle);
  CHECK(drain(r, h.first_probe + 1s).empty());
  CHECK(r.next_deadline() == tp::max());
}

TEST_CASE("mdns_responder against avahi-daemon's own packets", "[mdns][responder][avahi]") {
  // Our names are the ones the captured avahi-daemon holds.
  mdns_responder_config c = config();
  c.instance_name = "Avahi Lamp";
  c.host_name = "avahilamp";
  harness h(c);
  mdns_responder& r = h.responder;
  REQUIRE(drain(r, h.first_probe).size() == 1);
  const mdns_source avahi{iface, mdns_address::ipv4(198, 18, 0, 1), 5353};
  const auto bytes = [](const auto& a) {
    return std::span<const std::byte>(reinterpret_cast<const std::byte*>(a), sizeof a);
  };
  SECTION("its announcement while we probe: both names are taken") {
    // Its SRV is the same as ours here, its TXT ("sf=1") and A (198.18.0.1) are not.
    mdns_responder_config c2 = c;
    c2.txt = txt_v2;
    harness h2(c2);
    REQUIRE(drain(h2.responder, h2.first_probe).size() == 1);
    h2.feed(h2.first_probe + 50ms, avahi, bytes(mdns_test::avahi_announcement));
    CHECK(h2.responder.instance_name() == "Avahi Lamp (2)");
    CHECK(h2.responder.host_name() == "avahilamp-2");
  }
  SECTION("its announcement with our very SRV and TXT: only the host name is taken") {
    h.feed(h.first_probe + 50ms, avahi, bytes(mdns_test::avahi_announcement));
    CHECK(r.instance_name() == "Avahi Lamp");
    CHECK(r.host_name() == "avahilamp-2");
  }
  SECTION("its simultaneous probe wins: its SRV target sorts after ours") {
    // Same TXT and port; its SRV target "avahilamp.local" (a 9-byte first label) sorts after
    // ours, "lamp.local" (4 bytes): we lose and probe again later.
    mdns_responder_config c2 = config();
    c2.instance_name = "Avahi Lamp";
    harness h2(c2);
    REQUIRE(drain(h2.responder, h2.first_probe).size() == 1);
    h2.feed(h2.first_probe + 50ms, avahi, bytes(mdns_test::avahi_service_probe));
    const auto e = events(h2.responder);
    REQUIRE(e.size() == 1);
    CHECK(e[0].kind == mdns_event_kind::probe_deferred);
  }
  SECTION("its probe with records identical to ours is no tie-break") {
    h.feed(h.first_probe + 50ms, avahi, bytes(mdns_test::avahi_service_probe));
    CHECK(events(r).empty());
  }
}
