#include <lanyard/core/accessory_txt.hpp>

#include "support/counting_new.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <string>
#include <vector>

using namespace lanyard::core;
namespace alloc_count = lanyard::test::alloc_count;

namespace {

std::string value(const txt_record& t, const char* key) {
  const txt_entry* e = t.find(key);
  return e != nullptr && e->value ? *e->value : "<none>";
}

} // namespace

TEST_CASE("accessory TXT: sf follows the window and the room for controllers", "[txt]") {
  txt_record t;
  REQUIRE_FALSE(t.set("md", "lamp"));
  accessory_txt_state s{"lamp-1", true, 0, 16};
  REQUIRE_FALSE(set_accessory_txt(s, t));
  CHECK(value(t, "id") == "lamp-1");
  CHECK(value(t, "pv") == "1");
  CHECK(value(t, "sf") == "1");
  CHECK(value(t, "md") == "lamp"); // the product's own keys stay
  const txt_record open = t;

  s.pairing_window_open = false;
  REQUIRE_FALSE(set_accessory_txt(s, t));
  CHECK(value(t, "sf") == "0");
  CHECK(t != open); // a changed record: the advertiser publishes it

  s.pairing_window_open = true;
  s.controllers = 16; // full: an app could not pair, so it is not offered
  REQUIRE_FALSE(set_accessory_txt(s, t));
  CHECK(value(t, "sf") == "0");

  s.controllers = 3;
  REQUIRE_FALSE(set_accessory_txt(s, t));
  CHECK(t == open); // the same state gives the same record: nothing to publish
}

TEST_CASE("accessory TXT: sf drops while a pairing exchange is in progress", "[txt]") {
  txt_record t;
  accessory_txt_state s{"lamp-1", true, 0, 16};
  s.pairing_in_progress = true; // someone is pairing: other apps should not offer it
  REQUIRE_FALSE(set_accessory_txt(s, t));
  CHECK(value(t, "sf") == "0");
  s.pairing_in_progress = false; // it failed, the window still open: offered again
  REQUIRE_FALSE(set_accessory_txt(s, t));
  CHECK(value(t, "sf") == "1");
}

TEST_CASE("accessory TXT: a device id that does not fit is an error, the record unchanged",
          "[txt]") {
  txt_record t;
  const std::string huge(300, 'x');
  CHECK(set_accessory_txt({huge, true, 0, 16}, t));
  CHECK(t.find("id") == nullptr);
}

TEST_CASE("accessory TXT: firmware's encoder writes the record's bytes in fixed room", "[txt]") {
  for (const bool open : {true, false})
    for (const bool in_progress : {true, false})
      for (const std::size_t controllers : {std::size_t{0}, std::size_t{16}}) {
        const accessory_txt_state s{"lamp-1", open, controllers, 16, in_progress};
        txt_record t;
        REQUIRE_FALSE(set_accessory_txt(s, t));
        const std::vector<std::uint8_t> expected = t.encode();
        std::array<std::uint8_t, max_accessory_txt_size> room{};
        alloc_count::allocations = 0;
        alloc_count::counting = true;
        const std::size_t n = encode_accessory_txt(s, room);
        alloc_count::counting = false;
        CHECK(alloc_count::allocations == 0);
        CHECK(std::vector<std::uint8_t>(room.begin(), room.begin() + n) == expected);
      }
  // The longest device id a TXT string holds (252 bytes after "id=") fills the room exactly.
  const std::string longest(252, 'x');
  std::array<std::uint8_t, max_accessory_txt_size> room{};
  CHECK(encode_accessory_txt({longest, true, 0, 16}, room) == room.size());
  // One byte more does not fit a TXT string; a short buffer gets nothing.
  room.fill(0xAA);
  CHECK(encode_accessory_txt({longest + "x", true, 0, 16}, room) == 0);
  CHECK(room[0] == 0xAA); // nothing written
  std::array<std::uint8_t, 12> small{};
  small.fill(0xAA);
  CHECK(encode_accessory_txt({"lamp-1", true, 0, 16}, small) == 0);
  CHECK(small[0] == 0xAA);
}
