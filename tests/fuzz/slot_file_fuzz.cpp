// libFuzzer target for the slot file container (trust/slot_file.hpp) the controller store is
// kept in: any bytes on disk are read without a crash as the newest intact copy, the plain
// contents, or store_corrupt; whatever was read can be written over and read back.
#include "trust/slot_file.hpp"

#include "fuzz_support.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

using namespace lanyard::trust;
using namespace lanyard::trust::detail;

namespace {

const std::filesystem::path& scratch() {
  static const lanyard::fuzz::scratch_file file("slot-file");
  return file.path();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::filesystem::path& file = scratch();
  {
    std::ofstream f(file, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  std::filesystem::permissions(file, std::filesystem::perms::owner_read |
                                         std::filesystem::perms::owner_write);
  std::string contents;
  bool exists = false;
  slot_file_state state;
  const store_status read = read_slot_file(file, contents, exists, state);
  LANYARD_FUZZ_CHECK(read.code != trust_errc::store_io &&
                     read.code != trust_errc::store_permissions);
  if (read.failed()) {
    LANYARD_FUZZ_CHECK(read.code == trust_errc::store_corrupt);
    LANYARD_FUZZ_CHECK(read.detail.rfind(file.string() + ":", 0) == 0);
    return 0;
  }
  LANYARD_FUZZ_CHECK(exists);
  LANYARD_FUZZ_CHECK(contents.size() <= size);
  if (!state.slotted) LANYARD_FUZZ_CHECK(contents.size() == size); // the plain format, whole
  // A write over whatever was there reads back, one generation newer.
  const std::uint64_t before = state.generation;
  const std::string next = "after " + std::to_string(contents.size()) + "\n";
  LANYARD_FUZZ_CHECK(write_slot_file(file, state, next).ok());
  std::string again;
  slot_file_state after;
  LANYARD_FUZZ_CHECK(read_slot_file(file, again, exists, after).ok());
  LANYARD_FUZZ_CHECK(again == next);
  LANYARD_FUZZ_CHECK(after.slotted && after.generation == before + 1);
  return 0;
}
