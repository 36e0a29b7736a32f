#include "lanyard/core/session_table.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace std::chrono_literals;
using namespace lanyard::core;

namespace {

using time_point = session_table::time_point;
const time_point t0 = time_point{} + 1000s;

fingerprint key(std::uint8_t n) {
  fingerprint f;
  f.bytes.fill(n);
  return f;
}

session_id id(std::uint8_t n) {
  session_id s;
  s.bytes.fill(std::byte{n});
  return s;
}

std::vector<session_drop> drain(session_table& t) {
  std::vector<session_drop> out;
  while (auto d = t.poll_drop())
    out.push_back(*d);
  return out;
}

session_table table(std::size_t max, std::chrono::nanoseconds linger = 10min) {
  return session_table({max, linger});
}

} // namespace

TEST_CASE("a new controller's first connection creates its session") {
  auto t = table(4);
  CHECK(t.admit(key(1), t0) == session_admission::create);
  CHECK(t.contains(key(1)));
  CHECK(t.connected(key(1)));
  CHECK(t.size() == 1);
  CHECK(drain(t).empty());
  CHECK(t.next_deadline() == time_point::max());
}

TEST_CASE("a second connection of a connected controller takes the session over") {
  auto t = table(4);
  t.admit(key(1), t0);
  CHECK(t.admit(key(1), t0 + 1s) == session_admission::take_over);
  CHECK(t.size() == 1);
  CHECK(drain(t).empty());
}

TEST_CASE("a session lingers after its connection is lost, and is resumed within the linger") {
  auto t = table(4, 10min);
  t.admit(key(1), t0);
  t.connection_lost(key(1), t0);
  CHECK_FALSE(t.connected(key(1)));
  CHECK(t.next_deadline() == t0 + 10min);
  t.handle_deadline(t0 + 9min);
  CHECK(drain(t).empty());
  CHECK(t.admit(key(1), t0 + 9min) == session_admission::resume);
  CHECK(t.connected(key(1)));
  CHECK(t.next_deadline() == time_point::max());
  // Its old deadline is gone with the linger: nothing expires at t0 + 10 min.
  t.handle_deadline(t0 + 10min);
  CHECK(drain(t).empty());
  CHECK(t.contains(key(1)));
}

TEST_CASE("a session is dropped exactly when its linger ends") {
  auto t = table(4, 300ms);
  t.admit(key(1), t0);
  t.connection_lost(key(1), t0);
  t.handle_deadline(t0 + 300ms - 1ns);
  CHECK(drain(t).empty());
  CHECK(t.contains(key(1)));
  t.handle_deadline(t0 + 300ms);
  CHECK(drain(t) == std::vector<session_drop>{{key(1), session_drop_reason::linger_expired}});
  CHECK_FALSE(t.contains(key(1)));
  CHECK(t.next_deadline() == time_point::max());
  // The controller's next connection starts a new session.
  CHECK(t.admit(key(1), t0 + 1s) == session_admission::create);
}

TEST_CASE("a lost report for a session that is not connected changes nothing") {
  auto t = table(4, 300ms);
  t.admit(key(1), t0);
  t.connection_lost(key(1), t0);
  t.connection_lost(key(1), t0 + 200ms); // a late second report must not extend the linger
  CHECK(t.next_deadline() == t0 + 300ms);
  t.connection_lost(key(9), t0); // unknown key: ignored
  CHECK(t.size() == 1);
}

TEST_CASE("an ended session is forgotten at once and its id is nobody's") {
  auto t = table(4);
  t.admit(key(1), t0);
  t.established(key(1), id(1));
  CHECK(t.foreign(key(2), id(1)));
  t.ended(key(1));
  CHECK(drain(t) == std::vector<session_drop>{{key(1), session_drop_reason::ended}});
  CHECK_FALSE(t.contains(key(1)));
  CHECK_FALSE(t.foreign(key(2), id(1)));
  t.ended(key(1)); // twice: nothing more
  CHECK(drain(t).empty());
}

