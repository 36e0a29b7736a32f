/// @file
/// session_table: the accessory's channel sessions, one per paired controller (its key
/// fingerprint), as a sans-IO policy. It decides:
///   - admission: a paired controller's new connection creates its session, resumes its
///     lingering one, or takes over the one that still has a connection (the old connection
///     is the one to close: a phone that moved networks must not wait for its dead socket);
///   - the cap: at `max_sessions` a new controller evicts the session that has been without a
///     connection longest, and is refused (CLOSE too_many_sessions) when every session has one;
///   - linger: a session without a connection is kept `linger` long for its controller to
///     come back and resume, then dropped;
///   - ownership: which controller a session id belongs to, so that a HELLO naming another
///     controller's session is refused (session_settings::is_foreign_session), in O(log n).
///
/// The accessory server executes it: it owns the runners, the sockets and one timer at
/// next_deadline(), feeds the table what happened, and carries out the drops it polls, in
/// order, before acting on an admission. Like the other core state machines it reads no clock
/// (every input carries `now`) and does no I/O, so its tests use literal timestamps.
///
/// @code
///   switch (table.admit(key, now)) {           // a paired controller's traffic arrived
///   case admission::refuse: send CLOSE(too_many_sessions); break;
///   default: while (auto d = table.poll_drop()) drop(d->controller, d->reason);
///            attach the connection (creating the session for admission::create);
///   }
///   // connection_lost(key, now), established(key, id), ended(key), handle_deadline(now);
///   // after each: drain poll_drop(), then arm the timer at next_deadline().
/// @endcode
///
/// Memory: the drops wait in a ring of max_sessions entries reserved at construction (the
/// most one input can queue when they are drained after each, as above; reserved() is false if
/// that allocation failed). The session map and sets allocate a node per session as it comes.
/// Should the ring ever be full (drops not drained), nothing is lost: handle_deadline() leaves
/// the rest lingering for its next run, admit() refuses instead of evicting, and ended() turns
/// the session into one whose linger has run out (dropped, linger_expired, at the next
/// handle_deadline(); next_deadline() is then due).
///
/// Errors: none (verdicts and drops). Inputs naming a key the table does not hold are
/// ignored. Thread-safety: distinct objects are safe, shared objects are unsafe.
#pragma once

#include <lanyard/core/fingerprint.hpp>
#include <lanyard/core/fixed_ring.hpp>
#include <lanyard/core/session_id.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <utility>

namespace lanyard::core {

struct session_table_settings {
  /// Sessions kept at once (0 is taken as 1). server_options::max_sessions.
  std::size_t max_sessions = 16;
  /// How long a session without a connection is kept. server_options::session_linger.
  std::chrono::nanoseconds linger = std::chrono::minutes(10);
};

/// What to do with a paired controller's new connection.
enum class session_admission : std::uint8_t {
  create,    ///< no session for this key: make one and attach the connection
  resume,    ///< the key's session was lingering: attach the connection to it
  take_over, ///< the key's session still has a connection: the new one replaces it
  refuse,    ///< at the cap and every session has a connection: CLOSE(too_many_sessions)
};

/// Why the table dropped a session.
enum class session_drop_reason : std::uint8_t {
  linger_expired, ///< without a connection for `linger`
  made_room,      ///< lingered longest when a new controller came at the cap
  ended,          ///< the session was closed (by either end): forget it
};

/// "linger expired", "made room" or "ended".
std::string_view to_string(session_drop_reason r) noexcept;

/// A session to drop: stop its runner, fail its sends, forget it.
struct session_drop {
  fingerprint controller;
  session_drop_reason reason = session_drop_reason::ended;

  friend bool operator==(const session_drop&, const session_drop&) = default;
};

class session_table {
public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;

  /// Reserves the drop ring (see Memory above); never throws.
  explicit session_table(session_table_settings s = {}) noexcept;

  /// False if the drop ring could not be reserved: the table can then drop no session (out of
  /// memory at start-up: do not use it).
  bool reserved() const noexcept { return drops_.capacity() != 0; }

  /// A paired controller's channel traffic arrives on a new connection. Except after refuse,
  /// the key's session has a connection and no linger deadline; the drops this needs (a
  /// session evicted to make room, the key's own ended session) are queued before it.
  session_admission admit(const fingerprint& key, time_point now);
  /// The key's session has no connection any more (not for a connection that was taken
  /// over: the server reports only a session left without one). Starts its linger.
  void connection_lost(const fingerprint& key, time_point now);
  /// The session is established (WELCOME) under `id`: the key owns `id` from now on, and no
  /// longer the id it had before (a reset session gets a new one).
  void established(const fingerprint& key, const session_id& id);
  /// The session was closed: queues its drop (reason ended); its id is nobody's any more.
  void ended(const fingerprint& key);
  /// Queues the drops of sessions whose linger ended at or before `now`.
  void handle_deadline(time_point now);
  /// Forgets everything (the server closes); queues nothing.
  void clear() noexcept;

  /// The next drop to carry out, oldest first.
  std::optional<session_drop> poll_drop();
  /// When handle_deadline() has something to do: the earliest linger end, or
  /// time_point::max() when no session lingers.
  time_point next_deadline() const noexcept;

  /// True if `id` is the session id of a controller other than `key`.
  bool foreign(const fingerprint& key, const session_id& id) const noexcept;
  /// True if the table holds a session for `key` (a dropped one is gone at once, even before
  /// its drop is polled).
  bool contains(const fingerprint& key) const noexcept;
  /// True if `key`'s session has a connection.
  bool connected(const fingerprint& key) const noexcept;
  /// Sessions held.
  std::size_t size() const noexcept { return slots_.size(); }

private:
  struct slot {
    std::optional<session_id> id;
    bool connected = true;
    time_point lost_at{};
  };

  void remove(std::map<fingerprint, slot>::iterator it, session_drop_reason why);
  bool expired(time_point lost_at, time_point now) const noexcept;

  session_table_settings settings_;
  std::map<fingerprint, slot> slots_;
  // Session id -> its controller (the key inside slots_, whose nodes do not move): a set of
  // pairs costs one small node per session, where a map to a fingerprint copy costs 32 B more.
  std::set<std::pair<session_id, const fingerprint*>> owners_;
  // Sessions without a connection, by when they lost it: the front lingers longest (evicted
  // first to make room, expires first).
  std::set<std::pair<time_point, fingerprint>> lingering_;
  fixed_ring<session_drop> drops_;
};

} // namespace lanyard::core
