// Validation before the network: service types (RFC 6335 §5.1), subtypes, instance names,
// TXT size and ports, each rejected with its own precise error.
#include "lanyard/discovery/validation.hpp"

#include <catch2/catch.hpp>

#include "lanyard/discovery/service.hpp"

#include <string>

using namespace lanyard::discovery;

namespace {
std::error_code type_error(std::string_view text) {
  service_type t;
  return parse_service_type(text, t);
}
} // namespace

TEST_CASE("well-formed service types parse into their parts") {
  service_type t;
  REQUIRE_FALSE(parse_service_type("_lanyard._tcp", t));
  CHECK(t.service == "lanyard");
  CHECK(t.protocol == "tcp");
  CHECK(t.subtype.empty());
  CHECK(t.base() == "_lanyard._tcp");
  CHECK(t.browse_name() == "_lanyard._tcp");
  REQUIRE_FALSE(parse_service_type("_x-2._udp", t));
  CHECK(t.protocol == "udp");
  CHECK_FALSE(type_error("_abcdefghijklmno._tcp")); // exactly 15 characters
  CHECK_FALSE(type_error("_a._tcp"));
  CHECK_FALSE(type_error("_1a._tcp"));
}

TEST_CASE("malformed service types are rejected with the rule they break") {
  CHECK(type_error("") == discovery_errc::service_type_format);
  CHECK(type_error("lanyard._tcp") == discovery_errc::service_type_format);
  CHECK(type_error("_lanyard") == discovery_errc::service_type_format);
  CHECK(type_error("_lanyard.tcp") == discovery_errc::service_type_format);
  CHECK(type_error("_lanyard._tcp.") == discovery_errc::service_type_format);
  CHECK(type_error("_lanyard._tcp.local") == discovery_errc::service_type_format);
  CHECK(type_error("_lanyard._sctp") == discovery_errc::service_type_protocol);
  CHECK(type_error("_lanyard._TCP") == discovery_errc::service_type_protocol);
  CHECK(type_error("_._tcp") == discovery_errc::service_name_length);
  CHECK(type_error("_abcdefghijklmnop._tcp") == discovery_errc::service_name_length); // 16
  CHECK(type_error("_lan_yard._tcp") == discovery_errc::service_name_characters);
  CHECK(type_error("_lan yard._tcp") == discovery_errc::service_name_characters);
  CHECK(type_error("_123._tcp") == discovery_errc::service_name_no_letter);
  CHECK(type_error("_1-2._tcp") == discovery_errc::service_name_no_letter);
  CHECK(type_error("_-lanyard._tcp") == discovery_errc::service_name_hyphen);
  CHECK(type_error("_lanyard-._tcp") == discovery_errc::service_name_hyphen);
  CHECK(type_error("_lan--yard._tcp") == discovery_errc::service_name_hyphen);
}

TEST_CASE("browse types may carry a subtype") {
  service_type t;
  REQUIRE_FALSE(parse_browse_type("_setup._sub._lanyard._tcp", t));
  CHECK(t.subtype == "_setup");
  CHECK(t.base() == "_lanyard._tcp");
  CHECK(t.browse_name() == "_setup._sub._lanyard._tcp");
  REQUIRE_FALSE(parse_browse_type("_lanyard._tcp", t));
  CHECK(t.subtype.empty());
  CHECK(parse_browse_type("._sub._lanyard._tcp", t) == discovery_errc::subtype_invalid);
  CHECK(parse_browse_type("_s._sub._-x._tcp", t) == discovery_errc::service_name_hyphen);
  CHECK(parse_service_type("_setup._sub._lanyard._tcp", t) == discovery_errc::service_type_format);
}

TEST_CASE("subtype labels") {
  CHECK_FALSE(validate_subtype("_setup"));
  CHECK_FALSE(validate_subtype("printer"));
  CHECK_FALSE(validate_subtype(std::string(63, 'a')));
  CHECK(validate_subtype("") == discovery_errc::subtype_invalid);
  CHECK(validate_subtype(std::string(64, 'a')) == discovery_errc::subtype_invalid);
  CHECK(validate_subtype("a.b") == discovery_errc::subtype_invalid);
  CHECK(validate_subtype("a\\b") == discovery_errc::subtype_invalid);
  CHECK(validate_subtype(std::string("a\0b", 3)) == discovery_errc::subtype_invalid);
}

