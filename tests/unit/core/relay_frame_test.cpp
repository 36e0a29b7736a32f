#include "lanyard/core/error_condition.hpp"
#include "lanyard/core/relay_frame.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <string>
#include <vector>

using namespace lanyard::core;

namespace {

relay_tunnel_id tunnel_of(std::uint8_t b) {
  relay_tunnel_id t{};
  t.fill(b);
  t[15] = static_cast<std::uint8_t>(b + 1);
  return t;
}

const std::string inbox(relay_inbox_length, 'A');

std::vector<std::uint8_t> encode_open(const relay_address& reply) {
  std::array<std::uint8_t, relay_nonce_size> nonce{};
  nonce.fill(0x5A);
  std::array<std::uint8_t, relay_tag_size> tag{};
  tag.fill(0xC3);
  std::vector<std::uint8_t> out(200);
  std::error_code ec;
  const std::size_t n = encode_relay_open(tunnel_of(7), reply, nonce, tag, out, ec);
  REQUIRE_FALSE(ec);
  out.resize(n);
  return out;
}

} // namespace

TEST_CASE("relay frames: each type round-trips through its encoder and the parser") {
  std::array<std::uint8_t, relay_max_frame_size> buf{};
  std::error_code ec;
  relay_frame f;

  SECTION("OPEN") {
    const std::vector<std::uint8_t> wire = encode_open({"household-7", inbox});
    CHECK(wire.size() == relay_header_size + 1 + 11 + 26 + 16 + 32);
    REQUIRE_FALSE(parse_relay_frame(wire, f));
    CHECK(f.type == relay_frame_type::open);
    CHECK(f.tunnel == tunnel_of(7));
    CHECK(f.seq == 0);
    CHECK(f.reply.account == "household-7");
    CHECK(f.reply.inbox == inbox);
    CHECK(f.nonce[0] == 0x5A);
    CHECK(f.tag[31] == 0xC3);
  }
  SECTION("ACCEPT") {
    const std::size_t n = encode_relay_accept(tunnel_of(1), buf, ec);
    REQUIRE_FALSE(ec);
    CHECK(n == relay_header_size);
    REQUIRE_FALSE(parse_relay_frame(std::span(buf).first(n), f));
    CHECK(f.type == relay_frame_type::accept);
    CHECK(f.tunnel == tunnel_of(1));
  }
  SECTION("DATA, the largest one too") {
    std::vector<std::uint8_t> data(relay_max_data);
    for (std::size_t i = 0; i < data.size(); ++i)
      data[i] = static_cast<std::uint8_t>(i * 31);
    const std::size_t n = encode_relay_data(tunnel_of(2), 0x01020304, data, buf, ec);
    REQUIRE_FALSE(ec);
    CHECK(n == relay_max_frame_size);
    CHECK(buf[18] == 1);
    CHECK(buf[21] == 4); // big-endian
    REQUIRE_FALSE(parse_relay_frame(std::span(buf).first(n), f));
    CHECK(f.type == relay_frame_type::data);
    CHECK(f.seq == 0x01020304);
    CHECK(std::vector<std::uint8_t>(f.data.begin(), f.data.end()) == data);
  }
  SECTION("CLOSE") {
    const std::size_t n = encode_relay_close(tunnel_of(3), 9, 0xBEEF, buf, ec);
    REQUIRE_FALSE(ec);
    REQUIRE_FALSE(parse_relay_frame(std::span(buf).first(n), f));
    CHECK(f.type == relay_frame_type::close);
    CHECK(f.seq == 9);
    CHECK(f.reason == 0xBEEF);
  }
}

