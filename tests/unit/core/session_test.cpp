#include "lanyard/core/session.hpp"

#include "lanyard/core/channel_error.hpp"
#include "lanyard/core/frame.hpp"

#include "support/session_pair.hpp"

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

using namespace lanyard::core;
using namespace lanyard::test::session_support;
using namespace std::chrono_literals;

TEST_CASE("a new session: HELLO(zero id) then WELCOME(new id, not resumed)") {
  int ids = 0;
  session c(session_role::client), s(session_role::server, server_settings(&ids));
  CHECK(c.state() == session_state::disconnected);
  connect(c, s, t(0));
  CHECK(c.state() == session_state::handshaking);

  auto hello = copy(c.poll_output(t(1)));
  CHECK(hello == encode(hello_frame{session_id{}, 0, {}}));
  CHECK(s.receive(hello, t(2)) == std::error_code{});
  auto welcome = copy(s.poll_output(t(2)));
  CHECK(welcome == encode(welcome_frame{id_of(1), false, 0, {}}));
  c.receive(welcome, t(5));

  CHECK(c.state() == session_state::established);
  CHECK(s.state() == session_state::established);
  CHECK(c.id() == id_of(1));
  auto ce = drain(c);
  auto est = only<events::established>(ce);
  REQUIRE(est.size() == 1);
  CHECK_FALSE(est[0].resumed);
  auto states = only<events::state_changed>(ce);
  REQUIRE(states.size() == 2);
  CHECK(states[1].from == session_state::handshaking);
  CHECK(states[1].to == session_state::established);
  auto rtt = only<events::rtt_sample>(ce);
  REQUIRE(rtt.size() == 1); // HELLO at 1 ms, WELCOME at 5 ms
  CHECK(rtt[0].sample == 4ms);
  CHECK(c.smoothed_rtt() == std::chrono::nanoseconds(4ms));
}

TEST_CASE("messages flow both ways in order, and cumulative ACKs free the replay buffer") {
  int ids = 0;
  session_settings cs;
  cs.ack_every = 3;
  session c(session_role::client, cs), s(session_role::server, server_settings(&ids));
  connect(c, s, t(0));
  pump(c, s, t(0));

  const char* const names[] = {"m0", "m1", "m2", "m3", "m4"};
  for (std::uint64_t i = 0; i < 5; ++i)
    CHECK(c.send(msg(names[i]), t(1)).seq == i);
  CHECK(s.send(msg("push"), t(1)).seq == 0);
  CHECK(c.replay_count() == 5);
  auto ev = pump(c, s, t(2));
  CHECK(received(ev.server) == std::vector<std::string>{"m0", "m1", "m2", "m3", "m4"});
  CHECK(received(ev.client) == std::vector<std::string>{"push"});
  // The server's ACK went out with its other output.
  CHECK(c.replay_count() == 0);
  CHECK(c.next_unacked_seq() == 5);
  REQUIRE_FALSE(only<events::acked>(ev.client).empty());
  CHECK(only<events::acked>(ev.client).back().next_unacked == 5);
  // The client received 1 message (< ack_every=3): its ACK waits for the delay.
  CHECK(s.replay_count() == 1);
  CHECK(c.next_deadline() == t(2) + 20ms);
}

TEST_CASE("delayed ACK: sent when ack_delay expires, or at once after ack_every messages") {
  int ids = 0;
  session_settings ss = server_settings(&ids);
  ss.ack_every = 2;
  ss.ack_delay = 10ms;
  session c(session_role::client), s(session_role::server, ss);
  connect(c, s, t(0));
  pump(c, s, t(0));

  c.send(msg("a"), t(100));
  s.receive(copy(c.poll_output(t(100))), t(101));
  CHECK(s.poll_output(t(101)).empty()); // one message: ACK delayed
  CHECK(s.next_deadline() == t(111));
  s.handle_deadline(t(111));
  CHECK(frame_types(s.poll_output(t(111))) == std::vector{frame_type::ack});

  c.send(msg("b"), t(200));
  c.send(msg("c"), t(200));
  s.receive(copy(c.poll_output(t(200))), t(201));
  CHECK(frame_types(s.poll_output(t(201))) == std::vector{frame_type::ack}); // 2 = ack_every
}

