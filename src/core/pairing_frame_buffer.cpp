#include "lanyard/core/pairing_frame_buffer.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace lanyard::core {

std::size_t pairing_frame_buffer::wanted() const noexcept {
  const std::span<const std::byte> held(in_.data(), buffered());
  std::size_t body = 0;
  if (held.size() >= frame_header_size) {
    for (std::size_t i = 2; i < frame_header_size; ++i)
      body = (body << 8) | std::to_integer<std::uint8_t>(held[i]);
    // Too large, or whole: next() has it to report (and parses the body once, there).
    if (body > max_pairing_body || held.size() == frame_header_size + body) return 0;
  }
  // Incomplete, so decoding looks at the header only: a bad version or type ends the frame.
  if (decode_pairing_frame(held).error) return 0;
  return held.size() < frame_header_size ? frame_header_size - held.size()
                                         : frame_header_size + body - held.size();
}

std::size_t pairing_frame_buffer::feed(std::span<const std::byte> bytes) noexcept {
  if (consumed_) {
    size_ = 0;
    consumed_ = false;
  }
  // The header first; once it is whole, it tells how much body follows.
  std::size_t taken = 0;
  for (std::size_t want = wanted(); want > 0 && taken < bytes.size(); want = wanted()) {
    const std::size_t n = std::min(bytes.size() - taken, want);
    std::memcpy(in_.data() + size_, bytes.data() + taken, n);
    size_ += n;
    taken += n;
  }
  return taken;
}

pairing_decode_result pairing_frame_buffer::next() noexcept {
  if (consumed_) {
    size_ = 0;
    consumed_ = false;
  }
  pairing_decode_result r = decode_pairing_frame(std::span<const std::byte>(in_.data(), size_));
  // feed() took no byte past the frame's end: a frame is everything held.
  if (r.value) consumed_ = true;
  return r;
}

std::byte* pairing_frame_buffer::output_room(std::size_t n) noexcept {
  if (taken_) {
    out_size_ = 0;
    taken_ = false;
  }
  // More than an exchange ever sends (output_capacity): the caller's bug, see the file comment.
  if (n > out_.size() - out_size_) std::abort();
  std::byte* at = out_.data() + out_size_;
  out_size_ += n;
  return at;
}

void pairing_frame_buffer::send(const pairing_frame& f) noexcept {
  const std::size_t n = encoded_size(f);
  encode_pairing_frame(f, std::span(output_room(n), n));
}

void pairing_frame_buffer::send_raw(std::span<const std::byte> b) noexcept {
  if (b.empty()) return;
  std::memcpy(output_room(b.size()), b.data(), b.size());
}

std::span<const std::byte> pairing_frame_buffer::take_output() noexcept {
  if (taken_) out_size_ = 0;
  taken_ = true;
  return {out_.data(), out_size_};
}

} // namespace lanyard::core
