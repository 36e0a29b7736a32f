/// @file
/// The controller's (app's) side of pairing, sans-IO: on a fresh TLS connection to an accessory
/// that has not paired this controller yet, it proves the setup secret (QR payload), runs
/// SPAKE2+ with the 8-digit setup code, or asks for unproven pairing after the user compared a
/// verification code — and checks the accessory's own proof, so that the key the app then pins
/// is the one that knows the secret. docs/PROTOCOL.md § Pairing has the exchanges.
///
/// Driving it (like core::session): start(now); write poll_output() to the connection; feed
/// what the connection reads to receive(bytes, now); arm a timer for next_deadline() and call
/// handle_deadline(now). When done() the exchange is over: outcome().error is empty if the
/// accessory paired this controller (the connection then goes on with the channel's HELLO), or
/// says why not (close the connection then).
///
/// Errors (outcome().error): pairing_errc (wrong_proof with attempts_left when the accessory
/// said so, accessory_unverified, window_closed, too_many_attempts, controllers_full,
/// method_not_supported, timeout, protocol_violation, accessory_failure), channel_errc for
/// malformed frames, or the crypto's own error.
///
/// Thread-safety: distinct objects safe, shared objects unsafe. Never throws (the core builds
/// with -fno-exceptions); never reads a clock or an RNG (the crypto object brings its RNG).
#pragma once

#include "lanyard/core/pairing_crypto.hpp"
#include "lanyard/core/pairing_frame.hpp"

#include "lanyard/core/pairing_frame_buffer.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <system_error>

namespace lanyard::core {

/// What the controller knows about the accessory's secret.
struct pairing_credentials {
  pairing_method method = pairing_method::setup_secret;
  /// setup_secret: the payload's 16-byte secret.
  std::array<std::uint8_t, 16> secret{};
  /// setup_code: the 8 ASCII digits (no separator).
  std::string code;
};

/// How an exchange ended. `error` is empty when paired.
struct pairing_outcome {
  std::error_code error;
  paired_role role = paired_role::user;
  /// Wrong proofs the window still takes, when the accessory said.
  std::optional<std::uint8_t> attempts_left;
  /// How long the accessory waits before it evaluates the next proof.
  std::chrono::milliseconds retry_after{0};
};

/// Limits of one exchange.
struct pairing_settings {
  /// The whole exchange, from start to result. 30 s: a few round trips and one PBKDF2 take
  /// milliseconds; the rest is room for a slow radio and the accessory's delay after failures.
  std::chrono::milliseconds timeout{30'000};
};

/// See the file comment.
class pairing_initiator {
public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;

  /// `crypto` must outlive the initiator. `name` is this controller's display name for the
  /// accessory's list (at most 64 bytes are sent).
  pairing_initiator(pairing_crypto& crypto, const pairing_binding& binding,
                    pairing_credentials credentials, std::string name,
                    pairing_settings settings = {});

  /// Queues PAIR_START (and starts the timeout). Call once.
  void start(time_point now);

  /// Bytes read from the connection. Returns the error if they ended the exchange in failure.
  std::error_code receive(std::span<const std::byte> bytes, time_point now);

  /// Bytes to write now; valid until the next call of a non-const member.
  std::span<const std::byte> poll_output() { return io_.take_output(); }

  /// When handle_deadline() is due (time_point::max() when done).
  time_point next_deadline() const noexcept { return done() ? time_point::max() : deadline_; }
  void handle_deadline(time_point now);

  bool done() const noexcept { return state_ == state::done; }
  const pairing_outcome& outcome() const noexcept { return outcome_; }

  /// The six-digit verification code of this connection (for confirmation pairing, shown to
  /// the user before start(); the accessory shows the same one). Errors: the crypto's.
  std::error_code verification_code(std::uint32_t& out);

private:
  enum class state { idle, awaiting_params, awaiting_challenge, awaiting_result, done };
  void handle(const pairing_frame& f);
  void fail(std::error_code ec);

  pairing_crypto& crypto_;
  pairing_binding binding_;
  pairing_credentials credentials_;
  std::string name_;
  pairing_settings settings_;
  state state_ = state::idle;
  time_point deadline_ = time_point::max();
  pairing_frame_buffer io_;
  pairing_outcome outcome_;
};

} // namespace lanyard::core
