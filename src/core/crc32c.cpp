#include "lanyard/core/crc32c.hpp"

#include <array>

namespace lanyard::core {
namespace {

constexpr std::array<std::uint32_t, 256> make_table() noexcept {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k)
      c = (c & 1U) != 0 ? (c >> 1) ^ 0x82F63B78U : c >> 1; // reflected 0x1EDC6F41
    table[i] = c;
  }
  return table;
}

constexpr auto table = make_table();

} // namespace

std::uint32_t crc32c(std::span<const std::uint8_t> data, std::uint32_t seed) noexcept {
  std::uint32_t c = ~seed;
  for (std::uint8_t b : data)
    c = table[(c ^ b) & 0xFFU] ^ (c >> 8);
  return ~c;
}

std::uint32_t crc32c(std::string_view data, std::uint32_t seed) noexcept {
  return crc32c(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(data.data()),
                                              data.size()),
                seed);
}

} // namespace lanyard::core