TEST_CASE("resume: what was lost in flight is retransmitted exactly once") {
  int ids = 0;
  session c(session_role::client), s(session_role::server, server_settings(&ids));
  connect(c, s, t(0));
  pump(c, s, t(0));
  drain(c);
  drain(s);

  c.send(msg("delivered"), t(10));
  auto ev = pump(c, s, t(10)); // delivered, but ACK still delayed
  CHECK(received(ev.server) == std::vector<std::string>{"delivered"});
  c.send(msg("lost"), t(11));
  c.poll_output(t(11)); // written to a connection that dies: never arrives
  s.send(msg("lost-push"), t(11));
  s.poll_output(t(11));
  disconnect(c, s, t(12));
  CHECK(c.state() == session_state::disconnected);
  CHECK(c.replay_count() == 2); // nothing acknowledged yet

  c.send(msg("while-offline"), t(13));
  connect(c, s, t(20));
  auto hello = copy(c.poll_output(t(20)));
  CHECK(hello == encode(hello_frame{id_of(1), 0, {}}));
  s.receive(hello, t(20));
  ev = pump(c, s, t(20));
  // HELLO's... and WELCOME's next_expected acknowledged "delivered"; the rest arrives once.
  CHECK(received(ev.server) == std::vector<std::string>{"lost", "while-offline"});
  CHECK(received(ev.client) == std::vector<std::string>{"lost-push"});
  auto est = only<events::established>(ev.client);
  REQUIRE(est.size() == 1);
  CHECK(est[0].resumed);
  CHECK(est[0].id == id_of(1));
  CHECK(only<events::session_reset>(ev.client).empty());
  CHECK(s.next_expected_seq() == 3);
}

TEST_CASE("unacked_report::count: a reset and a local close count the messages, copy none") {
  int ids = 0;
  session_settings counted;
  counted.unacked = unacked_report::count;
  session c(session_role::client, counted);
  auto s = std::make_unique<session>(session_role::server, server_settings(&ids));
  connect(c, *s, t(0));
  pump(c, *s, t(0));
  c.send(msg("unacked-1"), t(1));
  c.send(msg("unacked-2"), t(1));
  c.poll_output(t(1)); // lost with the server
  s = std::make_unique<session>(session_role::server, server_settings(&ids));
  c.on_disconnected(t(2));
  connect(c, *s, t(3));
  auto resets = only<events::session_reset>(pump(c, *s, t(3)).client);
  REQUIRE(resets.size() == 1);
  CHECK(resets[0].unacked.empty());
  CHECK(resets[0].unacked_count == 2);
  CHECK(c.replay_count() == 0);

  c.send(msg("never-acked"), t(4));
  CHECK_FALSE(c.close(t(5)));
  auto closed = only<events::closed>(drain(c));
  REQUIRE(closed.size() == 1);
  CHECK_FALSE(closed[0].by_peer);
  CHECK(closed[0].unacked.empty());
  CHECK(closed[0].unacked_count == 1);
}

TEST_CASE("the server lost the session: the client reports every unacknowledged message") {
  int ids = 0;
  session c(session_role::client);
  auto s = std::make_unique<session>(session_role::server, server_settings(&ids));
  connect(c, *s, t(0));
  pump(c, *s, t(0));
  c.send(msg("acked"), t(1));
  s->send(msg("from-old-server"), t(1));
  s->handle_deadline(t(1));
  pump(c, *s, t(1));
  s->handle_deadline(t(30)); // ACK delay
  c.handle_deadline(t(30));
  pump(c, *s, t(30));
  CHECK(c.replay_count() == 0);
  c.send(msg("unacked-1"), t(31));
  c.send(msg("unacked-2"), t(31));
  c.poll_output(t(31)); // lost with the server

  // The accessory reboots: a new server session object knows nothing.
  s = std::make_unique<session>(session_role::server, server_settings(&ids));
  c.on_disconnected(t(40));
  c.send(msg("queued-offline"), t(41));
  connect(c, *s, t(50));
  auto ev = pump(c, *s, t(50));
  auto resets = only<events::session_reset>(ev.client);
  REQUIRE(resets.size() == 1);
  CHECK(resets[0].old_id == id_of(1));
  CHECK(resets[0].new_id == id_of(2));
  REQUIRE(resets[0].unacked.size() == 3);
  CHECK(resets[0].unacked_count == 3);
  CHECK(str(resets[0].unacked[0].payload) == "unacked-1");
  CHECK(resets[0].unacked[0].seq == 1);
  CHECK(str(resets[0].unacked[2].payload) == "queued-offline");
  CHECK(received(ev.server).empty());
  // A fresh session: numbering restarts at 0 in both directions.
  CHECK(c.id() == id_of(2));
  CHECK(c.next_send_seq() == 0);
  CHECK(c.next_expected_seq() == 0);
  CHECK(c.send(msg("fresh"), t(51)).seq == 0);
  ev = pump(c, *s, t(51));
  CHECK(received(ev.server) == std::vector<std::string>{"fresh"});
}