TEST_CASE("relay frames: whatever a broker forwards, a bad frame gets its own error") {
  std::array<std::uint8_t, 64> buf{};
  std::error_code ec;
  relay_frame f;
  const std::size_t close = encode_relay_close(tunnel_of(3), 0, 1, buf, ec);
  REQUIRE_FALSE(ec);
  std::vector<std::uint8_t> wire(buf.begin(), buf.begin() + static_cast<long>(close));

  SECTION("every truncation of a CLOSE") {
    for (std::size_t n = 0; n < wire.size(); ++n)
      CHECK(parse_relay_frame(std::span(wire).first(n), f) == relay_errc::truncated);
  }
  SECTION("trailing bytes") {
    wire.push_back(0);
    CHECK(parse_relay_frame(wire, f) == relay_errc::trailing_bytes);
    std::vector<std::uint8_t> accept(relay_header_size + 1);
    accept[0] = 1;
    accept[1] = 2;
    CHECK(parse_relay_frame(accept, f) == relay_errc::trailing_bytes);
  }
  SECTION("another version, an unknown type") {
    wire[0] = 2;
    CHECK(parse_relay_frame(wire, f) == relay_errc::bad_version);
    CHECK(make_error_code(relay_errc::bad_version) == condition::permanent);
    wire[0] = 1;
    for (std::uint8_t t : {0, 5, 255}) {
      wire[1] = t;
      CHECK(parse_relay_frame(wire, f) == relay_errc::bad_type);
    }
  }
  SECTION("DATA: empty, or more than one record's worth") {
    std::vector<std::uint8_t> data(relay_header_size);
    data[0] = 1;
    data[1] = 3;
    CHECK(parse_relay_frame(data, f) == relay_errc::bad_data_size);
    data.resize(relay_max_frame_size + 1);
    CHECK(parse_relay_frame(data, f) == relay_errc::bad_data_size);
    std::vector<std::uint8_t> big(relay_max_data + 1), out(relay_max_frame_size + 8);
    CHECK(encode_relay_data(tunnel_of(1), 0, big, out, ec) == 0);
    CHECK(ec == relay_errc::bad_data_size);
    CHECK(encode_relay_data(tunnel_of(1), 0, {}, out, ec) == 0);
    CHECK(ec == relay_errc::bad_data_size);
  }
  SECTION("OPEN: a reply address that is no topic name, or a body of the wrong size") {
    std::vector<std::uint8_t> open = encode_open({"home", inbox});
    // The account's first byte becomes '+', an MQTT wildcard.
    open[relay_header_size + 1] = '+';
    CHECK(parse_relay_frame(open, f) == relay_errc::bad_address);
    open[relay_header_size + 1] = 'h';
    open[relay_header_size + 1 + 4] = '/'; // the inbox's first byte
    CHECK(parse_relay_frame(open, f) == relay_errc::bad_address);
    open[relay_header_size + 1 + 4] = 'A';
    REQUIRE_FALSE(parse_relay_frame(open, f));
    open[relay_header_size] = 0; // account length 0
    CHECK(parse_relay_frame(open, f) == relay_errc::trailing_bytes);
    open[relay_header_size] = 200; // longer than the body
    CHECK(parse_relay_frame(open, f) == relay_errc::truncated);
    open.resize(relay_header_size);
    CHECK(parse_relay_frame(open, f) == relay_errc::truncated);
  }
  SECTION("encoders refuse a buffer that cannot take the frame") {
    std::array<std::uint8_t, relay_header_size + 1> small{};
    CHECK(encode_relay_close(tunnel_of(1), 0, 0, small, ec) == 0);
    CHECK(ec == relay_errc::buffer_too_small);
    const std::array<std::uint8_t, 2> two{1, 2};
    CHECK(encode_relay_data(tunnel_of(1), 0, two, small, ec) == 0);
    CHECK(ec == relay_errc::buffer_too_small);
  }
}

TEST_CASE("relay addresses: only names that are safe in a topic") {
  CHECK(valid_relay_account("a"));
  CHECK(valid_relay_account(std::string(relay_max_account_length, 'z')));
  CHECK_FALSE(valid_relay_account(""));
  CHECK_FALSE(valid_relay_account(std::string(relay_max_account_length + 1, 'z')));
  for (const std::string& bad :
       std::vector<std::string>{"a/b", "a+", "#", "a b", std::string("a\0b", 3), "é"})
    CHECK_FALSE(valid_relay_account(bad));
  CHECK(valid_relay_inbox(inbox));
  CHECK_FALSE(valid_relay_inbox(inbox.substr(1)));

  std::array<char, relay_max_topic_length> topic{};
  std::error_code ec;
  const std::size_t n = relay_topic({"home_1", inbox}, topic, ec);
  REQUIRE_FALSE(ec);
  CHECK(std::string_view(topic.data(), n) == "lanyard/v1/home_1/" + inbox);
  CHECK(relay_topic({"home/1", inbox}, topic, ec) == 0);
  CHECK(ec == relay_errc::bad_address);
  std::array<char, 20> small{};
  CHECK(relay_topic({"home", inbox}, small, ec) == 0);
  CHECK(ec == relay_errc::buffer_too_small);
  // The longest topic fits the documented bound.
  CHECK(relay_topic({std::string(relay_max_account_length, 'x'), inbox}, topic, ec) ==
        relay_max_topic_length);
}

TEST_CASE("relay sequence: redeliveries are dropped, a gap ends the tunnel") {
  relay_sequence s;
  CHECK(s.next_out() == 0);
  CHECK(s.next_out() == 1);
  CHECK(s.check_in(0) == relay_sequence::verdict::deliver);
  CHECK(s.check_in(0) == relay_sequence::verdict::duplicate); // QoS 1 redelivered it
  CHECK(s.check_in(1) == relay_sequence::verdict::deliver);
  CHECK(s.check_in(3) == relay_sequence::verdict::gap); // 2 was lost or forged
  CHECK(s.expected_in() == 2);
  CHECK_FALSE(s.exhausted());
}

TEST_CASE("relay errors: named, with a message, and classed") {
  const std::error_code ec = relay_errc::sequence_gap;
  CHECK(std::string(ec.category().name()) == "lanyard.relay");
  CHECK(code_string(ec) == "lanyard.relay.sequence_gap");
  CHECK(ec == condition::protocol_violation);
  CHECK(ec == condition::transient);
  CHECK_FALSE(ec.message().empty());
}
