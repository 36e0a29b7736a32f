#include <lanyard/core/mdns_writer.hpp>

#include "mdns_test_support.hpp"

#include <lanyard/core/mdns_message.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

using namespace lanyard::core;
using mdns_test::wire;

namespace {

const std::vector<std::uint8_t> service = wire("_lanyard._tcp.local");
const std::vector<std::uint8_t> instance = wire("Lamp._lanyard._tcp.local");
const std::vector<std::uint8_t> host = wire("lamp-1a2b.local");
const std::vector<std::uint8_t> txt_data = {5, 'i', 'd', '=', '4', '2', 4, 'p', 'v', '=', '1'};
constexpr std::array<std::uint8_t, 4> v4 = {198, 18, 0, 7};
constexpr std::array<std::uint8_t, 16> v6 = {0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7};

// The response the responder sends for a PTR question: answer, then additional records.
std::error_code write_service_response(dns_writer& w) {
  if (auto ec = w.add_ptr({dns_section::answer, service, 4500, false}, instance)) return ec;
  if (auto ec = w.add_srv({dns_section::additional, instance, 120, true}, 0, 0, 8443, host))
    return ec;
  if (auto ec = w.add_raw({dns_section::additional, instance, 4500, true}, dns_type::txt, txt_data))
    return ec;
  if (auto ec = w.add_raw({dns_section::additional, host, 120, true}, dns_type::a, v4)) return ec;
  if (auto ec = w.add_raw({dns_section::additional, host, 120, true}, dns_type::aaaa, v6))
    return ec;
  const std::uint16_t types[] = {dns_type::a, dns_type::aaaa};
  return w.add_nsec({dns_section::additional, host, 120, true}, types);
}

std::size_t uncompressed_size() {
  // Header, then per record: name + 10 + data.
  return 12 + (service.size() + 10 + instance.size()) + (instance.size() + 10 + 6 + host.size()) +
         (instance.size() + 10 + txt_data.size()) + (host.size() + 10 + 4) +
         (host.size() + 10 + 16) + (host.size() + 10 + host.size() + 2 + 4);
}

} // namespace

TEST_CASE("dns_writer: what it writes reads back, names compressed", "[mdns][writer]") {
  std::array<std::byte, 1500> buffer{};
  dns_writer w(buffer, 0, dns_flag::response | dns_flag::authoritative);
  REQUIRE_FALSE(w.add_question(service, dns_type::ptr, true));
  REQUIRE_FALSE(write_service_response(w));
  CHECK(w.question_count() == 1);
  CHECK(w.answer_count() == 1);
  CHECK(w.additional_count() == 5);
  // Compression must save bytes: the question and every record share suffixes.
  CHECK(w.size() + service.size() < uncompressed_size());

  dns_reader reader(w.bytes());
  CHECK(reader.header().flags == (dns_flag::response | dns_flag::authoritative));
  CHECK(reader.header().answer_count == 1);
  dns_question q;
  REQUIRE(reader.next(q));
  CHECK(q.name.equals(service));
  CHECK(q.unicast_response);
  CHECK(q.type == dns_type::ptr);

  dns_record r;
  REQUIRE(reader.next(r));
  CHECK(r.name.equals(service));
  CHECK(r.ttl == 4500);
  CHECK_FALSE(r.cache_flush);
  dns_name target;
  REQUIRE_FALSE(r.as_ptr(target));
  CHECK(target.equals(instance));
  CHECK(compare_rdata(r, instance) == 0);
  // The PTR target is "Lamp" and a pointer to the service name.
  CHECK(r.rdata.size() == 1 + 4 + 2);

  REQUIRE(reader.next(r));
  CHECK(r.section == dns_section::additional);
  CHECK(r.cache_flush);
  dns_srv srv;
  REQUIRE_FALSE(r.as_srv(srv));
  CHECK(srv.port == 8443);
  CHECK(srv.target.equals(host));
  CHECK(r.rdata.size() == 6 + host.size()); // SRV targets stay uncompressed

  REQUIRE(reader.next(r));
  std::span<const std::uint8_t> txt;
  REQUIRE_FALSE(r.as_txt(txt));
  CHECK(std::vector<std::uint8_t>(txt.begin(), txt.end()) == txt_data);

  REQUIRE(reader.next(r));
  std::array<std::uint8_t, 4> a{};
  REQUIRE_FALSE(r.as_a(a));
  CHECK(a == v4);
  CHECK(r.name.equals(host));
  REQUIRE(reader.next(r));
  std::array<std::uint8_t, 16> aaaa{};
  REQUIRE_FALSE(r.as_aaaa(aaaa));
  CHECK(aaaa == v6);

  REQUIRE(reader.next(r));
  dns_nsec nsec;
  REQUIRE_FALSE(r.as_nsec(nsec));
  CHECK(nsec.next.equals(host));
  CHECK(nsec.has_type(dns_type::a));
  CHECK(nsec.has_type(dns_type::aaaa));
  CHECK_FALSE(nsec.has_type(dns_type::txt));
  CHECK(r.rdata.size() == 2 + 2 + 4); // next name is a pointer; bitmap up to type 28
  CHECK_FALSE(reader.next(r));
  CHECK_FALSE(reader.error());
}

