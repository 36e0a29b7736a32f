/// @file
/// Capacities and timings of a firmware accessory (lanyard::firmware::accessory). Every
/// capacity is fixed at start-up: the accessory reserves its tables once and never grows them.
#pragma once
#include <lanyard/core/pairing_crypto.hpp>
#include <lanyard/core/pairing_initiator.hpp>
#include <lanyard/core/session_settings.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace lanyard::firmware {

/// The session settings a firmware accessory uses by default: a 16 KiB replay buffer (which is
/// also the receive window it announces) and messages of at most 4 KiB, instead of the 1 MiB
/// and 64 KiB a phone or a Linux accessory keeps. The app side keeps to them whatever its own
/// settings are: each end announces its limits in HELLO / WELCOME (docs/PROTOCOL.md § 3.3).
core::session_settings firmware_session_profile();

struct accessory_settings {
  /// Controllers' sessions kept at once (core::session_table's cap).
  std::size_t max_sessions = 4;
  /// Connections that are not a session's yet (TLS handshake, first frame, pairing). A new
  /// connection beyond max_sessions + max_pending closes one of these, the cheapest to lose
  /// first (closing, then still in the TLS handshake, then an unknown key's pairing, last a
  /// paired controller's; the oldest within each): bare TCP connections evict each other and
  /// never an owner's pairing that got past TLS, so they cannot keep the owner out.
  /// max_sessions + max_pending is at most 65,535 (a connection_id holds the slot in 16 bits);
  /// start() refuses more with bad_settings. It is also the number of pairing exchanges at
  /// once (their state is a pool of this many, 0 taken as 1, reserved at start): a new
  /// exchange beyond them displaces the cheapest to lose (one already paired and waiting for
  /// its HELLO, then an unknown key's, the oldest first), that connection closing with
  /// too_many_connections. A stranger never displaces a paired controller's exchange, and no
  /// exchange awaiting the controller's SPAKE2+ confirmation is displaced (its attempt is
  /// counted); when none may go, the newcomer is refused (too_many_connections).
  std::size_t max_pending = 2;
  /// Paired controllers kept (controller_table's capacity, at most 255).
  std::size_t max_controllers = 8;
  core::session_settings session = firmware_session_profile();
  /// Each connection slot's TLS ciphertext buffers (tls::engine_buffers), reserved at
  /// construction: input is what mbedTLS is handed at a time (any size from 256 works); output
  /// holds what waits for the socket, and must take the largest write at once — 0 sizes it for
  /// the session's largest frame or batch plus record overhead. mbedTLS's own record buffers
  /// (16 KiB each way in Debian's build) are apart.
  std::size_t tls_input_bytes = 512;
  std::size_t tls_output_bytes = 0;
  /// Room for messages (and session resets) waiting for the application's poll_event(), in a
  /// ring reserved at construction beside room for the other events (closes, pairing
  /// verdicts, session ends). Drained after every call, one call holds what one receive()
  /// decrypts. A burst beyond it grows the ring (the session acknowledged the messages on
  /// receipt: none may be dropped); only if that allocation fails is the connection closed
  /// with firmware_errc::event_queue_full and the message lost.
  std::size_t max_events = 16;
  /// How long a session without a connection is kept for its controller to resume.
  std::chrono::nanoseconds session_linger = std::chrono::minutes(10);
  /// From accept() to the end of the TLS handshake: an absolute limit (a client trickling bytes
  /// is cut off too).
  std::chrono::milliseconds handshake_timeout{10'000};
  /// From the handshake to the first channel frame, or the whole pairing exchange.
  core::pairing_settings pairing;
  /// The wait before the next proof is evaluated after a failed one, doubling
  /// (core::pairing_throttle).
  std::chrono::milliseconds failure_delay_first{250};
  std::chrono::milliseconds failure_delay_max{8000};
  /// The pairing window a first boot (no controllers) opens: setup mode.
  std::chrono::minutes setup_window{15};
  /// Close the window once a controller paired (one pairing per button press, as HomeKit and
  /// node::node do): a neighbour who photographed the label cannot use the rest of the window
  /// the owner opened. An admin's app or the button opens it again.
  bool close_window_after_pairing = true;
  /// True while the accessory is not on its home network yet: an admin may send it Wi-Fi
  /// credentials (needs platform::join_wifi).
  bool provisioning = false;
};

/// What unknown controllers prove to pair: the setup payload's secret (QR code) and/or the
/// setup code's SPAKE2+ verifier. With neither, nobody can pair.
struct pairing_secrets {
  std::optional<std::array<std::uint8_t, 16>> setup_secret;
  std::optional<core::setup_code_verifier> code_verifier;
};

} // namespace lanyard::firmware