TEST_CASE("an ended session not yet carried out, then the controller again: drop, then create") {
  auto t = table(4);
  t.admit(key(1), t0);
  t.ended(key(1));
  CHECK(t.admit(key(1), t0 + 1ms) == session_admission::create);
  // The executor carries out the drop of the old session before creating the new one.
  CHECK(drain(t) == std::vector<session_drop>{{key(1), session_drop_reason::ended}});
  CHECK(t.connected(key(1)));
}

TEST_CASE("at the cap with every session connected a new controller is refused") {
  auto t = table(1);
  t.admit(key(1), t0);
  CHECK(t.admit(key(2), t0 + 1s) == session_admission::refuse);
  CHECK(t.connected(key(1)));
  CHECK_FALSE(t.contains(key(2)));
  CHECK(drain(t).empty());
  // The refused controller left nothing behind; the known one still takes over.
  CHECK(t.admit(key(1), t0 + 2s) == session_admission::take_over);
}

TEST_CASE("at the cap a new controller evicts the session that lingered longest") {
  auto t = table(3);
  for (std::uint8_t k = 1; k <= 3; ++k)
    t.admit(key(k), t0);
  t.connection_lost(key(2), t0 + 2s);
  t.connection_lost(key(1), t0 + 1s);
  // key 3 stays connected.
  CHECK(t.admit(key(4), t0 + 5s) == session_admission::create);
  CHECK(drain(t) == std::vector<session_drop>{{key(1), session_drop_reason::made_room}});
  CHECK(t.size() == 3);
  CHECK(t.next_deadline() == t0 + 2s + 10min); // key 2's linger is what is left
  CHECK(t.admit(key(5), t0 + 6s) == session_admission::create);
  CHECK(drain(t) == std::vector<session_drop>{{key(2), session_drop_reason::made_room}});
  CHECK(t.admit(key(6), t0 + 7s) == session_admission::refuse);
}

TEST_CASE("a cap of 0 is taken as 1") {
  auto t = table(0);
  CHECK(t.admit(key(1), t0) == session_admission::create);
  CHECK(t.admit(key(2), t0) == session_admission::refuse);
}

TEST_CASE("session ids belong to their controller, and a new id frees the old one") {
  auto t = table(4);
  t.admit(key(1), t0);
  t.admit(key(2), t0);
  t.established(key(1), id(0xA1));
  CHECK(t.foreign(key(2), id(0xA1)));
  CHECK_FALSE(t.foreign(key(1), id(0xA1)));
  CHECK_FALSE(t.foreign(key(2), id(0xEE))); // an id nobody has
  t.established(key(1), id(0xA2));          // reset: a new session id
  CHECK_FALSE(t.foreign(key(2), id(0xA1)));
  CHECK(t.foreign(key(2), id(0xA2)));
  t.established(key(9), id(0xA3)); // unknown key: ignored
  CHECK_FALSE(t.foreign(key(2), id(0xA3)));
}

TEST_CASE("an id given to a second controller is that controller's alone") {
  auto t = table(4);
  t.admit(key(1), t0);
  t.admit(key(2), t0);
  t.established(key(1), id(7));
  t.established(key(2), id(7)); // only a broken id source does this; the newest owner wins
  CHECK(t.foreign(key(1), id(7)));
  CHECK_FALSE(t.foreign(key(2), id(7)));
  t.ended(key(1)); // the first controller's session ending leaves the second one's id alone
  CHECK(t.foreign(key(3), id(7)));
}

TEST_CASE("a dropped session's id is nobody's any more") {
  auto t = table(4, 1s);
  t.admit(key(1), t0);
  t.established(key(1), id(1));
  t.connection_lost(key(1), t0);
  t.handle_deadline(t0 + 1s);
  CHECK(drain(t).size() == 1);
  CHECK_FALSE(t.foreign(key(2), id(1)));
}

