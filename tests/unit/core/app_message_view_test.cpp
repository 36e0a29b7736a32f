// core::app_message_view and core::app_message_writer: application messages without the heap
// (what a firmware accessory serves administration and provisioning with).
#include "lanyard/core/app_message_view.hpp"

#include "support/counting_new.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace lanyard::core;
namespace alloc_count = lanyard::test::alloc_count;

TEST_CASE("app_message_view: views into the text, the same verdicts as parse_app_message") {
  const std::string text = "v1 controller_role controller=ab12 role=admin n=7";
  alloc_count::allocations = 0;
  alloc_count::counting = true;
  const app_message_view_parse_result r = parse_app_message_view(text);
  alloc_count::counting = false;
  CHECK(alloc_count::allocations == 0);
  REQUIRE(r);
  CHECK(r.message.verb == "controller_role");
  CHECK(r.message.verb.data() == text.data() + 3); // a view, not a copy
  REQUIRE(r.message.fields().size() == 3);
  CHECK(r.message.fields()[1].key == "role");
  CHECK(r.message.get("role") == std::optional<std::string_view>("admin"));
  CHECK(r.message.get_uint("n", 0, 10) == std::optional<std::uint64_t>(7));
  CHECK_FALSE(r.message.get_uint("n", 8, 10));
  CHECK_FALSE(r.message.get("missing"));

  // Every verdict of the string parser, code and position alike (it is this parser).
  for (const char* t : {"", "hello", "v2 get", "v1", "v1 Get", "v1 set on", "v1 set on=\x01",
                        "v1 set on=1 on=0", "v1  get", "v1 get ", "v1 get a=1 b=2"}) {
    INFO(t);
    const app_message_view_parse_result v = parse_app_message_view(std::string_view(t));
    const app_message_parse_result s = parse_app_message(std::string_view(t));
    CHECK(v.code == s.code);
    CHECK(v.position == s.position);
  }
  std::string many = "v1 x";
  for (int i = 0; i < 17; ++i)
    many += " k" + std::to_string(i) + "=1";
  CHECK(parse_app_message_view(many).code == make_error_code(app_message_errc::too_many_fields));
}

TEST_CASE("app_message_writer: builds in its own room what the parser reads back") {
  alloc_count::allocations = 0;
  alloc_count::counting = true;
  app_message_writer w("controller");
  w.set("re", std::uint64_t{42}).set("key", "0a1b").set("role", "user").set("n", std::uint64_t{0});
  alloc_count::counting = false;
  CHECK(alloc_count::allocations == 0);
  REQUIRE_FALSE(w.error());
  CHECK(w.text() == "v1 controller re=42 key=0a1b role=user n=0");
  CHECK(w.bytes().size() == w.text().size());
  const std::string copy(w.text());
  const app_message_parse_result back = parse_app_message(copy);
  REQUIRE(back);
  CHECK(back.message.get_uint("re", 0, 100) == std::optional<std::uint64_t>(42));
  // The largest number fits.
  app_message_writer big("x");
  big.set("n", std::uint64_t{18446744073709551615u});
  CHECK(big.text() == "v1 x n=18446744073709551615");
}

TEST_CASE("app_message_writer: the first error sticks and nothing more is written") {
  SECTION("a bad verb") {
    app_message_writer w("Bad");
    w.set("a", "1");
    CHECK(w.error() == make_error_code(app_message_errc::bad_verb));
    CHECK(w.text().empty());
  }
  SECTION("a key set twice is an error, not a replacement") {
    app_message_writer w("set");
    w.set("on", "1").set("on", "0");
    CHECK(w.error() == make_error_code(app_message_errc::duplicate_key));
    CHECK(w.text().empty());
  }
  SECTION("a bad key, then a good field: the first error stays") {
    app_message_writer w("set");
    w.set("On", "1").set("ok", "1");
    CHECK(w.error() == make_error_code(app_message_errc::bad_key));
  }
  SECTION("a value with a space, or longer than 128 bytes") {
    CHECK(app_message_writer("set").set("name", "a b").error() ==
          make_error_code(app_message_errc::bad_value));
    CHECK(app_message_writer("set").set("name", std::string(129, 'a')).error() ==
          make_error_code(app_message_errc::bad_value));
  }
  SECTION("a 17th field") {
    app_message_writer w("x");
    for (int i = 0; i < 16; ++i)
      w.set("k" + std::to_string(i), "1");
    REQUIRE_FALSE(w.error());
    w.set("k16", "1");
    CHECK(w.error() == make_error_code(app_message_errc::too_many_fields));
  }
  SECTION("more than 1,024 bytes") {
    app_message_writer w("x");
    for (int i = 0; i < 8; ++i)
      w.set("k" + std::to_string(i), std::string(128, 'v'));
    CHECK(w.error() == make_error_code(app_message_errc::too_long));
    CHECK(w.text().empty());
  }
}