TEST_CASE("instance names: 1 to 63 bytes of UTF-8 without control characters") {
  CHECK_FALSE(validate_instance_name("Lamp"));
  CHECK_FALSE(validate_instance_name("Living Room Lamp (2)"));
  CHECK_FALSE(validate_instance_name("Küchenlampe \xe2\x98\x80")); // ü and ☀
  CHECK_FALSE(validate_instance_name("dots.are.fine"));
  CHECK_FALSE(validate_instance_name(std::string(63, 'x')));
  CHECK(validate_instance_name("") == discovery_errc::instance_name_empty);
  CHECK(validate_instance_name(std::string(64, 'x')) == discovery_errc::instance_name_too_long);
  // 21 × "☀" = 63 bytes is fine, 22 × = 66 bytes is not: the limit is bytes, not characters.
  std::string suns;
  for (int i = 0; i < 21; ++i)
    suns += "\xe2\x98\x80";
  CHECK_FALSE(validate_instance_name(suns));
  CHECK(validate_instance_name(suns + "\xe2\x98\x80") == discovery_errc::instance_name_too_long);
  CHECK(validate_instance_name("bad \xff") == discovery_errc::instance_name_invalid);
  CHECK(validate_instance_name("overlong \xc0\xaf") == discovery_errc::instance_name_invalid);
  CHECK(validate_instance_name("surrogate \xed\xa0\x80") == discovery_errc::instance_name_invalid);
  CHECK(validate_instance_name("cut \xe2\x98") == discovery_errc::instance_name_invalid);
  CHECK(validate_instance_name("tab\there") == discovery_errc::instance_name_invalid);
  CHECK(validate_instance_name("del\x7f") == discovery_errc::instance_name_invalid);
}

TEST_CASE("UTF-8 checker") {
  CHECK(is_valid_utf8(""));
  CHECK(is_valid_utf8("plain"));
  CHECK(is_valid_utf8("\xf0\x9f\x92\xa1"));       // U+1F4A1
  CHECK_FALSE(is_valid_utf8("\xf4\x90\x80\x80")); // > U+10FFFF
  CHECK_FALSE(is_valid_utf8("\x80"));
  CHECK_FALSE(is_valid_utf8("\xe0\x80\x80")); // overlong
}

TEST_CASE("ports and TXT size") {
  CHECK(validate_port(0) == discovery_errc::port_zero);
  CHECK_FALSE(validate_port(1));
  CHECK_FALSE(validate_port(65535));
  CHECK_FALSE(validate_txt_size(max_txt_size));
  CHECK(validate_txt_size(max_txt_size + 1) == discovery_errc::txt_too_large);
}

TEST_CASE("a whole service description is checked before publishing") {
  service_description d;
  d.name = "Lamp";
  d.type = "_lanyard._tcp";
  d.port = 4433;
  REQUIRE_FALSE(d.txt.set("id", "dev-1"));
  CHECK_FALSE(validate(d));

  auto bad = d;
  bad.port = 0;
  CHECK(validate(bad) == discovery_errc::port_zero);
  bad = d;
  bad.type = "_lanyard_service_type._tcp";
  CHECK(validate(bad) == discovery_errc::service_name_length);
  bad = d;
  bad.subtypes = {"_ok", "bad.label"};
  CHECK(validate(bad) == discovery_errc::subtype_invalid);
  bad = d;
  bad.name = std::string(64, 'L');
  CHECK(validate(bad) == discovery_errc::instance_name_too_long);
  bad = d;
  // 40 strings of 255 bytes: a valid TXT record (10 KB), but too large for an mDNS packet.
  for (int i = 0; i < 40; ++i)
    REQUIRE_FALSE(bad.txt.set("k" + std::to_string(i), std::string(250, 'v')));
  CHECK(validate(bad) == discovery_errc::txt_too_large);
}

TEST_CASE("every discovery error has a message a person can act on") {
  for (int e = 1; e <= static_cast<int>(discovery_errc::not_published); ++e) {
    std::error_code ec = static_cast<discovery_errc>(e);
    CHECK(ec.category().name() == std::string("lanyard.discovery"));
    CHECK(ec.message().find("unknown") == std::string::npos);
    CHECK(ec.message().size() > 20);
  }
  std::error_code ec = discovery_errc::daemon_unavailable;
  CHECK(ec.message() ==
        "avahi-daemon is not running: start it (systemctl start avahi-daemon, or avahi-daemon -D)");
}
