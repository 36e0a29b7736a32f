// ack_policy::on_consume (docs/PROTOCOL.md § 3.1): the receiver acknowledges what the
// application took, so the sender's replay buffer bounds what is in flight or unread, and a
// resume does not deliver a held message twice. Literal timestamps throughout.
#include "lanyard/core/session.hpp"

#include "lanyard/core/channel_error.hpp"
#include "lanyard/core/frame.hpp"

#include "support/session_pair.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

using namespace lanyard::core;
using namespace lanyard::test::session_support;
using namespace std::chrono_literals;

namespace {

// Small windows need small messages: the replay bound is raised to one maximum message.
constexpr std::size_t max_message = 1000;

// The server consumes on demand; the client acknowledges on receipt, as today.
session_settings consuming_server(int* ids, std::size_t replay_bytes) {
  session_settings s = server_settings(ids);
  s.acknowledge = ack_policy::on_consume;
  s.max_replay_bytes = replay_bytes;
  s.max_message_size = max_message;
  return s;
}

session_settings client_with_replay(std::size_t replay_bytes) {
  session_settings s;
  s.max_replay_bytes = replay_bytes;
  s.max_message_size = max_message;
  return s;
}

// What a received message costs in a replay buffer.
constexpr std::size_t cost(std::size_t payload) {
  return payload + replay_overhead_per_message;
}

// Consumes every message in `evs` (the application took them all, in order).
void consume_all(session& s, const std::vector<session_event>& evs, tp now) {
  for (const auto& m : only<events::message_received>(evs))
    REQUIRE_FALSE(s.consume(m.seq, m.payload.size(), now));
}

} // namespace

TEST_CASE("on_consume: nothing is acknowledged until the application takes it") {
  int ids = 0;
  session c(session_role::client), s(session_role::server, consuming_server(&ids, 1 << 20));
  handshake(c, s, t(0));

  c.send(msg("a"), t(10));
  c.send(msg("b"), t(10));
  auto ev = pump(c, s, t(10));
  CHECK(received(ev.server) == std::vector<std::string>{"a", "b"});
  CHECK(s.next_expected_seq() == 2);
  CHECK(s.next_unconsumed_seq() == 0);
  CHECK(s.unconsumed_bytes() == 2 * cost(1));
  // No ACK is due: not even the delayed one.
  s.handle_deadline(t(40));
  CHECK(s.poll_output(t(40)).empty());
  s.handle_deadline(t(1000));
  pump(c, s, t(1000));
  CHECK(c.replay_count() == 2);

  // The application takes "a": the delayed ACK acknowledges exactly that one.
  REQUIRE_FALSE(s.consume(0, 1, t(2000)));
  CHECK(s.unconsumed_bytes() == cost(1));
  CHECK(s.next_deadline() == t(2000) + 20ms);
  s.handle_deadline(t(2020));
  auto ack = copy(s.poll_output(t(2020)));
  CHECK(ack == encode(ack_frame{1}));
  c.receive(ack, t(2021));
  CHECK(c.replay_count() == 1);
  CHECK(c.next_unacked_seq() == 1);
}

TEST_CASE("on_consume: acknowledgements follow consumption by count and by volume") {
  int ids = 0;
  session_settings ss = consuming_server(&ids, 4 * cost(max_message));
  ss.ack_every = 4;
  session c(session_role::client, client_with_replay(4 * cost(max_message))),
      s(session_role::server, ss);
  handshake(c, s, t(0));

  for (int i = 0; i < 4; ++i)
    c.send(msg("m"), t(1));
  auto ev = pump(c, s, t(1));
  REQUIRE(received(ev.server).size() == 4);
  for (std::uint64_t i = 0; i < 3; ++i)
    REQUIRE_FALSE(s.consume(i, 1, t(2)));
  CHECK(s.poll_output(t(2)).empty()); // three consumed < ack_every
  REQUIRE_FALSE(s.consume(3, 1, t(2)));
  CHECK(copy(s.poll_output(t(2))) == encode(ack_frame{4})); // the fourth: at once

  // A quarter of the replay bound consumed also acknowledges at once (large messages).
  const std::vector<std::byte> big(max_message);
  REQUIRE_FALSE(c.send(big, t(3)).error);
  ev = pump(c, s, t(3));
  REQUIRE(only<events::message_received>(ev.server).size() == 1);
  REQUIRE_FALSE(s.consume(4, big.size(), t(4)));
  CHECK(copy(s.poll_output(t(4))) == encode(ack_frame{5}));
}

