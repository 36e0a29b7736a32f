// The pairing frames' codec (core::encode_pairing_frame / decode_pairing_frame) and the buffer
// both pairing state machines read and write through (core::pairing_frame_buffer): every frame
// type round-trips with its edge values, every malformed frame gets its channel_errc, and
// nothing is decoded before the whole frame is there.
#include "lanyard/core/pairing_frame.hpp"

#include "lanyard/core/channel_error.hpp"
#include "lanyard/core/frame.hpp"
#include "lanyard/core/pairing_error.hpp"
#include "lanyard/core/pairing_frame_buffer.hpp"
#include "lanyard/core/pairing_responder.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

using namespace lanyard::core;

namespace {

std::vector<std::byte> bytes(std::initializer_list<int> v) {
  std::vector<std::byte> out;
  for (int b : v)
    out.push_back(std::byte(static_cast<unsigned char>(b)));
  return out;
}

std::vector<std::byte> encode(const pairing_frame& f) {
  std::vector<std::byte> out;
  encode_pairing_frame(f, out);
  return out;
}

// A header for `type` announcing `body` bytes, followed by `body_bytes`.
std::vector<std::byte> raw_frame(int type, std::uint32_t body,
                                 const std::vector<std::byte>& body_bytes) {
  std::vector<std::byte> out =
      bytes({1, type, static_cast<int>(body >> 24), static_cast<int>((body >> 16) & 0xff),
             static_cast<int>((body >> 8) & 0xff), static_cast<int>(body & 0xff)});
  out.insert(out.end(), body_bytes.begin(), body_bytes.end());
  return out;
}

std::vector<std::byte> raw_frame(int type, const std::vector<std::byte>& body) {
  return raw_frame(type, static_cast<std::uint32_t>(body.size()), body);
}

std::uint32_t announced_body(std::span<const std::byte> frame) {
  std::uint32_t n = 0;
  for (std::size_t i = 2; i < frame_header_size; ++i)
    n = (n << 8) | std::to_integer<std::uint8_t>(frame[i]);
  return n;
}

template <std::size_t N>
std::array<std::uint8_t, N> pattern(int first) {
  std::array<std::uint8_t, N> a{};
  for (std::size_t i = 0; i < N; ++i)
    a[i] = static_cast<std::uint8_t>(first + static_cast<int>(i));
  return a;
}

std::vector<std::uint8_t> salt_of(std::size_t n) {
  std::vector<std::uint8_t> s(n);
  for (std::size_t i = 0; i < n; ++i)
    s[i] = static_cast<std::uint8_t>(0xa0 + i);
  return s;
}

// Decodes `in`, which must be exactly one well-formed frame.
pairing_frame decode_whole(std::span<const std::byte> in) {
  pairing_decode_result r = decode_pairing_frame(in);
  REQUIRE_FALSE(r.error);
  REQUIRE(r.value);
  REQUIRE(r.consumed == in.size());
  return *r.value;
}

// Encodes `f` into `wire`, checks the header, decodes it back (the decoded frame's views point
// into `wire`).
template <class Frame>
Frame round_trip(std::vector<std::byte>& wire, const Frame& f, std::size_t expected_body) {
  wire = encode(f);
  REQUIRE(wire.size() == frame_header_size + expected_body);
  CHECK(std::to_integer<int>(wire[0]) == protocol_version);
  CHECK(std::to_integer<int>(wire[1]) == static_cast<int>(type_of(pairing_frame(f))));
  CHECK(announced_body(wire) == expected_body);
  pairing_frame decoded = decode_whole(wire);
  REQUIRE(std::holds_alternative<Frame>(decoded));
  CHECK(encode(decoded) == wire); // canonical: the decoded frame encodes to the same bytes
  return std::get<Frame>(decoded);
}

std::error_code decode_error(std::span<const std::byte> in) {
  pairing_decode_result r = decode_pairing_frame(in);
  CHECK_FALSE(r.value);
  CHECK(r.consumed == 0);
  return r.error;
}

// One well-formed frame of each type (and variants), for the generic checks below.
std::vector<std::vector<std::byte>> sample_frames() {
  static const std::vector<std::uint8_t> salt16 = salt_of(16), salt32 = salt_of(32);
  std::vector<std::vector<std::byte>> out;
  out.push_back(encode(pair_start_frame{pairing_method::setup_secret, "phone", pattern<32>(1)}));
  out.push_back(encode(pair_start_frame{pairing_method::setup_secret, "", pattern<32>(2)}));
  out.push_back(encode(pair_start_frame{pairing_method::setup_code, "Anna's phone", {}}));
  out.push_back(encode(pair_start_frame{pairing_method::confirmation, "", {}}));
  out.push_back(encode(pair_params_frame{1000, salt16, 20}));
  out.push_back(encode(pair_params_frame{1'000'000, salt32, 0}));
  out.push_back(encode(pair_share_frame{pattern<65>(4)}));
  out.push_back(encode(pair_challenge_frame{pattern<65>(5), pattern<32>(6), 19}));
  out.push_back(encode(pair_confirm_frame{pattern<32>(7)}));
  out.push_back(
      encode(pair_result_frame{pairing_status::paired, paired_role::admin, 20, 0, pattern<32>(8)}));
  out.push_back(encode(
      pair_result_frame{pairing_status::wrong_proof, paired_role::user, 19, 250, std::nullopt}));
  return out;
}

} // namespace

