#include "lanyard/core/error_condition.hpp"
#include "lanyard/core/relay_settings.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace lanyard::core;

namespace {

const std::string ca = "-----BEGIN CERTIFICATE-----\nMIIBlTCCATug\n-----END CERTIFICATE-----\n";

relay_settings settings() {
  return {{"198.18.5.2", 8883, ca}, "acc-secret", "home1", "home-secret"};
}

relay_ticket ticket() {
  relay_ticket t;
  t.broker = {"broker.example.net", 8883, ca};
  t.household_account = "home1";
  t.household_password = "home-secret";
  t.accessory_inbox = "V6VXVBK453VV45SV5WCBPUPTEC";
  for (std::size_t i = 0; i < t.relay_key.size(); ++i)
    t.relay_key[i] = static_cast<std::uint8_t>(i);
  return t;
}

// The fields of an encoding as (type, offset of the type byte).
std::vector<std::pair<std::uint8_t, std::size_t>> fields_of(const std::vector<std::uint8_t>& b) {
  std::vector<std::pair<std::uint8_t, std::size_t>> out;
  for (std::size_t at = 2; at < b.size();) {
    out.emplace_back(b[at], at);
    at += 3 + (std::size_t{b[at + 1]} << 8 | b[at + 2]);
  }
  return out;
}

} // namespace

TEST_CASE("relay settings and tickets round-trip") {
  std::vector<std::uint8_t> wire;
  REQUIRE_FALSE(encode_relay_settings(settings(), wire));
  CHECK(wire[0] == 1);
  CHECK(wire[1] == 1);
  relay_settings s;
  REQUIRE_FALSE(decode_relay_settings(wire, s));
  CHECK(s.broker.host == "198.18.5.2");
  CHECK(s.broker.port == 8883);
  CHECK(s.broker.ca_pem == ca);
  CHECK(s.accessory_password == "acc-secret");
  CHECK(s.household_account == "home1");
  CHECK(s.household_password == "home-secret");

  wire.clear();
  REQUIRE_FALSE(encode_relay_ticket(ticket(), wire));
  relay_ticket t;
  REQUIRE_FALSE(decode_relay_ticket(wire, t));
  CHECK(t.broker.host == "broker.example.net");
  CHECK(t.accessory_inbox == "V6VXVBK453VV45SV5WCBPUPTEC");
  CHECK(t.relay_key == ticket().relay_key);
  // A ticket is not settings, and the reverse.
  CHECK(decode_relay_settings(wire, s) == relay_settings_errc::bad_kind);
}

TEST_CASE("relay settings: what a peer sends wrong is named, never printed") {
  std::vector<std::uint8_t> good;
  REQUIRE_FALSE(encode_relay_ticket(ticket(), good));
  relay_ticket t;
  std::uint8_t field = 99;

  SECTION("every truncation") {
    for (std::size_t n = 0; n < good.size(); ++n) {
      const std::error_code ec = decode_relay_ticket(std::span(good).first(n), t, &field);
      CHECK((ec == relay_settings_errc::truncated || ec == relay_settings_errc::missing_field));
    }
  }
  SECTION("version, kind") {
    auto b = good;
    b[0] = 2;
    CHECK(decode_relay_ticket(b, t) == relay_settings_errc::bad_version);
    b[0] = 1;
    b[1] = 7;
    CHECK(decode_relay_ticket(b, t) == relay_settings_errc::bad_kind);
  }
  SECTION("a field twice, an unknown field, one the kind does not have") {
    auto b = good;
    const auto f = fields_of(b);
    b.insert(b.end(), b.begin() + static_cast<long>(f[0].second),
             b.begin() + static_cast<long>(f[1].second)); // the host again
    CHECK(decode_relay_ticket(b, t, &field) == relay_settings_errc::duplicate_field);
    CHECK(relay_settings_field_name(field) == "broker host");
    b = good;
    b.insert(b.end(), {9, 0, 1, 0});
    CHECK(decode_relay_ticket(b, t, &field) == relay_settings_errc::unknown_field);
    CHECK(relay_settings_field_name(field) == "field 9");
    b = good;
    b.insert(b.end(), {4, 0, 1, 'x'}); // accessory password: settings only
    CHECK(decode_relay_ticket(b, t) == relay_settings_errc::unknown_field);
  }
  SECTION("a missing field is named") {
    auto b = good;
    const auto f = fields_of(b);
    // Drop the relay key (the last field).
    b.resize(f.back().second);
    CHECK(decode_relay_ticket(b, t, &field) == relay_settings_errc::missing_field);
    CHECK(relay_settings_field_name(field) == "relay key");
  }
  SECTION("values out of bounds") {
    const auto f = fields_of(good);
    const auto value_at = [&](std::uint8_t type) {
      for (auto [ty, at] : f)
        if (ty == type) return at + 3;
      FAIL("no field " << int(type));
      return std::size_t{0};
    };
    auto b = good;
    b[value_at(2)] = 0;
    b[value_at(2) + 1] = 0; // port 0
    CHECK(decode_relay_ticket(b, t, &field) == relay_settings_errc::bad_value);
    CHECK(relay_settings_field_name(field) == "broker port");
    b = good;
    b[value_at(5)] = '/'; // an account that would break the topic
    CHECK(decode_relay_ticket(b, t) == relay_settings_errc::bad_value);
    b = good;
    b[value_at(1)] = ' '; // a host with a space
    CHECK(decode_relay_ticket(b, t) == relay_settings_errc::bad_value);
    b = good;
    b[value_at(3)] = 'X'; // no PEM certificate any more
    CHECK(decode_relay_ticket(b, t) == relay_settings_errc::bad_value);
    b = good;
    b[value_at(6)] = 0; // a NUL in a password (libmosquitto takes C strings)
    CHECK(decode_relay_ticket(b, t) == relay_settings_errc::bad_value);
  }
  SECTION("encoders refuse what decoders would") {
    relay_ticket bad = ticket();
    bad.accessory_inbox = "short";
    std::vector<std::uint8_t> out;
    CHECK(encode_relay_ticket(bad, out) == relay_settings_errc::bad_value);
    CHECK(out.empty());
    relay_settings s = settings();
    s.broker.port = 0;
    CHECK(encode_relay_settings(s, out) == relay_settings_errc::bad_value);
    s = settings();
    s.household_password.clear();
    CHECK(encode_relay_settings(s, out) == relay_settings_errc::bad_value);
  }
}

TEST_CASE("relay settings errors: named and classed") {
  const std::error_code ec = relay_settings_errc::missing_field;
  CHECK(code_string(ec) == "lanyard.relay_settings.missing_field");
  CHECK(ec == condition::protocol_violation);
  CHECK(std::error_code(relay_settings_errc::bad_version) == condition::permanent);
}
