/// @file
/// resolution_delay: whether a channel that has just discovered its accessory should race the
/// paths it knows now, or wait a moment for a better interface kind that discovery is probably
/// still resolving (RFC 8305 §3, "Resolution Delay", applied to interface kinds).
///
/// Discovery reports an accessory once per interface and address family, and the answers do not
/// arrive together: an mDNS responder delays each answer to a shared record (the browse PTR) by
/// 20-120 ms at random, separately on every link (RFC 6762 §6; Avahi defers 20 ms plus up to
/// 100 ms of jitter per interface), and each answer is then resolved on its own. If the p2p
/// answer comes first and the channel raced at once, it would start on p2p and only move up to
/// Wi-Fi after the move-back hold (seconds later, and another handshake). So, like a Happy
/// Eyeballs client that got the A answer first and waits up to 50 ms for AAAA:
///
///   - when the best kind among the viable candidates is the best kind the accessory could still
///     be reached over, race at once;
///   - otherwise wait, but only until `delay` after the first candidate appeared, and stop
///     waiting as soon as a candidate of the best possible kind shows up;
///   - when the delay has passed, race with what there is (moving up later is then the job of
///     core::path_upgrade_tracker).
///
/// "Could still be reached over" means: a kind that the policy allows, that ranks before the
/// best candidate's kind in the policy's preference order, and of which this host has a usable
/// interface right now (no Wi-Fi link up: nothing to wait for). Kinds only: another address
/// family on the same kind is not waited for (the race tries both within one attempt delay,
/// and a move between addresses of one kind is never worth a handshake either).
///
/// The delay counts from the first observation with candidates (the *window*), not from each
/// call: the channel re-decides on every discovery event, and a reconnect long after discovery
/// settled must not wait at all. A window closes when the candidates vanish (the accessory left
/// or every path became non-viable); its next appearance opens a new one.
///
/// Sans-IO: time only from the arguments; the caller arms a timer for next_deadline() and calls
/// decide() again there. Errors: none. Thread-safety: distinct objects are safe, shared objects
/// are unsafe. Cancellation: nothing to cancel (drop the timer).
#pragma once

#include "lanyard/core/path_ranking.hpp"

#include <chrono>
#include <cstdint>

namespace lanyard::core {

/// Parameters.
struct resolution_delay_settings {
  /// How long after the first candidate appeared a better kind is waited for. 0: never wait.
  /// Default 100 ms: twice RFC 8305's 50 ms, because mDNS answers on two links can be up to
  /// 100 ms apart by the responders' jitter alone (see the file comment).
  std::chrono::nanoseconds delay = std::chrono::milliseconds(100);
};

/// What decide() advises.
enum class resolution_verdict : std::uint8_t {
  no_candidate, ///< nothing viable: nothing to race (the window is closed)
  race_now,     ///< the best kind is there, nothing better can come, or the delay is over
  wait,         ///< a better kind may still be discovered: wait until `deadline`
};

/// "no candidate", "race now" or "wait".
std::string_view to_string(resolution_verdict verdict) noexcept;

/// The advice, with what a log line needs.
struct resolution_decision {
  using time_point = std::chrono::steady_clock::time_point;

  resolution_verdict verdict = resolution_verdict::no_candidate;
  /// wait: race at this time at the latest (the end of the window).
  time_point deadline = time_point::max();
  /// The best kind among the candidates (race_now, wait).
  interface_kind best = interface_kind::other;
  /// wait: the better kinds that may still be discovered.
  kind_set awaited;
};

/// See the file comment.
class resolution_delay {
public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;

  explicit resolution_delay(resolution_delay_settings settings = {}) noexcept
      : settings_(settings) {}

  /// The viable candidates' kinds are `present` at `now` (empty: none). Opens the window at
  /// the first non-empty observation, closes it at an empty one. Call it on every change of
  /// the candidates (discovery events), so that a disappearance between two races is seen.
  void observe(kind_set present, time_point now) noexcept;

  /// observe(present, now), then the advice. `usable` are the kinds of this host's usable
  /// interfaces (up, past their debounce); `policy` gives the allowed kinds and their order.
  resolution_decision decide(kind_set present, kind_set usable, const interface_policy& policy,
                             time_point now) noexcept;

  /// When decide() must be called again if its last verdict was wait (time_point::max()
  /// otherwise).
  time_point next_deadline() const noexcept { return waiting_ ? window_end() : time_point::max(); }

  /// True while a window is open (candidates were seen and have not vanished since).
  bool window_open() const noexcept { return open_; }

private:
  time_point window_end() const noexcept;

  resolution_delay_settings settings_;
  bool open_ = false;
  bool waiting_ = false;
  time_point opened_{};
};

} // namespace lanyard::core
