/// @file
/// The pairing frames: what an unpaired controller and the accessory exchange on a fresh TLS
/// connection before the controller may use the channel. They share the channel frames' 6-byte
/// header (version 1, type, u32 body length; frame.hpp) with types 0x10-0x15, so one
/// connection carries pairing first and then, once paired, HELLO and the session.
/// docs/PROTOCOL.md § Pairing has every byte and the exchanges.
///
/// Decoding never allocates and returns views into the input; every length and value is
/// checked. Errors are channel_errc (frame_truncated, frame_trailing_bytes, frame_too_large,
/// bad_version, unknown_frame_type, invalid_frame_field) like the channel's own codec.
///
/// Thread-safety: value types and pure functions; distinct objects are safe.
#pragma once

#include "lanyard/core/frame.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <system_error>
#include <variant>
#include <vector>

namespace lanyard::core {

/// Pairing frame type codes (the header's second byte).
enum class pairing_frame_type : std::uint8_t {
  start = 0x10,     ///< controller → accessory: method, name (and the secret proof)
  params = 0x11,    ///< accessory → controller: PBKDF2 salt and iterations (setup code)
  share = 0x12,     ///< controller → accessory: SPAKE2+ shareP
  challenge = 0x13, ///< accessory → controller: SPAKE2+ shareV and confirmV
  confirm = 0x14,   ///< controller → accessory: SPAKE2+ confirmP
  result = 0x15,    ///< accessory → controller: paired (with role), or why not
};

/// How the controller proves it may pair.
enum class pairing_method : std::uint8_t {
  /// The 128-bit setup secret from the setup payload (QR code): an HMAC bound to the TLS
  /// connection, answered by the accessory's own HMAC.
  setup_secret = 1,
  /// The 8-digit setup code, through SPAKE2+ (RFC 9383).
  setup_code = 2,
  /// No secret: the user compared a verification code shown on both sides (for accessories
  /// without a setup code; an accessory that has one refuses it).
  confirmation = 3,
};

/// "setup_secret", "setup_code" or "confirmation" (diagnostics and logs); "unknown" otherwise.
std::string_view to_string(pairing_method m) noexcept;

/// The PAIR_RESULT status byte.
enum class pairing_status : std::uint8_t {
  paired = 0,
  wrong_proof = 1,
  window_closed = 2,
  too_many_attempts = 3,
  controllers_full = 4,
  method_not_supported = 5,
  protocol_violation = 6,
  accessory_failure = 7,
};

/// The role the accessory gave the controller (PAIR_RESULT).
enum class paired_role : std::uint8_t { admin = 0, user = 1 };

inline constexpr std::size_t pairing_mac_size = 32;
inline constexpr std::size_t pairing_point_size = 65; ///< uncompressed P-256 point
inline constexpr std::size_t max_pairing_name = 64;
inline constexpr std::size_t min_pairing_salt = 16;
inline constexpr std::size_t max_pairing_salt = 32;
/// No pairing frame body is longer (the longest, PAIR_START with a 64-byte name and a MAC, has 98).
inline constexpr std::size_t max_pairing_body = 128;

using pairing_mac = std::array<std::uint8_t, pairing_mac_size>;
using pairing_point = std::array<std::uint8_t, pairing_point_size>;

/// PAIR_START: "I want to pair by `method`, call me `name`"; with setup_secret, `proof` is the
/// controller's HMAC.
struct pair_start_frame {
  pairing_method method = pairing_method::setup_secret;
  std::string_view name; ///< UTF-8 display name, at most 64 bytes (a view: copy it)
  std::optional<pairing_mac> proof;
};

/// PAIR_PARAMS: the PBKDF2 parameters of the setup code's verifier, and how many wrong codes
/// the window still takes.
struct pair_params_frame {
  std::uint32_t iterations = 0;
  std::span<const std::uint8_t> salt; ///< 16..32 bytes (a view)
  std::uint8_t attempts_left = 0;
};

/// PAIR_SHARE: the prover's share.
struct pair_share_frame {
  pairing_point share{};
};

/// PAIR_CHALLENGE: the verifier's share and confirmation; `attempts_left` is what remains if
/// this attempt fails (the accessory has counted it already).
struct pair_challenge_frame {
  pairing_point share{};
  pairing_mac confirm{};
  std::uint8_t attempts_left = 0;
};

/// PAIR_CONFIRM: the prover's confirmation.
struct pair_confirm_frame {
  pairing_mac confirm{};
};

/// PAIR_RESULT. `role` is meaningful when paired; `attempts_left` and `retry_after_ms` after a
/// failed proof; `proof` is the accessory's HMAC when paired by setup_secret.
struct pair_result_frame {
  pairing_status status = pairing_status::paired;
  paired_role role = paired_role::user;
  std::uint8_t attempts_left = 0;
  std::uint32_t retry_after_ms = 0;
  std::optional<pairing_mac> proof;
};

using pairing_frame = std::variant<pair_start_frame, pair_params_frame, pair_share_frame,
                                   pair_challenge_frame, pair_confirm_frame, pair_result_frame>;

/// The type code of `f`.
pairing_frame_type type_of(const pairing_frame& f) noexcept;

/// The most bytes one pairing frame takes (header and body).
inline constexpr std::size_t max_pairing_frame_size = frame_header_size + max_pairing_body;

/// Bytes `f` takes encoded (header and body), at most max_pairing_frame_size.
std::size_t encoded_size(const pairing_frame& f) noexcept;

/// Appends `f` (header and body) to `out`. The caller keeps fields within their limits (name
/// ≤ 64 bytes, salt 16..32 bytes); longer ones are truncated.
void encode_pairing_frame(const pairing_frame& f, std::vector<std::byte>& out);

/// Writes `f` at the start of `out`: the bytes written, or 0 (nothing written) if it does not
/// fit. Allocates nothing. Same truncation as above.
std::size_t encode_pairing_frame(const pairing_frame& f, std::span<std::byte> out) noexcept;

/// True if the header byte `type` is a pairing frame type (0x10-0x15).
bool is_pairing_frame_type(std::uint8_t type) noexcept;

/// Result of decode_pairing_frame().
struct pairing_decode_result {
  /// Bytes consumed (0 while the frame is incomplete).
  std::size_t consumed = 0;
  /// The frame, once complete; views point into the input.
  std::optional<pairing_frame> value;
  /// Set on a malformed frame (channel_errc), or channel_errc::not_paired when the frame is a
  /// channel frame (HELLO...) rather than a pairing frame: what the accessory answers it with.
  std::error_code error;
};

/// Decodes the first frame in `in` if it is complete. Needs no state: pairing frames are small
/// and a caller buffers at most frame_header_size + max_pairing_body bytes.
pairing_decode_result decode_pairing_frame(std::span<const std::byte> in);

} // namespace lanyard::core