TEST_CASE("messages queued before the first handshake are simply sent, not reset") {
  int ids = 0;
  session c(session_role::client), s(session_role::server, server_settings(&ids));
  c.send(msg("early"), t(0));
  s.send(msg("early-push"), t(0));
  connect(c, s, t(1));
  c.poll_output(t(1)); // HELLO lost: the connection drops mid-handshake
  disconnect(c, s, t(2));
  connect(c, s, t(3));
  auto ev = pump(c, s, t(3));
  CHECK(only<events::session_reset>(ev.client).empty());
  CHECK(only<events::session_reset>(ev.server).empty());
  CHECK(received(ev.server) == std::vector<std::string>{"early"});
  CHECK(received(ev.client) == std::vector<std::string>{"early-push"});
}

TEST_CASE("a WELCOME lost with pushes behind it: the server reports them on a new HELLO(0)") {
  int ids = 0;
  session c(session_role::client), s(session_role::server, server_settings(&ids));
  s.send(msg("push"), t(0));
  connect(c, s, t(1));
  s.receive(copy(c.poll_output(t(1))), t(1));
  s.poll_output(t(1)); // WELCOME + DATA, lost
  disconnect(c, s, t(2));
  drain(s);
  connect(c, s, t(3));
  auto ev = pump(c, s, t(3));
  auto resets = only<events::session_reset>(ev.server);
  REQUIRE(resets.size() == 1);
  REQUIRE(resets[0].unacked.size() == 1);
  CHECK(str(resets[0].unacked[0].payload) == "push");
  CHECK(received(ev.client).empty());
  CHECK(c.id() == id_of(2));
}

TEST_CASE("send errors: message_too_large, buffer_full, session_closed") {
  session_settings cs;
  cs.max_message_size = 100;
  cs.max_replay_bytes = 300;
  session c(session_role::client, cs);
  CHECK(c.send(std::vector<std::byte>(101), t(0)).error == channel_errc::message_too_large);
  CHECK_FALSE(c.send(std::vector<std::byte>(100), t(0)).error); // 100 + 32
  CHECK_FALSE(c.send(std::vector<std::byte>(100), t(0)).error); // 264
  auto r = c.send(std::vector<std::byte>(5), t(0));             // 264 + 37 > 300
  CHECK(r.error == channel_errc::buffer_full);
  CHECK(c.replay_count() == 2);
  CHECK(c.replay_bytes() == 264);
  CHECK(c.next_send_seq() == 2); // the refused message took no sequence number
  CHECK_FALSE(c.close(t(1)));
  CHECK(c.send(msg("x"), t(2)).error == channel_errc::session_closed);
  CHECK(c.close(t(2)) == channel_errc::session_closed);
  CHECK(c.on_connected(t(3)) == channel_errc::session_closed);
}

TEST_CASE("on_connected twice is invalid_state") {
  session c(session_role::client);
  CHECK_FALSE(c.on_connected(t(0)));
  CHECK(c.on_connected(t(1)) == channel_errc::invalid_state);
}

TEST_CASE("keep-alive: PING every interval, PONG gives an RTT sample") {
  int ids = 0;
  session_settings cs;
  cs.keepalive_interval = 1000ms;
  cs.peer_timeout = 3000ms;
  session c(session_role::client, cs), s(session_role::server, server_settings(&ids));
  connect(c, s, t(0));
  pump(c, s, t(0));
  drain(c);
  CHECK(c.next_deadline() == t(1000));
  c.handle_deadline(t(1000));
  auto ping = copy(c.poll_output(t(1000)));
  CHECK(frame_types(ping) == std::vector{frame_type::ping});
  s.receive(ping, t(1010));
  auto pong = copy(s.poll_output(t(1010)));
  CHECK(frame_types(pong) == std::vector{frame_type::pong});
  c.receive(pong, t(1030));
  auto rtt = only<events::rtt_sample>(drain(c));
  REQUIRE(rtt.size() == 1);
  CHECK(rtt[0].sample == 30ms);
  CHECK(c.next_deadline() == t(2000));
  // A stale or unsolicited PONG is ignored.
  c.receive(encode(pong_frame{999}), t(1040));
  CHECK(only<events::rtt_sample>(drain(c)).empty());
  CHECK(c.state() == session_state::established);
}

