// core::provisioning_responder: the accessory's provisioning state machine, driven the way a
// firmware drives it (app messages in, the Wi-Fi driver's verdict in, replies out).
#include <lanyard/core/provisioning_responder.hpp>

#include "support/counting_new.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <cstring>
#include <string>
#include <vector>

using lanyard::core::app_message;
using lanyard::core::parse_app_message;
using lanyard::core::provisioning_errc;
using lanyard::core::provisioning_failure;
using lanyard::core::provisioning_responder;
using phase = lanyard::core::provisioning_responder::phase;
constexpr auto admin = provisioning_responder::sender::admin;
using views = std::vector<std::string_view>; // the driver's addresses
namespace alloc_count = lanyard::test::alloc_count;

namespace {

app_message msg(const std::string& text) {
  auto r = parse_app_message(std::as_bytes(std::span(text.data(), text.size())));
  REQUIRE(r);
  return r.message;
}

app_message wifi_set(const std::string& ssid, const std::string& pass) {
  lanyard::core::wifi_credentials c{ssid, pass};
  std::string text;
  REQUIRE(!lanyard::core::encode_wifi_credentials(c, text));
  return msg(text);
}

} // namespace

TEST_CASE("provisioning responder: credentials → connecting + join; joined → connected, done",
          "[core][provisioning]") {
  provisioning_responder r;
  CHECK(r.current() == phase::idle);
  provisioning_responder::outcome o;
  REQUIRE(!r.on_message(wifi_set("HomeLAN", "correct-horse"), 7, admin, o));
  CHECK(o.reply == "v1 wifi_status re=7 state=connecting");
  REQUIRE(o.join.has_value());
  CHECK(o.join->ssid == "HomeLAN");
  CHECK(o.join->passphrase == "correct-horse");
  CHECK(r.current() == phase::joining);
  CHECK(r.request() == 7);

  std::string_view out;
  REQUIRE(!r.joined(views{"198.18.1.3", "2001:2:0:1::3"}, out));
  CHECK(out == "v1 wifi_status re=7 state=connected addresses=198.18.1.3,2001:2:0:1::3");
  CHECK(r.current() == phase::done);

  // Provisioned: another request is refused, and nothing changes.
  REQUIRE(!r.on_message(wifi_set("Other", "correct-horse"), 8, admin, o));
  CHECK(o.reply == "v1 error re=8 reason=not_in_setup_mode detail=already%20provisioned");
  CHECK(!o.join);
  CHECK(r.current() == phase::done);
}

TEST_CASE("provisioning responder: a failure reports the reason and goes back to setup mode",
          "[core][provisioning]") {
  provisioning_responder r;
  provisioning_responder::outcome o;
  REQUIRE(!r.on_message(wifi_set("HomeLAN", "wrong-horse"), 1, admin, o));
  std::string_view out;
  REQUIRE(!r.failed(provisioning_failure::auth_error, out));
  CHECK(out == "v1 wifi_status re=1 state=failed reason=auth_error");
  CHECK(r.current() == phase::idle);
  // The app may try again.
  REQUIRE(!r.on_message(wifi_set("HomeLAN", "correct-horse"), 2, admin, o));
  CHECK(o.join.has_value());
  REQUIRE(!r.failed(provisioning_failure::timeout, out));
  CHECK(out == "v1 wifi_status re=2 state=failed reason=timeout");
}

TEST_CASE("provisioning responder: refusals change nothing", "[core][provisioning]") {
  provisioning_responder r;
  provisioning_responder::outcome o;
  // Bad credentials: a passphrase of 5 bytes.
  REQUIRE(
      !r.on_message(msg("v1 wifi_set ssid_hex=486f6d65 passphrase_hex=73686f7274"), 3, admin, o));
  // The detail is the decoder's code name: a word a program can match.
  CHECK(o.reply == "v1 error re=3 reason=bad_field detail=bad_passphrase");
  CHECK(!o.join);
  CHECK(r.current() == phase::idle);
  REQUIRE(!r.on_message(msg("v1 wifi_set passphrase_hex="), 4, admin, o));
  CHECK(o.reply == "v1 error re=4 reason=bad_field detail=missing_field");

  // Busy while joining; the join in progress keeps its request number.
  REQUIRE(!r.on_message(wifi_set("HomeLAN", "correct-horse"), 5, admin, o));
  REQUIRE(!r.on_message(wifi_set("HomeLAN", "correct-horse"), 6, admin, o));
  CHECK(o.reply == "v1 error re=6 reason=busy detail=already%20joining%20a%20network");
  CHECK(!o.join);
  CHECK(r.request() == 5);
}