TEST_CASE("on_consume: a reader that stops holds the sender to its replay bound") {
  int ids = 0;
  const std::size_t window = 4 * cost(max_message);
  session c(session_role::client, client_with_replay(window)),
      s(session_role::server, consuming_server(&ids, window));
  handshake(c, s, t(0));

  const std::vector<std::byte> m(max_message);
  int sent = 0;
  while (!c.send(m, t(1)).error)
    ++sent;
  CHECK(sent == 4);
  CHECK(c.send(m, t(1)).error == channel_errc::buffer_full);
  auto ev = pump(c, s, t(1));
  CHECK(only<events::message_received>(ev.server).size() == 4);
  CHECK(s.unconsumed_bytes() == window); // exactly the window, never more
  // Time passes, keep-alives flow, nothing is acknowledged: the sender stays full.
  for (int ms = 100; ms <= 30000; ms += 100) {
    c.handle_deadline(t(ms));
    s.handle_deadline(t(ms));
    pump(c, s, t(ms));
  }
  CHECK(c.state() == session_state::established); // a slow reader is not a dead link
  CHECK(c.send(m, t(30000)).error == channel_errc::buffer_full);
  // The reader comes back: room again.
  consume_all(s, ev.server, t(30001));
  s.handle_deadline(t(30021));
  pump(c, s, t(30021));
  CHECK(c.replay_count() == 0);
  CHECK_FALSE(c.send(m, t(30022)).error);
}

TEST_CASE("on_consume: a resume resends what is held unread, and it is not delivered twice") {
  int ids = 0;
  session c(session_role::client), s(session_role::server, consuming_server(&ids, 1 << 20));
  handshake(c, s, t(0));

  c.send(msg("taken"), t(1));
  c.send(msg("held-1"), t(1));
  c.send(msg("held-2"), t(1));
  auto ev = pump(c, s, t(1));
  CHECK(received(ev.server) == std::vector<std::string>{"taken", "held-1", "held-2"});
  REQUIRE_FALSE(s.consume(0, 5, t(2)));
  c.send(msg("lost"), t(3));
  c.poll_output(t(3)); // written to a connection that dies
  disconnect(c, s, t(4));

  // The application takes one more while the link is down: the WELCOME says so.
  REQUIRE_FALSE(s.consume(1, 6, t(5)));
  connect(c, s, t(10));
  s.receive(copy(c.poll_output(t(10))), t(10));
  auto welcome = copy(s.poll_output(t(10)));
  CHECK(welcome == encode(welcome_frame{id_of(1), true, 2, s.own_limits()}));
  c.receive(welcome, t(11));
  // The client resends from 2: "held-2" (skipped, it is held) then "lost" (delivered).
  ev = pump(c, s, t(11));
  CHECK(received(ev.server) == std::vector<std::string>{"lost"});
  CHECK(s.state() == session_state::established);
  CHECK(s.next_expected_seq() == 4);
  // The held message is still the next to consume; consuming it acknowledges through it.
  CHECK(s.next_unconsumed_seq() == 2);
  CHECK(s.consume(3, 4, t(12)) == channel_errc::invalid_state); // out of order
  REQUIRE_FALSE(s.consume(2, 6, t(12)));
  REQUIRE_FALSE(s.consume(3, 4, t(12)));
  s.handle_deadline(t(32));
  pump(c, s, t(32));
  CHECK(c.replay_count() == 0);
}