TEST_CASE("peer_dead after peer_timeout without any byte; the session survives") {
  int ids = 0;
  session_settings cs;
  cs.keepalive_interval = 1000ms;
  cs.peer_timeout = 2500ms;
  session c(session_role::client, cs), s(session_role::server, server_settings(&ids));
  connect(c, s, t(0));
  pump(c, s, t(0));
  c.send(msg("pending"), t(0));
  c.poll_output(t(0));
  drain(c);
  c.handle_deadline(t(1000));
  c.poll_output(t(1000)); // PING into the void
  c.handle_deadline(t(2000));
  c.poll_output(t(2000));
  CHECK(c.next_deadline() == t(2500));
  c.handle_deadline(t(2499));
  CHECK(c.state() == session_state::established);
  c.handle_deadline(t(2500));
  CHECK(c.state() == session_state::closing);
  auto failed = only<events::connection_failed>(drain(c));
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].error == channel_errc::peer_dead);
  CHECK(c.poll_output(t(2500)).empty()); // no CLOSE into a dead link
  c.on_disconnected(t(2501));
  CHECK(c.state() == session_state::disconnected);
  CHECK(c.replay_count() == 1);
  CHECK(c.id() == id_of(1));
}

// Runs both sessions' timers and moves their bytes (after `latency`) until `until`; counts
// the PINGs each side sends. A side whose bytes are dropped (`c_alive`/`s_alive` false) is
// a peer that died: it neither sends nor receives.
namespace {

struct keepalive_run {
  int client_pings = 0, server_pings = 0;
  std::optional<tp> client_dead, server_dead;
};

keepalive_run run_idle(session& c, session& s, tp from, tp until, bool c_alive, bool s_alive) {
  keepalive_run r;
  auto count = [](std::span<const std::byte> bytes) {
    int n = 0;
    for (auto f : frame_types(bytes))
      n += f == frame_type::ping;
    return n;
  };
  auto note_dead = [](session& x, tp now, std::optional<tp>& at) {
    for (auto& f : only<events::connection_failed>(drain(x)))
      if (f.error == channel_errc::peer_dead && !at) at = now;
  };
  for (tp now = from; now <= until; now += 10ms) {
    if (c.state() == session_state::established && now >= c.next_deadline()) c.handle_deadline(now);
    if (s.state() == session_state::established && now >= s.next_deadline()) s.handle_deadline(now);
    auto a = copy(c.poll_output(now));
    auto b = copy(s.poll_output(now));
    r.client_pings += count(a);
    r.server_pings += count(b);
    if (c_alive && s_alive && !a.empty()) s.receive(a, now + 1ms);
    if (c_alive && s_alive && !b.empty()) c.receive(b, now + 1ms);
    note_dead(c, now, r.client_dead);
    note_dead(s, now, r.server_dead);
  }
  return r;
}

} // namespace

TEST_CASE("defaults: an idle connection carries one PING per interval, from the client") {
  int ids = 0;
  session c(session_role::client), s(session_role::server, server_settings(&ids));
  connect(c, s, t(0));
  pump(c, s, t(0));
  const auto interval = session_settings{}.keepalive_interval;
  REQUIRE(interval == 5000ms);
  // One idle hour: 720 intervals. The server hears a PING every 5 s and never needs its own.
  auto r = run_idle(c, s, t(0), t(3600 * 1000), true, true);
  CHECK(r.client_pings == 720);
  CHECK(r.server_pings == 0);
  CHECK_FALSE(r.client_dead);
  CHECK_FALSE(r.server_dead);
  CHECK(c.smoothed_rtt().has_value());
}