TEST_CASE("pairing frame types are 0x10-0x15, in the variant's order", "[core][pairing_frame]") {
  CHECK(type_of(pair_start_frame{}) == pairing_frame_type::start);
  CHECK(type_of(pair_params_frame{}) == pairing_frame_type::params);
  CHECK(type_of(pair_share_frame{}) == pairing_frame_type::share);
  CHECK(type_of(pair_challenge_frame{}) == pairing_frame_type::challenge);
  CHECK(type_of(pair_confirm_frame{}) == pairing_frame_type::confirm);
  CHECK(type_of(pair_result_frame{}) == pairing_frame_type::result);
  for (int t = 0; t < 256; ++t)
    CHECK(is_pairing_frame_type(static_cast<std::uint8_t>(t)) == (t >= 0x10 && t <= 0x15));
}

TEST_CASE("PAIR_START round-trips for every method and name length", "[core][pairing_frame]") {
  std::vector<std::byte> storage; // what the decoded views point into
  SECTION("setup secret: method, name, proof; byte by byte") {
    const auto wire = encode(pair_start_frame{pairing_method::setup_secret, "ab", pattern<32>(0)});
    std::vector<std::byte> expected = bytes({1, 0x10, 0, 0, 0, 36, 1, 2, 'a', 'b'});
    for (int i = 0; i < 32; ++i)
      expected.push_back(std::byte(static_cast<unsigned char>(i)));
    CHECK(wire == expected);
  }
  SECTION("setup code and confirmation carry no proof") {
    CHECK(encode(pair_start_frame{pairing_method::setup_code, "ab", {}}) ==
          bytes({1, 0x10, 0, 0, 0, 4, 2, 2, 'a', 'b'}));
    CHECK(encode(pair_start_frame{pairing_method::confirmation, "", {}}) ==
          bytes({1, 0x10, 0, 0, 0, 2, 3, 0}));
  }
  SECTION("names: empty, UTF-8, 64 bytes") {
    const std::string n64(64, 'n');
    for (std::string_view name : {std::string_view(),
                                  std::string_view("K\xc3\xbc"
                                                   "che"),
                                  std::string_view(n64)}) {
      auto s =
          round_trip(storage, pair_start_frame{pairing_method::setup_secret, name, pattern<32>(9)},
                     2 + name.size() + 32);
      CHECK(s.method == pairing_method::setup_secret);
      CHECK(s.name == name);
      REQUIRE(s.proof);
      CHECK(*s.proof == pattern<32>(9));

      for (auto m : {pairing_method::setup_code, pairing_method::confirmation}) {
        auto t = round_trip(storage, pair_start_frame{m, name, {}}, 2 + name.size());
        CHECK(t.method == m);
        CHECK(t.name == name);
        CHECK_FALSE(t.proof);
      }
    }
  }
  SECTION("the largest: a 64-byte name and a proof, within max_pairing_body") {
    const std::string n64(64, 'x');
    const auto wire = encode(pair_start_frame{pairing_method::setup_secret, n64, pattern<32>(1)});
    CHECK(announced_body(wire) == 2 + 64 + 32);
    CHECK(announced_body(wire) <= max_pairing_body);
  }
  SECTION("names longer than 64 bytes are truncated by the encoder") {
    for (std::size_t len : {65u, 100u, 255u, 1000u}) {
      std::string name(len, 'a');
      for (std::size_t i = 0; i < len; ++i)
        name[i] = static_cast<char>('a' + i % 26);
      auto s =
          round_trip(storage, pair_start_frame{pairing_method::setup_secret, name, pattern<32>(3)},
                     2 + 64 + 32);
      CHECK(s.name == std::string_view(name).substr(0, 64));
      REQUIRE(s.proof);
      CHECK(*s.proof == pattern<32>(3));
      auto t = round_trip(storage, pair_start_frame{pairing_method::setup_code, name, {}}, 2 + 64);
      CHECK(t.name == std::string_view(name).substr(0, 64));
    }
  }
  SECTION("the decoded name is a view into the input") {
    const auto wire = encode(pair_start_frame{pairing_method::setup_code, "view", {}});
    auto s = std::get<pair_start_frame>(decode_whole(wire));
    CHECK(reinterpret_cast<const std::byte*>(s.name.data()) == wire.data() + 8);
  }
}

