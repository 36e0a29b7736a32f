/// @file
/// The channel's wire frames and their encoder.
///
/// Every frame is a 6-byte header — version (u8, currently 1), type (u8), body length (u32,
/// big-endian) — followed by the body. docs/PROTOCOL.md describes every body byte by byte.
/// Decoding (with arbitrary chunking) lives in frame_decoder.hpp.
///
/// Errors: encoding cannot fail; the caller keeps bodies within the limits (DATA payload up to
/// the peer's maximum message size, CLOSE reason up to max_close_reason bytes).
///
/// Thread-safety: value types and pure functions; distinct objects are safe.
#pragma once

#include "lanyard/core/byte_buffer.hpp"
#include "lanyard/core/session_id.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

namespace lanyard::core {

/// The protocol version this implementation speaks (the header's first byte).
inline constexpr std::uint8_t protocol_version = 1;

/// Size of the frame header: version, type, u32 body length.
inline constexpr std::size_t frame_header_size = 6;

/// The longest CLOSE reason text, in bytes (longer reasons are truncated by the encoder).
inline constexpr std::size_t max_close_reason = 256;

/// Frame type codes (the header's second byte).
enum class frame_type : std::uint8_t {
  hello = 0x01,   ///< client → server, first frame of a connection
  welcome = 0x02, ///< server → client, answer to HELLO
  data = 0x03,    ///< one application message with its sequence number
  ack = 0x04,     ///< cumulative acknowledgement
  ping = 0x05,    ///< keep-alive / RTT probe
  pong = 0x06,    ///< answer to PING
  close = 0x07,   ///< the sender is closing this connection (or the session)
  control = 0x08, ///< one message of a library service (provisioning, administration)
};

/// What a message of the session carries. Application messages travel in DATA frames; the
/// others in CONTROL frames, whose service byte is this value. All share one sequence space,
/// so a service's message is delivered exactly once and in order with the application's.
enum class message_kind : std::uint8_t {
  application = 0,    ///< the application's own bytes (DATA)
  provisioning = 1,   ///< Wi-Fi provisioning (core/provisioning.hpp's texts)
  administration = 2, ///< controller administration (accessory/controller_admin.hpp's texts)
  relay = 3,          ///< relay settings and tickets (core/relay_settings.hpp's binary bodies)
};

/// True for the kinds this version sends and accepts (an unknown service ends the connection:
/// nobody would handle it).
constexpr bool is_known_message_kind(message_kind k) noexcept {
  return k == message_kind::application || k == message_kind::provisioning ||
         k == message_kind::administration || k == message_kind::relay;
}

/// "application", "provisioning", "administration", "relay" ("unknown" otherwise).
std::string_view to_string(message_kind k) noexcept;

/// Fixed body sizes of the frames that have one.
inline constexpr std::size_t hello_body_size = 16 + 8 + 4 + 4;
inline constexpr std::size_t welcome_body_size = 16 + 1 + 8 + 4 + 4;
inline constexpr std::size_t data_body_min_size = 8;
inline constexpr std::size_t control_body_min_size = 8 + 1;
inline constexpr std::size_t ack_body_size = 8;
inline constexpr std::size_t ping_body_size = 8;
inline constexpr std::size_t close_body_min_size = 2;

/// What the sender of a HELLO or WELCOME accepts from its peer (docs/PROTOCOL.md § 3.3), so
/// that two ends configured differently (a phone, a firmware accessory with kilobytes of RAM)
/// still agree: each sends at most `max_message` bytes per message and keeps at most `window`
/// bytes beyond the other's acknowledgement (charged as a replay buffer charges: payload plus
/// replay_overhead_per_message each). The defaults are session_settings' defaults.
struct receive_limits {
  std::uint32_t max_message = 64 * 1024;
  std::uint32_t window = 1024 * 1024;
  friend bool operator==(const receive_limits&, const receive_limits&) = default;
};

/// HELLO: "resume session `id` (zero: I have none); I expect your message `next_expected`;
/// send me within `limits`".
struct hello_frame {
  session_id id;
  std::uint64_t next_expected = 0;
  receive_limits limits;
  friend bool operator==(const hello_frame&, const hello_frame&) = default;
};

/// WELCOME: "this is session `id`; `resumed` says whether it is the one you asked for; I
/// expect your message `next_expected`; send me within `limits`".
struct welcome_frame {
  session_id id;
  bool resumed = false;
  std::uint64_t next_expected = 0;
  receive_limits limits;
  friend bool operator==(const welcome_frame&, const welcome_frame&) = default;
};

/// DATA: message number `seq`. `payload` is a view: into the decoder's buffer or the input
/// chunk when decoded, so copy it before the next decoder call.
struct data_frame {
  std::uint64_t seq = 0;
  std::span<const std::byte> payload;
};

/// ACK: "I have received every message below `next_expected`".
struct ack_frame {
  std::uint64_t next_expected = 0;
  friend bool operator==(const ack_frame&, const ack_frame&) = default;
};

/// PING: echo `token` back in a PONG.
struct ping_frame {
  std::uint64_t token = 0;
  friend bool operator==(const ping_frame&, const ping_frame&) = default;
};

/// PONG: the token of the PING being answered.
struct pong_frame {
  std::uint64_t token = 0;
  friend bool operator==(const pong_frame&, const pong_frame&) = default;
};

/// CLOSE: `code` 0 ends the session normally; any other value is a channel_errc explaining
/// why the sender closes this connection (the session survives). `reason` is UTF-8 text for
/// logs, a view like data_frame::payload.
struct close_frame {
  std::uint16_t code = 0;
  std::string_view reason;
};

/// CONTROL: message number `seq` (numbered with DATA) for library service `service`
/// (provisioning or administration; never application). `payload` is a view like
/// data_frame::payload.
struct control_frame {
  std::uint64_t seq = 0;
  message_kind service = message_kind::provisioning;
  std::span<const std::byte> payload;
};

/// Any frame.
using frame = std::variant<hello_frame, welcome_frame, data_frame, ack_frame, ping_frame,
                           pong_frame, close_frame, control_frame>;

/// The type code of `f`.
frame_type type_of(const frame& f) noexcept;

/// The number of bytes encode_frame() appends for `f` (header included).
std::size_t encoded_size(const frame& f) noexcept;

/// Appends the encoding of `f` (header and body) to `out`.
void encode_frame(const frame& f, std::vector<std::byte>& out);
/// The same into a byte_buffer (no allocation while its reserved room holds the frame).
void encode_frame(const frame& f, byte_buffer& out) noexcept;
/// Writes the encoding of `f` at the start of `out` (memory the caller has, e.g. on its
/// stack): its size, or 0 and nothing written if `out` is too small.
std::size_t encode_frame(const frame& f, std::span<std::byte> out) noexcept;

/// Appends a DATA frame (kind application) or a CONTROL frame (any other kind) for message
/// `seq` whose payload is `head` followed by `tail`: a message kept in two pieces (a
/// replay_ring entry that wraps) goes out as one frame without being copied together first.
void encode_message_frame(std::uint64_t seq, message_kind kind, std::span<const std::byte> head,
                          std::span<const std::byte> tail, std::vector<std::byte>& out);
void encode_message_frame(std::uint64_t seq, message_kind kind, std::span<const std::byte> head,
                          std::span<const std::byte> tail, byte_buffer& out) noexcept;

} // namespace lanyard::core
