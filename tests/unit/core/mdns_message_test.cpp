#include <lanyard/core/mdns_message.hpp>

#include "mdns_avahi_captures.hpp"
#include "mdns_test_support.hpp"

#include <lanyard/core/error_condition.hpp>
#include <lanyard/core/txt_record.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

using namespace lanyard::core;
using mdns_test::packet;

namespace {

// Reads every question and record; returns the reader's error.
std::error_code read_all(std::span<const std::byte> message, std::size_t* records = nullptr) {
  dns_reader reader(message);
  dns_question q;
  while (reader.next(q)) {
  }
  dns_record r;
  std::size_t count = 0;
  while (reader.next(r))
    ++count;
  if (records) *records = count;
  return reader.error();
}

// A message whose only question has the name built by `name_bytes` (type A, class IN).
packet query_with_name(const packet& name_bytes) {
  packet p;
  p.header(0, 0, 1, 0, 0, 0);
  p.bytes.insert(p.bytes.end(), name_bytes.bytes.begin(), name_bytes.bytes.end());
  p.u16(dns_type::a).u16(dns_class_in);
  return p;
}

} // namespace

// --- error category ---------------------------------------------------------------------------

TEST_CASE("mdns_errc: category lanyard.mdns, names and conditions of every code", "[mdns]") {
  const std::error_code ec = mdns_errc::compression_loop;
  CHECK(ec.category() == mdns_category());
  CHECK(std::string_view(mdns_category().name()) == "lanyard.mdns");
  CHECK(code_string(ec) == "lanyard.mdns.compression_loop");
  struct row {
    mdns_errc code;
    const char* name;
    bool violation;
  };
  constexpr row rows[] = {
      {mdns_errc::header_truncated, "header_truncated", true},
      {mdns_errc::record_truncated, "record_truncated", true},
      {mdns_errc::name_truncated, "name_truncated", true},
      {mdns_errc::label_too_long, "label_too_long", true},
      {mdns_errc::name_too_long, "name_too_long", true},
      {mdns_errc::pointer_out_of_range, "pointer_out_of_range", true},
      {mdns_errc::compression_loop, "compression_loop", true},
      {mdns_errc::bad_rdata, "bad_rdata", true},
      {mdns_errc::wrong_type, "wrong_type", false},
      {mdns_errc::no_space, "no_space", false},
      {mdns_errc::invalid_name, "invalid_name", false},
      {mdns_errc::section_order, "section_order", false},
      {mdns_errc::invalid_host_name, "invalid_host_name", false},
      {mdns_errc::invalid_instance_name, "invalid_instance_name", false},
      {mdns_errc::invalid_service_type, "invalid_service_type", false},
      {mdns_errc::txt_too_large, "txt_too_large", false},
      {mdns_errc::invalid_txt, "invalid_txt", false},
      {mdns_errc::too_many_interfaces, "too_many_interfaces", false},
      {mdns_errc::too_many_addresses, "too_many_addresses", false},
      {mdns_errc::stopped, "stopped", false},
      {mdns_errc::not_configured, "not_configured", false},
  };
  for (const row& r : rows) {
    const std::error_code code = r.code;
    INFO(r.name);
    CHECK(code_string(code) == std::string("lanyard.mdns.") + r.name);
    CHECK(code == condition::permanent);
    CHECK(code != condition::transient);
    CHECK((code == condition::protocol_violation) == r.violation);
    CHECK(code.message().find("unknown") == std::string::npos);
  }
}

// --- names ------------------------------------------------------------------------------------

