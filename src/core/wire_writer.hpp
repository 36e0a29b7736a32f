// Private to the core: what the channel and pairing frame encoders share — big-endian writes
// through a cursor into room made for the frame first (whatever container holds it), and the
// `overloaded` helper for visiting a frame variant.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace lanyard::core::detail {

template <class... Ts>
struct overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
overloaded(Ts...) -> overloaded<Ts...>;

// Writes at `p` and moves on; the caller made room for everything it writes.
struct writer {
  std::byte* p;
  void u8(std::uint8_t v) noexcept { *p++ = std::byte{v}; }
  void be(std::uint64_t v, int bytes) noexcept {
    for (int i = bytes - 1; i >= 0; --i)
      u8(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  void raw(const void* src, std::size_t n) noexcept {
    if (n == 0) return;
    std::memcpy(p, src, n);
    p += n;
  }
};

// `n` more bytes at the end of `out`, for a writer.
inline std::byte* grow(std::vector<std::byte>& out, std::size_t n) {
  const std::size_t at = out.size();
  out.resize(at + n);
  return out.data() + at;
}

} // namespace lanyard::core::detail
