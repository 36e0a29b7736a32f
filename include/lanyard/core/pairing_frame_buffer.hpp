/// @file
/// The byte handling both pairing state machines share (and a firmware's own driver may use),
/// in fixed room inside the object: it never allocates.
///
/// Input: one pairing frame at a time (at most max_pairing_frame_size bytes). feed() takes
/// bytes only up to the end of the frame being read and says how many it took; next() decodes
/// the frame once it is whole. What a read brought beyond it stays the caller's.
///
/// Output: frames appended one after another and handed out once. Its room holds everything
/// either side sends in a whole exchange (the accessory: PARAMS, CHALLENGE, then RESULT or a
/// CLOSE; the controller: START, SHARE and CONFIRM), so a caller that takes its output late
/// loses nothing; a frame that would not fit is a bug of the caller's protocol, not the peer's
/// doing, and ends the program (the core builds without exceptions).
///
/// Thread-safety: distinct objects safe, shared objects unsafe.
#pragma once

#include "lanyard/core/pairing_frame.hpp"

#include <array>
#include <cstddef>
#include <span>

namespace lanyard::core {

class pairing_frame_buffer {
public:
  /// Room for output: two of the largest frames, more than either side of an exchange sends
  /// in all (the accessory 204 bytes at most, the controller 181).
  static constexpr std::size_t output_capacity = 2 * max_pairing_frame_size;

  /// Takes the bytes the current frame still lacks from the front of `bytes` (its header
  /// first, then its body) and returns how many it took: all of them only if the frame does
  /// not end before. Takes nothing once a frame is whole or a header is bad, until next()
  /// reported it.
  std::size_t feed(std::span<const std::byte> bytes) noexcept;

  /// The bytes that would complete the current frame as far as its header tells (the header's
  /// first, then its body's); 0 once next() has something to report.
  std::size_t wanted() const noexcept;

  /// The next complete frame, or an error, or neither (feed more). The frame's views stay
  /// valid until the next call of next() or feed(). After a frame, the room is free for the
  /// next one; an error is reported again until the object goes.
  pairing_decode_result next() noexcept;

  /// Bytes of the current, incomplete frame held so far.
  std::size_t buffered() const noexcept { return consumed_ ? 0 : size_; }

  void send(const pairing_frame& f) noexcept;
  void send_raw(std::span<const std::byte> b) noexcept;

  /// Everything queued since the last call; valid until the next call of a non-const member.
  std::span<const std::byte> take_output() noexcept;

private:
  std::byte* output_room(std::size_t n) noexcept;

  std::array<std::byte, max_pairing_frame_size> in_;
  std::size_t size_ = 0;
  bool consumed_ = false; // in_ holds a frame next() returned: dropped at the next call
  std::array<std::byte, output_capacity> out_;
  std::size_t out_size_ = 0;
  bool taken_ = false; // out_ was handed out: cleared before the next frame goes in
};

} // namespace lanyard::core