TEST_CASE("dns_wire_name builds names label by label, within DNS limits", "[mdns]") {
  dns_wire_name n;
  CHECK(n.wire().size() == 1);
  CHECK(n.label_count() == 0);
  REQUIRE(n.push_label("Lamp (2).x"));
  REQUIRE(n.push_dotted("_lanyard._tcp.local."));
  CHECK(n.label_count() == 4);
  CHECK(n.first_label() == "Lamp (2).x");
  const std::vector<std::uint8_t> expected = [] {
    std::vector<std::uint8_t> v{10};
    for (char c : std::string_view("Lamp (2).x"))
      v.push_back(static_cast<std::uint8_t>(c));
    const auto rest = mdns_test::wire("_lanyard._tcp.local");
    v.insert(v.end(), rest.begin(), rest.end());
    return v;
  }();
  CHECK(std::vector<std::uint8_t>(n.wire().begin(), n.wire().end()) == expected);
  CHECK(is_valid_wire_name(n.wire()));

  // Limits: labels of 1-63 bytes, names of at most 255 bytes; a failed push changes nothing.
  dns_wire_name m;
  CHECK_FALSE(m.push_label(""));
  CHECK_FALSE(m.push_label(std::string(64, 'a')));
  CHECK(m.push_label(std::string(63, 'a')));
  CHECK(m.push_label(std::string(63, 'b')));
  CHECK(m.push_label(std::string(63, 'c')));
  CHECK(m.wire().size() == 193);
  CHECK_FALSE(m.push_label(std::string(62, 'd'))); // 193 + 63 = 256
  CHECK(m.push_label(std::string(61, 'd')));       // exactly 255
  CHECK(m.wire().size() == 255);
  CHECK_FALSE(m.push_label("e"));
  dns_wire_name d;
  CHECK_FALSE(d.push_dotted("a..b"));
  CHECK(d.wire().size() == 1);

  dns_wire_name upper;
  REQUIRE(upper.push_dotted("LAMP.Local"));
  dns_wire_name lower;
  REQUIRE(lower.push_dotted("lamp.local"));
  CHECK(upper.equals(lower));
  CHECK_FALSE(upper == lower);

  CHECK_FALSE(is_valid_wire_name({}));
  const std::uint8_t no_root[] = {1, 'a'};
  CHECK_FALSE(is_valid_wire_name(no_root));
  const std::uint8_t trailing[] = {1, 'a', 0, 0};
  CHECK_FALSE(is_valid_wire_name(trailing));
  const std::uint8_t pointer[] = {0xC0, 12};
  CHECK_FALSE(is_valid_wire_name(pointer));
}

// --- well-formed messages ---------------------------------------------------------------------

TEST_CASE("dns_reader reads a probe: questions with the QU bit, authority records", "[mdns]") {
  packet p;
  p.header(0, 0, 1, 0, 1, 0);
  p.name("lamp.local").u16(dns_type::any).u16(0x8001);                          // QU, class IN
  p.pointer(12).rr(dns_type::a, dns_class_in, 120).u16(4).raw({198, 18, 0, 7}); // authority
  dns_reader reader(p.span());
  REQUIRE_FALSE(reader.error());
  CHECK(reader.header().question_count == 1);
  CHECK_FALSE(reader.header().is_response());
  dns_question q;
  REQUIRE(reader.next(q));
  CHECK(q.name.to_string() == "lamp.local.");
  CHECK(q.type == dns_type::any);
  CHECK(q.qclass == dns_class_in);
  CHECK(q.unicast_response);
  CHECK_FALSE(reader.next(q));
  dns_record r;
  REQUIRE(reader.next(r));
  CHECK(r.section == dns_section::authority);
  CHECK(r.name.equals(mdns_test::wire("LAMP.local")));
  std::array<std::uint8_t, 4> a{};
  REQUIRE_FALSE(r.as_a(a));
  CHECK(a == std::array<std::uint8_t, 4>{198, 18, 0, 7});
  CHECK_FALSE(reader.next(r));
  CHECK_FALSE(reader.error());
}

