// firmware::controller_table: the firmware's paired controllers and pairing window as a blob,
// and how it refuses a damaged one (every single-bit flip, every truncation).
#include <lanyard/core/pairing_error.hpp>
#include <lanyard/firmware/controller_table.hpp>
#include <lanyard/firmware/error.hpp>

#include <catch2/catch.hpp>

#include <vector>

namespace fw = lanyard::firmware;
namespace core = lanyard::core;

namespace {
core::fingerprint key(std::uint8_t b) {
  core::fingerprint f;
  f.bytes.fill(b);
  return f;
}
std::vector<std::byte> blob_of(const fw::controller_table& t) {
  std::vector<std::byte> out(fw::controller_table::blob_size(t.capacity()));
  out.resize(t.serialize(out));
  return out;
}
} // namespace

TEST_CASE("controller_table: the first is admin, re-pairing keeps the role, capacity holds") {
  fw::controller_table t(2);
  core::paired_role role{};
  REQUIRE(!t.add(key(1), "phone", role));
  CHECK(role == core::paired_role::admin);
  REQUIRE(!t.add(key(2), "tablet", role));
  CHECK(role == core::paired_role::user);
  REQUIRE(!t.add(key(1), "phone renamed", role));
  CHECK(role == core::paired_role::admin);
  CHECK(t.find(key(1))->name() == "phone renamed");
  CHECK(t.add(key(3), "third", role) == core::pairing_errc::controllers_full);
  CHECK(t.remove(key(2)));
  CHECK(!t.remove(key(2)));
  CHECK(t.list().size() == 1);
}

TEST_CASE("controller_table: names are kept to 64 bytes") {
  fw::controller_table t(1);
  core::paired_role role{};
  REQUIRE(!t.add(key(1), std::string(300, 'x'), role));
  CHECK(t.find(key(1))->name().size() == 64);
}

TEST_CASE("controller_table: the blob round-trips controllers and the window") {
  fw::controller_table t(4);
  core::paired_role role{};
  REQUIRE(!t.add(key(7), "phone", role));
  REQUIRE(!t.add(key(9), "", role));
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));
  REQUIRE(!t.window().open(now));
  t.window().record_failure();
  const auto blob = blob_of(t);

  fw::controller_table back(4);
  REQUIRE(!back.parse(blob));
  REQUIRE(back.list().size() == 2);
  CHECK(back.find(key(7))->name() == "phone");
  CHECK(back.find(key(7))->role == core::paired_role::admin);
  CHECK(back.find(key(9))->name().empty());
  CHECK(back.window().state() == t.window().state());
  CHECK(blob_of(back) == blob);
}

TEST_CASE("controller_table: every damaged blob is refused and the table stays as it was") {
  fw::controller_table t(4);
  core::paired_role role{};
  REQUIRE(!t.add(key(7), "phone", role));
  REQUIRE(!t.add(key(8), "tablet", role));
  const auto blob = blob_of(t);

  fw::controller_table victim(4);
  REQUIRE(!victim.add(key(1), "kept", role));
  for (std::size_t i = 0; i < blob.size() * 8; ++i) {
    auto bad = blob;
    bad[i / 8] ^= std::byte(1u << (i % 8));
    REQUIRE(victim.parse(bad) == fw::firmware_errc::storage_corrupt);
  }
  for (std::size_t n = 0; n < blob.size(); ++n)
    REQUIRE(victim.parse(std::span(blob.data(), n)) == fw::firmware_errc::storage_corrupt);
  REQUIRE(victim.list().size() == 1);
  CHECK(victim.find(key(1))->name() == "kept");

  fw::controller_table small(1);
  CHECK(small.parse(blob) == fw::firmware_errc::storage_over_capacity);
}
