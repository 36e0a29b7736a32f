/// @file
/// The accessory's side of pairing, sans-IO: one object per TLS connection of a controller the
/// accessory does not know. Until the controller proves that it holds the setup secret (QR
/// payload) or the setup code (SPAKE2+), nothing but pairing frames is accepted: a channel
/// frame (HELLO...) ends the connection with CLOSE(not_paired); no session exists. On success
/// the host has paired the controller and the same connection goes on with the channel.
///
/// Attempts: only a failed proof counts, through the host (the pairing window persists it).
/// A SPAKE2+ attempt is counted before the accessory sends its confirmation — the message that
/// lets the peer check a guess — and refunded if the peer's confirmation is right, so a peer
/// that disconnects after seeing it has still spent an attempt. Each failure delays the next
/// evaluation (pairing_throttle, through host.evaluate_not_before()).
///
/// Driving it: like pairing_initiator (receive, poll_output, next_deadline, handle_deadline);
/// done() then outcome(). The first frame must be PAIR_START. Write poll_output() before
/// handling a deadline: after PARAMS, next_deadline() is "now", for precomputation that should
/// run while the controller works, not before PARAMS leaves.
///
/// Thread-safety: distinct objects safe, shared objects unsafe. Never throws.
#pragma once

#include "lanyard/core/pairing_crypto.hpp"
#include "lanyard/core/pairing_frame.hpp"
#include "lanyard/core/pairing_frame_buffer.hpp"
#include "lanyard/core/pairing_initiator.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <system_error>

namespace lanyard::core {

/// What the accessory provides to its pairing responders: its secrets, its pairing window and
/// its controller list. Calls happen inside the responder's calls, on the caller's thread.
class pairing_responder_host {
public:
  using time_point = std::chrono::steady_clock::time_point;
  virtual ~pairing_responder_host() = default;

  /// {} if an unknown controller may attempt to pair now; else window_closed or
  /// too_many_attempts.
  virtual std::error_code admit(time_point now) = 0;
  /// Failed proofs the window still takes.
  virtual std::uint32_t attempts_left() = 0;
  /// No proof is evaluated before this time (the delay after failures).
  virtual time_point evaluate_not_before() = 0;
  /// Persists one failed proof (before anything reveals whether it was right). An error means
  /// it could not be persisted: the exchange then fails with accessory_failure, revealing
  /// nothing.
  virtual std::error_code record_failure(time_point now) = 0;
  /// Takes back a failure recorded ahead of a proof that succeeded.
  virtual std::error_code refund_failure(time_point now) = 0;
  /// Pairs the controller with key `fp` and display name `name` (escape it before showing it);
  /// sets `role`. Errors: controllers_full, window_closed, too_many_attempts, accessory_failure.
  virtual std::error_code add_controller(const fingerprint& fp, std::string_view name,
                                         paired_role& role) = 0;
  /// The setup secret (16 bytes), if the accessory has one.
  virtual std::optional<std::span<const std::uint8_t>> setup_secret() = 0;
  /// The setup code's verifier, if the accessory has a setup code.
  virtual const setup_code_verifier* code_verifier() = 0;
  /// True if this accessory has no setup secret at all and pairs whoever the user confirmed
  /// (the verification code it shows through show_verification_code()).
  virtual bool allows_confirmation() = 0;
  /// Shows the verification code of a confirmation pairing on the accessory (display, log).
  virtual void show_verification_code(std::uint32_t code) = 0;
};

/// The reason of the CLOSE(not_paired) a responder answers a channel frame (HELLO...) with.
inline constexpr std::string_view not_paired_reason =
    "not paired: prove the setup secret or code first";

/// How an accessory-side exchange ended.
struct pairing_responder_outcome {
  /// Empty when paired.
  std::error_code error;
  pairing_method method = pairing_method::setup_secret;
  paired_role role = paired_role::user;
  /// The controller's display name as it sent it (untrusted: escape before display).
  std::string_view name() const noexcept { return {name_bytes.data(), name_size}; }
  /// Keeps the first max_pairing_name bytes of `n` (a PAIR_START's name has no more).
  void set_name(std::string_view n) noexcept {
    name_size = std::min(n.size(), name_bytes.size());
    std::copy_n(n.data(), name_size, name_bytes.data());
  }

