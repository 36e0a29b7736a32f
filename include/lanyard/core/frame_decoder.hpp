/// @file
/// Incremental decoder of channel frames from a byte stream.
///
/// Feed it whatever the transport delivered — a frame may be split anywhere, several frames
/// may arrive in one chunk — and it hands back one complete frame at a time. Complete frames
/// that lie entirely in the input chunk are returned as views into that chunk (no copy); a
/// frame split across chunks is reassembled in an internal buffer that never grows beyond
/// frame_header_size + max_body_size + 1 (a CONTROL frame's service byte: the limit is on
/// the message, which DATA and CONTROL carry alike).
///
/// Errors (std::error_code in channel_category()): bad_version, unknown_frame_type,
/// frame_too_large (reported as soon as the header is read, before any body byte is buffered),
/// frame_truncated, frame_trailing_bytes, invalid_frame_field. After an error the decoder
/// stays failed — a byte stream cannot be resynchronised — and reports the same error until
/// reset().
///
/// Thread-safety: distinct objects are safe, shared objects are unsafe.
#pragma once

#include "lanyard/core/frame.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <system_error>

namespace lanyard::core {

/// The default maximum body size: a 64 KiB message plus the DATA sequence number.
inline constexpr std::size_t default_max_frame_body = 64 * 1024 + data_body_min_size;

/// Result of one frame_decoder::decode() call.
struct decode_result {
  /// Bytes of the input that were consumed; advance the input by this much.
  std::size_t consumed = 0;
  /// A complete frame, if one was finished. Its views stay valid until the next call to
  /// decode() or reset() and as long as the input chunk passed to this call.
  std::optional<frame> value;
  /// The decoding error, if any (then `value` is empty).
  std::error_code error;
};

/// Incremental frame decoder. See the file comment.
class frame_decoder {
public:
  /// `max_body_size` bounds the body length a header may announce.
  explicit frame_decoder(std::size_t max_body_size = default_max_frame_body) noexcept
      : max_body_size_(max_body_size) {}

  /// Consumes bytes from `in` up to the end of the next complete frame (or all of `in` if no
  /// frame completes) and returns that frame, or an error. Call again with the rest of the
  /// input while `consumed < in.size()`.
  decode_result decode(std::span<const std::byte> in);

  /// Forgets any partial frame and a previous error (call when a new connection starts).
  void reset() noexcept;

  /// True if part of a frame is buffered (the stream ended mid-frame if the connection closes
  /// now).
  bool has_partial_frame() const noexcept { return !complete_ && !buf_.empty(); }

  /// Bytes that would complete what is being decoded: the rest of a header, or of the frame
  /// whose header was read; a header's worth when idle; 1 after an error (decode() then
  /// reports it). Never 0.
  std::size_t wanted() const noexcept;

  /// The maximum body size this decoder accepts.
  std::size_t max_body_size() const noexcept { return max_body_size_; }

  /// From now on every frame is copied into the decoder's own buffer, reserved here for the
  /// largest frame and kept for the decoder's life (reset() and later decodes do not give it
  /// back): a frame's views then stay valid until the next decode() or reset() whatever
  /// happens to the input chunk, and decoding allocates nothing more. For a session that
  /// hands out received messages as views (message_delivery::view) and a firmware that
  /// allocates only at start. False if the reservation failed (nothing is kept then: the
  /// buffer grows as it needs, and a failed growth terminates, as in the core everywhere).
  [[nodiscard]] bool keep_frames_in_buffer() noexcept;

private:
  static constexpr std::size_t retained_capacity = 4096;
  void release() noexcept;

  std::size_t max_body_size_;
  byte_buffer buf_;       // partial frame: header, then body
  bool keep_ = false;     // keep_frames_in_buffer()
  bool complete_ = false; // buf_ holds the frame returned by the last decode()
  std::error_code error_;
};

} // namespace lanyard::core
