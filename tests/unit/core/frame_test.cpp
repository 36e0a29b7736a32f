#include "lanyard/core/frame.hpp"

#include "lanyard/core/channel_error.hpp"
#include "lanyard/core/frame_decoder.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace lanyard::core;

namespace {

std::vector<std::byte> bytes(std::initializer_list<int> v) {
  std::vector<std::byte> out;
  for (int b : v)
    out.push_back(std::byte(static_cast<unsigned char>(b)));
  return out;
}

std::vector<std::byte> encode(const frame& f) {
  std::vector<std::byte> out;
  encode_frame(f, out);
  return out;
}

session_id make_id(int first) {
  session_id id;
  for (std::size_t i = 0; i < id.bytes.size(); ++i)
    id.bytes[i] = std::byte(static_cast<unsigned char>(first + i));
  return id;
}

// Decodes every frame in `in`, feeding it in chunks of `chunk` bytes; stops at an error.
struct decoded {
  std::vector<frame> frames;
  std::vector<std::vector<std::byte>> payloads; // copies of DATA payloads / CLOSE reasons
  std::error_code error;
};

decoded decode_all(std::span<const std::byte> in, std::size_t chunk,
                   std::size_t max_body = default_max_frame_body) {
  frame_decoder dec(max_body);
  decoded out;
  while (!in.empty()) {
    auto piece = in.first(std::min(chunk, in.size()));
    in = in.subspan(piece.size());
    while (!piece.empty()) {
      decode_result r = dec.decode(piece);
      REQUIRE(r.consumed <= piece.size());
      piece = piece.subspan(r.consumed);
      if (r.error) {
        out.error = r.error;
        return out;
      }
      if (r.value) {
        out.frames.push_back(*r.value);
        std::vector<std::byte> copy;
        if (auto* d = std::get_if<data_frame>(&*r.value))
          copy.assign(d->payload.begin(), d->payload.end());
        if (auto* c = std::get_if<control_frame>(&*r.value))
          copy.assign(c->payload.begin(), c->payload.end());
        if (auto* c = std::get_if<close_frame>(&*r.value)) {
          auto* p = reinterpret_cast<const std::byte*>(c->reason.data());
          copy.assign(p, p + c->reason.size());
        }
        out.payloads.push_back(std::move(copy));
      } else {
        REQUIRE(piece.empty()); // no frame completed: the whole chunk was taken
      }
    }
  }
  REQUIRE_FALSE(dec.has_partial_frame());
  return out;
}

std::error_code decode_error(const std::vector<std::byte>& in,
                             std::size_t max_body = default_max_frame_body) {
  return decode_all(in, in.size(), max_body).error;
}

} // namespace

TEST_CASE("frames encode byte by byte as docs/PROTOCOL.md says") {
  // The limits: max_message 0x1000 (4 KiB), window 0x4000 (16 KiB), a firmware profile.
  CHECK(encode(hello_frame{make_id(0x10), 0x0102030405060708, {0x1000, 0x4000}}) ==
        bytes({1,    1,    0,    0,    0,    32,   0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16,
               0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 1,    2,    3,    4,
               5,    6,    7,    8,    0,    0,    0x10, 0,    0,    0,    0x40, 0}));
  // The defaults: 64 KiB and 1 MiB.
  CHECK(encode(welcome_frame{make_id(0xa0), true, 9, {}}) ==
        bytes({1,    2,    0,    0,    0,    33,   0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6,
               0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf, 1,    0,    0,    0,
               0,    0,    0,    0,    9,    0,    1,    0,    0,    0,    0x10, 0,    0}));
  const auto payload = bytes({0xde, 0xad});
  CHECK(encode(data_frame{0x0100, payload}) ==
        bytes({1, 3, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 1, 0, 0xde, 0xad}));
  CHECK(encode(ack_frame{0xffffffffffffffff}) ==
        bytes({1, 4, 0, 0, 0, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}));
  CHECK(encode(ping_frame{7}) == bytes({1, 5, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 7}));
  CHECK(encode(pong_frame{7}) == bytes({1, 6, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 7}));
  CHECK(encode(close_frame{0x0108, "ab"}) == bytes({1, 7, 0, 0, 0, 4, 1, 8, 'a', 'b'}));
  CHECK(encoded_size(close_frame{0, "ab"}) == 10);
  CHECK(type_of(pong_frame{}) == frame_type::pong);
  CHECK(encode(control_frame{0x0102, message_kind::administration, payload}) ==
        bytes({1, 8, 0, 0, 0, 11, 0, 0, 0, 0, 0, 0, 1, 2, 2, 0xde, 0xad}));
  CHECK(type_of(control_frame{}) == frame_type::control);
  CHECK(encoded_size(control_frame{1, message_kind::provisioning, payload}) == 6 + 9 + 2);
}