TEST_CASE("dns_reader reads every record type the responder uses, with compressed names",
          "[mdns]") {
  packet p;
  p.header(0x1234, dns_flag::response | dns_flag::authoritative, 0, 4, 0, 2);
  const std::size_t service = p.size();
  p.name("_lanyard._tcp.local"); // 12: _lanyard, 21: _tcp, 26: local
  p.rr(dns_type::ptr, dns_class_in, 4500);
  p.u16(7).label("Lamp").pointer(static_cast<unsigned>(service)); // PTR -> Lamp._lanyard._tcp.local
  const std::size_t instance = p.size() - 7;
  p.pointer(static_cast<unsigned>(instance)).rr(dns_type::srv, 0x8001, 120);
  p.u16(6 + 7).u16(0).u16(0).u16(8443).label("lamp").pointer(26); // target lamp.local
  const std::size_t host = p.size() - 7;
  p.pointer(static_cast<unsigned>(instance)).rr(dns_type::txt, 0x8001, 4500);
  p.u16(6).label("id=42");
  p.pointer(static_cast<unsigned>(instance)).rr(dns_type::nsec, 0x8001, 120);
  p.u16(2 + 2 + 5).pointer(static_cast<unsigned>(instance)).raw({0, 5, 0, 0, 0x80, 0, 0x40});
  p.pointer(static_cast<unsigned>(host)).rr(dns_type::a, 0x8001, 120).u16(4).raw({198, 18, 0, 7});
  p.pointer(static_cast<unsigned>(host)).rr(dns_type::aaaa, 0x8001, 120).u16(16);
  p.raw({0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7});

  dns_reader reader(p.span());
  CHECK(reader.header().id == 0x1234);
  CHECK(reader.header().is_response());
  dns_record r;

  REQUIRE(reader.next(r));
  CHECK(r.section == dns_section::answer);
  CHECK(r.type == dns_type::ptr);
  CHECK_FALSE(r.cache_flush);
  CHECK(r.ttl == 4500);
  dns_name target;
  REQUIRE_FALSE(r.as_ptr(target));
  CHECK(target.to_string() == "Lamp._lanyard._tcp.local.");
  CHECK(target.wire_size() == 26);
  std::array<std::uint8_t, 4> a{};
  CHECK(r.as_a(a) == mdns_errc::wrong_type);

  REQUIRE(reader.next(r));
  CHECK(r.type == dns_type::srv);
  CHECK(r.cache_flush);
  CHECK(r.rclass == dns_class_in);
  dns_srv srv;
  REQUIRE_FALSE(r.as_srv(srv));
  CHECK(srv.port == 8443);
  CHECK(srv.target.to_string() == "lamp.local.");

  REQUIRE(reader.next(r));
  std::span<const std::uint8_t> txt;
  REQUIRE_FALSE(r.as_txt(txt));
  txt_reader t(txt);
  txt_string_view s;
  REQUIRE(t.next(s));
  CHECK(s.key == "id");
  CHECK(s.value == "42");

  REQUIRE(reader.next(r));
  dns_nsec nsec;
  REQUIRE_FALSE(r.as_nsec(nsec));
  CHECK(nsec.next.to_string() == "Lamp._lanyard._tcp.local.");
  CHECK(nsec.has_type(dns_type::txt));
  CHECK(nsec.has_type(dns_type::srv));
  CHECK_FALSE(nsec.has_type(dns_type::a));
  CHECK_FALSE(nsec.has_type(dns_type::aaaa));

  REQUIRE(reader.next(r));
  CHECK(r.section == dns_section::additional);
  REQUIRE(reader.next(r));
  std::array<std::uint8_t, 16> aaaa{};
  REQUIRE_FALSE(r.as_aaaa(aaaa));
  CHECK(aaaa[15] == 7);
  CHECK_FALSE(reader.next(r));
  CHECK_FALSE(reader.error());
  CHECK_FALSE(validate_dns_message(p.span()));
}

TEST_CASE("compare_rdata compares names uncompressed, as RFC 6762 section 8.2 orders them",
          "[mdns]") {
  // The same PTR target, once compressed and once spelt out.
  packet p;
  p.header(0, dns_flag::response, 0, 2, 0, 0);
  p.name("_x._tcp.local").rr(dns_type::ptr, 1, 10).u16(4).label("A").pointer(12);
  p.pointer(12).rr(dns_type::ptr, 1, 10).u16(17).label("A").name("_x._tcp.local");
  dns_reader reader(p.span());
  dns_record first;
  dns_record second;
  REQUIRE(reader.next(first));
  REQUIRE(reader.next(second));
  CHECK(compare_rdata(first, second) == 0);
  const auto canonical = mdns_test::wire("A._x._tcp.local");
  CHECK(compare_rdata(first, canonical) == 0);
  CHECK(compare_rdata(first, mdns_test::wire("B._x._tcp.local")) < 0);
  CHECK(compare_rdata(first, mdns_test::wire("A._x._tcp")) > 0);
}

TEST_CASE("dns_name::to_string escapes dots, backslashes and unprintable bytes, not spaces",
          "[mdns]") {
  packet name;
  name.label("a.b").label(std::string("c\\\x01 ", 4)).u8(0);
  const packet p = query_with_name(name);
  dns_reader reader(p.span());
  dns_question q;
  REQUIRE(reader.next(q));
  CHECK(q.name.to_string() == "a\\.b.c\\\\\\001 .");
  std::array<std::uint8_t, 255> out{};
  CHECK(q.name.copy_to(out) == 10);
  CHECK(q.name.copy_to(std::span<std::uint8_t>(out.data(), 9)) == 0);
}