TEST_CASE("the server pings after 1.5 intervals without hearing anything") {
  int ids = 0;
  session_settings quiet; // an app that pings rarely (battery) but keeps the default timeout
  quiet.keepalive_interval = 60s;
  quiet.peer_timeout = 120s;
  session c(session_role::client, quiet), s(session_role::server, server_settings(&ids));
  connect(c, s, t(0));
  pump(c, s, t(0));
  CHECK(s.next_deadline() == t(7500));
  // The server's PINGs are answered, so neither side times out; the client keeps its own
  // schedule (its first PING is due at 60 s).
  auto r = run_idle(c, s, t(0), t(60 * 1000 - 10), true, true);
  CHECK(r.server_pings == 7); // each 7.5 s (+1 ms) after the last PONG: 7.5 s ... 52.6 s
  CHECK(r.client_pings == 0);
  CHECK_FALSE(r.client_dead);
  CHECK_FALSE(r.server_dead);
}

TEST_CASE("defaults: a dead peer is noticed within 15 s of its last sign of life, both roles") {
  for (bool client_dies : {true, false}) {
    int ids = 0;
    session c(session_role::client), s(session_role::server, server_settings(&ids));
    connect(c, s, t(0));
    pump(c, s, t(0));
    // Healthy for a while (the last exchange before the death is at 40 s), then one side dies.
    auto healthy = run_idle(c, s, t(0), t(42 * 1000), true, true);
    REQUIRE_FALSE(healthy.client_dead);
    REQUIRE_FALSE(healthy.server_dead);
    auto r = run_idle(c, s, t(42 * 1000 + 10), t(80 * 1000), !client_dies, client_dies);
    std::optional<tp> noticed = client_dies ? r.server_dead : r.client_dead;
    INFO("client dies: " << client_dies);
    REQUIRE(noticed);
    // The last exchange began at 40 s (the PING arrives 1 ms later, its PONG leaves on the next
    // 10 ms step and arrives 1 ms after that); deadlines are checked every 10 ms.
    CHECK(*noticed - t(40 * 1000) >= 15000ms);
    CHECK(*noticed - t(40 * 1000) <= 15030ms);
  }
}

TEST_CASE("handshake_timeout when no WELCOME arrives") {
  session_settings cs;
  cs.handshake_timeout = 500ms;
  session c(session_role::client, cs);
  c.on_connected(t(0));
  c.poll_output(t(0));
  CHECK(c.next_deadline() == t(500));
  c.handle_deadline(t(500));
  CHECK(c.state() == session_state::closing);
  auto failed = only<events::connection_failed>(drain(c));
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].error == channel_errc::handshake_timeout);
}

TEST_CASE("protocol errors close the connection with a CLOSE frame; the session survives") {
  int ids = 0;
  session c(session_role::client), s(session_role::server, server_settings(&ids));

  auto expect_failure = [&](session& x, std::error_code expected) {
    CHECK(x.state() == session_state::closing);
    auto failed = only<events::connection_failed>(drain(x));
    REQUIRE(failed.size() == 1);
    CHECK(failed[0].error == expected);
    CHECK_FALSE(failed[0].by_peer);
    auto out = copy(x.poll_output(t(0)));
    frame_decoder dec;
    auto r = dec.decode(out);
    REQUIRE(r.value);
    CHECK(std::get<close_frame>(*r.value).code == expected.value());
    CHECK(x.poll_output(t(0)).empty());
  };

  SECTION("DATA before the handshake") {
    s.on_connected(t(0));
    std::vector<std::byte> p = msg("x");
    CHECK(s.receive(encode(data_frame{0, p}), t(1)) == channel_errc::protocol_violation);
    expect_failure(s, channel_errc::protocol_violation);
  }
  SECTION("PING before the handshake (client side)") {
    c.on_connected(t(0));
    c.receive(encode(ping_frame{1}), t(1));
    expect_failure(c, channel_errc::protocol_violation);
  }
  SECTION("a second HELLO") {
    connect(c, s, t(0));
    pump(c, s, t(0));
    drain(s);
    s.receive(encode(hello_frame{id_of(1), 0, {}}), t(1));
    expect_failure(s, channel_errc::protocol_violation);
  }
  SECTION("DATA with a gap or a duplicate sequence number") {
    connect(c, s, t(0));
    pump(c, s, t(0));
    drain(s);
    std::vector<std::byte> p = msg("x");
    s.receive(encode(data_frame{1, p}), t(1));
    expect_failure(s, channel_errc::sequence_out_of_window);
  }
  SECTION("an ACK for messages never sent") {
    connect(c, s, t(0));
    pump(c, s, t(0));
    drain(s);
    s.send(msg("queued"), t(1)); // queued but not yet written: cannot be acknowledged
    s.receive(encode(ack_frame{1}), t(1));
    expect_failure(s, channel_errc::sequence_out_of_window);
  }
  SECTION("a decoder error") {
    connect(c, s, t(0));
    pump(c, s, t(0));
    drain(c);
    std::vector<std::byte> junk{std::byte{1}, std::byte{0x42}, std::byte{0},
                                std::byte{0}, std::byte{0},    std::byte{0}};
    CHECK(c.receive(junk, t(1)) == channel_errc::unknown_frame_type);
    expect_failure(c, channel_errc::unknown_frame_type);
  }
  SECTION("a HELLO resuming beyond what the server sent") {
    connect(c, s, t(0));
    pump(c, s, t(0));
    disconnect(c, s, t(1));
    drain(s);
    s.on_connected(t(2));
    s.receive(encode(hello_frame{id_of(1), 5, {}}), t(2));
    expect_failure(s, channel_errc::sequence_out_of_window);
  }
  SECTION("a WELCOME resuming a session the client did not ask for") {
    c.on_connected(t(0));
    c.poll_output(t(0));
    c.receive(encode(welcome_frame{id_of(7), true, 0, {}}), t(1));
    expect_failure(c, channel_errc::protocol_violation);
  }
  SECTION("a WELCOME with a zero session id") {
    c.on_connected(t(0));
    c.poll_output(t(0));
    c.receive(encode(welcome_frame{session_id{}, false, 0, {}}), t(1));
    expect_failure(c, channel_errc::invalid_frame_field);
  }
  SECTION("a server without an id source refuses new sessions") {
    session bare(session_role::server);
    bare.on_connected(t(0));
    bare.receive(encode(hello_frame{}), t(0));
    expect_failure(bare, channel_errc::invalid_state);
  }
}

