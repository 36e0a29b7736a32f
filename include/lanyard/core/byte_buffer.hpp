/// @file
/// byte_buffer: a run of bytes that grows at its end, for code built without exceptions. It is
/// what std::vector<std::byte> is to the session's output and the frame decoder, with one
/// difference a firmware needs: reserve() goes through the non-throwing operator new and
/// reports a failed allocation, so a session made at start-up can say it did not get its
/// memory instead of terminating (nghttp2's buffers are reserved the same way). Growing while
/// appending (a session that was not reserved: phones, Linux accessories) doubles the room
/// and terminates if that allocation fails, as every allocation of the core does.
///
/// @code
///   core::byte_buffer out;
///   if (!out.reserve(4096)) return not_enough_memory;   // start-up
///   out.append(bytes);                                  // never allocates while it fits
///   std::byte* p = out.extend(8);                       // 8 more bytes, written through p
///   send(out.view()); out.clear();                      // the room stays
/// @endcode
///
/// Errors: booleans (reserve). Never throws. Thread-safety: distinct objects are safe, shared
/// objects are unsafe.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <utility>

namespace lanyard::core {

class byte_buffer {
public:
  byte_buffer() noexcept = default;
  byte_buffer(const byte_buffer&) = delete;
  byte_buffer& operator=(const byte_buffer&) = delete;
  byte_buffer(byte_buffer&& o) noexcept
      : block_(std::move(o.block_)), size_(std::exchange(o.size_, 0)),
        capacity_(std::exchange(o.capacity_, 0)) {}
  byte_buffer& operator=(byte_buffer&& o) noexcept {
    block_ = std::move(o.block_);
    size_ = std::exchange(o.size_, 0);
    capacity_ = std::exchange(o.capacity_, 0);
    return *this;
  }

  /// Room for at least `capacity` bytes, the contents kept. False if the allocation failed:
  /// the buffer is then as it was.
  bool reserve(std::size_t capacity) noexcept;

  /// Appends `bytes`, growing the room if needed.
  void append(std::span<const std::byte> bytes) noexcept;

  /// Makes the buffer `n` bytes longer and returns where those bytes are, for the caller to
  /// write (their values are unspecified until then). Grows the room if needed.
  std::byte* extend(std::size_t n) noexcept;

  /// Empties the buffer; the room stays.
  void clear() noexcept { size_ = 0; }
  /// Empties the buffer and gives its room back.
  void release() noexcept {
    block_.reset();
    size_ = capacity_ = 0;
  }

  std::byte* data() noexcept { return block_.get(); }
  const std::byte* data() const noexcept { return block_.get(); }
  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return capacity_; }
  bool empty() const noexcept { return size_ == 0; }
  std::byte& operator[](std::size_t i) noexcept { return block_[i]; }
  const std::byte& operator[](std::size_t i) const noexcept { return block_[i]; }
  /// The bytes held; valid until the buffer next changes.
  std::span<const std::byte> view() const noexcept { return {block_.get(), size_}; }

private:
  // Room for `needed` bytes in all: doubles (at least), terminating if that fails.
  void grow_to(std::size_t needed) noexcept;

  std::unique_ptr<std::byte[]> block_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

} // namespace lanyard::core