TEST_CASE("CLOSE reasons are truncated to max_close_reason") {
  const std::string longer(max_close_reason + 50, 'x');
  auto enc = encode(close_frame{1, longer});
  CHECK(enc.size() == frame_header_size + close_body_min_size + max_close_reason);
  auto d = decode_all(enc, enc.size());
  REQUIRE(d.frames.size() == 1);
  CHECK(std::get<close_frame>(d.frames[0]).reason.size() == max_close_reason);
}

TEST_CASE("every frame type round-trips, whatever the chunking") {
  const auto payload = bytes({1, 2, 3, 4, 5, 6, 7, 8, 9});
  const std::vector<std::byte> empty;
  std::vector<std::byte> stream;
  encode_frame(hello_frame{make_id(1), 42, {100, 0xfedcba98}}, stream);
  encode_frame(welcome_frame{make_id(2), false, 43, {0xffffffff, 7}}, stream);
  encode_frame(data_frame{44, payload}, stream);
  encode_frame(data_frame{45, empty}, stream);
  encode_frame(ack_frame{46}, stream);
  encode_frame(ping_frame{47}, stream);
  encode_frame(pong_frame{48}, stream);
  encode_frame(close_frame{0, ""}, stream);
  encode_frame(close_frame{8, "out of window"}, stream);
  encode_frame(control_frame{49, message_kind::provisioning, payload}, stream);
  encode_frame(control_frame{50, message_kind::administration, empty}, stream);

  for (std::size_t chunk = 1; chunk <= stream.size(); ++chunk) {
    CAPTURE(chunk);
    auto d = decode_all(stream, chunk);
    REQUIRE_FALSE(d.error);
    REQUIRE(d.frames.size() == 11);
    CHECK(std::get<hello_frame>(d.frames[0]) == hello_frame{make_id(1), 42, {100, 0xfedcba98}});
    CHECK(std::get<welcome_frame>(d.frames[1]) ==
          welcome_frame{make_id(2), false, 43, {0xffffffff, 7}});
    CHECK(std::get<data_frame>(d.frames[2]).seq == 44);
    CHECK(d.payloads[2] == payload);
    CHECK(std::get<data_frame>(d.frames[3]).seq == 45);
    CHECK(d.payloads[3].empty());
    CHECK(std::get<ack_frame>(d.frames[4]) == ack_frame{46});
    CHECK(std::get<ping_frame>(d.frames[5]) == ping_frame{47});
    CHECK(std::get<pong_frame>(d.frames[6]) == pong_frame{48});
    CHECK(std::get<close_frame>(d.frames[7]).code == 0);
    CHECK(d.payloads[7].empty());
    CHECK(std::get<close_frame>(d.frames[8]).code == 8);
    CHECK(std::string(reinterpret_cast<const char*>(d.payloads[8].data()), d.payloads[8].size()) ==
          "out of window");
    const auto& pc = std::get<control_frame>(d.frames[9]);
    CHECK(pc.seq == 49);
    CHECK(pc.service == message_kind::provisioning);
    CHECK(d.payloads[9] == payload);
    const auto& ac = std::get<control_frame>(d.frames[10]);
    CHECK(ac.seq == 50);
    CHECK(ac.service == message_kind::administration);
    CHECK(d.payloads[10].empty());
  }
}

TEST_CASE("a CONTROL frame carries a message as large as DATA does, and no larger") {
  // The limit is the message's: max body 108 allows a 100-byte DATA payload, so a 100-byte
  // CONTROL payload too (body 109), but not 101.
  std::vector<std::byte> payload(100, std::byte{0x5a});
  auto enc = encode(control_frame{1, message_kind::provisioning, payload});
  auto d = decode_all(enc, 7, 108);
  REQUIRE_FALSE(d.error);
  CHECK(d.payloads.at(0) == payload);
  payload.push_back(std::byte{0});
  CHECK(decode_error(encode(control_frame{1, message_kind::provisioning, payload}), 108) ==
        channel_errc::frame_too_large);
}