TEST_CASE("a HELLO for another controller's session: session_not_owned, own session intact") {
  int ids = 0;
  session_settings ss = server_settings(&ids);
  ss.is_foreign_session = [](const session_id& id) { return id == id_of(99); };
  session c(session_role::client), s(session_role::server, ss);
  connect(c, s, t(0));
  pump(c, s, t(0));
  s.send(msg("for-c"), t(1));
  disconnect(c, s, t(2));
  drain(s);

  s.on_connected(t(3));
  CHECK(s.receive(encode(hello_frame{id_of(99), 0, {}}), t(3)) == channel_errc::session_not_owned);
  auto failed = only<events::connection_failed>(drain(s));
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].error == channel_errc::session_not_owned);
  s.on_disconnected(t(4));
  CHECK(s.id() == id_of(1));
  CHECK(s.replay_count() == 1);

  // The rightful client resumes as if nothing happened.
  connect(c, s, t(5));
  auto ev = pump(c, s, t(5));
  CHECK(only<events::established>(ev.client).at(0).resumed);
  CHECK(received(ev.client) == std::vector<std::string>{"for-c"});
}

TEST_CASE("CLOSE from the peer") {
  int ids = 0;
  session c(session_role::client), s(session_role::server, server_settings(&ids));
  connect(c, s, t(0));
  pump(c, s, t(0));
  drain(c);
  drain(s);

  SECTION("code 0 ends the session and returns the unacknowledged messages") {
    c.send(msg("never-acked"), t(1));
    c.poll_output(t(1));
    CHECK_FALSE(s.close(t(1)));
    auto close_bytes = copy(s.poll_output(t(1)));
    CHECK(close_bytes == encode(close_frame{0, ""}));
    CHECK(s.state() == session_state::closed);
    c.receive(close_bytes, t(2));
    CHECK(c.state() == session_state::closed);
    auto closed = only<events::closed>(drain(c));
    REQUIRE(closed.size() == 1);
    CHECK(closed[0].by_peer);
    CHECK_FALSE(closed[0].error);
    REQUIRE(closed[0].unacked.size() == 1);
    CHECK(closed[0].unacked_count == 1);
    CHECK(str(closed[0].unacked[0].payload) == "never-acked");
  }
  SECTION("an error code fails only the connection") {
    c.receive(encode(close_frame{8, "bad seq"}), t(1));
    CHECK(c.state() == session_state::closing);
    auto failed = only<events::connection_failed>(drain(c));
    REQUIRE(failed.size() == 1);
    CHECK(failed[0].by_peer);
    CHECK(failed[0].error == channel_errc::sequence_out_of_window);
    CHECK(c.poll_output(t(1)).empty()); // no CLOSE in answer to a CLOSE
    c.on_disconnected(t(2));
    CHECK(c.state() == session_state::disconnected);
  }
  SECTION("an unknown error code maps to closed_by_peer") {
    c.receive(encode(close_frame{999, ""}), t(1));
    auto failed = only<events::connection_failed>(drain(c));
    REQUIRE(failed.size() == 1);
    CHECK(failed[0].error == channel_errc::closed_by_peer);
  }
}

