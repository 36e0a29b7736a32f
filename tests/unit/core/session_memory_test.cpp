// A session with session_memory::reserve and message_delivery::view (a firmware accessory's)
// allocates nothing once it exists: every operator new of this executable is counted while
// the server session runs, through a handshake, messages of every size both ways (its replay
// ring wrapping), keep-alives, acknowledgements, held messages, and resumes.
#include "lanyard/core/session.hpp"

#include "lanyard/core/channel_error.hpp"

#include "support/view_pair.hpp"

#include <catch2/catch.hpp>

#include "support/counting_new.hpp"

#include <cstdlib>
#include <new>
#include <optional>
#include <string>

using lanyard::test::alloc_count::allocations;
using lanyard::test::alloc_count::counting;

using namespace lanyard::core;
using namespace lanyard::test::session_support;

TEST_CASE("a reserved session that delivers views allocates nothing once it exists") {
  int ids = 0;
  view_pair p(&ids);
  std::size_t calls = 0;
  p.enter = [&] {
    ++calls;
    counting = true;
  };
  p.leave = [] { counting = false; };
  auto server_send = [&](const std::string& text, tp now) {
    const std::vector<std::byte> payload = msg(text);
    counting = true;
    const auto r = p.server.send(payload, now);
    counting = false;
    return r;
  };
  auto tick = [&](std::int64_t at) {
    p.client.handle_deadline(t(at));
    counting = true;
    p.server.handle_deadline(t(at));
    counting = false;
    p.pump(t(at));
  };

  p.connect(t(0));
  std::int64_t now = 1;
  for (int k = 0; k < 200; ++k, ++now) {
    const std::size_t n = static_cast<std::size_t>((k * 613) % 4097);
    REQUIRE_FALSE(p.client.send(msg(std::string(n, 'c')), t(now)).error);
    while (server_send(std::string(4096 - n, 's'), t(now)).error == channel_errc::buffer_full) {
      now += 25;
      tick(now);
    }
    p.pump(t(now));
    // Keep-alives now and then: PING, PONG, RTT samples.
    if (k % 40 == 0) {
      now += 6000;
      tick(now);
    }
  }
  // A resume with unacknowledged messages both ways and a message held unread.
  p.consume = false;
  REQUIRE_FALSE(p.client.send(msg("held"), t(now)).error);
  REQUIRE_FALSE(p.client.send(msg("next"), t(now)).error);
  REQUIRE_FALSE(server_send("unacked", t(now)).error);
  p.pump(t(now));
  REQUIRE(p.server.holding_message());
  p.disconnect(t(now + 1));
  REQUIRE_FALSE(server_send("while away", t(now + 2)).error);
  p.consume = true;
  p.connect(t(now + 3));
  tick(now + 100);
  // A connection failure and its CLOSE frame (a frame the server refuses), then a resume.
  const std::vector<std::byte> bogus = encode(hello_frame{});
  counting = true;
  const auto r = p.server.receive_some(bogus, t(now + 200));
  counting = false;
  CHECK(r.error == channel_errc::protocol_violation);
  counting = true;
  (void)p.server.poll_output(t(now + 200));
  while (p.server.poll_event()) {
  }
  p.server.on_disconnected(t(now + 200));
  counting = false;
  p.client.on_disconnected(t(now + 200));
  p.wire.clear();
  p.connect(t(now + 201));
  tick(now + 300);

  CHECK(p.at_server.size() == 200 + 3); // "held" was shown twice: before and after the resume
  CHECK(p.at_client.size() == 200 + 2);
  CHECK(calls > 1000);
  CHECK(allocations == 0);
}

