// libFuzzer target for the firmware's controller blob (firmware::controller_table::parse): any
// bytes are refused or taken without a crash; a refused blob leaves the table as it was; a
// taken one serializes back to exactly the same bytes (the format has no slack: every length is
// checked against the blob and the checksum covers it all).
#include <lanyard/firmware/controller_table.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#define TABLE_FUZZ_CHECK(cond)                                                                     \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      std::fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond);             \
      std::abort();                                                                                \
    }                                                                                              \
  } while (false)

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto blob = std::span(reinterpret_cast<const std::byte*>(data), size);
  lanyard::firmware::controller_table table(8);
  lanyard::core::fingerprint kept;
  kept.bytes.fill(0x5a);
  lanyard::core::paired_role role{};
  TABLE_FUZZ_CHECK(!table.add(kept, "kept", role));
  if (table.parse(blob)) {
    TABLE_FUZZ_CHECK(table.list().size() == 1 && table.find(kept) != nullptr);
    return 0;
  }
  std::vector<std::byte> again(lanyard::firmware::controller_table::blob_size(8));
  again.resize(table.serialize(again));
  TABLE_FUZZ_CHECK(again.size() == size);
  TABLE_FUZZ_CHECK(std::memcmp(again.data(), data, size) == 0);
  return 0;
}