TEST_CASE("dns_reader reads what avahi-daemon sends", "[mdns][avahi]") {
  const auto bytes = [](const auto& a) {
    return std::span<const std::byte>(reinterpret_cast<const std::byte*>(a), sizeof a);
  };
  SECTION("its announcement") {
    dns_reader reader(bytes(mdns_test::avahi_announcement));
    CHECK(reader.header().flags == (dns_flag::response | dns_flag::authoritative));
    dns_record r;
    REQUIRE(reader.next(r));
    CHECK(r.name.to_string() == "Avahi Lamp._lanyard._tcp.local.");
    CHECK(r.type == dns_type::txt);
    CHECK(r.cache_flush);
    CHECK(r.ttl == 4500);
    std::span<const std::uint8_t> txt;
    REQUIRE_FALSE(r.as_txt(txt));
    const txt_decoded decoded = txt_record::decode(txt);
    REQUIRE(decoded);
    CHECK(decoded.record.find("sf")->value == "1");
    REQUIRE(reader.next(r));
    dns_name target;
    REQUIRE_FALSE(r.as_ptr(target));
    CHECK(r.name.to_string() == "_lanyard._tcp.local.");
    CHECK_FALSE(r.cache_flush);
    CHECK(target.to_string() == "Avahi Lamp._lanyard._tcp.local.");
    REQUIRE(reader.next(r));
    dns_srv srv;
    REQUIRE_FALSE(r.as_srv(srv));
    CHECK(srv.port == 8443);
    CHECK(srv.target.to_string() == "avahilamp.local."); // Avahi compresses SRV targets
    CHECK(compare_rdata(r, [] {
            std::vector<std::uint8_t> v{0, 0, 0, 0, 0x20, 0xFB};
            const auto host = mdns_test::wire("avahilamp.local");
            v.insert(v.end(), host.begin(), host.end());
            return v;
          }()) == 0);
    REQUIRE(reader.next(r));
    CHECK(r.type == dns_type::aaaa);
    REQUIRE(reader.next(r));
    std::array<std::uint8_t, 4> a{};
    REQUIRE_FALSE(r.as_a(a));
    CHECK(a == std::array<std::uint8_t, 4>{198, 18, 0, 1});
    REQUIRE(reader.next(r));
    REQUIRE_FALSE(r.as_ptr(target));
    CHECK(r.name.to_string() == "_services._dns-sd._udp.local.");
    CHECK(target.to_string() == "_lanyard._tcp.local.");
    CHECK_FALSE(reader.next(r));
    CHECK_FALSE(reader.error());
  }
  SECTION("its probe") {
    dns_reader reader(bytes(mdns_test::avahi_service_probe));
    dns_question q;
    REQUIRE(reader.next(q));
    CHECK(q.name.to_string() == "Avahi Lamp._lanyard._tcp.local.");
    CHECK(q.type == dns_type::any);
    CHECK_FALSE(q.unicast_response);
    dns_record r;
    REQUIRE(reader.next(r));
    CHECK(r.section == dns_section::authority);
    CHECK(r.type == dns_type::srv);
    REQUIRE(reader.next(r));
    CHECK(r.type == dns_type::txt);
    CHECK_FALSE(reader.next(r));
    CHECK_FALSE(reader.error());
  }
}

// --- malformed messages -----------------------------------------------------------------------

TEST_CASE("dns_reader: a message shorter than the header", "[mdns][malformed]") {
  packet p;
  p.header(0, 0, 0, 0, 0, 0);
  CHECK_FALSE(read_all(p.span()));
  p.bytes.pop_back();
  CHECK(read_all(p.span()) == mdns_errc::header_truncated);
  CHECK(read_all({}) == mdns_errc::header_truncated);
}

TEST_CASE("dns_reader: names that run past the end", "[mdns][malformed]") {
  // No terminating zero: the type's first byte (0) ends the name, and the class is cut short.
  packet no_root;
  no_root.label("lamp").label("local");
  CHECK(read_all(query_with_name(no_root).span()) == mdns_errc::record_truncated);

  packet p;
  p.header(0, 0, 1, 0, 0, 0).label("lamp").u8(10).text("loc"); // label of 10, 3 bytes left
  CHECK(read_all(p.span()) == mdns_errc::name_truncated);
  packet q;
  q.header(0, 0, 1, 0, 0, 0).label("lamp"); // ends after a label
  CHECK(read_all(q.span()) == mdns_errc::name_truncated);
  packet half_pointer;
  half_pointer.header(0, 0, 1, 0, 0, 0).label("lamp").u8(0xC0);
  CHECK(read_all(half_pointer.span()) == mdns_errc::name_truncated);
}

