// The browser's SRV RDATA parser: what Avahi hands over is accepted, anything malformed is
// rejected without touching the output.
#include "discovery/srv_record.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

using lanyard::discovery::detail::parse_srv;
using lanyard::discovery::detail::srv_data;

namespace {

std::vector<std::uint8_t> srv(std::uint16_t port, std::vector<std::vector<std::uint8_t>> labels,
                              bool terminate = true) {
  std::vector<std::uint8_t> r{
      0, 0, 0, 0, static_cast<std::uint8_t>(port >> 8), static_cast<std::uint8_t>(port & 0xff)};
  for (auto& l : labels) {
    r.push_back(static_cast<std::uint8_t>(l.size()));
    r.insert(r.end(), l.begin(), l.end());
  }
  if (terminate) r.push_back(0);
  return r;
}

std::vector<std::uint8_t> label(std::string_view s) {
  return {s.begin(), s.end()};
}

} // namespace

TEST_CASE("parse_srv reads port and target") {
  srv_data out;
  REQUIRE(parse_srv(srv(4433, {label("lamp-1"), label("local")}), out));
  CHECK(out.port == 4433);
  CHECK(out.host == "lamp-1.local");
}

TEST_CASE("parse_srv escapes dots and backslashes inside labels as Avahi does") {
  srv_data out;
  REQUIRE(parse_srv(srv(80, {label("a.b\\c"), label("local")}), out));
  CHECK(out.host == "a\\.b\\\\c.local");
}

TEST_CASE("parse_srv rejects malformed data and leaves the output alone") {
  const srv_data before{"unchanged", 1};
  auto rejects = [&](const std::vector<std::uint8_t>& rdata) {
    srv_data out = before;
    CHECK_FALSE(parse_srv(rdata, out));
    CHECK(out == before);
  };
  rejects({});
  rejects({0, 0, 0, 0, 0x11, 0x51});                       // no target at all
  rejects(srv(1, {}));                                     // root target: service not available
  rejects(srv(1, {label("lamp"), label("local")}, false)); // no root label
  auto pointer = srv(1, {label("lamp")}, false);
  pointer.insert(pointer.end(), {0xc0, 0x0c}); // compression pointer
  rejects(pointer);
  auto overrun = srv(1, {label("lamp")}, false);
  overrun.push_back(10); // label length past the end
  overrun.push_back('x');
  rejects(overrun);
  std::vector<std::vector<std::uint8_t>> long_name(5, label(std::string(60, 'a')));
  rejects(srv(1, long_name)); // 5 x 61 = 305 bytes on the wire > 255
  rejects(srv(1, {label(std::string(64, 'a'))}));
}

TEST_CASE("parse_srv accepts the longest legal name") {
  // 3 x 64 + 1 x 62 + root = 255 bytes on the wire.
  std::vector<std::vector<std::uint8_t>> name(3, label(std::string(63, 'a')));
  name.push_back(label(std::string(61, 'b')));
  srv_data out;
  REQUIRE(parse_srv(srv(9, name), out));
  CHECK(out.host.size() == 3 * 64 + 61);
}
