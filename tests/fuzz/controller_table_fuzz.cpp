// libFuzzer target for the firmware's controller blob (firmware::controller_table::parse): any
// bytes are refused or taken without a crash; a refused blob leaves the table as it was; a
// taken one serializes back to exactly the same bytes (the format has no slack: every length is
// checked against the blob and the checksum covers it all).
#include "fuzz_support.hpp"

#include <lanyard/firmware/controller_table.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto blob = std::span(reinterpret_cast<const std::byte*>(data), size);
  lanyard::firmware::controller_table table(8);
  lanyard::core::fingerprint kept;
  kept.bytes.fill(0x5a);
  lanyard::core::paired_role role{};
  LANYARD_FUZZ_CHECK(!table.add(kept, "kept", role));
  if (table.parse(blob)) {
    LANYARD_FUZZ_CHECK(table.list().size() == 1 && table.find(kept) != nullptr);
    return 0;
  }
  std::vector<std::byte> again(lanyard::firmware::controller_table::blob_size(8));
  again.resize(table.serialize(again));
  LANYARD_FUZZ_CHECK(again.size() == size);
  LANYARD_FUZZ_CHECK(std::memcmp(again.data(), data, size) == 0);
  return 0;
}