TEST_CASE("PAIR_PARAMS round-trips with salts of 16 and 32 bytes", "[core][pairing_frame]") {
  std::vector<std::byte> storage; // what the decoded views point into
  SECTION("bytes") {
    const auto salt = salt_of(16);
    std::vector<std::byte> expected = bytes({1, 0x11, 0, 0, 0, 22, 0, 0, 0x03, 0xe8, 16});
    for (auto b : salt)
      expected.push_back(std::byte(b));
    expected.push_back(std::byte(20));
    CHECK(encode(pair_params_frame{1000, salt, 20}) == expected);
  }
  SECTION("edge values") {
    for (std::size_t n : {16u, 17u, 31u, 32u}) {
      const auto salt = salt_of(n);
      for (std::uint32_t it : {1u, 1000u, 999'999u, 1'000'000u}) {
        for (std::uint8_t left : {0, 1, 20, 255}) {
          auto p = round_trip(storage, pair_params_frame{it, salt, left}, 4 + 1 + n + 1);
          CHECK(p.iterations == it);
          CHECK(std::equal(p.salt.begin(), p.salt.end(), salt.begin(), salt.end()));
          CHECK(p.attempts_left == left);
        }
      }
    }
  }
  SECTION("a salt longer than 32 bytes is truncated by the encoder") {
    const auto salt = salt_of(40);
    auto p = round_trip(storage, pair_params_frame{1000, salt, 3}, 4 + 1 + 32 + 1);
    CHECK(std::equal(p.salt.begin(), p.salt.end(), salt.begin(), salt.begin() + 32));
  }
}

TEST_CASE("PAIR_SHARE, PAIR_CHALLENGE and PAIR_CONFIRM round-trip", "[core][pairing_frame]") {
  std::vector<std::byte> storage; // what the decoded views point into
  for (int first : {0, 0x80, 0xff}) {
    auto s = round_trip(storage, pair_share_frame{pattern<65>(first)}, 65);
    CHECK(s.share == pattern<65>(first));

    for (std::uint8_t left : {0, 19, 255}) {
      auto c = round_trip(storage,
                          pair_challenge_frame{pattern<65>(first), pattern<32>(first + 1), left},
                          65 + 32 + 1);
      CHECK(c.share == pattern<65>(first));
      CHECK(c.confirm == pattern<32>(first + 1));
      CHECK(c.attempts_left == left);
    }

    auto f = round_trip(storage, pair_confirm_frame{pattern<32>(first)}, 32);
    CHECK(f.confirm == pattern<32>(first));
  }
  SECTION("bytes of PAIR_CONFIRM") {
    std::vector<std::byte> expected = bytes({1, 0x14, 0, 0, 0, 32});
    for (int i = 0; i < 32; ++i)
      expected.push_back(std::byte(static_cast<unsigned char>(i + 1)));
    CHECK(encode(pair_confirm_frame{pattern<32>(1)}) == expected);
  }
}

TEST_CASE("PAIR_RESULT round-trips every status, with and without proof", "[core][pairing_frame]") {
  std::vector<std::byte> storage; // what the decoded views point into
  SECTION("bytes") {
    CHECK(encode(pair_result_frame{pairing_status::wrong_proof, paired_role::user, 19, 250,
                                   std::nullopt}) ==
          bytes({1, 0x15, 0, 0, 0, 8, 1, 1, 19, 0, 0, 0, 250, 0}));
    std::vector<std::byte> expected = bytes({1, 0x15, 0, 0, 0, 40, 0, 0, 20, 0, 0, 0, 0, 1});
    for (int i = 0; i < 32; ++i)
      expected.push_back(std::byte(static_cast<unsigned char>(i + 2)));
    CHECK(encode(pair_result_frame{pairing_status::paired, paired_role::admin, 20, 0,
                                   pattern<32>(2)}) == expected);
  }
  SECTION("every status, both roles, edge counters, no proof") {
    for (int st = 0; st <= 7; ++st) {
      for (auto role : {paired_role::admin, paired_role::user}) {
        for (std::uint32_t retry : {0u, 250u, 8000u, 0xffffffffu}) {
          const pair_result_frame f{static_cast<pairing_status>(st), role, 255, retry,
                                    std::nullopt};
          auto r = round_trip(storage, f, 8);
          CHECK(r.status == f.status);
          CHECK(r.role == role);
          CHECK(r.attempts_left == 255);
          CHECK(r.retry_after_ms == retry);
          CHECK_FALSE(r.proof);
        }
      }
    }
  }
  SECTION("paired with the accessory's proof") {
    for (auto role : {paired_role::admin, paired_role::user}) {
      auto r = round_trip(
          storage, pair_result_frame{pairing_status::paired, role, 0, 0, pattern<32>(0xe0)}, 40);
      CHECK(r.status == pairing_status::paired);
      CHECK(r.role == role);
      REQUIRE(r.proof);
      CHECK(*r.proof == pattern<32>(0xe0));
    }
  }
}

TEST_CASE("a frame followed by more bytes: only the frame is consumed", "[core][pairing_frame]") {
  std::vector<std::byte> in;
  for (const auto& f : sample_frames())
    in.insert(in.end(), f.begin(), f.end());
  std::vector<std::byte> hello;
  encode_frame(hello_frame{}, hello);
  in.insert(in.end(), hello.begin(), hello.end());

  std::span<const std::byte> rest(in);
  for (const auto& f : sample_frames()) {
    pairing_decode_result r = decode_pairing_frame(rest);
    REQUIRE_FALSE(r.error);
    REQUIRE(r.value);
    REQUIRE(r.consumed == f.size());
    CHECK(encode(*r.value) == f);
    rest = rest.subspan(r.consumed);
  }
  CHECK(decode_error(rest) == channel_errc::not_paired);
}

TEST_CASE("nothing is decoded before the whole frame is there", "[core][pairing_frame]") {
  for (const auto& f : sample_frames()) {
    for (std::size_t n = 0; n < f.size(); ++n) {
      pairing_decode_result r = decode_pairing_frame(std::span(f).first(n));
      CHECK_FALSE(r.error);
      CHECK_FALSE(r.value);
      CHECK(r.consumed == 0);
    }
    CHECK(decode_pairing_frame(f).consumed == f.size());
  }
}

TEST_CASE("malformed headers", "[core][pairing_frame]") {
  SECTION("a bad version byte, as soon as the type is there") {
    for (int v : {0, 2, 0x10, 0xff}) {
      CHECK(decode_error(bytes({v, 0x10})) == channel_errc::bad_version);
      auto whole = encode(pair_confirm_frame{});
      whole[0] = std::byte(static_cast<unsigned char>(v));
      CHECK(decode_error(whole) == channel_errc::bad_version);
    }
  }
  SECTION("an unknown type") {
    for (int t : {0x00, 0x08, 0x0f, 0x16, 0x20, 0x7f, 0xff})
      CHECK(decode_error(bytes({1, t})) == channel_errc::unknown_frame_type);
  }
  SECTION("a channel frame (HELLO...) from a controller that has not paired") {
    for (int t = 0x01; t <= 0x07; ++t)
      CHECK(decode_error(bytes({1, t})) == channel_errc::not_paired);
    std::vector<std::byte> hello;
    encode_frame(hello_frame{}, hello);
    CHECK(decode_error(hello) == channel_errc::not_paired);
    std::vector<std::byte> close;
    encode_frame(close_frame{}, close);
    CHECK(decode_error(close) == channel_errc::not_paired);
  }
  SECTION("a body longer than max_pairing_body, before the body arrives") {
    for (int t = 0x10; t <= 0x15; ++t) {
      for (std::uint32_t len : {std::uint32_t{max_pairing_body + 1}, 0x1000u, 0xffffffffu})
        CHECK(decode_error(raw_frame(t, len, {})) == channel_errc::frame_too_large);
      // 128 is allowed: the header alone waits for the body.
      pairing_decode_result r = decode_pairing_frame(raw_frame(t, max_pairing_body, {}));
      CHECK_FALSE(r.error);
      CHECK_FALSE(r.value);
    }
  }
}

TEST_CASE("malformed bodies: truncated and trailing bytes", "[core][pairing_frame]") {
  SECTION("every sample frame, announcing each shorter body and longer ones") {
    for (const auto& f : sample_frames()) {
      const int type = std::to_integer<int>(f[1]);
      const std::vector<std::byte> body(f.begin() + frame_header_size, f.end());
      CAPTURE(type, body.size());
      // The header announces fewer bytes than the type's fields need, at every length.
      for (std::size_t n = 0; n < body.size(); ++n) {
        CAPTURE(n);
        CHECK(
            decode_error(raw_frame(type, std::vector<std::byte>(body.begin(), body.begin() + n))) ==
            channel_errc::frame_truncated);
      }
      // ... or more than they take.
      for (std::size_t extra : {1u, 2u, 32u}) {
        if (body.size() + extra > max_pairing_body) continue;
        std::vector<std::byte> longer = body;
        longer.resize(body.size() + extra, std::byte{0});
        CHECK(decode_error(raw_frame(type, longer)) == channel_errc::frame_trailing_bytes);
      }
    }
  }
  SECTION("PAIR_START by setup secret without a proof is truncated") {
    CHECK(decode_error(raw_frame(0x10, bytes({1, 2, 'a', 'b'}))) == channel_errc::frame_truncated);
  }
  SECTION("PAIR_START by setup code with a proof has trailing bytes") {
    auto wire = encode(pair_start_frame{pairing_method::setup_code, "ab", pattern<32>(0)});
    CHECK(decode_error(wire) == channel_errc::frame_trailing_bytes);
  }
  SECTION("PAIR_RESULT saying it has a proof without one is truncated") {
    CHECK(decode_error(raw_frame(0x15, bytes({0, 0, 0, 0, 0, 0, 0, 1}))) ==
          channel_errc::frame_truncated);
  }
  SECTION("an empty body of each type") {
    for (int t = 0x10; t <= 0x15; ++t)
      CHECK(decode_error(raw_frame(t, {})) == channel_errc::frame_truncated);
  }
  SECTION("a full-size body of a fixed-size type") {
    CHECK(decode_error(raw_frame(0x12, std::vector<std::byte>(max_pairing_body))) ==
          channel_errc::frame_trailing_bytes);
  }
}

TEST_CASE("malformed bodies: invalid field values", "[core][pairing_frame]") {
  const auto invalid = [](const std::vector<std::byte>& wire) {
    return decode_error(wire) == channel_errc::invalid_frame_field;
  };
  SECTION("PAIR_START: method 0 and 4, name longer than 64 bytes") {
    for (int m : {0, 4, 0xff})
      CHECK(invalid(raw_frame(0x10, bytes({m, 2, 'a', 'b'}))));
    for (int m : {2, 3}) {
      std::vector<std::byte> body = bytes({m, 65});
      body.resize(2 + 65, std::byte{'n'});
      CHECK(invalid(raw_frame(0x10, body)));
      body = bytes({m, 64});
      body.resize(2 + 64, std::byte{'n'});
      CHECK_FALSE(decode_pairing_frame(raw_frame(0x10, body)).error);
    }
    std::vector<std::byte> body = bytes({1, 65});
    body.resize(2 + 65 + 32, std::byte{'n'});
    CHECK(invalid(raw_frame(0x10, body)));
  }
  SECTION("PAIR_PARAMS: salt of 15 and 33 bytes") {
    for (int n : {0, 15, 33}) {
      std::vector<std::byte> body = bytes({0, 0, 0x03, 0xe8, n});
      body.resize(body.size() + static_cast<std::size_t>(n) + 1, std::byte{0x5a});
      CHECK(invalid(raw_frame(0x11, body)));
    }
  }
  SECTION("PAIR_PARAMS: 0 iterations, more than 1,000,000") {
    for (std::uint32_t it : {0u, 1'000'001u, 0x7fffffffu, 0xffffffffu}) {
      std::vector<std::byte> body =
          bytes({static_cast<int>(it >> 24), static_cast<int>((it >> 16) & 0xff),
                 static_cast<int>((it >> 8) & 0xff), static_cast<int>(it & 0xff), 16});
      body.resize(body.size() + 16 + 1, std::byte{0x5a});
      CHECK(invalid(raw_frame(0x11, body)));
    }
  }
  SECTION("PAIR_RESULT: status above 7, role 2") {
    for (int st : {8, 0x80, 0xff})
      CHECK(invalid(raw_frame(0x15, bytes({st, 0, 0, 0, 0, 0, 0, 0}))));
    for (int role : {2, 0xff})
      CHECK(invalid(raw_frame(0x15, bytes({0, role, 0, 0, 0, 0, 0, 0}))));
  }
  SECTION("PAIR_RESULT: has_proof 2, or a proof with a status other than paired") {
    for (int flag : {2, 0xff})
      CHECK(invalid(raw_frame(0x15, bytes({0, 0, 0, 0, 0, 0, 0, flag}))));
    for (int st = 1; st <= 7; ++st) {
      std::vector<std::byte> body = bytes({st, 0, 0, 0, 0, 0, 0, 1});
      body.resize(8 + 32, std::byte{0x11});
      CHECK(invalid(raw_frame(0x15, body)));
    }
  }
}

TEST_CASE("pairing_frame_buffer: frames fed in pieces, then what follows them",
          "[core][pairing_frame]") {
  const auto start = encode(pair_start_frame{pairing_method::setup_secret, "tab", pattern<32>(5)});
  const auto confirm = encode(pair_confirm_frame{pattern<32>(6)});
  std::vector<std::byte> hello;
  encode_frame(hello_frame{}, hello);
  std::vector<std::byte> stream = start;
  stream.insert(stream.end(), confirm.begin(), confirm.end());
  stream.insert(stream.end(), hello.begin(), hello.end());
  const std::size_t pairing_bytes = start.size() + confirm.size();

  for (std::size_t piece : {1u, 2u, 5u, 7u, 40u, 1000u}) {
    CAPTURE(piece);
    pairing_frame_buffer buf;
    std::vector<pairing_frame_type> types;
    std::string name;
    std::size_t pos = 0; // bytes of the stream the buffer took
    std::error_code error;
    while (pos < stream.size() && !error) {
      const auto chunk = std::span(stream).subspan(pos, std::min(piece, stream.size() - pos));
      std::size_t used = 0;
      for (;;) {
        used += buf.feed(chunk.subspan(used));
        pairing_decode_result r = buf.next();
        if (r.error) {
          error = r.error;
          break;
        }
        if (!r.value) {
          CHECK(used == chunk.size()); // an incomplete frame takes all it is given
          break;
        }
        types.push_back(type_of(*r.value));
        if (auto* s = std::get_if<pair_start_frame>(&*r.value)) name.assign(s->name);
        // Never a byte past a frame's end: after the last pairing frame, the rest of the read
        // (the channel's bytes) is still the caller's.
        CHECK(pos + used == (types.size() == 1 ? start.size() : pairing_bytes));
      }
      pos += used;
    }
    CHECK(types == std::vector{pairing_frame_type::start, pairing_frame_type::confirm});
    CHECK(name == "tab");
    // The HELLO: a channel frame, which the responder answers with CLOSE(not_paired). Of it the
    // buffer took no more than a header.
    CHECK(error == channel_errc::not_paired);
    CHECK(pos >= pairing_bytes + 2);
    CHECK(pos <= pairing_bytes + frame_header_size);
    CHECK(buf.feed(std::span(stream).subspan(pos)) == 0);
  }
}

TEST_CASE("pairing_frame_buffer: byte by byte, nothing until the last byte",
          "[core][pairing_frame]") {
  for (const auto& f : sample_frames()) {
    pairing_frame_buffer buf;
    for (std::size_t i = 0; i + 1 < f.size(); ++i) {
      CHECK(buf.wanted() >= 1);
      CHECK(buf.feed(std::span(f).subspan(i, 1)) == 1);
      pairing_decode_result r = buf.next();
      REQUIRE_FALSE(r.error);
      REQUIRE_FALSE(r.value);
      CHECK(r.consumed == 0);
      CHECK(buf.buffered() == i + 1);
    }
    CHECK(buf.wanted() == 1);
    // The last byte, with the next frame's first behind it: only the last byte is taken.
    const std::vector<std::byte> tail{f.back(), std::byte{1}, std::byte{0x10}};
    CHECK(buf.feed(tail) == 1);
    CHECK(buf.wanted() == 0);
    pairing_decode_result r = buf.next();
    REQUIRE(r.value);
    CHECK(r.consumed == f.size());
    CHECK(encode(*r.value) == f);
    CHECK(buf.buffered() == 0);
    r = buf.next();
    CHECK_FALSE(r.value);
    CHECK_FALSE(r.error);
    // The same frame again, in one piece with more behind it: taken up to its end.
    std::vector<std::byte> twice = f;
    twice.insert(twice.end(), f.begin(), f.end());
    CHECK(buf.feed(twice) == f.size());
    r = buf.next();
    REQUIRE(r.value);
    CHECK(encode(*r.value) == f);
  }
}

TEST_CASE("pairing_frame_buffer: an error is reported again, and nothing more is taken",
          "[core][pairing_frame]") {
  SECTION("a bad version") {
    pairing_frame_buffer buf;
    CHECK(buf.feed(bytes({2, 0x10, 0, 0})) == 4);
    CHECK(buf.next().error == channel_errc::bad_version);
    CHECK(buf.next().error == channel_errc::bad_version);
    CHECK(buf.wanted() == 0);
    CHECK(buf.feed(bytes({0, 5, 1, 2, 3})) == 0);
  }
  SECTION("a body longer than any pairing frame's: refused at its header") {
    pairing_frame_buffer buf;
    CHECK(buf.feed(bytes({1, 0x10, 0, 0, 0, 129, 1, 2, 3})) == frame_header_size);
    CHECK(buf.next().error == channel_errc::frame_too_large);
    CHECK(buf.feed(bytes({1, 2, 3})) == 0);
  }
}

TEST_CASE("pairing_frame_buffer: output is queued frame by frame and handed out once",
          "[core][pairing_frame]") {
  pairing_frame_buffer buf;
  CHECK(buf.take_output().empty());
  const auto a = encode(pair_confirm_frame{pattern<32>(1)});
  const auto b = encode(
      pair_result_frame{pairing_status::window_closed, paired_role::user, 0, 0, std::nullopt});
  buf.send(pair_confirm_frame{pattern<32>(1)});
  buf.send_raw(b);
  std::vector<std::byte> expected = a;
  expected.insert(expected.end(), b.begin(), b.end());
  const auto out = buf.take_output();
  CHECK(std::vector<std::byte>(out.begin(), out.end()) == expected);
  CHECK(buf.take_output().empty());
  buf.send(pair_confirm_frame{pattern<32>(1)});
  const auto again = buf.take_output();
  CHECK(std::vector<std::byte>(again.begin(), again.end()) == a);
}

TEST_CASE("pairing_frame_buffer: its output room holds a whole exchange of either side",
          "[core][pairing_frame]") {
  // The largest frame of each kind each side sends: the buffer's room must hold all of one
  // side's frames of an exchange without take_output() (file comment of pairing_frame_buffer).
  std::array<std::uint8_t, max_pairing_salt> salt{};
  const std::size_t params = encoded_size(pair_params_frame{1000, salt, 20});
  const std::size_t challenge =
      encoded_size(pair_challenge_frame{pattern<65>(1), pattern<32>(2), 20});
  const std::size_t result = encoded_size(
      pair_result_frame{pairing_status::paired, paired_role::admin, 20, 0, pattern<32>(3)});
  // Or, instead of the RESULT, the CLOSE(not_paired) a channel frame gets.
  const std::size_t close = frame_header_size + close_body_min_size + not_paired_reason.size();
  CHECK(params + challenge + std::max(result, close) <= pairing_frame_buffer::output_capacity);
  const std::string name(max_pairing_name, 'n');
  const std::size_t start =
      encoded_size(pair_start_frame{pairing_method::setup_secret, name, pattern<32>(4)});
  const std::size_t share = encoded_size(pair_share_frame{pattern<65>(5)});
  const std::size_t confirm = encoded_size(pair_confirm_frame{pattern<32>(6)});
  CHECK(start + share + confirm <= pairing_frame_buffer::output_capacity);

  pairing_frame_buffer buf;
  buf.send(pair_params_frame{1000, salt, 20});
  buf.send(pair_challenge_frame{pattern<65>(1), pattern<32>(2), 20});
  buf.send(pair_result_frame{pairing_status::paired, paired_role::admin, 20, 0, pattern<32>(3)});
  CHECK(buf.take_output().size() == params + challenge + result);
}

TEST_CASE("encode_pairing_frame into caller memory: the same bytes, or nothing if too small",
          "[core][pairing_frame]") {
  for (const auto& f : sample_frames()) {
    pairing_decode_result r = decode_pairing_frame(f);
    REQUIRE(r.value);
    CHECK(encoded_size(*r.value) == f.size());
    std::array<std::byte, max_pairing_frame_size> room{};
    REQUIRE(encode_pairing_frame(*r.value, room) == f.size());
    CHECK(std::equal(f.begin(), f.end(), room.begin()));
    CHECK(encode_pairing_frame(*r.value, std::span(room).first(f.size() - 1)) == 0);
  }
}