TEST_CASE("provisioning responder: other verbs are not its business; driver misuse is an error",
          "[core][provisioning]") {
  provisioning_responder r;
  provisioning_responder::outcome o;
  o.reply = "untouched";
  CHECK(r.on_message(msg("v1 get"), 1, admin, o) == provisioning_errc::not_provisioning);
  CHECK(o.reply == "untouched");

  std::string_view out = "untouched";
  CHECK(r.joined(views{"198.18.1.3"}, out) == provisioning_errc::bad_state);
  CHECK(r.failed(provisioning_failure::timeout, out) == provisioning_errc::bad_state);
  CHECK(out == "untouched");

  REQUIRE(!r.on_message(wifi_set("HomeLAN", "correct-horse"), 1, admin, o));
  CHECK(r.joined({}, out) == provisioning_errc::bad_addresses);
  CHECK(r.joined(views{"not an address"}, out) == provisioning_errc::bad_addresses);
  CHECK(r.joined(views(9, "198.18.1.3"), out) == provisioning_errc::bad_addresses);
  // Eight long IPv6 literals are more than one value holds (128 bytes).
  CHECK(r.joined(views(8, "2001:2:0:1:1111:2222:3333:4444"), out) ==
        lanyard::core::app_message_errc::bad_value);
  CHECK(out == "untouched");
  CHECK(r.current() == phase::joining); // a driver bug does not end the join

  provisioning_responder provisioned(false);
  CHECK(provisioned.current() == phase::done);
  REQUIRE(!provisioned.on_message(wifi_set("HomeLAN", "correct-horse"), 9, admin, o));
  CHECK(o.reply.rfind("v1 error re=9 reason=not_in_setup_mode", 0) == 0);
  CHECK(std::string(to_string(phase::joining)) == "joining");
}

TEST_CASE("only an admin controller provisions; a user's wifi_set changes nothing") {
  provisioning_responder r;
  provisioning_responder::outcome o;
  REQUIRE(!r.on_message(wifi_set("HomeLAN", "correct-horse"), 9,
                        provisioning_responder::sender::user, o));
  CHECK(o.reply.find("reason=not_admin") != std::string::npos);
  CHECK_FALSE(o.join);
  CHECK(r.current() == phase::idle);
  REQUIRE(!r.on_message(wifi_set("HomeLAN", "correct-horse"), 10, admin, o));
  CHECK(o.join);
}

TEST_CASE("provisioning responder: the credentials stay put while the driver joins, and nothing "
          "allocates",
          "[core][provisioning]") {
  // The firmware's path: a view of the payload in, replies and credentials in the responder.
  const std::string set_text = "v1 wifi_set ssid_hex=486f6d65 passphrase_hex="     // "Home"
                               "636f72726563742d686f727365";                       // correct-horse
  const std::string other_text = "v1 wifi_set ssid_hex=4f74686572 passphrase_hex=" // "Other"
                                 "636f72726563742d686f727365";
  const auto set = lanyard::core::parse_app_message_view(set_text);
  const auto other = lanyard::core::parse_app_message_view(other_text);
  REQUIRE(set);
  REQUIRE(other);
  const std::array<std::string_view, 2> addresses{"198.18.1.3", "2001:2:0:1::3"};

  provisioning_responder r;
  provisioning_responder::outcome o;
  provisioning_responder::outcome busy;
  std::string_view report;
  alloc_count::allocations = 0;
  alloc_count::counting = true;
  const bool accepted = !r.on_message(set.message, 5, admin, o);
  const bool answered = !r.on_message(other.message, 6, admin, busy);
  const bool refused_user =
      !r.on_message(other.message, 7, provisioning_responder::sender::user, busy);
  const bool concluded = !r.joined(addresses, report);
  alloc_count::counting = false;
  CHECK(alloc_count::allocations == 0);
  REQUIRE(accepted);
  REQUIRE(answered);
  REQUIRE(refused_user);
  REQUIRE(concluded);
  REQUIRE(o.join);
  // A wifi_set that came while joining did not overwrite what the driver reads.
  CHECK(o.join->ssid == "Home");
  CHECK(o.join->passphrase == "correct-horse");
  // C drivers may read them as C strings.
  CHECK(o.join->ssid.data()[o.join->ssid.size()] == '\0');
  CHECK(o.join->passphrase.data()[o.join->passphrase.size()] == '\0');
  CHECK(report == "v1 wifi_status re=5 state=connected addresses=198.18.1.3,2001:2:0:1::3");
}

TEST_CASE("provisioning responder: an SSID may hold any byte, NUL included",
          "[core][provisioning]") {
  const std::string ssid("a\0b", 3);
  provisioning_responder r;
  provisioning_responder::outcome o;
  REQUIRE(!r.on_message(wifi_set(ssid, ""), 1, admin, o));
  REQUIRE(o.join);
  CHECK(o.join->ssid == ssid);
  CHECK(o.join->passphrase.empty());
  CHECK(std::strlen(o.join->passphrase.data()) == 0);
}
