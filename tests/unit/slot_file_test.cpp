// trust/slot_file: two copies rewritten in place, the newest intact one read; a torn write
// leaves the one before it.
#include "trust/slot_file.hpp"

#include "support/io_test_support.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace lanyard::trust;
using namespace lanyard::trust::detail;
namespace fs = std::filesystem;

namespace {

struct temp_dir : lanyard::test::temp_dir {
  temp_dir() : lanyard::test::temp_dir("lanyard-slot") {}
};

void write_all(const fs::path& p, std::string_view text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  fs::permissions(p, fs::perms::owner_read | fs::perms::owner_write);
}

ino_t inode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_ino;
}

struct reading {
  store_status status;
  std::string contents;
  bool exists = false;
  slot_file_state state;
};

reading read(const fs::path& p) {
  reading r;
  r.status = read_slot_file(p, r.contents, r.exists, r.state);
  return r;
}

// One read-modify-write cycle, as controller_store does it (under its lock).
void write(const fs::path& p, std::string_view contents) {
  reading r = read(p);
  REQUIRE(r.status.ok());
  REQUIRE(write_slot_file(p, r.state, contents).ok());
}

} // namespace

TEST_CASE("a missing file reads as missing; the first write makes a slot file") {
  temp_dir dir;
  const fs::path file = dir.path / "state";
  reading r = read(file);
  REQUIRE(r.status.ok());
  CHECK_FALSE(r.exists);
  write(file, "first\n");
  r = read(file);
  REQUIRE(r.status.ok());
  CHECK(r.contents == "first\n");
  CHECK(r.state.slotted);
  CHECK(r.state.generation == 1);
  CHECK(lanyard::test::read_file(file).rfind("lanyard-slots 1 4096\n", 0) == 0);
  CHECK(fs::file_size(file) == 4096 + 2 * 4096);
}

TEST_CASE("writes go in place into the older slot, alternating, and the newest is read") {
  temp_dir dir;
  const fs::path file = dir.path / "state";
  write(file, "generation one\n");
  const ino_t inode = inode_of(file);
  for (int i = 2; i <= 6; ++i) {
    const std::string text = "generation " + std::to_string(i) + "\n";
    write(file, text);
    const reading r = read(file);
    REQUIRE(r.status.ok());
    CHECK(r.contents == text);
    CHECK(r.state.generation == static_cast<std::uint64_t>(i));
    CHECK(r.state.newest == (i % 2 == 0 ? 1 : 0));
  }
  // No new file, no rename: the cheap path (one fdatasync) was taken every time.
  CHECK(inode_of(file) == inode);
}

TEST_CASE("a torn write leaves the previous contents") {
  temp_dir dir;
  const fs::path file = dir.path / "state";
  write(file, "old contents\n");
  write(file, "new contents\n"); // slot 1
  const std::string intact = lanyard::test::read_file(file);
  const std::size_t slot1 = 4096 + 4096;
  // Each prefix of the newest slot's bytes damaged (as a crash in the middle of the write
  // would leave them): the header, the contents, or the checksum no longer match.
  // "slot 2 13 CRC32C\n" (19 bytes) and "new contents\n" (13): beyond them, nothing counts.
  const std::size_t used = 19 + 13;
  REQUIRE(intact.substr(slot1, used) == intact.substr(slot1, 19) + "new contents\n");
  for (std::size_t at = slot1; at < slot1 + used; ++at) {
    std::string torn = intact;
    torn[at] = static_cast<char>(torn[at] ^ 0x20);
    write_all(file, torn);
    INFO("byte " << at - slot1 << " of the newest slot");
    const reading r = read(file);
    REQUIRE(r.status.ok());
    CHECK(r.contents == "old contents\n");
    CHECK(r.state.newest == 0);
  }
  // Bytes past the contents are not part of the copy.
  std::string padding = intact;
  padding[slot1 + used] = 'z';
  write_all(file, padding);
  CHECK(read(file).contents == "new contents\n");
  // The next write after a torn one goes into the torn slot, and wins.
  std::string torn = intact;
  torn[slot1 + 25] = '#';
  write_all(file, torn);
  write(file, "after the crash\n");
  const reading r = read(file);
  CHECK(r.contents == "after the crash\n");
  CHECK(r.state.newest == 1);
}

TEST_CASE("a file whose copies are both damaged, or whose size or header is wrong, is corrupt") {
  temp_dir dir;
  const fs::path file = dir.path / "state";
  write(file, "one\n");
  write(file, "two\n");
  const std::string intact = lanyard::test::read_file(file);
  SECTION("both slots") {
    std::string bad = intact;
    bad[4096 + 6] ^= 0x01;
    bad[4096 + 4096 + 6] ^= 0x01;
    write_all(file, bad);
    const reading r = read(file);
    CHECK(r.status.code == trust_errc::store_corrupt);
    CHECK(r.status.text(lanyard::core::field_key::file) == file.string());
    CHECK(r.status.text(lanyard::core::field_key::problem) == "no_intact_copy");
  }
  SECTION("truncated") {
    write_all(file, intact.substr(0, intact.size() - 1));
    const reading r = read(file);
    CHECK(r.status.code == trust_errc::store_corrupt);
    CHECK(r.status.text(lanyard::core::field_key::problem) == "wrong_size");
  }
  SECTION("a damaged header") {
    std::string bad = intact;
    bad[16] = 'x'; // the size
    write_all(file, bad);
    CHECK(read(file).status.code == trust_errc::store_corrupt);
    CHECK(read(file).status.text(lanyard::core::field_key::problem) == "damaged_header");
  }
  SECTION("a size that is not a multiple of 4096") {
    std::string bad = "lanyard-slots 1 4097\n";
    bad.resize(4096 + 2 * 4097, '\0');
    write_all(file, bad);
    CHECK(read(file).status.code == trust_errc::store_corrupt);
    CHECK(read(file).status.text(lanyard::core::field_key::problem) == "damaged_header");
  }
}

TEST_CASE("a plain file is read whole and replaced by a slot file on the next write") {
  temp_dir dir;
  const fs::path file = dir.path / "state";
  write_all(file, "lanyard-controller-store 1\nplain\n");
  reading r = read(file);
  REQUIRE(r.status.ok());
  CHECK(r.contents == "lanyard-controller-store 1\nplain\n");
  CHECK_FALSE(r.state.slotted);
  write(file, "converted\n");
  r = read(file);
  CHECK(r.state.slotted);
  CHECK(r.contents == "converted\n");
}

TEST_CASE("contents that outgrow a slot get a new file with larger slots") {
  temp_dir dir;
  const fs::path file = dir.path / "state";
  write(file, "small\n");
  const std::string big(10000, 'b');
  write(file, big);
  reading r = read(file);
  REQUIRE(r.status.ok());
  CHECK(r.contents == big);
  CHECK(r.state.slot_size >= 2 * big.size());
  CHECK(r.state.slot_size % 4096 == 0);
  CHECK(r.state.generation == 2);
  write(file, "small again\n"); // fits: in place
  r = read(file);
  CHECK(r.contents == "small again\n");
  CHECK(r.state.generation == 3);
}

TEST_CASE("a slot file keeps the private file rules: others may not write it") {
  temp_dir dir;
  const fs::path file = dir.path / "state";
  write(file, "x\n");
  fs::permissions(file, fs::perms::group_write, fs::perm_options::add);
  CHECK(read(file).status.code == trust_errc::store_permissions);
}
