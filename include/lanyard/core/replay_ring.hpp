/// @file
/// replay_ring: a session's replay buffer, the messages it sent and the peer has not
/// acknowledged, in order, kept in one circular block of bytes: each message is a 16-byte
/// header (sequence number, kind, length) followed by its payload, wrapping at the block's
/// end. Sending a message copies it in, an acknowledgement drops it from the front; nothing is
/// allocated per message (before, each message was a std::vector and a queue slot: two
/// allocations per send, and the heap fragmented by a firmware's traffic).
///
/// The block holds at most `limit` bytes. A session charges a message its payload plus
/// replay_overhead_per_message (32 B, more than the header) against max_replay_bytes, so a
/// ring whose limit is max_replay_bytes always has room for what the session admitted.
/// Two ways to hold the block:
///   - reserved: the whole limit at once (reset(limit, true), a firmware's session: nothing
///     is allocated after that, and a failed allocation is reported there);
///   - grown: starts empty and doubles up to the limit as messages wait, and gives a large
///     block back once emptied (a phone's session with a 1 MiB limit mostly holds a few KiB).
///     A failed allocation while growing terminates, as everywhere in the core.
///
/// A payload that wraps comes in two pieces (entry::head then entry::tail);
/// encode_message_frame() (frame.hpp) writes such a message as one frame.
///
/// Errors: booleans (reset). Never throws. Thread-safety: distinct objects are safe, shared
/// objects are unsafe.
#pragma once

#include "lanyard/core/frame.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace lanyard::core {

class replay_ring {
public:
  /// Bytes a message takes in the ring besides its payload.
  static constexpr std::size_t header_size = 16;

  /// One message in the ring: its payload is `head` followed by `tail` (empty unless the
  /// payload wraps at the block's end). The views are valid until the ring changes.
  struct entry {
    std::uint64_t seq = 0;
    message_kind kind = message_kind::application;
    std::span<const std::byte> head;
    std::span<const std::byte> tail;
    std::size_t size() const noexcept { return head.size() + tail.size(); }
  };

  /// A message's position in the ring: valid while the message is in it (pop_front() of
  /// earlier messages and push_back() do not move it; growing the block keeps positions).
  using position = std::uint64_t;

  replay_ring() noexcept = default;
  replay_ring(const replay_ring&) = delete;
  replay_ring& operator=(const replay_ring&) = delete;
  replay_ring(replay_ring&&) noexcept = default;
  replay_ring& operator=(replay_ring&&) noexcept = default;

  /// Empties the ring and sets the bytes it may hold (headers and payloads). `reserve`: the
  /// whole block now, kept until the next reset(); false if that allocation failed (the ring
  /// then holds nothing and has no room). Otherwise it grows as needed, up to `limit`.
  bool reset(std::size_t limit, bool reserve) noexcept;

  /// Appends a message. False, and nothing changed, if header and payload would exceed the
  /// limit (a session's accounting never lets that happen).
  bool push_back(std::uint64_t seq, message_kind kind, std::span<const std::byte> payload) noexcept;

  /// Drops the first message. Precondition: !empty().
  void pop_front() noexcept;
  /// Drops every message (the room stays if reserved, a large grown block is given back).
  void clear() noexcept;

  bool empty() const noexcept { return count_ == 0; }
  /// Number of messages.
  std::size_t size() const noexcept { return count_; }
  /// Bytes held, headers included.
  std::size_t bytes() const noexcept { return static_cast<std::size_t>(end_ - begin_); }
  /// Size of the block now allocated.
  std::size_t capacity() const noexcept { return capacity_; }

  /// The first message. Precondition: !empty().
  entry front() const noexcept { return at(begin_); }
  /// Position of the first message (== end() when empty).
  position begin() const noexcept { return begin_; }
  /// Position after the last message.
  position end() const noexcept { return end_; }
  /// The message at `p`. Precondition: begin() <= p < end(), and p a message's position.
  entry at(position p) const noexcept;
  /// The position of the message after the one at `p`.
  position next(position p) const noexcept;

private:
  // The bytes at stream positions [p, p + n) in at most two pieces.
  std::span<std::byte> piece(position p, std::size_t n, std::span<std::byte>& rest) const noexcept;
  void write(position p, const std::byte* src, std::size_t n) noexcept;
  void read(position p, std::byte* dst, std::size_t n) const noexcept;
  // Room for `needed` more bytes (grown mode); false if the limit forbids it.
  bool make_room(std::size_t needed) noexcept;
  void release_if_idle() noexcept;

  std::unique_ptr<std::byte[]> block_;
  std::size_t capacity_ = 0;
  std::size_t limit_ = 0;
  bool reserved_ = false;
  // Stream positions: byte p of the stream is at block_[p % capacity_].
  position begin_ = 0;
  position end_ = 0;
  std::size_t count_ = 0;
};

} // namespace lanyard::core
