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
///     controller's session is refused (session_settings::is_foreign_session).
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
/// Memory: everything is reserved at construction, nothing allocates afterwards (firmware:
/// no allocation after start-up): one block of max_sessions entries, each a session's slot and
/// a place in the ring of drops (max_sessions: the most one input can queue when they are
/// drained after each, as above). reserved() is false if that allocation failed. Should the ring
/// ever be full (drops not drained), nothing is lost: handle_deadline() leaves the rest lingering
/// for its next run, admit() refuses instead of evicting, and ended() turns the session into one
/// whose linger has run out (dropped, linger_expired, at the next handle_deadline();
/// next_deadline() is then due).
///
/// Complexity: the slots are an unordered array searched linearly, so every input and query
/// is O(max_sessions) (handle_deadline() O(max_sessions) per drop it queues): a few dozen
/// 32-byte comparisons for the usual caps (16 by default, a handful on an accessory), and
/// about 2.5 KB less code on a Cortex-M4 than the ordered trees (std::map, std::set) it
/// replaces, at the price of about 100 bytes per slot reserved up front. The longest lingering
/// session (to evict or expire first) is found by a scan for the oldest `lost at`, ties broken by
/// key order; max_sessions in the thousands would want an index again.
///
/// Errors: none (verdicts and drops). Inputs naming a key the table does not hold are
/// ignored. Thread-safety: distinct objects are safe, shared objects are unsafe.
#pragma once

#include <lanyard/core/fingerprint.hpp>
#include <lanyard/core/session_id.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

namespace lanyard::core {

struct session_table_settings {
  /// Sessions kept at once (0 is taken as 1). server_options::max_sessions. Their room is
  /// reserved at construction, and every operation scans it (see Complexity): meant for the
  /// controller store's caps (16 by default), not for thousands.
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

  /// Reserves the slots and the drop ring (see Memory above); never throws.
  explicit session_table(session_table_settings s = {}) noexcept;

  /// False if the table's block could not be reserved: the table then refuses every
  /// controller and can drop no session (out of memory at start-up: do not use it).
  bool reserved() const noexcept { return capacity_ != 0; }

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
  std::size_t size() const noexcept { return count_; }

private:
  struct slot {
    fingerprint key;
    std::optional<session_id> id; // the last id it was established under
    // True while `id` is this slot's: an id established again by another key (ids are random,
    // so only by a caller's mistake) is re-assigned to it, not shared.
    bool owns_id = false;
    bool connected = true; // false: it lingers since lost_at
    time_point lost_at{};
  };
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  std::size_t find(const fingerprint& key) const noexcept;
  std::size_t oldest_lingering() const noexcept;
  bool drops_full() const noexcept { return drops_size_ == capacity_; }
  void remove(std::size_t i, session_drop_reason why) noexcept;
  bool expired(time_point lost_at, time_point now) const noexcept;

  session_table_settings settings_;
  // One block of capacity_ entries, reserved at construction, holds two arrays: the sessions
  // held, room_[0, count_).s, in no order (a removal moves the last one into the hole), and
  // the drops to poll, a ring of room_[i].drop from drops_head_ (drops_size_ of them).
  struct entry {
    slot s;
    session_drop drop;
  };
  std::unique_ptr<entry[]> room_;
  std::size_t capacity_ = 0;
  std::size_t count_ = 0;
  std::size_t drops_head_ = 0;
  std::size_t drops_size_ = 0;
};

} // namespace lanyard::core
