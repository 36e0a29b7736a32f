// libFuzzer target for the slot file container (trust/slot_file.hpp) the controller store is
// kept in: any bytes on disk are read without a crash as the newest intact copy, the plain
// contents, or store_corrupt; whatever was read can be written over and read back.
#include "trust/slot_file.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

using namespace lanyard::trust;
using namespace lanyard::trust::detail;

#define SLOT_FUZZ_CHECK(cond)                                                                      \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      std::fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond);             \
      std::abort();                                                                                \
    }                                                                                              \
  } while (false)

namespace {

// One scratch file per fuzzer process (tmpfs when available), removed at exit.
struct scratch {
  scratch() {
    const std::filesystem::path base = std::filesystem::is_directory("/dev/shm")
                                           ? std::filesystem::path("/dev/shm")
                                           : std::filesystem::temp_directory_path();
    dir = base / ("lanyard-slot-file-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all);
    file = dir / "state";
  }
  ~scratch() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::filesystem::path dir;
  std::filesystem::path file;
};

const std::filesystem::path& scratch_file() {
  static const scratch s;
  return s.file;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::filesystem::path& file = scratch_file();
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
  SLOT_FUZZ_CHECK(read.code != trust_errc::store_io && read.code != trust_errc::store_permissions);
  if (read.failed()) {
    SLOT_FUZZ_CHECK(read.code == trust_errc::store_corrupt);
    SLOT_FUZZ_CHECK(read.detail.rfind(file.string() + ":", 0) == 0);
    return 0;
  }
  SLOT_FUZZ_CHECK(exists);
  SLOT_FUZZ_CHECK(contents.size() <= size);
  if (!state.slotted) SLOT_FUZZ_CHECK(contents.size() == size); // the plain format, whole
  // A write over whatever was there reads back, one generation newer.
  const std::uint64_t before = state.generation;
  const std::string next = "after " + std::to_string(contents.size()) + "\n";
  SLOT_FUZZ_CHECK(write_slot_file(file, state, next).ok());
  std::string again;
  slot_file_state after;
  SLOT_FUZZ_CHECK(read_slot_file(file, again, exists, after).ok());
  SLOT_FUZZ_CHECK(again == next);
  SLOT_FUZZ_CHECK(after.slotted && after.generation == before + 1);
  return 0;
}