TEST_CASE("sessions lingering to the same deadline all expire in one call, oldest first") {
  auto t = table(8, 1s);
  t.admit(key(3), t0);
  t.admit(key(1), t0);
  t.admit(key(2), t0);
  t.connection_lost(key(3), t0 + 1ms);
  t.connection_lost(key(1), t0 + 2ms);
  t.connection_lost(key(2), t0 + 3ms);
  CHECK(t.next_deadline() == t0 + 1s + 1ms);
  t.handle_deadline(t0 + 1s + 3ms);
  CHECK(drain(t) == std::vector<session_drop>{{key(3), session_drop_reason::linger_expired},
                                              {key(1), session_drop_reason::linger_expired},
                                              {key(2), session_drop_reason::linger_expired}});
  CHECK(t.size() == 0);
}

TEST_CASE("a connection that could not be attached leaves the session lingering, not stuck") {
  // The server attaches right after admit; when that fails it reports the loss at once.
  auto t = table(4, 1s);
  CHECK(t.admit(key(1), t0) == session_admission::create);
  t.connection_lost(key(1), t0);
  CHECK(t.next_deadline() == t0 + 1s);
  t.handle_deadline(t0 + 1s);
  CHECK(drain(t) == std::vector<session_drop>{{key(1), session_drop_reason::linger_expired}});
}

TEST_CASE("clear forgets everything and queues nothing") {
  auto t = table(4, 1s);
  t.admit(key(1), t0);
  t.established(key(1), id(1));
  t.connection_lost(key(1), t0);
  t.ended(key(1));
  t.admit(key(2), t0);
  t.clear();
  CHECK(t.size() == 0);
  CHECK(drain(t).empty());
  CHECK(t.next_deadline() == time_point::max());
  CHECK_FALSE(t.foreign(key(2), id(1)));
}

TEST_CASE("drop reasons have names") {
  CHECK(to_string(session_drop_reason::linger_expired) == "linger expired");
  CHECK(to_string(session_drop_reason::made_room) == "made room");
  CHECK(to_string(session_drop_reason::ended) == "ended");
}

TEST_CASE("drops not drained: the ring of max_sessions entries is full, and nothing is lost") {
  auto t = table(1);
  REQUIRE(t.reserved());
  CHECK(t.admit(key(1), t0) == session_admission::create);
  t.ended(key(1)); // its drop fills the ring (room for max_sessions = 1)
  CHECK(!t.contains(key(1)));
  CHECK(t.admit(key(2), t0) == session_admission::create);
  t.established(key(2), id(2));
  // No room for key 2's drop: it lingers with its time up, its id nobody's any more.
  t.ended(key(2));
  CHECK(t.contains(key(2)));
  CHECK(!t.connected(key(2)));
  CHECK(!t.foreign(key(3), id(2)));
  CHECK(t.next_deadline() == time_point::min());
  // At the cap, a new controller is refused rather than evicting without room for the drop.
  CHECK(t.admit(key(3), t0) == session_admission::refuse);
  CHECK(drain(t) == std::vector<session_drop>{{key(1), session_drop_reason::ended}});
  t.handle_deadline(t0);
  CHECK(drain(t) == std::vector<session_drop>{{key(2), session_drop_reason::linger_expired}});
  CHECK(!t.contains(key(2)));
  CHECK(t.next_deadline() == time_point::max());
}

TEST_CASE("drops not drained: handle_deadline leaves what does not fit for its next run") {
  auto t = table(2, 1s);
  CHECK(t.admit(key(1), t0) == session_admission::create);
  CHECK(t.admit(key(2), t0) == session_admission::create);
  CHECK(t.admit(key(3), t0) == session_admission::refuse);
  t.connection_lost(key(1), t0);
  t.connection_lost(key(2), t0 + 1ms);
  CHECK(t.admit(key(3), t0 + 2ms) == session_admission::create); // key 1 made room
  t.connection_lost(key(3), t0 + 3ms);
  t.ended(key(2)); // the ring (2) is full now
  t.handle_deadline(t0 + 10s);
  CHECK(t.contains(key(3))); // no room: it waits
  CHECK(t.next_deadline() <= t0 + 10s);
  CHECK(drain(t) == std::vector<session_drop>{{key(1), session_drop_reason::made_room},
                                              {key(2), session_drop_reason::ended}});
  t.handle_deadline(t0 + 10s);
  CHECK(drain(t) == std::vector<session_drop>{{key(3), session_drop_reason::linger_expired}});
}
