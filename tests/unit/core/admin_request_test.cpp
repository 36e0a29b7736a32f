// core::admin_request: the administration service's grammar (docs/trust.md § Managing
// controllers), shared by the Linux accessory and the firmware accessory.
#include <lanyard/core/admin_request.hpp>

#include "support/counting_new.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace core = lanyard::core;
namespace req = lanyard::core::admin_requests;

namespace {

core::app_message msg(const std::string& text) {
  auto r = core::parse_app_message(text);
  REQUIRE(r);
  return r.message;
}

const std::string hex_fp(64, 'a');

} // namespace

TEST_CASE("the administration verbs, and only them") {
  for (const char* verb : {"controllers", "controller_remove", "controller_role", "pairing_window"})
    CHECK(core::is_admin_verb(verb));
  for (const char* verb : {"wifi_set", "controller", "ok", "", "Controllers"})
    CHECK_FALSE(core::is_admin_verb(verb));
}

TEST_CASE("requests parse with their fields") {
  auto r = core::parse_admin_request(msg("v1 controllers"));
  REQUIRE(r.ok);
  CHECK(std::holds_alternative<req::list>(r.request));

  r = core::parse_admin_request(msg("v1 controller_remove fp=" + hex_fp));
  REQUIRE(r.ok);
  const auto* rm = std::get_if<req::remove>(&r.request);
  REQUIRE(rm);
  CHECK(core::to_string(rm->controller, core::fingerprint_format::hex) == hex_fp);

  r = core::parse_admin_request(msg("v1 controller_role fp=" + hex_fp + " role=admin"));
  REQUIRE(r.ok);
  const auto* sr = std::get_if<req::set_role>(&r.request);
  REQUIRE(sr);
  CHECK(sr->role == core::paired_role::admin);
  r = core::parse_admin_request(msg("v1 controller_role fp=" + hex_fp + " role=user"));
  REQUIRE(r.ok);
  CHECK(std::get<req::set_role>(r.request).role == core::paired_role::user);

  r = core::parse_admin_request(msg("v1 pairing_window open=1"));
  REQUIRE(r.ok);
  CHECK(std::get<req::window>(r.request).open);
  CHECK(std::get<req::window>(r.request).duration == std::chrono::minutes(15));
  r = core::parse_admin_request(msg("v1 pairing_window open=1 minutes=3"));
  REQUIRE(r.ok);
  CHECK(std::get<req::window>(r.request).duration == std::chrono::minutes(3));
  r = core::parse_admin_request(msg("v1 pairing_window open=0"));
  REQUIRE(r.ok);
  CHECK_FALSE(std::get<req::window>(r.request).open);
}

TEST_CASE("malformed fields are refused with what they should be") {
  struct bad {
    std::string text;
    std::string_view detail;
  };
  const bad cases[] = {
      {"v1 controller_remove", "fp=64 hex digits"},
      {"v1 controller_remove fp=abc", "fp=64 hex digits"},
      {"v1 controller_remove fp=" + std::string(64, 'g'), "fp=64 hex digits"},
      {"v1 controller_role fp=" + hex_fp, "role=admin|user"},
      {"v1 controller_role fp=" + hex_fp + " role=boss", "role=admin|user"},
      {"v1 controller_role role=admin", "fp=64 hex digits"},
      {"v1 pairing_window", "open=0|1 [minutes=3..15]"},
      {"v1 pairing_window open=2", "open=0|1 [minutes=3..15]"},
      {"v1 pairing_window open=1 minutes=2", "open=0|1 [minutes=3..15]"},
      {"v1 pairing_window open=1 minutes=16", "open=0|1 [minutes=3..15]"},
      {"v1 pairing_window open=1 minutes=x", "open=0|1 [minutes=3..15]"},
      {"v1 wifi_set ssid=x", "not an administration verb"},
  };
  for (const bad& b : cases) {
    INFO(b.text);
    const auto r = core::parse_admin_request(msg(b.text));
    CHECK_FALSE(r.ok);
    CHECK(r.detail == b.detail);
  }
}

