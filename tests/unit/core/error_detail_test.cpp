// core::error_detail, the one "error plus detail" type (docs/design/error-model.md §7.2):
// message() and its fallbacks, fields, and the parse results' to_error_detail(). Also runs in
// the core-freestanding build (-fno-exceptions -fno-rtti).
#include "lanyard/core/error_detail.hpp"

#include "lanyard/core/setup_payload.hpp"
#include "lanyard/core/txt_error.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <system_error>
#include <type_traits>

using namespace lanyard::core;

// link::link_error and trust::store_status are aliases: `return {ec, "text"};` and `return {};`
// must keep building one, and without warnings (every member has a default initializer).
static_assert(std::is_aggregate_v<error_detail>);
static_assert(std::is_nothrow_default_constructible_v<error_detail>);

namespace {
error_detail braced(std::error_code ec) {
  return {ec, "the interface has no IPv4 address"};
}
} // namespace

TEST_CASE("error_detail: success is ok, whatever the detail says", "[error_detail]") {
  const error_detail none;
  CHECK_FALSE(none);
  CHECK(none.ok());
  CHECK_FALSE(none.failed());
  CHECK(none.message() == "ok");
  const error_detail stale{{}, "left over"};
  CHECK(stale.ok());
  CHECK(stale.message() == "ok");
}

TEST_CASE("error_detail: message() is the detail, else the code's message", "[error_detail]") {
  const std::error_code ec = make_error_code(std::errc::permission_denied);
  const error_detail bare{ec};
  CHECK(bare);
  CHECK(bare.failed());
  CHECK_FALSE(bare.ok());
  CHECK(bare.message() == ec.message());
  const error_detail d = braced(ec);
  CHECK(d.failed());
  CHECK(d.code == ec);
  CHECK(d.message() == "the interface has no IPv4 address");
  CHECK(d.fields.empty());
}

TEST_CASE("error_detail: with() appends fields, find/text/number read them", "[error_detail]") {
  error_detail d{make_error_code(std::errc::connection_refused), "connecting failed"};
  d.with(field_key::peer, std::string("198.18.1.3:7443"))
      .with(field_key::port, std::uint64_t{7443})
      .with(field_key::os_error, std::int64_t{111})
      .with(field_key::line, std::int64_t{-1})
      .with(field_key::step, true)
      .with(field_key::port, std::uint64_t{1});
  REQUIRE(d.fields.size() == 6);
  CHECK(d.fields[0].key == "peer");

  const field* peer = d.find(field_key::peer);
  REQUIRE(peer != nullptr);
  CHECK(peer->key == field_key::peer);
  CHECK(d.find(field_key::interface) == nullptr);

  CHECK(d.text(field_key::peer) == "198.18.1.3:7443");
  CHECK_FALSE(d.text(field_key::port));      // a number, not text
  CHECK_FALSE(d.text(field_key::interface)); // absent

  CHECK(d.number(field_key::port) == std::uint64_t{7443}); // the first of two
  CHECK(d.number(field_key::os_error) == std::uint64_t{111});
  CHECK_FALSE(d.number(field_key::line)); // negative
  CHECK_FALSE(d.number(field_key::step)); // a bool
  CHECK_FALSE(d.number(field_key::peer)); // text
  CHECK_FALSE(d.number(field_key::mode)); // absent
  // Fields do not change the line a person reads.
  CHECK(d.message() == "connecting failed");
}

TEST_CASE("txt_error_detail::to_error_detail keeps the sentence and the position",
          "[error_detail][txt]") {
  CHECK(txt_error_detail{}.to_error_detail().ok());

  txt_error_detail t;
  t.code = txt_errc::string_too_long;
  t.string_index = 2;
  t.offset = 9;
  error_detail d = t.to_error_detail();
  CHECK(d.code == txt_errc::string_too_long);
  CHECK(d.message() == "TXT string 3 at byte 9 is longer than 255 bytes");
  CHECK(d.number(field_key::position) == std::uint64_t{9});

  t.code = txt_errc::bad_key_byte;
  t.bad_offset = 11;
  CHECK(t.to_error_detail().number(field_key::position) == std::uint64_t{11});

  t = {};
  t.code = txt_errc::record_too_long;
  t.record_size = 70000;
  d = t.to_error_detail();
  CHECK(d.message() == t.describe());
  CHECK(d.fields.empty());
}

TEST_CASE("payload_parse_result::to_error_detail keeps the sentence and the position",
          "[error_detail][setup_payload]") {
  payload_parse_result r = parse_setup_payload("WIFI:S:home;;");
  REQUIRE(r.code == payload_errc::bad_prefix);
  error_detail d = r.to_error_detail();
  CHECK(d.code == payload_errc::bad_prefix);
  CHECK(d.message() == r.describe());
  CHECK(d.number(field_key::position) == std::uint64_t{0});
  REQUIRE(d.fields.size() == 1); // no character: the payload carries the setup secret

  r = parse_setup_payload("  LNY1:AEAA-O3DB-N*YC");
  REQUIRE(r.code == payload_errc::bad_character);
  CHECK(r.to_error_detail().number(field_key::position) == std::uint64_t{18});

  // For other codes `position` counts something else (a version, missing bytes): no field.
  r = parse_setup_payload(" \n");
  REQUIRE(r.code == payload_errc::empty);
  d = r.to_error_detail();
  CHECK(d.failed());
  CHECK(d.fields.empty());

  CHECK(payload_parse_result{}.to_error_detail().ok());
}