TEST_CASE("dns_reader: label length bytes 64-191", "[mdns][malformed]") {
  for (const unsigned length : {0x40u, 0x7Fu, 0x80u, 0xBFu}) {
    packet name;
    name.u8(length).text(std::string(70, 'a')).u8(0);
    INFO(length);
    CHECK(read_all(query_with_name(name).span()) == mdns_errc::label_too_long);
  }
  packet ok;
  ok.label(std::string(63, 'a')).u8(0);
  CHECK_FALSE(read_all(query_with_name(ok).span()));
}

TEST_CASE("dns_reader: a name over 255 bytes, also through pointers", "[mdns][malformed]") {
  packet flat;
  for (int i = 0; i < 3; ++i)
    flat.label(std::string(63, 'a'));
  flat.label(std::string(61, 'b')).u8(0); // 255 bytes: fine
  CHECK_FALSE(read_all(query_with_name(flat).span()));
  packet longer;
  for (int i = 0; i < 3; ++i)
    longer.label(std::string(63, 'a'));
  longer.label(std::string(62, 'b')).u8(0); // 256 bytes
  CHECK(read_all(query_with_name(longer).span()) == mdns_errc::name_too_long);

  // Two questions: the second is 2 x 63-byte labels plus a pointer to the first (3 x 63): each
  // is short on the wire, but 5 labels of 63 decompressed.
  packet p;
  p.header(0, 0, 2, 0, 0, 0);
  for (int i = 0; i < 3; ++i)
    p.label(std::string(63, 'a'));
  p.u8(0).u16(1).u16(1);
  p.label(std::string(63, 'b')).label(std::string(63, 'c')).pointer(12).u16(1).u16(1);
  CHECK(read_all(p.span()) == mdns_errc::name_too_long);
}

TEST_CASE("dns_reader: compression pointers past the end, forward, and in loops",
          "[mdns][malformed]") {
  SECTION("past the end") {
    packet p;
    p.header(0, 0, 1, 0, 0, 0).pointer(200).u16(1).u16(1);
    CHECK(read_all(p.span()) == mdns_errc::pointer_out_of_range);
  }
  SECTION("to itself") {
    packet p;
    p.header(0, 0, 1, 0, 0, 0).pointer(12).u16(1).u16(1);
    CHECK(read_all(p.span()) == mdns_errc::compression_loop);
  }
  SECTION("forward, into the message") {
    packet p;
    p.header(0, 0, 1, 0, 0, 0).pointer(18).u16(1).u16(1).name("a");
    CHECK(read_all(p.span()) == mdns_errc::compression_loop);
  }
  SECTION("a loop through two names") {
    // Question 1 at 12: "a" then a pointer to question 2's name at 20; question 2: "b" then a
    // pointer back to 12. Each pointer alone looks backwards from somewhere.
    packet p;
    p.header(0, 0, 2, 0, 0, 0);
    p.label("a").pointer(20).u16(1).u16(1); // 12..19
    p.label("b").pointer(12).u16(1).u16(1); // 20..
    CHECK(read_all(p.span()) == mdns_errc::compression_loop);
  }
  SECTION("back into the labels that led to it") {
    // "a" "b" then a pointer to "b": backwards from the pointer, but not before the name.
    packet p;
    p.header(0, 0, 1, 0, 0, 0).label("a").label("b").pointer(14).u16(1).u16(1);
    CHECK(read_all(p.span()) == mdns_errc::compression_loop);
  }
  SECTION("a chain of backward pointers is fine") {
    packet p;
    p.header(0, 0, 3, 0, 0, 0);
    p.name("local").u16(1).u16(1);             // 12
    p.label("host").pointer(12).u16(1).u16(1); // 23
    p.label("x").pointer(23).u16(1).u16(1);    // 34
    dns_reader reader(p.span());
    dns_question q;
    REQUIRE(reader.next(q));
    REQUIRE(reader.next(q));
    REQUIRE(reader.next(q));
    CHECK(q.name.to_string() == "x.host.local.");
    CHECK_FALSE(reader.error());
  }
}