TEST_CASE("bytes after a connection failure are ignored") {
  int ids = 0;
  session c(session_role::client), s(session_role::server, server_settings(&ids));
  connect(c, s, t(0));
  pump(c, s, t(0));
  drain(s);
  std::vector<std::byte> p = msg("x");
  auto bad = encode(data_frame{5, p});
  auto good = encode(data_frame{0, p});
  bad.insert(bad.end(), good.begin(), good.end());
  s.receive(bad, t(1));
  auto ev = drain(s);
  CHECK(received(ev).empty());
  CHECK(s.next_expected_seq() == 0);
}

TEST_CASE("a rejected WELCOME leaves the client's session exactly as it was") {
  int ids = 0;
  session c(session_role::client), s(session_role::server, server_settings(&ids));
  connect(c, s, t(0));
  pump(c, s, t(0));
  c.send(msg("kept"), t(1));
  c.poll_output(t(1));
  disconnect(c, s, t(2));
  drain(c);

  c.on_connected(t(3));
  c.poll_output(t(3));
  // A new session must expect message 0.
  c.receive(encode(welcome_frame{id_of(5), false, 3, {}}), t(4));
  auto failed = only<events::connection_failed>(drain(c));
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].error == channel_errc::sequence_out_of_window);
  CHECK(c.id() == id_of(1));
  CHECK(c.replay_count() == 1);
  c.on_disconnected(t(5));

  // And the real server still resumes it.
  connect(c, s, t(6));
  auto ev = pump(c, s, t(6));
  CHECK(only<events::established>(ev.client).at(0).resumed);
  CHECK(received(ev.server) == std::vector<std::string>{"kept"});
}

TEST_CASE("poll_output hands out DATA in batches of about output_batch_bytes") {
  int ids = 0;
  session_settings cs;
  cs.output_batch_bytes = 100;
  session c(session_role::client, cs), s(session_role::server, server_settings(&ids));
  connect(c, s, t(0));
  pump(c, s, t(0));
  const std::vector<std::byte> p(40);
  for (int i = 0; i < 10; ++i)
    c.send(p, t(1));
  std::size_t frames = 0, polls = 0;
  for (auto out = copy(c.poll_output(t(1))); !out.empty(); out = copy(c.poll_output(t(1)))) {
    ++polls;
    // Stops before the frame that would cross the batch size: a caller whose write buffer
    // holds a batch (a firmware's TLS output) can always take the whole of it.
    CHECK(out.size() <= 100);
    frames += frame_types(out).size();
    s.receive(out, t(1));
  }
  CHECK(frames == 10);
  CHECK(polls == 10); // 54-byte frames: two would be 108 bytes

  // Two that fit go together; one larger than the batch goes alone.
  const std::vector<std::byte> small(20); // 34-byte frames
  for (int i = 0; i < 4; ++i)
    c.send(small, t(2));
  c.send(std::vector<std::byte>(150), t(2));
  std::vector<std::size_t> sizes;
  for (auto out = copy(c.poll_output(t(2))); !out.empty(); out = copy(c.poll_output(t(2)))) {
    sizes.push_back(out.size());
    s.receive(out, t(2));
  }
  CHECK(sizes == std::vector<std::size_t>{34 * 2, 34 * 2, 14 + 150});
  CHECK(only<events::message_received>(drain(s)).size() == 15);
}