TEST_CASE("a restarted session is a new one, and it allocates nothing for it") {
  allocations = 0;
  int ids = 0;
  view_pair p(&ids);
  p.enter = [] { counting = true; };
  p.leave = [] { counting = false; };
  p.connect(t(0));
  for (int k = 0; k < 20; ++k)
    REQUIRE_FALSE(p.client.send(msg("to the first " + std::to_string(k)), t(1)).error);
  REQUIRE_FALSE(p.server.send(msg("unacknowledged"), t(1)).error);
  p.consume = false;
  p.pump(t(1));
  REQUIRE(p.server.holding_message());
  const session_id first_id = p.server.id();
  REQUIRE_FALSE(first_id.is_zero());

  // The slot goes to another controller: its session starts again, keeping its buffers.
  counting = true;
  p.server.restart();
  counting = false;
  CHECK(allocations == 0);
  CHECK(p.server.state() == session_state::disconnected);
  CHECK(p.server.id().is_zero());
  CHECK(p.server.next_send_seq() == 0);
  CHECK(p.server.next_expected_seq() == 0);
  CHECK(p.server.replay_count() == 0);
  CHECK(p.server.replay_bytes() == 0);
  CHECK_FALSE(p.server.holding_message());
  CHECK_FALSE(p.server.poll_event());
  CHECK(p.server.memory_reserved());
  CHECK(p.server.settings().memory == session_memory::reserve);

  // A new controller's client: a new session, numbered from 0, messages both ways.
  p.client = session(session_role::client, {});
  p.wire.clear();
  p.at_server.clear();
  p.at_client.clear();
  p.consume = true;
  p.connect(t(10));
  CHECK(p.server.state() == session_state::established);
  CHECK(p.server.id() != first_id);
  REQUIRE_FALSE(p.client.send(msg("to the second"), t(11)).error);
  const std::vector<std::byte> reply = msg("from the second");
  counting = true;
  const auto sent = p.server.send(reply, t(11));
  counting = false;
  REQUIRE_FALSE(sent.error);
  CHECK(sent.seq == 0);
  p.pump(t(11));
  CHECK(p.at_server == std::vector<std::string>{"to the second"});
  CHECK(p.at_client == std::vector<std::string>{"from the second"});
  CHECK(allocations == 0);
}

TEST_CASE("a session that cannot reserve its memory says so instead of terminating") {
  int ids = 0;
  lanyard::test::alloc_count::nothrow_fails = true;
  const session s(session_role::server, view_server_settings(&ids));
  lanyard::test::alloc_count::nothrow_fails = false;
  CHECK_FALSE(s.memory_reserved());
  // A session that grows reserves nothing up front, so it has nothing to report.
  session_settings grown = view_server_settings(&ids);
  grown.memory = session_memory::grow;
  grown.delivery = message_delivery::copy;
  lanyard::test::alloc_count::nothrow_fails = true;
  const session g(session_role::server, grown);
  lanyard::test::alloc_count::nothrow_fails = false;
  CHECK(g.memory_reserved());
}

TEST_CASE("a session's end by the peer and a reset count their unacknowledged messages, "
          "allocating nothing") {
  allocations = 0;
  int ids = 0;
  view_pair p(&ids);
  p.enter = [] { counting = true; };
  p.leave = [] { counting = false; };
  p.connect(t(0));
  // Unacknowledged on the server's side: the client takes them but does not acknowledge yet.
  for (int k = 0; k < 3; ++k) {
    const std::vector<std::byte> m = msg("unacked " + std::to_string(k));
    counting = true;
    REQUIRE_FALSE(p.server.send(m, t(1)).error);
    counting = false;
  }
  REQUIRE(p.server.replay_count() == 3);
  // The client ends the session for good: CLOSE with code 0, then the server reads it.
  p.client.close(t(2));
  std::vector<std::byte> from_client;
  for (auto out = p.client.poll_output(t(2)); !out.empty(); out = p.client.poll_output(t(2)))
    from_client.insert(from_client.end(), out.begin(), out.end());
  counting = true;
  (void)p.server.receive_some(from_client, t(2));
  std::optional<events::closed> closed;
  while (auto ev = p.server.poll_event())
    if (auto* c = std::get_if<events::closed>(&*ev)) closed = std::move(*c);
  counting = false;
  REQUIRE(closed);
  CHECK(closed->by_peer);
  CHECK(closed->unacked_count == 3);
  CHECK(closed->unacked.empty());
  CHECK(p.server.replay_count() == 0);
  CHECK(allocations == 0);
}
