#include "lanyard/core/frame_decoder.hpp"

#include "lanyard/core/channel_error.hpp"

#include <algorithm>
#include <cstring>

namespace lanyard::core {
namespace {

std::uint64_t get_be(const std::byte* p, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i)
    v = (v << 8) | std::to_integer<std::uint64_t>(p[i]);
  return v;
}

session_id get_id(const std::byte* p) {
  session_id id;
  std::memcpy(id.bytes.data(), p, id.bytes.size());
  return id;
}

// Checks a header; on success sets `body` to the announced body length.
std::error_code check_header(const std::byte* h, std::size_t max_body, std::size_t& body) {
  if (std::to_integer<std::uint8_t>(h[0]) != protocol_version) return channel_errc::bad_version;
  const auto type = std::to_integer<std::uint8_t>(h[1]);
  if (type < static_cast<std::uint8_t>(frame_type::hello) ||
      type > static_cast<std::uint8_t>(frame_type::control))
    return channel_errc::unknown_frame_type;
  const std::uint64_t len = get_be(h + 2, 4);
  // Fixed-size bodies are checked against the header already, so a bad length is reported
  // before any body byte is waited for.
  std::size_t fixed = 0, minimum = 0, maximum = max_body;
  switch (static_cast<frame_type>(type)) {
  case frame_type::hello:
    fixed = hello_body_size;
    break;
  case frame_type::welcome:
    fixed = welcome_body_size;
    break;
  case frame_type::ack:
    fixed = ack_body_size;
    break;
  case frame_type::ping:
  case frame_type::pong:
    fixed = ping_body_size;
    break;
  case frame_type::data:
    minimum = data_body_min_size;
    break;
  case frame_type::control:
    // The limit is the message's, as for DATA: a CONTROL body has one byte more.
    minimum = control_body_min_size;
    maximum = max_body + (control_body_min_size - data_body_min_size);
    break;
  case frame_type::close:
    minimum = close_body_min_size;
    maximum = std::min(max_body, close_body_min_size + max_close_reason);
    break;
  }
  if (fixed != 0) {
    if (len < fixed) return channel_errc::frame_truncated;
    if (len > fixed) return channel_errc::frame_trailing_bytes;
  } else {
    if (len < minimum) return channel_errc::frame_truncated;
    if (len > maximum) return channel_errc::frame_too_large;
  }
  body = static_cast<std::size_t>(len);
  return {};
}

// max_message and window, u32 each.
receive_limits get_limits(const std::byte* p) {
  return {static_cast<std::uint32_t>(get_be(p, 4)), static_cast<std::uint32_t>(get_be(p + 4, 4))};
}

// Parses a body whose length check_header() already validated.
std::error_code parse_body(frame_type type, std::span<const std::byte> b, frame& out) {
  const std::byte* p = b.data();
  switch (type) {
  case frame_type::hello:
    out = hello_frame{get_id(p), get_be(p + 16, 8), get_limits(p + 24)};
    break;
  case frame_type::welcome: {
    const auto flags = std::to_integer<std::uint8_t>(p[16]);
    if ((flags & ~1u) != 0) return channel_errc::invalid_frame_field; // reserved bits
    out = welcome_frame{get_id(p), (flags & 1u) != 0, get_be(p + 17, 8), get_limits(p + 25)};
    break;
  }
  case frame_type::data:
    out = data_frame{get_be(p, 8), b.subspan(8)};
    break;
  case frame_type::ack:
    out = ack_frame{get_be(p, 8)};
    break;
  case frame_type::ping:
    out = ping_frame{get_be(p, 8)};
    break;
  case frame_type::pong:
    out = pong_frame{get_be(p, 8)};
    break;
  case frame_type::control: {
    const auto service = static_cast<message_kind>(std::to_integer<std::uint8_t>(p[8]));
    // Only the services of this version: an unknown one could be nobody's to handle, and
    // taking it for application data would hand a service's message to the app.
    if (service == message_kind::application || !is_known_message_kind(service))
      return channel_errc::invalid_frame_field;
    out = control_frame{get_be(p, 8), service, b.subspan(control_body_min_size)};
    break;
  }
  case frame_type::close:
    out = close_frame{static_cast<std::uint16_t>(get_be(p, 2)),
                      std::string_view(reinterpret_cast<const char*>(p + 2), b.size() - 2)};
    break;
  }
  return {};
}

} // namespace

// Empties the buffer. A large frame's memory is given back rather than kept: thousands of
// idle sessions must not each hold on to a 64 KiB buffer because of one big message.
void frame_decoder::release() noexcept {
  if (!keep_ && buf_.capacity() > retained_capacity)
    buf_.release();
  else
    buf_.clear();
}

std::size_t frame_decoder::wanted() const noexcept {
  if (error_) return 1;
  if (complete_ || buf_.size() < frame_header_size)
    return frame_header_size - (complete_ ? 0 : buf_.size());
  std::size_t body = 0;
  if (check_header(buf_.data(), max_body_size_, body)) return 1;
  return frame_header_size + body - buf_.size();
}

bool frame_decoder::keep_frames_in_buffer() noexcept {
  keep_ = true;
  // Header, body, and a CONTROL frame's service byte (see the file comment).
  return buf_.reserve(frame_header_size + max_body_size_ + 1);
}

void frame_decoder::reset() noexcept {
  release();
  complete_ = false;
  error_.clear();
}

decode_result frame_decoder::decode(std::span<const std::byte> in) {
  decode_result r;
  if (complete_) { // the frame returned last time is no longer needed
    release();
    complete_ = false;
  }
  if (error_) {
    r.error = error_;
    return r;
  }
  auto fail = [&](std::error_code ec) {
    error_ = ec;
    release();
    r.error = ec;
    return r;
  };
  std::size_t body = 0;
  // Fast path: a whole frame at the start of the chunk, nothing buffered: parse in place.
  if (buf_.empty() && !keep_ && in.size() >= frame_header_size) {
    if (auto ec = check_header(in.data(), max_body_size_, body)) return fail(ec);
    if (in.size() - frame_header_size >= body) {
      frame f;
      const auto type = static_cast<frame_type>(std::to_integer<std::uint8_t>(in[1]));
      if (auto ec = parse_body(type, in.subspan(frame_header_size, body), f)) return fail(ec);
      r.consumed = frame_header_size + body;
      r.value = f;
      return r;
    }
  }
  // Slow path: accumulate the header, then the body, in buf_.
  if (buf_.size() < frame_header_size) {
    const std::size_t take = std::min(frame_header_size - buf_.size(), in.size());
    buf_.append(in.first(take));
    r.consumed += take;
    if (buf_.size() < frame_header_size) return r;
  }
  if (auto ec = check_header(buf_.data(), max_body_size_, body)) return fail(ec);
  const std::size_t have = buf_.size() - frame_header_size;
  const std::size_t take = std::min(body - have, in.size() - r.consumed);
  buf_.append(in.subspan(r.consumed, take));
  r.consumed += take;
  if (buf_.size() - frame_header_size < body) return r;
  // Complete. The frame's views point into buf_, so it is cleared at the next call, not now.
  frame f;
  const auto type = static_cast<frame_type>(std::to_integer<std::uint8_t>(buf_[1]));
  if (auto ec = parse_body(type, buf_.view().subspan(frame_header_size), f)) return fail(ec);
  r.value = f;
  complete_ = true;
  return r;
}

} // namespace lanyard::core
