#include "lanyard/core/replay_ring.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

namespace lanyard::core {
namespace {

// A grown block emptied after a burst goes back to the heap above this size: an idle session
// stays small (a reserved block is kept: it was sized once, on purpose).
constexpr std::size_t keep_when_idle = 16 * 1024;
// The first block of a grown ring: a few small messages.
constexpr std::size_t first_block = 1024;

// Header: seq (8 bytes), payload length (4), kind (1), 3 unused; little-endian.
void encode_header(std::byte* h, std::uint64_t seq, std::uint32_t size, message_kind kind) {
  for (int i = 0; i < 8; ++i)
    h[i] = static_cast<std::byte>(seq >> (8 * i));
  for (int i = 0; i < 4; ++i)
    h[8 + i] = static_cast<std::byte>(size >> (8 * i));
  h[12] = static_cast<std::byte>(kind);
  h[13] = h[14] = h[15] = std::byte{0};
}

} // namespace

bool replay_ring::reset(std::size_t limit, bool reserve) noexcept {
  block_.reset();
  capacity_ = 0;
  limit_ = limit;
  reserved_ = reserve;
  begin_ = end_ = 0;
  count_ = 0;
  if (!reserve || limit == 0) return true;
  block_.reset(new (std::nothrow) std::byte[limit]);
  if (!block_) {
    limit_ = 0;
    return false;
  }
  capacity_ = limit;
  return true;
}

std::span<std::byte> replay_ring::piece(position p, std::size_t n,
                                        std::span<std::byte>& rest) const noexcept {
  const std::size_t off = static_cast<std::size_t>(p % capacity_);
  const std::size_t first = std::min(n, capacity_ - off);
  rest = std::span<std::byte>(block_.get(), n - first);
  return std::span<std::byte>(block_.get() + off, first);
}

void replay_ring::write(position p, const std::byte* src, std::size_t n) noexcept {
  if (n == 0) return;
  std::span<std::byte> rest;
  std::span<std::byte> first = piece(p, n, rest);
  std::memcpy(first.data(), src, first.size());
  if (!rest.empty()) std::memcpy(rest.data(), src + first.size(), rest.size());
}

void replay_ring::read(position p, std::byte* dst, std::size_t n) const noexcept {
  std::span<std::byte> rest;
  std::span<std::byte> first = piece(p, n, rest);
  std::memcpy(dst, first.data(), first.size());
  if (!rest.empty()) std::memcpy(dst + first.size(), rest.data(), rest.size());
}

bool replay_ring::make_room(std::size_t needed) noexcept {
  const std::size_t want = bytes() + needed;
  if (want > limit_) return false;
  if (want <= capacity_) return true;
  if (reserved_) return false; // cannot happen: a reserved block is the whole limit
  std::size_t cap = std::max({want, 2 * capacity_, first_block});
  cap = std::min(cap, limit_);
  std::unique_ptr<std::byte[]> block(new (std::nothrow) std::byte[cap]);
  if (!block) std::abort(); // the core's policy for a failed allocation
  // The same stream positions in the new block: byte p moves to block[p % cap].
  std::unique_ptr<std::byte[]> old = std::move(block_);
  const std::size_t old_capacity = capacity_;
  block_ = std::move(block);
  capacity_ = cap;
  for (position p = begin_; p < end_;) {
    const std::size_t off = static_cast<std::size_t>(p % old_capacity);
    const std::size_t n = std::min(static_cast<std::size_t>(end_ - p), old_capacity - off);
    write(p, old.get() + off, n);
    p += n;
  }
  return true;
}

bool replay_ring::push_back(std::uint64_t seq, message_kind kind,
                            std::span<const std::byte> payload) noexcept {
  if (payload.size() > UINT32_MAX || !make_room(header_size + payload.size())) return false;
  std::byte header[header_size];
  encode_header(header, seq, static_cast<std::uint32_t>(payload.size()), kind);
  write(end_, header, header_size);
  write(end_ + header_size, payload.data(), payload.size());
  end_ += header_size + payload.size();
  ++count_;
  return true;
}

replay_ring::entry replay_ring::at(position p) const noexcept {
  std::byte h[header_size];
  read(p, h, header_size);
  entry e;
  for (int i = 7; i >= 0; --i)
    e.seq = (e.seq << 8) | std::to_integer<std::uint64_t>(h[i]);
  std::uint32_t size = 0;
  for (int i = 3; i >= 0; --i)
    size = (size << 8) | std::to_integer<std::uint32_t>(h[8 + i]);
  e.kind = static_cast<message_kind>(h[12]);
  if (size == 0) return e;
  std::span<std::byte> rest;
  const std::span<std::byte> first = piece(p + header_size, size, rest);
  e.head = first;
  e.tail = rest;
  return e;
}

replay_ring::position replay_ring::next(position p) const noexcept {
  std::byte h[header_size];
  read(p, h, header_size);
  std::uint32_t size = 0;
  for (int i = 3; i >= 0; --i)
    size = (size << 8) | std::to_integer<std::uint32_t>(h[8 + i]);
  return p + header_size + size;
}

void replay_ring::pop_front() noexcept {
  begin_ = next(begin_);
  --count_;
  if (count_ == 0) release_if_idle();
}

void replay_ring::clear() noexcept {
  begin_ = end_;
  count_ = 0;
  release_if_idle();
}

void replay_ring::release_if_idle() noexcept {
  if (reserved_ || capacity_ <= keep_when_idle) return;
  block_.reset();
  capacity_ = 0;
}

} // namespace lanyard::core