TEST_CASE("a CONTROL frame names a service of this version, never the application") {
  auto enc = encode(control_frame{3, message_kind::provisioning, bytes({'x'})});
  for (int service : {0, 4, 0x80, 0xff}) {
    CAPTURE(service);
    enc[frame_header_size + 8] = std::byte(static_cast<unsigned char>(service));
    CHECK(decode_error(enc) == channel_errc::invalid_frame_field);
  }
  enc[frame_header_size + 8] = std::byte{3};
  CHECK(decode_error(enc) == std::error_code{});
  CHECK(to_string(message_kind::application) == "application");
  CHECK(to_string(message_kind::provisioning) == "provisioning");
  CHECK(to_string(message_kind::administration) == "administration");
  CHECK(to_string(message_kind::relay) == "relay");
  CHECK(to_string(static_cast<message_kind>(9)) == "unknown");
}

TEST_CASE("a DATA frame of exactly the maximum body size is accepted") {
  std::vector<std::byte> payload(100, std::byte{0x5a});
  auto enc = encode(data_frame{1, payload});
  auto d = decode_all(enc, 7, 108);
  REQUIRE_FALSE(d.error);
  CHECK(d.payloads.at(0) == payload);
  CHECK(decode_error(enc, 107) == channel_errc::frame_too_large);
}

TEST_CASE("decoder errors") {
  SECTION("bad version") {
    CHECK(decode_error(bytes({0, 4, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0})) ==
          channel_errc::bad_version);
    CHECK(decode_error(bytes({2, 4, 0, 0, 0, 8})) == channel_errc::bad_version);
  }
  SECTION("unknown frame type") {
    CHECK(decode_error(bytes({1, 0, 0, 0, 0, 0})) == channel_errc::unknown_frame_type);
    CHECK(decode_error(bytes({1, 9, 0, 0, 0, 0})) == channel_errc::unknown_frame_type);
    CHECK(decode_error(bytes({1, 0xff, 0, 0, 0, 0})) == channel_errc::unknown_frame_type);
  }
  SECTION("oversized frame is refused from its header alone, before any body byte") {
    frame_decoder dec(1000);
    auto header = bytes({1, 3, 0, 0, 0x03, 0xf1}); // 1009 > 1000
    auto r = dec.decode(header);
    CHECK(r.error == channel_errc::frame_too_large);
    CHECK(decode_error(bytes({1, 3, 0xff, 0xff, 0xff, 0xff})) == channel_errc::frame_too_large);
    // A CLOSE reason beyond max_close_reason is oversized too.
    CHECK(decode_error(bytes({1, 7, 0, 0, 0x01, 0x03})) == channel_errc::frame_too_large);
  }
  SECTION("truncated fixed fields") {
    CHECK(decode_error(bytes({1, 1, 0, 0, 0, 31})) == channel_errc::frame_truncated);
    CHECK(decode_error(bytes({1, 2, 0, 0, 0, 32})) == channel_errc::frame_truncated);
    CHECK(decode_error(bytes({1, 3, 0, 0, 0, 7})) == channel_errc::frame_truncated);
    CHECK(decode_error(bytes({1, 4, 0, 0, 0, 0})) == channel_errc::frame_truncated);
    CHECK(decode_error(bytes({1, 5, 0, 0, 0, 4})) == channel_errc::frame_truncated);
    CHECK(decode_error(bytes({1, 6, 0, 0, 0, 7})) == channel_errc::frame_truncated);
    CHECK(decode_error(bytes({1, 7, 0, 0, 0, 1})) == channel_errc::frame_truncated);
    // CONTROL: the sequence number and the service byte.
    CHECK(decode_error(bytes({1, 8, 0, 0, 0, 8})) == channel_errc::frame_truncated);
  }
  SECTION("trailing bytes after the last field") {
    CHECK(decode_error(bytes({1, 1, 0, 0, 0, 33})) == channel_errc::frame_trailing_bytes);
    CHECK(decode_error(bytes({1, 2, 0, 0, 0, 34})) == channel_errc::frame_trailing_bytes);
    CHECK(decode_error(bytes({1, 4, 0, 0, 0, 9})) == channel_errc::frame_trailing_bytes);
    CHECK(decode_error(bytes({1, 5, 0, 0, 0, 16})) == channel_errc::frame_trailing_bytes);
    CHECK(decode_error(bytes({1, 6, 0, 1, 0, 8})) == channel_errc::frame_trailing_bytes);
  }
  SECTION("reserved WELCOME flag bits") {
    auto enc = encode(welcome_frame{make_id(1), true, 0, {}});
    enc[frame_header_size + 16] = std::byte{0x03};
    CHECK(decode_error(enc) == channel_errc::invalid_frame_field);
  }
}

