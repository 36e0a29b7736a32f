// The embedded-responder advertiser without a network: everything it refuses before a socket
// is opened (validation, an interface that does not exist, update_txt before publish).
#include "lanyard/discovery/builtin_advertiser.hpp"

#include <catch2/catch.hpp>

#include <asio/io_context.hpp>

using namespace lanyard;
using namespace lanyard::discovery;

namespace {

service_description lamp() {
  service_description d;
  d.name = "Lamp";
  d.type = "_lanyard._tcp";
  d.port = 7443;
  return d;
}

} // namespace

TEST_CASE("builtin_advertiser refuses what cannot be published, before any socket") {
  asio::io_context io;
  builtin_advertiser adv(io.get_executor());
  CHECK_FALSE(adv.registered());
  CHECK(adv.name().empty());
  CHECK(adv.host_name().empty());

  SECTION("a bad description") {
    service_description d = lamp();
    d.type = "lanyard";
    CHECK(adv.publish(d) == discovery_errc::service_type_format);
    d = lamp();
    d.port = 0;
    CHECK(adv.publish(d) == discovery_errc::port_zero);
    d = lamp();
    d.name.clear();
    CHECK(adv.publish(d) == discovery_errc::instance_name_empty);
  }
  SECTION("an interface that does not exist") {
    service_description d = lamp();
    d.interface = "nosuchif0";
    CHECK(adv.publish(d) == discovery_errc::unknown_interface);
    CHECK(adv.name().empty());
  }
  SECTION("a TXT record larger than the responder holds") {
    service_description d = lamp();
    core::txt_record txt;
    for (int i = 0; i < 4; ++i)
      REQUIRE_FALSE(txt.set("k" + std::to_string(i), std::string(200, 'x')));
    d.txt = txt;
    // 804 bytes: within DNS-SD's limit (validate()), over mdns_limits::max_txt_size; refused
    // when the responder is configured, before the sockets are opened.
    CHECK(adv.publish(d) == discovery_errc::txt_too_large);
    CHECK(adv.name().empty());
  }
  SECTION("update_txt before publish") {
    CHECK(adv.update_txt({}) == discovery_errc::not_published);
  }
  adv.withdraw(); // idempotent, nothing published
  io.run();       // no event was posted
  CHECK_FALSE(adv.registered());
}
