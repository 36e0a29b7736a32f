#include "lanyard/core/provisioning.hpp"

#include "lanyard/core/error_condition.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace lanyard::core;

namespace {
app_message parsed(const std::string& text) {
  auto r = parse_app_message(text);
  REQUIRE(r);
  return r.message;
}
} // namespace

TEST_CASE("provisioning: credentials round-trip as hex") {
  wifi_credentials c{"Home LAN", "correct horse"};
  std::string text;
  REQUIRE_FALSE(encode_wifi_credentials(c, text));
  CHECK(text == "v1 wifi_set ssid_hex=486f6d65204c414e passphrase_hex=636f727265637420686f727365");
  wifi_credentials back;
  REQUIRE_FALSE(decode_wifi_credentials(parsed(text), back));
  CHECK(back == c);
}

TEST_CASE("provisioning: credential rules") {
  std::string out = "untouched";
  CHECK(encode_wifi_credentials({"", "password"}, out) == provisioning_errc::bad_ssid);
  CHECK(encode_wifi_credentials({std::string(33, 's'), "password"}, out) ==
        provisioning_errc::bad_ssid);
  CHECK(encode_wifi_credentials({"x", "short"}, out) == provisioning_errc::bad_passphrase);
  CHECK(encode_wifi_credentials({"x", std::string(64, 'z')}, out) ==
        provisioning_errc::bad_passphrase);
  CHECK(out == "untouched");
  CHECK_FALSE(validate({"open", ""}));
  CHECK_FALSE(validate({"psk", std::string(64, 'A')}));
  CHECK_FALSE(validate({std::string(32, '\xff'), std::string(63, ' ')}));
  std::string max;
  REQUIRE_FALSE(encode_wifi_credentials({std::string(32, '\xff'), std::string(63, ' ')}, max));
  CHECK(parse_app_message(max));
}

TEST_CASE("provisioning: decoding wifi_set refuses bad input") {
  wifi_credentials c;
  CHECK(decode_wifi_credentials(parsed("v1 get"), c) == provisioning_errc::not_provisioning);
  CHECK(decode_wifi_credentials(parsed("v1 wifi_set ssid_hex=41"), c) ==
        provisioning_errc::missing_field);
  CHECK(decode_wifi_credentials(parsed("v1 wifi_set ssid_hex=4 passphrase_hex="), c) ==
        provisioning_errc::bad_ssid);
  CHECK(decode_wifi_credentials(parsed("v1 wifi_set ssid_hex=4A passphrase_hex="), c) ==
        provisioning_errc::bad_ssid); // lowercase only
  CHECK(decode_wifi_credentials(parsed("v1 wifi_set ssid_hex=41 passphrase_hex=4142"), c) ==
        provisioning_errc::bad_passphrase);
  CHECK(decode_wifi_credentials(parsed("v1 wifi_set ssid_hex=41 passphrase_hex= x=1"), c) ==
        provisioning_errc::unknown_field);
  REQUIRE_FALSE(decode_wifi_credentials(parsed("v1 wifi_set ssid_hex=41 passphrase_hex="), c));
  CHECK(c == wifi_credentials{"A", ""});
}

TEST_CASE("provisioning: progress reports round-trip") {
  provisioning_progress connecting{3, provisioning_state::connecting, {}, {}};
  provisioning_progress connected{
      3, provisioning_state::connected, {"198.18.1.3", "2001:2:0:1::3"}, {}};
  provisioning_progress failed{3, provisioning_state::failed, {}, provisioning_failure::auth_error};
  std::string t1, t2, t3;
  REQUIRE_FALSE(encode_provisioning_progress(connecting, t1));
  REQUIRE_FALSE(encode_provisioning_progress(connected, t2));
  REQUIRE_FALSE(encode_provisioning_progress(failed, t3));
  CHECK(t1 == "v1 wifi_status re=3 state=connecting");
  CHECK(t2 == "v1 wifi_status re=3 state=connected addresses=198.18.1.3,2001:2:0:1::3");
  CHECK(t3 == "v1 wifi_status re=3 state=failed reason=auth_error");
  for (auto [text, want] : {std::pair{t1, connecting}, {t2, connected}, {t3, failed}}) {
    provisioning_progress back;
    REQUIRE_FALSE(decode_provisioning_progress(parsed(text), back));
    CHECK(back == want);
  }
  CHECK(to_string(provisioning_failure::network_not_found) == "network_not_found");
}

TEST_CASE("provisioning: decoding wifi_status refuses bad input") {
  provisioning_progress p;
  auto dec = [&](const char* t) { return decode_provisioning_progress(parsed(t), p); };
  CHECK(dec("v1 wifi_status") == provisioning_errc::missing_field);
  CHECK(dec("v1 wifi_status state=sleeping") == provisioning_errc::bad_state);
  CHECK(dec("v1 wifi_status state=failed") == provisioning_errc::missing_field);
  CHECK(dec("v1 wifi_status state=failed reason=bored") == provisioning_errc::bad_reason);
  CHECK(dec("v1 wifi_status state=connecting reason=timeout") == provisioning_errc::bad_reason);
  CHECK(dec("v1 wifi_status state=connected") == provisioning_errc::missing_field);
  CHECK(dec("v1 wifi_status state=connected addresses=") == provisioning_errc::bad_addresses);
  CHECK(dec("v1 wifi_status state=connected addresses=1.2.3.4,") ==
        provisioning_errc::bad_addresses);
  CHECK(dec("v1 wifi_status state=connected addresses=example.com") ==
        provisioning_errc::bad_addresses);
  CHECK(dec("v1 wifi_status state=connected addresses=1,2,3,4,5,6,7,8,9") ==
        provisioning_errc::bad_addresses);
  CHECK(dec("v1 wifi_status re=x state=connecting") == provisioning_errc::bad_re);
  CHECK(dec("v1 wifi_status state=connecting extra=1") == provisioning_errc::unknown_field);
  std::string out;
  CHECK(encode_provisioning_progress({0, provisioning_state::connected, {}, {}}, out) ==
        provisioning_errc::bad_addresses);
  // Every address is checked before the list's length: a bad one after long ones is named.
  std::vector<std::string> long_then_bad(7, "2001:2:0:1:1111:2222:3333:4444");
  long_then_bad.push_back("not-an-address");
  CHECK(encode_provisioning_progress({0, provisioning_state::connected, long_then_bad, {}}, out) ==
        provisioning_errc::bad_addresses);
  // Addresses count for connected only: another state ignores them, however many.
  const std::vector<std::string> nine(9, "198.18.1.3");
  REQUIRE_FALSE(encode_provisioning_progress(
      {4, provisioning_state::failed, nine, provisioning_failure::timeout}, out));
  CHECK(out == "v1 wifi_status re=4 state=failed reason=timeout");
}

TEST_CASE("provisioning: a failed join reports a code a caller can branch on") {
  using namespace lanyard::core;
  CHECK(to_error_code(provisioning_failure::auth_error) == provisioning_errc::wrong_passphrase);
  CHECK(to_error_code(provisioning_failure::network_not_found) ==
        provisioning_errc::network_not_found);
  CHECK(to_error_code(provisioning_failure::timeout) == provisioning_errc::join_timeout);
  // A wrong passphrase is not retried by itself; a slow network may be.
  CHECK(to_error_code(provisioning_failure::auth_error) == condition::permanent);
  CHECK(to_error_code(provisioning_failure::timeout) == condition::transient);
}