TEST_CASE("on_consume: the client's HELLO announces what it consumed, the server resends the "
          "rest once") {
  int ids = 0;
  session_settings cs;
  cs.acknowledge = ack_policy::on_consume;
  session c(session_role::client, cs), s(session_role::server, server_settings(&ids));
  handshake(c, s, t(0));

  s.send(msg("p0"), t(1));
  s.send(msg("p1"), t(1));
  auto ev = pump(c, s, t(1));
  CHECK(received(ev.client) == std::vector<std::string>{"p0", "p1"});
  REQUIRE_FALSE(c.consume(0, 2, t(2)));
  disconnect(c, s, t(3));
  connect(c, s, t(4));
  auto hello = copy(c.poll_output(t(4)));
  CHECK(hello == encode(hello_frame{id_of(1), 1, {}}));
  s.receive(hello, t(4));
  ev = pump(c, s, t(4));
  CHECK(received(ev.client).empty()); // p1 came again and was skipped: it is held
  CHECK(s.replay_count() == 1);       // not acknowledged: unread
  REQUIRE_FALSE(c.consume(1, 2, t(5)));
  c.handle_deadline(t(25));
  pump(c, s, t(25));
  CHECK(s.replay_count() == 0);
}

TEST_CASE("on_consume: a sender with a larger replay bound keeps to the receiver's window") {
  int ids = 0;
  // The client's replay bound is larger than the server's receive window: the server's
  // WELCOME announced its window, and the client writes no more than that unread.
  const std::size_t window = 2 * cost(max_message);
  session c(session_role::client, client_with_replay(1 << 20)),
      s(session_role::server, consuming_server(&ids, window));
  handshake(c, s, t(0));
  CHECK(c.peer_limits() == receive_limits{max_message, static_cast<std::uint32_t>(window)});
  const std::vector<std::byte> m(max_message);
  for (int i = 0; i < 5; ++i)
    REQUIRE_FALSE(c.send(m, t(1)).error); // its own buffer takes them all
  auto ev = pump(c, s, t(1));
  CHECK(only<events::message_received>(ev.server).size() == 2);
  CHECK(only<events::connection_failed>(ev.server).empty());
  CHECK(c.in_flight_bytes() == window);
  CHECK(s.unconsumed_bytes() == window);
  // Each message taken opens the window for the next one; all five arrive, in order, once.
  std::uint64_t taken = 0;
  for (int round = 0; round < 10 && taken < 5; ++round) {
    for (; taken < s.next_expected_seq(); ++taken)
      REQUIRE_FALSE(s.consume(taken, max_message, t(2 + round)));
    s.handle_deadline(t(100 + 100 * round)); // the delayed ACK
    ev = pump(c, s, t(100 + 100 * round));
    CHECK(only<events::connection_failed>(ev.server).empty());
    CHECK(s.unconsumed_bytes() <= window);
  }
  CHECK(taken == 5);
  CHECK(s.next_expected_seq() == 5);
}

TEST_CASE("on_consume: a peer that sends beyond the window is refused") {
  int ids = 0;
  session c(session_role::client, client_with_replay(1 << 20)),
      s(session_role::server, consuming_server(&ids, 2 * cost(max_message)));
  handshake(c, s, t(0));
  // A broken or hostile peer ignores the window the WELCOME announced: raw DATA frames.
  const std::vector<std::byte> m(max_message);
  std::vector<std::byte> wire;
  for (std::uint64_t i = 0; i < 3; ++i)
    encode_frame(data_frame{i, m}, wire);
  s.receive(wire, t(1));
  auto ev = drain(s);
  CHECK(only<events::message_received>(ev).size() == 2);
  auto failed = only<events::connection_failed>(ev);
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].error == channel_errc::sequence_out_of_window);
  CHECK(s.unconsumed_bytes() == 2 * cost(max_message)); // held, not lost: the session survives
}