TEST_CASE("state changes are reported in order") {
  int ids = 0;
  session c(session_role::client), s(session_role::server, server_settings(&ids));
  connect(c, s, t(0));
  s.receive(copy(c.poll_output(t(0))), t(0));
  c.receive(copy(s.poll_output(t(0))), t(0));
  c.on_disconnected(t(1));
  c.on_connected(t(2));
  c.handle_deadline(t(2) + 10s); // handshake timeout
  c.on_disconnected(t(20000));
  c.close(t(20001));
  std::vector<session_state> to;
  for (auto& sc : only<events::state_changed>(drain(c)))
    to.push_back(sc.to);
  CHECK(to == std::vector<session_state>{session_state::handshaking, session_state::established,
                                         session_state::disconnected, session_state::handshaking,
                                         session_state::closing, session_state::disconnected,
                                         session_state::closed});
  CHECK(to_string(session_state::closing) == "closing");
}

// The replay buffer is a core::fixed_ring that starts without room, doubles when full and gives
// a large block back once emptied: order must survive its wrap and every growth.
TEST_CASE("the replay buffer keeps its order across wrap and growth: resent, reset and closed") {
  int ids = 0;
  session c(session_role::client), s(session_role::server, server_settings(&ids));
  handshake(c, s, t(0));
  // Three sent and acknowledged: the ring's head is no longer at the start of its block.
  for (int i = 0; i < 3; ++i)
    c.send(msg("early-" + std::to_string(i)), t(1));
  pump(c, s, t(1));
  s.handle_deadline(t(30)); // ACK delay
  pump(c, s, t(30));
  REQUIRE(c.replay_count() == 0);
  drain(s);

  // 130 more while offline: they wrap around the first block, then grow it several times.
  disconnect(c, s, t(31));
  std::vector<std::string> sent;
  for (int i = 0; i < 130; ++i) {
    sent.push_back("m" + std::to_string(i));
    CHECK(c.send(msg(sent.back()), t(32)).seq == static_cast<std::uint64_t>(3 + i));
  }
  CHECK(c.replay_count() == 130);

  SECTION("resent in order on the next connection, then acknowledged") {
    connect(c, s, t(40));
    auto ev = pump(c, s, t(40));
    CHECK(received(ev.server) == sent);
    s.handle_deadline(t(70));
    pump(c, s, t(70));
    CHECK(c.replay_count() == 0);
    CHECK(c.next_unacked_seq() == 133);
    // The ring gave its large block back; it grows again from nothing.
    CHECK(c.send(msg("after"), t(71)).seq == 133);
    CHECK(received(pump(c, s, t(71)).server) == std::vector<std::string>{"after"});
  }
  SECTION("a server that lost the session: reported in order with the reset") {
    session fresh(session_role::server, server_settings(&ids));
    connect(c, fresh, t(40));
    auto ev = pump(c, fresh, t(40));
    auto resets = only<events::session_reset>(ev.client);
    REQUIRE(resets.size() == 1);
    REQUIRE(resets[0].unacked.size() == 130);
    CHECK(resets[0].unacked_count == 130);
    for (std::size_t i = 0; i < 130; ++i) {
      CHECK(resets[0].unacked[i].seq == 3 + i);
      CHECK(str(resets[0].unacked[i].payload) == sent[i]);
    }
    CHECK(c.replay_count() == 0);
    CHECK(c.replay_bytes() == 0);
  }
  SECTION("closed: every message in order with the closed event") {
    REQUIRE_FALSE(c.close(t(40)));
    auto closed = only<events::closed>(drain(c));
    REQUIRE(closed.size() == 1);
    REQUIRE(closed[0].unacked.size() == 130);
    CHECK(closed[0].unacked_count == 130);
    for (std::size_t i = 0; i < 130; ++i)
      CHECK(str(closed[0].unacked[i].payload) == sent[i]);
    CHECK(c.replay_count() == 0);
  }
}

TEST_CASE("a burst of events beyond the event ring's room is kept whole and in order") {
  int ids = 0;
  session c(session_role::client), s(session_role::server, server_settings(&ids));
  handshake(c, s, t(0));
  drain(s);
  std::vector<std::string> sent;
  for (int i = 0; i < 200; ++i) {
    sent.push_back("e" + std::to_string(i));
    c.send(msg(sent.back()), t(1));
  }
  // One receive() decodes all of them: 200 events wait in the ring before the first is polled.
  std::vector<std::byte> bytes;
  for (;;) {
    auto out = c.poll_output(t(1));
    if (out.empty()) break;
    bytes.insert(bytes.end(), out.begin(), out.end());
  }
  REQUIRE_FALSE(s.receive(bytes, t(2)));
  CHECK(received(drain(s)) == sent);
  CHECK_FALSE(s.poll_event());
}