TEST_CASE("replies are valid app messages with the request's sequence number") {
  CHECK(core::encode_admin_ok(7) == "v1 ok re=7");
  CHECK(core::encode_admin_list_end(9, 2) == "v1 controllers re=9 count=2");

  const std::string refusal =
      core::encode_admin_refusal(3, core::admin_refusal::last_admin, std::string(60, 'x'));
  const auto parsed = core::parse_app_message(refusal);
  REQUIRE(parsed);
  CHECK(parsed.message.verb == "error");
  CHECK(parsed.message.get("reason") == "last_admin");
  CHECK(parsed.message.get("detail")->size() == 40); // cut to 40 bytes

  core::fingerprint fp{};
  fp.bytes.fill(0xab);
  // A name with spaces and a control character travels percent-encoded.
  const std::string entry =
      core::encode_admin_controller(4, fp, core::paired_role::user, "Ana's phone\n");
  const auto e = core::parse_app_message(entry);
  REQUIRE(e);
  CHECK(e.message.verb == "controller");
  std::string abab;
  for (int k = 0; k < 32; ++k)
    abab += "ab";
  CHECK(e.message.get("fp") == abab);
  CHECK(e.message.get("role") == "user");
  CHECK(core::percent_decode(*e.message.get("name")) == std::string("Ana's phone\n"));

  for (auto r : {core::admin_refusal::not_admin, core::admin_refusal::not_paired,
                 core::admin_refusal::last_admin, core::admin_refusal::bad_field,
                 core::admin_refusal::storage})
    CHECK_FALSE(core::to_string(r).empty());
}

TEST_CASE("a view parses the same request, and the replies are built without the heap") {
  // What the firmware accessory does: the request read in place, each reply on the stack.
  const std::string text = "v1 controller_role fp=" + hex_fp + " role=admin";
  const auto view = core::parse_app_message_view(text);
  REQUIRE(view);
  lanyard::test::alloc_count::allocations = 0;
  lanyard::test::alloc_count::counting = true;
  const core::admin_parse_result r = core::parse_admin_request(view.message);
  core::fingerprint fp{};
  fp.bytes.fill(0xab);
  // 40 bytes of control characters: each percent-encoded, 120 bytes in all.
  const core::app_message_writer refusal =
      core::admin_refusal_reply(5, core::admin_refusal::bad_field,
                                std::string_view("\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01"
                                                 "\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01"
                                                 "\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01"
                                                 "\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01"
                                                 "more"));
  const core::app_message_writer entry =
      core::admin_controller_reply(6, fp, core::paired_role::admin, "Ana's phone");
  const core::app_message_writer ok = core::admin_ok_reply(7);
  const core::app_message_writer end = core::admin_list_end_reply(8, 3);
  lanyard::test::alloc_count::counting = false;
  CHECK(lanyard::test::alloc_count::allocations == 0);

  REQUIRE(r.ok);
  const auto* role = std::get_if<req::set_role>(&r.request);
  REQUIRE(role);
  CHECK(role->role == core::paired_role::admin);
  // The same bytes as the string forms.
  CHECK(refusal.text() == core::encode_admin_refusal(5, core::admin_refusal::bad_field,
                                                     std::string(40, '\x01') + "more"));
  CHECK(refusal.text().find("detail=%01%01") != std::string_view::npos);
  CHECK(entry.text() ==
        core::encode_admin_controller(6, fp, core::paired_role::admin, "Ana's phone"));
  CHECK(entry.text().find("fp=" + core::to_string(fp, core::fingerprint_format::hex)) !=
        std::string_view::npos);
  CHECK(ok.text() == "v1 ok re=7");
  CHECK(end.text() == "v1 controllers re=8 count=3");
  // And a request read from a view is refused as the string form is.
  const auto bad = core::parse_app_message_view(std::string_view("v1 controller_remove fp=12"));
  REQUIRE(bad);
  CHECK_FALSE(core::parse_admin_request(bad.message).ok);
  CHECK(core::parse_admin_request(bad.message).detail ==
        core::parse_admin_request(msg("v1 controller_remove fp=12")).detail);
}
