#include "lanyard/core/app_message.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace lanyard::core;

TEST_CASE("app_message: a lamp command parses into verb and fields in order") {
  auto r = parse_app_message("v1 set on=1 brightness=40");
  REQUIRE(r);
  CHECK(r.message.verb == "set");
  REQUIRE(r.message.fields.size() == 2);
  CHECK(r.message.fields[0].first == "on");
  CHECK(r.message.get("brightness") == std::optional<std::string_view>("40"));
  CHECK(r.message.get_uint("brightness", 0, 100) == std::optional<std::uint64_t>(40));
  CHECK_FALSE(r.message.get_uint("brightness", 0, 39));
  CHECK_FALSE(r.message.get("missing"));
}

TEST_CASE("app_message: a verb alone, empty values and '=' inside values") {
  auto r = parse_app_message("v1 get");
  REQUIRE(r);
  CHECK(r.message.verb == "get");
  CHECK(r.message.fields.empty());
  auto r2 = parse_app_message("v1 error reason= text=a=b");
  REQUIRE(r2);
  CHECK(r2.message.get("reason") == std::optional<std::string_view>(""));
  CHECK(r2.message.get("text") == std::optional<std::string_view>("a=b"));
}

TEST_CASE("app_message: encode and parse round-trip") {
  app_message m("reading");
  m.set("n", std::uint64_t{17}).set("temperature_c", "21.50").set("note", percent_encode("a b%"));
  std::string text;
  REQUIRE_FALSE(encode_app_message(m, text));
  CHECK(text == "v1 reading n=17 temperature_c=21.50 note=a%20b%25");
  auto r = parse_app_message(text);
  REQUIRE(r);
  CHECK(r.message == m);
  CHECK(percent_decode(*r.message.get("note")) == std::optional<std::string>("a b%"));
  m.set("n", std::uint64_t{18});
  CHECK(m.fields.size() == 3);
  CHECK(m.get("n") == std::optional<std::string_view>("18"));
}

TEST_CASE("app_message: errors say what and where") {
  struct bad {
    const char* text;
    app_message_errc code;
    std::size_t position;
  };
  const bad cases[] = {
      {"", app_message_errc::empty, 0},
      {"hello", app_message_errc::bad_version, 0},
      {"V1 get", app_message_errc::bad_version, 0},
      {"v2 get", app_message_errc::unsupported_version, 0},
      {"v1", app_message_errc::bad_verb, 2},
      {"v1 Get", app_message_errc::bad_verb, 3},
      {"v1 set on", app_message_errc::bad_key, 7},
      {"v1 set =1", app_message_errc::bad_key, 7},
      {"v1 set On=1", app_message_errc::bad_key, 7},
      {"v1 set on=\x01", app_message_errc::bad_value, 10},
      {"v1 set on=1 on=0", app_message_errc::duplicate_key, 12},
      {"v1  get", app_message_errc::bad_spacing, 3},
      {"v1 get ", app_message_errc::bad_spacing, 6},
      {" v1 get", app_message_errc::bad_spacing, 0},
  };
  for (const bad& b : cases) {
    INFO(b.text);
    auto r = parse_app_message(b.text);
    CHECK(r.code == make_error_code(b.code));
    CHECK(r.position == b.position);
    CHECK(r.describe().find("application message: at byte") == 0);
  }
}

TEST_CASE("app_message: limits") {
  std::string many = "v1 x";
  for (int i = 0; i < 17; ++i)
    many += " k" + std::to_string(i) + "=1";
  CHECK(parse_app_message(many).code == make_error_code(app_message_errc::too_many_fields));
  std::string big = "v1 x k=" + std::string(129, 'a');
  CHECK(parse_app_message(big).code == make_error_code(app_message_errc::bad_value));
  CHECK(parse_app_message(std::string(1025, 'v')).code ==
        make_error_code(app_message_errc::too_long));
  CHECK(parse_app_message("v1 " + std::string(33, 'a')).code ==
        make_error_code(app_message_errc::bad_verb));
}

TEST_CASE("app_message: the encoder refuses what the parser would refuse") {
  std::string out = "untouched";
  CHECK(encode_app_message(app_message("Bad"), out) == make_error_code(app_message_errc::bad_verb));
  app_message m("set");
  m.fields.emplace_back("on", "1");
  m.fields.emplace_back("on", "0");
  CHECK(encode_app_message(m, out) == make_error_code(app_message_errc::duplicate_key));
  app_message sp("set");
  sp.set("name", "a b");
  CHECK(encode_app_message(sp, out) == make_error_code(app_message_errc::bad_value));
  CHECK(out == "untouched");
}

TEST_CASE("app_message: percent_decode refuses broken escapes") {
  CHECK_FALSE(percent_decode("%"));
  CHECK_FALSE(percent_decode("%4"));
  CHECK_FALSE(percent_decode("%zz"));
  CHECK(percent_decode("%41%62") == std::optional<std::string>("Ab"));
}
