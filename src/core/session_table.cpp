#include "lanyard/core/session_table.hpp"

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
  (void)drops_.reserve(settings_.max_sessions); // reserved() tells
}

session_admission session_table::admit(const fingerprint& key, time_point now) {
  (void)now; // admission does not depend on the time; kept for the shape of every input
  auto it = slots_.find(key);
  if (it != slots_.end()) {
    slot& s = it->second;
    if (s.connected) return session_admission::take_over;
    lingering_.erase({s.lost_at, key});
    s.connected = true;
    return session_admission::resume;
  }
  if (slots_.size() >= settings_.max_sessions) {
    if (lingering_.empty() || drops_.full()) return session_admission::refuse;
    remove(slots_.find(lingering_.begin()->second), session_drop_reason::made_room);
  }
  slots_.emplace(key, slot{});
  return session_admission::create;
}

bool session_table::expired(time_point lost_at, time_point now) const noexcept {
  return lost_at == time_point::min() || lost_at + settings_.linger <= now;
}

void session_table::connection_lost(const fingerprint& key, time_point now) {
  auto it = slots_.find(key);
  if (it == slots_.end() || !it->second.connected) return;
  it->second.connected = false;
  it->second.lost_at = now;
  lingering_.emplace(now, key);
}

void session_table::established(const fingerprint& key, const session_id& id) {
  auto it = slots_.find(key);
  if (it == slots_.end()) return;
  slot& s = it->second;
  if (s.id && *s.id == id) return;
  if (s.id) owners_.erase({*s.id, &it->first});
  // An id another controller still holds (ids are random: only by a caller's mistake) is
  // re-assigned rather than shared.
  if (auto other = owners_.lower_bound({id, nullptr}); other != owners_.end() && other->first == id)
    owners_.erase(other);
  s.id = id;
  owners_.emplace(id, &it->first);
}

void session_table::ended(const fingerprint& key) {
  auto it = slots_.find(key);
  if (it == slots_.end()) return;
  if (!drops_.full()) return remove(it, session_drop_reason::ended);
  // No room to queue its drop: it lingers with its time already up (see Memory).
  slot& s = it->second;
  if (s.id) owners_.erase({*s.id, &it->first});
  s.id.reset();
  if (!s.connected) lingering_.erase({s.lost_at, key});
  s.connected = false;
  s.lost_at = time_point::min();
  lingering_.emplace(s.lost_at, key);
}

void session_table::handle_deadline(time_point now) {
  while (!lingering_.empty() && !drops_.full() && expired(lingering_.begin()->first, now))
    remove(slots_.find(lingering_.begin()->second), session_drop_reason::linger_expired);
}

void session_table::clear() noexcept {
  slots_.clear();
  owners_.clear();
  lingering_.clear();
  drops_.clear();
}

std::optional<session_drop> session_table::poll_drop() {
  if (drops_.empty()) return std::nullopt;
  const session_drop d = drops_.front();
  drops_.pop_front();
  return d;
}

session_table::time_point session_table::next_deadline() const noexcept {
  if (lingering_.empty()) return time_point::max();
  const time_point lost = lingering_.begin()->first;
  // An ended session without room for its drop lost its connection "at min()": due now.
  if (lost == time_point::min()) return lost;
  return lost + settings_.linger;
}

bool session_table::foreign(const fingerprint& key, const session_id& id) const noexcept {
  auto it = owners_.lower_bound({id, nullptr});
  return it != owners_.end() && it->first == id && *it->second != key;
}

bool session_table::contains(const fingerprint& key) const noexcept {
  return slots_.find(key) != slots_.end();
}

bool session_table::connected(const fingerprint& key) const noexcept {
  auto it = slots_.find(key);
  return it != slots_.end() && it->second.connected;
}

void session_table::remove(std::map<fingerprint, slot>::iterator it, session_drop_reason why) {
  const fingerprint key = it->first;
  const slot& s = it->second;
  if (s.id) owners_.erase({*s.id, &it->first});
  if (!s.connected) lingering_.erase({s.lost_at, key});
  slots_.erase(it);
  (void)drops_.push_back({key, why}); // callers checked the room
}

} // namespace lanyard::core