  // In the object, not on the heap: a pairing allocates nothing (firmware accessories).
  std::array<char, max_pairing_name> name_bytes{};
  std::size_t name_size = 0;
};

/// See the file comment.
class pairing_responder {
public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;

  /// `crypto` and `host` must outlive the responder. Starts the timeout at `now`.
  pairing_responder(pairing_crypto& crypto, pairing_responder_host& host,
                    const pairing_binding& binding, time_point now, pairing_settings settings = {});

  /// Bytes read from the connection. Returns the error if they ended the exchange in failure
  /// (write poll_output() — a PAIR_RESULT or CLOSE saying why — then close).
  std::error_code receive(std::span<const std::byte> bytes, time_point now);

  std::span<const std::byte> poll_output() { return io_.take_output(); }

  time_point next_deadline() const noexcept;
  void handle_deadline(time_point now);

  /// The connection ended before the exchange did. A controller that leaves after the
  /// accessory's SPAKE2+ confirmation found it wrong (a wrong code): wrong_proof, and the attempt
  /// counted when the confirmation went out stays counted; otherwise protocol_violation.
  void abandon() noexcept;

  bool done() const noexcept { return state_ == state::done; }
  /// PAIR_START was accepted and the exchange has not ended: the responder waits for the
  /// controller's next frame (SPAKE2+) or holds its proof through the delay after failures.
  /// False before PAIR_START has been read in full, and for an exchange its PAIR_START
  /// decided at once (a proof of the setup secret evaluated on arrival, a refusal).
  bool in_progress() const noexcept {
    return state_ != state::awaiting_start && state_ != state::done;
  }
  /// SPAKE2+: the attempt is counted and the accessory's confirmation went out; the exchange
  /// waits for the controller's. Ending it now counts as a wrong proof (abandon()), so a
  /// server making room must not end such an exchange for another's sake: it would charge
  /// the controller, perhaps the owner, for a guess it did not lose.
  bool awaiting_confirmation() const noexcept { return state_ == state::awaiting_confirm; }
  const pairing_responder_outcome& outcome() const noexcept { return outcome_; }

  /// Bytes that arrived after the last pairing frame: after a success, the channel's first
  /// bytes (HELLO), which the session must get. A view of the bytes given to the receive()
  /// that ended the exchange (nothing is copied), valid as long as they are: empty if
  /// handle_deadline() ended it.
  std::span<const std::byte> unread() const noexcept { return unread_; }

private:
  enum class state { awaiting_start, holding, awaiting_share, awaiting_confirm, done };
  void handle(const pairing_frame& f, time_point now);
  void evaluate(time_point now);
  void evaluate_secret(const pairing_mac& proof, time_point now);
  void evaluate_share(const pairing_point& share, time_point now);
  void finish_paired(std::optional<pairing_mac> proof);
  void refuse(pairing_status status, std::error_code ec);
  void wrong_proof(time_point now);
  void fail(std::error_code ec);
  std::uint8_t attempts_left_byte();

  pairing_crypto& crypto_;
  pairing_responder_host& host_;
  pairing_binding binding_;
  time_point deadline_;
  state state_ = state::awaiting_start;
  pairing_frame_buffer io_;
  std::span<const std::byte> unread_;
  pairing_responder_outcome outcome_;
  // A proof waiting for the delay after earlier failures (state holding).
  std::optional<pairing_mac> held_secret_proof_;
  std::optional<pairing_point> held_share_;
  time_point hold_until_{};
  // When to prepare the SPAKE2+ answer (code_verifier_prepare), once PARAMS is out.
  std::optional<time_point> prepare_at_;
};

} // namespace lanyard::core
