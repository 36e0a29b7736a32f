#include "lanyard/core/byte_buffer.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

namespace lanyard::core {

bool byte_buffer::reserve(std::size_t capacity) noexcept {
  if (capacity <= capacity_) return true;
  std::unique_ptr<std::byte[]> block(new (std::nothrow) std::byte[capacity]);
  if (!block) return false;
  if (size_ != 0) std::memcpy(block.get(), block_.get(), size_);
  block_ = std::move(block);
  capacity_ = capacity;
  return true;
}

void byte_buffer::grow_to(std::size_t needed) noexcept {
  if (needed < size_) std::abort(); // the size overflowed: no buffer holds that much
  if (!reserve(std::max({needed, 2 * capacity_, std::size_t{64}}))) std::abort();
}

void byte_buffer::append(std::span<const std::byte> bytes) noexcept {
  if (bytes.empty()) return;
  std::memcpy(extend(bytes.size()), bytes.data(), bytes.size());
}

std::byte* byte_buffer::extend(std::size_t n) noexcept {
  if (capacity_ - size_ < n) grow_to(size_ + n);
  std::byte* p = block_.get() + size_;
  size_ += n;
  return p;
}

} // namespace lanyard::core
