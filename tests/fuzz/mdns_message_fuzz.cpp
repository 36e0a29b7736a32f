// libFuzzer target for the DNS message reader and writer of the embedded mDNS responder: any
// bytes in, never a crash or an out-of-bounds read, and the properties below hold (a violated
// property aborts, which libFuzzer reports as a crash).
#include <lanyard/core/mdns_message.hpp>
#include <lanyard/core/mdns_writer.hpp>

#include "fuzz_support.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

using namespace lanyard::core;

namespace {

// A checked name walks, copies and compares consistently.
void check_name(const dns_name& name) {
  const std::size_t size = name.wire_size();
  LANYARD_FUZZ_CHECK(size >= 1 && size <= dns_max_name_size);
  std::array<std::uint8_t, dns_max_name_size> copy{};
  LANYARD_FUZZ_CHECK(name.copy_to(copy) == size);
  const std::span<const std::uint8_t> flat(copy.data(), size);
  LANYARD_FUZZ_CHECK(is_valid_wire_name(flat));
  LANYARD_FUZZ_CHECK(name.equals(flat));
  LANYARD_FUZZ_CHECK(name.equals(name));
  const dns_wire_name owned = name.to_wire_name();
  LANYARD_FUZZ_CHECK(owned.wire().size() == size);
  LANYARD_FUZZ_CHECK(name.equals(owned));
  std::size_t labels = 0;
  for (const std::string_view label : name) {
    LANYARD_FUZZ_CHECK(!label.empty() && label.size() <= dns_max_label_size);
    ++labels;
  }
  LANYARD_FUZZ_CHECK(labels == owned.label_count());
  LANYARD_FUZZ_CHECK(!name.to_string().empty());
}

// Writes the record again (uncompressed names in, the writer compresses) and checks that it
// reads back with the same name, type, TTL and canonical data.
void check_rewrite(const dns_record& r) {
  std::array<std::byte, 1024> buffer{};
  dns_writer w(buffer, 0, dns_flag::response);
  const dns_wire_name owner = r.name.to_wire_name();
  const dns_record_spec spec{dns_section::answer, owner.wire(), r.ttl, r.cache_flush};
  std::error_code ec;
  switch (r.type) {
  case dns_type::ptr: {
    dns_name target;
    LANYARD_FUZZ_CHECK(!r.as_ptr(target));
    check_name(target);
    ec = w.add_ptr(spec, target.to_wire_name().wire());
    break;
  }
  case dns_type::srv: {
    dns_srv srv;
    LANYARD_FUZZ_CHECK(!r.as_srv(srv));
    check_name(srv.target);
    ec = w.add_srv(spec, srv.priority, srv.weight, srv.port, srv.target.to_wire_name().wire());
    break;
  }
  case dns_type::a: {
    std::array<std::uint8_t, 4> a{};
    LANYARD_FUZZ_CHECK(!r.as_a(a));
    ec = w.add_raw(spec, r.type, a);
    break;
  }
  case dns_type::aaaa: {
    std::array<std::uint8_t, 16> a{};
    LANYARD_FUZZ_CHECK(!r.as_aaaa(a));
    ec = w.add_raw(spec, r.type, a);
    break;
  }
  case dns_type::nsec: {
    dns_nsec nsec;
    LANYARD_FUZZ_CHECK(!r.as_nsec(nsec));
    check_name(nsec.next);
    return; // the writer only writes mDNS's own-name, window-0 form
  }
  default: {
    std::span<const std::uint8_t> raw(reinterpret_cast<const std::uint8_t*>(r.rdata.data()),
                                      r.rdata.size());
    ec = w.add_raw(spec, r.type, raw);
    break;
  }
  }
  if (ec) {
    LANYARD_FUZZ_CHECK(ec == mdns_errc::no_space);
    return;
  }
  LANYARD_FUZZ_CHECK(!validate_dns_message(w.bytes()));
  dns_reader again(w.bytes());
  dns_record back;
  LANYARD_FUZZ_CHECK(again.next(back));
  LANYARD_FUZZ_CHECK(back.name.equals(r.name));
  LANYARD_FUZZ_CHECK(back.type == r.type && back.ttl == r.ttl && back.cache_flush == r.cache_flush);
  LANYARD_FUZZ_CHECK(compare_rdata(back, r) == 0);
  LANYARD_FUZZ_CHECK(compare_rdata(r, back) == 0);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> input(reinterpret_cast<const std::byte*>(data), size);
  dns_reader reader(input);
  dns_question q;
  std::size_t questions = 0;
  while (reader.next(q)) {
    check_name(q.name);
    LANYARD_FUZZ_CHECK(q.qclass <= 0x7FFF);
    ++questions;
  }
  LANYARD_FUZZ_CHECK(questions <= reader.header().question_count);
  dns_record r;
  std::size_t records = 0;
  while (reader.next(r)) {
    check_name(r.name);
    LANYARD_FUZZ_CHECK(r.rdata.data() >= input.data() &&
                       r.rdata.data() + r.rdata.size() <= input.data() + input.size());
    LANYARD_FUZZ_CHECK(compare_rdata(r, r) == 0);
    check_rewrite(r);
    ++records;
  }
  LANYARD_FUZZ_CHECK(records <= std::size_t{reader.header().answer_count} +
                                    reader.header().authority_count +
                                    reader.header().additional_count);
  LANYARD_FUZZ_CHECK(reader.error() == validate_dns_message(input));
  if (reader.error()) {
    LANYARD_FUZZ_CHECK(reader.error().category() == mdns_category());
    LANYARD_FUZZ_CHECK(!(reader.error() == mdns_errc::no_space));
  }
  return 0;
}