TEST_CASE("dns_reader: truncated questions and records", "[mdns][malformed]") {
  packet question;
  question.header(0, 0, 1, 0, 0, 0).name("a").u16(1); // class missing
  CHECK(read_all(question.span()) == mdns_errc::record_truncated);

  packet fixed;
  fixed.header(0, dns_flag::response, 0, 1, 0, 0).name("a").u16(1).u16(1).u16(0); // TTL cut
  CHECK(read_all(fixed.span()) == mdns_errc::record_truncated);

  packet data;
  data.header(0, dns_flag::response, 0, 1, 0, 0).name("a").rr(1, 1, 10).u16(4).raw({1, 2, 3});
  CHECK(read_all(data.span()) == mdns_errc::record_truncated);

  // Counts that promise more than the message holds.
  packet counts;
  counts.header(0, dns_flag::response, 0, 2, 0, 0).name("a").rr(1, 1, 10).u16(4).raw({1, 2, 3, 4});
  std::size_t records = 0;
  CHECK(read_all(counts.span(), &records) == mdns_errc::name_truncated);
  CHECK(records == 1);
}

TEST_CASE("dns_reader: record data that does not fit its type", "[mdns][malformed]") {
  auto one = [](unsigned type, std::initializer_list<unsigned> rdata) {
    packet p;
    p.header(0, dns_flag::response, 0, 1, 0, 0).name("a.local").rr(type, 1, 10);
    p.u16(static_cast<unsigned>(rdata.size())).raw(rdata);
    return read_all(p.span());
  };
  CHECK_FALSE(one(dns_type::a, {1, 2, 3, 4}));
  CHECK(one(dns_type::a, {1, 2, 3}) == mdns_errc::bad_rdata);
  CHECK(one(dns_type::aaaa, {1, 2, 3, 4}) == mdns_errc::bad_rdata);
  CHECK_FALSE(one(dns_type::ptr, {1, 'b', 0xC0, 12}));
  CHECK(one(dns_type::ptr, {1, 'b', 0xC0, 12, 0}) == mdns_errc::bad_rdata); // a byte left over
  CHECK(one(dns_type::ptr, {}) == mdns_errc::bad_rdata);
  CHECK(one(dns_type::ptr, {1, 'b', 0xC0, 40}) == mdns_errc::pointer_out_of_range);
  CHECK(one(dns_type::srv, {0, 0, 0, 0, 0x20, 0xFB}) == mdns_errc::bad_rdata); // no target
  CHECK_FALSE(one(dns_type::srv, {0, 0, 0, 0, 0x20, 0xFB, 0}));
  CHECK_FALSE(one(dns_type::nsec, {0xC0, 12, 0, 1, 0x40}));
  CHECK(one(dns_type::nsec, {0xC0, 12, 0, 0}) == mdns_errc::bad_rdata);       // empty window
  CHECK(one(dns_type::nsec, {0xC0, 12, 0, 2, 0x40}) == mdns_errc::bad_rdata); // window cut
  CHECK(one(dns_type::nsec, {0xC0, 12, 0, 33}) == mdns_errc::bad_rdata);
  CHECK_FALSE(one(dns_type::txt, {})); // TXT data is txt_reader's business
  CHECK_FALSE(one(99, {0xC0, 0xFF}));  // unknown types are opaque
  // A PTR name that runs past its data into the next bytes is refused even if the message
  // would hold it.
  packet p;
  p.header(0, dns_flag::response, 0, 1, 0, 0).name("a").rr(dns_type::ptr, 1, 10).u16(2);
  p.label("b").u8(0);
  CHECK(read_all(p.span()) == mdns_errc::bad_rdata);
}

TEST_CASE("dns_reader yields nothing after an error", "[mdns][malformed]") {
  packet p;
  p.header(0, dns_flag::response, 0, 2, 0, 0).pointer(12).rr(1, 1, 1).u16(4).raw({1, 2, 3, 4});
  p.name("a").rr(1, 1, 1).u16(4).raw({1, 2, 3, 4});
  dns_reader reader(p.span());
  dns_record r;
  CHECK_FALSE(reader.next(r));
  CHECK(reader.error() == mdns_errc::compression_loop);
  CHECK_FALSE(reader.next(r));
  dns_question q;
  CHECK_FALSE(reader.next(q));
}