TEST_CASE("on_consume: consume() errors") {
  int ids = 0;
  session plain(session_role::server, server_settings(&ids));
  CHECK(plain.consume(0, 0, t(0)) == channel_errc::invalid_state); // policy on_receipt

  session c(session_role::client), s(session_role::server, consuming_server(&ids, 1 << 20));
  handshake(c, s, t(0));
  CHECK(s.consume(0, 0, t(1)) == channel_errc::invalid_state); // nothing received
  c.send(msg("x"), t(1));
  pump(c, s, t(1));
  CHECK(s.consume(1, 1, t(2)) == channel_errc::invalid_state); // not the next
  REQUIRE_FALSE(s.consume(0, 1, t(2)));
  CHECK(s.consume(0, 1, t(2)) == channel_errc::invalid_state); // twice
  REQUIRE_FALSE(s.close(t(3)));
  CHECK(s.consume(1, 1, t(3)) == channel_errc::session_closed);
}

TEST_CASE("on_consume: a new session starts counting again; held messages of the old one stay "
          "the application's") {
  int ids = 0;
  session_settings cs;
  cs.acknowledge = ack_policy::on_consume;
  session c(session_role::client, cs);
  auto s = std::make_unique<session>(session_role::server, server_settings(&ids));
  connect(c, *s, t(0));
  pump(c, *s, t(0));
  s->send(msg("old"), t(1));
  auto ev = pump(c, *s, t(1));
  CHECK(received(ev.client) == std::vector<std::string>{"old"});
  CHECK(c.unconsumed_bytes() == cost(3));

  // The accessory reboots: a new server session object, which knows no session.
  c.on_disconnected(t(2));
  s = std::make_unique<session>(session_role::server, server_settings(&ids));
  connect(c, *s, t(3));
  s->send(msg("new"), t(3));
  ev = pump(c, *s, t(3));
  CHECK(received(ev.client) == std::vector<std::string>{"new"});
  CHECK(c.next_unconsumed_seq() == 0); // the new session's message 0
  CHECK(c.unconsumed_bytes() == cost(3));
  REQUIRE_FALSE(c.consume(0, 3, t(4)));
  c.handle_deadline(t(24));
  pump(c, *s, t(24));
  CHECK(s->replay_count() == 0);
}

TEST_CASE("on_consume: a held message taken before the peer resent it is acknowledged only once "
          "resent") {
  int ids = 0;
  session c(session_role::client), s(session_role::server, consuming_server(&ids, 1 << 20));
  handshake(c, s, t(0));
  c.send(msg("held"), t(1));
  auto ev = pump(c, s, t(1));
  REQUIRE(received(ev.server) == std::vector<std::string>{"held"});
  disconnect(c, s, t(2));

  connect(c, s, t(10));
  s.receive(copy(c.poll_output(t(10))), t(10));
  auto welcome = copy(s.poll_output(t(10)));
  CHECK(welcome == encode(welcome_frame{id_of(1), true, 0, s.own_limits()})); // "held" is unread
  c.receive(welcome, t(11));
  // The application takes "held" before the client's resend of it arrives. The client has
  // written nothing on this connection yet: an ACK(1) now would acknowledge a message it
  // never sent here, which it refuses (sequence_out_of_window).
  REQUIRE_FALSE(s.consume(0, 4, t(12)));
  s.handle_deadline(t(40));
  const auto early = copy(s.poll_output(t(40)));
  CHECK_FALSE(c.receive(early, t(40)));
  CHECK(c.state() == session_state::established);
  // The resend arrives and is skipped; then the acknowledgement goes out.
  ev = pump(c, s, t(41));
  CHECK(received(ev.server).empty());
  s.handle_deadline(t(61));
  ev = pump(c, s, t(61));
  CHECK(only<events::connection_failed>(ev.client).empty());
  CHECK(c.replay_count() == 0);
}
