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
  slots_.reset(new (std::nothrow) slot[settings_.max_sessions]);
  if (slots_) capacity_ = settings_.max_sessions;
  (void)drops_.reserve(settings_.max_sessions); // reserved() tells
}

std::size_t session_table::find(const fingerprint& key) const noexcept {
  for (std::size_t i = 0; i < count_; ++i)
    if (slots_[i].key == key) return i;
  return npos;
}

// The session without a connection that lost it first (ties: the smaller key), or npos.
std::size_t session_table::oldest_lingering() const noexcept {
  std::size_t best = npos;
  for (std::size_t i = 0; i < count_; ++i) {
    const slot& s = slots_[i];
    if (s.connected) continue;
    if (best == npos || s.lost_at < slots_[best].lost_at ||
        (s.lost_at == slots_[best].lost_at && s.key < slots_[best].key))
      best = i;
  }
  return best;
}

session_admission session_table::admit(const fingerprint& key, time_point now) {
  (void)now; // admission does not depend on the time; kept for the shape of every input
  if (const std::size_t i = find(key); i != npos) {
    slot& s = slots_[i];
    if (s.connected) return session_admission::take_over;
    s.connected = true;
    return session_admission::resume;
  }
  if (count_ >= capacity_) {
    const std::size_t oldest = oldest_lingering();
    if (oldest == npos || drops_.full()) return session_admission::refuse;
    remove(oldest, session_drop_reason::made_room);
  }
  slot& s = slots_[count_++];
  s = slot{};
  s.key = key;
  return session_admission::create;
}

bool session_table::expired(time_point lost_at, time_point now) const noexcept {
  return lost_at == time_point::min() || lost_at + settings_.linger <= now;
}

void session_table::connection_lost(const fingerprint& key, time_point now) {
  const std::size_t i = find(key);
  if (i == npos || !slots_[i].connected) return;
  slots_[i].connected = false;
  slots_[i].lost_at = now;
}

void session_table::established(const fingerprint& key, const session_id& id) {
  const std::size_t i = find(key);
  if (i == npos) return;
  slot& s = slots_[i];
  if (s.id && *s.id == id) return;
  // An id another controller still holds (ids are random: only by a caller's mistake) is
  // re-assigned rather than shared.
  for (std::size_t k = 0; k < count_; ++k)
    if (slots_[k].owns_id && *slots_[k].id == id) slots_[k].owns_id = false;
  s.id = id;
  s.owns_id = true;
}

void session_table::ended(const fingerprint& key) {
  const std::size_t i = find(key);
  if (i == npos) return;
  if (!drops_.full()) return remove(i, session_drop_reason::ended);
  // No room to queue its drop: it lingers with its time already up (see Memory).
  slot& s = slots_[i];
  s.id.reset();
  s.owns_id = false;
  s.connected = false;
  s.lost_at = time_point::min();
}

void session_table::handle_deadline(time_point now) {
  while (!drops_.full()) {
    const std::size_t oldest = oldest_lingering();
    if (oldest == npos || !expired(slots_[oldest].lost_at, now)) return;
    remove(oldest, session_drop_reason::linger_expired);
  }
}

void session_table::clear() noexcept {
  count_ = 0;
  drops_.clear();
}

std::optional<session_drop> session_table::poll_drop() {
  if (drops_.empty()) return std::nullopt;
  const session_drop d = drops_.front();
  drops_.pop_front();
  return d;
}

session_table::time_point session_table::next_deadline() const noexcept {
  const std::size_t oldest = oldest_lingering();
  if (oldest == npos) return time_point::max();
  const time_point lost = slots_[oldest].lost_at;
  // An ended session without room for its drop lost its connection "at min()": due now.
  if (lost == time_point::min()) return lost;
  return lost + settings_.linger;
}

bool session_table::foreign(const fingerprint& key, const session_id& id) const noexcept {
  for (std::size_t i = 0; i < count_; ++i)
    if (slots_[i].owns_id && *slots_[i].id == id) return slots_[i].key != key;
  return false;
}

bool session_table::contains(const fingerprint& key) const noexcept {
  return find(key) != npos;
}

bool session_table::connected(const fingerprint& key) const noexcept {
  const std::size_t i = find(key);
  return i != npos && slots_[i].connected;
}

void session_table::remove(std::size_t i, session_drop_reason why) noexcept {
  const fingerprint key = slots_[i].key;
  if (i != --count_) slots_[i] = slots_[count_];
  (void)drops_.push_back({key, why}); // callers checked the room
}

} // namespace lanyard::core
