// Private to the core: what the channel and pairing frame encoders share — big-endian writes
// into a byte vector, and the `overloaded` helper for visiting a frame variant.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace lanyard::core::detail {

template <class... Ts>
struct overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
overloaded(Ts...) -> overloaded<Ts...>;

inline void put_u8(std::vector<std::byte>& out, std::uint8_t v) {
  out.push_back(std::byte{v});
}

inline void put_u32(std::vector<std::byte>& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    put_u8(out, static_cast<std::uint8_t>(v >> shift));
}

} // namespace lanyard::core::detail
