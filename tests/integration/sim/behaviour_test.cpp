// The simulated devices' behaviour (firmware-sim/behaviour.hpp): pure, so tested without I/O.
#include "behaviour.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace lanyard;
using namespace lanyard::sim;

namespace {
std::string ask(behaviour& b, const std::string& text, std::uint64_t seq, bool* changed = nullptr) {
  auto o = b.handle(std::as_bytes(std::span(text.data(), text.size())), seq);
  if (changed) *changed = o.state_changed;
  std::string out;
  REQUIRE_FALSE(core::encode_app_message(o.reply, out));
  return out;
}
} // namespace

TEST_CASE("lamp: set, toggle and get") {
  behaviour lamp(device_kind::lamp, "lamp-1", "Desk Lamp");
  bool changed = false;
  CHECK(ask(lamp, "v1 get", 0) == "v1 state re=0 kind=lamp on=0 brightness=100");
  CHECK(ask(lamp, "v1 set on=1 brightness=40", 1, &changed) ==
        "v1 state re=1 kind=lamp on=1 brightness=40");
  CHECK(changed);
  CHECK(ask(lamp, "v1 set on=1", 2, &changed) == "v1 state re=2 kind=lamp on=1 brightness=40");
  CHECK_FALSE(changed);
  CHECK(ask(lamp, "v1 toggle", 3, &changed) == "v1 state re=3 kind=lamp on=0 brightness=40");
  CHECK(changed);
  CHECK(ask(lamp, "v1 info", 4) ==
        "v1 info re=4 kind=lamp id=lamp-1 name=Desk%20Lamp model=lanyard-sim-lamp fw=0.1.0");
}

TEST_CASE("lamp: a bad request changes nothing") {
  behaviour lamp(device_kind::lamp, "lamp-1", "Lamp");
  CHECK(ask(lamp, "v1 set on=1 brightness=101", 0).rfind("v1 error re=0 reason=bad_field", 0) == 0);
  CHECK_FALSE(lamp.on());
  CHECK(ask(lamp, "v1 set", 1).rfind("v1 error re=1 reason=bad_field", 0) == 0);
  CHECK(ask(lamp, "v1 set on=yes", 2).rfind("v1 error re=2 reason=bad_field", 0) == 0);
  CHECK(ask(lamp, "v1 dance", 3) == "v1 error re=3 reason=unknown_verb detail=dance");
  CHECK(ask(lamp, "v2 get", 4).rfind("v1 error re=4 reason=unsupported_version", 0) == 0);
  CHECK(ask(lamp, "hello", 5).rfind("v1 error re=5 reason=bad_message", 0) == 0);
  CHECK_FALSE(lamp.on());
  CHECK(lamp.brightness() == 100);
}

TEST_CASE("sensor: readings count up and follow a fixed curve") {
  behaviour s(device_kind::sensor, "s-1", "Sensor");
  std::string a, b;
  REQUIRE_FALSE(core::encode_app_message(s.next_reading(), a));
  REQUIRE_FALSE(core::encode_app_message(s.next_reading(), b));
  CHECK(a == "v1 reading n=1 temperature_c=21.20");
  CHECK(b == "v1 reading n=2 temperature_c=21.40");
  CHECK(ask(s, "v1 get", 7) == "v1 reading re=7 n=2 temperature_c=21.40");
  CHECK(ask(s, "v1 set on=1", 8).rfind("v1 error re=8 reason=not_supported", 0) == 0);
}
