#include "lanyard/core/session_table.hpp"

#include <new>

namespace lanyard::core {

std::string_view to_string(session_drop_reason r) noexcept {
  switch (r) {
  case session_drop_reason::linger_expired:
    return "linger expired";
  case session_drop_reason::made_room:
    return "made room";
  case session_drop_reason::ended:
    return "ended";
  }
  return "ended";
}

session_table::session_table(session_table_settings s) noexcept : settings_(s) {
  if (settings_.max_sessions == 0) settings_.max_sessions = 1;
  // One block: start-up counts (and can fail) one allocation for the table.
  room_.reset(new (std::nothrow) entry[settings_.max_sessions]);
  if (room_) capacity_ = settings_.max_sessions; // reserved() tells
}

std::size_t session_table::find(const fingerprint& key) const noexcept {
  for (std::size_t i = 0; i < count_; ++i)
    if (room_[i].s.key == key) return i;
  return npos;
}

// The session without a connection that lost it first (ties: the smaller key), or npos.
std::size_t session_table::oldest_lingering() const noexcept {
  std::size_t best = npos;
  for (std::size_t i = 0; i < count_; ++i) {
    const slot& s = room_[i].s;
    if (s.connected) continue;
    if (best == npos || s.lost_at < room_[best].s.lost_at ||
        (s.lost_at == room_[best].s.lost_at && s.key < room_[best].s.key))
      best = i;
  }
  return best;
}

session_admission session_table::admit(const fingerprint& key, time_point now) {
  (void)now; // admission does not depend on the time; kept for the shape of every input
  if (const std::size_t i = find(key); i != npos) {
    slot& s = room_[i].s;
    if (s.connected) return session_admission::take_over;
    s.connected = true;
    return session_admission::resume;
  }
  if (count_ >= capacity_) {
    const std::size_t oldest = oldest_lingering();
    if (oldest == npos || drops_full()) return session_admission::refuse;
    remove(oldest, session_drop_reason::made_room);
  }
  slot& s = room_[count_++].s;
  s = slot{};
  s.key = key;
  return session_admission::create;
}

bool session_table::expired(time_point lost_at, time_point now) const noexcept {
  return lost_at == time_point::min() || lost_at + settings_.linger <= now;
}

void session_table::connection_lost(const fingerprint& key, time_point now) {
  const std::size_t i = find(key);
  if (i == npos || !room_[i].s.connected) return;
  room_[i].s.connected = false;
  room_[i].s.lost_at = now;
}

void session_table::established(const fingerprint& key, const session_id& id) {
  const std::size_t i = find(key);
  if (i == npos) return;
  slot& s = room_[i].s;
  if (s.id && *s.id == id) return;
  // An id another controller still holds (ids are random: only by a caller's mistake) is
  // re-assigned rather than shared.
  for (std::size_t k = 0; k < count_; ++k)
    if (room_[k].s.owns_id && *room_[k].s.id == id) room_[k].s.owns_id = false;
  s.id = id;
  s.owns_id = true;
}

void session_table::ended(const fingerprint& key) {
  const std::size_t i = find(key);
  if (i == npos) return;
  if (!drops_full()) return remove(i, session_drop_reason::ended);
  // No room to queue its drop: it lingers with its time already up (see Memory).
  slot& s = room_[i].s;
  s.id.reset();
  s.owns_id = false;
  s.connected = false;
  s.lost_at = time_point::min();
}

void session_table::handle_deadline(time_point now) {
  while (!drops_full()) {
    const std::size_t oldest = oldest_lingering();
    if (oldest == npos || !expired(room_[oldest].s.lost_at, now)) return;
    remove(oldest, session_drop_reason::linger_expired);
  }
}

void session_table::clear() noexcept {
  count_ = 0;
  drops_head_ = drops_size_ = 0;
}

std::optional<session_drop> session_table::poll_drop() {
  if (drops_size_ == 0) return std::nullopt;
  const session_drop d = room_[drops_head_].drop;
  drops_head_ = drops_head_ + 1 == capacity_ ? 0 : drops_head_ + 1;
  --drops_size_;
  return d;
}

session_table::time_point session_table::next_deadline() const noexcept {
  const std::size_t oldest = oldest_lingering();
  if (oldest == npos) return time_point::max();
  const time_point lost = room_[oldest].s.lost_at;
  // An ended session without room for its drop lost its connection "at min()": due now.
  if (lost == time_point::min()) return lost;
  return lost + settings_.linger;
}

bool session_table::foreign(const fingerprint& key, const session_id& id) const noexcept {
  for (std::size_t i = 0; i < count_; ++i)
    if (room_[i].s.owns_id && *room_[i].s.id == id) return room_[i].s.key != key;
  return false;
}

bool session_table::contains(const fingerprint& key) const noexcept {
  return find(key) != npos;
}

bool session_table::connected(const fingerprint& key) const noexcept {
  const std::size_t i = find(key);
  return i != npos && room_[i].s.connected;
}

void session_table::remove(std::size_t i, session_drop_reason why) noexcept {
  const fingerprint key = room_[i].s.key;
  if (i != --count_) room_[i].s = room_[count_].s;
  // Callers checked the room (!drops_full()).
  const std::size_t tail = drops_head_ + drops_size_;
  room_[tail >= capacity_ ? tail - capacity_ : tail].drop = {key, why};
  ++drops_size_;
}

} // namespace lanyard::core