TEST_CASE("a failed decoder stays failed until reset") {
  frame_decoder dec;
  auto bad = bytes({9, 9, 9, 9, 9, 9});
  CHECK(dec.decode(bad).error == channel_errc::bad_version);
  auto good = encode(ping_frame{1});
  auto r = dec.decode(good);
  CHECK(r.error == channel_errc::bad_version);
  CHECK_FALSE(r.value);
  dec.reset();
  r = dec.decode(good);
  CHECK_FALSE(r.error);
  REQUIRE(r.value);
  CHECK(std::get<ping_frame>(*r.value).token == 1);
}

TEST_CASE("reset drops a partial frame") {
  frame_decoder dec;
  auto enc = encode(ack_frame{5});
  auto r = dec.decode(std::span(enc).first(9));
  CHECK(r.consumed == 9);
  CHECK_FALSE(r.value);
  CHECK(dec.has_partial_frame());
  dec.reset();
  CHECK_FALSE(dec.has_partial_frame());
  r = dec.decode(enc);
  REQUIRE(r.value);
  CHECK(std::get<ack_frame>(*r.value).next_expected == 5);
}

TEST_CASE("the three ways to encode a frame write the same bytes") {
  const std::vector<std::byte> payload = bytes({1, 2, 3, 4, 5});
  const std::string reason = "too many sessions";
  const std::vector<frame> frames = {
      hello_frame{make_id(1), 7, {4096, 16384}},
      welcome_frame{make_id(2), true, 9, {1024, 8192}},
      data_frame{42, payload},
      ack_frame{5},
      close_frame{3, reason},
      control_frame{8, message_kind::administration, payload},
  };
  for (const frame& f : frames) {
    const std::vector<std::byte> expected = encode(f);
    REQUIRE(expected.size() == encoded_size(f));
    byte_buffer buffer;
    encode_frame(f, buffer);
    CHECK(std::vector<std::byte>(buffer.view().begin(), buffer.view().end()) == expected);
    // Into memory the caller has: exactly its size, or nothing when it does not fit.
    std::vector<std::byte> room(expected.size() + 3, std::byte{0xee});
    CHECK(encode_frame(f, std::span(room)) == expected.size());
    CHECK(std::vector<std::byte>(room.begin(), room.begin() + static_cast<std::ptrdiff_t>(
                                                                  expected.size())) == expected);
    CHECK(room.back() == std::byte{0xee});
    std::vector<std::byte> small(expected.size() - 1, std::byte{0xee});
    CHECK(encode_frame(f, std::span(small)) == 0);
    CHECK(small == std::vector<std::byte>(expected.size() - 1, std::byte{0xee}));
  }
  // A message in two pieces (a wrapped replay_ring entry) is one frame, in both containers.
  const std::vector<std::byte> head = bytes({1, 2}), tail = bytes({3, 4, 5});
  for (message_kind kind : {message_kind::application, message_kind::provisioning}) {
    std::vector<std::byte> v;
    encode_message_frame(9, kind, head, tail, v);
    byte_buffer b;
    encode_message_frame(9, kind, head, tail, b);
    CHECK(std::vector<std::byte>(b.view().begin(), b.view().end()) == v);
    const frame whole = kind == message_kind::application ? frame{data_frame{9, payload}}
                                                          : frame{control_frame{9, kind, payload}};
    CHECK(v == encode(whole));
  }
}
