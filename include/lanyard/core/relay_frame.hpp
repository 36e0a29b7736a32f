/// @file
/// The relay's tunnel frames: what one MQTT publish carries between an app and an accessory
/// through a broker (docs/design/relay.md, "The tunnel protocol"). Pure codec on views: no
/// allocation, no I/O, no clock; the payload comes from an untrusted broker.
///
///   version (1 B, = 1) | type (1 B) | tunnel id (16 B) | seq (u32 BE) | body
///
///   OPEN    app → accessory: account length (1 B), reply account, reply inbox (26 B), nonce
///           (16 B), tag (32 B: HMAC-SHA256 under the controller's relay key, crypto/relay.hpp)
///   ACCEPT  accessory → app: no body; TLS follows, the app speaks first
///   DATA    both ways: 1..relay_max_data bytes of the stream
///   CLOSE   both ways: reason (u16 BE); the tunnel is over
///
/// `seq` numbers each direction's DATA and CLOSE frames of a tunnel from 0 (relay_sequence
/// checks them); OPEN and ACCEPT carry 0 and are not numbered (a redelivered OPEN is a tunnel id
/// seen before, a redelivered ACCEPT one for a tunnel already open).
///
/// Thread-safety: free functions on the caller's data; relay_frame is a plain value of views.
#pragma once

#include "lanyard/core/relay_error.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <system_error>

namespace lanyard::core {

/// The relay protocol version this build speaks.
inline constexpr std::uint8_t relay_version = 1;
/// Bytes of a frame before its body.
inline constexpr std::size_t relay_header_size = 22;
/// Most bytes one DATA frame carries: one TLS record's worth (16 KiB).
inline constexpr std::size_t relay_max_data = 16384;
/// Characters of an inbox id (crypto::relay_inbox(): 130 bits of base32).
inline constexpr std::size_t relay_inbox_length = 26;
/// Most characters of an account name (a broker user name).
inline constexpr std::size_t relay_max_account_length = 64;
/// Bytes of an OPEN's nonce and tag.
inline constexpr std::size_t relay_nonce_size = 16;
inline constexpr std::size_t relay_tag_size = 32;
/// The largest frame: a DATA frame with relay_max_data bytes.
inline constexpr std::size_t relay_max_frame_size = relay_header_size + relay_max_data;

enum class relay_frame_type : std::uint8_t { open = 1, accept = 2, data = 3, close = 4 };

/// Names the tunnel in both directions; chosen at random by the app for each OPEN.
using relay_tunnel_id = std::array<std::uint8_t, 16>;

/// Where frames go: the topic "lanyard/v1/<account>/<inbox>" (relay_topic()).
struct relay_address {
  std::string_view account;
  std::string_view inbox;
};

/// True if `name` can be an account: 1..relay_max_account_length bytes of A-Z a-z 0-9 - _.
bool valid_relay_account(std::string_view name) noexcept;
/// True if `name` can be an inbox: exactly relay_inbox_length bytes of the same alphabet.
bool valid_relay_inbox(std::string_view name) noexcept;

/// Writes the topic of `to` ("lanyard/v1/<account>/<inbox>") into `out`; returns its length,
/// or 0 with `ec` = bad_address (an invalid name) or buffer_too_small.
std::size_t relay_topic(const relay_address& to, std::span<char> out, std::error_code& ec) noexcept;
/// The most characters relay_topic() writes.
inline constexpr std::size_t relay_max_topic_length =
    11 + relay_max_account_length + 1 + relay_inbox_length;

/// One decoded frame: views into the payload it was parsed from (valid while that is).
struct relay_frame {
  relay_frame_type type = relay_frame_type::data;
  relay_tunnel_id tunnel{};
  std::uint32_t seq = 0;
  /// DATA: the stream's bytes.
  std::span<const std::uint8_t> data;
  /// OPEN: where the accessory answers, the nonce and the tag.
  relay_address reply;
  std::array<std::uint8_t, relay_nonce_size> nonce{};
  std::array<std::uint8_t, relay_tag_size> tag{};
  /// CLOSE: why.
  std::uint16_t reason = 0;
};

/// Parses one MQTT payload. Errors (relay_category()): truncated, bad_version, bad_type,
/// trailing_bytes, bad_data_size, bad_address (OPEN's reply address). `out` is unspecified on
/// error.
std::error_code parse_relay_frame(std::span<const std::uint8_t> payload, relay_frame& out) noexcept;

/// Encoders: each writes one frame into `out` and returns its size, or 0 with `ec` set
/// (buffer_too_small; bad_data_size; bad_address).
std::size_t encode_relay_open(const relay_tunnel_id& tunnel, const relay_address& reply,
                              const std::array<std::uint8_t, relay_nonce_size>& nonce,
                              const std::array<std::uint8_t, relay_tag_size>& tag,
                              std::span<std::uint8_t> out, std::error_code& ec) noexcept;
std::size_t encode_relay_accept(const relay_tunnel_id& tunnel, std::span<std::uint8_t> out,
                                std::error_code& ec) noexcept;
std::size_t encode_relay_data(const relay_tunnel_id& tunnel, std::uint32_t seq,
                              std::span<const std::uint8_t> data, std::span<std::uint8_t> out,
                              std::error_code& ec) noexcept;
std::size_t encode_relay_close(const relay_tunnel_id& tunnel, std::uint32_t seq,
                               std::uint16_t reason, std::span<std::uint8_t> out,
                               std::error_code& ec) noexcept;

/// One direction of a tunnel: numbers what is sent, and checks what arrives. MQTT QoS 1
/// delivers at least once and in order, so a number seen before is a redelivery (dropped),
/// and a number beyond the next is a loss or a forgery (the tunnel ends).
class relay_sequence {
public:
  enum class verdict { deliver, duplicate, gap };

  /// The number for the next frame sent. A tunnel carries at most 2^32 - 1 frames each way
  /// (64 TiB of DATA): once exhausted() the sender closes it and opens another.
  std::uint32_t next_out() noexcept { return out_++; }
  bool exhausted() const noexcept { return out_ == 0xFFFFFFFFu; }
  /// What to do with an arriving frame numbered `seq`; deliver advances the expectation.
  verdict check_in(std::uint32_t seq) noexcept {
    if (seq == in_) {
      ++in_;
      return verdict::deliver;
    }
    return seq < in_ ? verdict::duplicate : verdict::gap;
  }
  std::uint32_t expected_in() const noexcept { return in_; }

private:
  std::uint32_t out_ = 0;
  std::uint32_t in_ = 0;
};

} // namespace lanyard::core