TEST_CASE("dns_writer: a record that does not fit leaves the message as it was", "[mdns][writer]") {
  // Every buffer size from nothing to enough: each add either succeeds or changes nothing, and
  // what was written is always a valid message.
  std::array<std::byte, 400> full{};
  dns_writer reference(full);
  REQUIRE_FALSE(write_service_response(reference));
  const std::size_t needed = reference.size();
  for (std::size_t size = 0; size <= needed; ++size) {
    std::vector<std::byte> buffer(size);
    dns_writer w(buffer);
    INFO("buffer of " << size << " bytes");
    if (size < 12) {
      CHECK(w.size() == 0);
      CHECK(w.add_question(service, dns_type::ptr) == mdns_errc::no_space);
      continue;
    }
    std::error_code last;
    std::size_t before = 0;
    std::size_t records_before = 0;
    auto step = [&](auto add) {
      if (last) return;
      before = w.size();
      records_before = w.record_count();
      last = add();
      if (last) {
        CHECK(last == mdns_errc::no_space);
        CHECK(w.size() == before);
        CHECK(w.record_count() == records_before);
      }
    };
    step([&] { return w.add_ptr({dns_section::answer, service, 4500, false}, instance); });
    step([&] { return w.add_srv({dns_section::additional, instance, 120, true}, 0, 0, 1, host); });
    step([&] {
      return w.add_raw({dns_section::additional, instance, 4500, true}, dns_type::txt, txt_data);
    });
    step([&] { return w.add_raw({dns_section::additional, host, 120, true}, dns_type::a, v4); });
    step([&] { return w.add_raw({dns_section::additional, host, 120, true}, dns_type::aaaa, v6); });
    const std::uint16_t types[] = {dns_type::a, dns_type::aaaa};
    step([&] { return w.add_nsec({dns_section::additional, host, 120, true}, types); });
    CHECK((size == needed) == !last);
    CHECK_FALSE(validate_dns_message(w.bytes()));
    dns_reader reader(w.bytes());
    CHECK(reader.header().answer_count + reader.header().additional_count == w.record_count());
  }
}

TEST_CASE("dns_writer: sections in order, names checked", "[mdns][writer]") {
  std::array<std::byte, 512> buffer{};
  dns_writer w(buffer);
  REQUIRE_FALSE(w.add_raw({dns_section::authority, host, 120, true}, dns_type::a, v4));
  CHECK(w.add_question(host, dns_type::any) == mdns_errc::section_order);
  CHECK(w.add_raw({dns_section::answer, host, 120, true}, dns_type::a, v4) ==
        mdns_errc::section_order);
  CHECK_FALSE(w.add_raw({dns_section::authority, host, 120, true}, dns_type::a, v4));
  CHECK_FALSE(w.add_raw({dns_section::additional, host, 120, true}, dns_type::a, v4));
  CHECK(w.authority_count() == 2);

  const std::uint8_t not_a_name[] = {3, 'a', 'b'};
  CHECK(w.add_raw({dns_section::additional, not_a_name, 1, false}, dns_type::a, v4) ==
        mdns_errc::invalid_name);
  CHECK(w.add_ptr({dns_section::additional, host, 1, false}, not_a_name) ==
        mdns_errc::invalid_name);
  CHECK(w.record_count() == 3);
}

TEST_CASE("dns_writer: set_flags rewrites the header, e.g. TC on a full reply", "[mdns][writer]") {
  std::array<std::byte, 64> buffer{};
  dns_writer w(buffer, 0xBEEF, dns_flag::response);
  w.set_flags(dns_flag::response | dns_flag::truncated);
  dns_reader reader(w.bytes());
  CHECK(reader.header().id == 0xBEEF);
  CHECK(reader.header().is_truncated());
  CHECK(reader.header().is_response());
}

TEST_CASE("dns_writer: compression works against names of earlier records, case kept",
          "[mdns][writer]") {
  std::array<std::byte, 512> buffer{};
  dns_writer w(buffer);
  const auto upper = wire("LAMP-1A2B.local");
  REQUIRE_FALSE(w.add_raw({dns_section::answer, host, 120, true}, dns_type::a, v4));
  const std::size_t after_first = w.size();
  REQUIRE_FALSE(w.add_raw({dns_section::answer, host, 120, true}, dns_type::a, v4));
  CHECK(w.size() - after_first == 2 + 10 + 4); // whole name as one pointer
  const std::size_t after_second = w.size();
  REQUIRE_FALSE(w.add_raw({dns_section::answer, upper, 120, true}, dns_type::a, v4));
  // Only ".local" is shared byte for byte: the first label is written again, in its case.
  CHECK(w.size() - after_second == 1 + 9 + 2 + 10 + 4);
  dns_reader reader(w.bytes());
  dns_record r;
  REQUIRE(reader.next(r));
  REQUIRE(reader.next(r));
  REQUIRE(reader.next(r));
  CHECK(r.name.to_string() == "LAMP-1A2B.local.");
}
