// What the mDNS tests share: a builder for hand-made DNS messages (every byte visible in the
// test), and Catch printers for error codes.
#pragma once

#include <lanyard/core/mdns_message.hpp>

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

template <>
struct Catch::StringMaker<std::error_code> {
  static std::string convert(const std::error_code& ec) {
    return ec ? std::string(ec.category().name()) + ": " + ec.message() : "no error";
  }
};

namespace mdns_test {

// Appends fields in network byte order; names are spelt dotted ("_lanyard._tcp.local") or
// label by label, with compression pointers where the test puts them.
struct packet {
  std::vector<std::byte> bytes;

  packet& u8(unsigned v) {
    bytes.push_back(std::byte(v & 0xFF));
    return *this;
  }
  packet& u16(unsigned v) { return u8(v >> 8).u8(v); }
  packet& u32(std::uint32_t v) { return u16(v >> 16).u16(v & 0xFFFF); }
  packet& raw(std::initializer_list<unsigned> vs) {
    for (unsigned v : vs)
      u8(v);
    return *this;
  }
  packet& text(std::string_view s) {
    for (char c : s)
      u8(static_cast<unsigned char>(c));
    return *this;
  }
  packet& label(std::string_view l) { return u8(static_cast<unsigned>(l.size())).text(l); }
  // Labels of a dotted name, without the terminating zero (end with .u8(0) or .pointer()).
  packet& labels(std::string_view dotted) {
    while (!dotted.empty()) {
      const std::size_t dot = dotted.find('.');
      label(dotted.substr(0, dot));
      if (dot == std::string_view::npos) break;
      dotted.remove_prefix(dot + 1);
    }
    return *this;
  }
  // A whole uncompressed name.
  packet& name(std::string_view dotted) { return labels(dotted).u8(0); }
  packet& pointer(unsigned offset) { return u16(0xC000 | offset); }
  packet& header(unsigned id, unsigned flags, unsigned qd, unsigned an, unsigned ns, unsigned ar) {
    return u16(id).u16(flags).u16(qd).u16(an).u16(ns).u16(ar);
  }
  // Type, class (with the top bit), TTL; the caller writes the data length and data.
  packet& rr(unsigned type, unsigned cls, std::uint32_t ttl) { return u16(type).u16(cls).u32(ttl); }
  std::size_t size() const { return bytes.size(); }
  std::span<const std::byte> span() const { return bytes; }
};

// The wire form of a dotted name; empty (which no writer accepts) if it is not a valid name.
// No REQUIRE: tests build names at static initialisation, before Catch runs.
inline std::vector<std::uint8_t> wire(std::string_view dotted) {
  lanyard::core::dns_wire_name n;
  if (!n.push_dotted(dotted)) return {};
  return {n.wire().begin(), n.wire().end()};
}

} // namespace mdns_test
