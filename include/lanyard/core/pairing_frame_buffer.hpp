/// @file
/// The byte handling both pairing state machines share (and a firmware's own driver may use):
/// input is buffered only up to one pairing frame (at most 134 bytes) before it is decoded or
/// refused; output is appended frame by frame and handed out once.
///
/// Thread-safety: distinct objects safe, shared objects unsafe.
#pragma once

#include "lanyard/core/pairing_frame.hpp"

#include <cstddef>
#include <optional>
#include <span>
#include <system_error>
#include <vector>

namespace lanyard::core {

class pairing_frame_buffer {
public:
  /// Appends received bytes (at most what one transport read returned: next() consumes or
  /// fails on them before the next read).
  void feed(std::span<const std::byte> bytes) { in_.insert(in_.end(), bytes.begin(), bytes.end()); }

  /// The next complete frame, or an error, or neither (wait for more). The frame's views stay
  /// valid until the next call of next() or feed().
  pairing_decode_result next() {
    if (consumed_ > 0) {
      in_.erase(in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(consumed_));
      consumed_ = 0;
    }
    pairing_decode_result r = decode_pairing_frame(in_);
    consumed_ = r.consumed;
    return r;
  }

  /// Bytes received beyond the frames decoded so far (what follows the last pairing frame on a
  /// connection that goes on with the channel).
  std::span<const std::byte> unread() const noexcept {
    return std::span<const std::byte>(in_).subspan(consumed_);
  }

  void send(const pairing_frame& f) { encode_pairing_frame(f, out_); }
  void send_raw(std::span<const std::byte> b) { out_.insert(out_.end(), b.begin(), b.end()); }

  /// Everything queued since the last call; valid until the next call of a non-const member.
  std::span<const std::byte> take_output() {
    sent_.swap(out_);
    out_.clear();
    return sent_;
  }

private:
  std::vector<std::byte> in_;
  std::size_t consumed_ = 0;
  std::vector<std::byte> out_;
  std::vector<std::byte> sent_;
};

} // namespace lanyard::core
