// Service messages (CONTROL frames, docs/PROTOCOL.md § 4.8): numbered with the application's
// DATA, delivered exactly once and in order as events::control_received, never as an
// application message, and taken by the session itself under ack_policy::on_consume.
// Literal timestamps throughout.
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

// What arrived, in order, as "app:TEXT" or "provisioning:TEXT" / "administration:TEXT".
std::vector<std::string> arrivals(const std::vector<session_event>& evs) {
  std::vector<std::string> out;
  for (const auto& e : evs) {
    if (auto* m = std::get_if<events::message_received>(&e))
      out.push_back("app:" + str(m->payload));
    if (auto* c = std::get_if<events::control_received>(&e))
      out.push_back(std::string(to_string(c->kind)) + ":" + str(c->payload));
  }
  return out;
}

session_settings consuming(session_settings s) {
  s.acknowledge = ack_policy::on_consume;
  return s;
}

} // namespace

TEST_CASE("a service message travels as CONTROL, numbered and ordered with the application's") {
  int ids = 0;
  session c(session_role::client), s(session_role::server, server_settings(&ids));
  handshake(c, s, t(0));

  CHECK(c.send(msg("a"), t(1)).seq == 0);
  const auto prov = c.send(msg("v1 wifi_set"), t(1), message_kind::provisioning);
  REQUIRE_FALSE(prov.error);
  CHECK(prov.seq == 1);
  CHECK(c.send(msg("b"), t(1)).seq == 2);
  CHECK(c.send(msg("v1 controllers"), t(1), message_kind::administration).seq == 3);

  const auto out = copy(c.poll_output(t(1)));
  CHECK(frame_types(out) == std::vector<frame_type>{frame_type::data, frame_type::control,
                                                    frame_type::data, frame_type::control});
  REQUIRE_FALSE(s.receive(out, t(2)));
  const auto evs = drain(s);
  CHECK(arrivals(evs) == std::vector<std::string>{"app:a", "provisioning:v1 wifi_set", "app:b",
                                                  "administration:v1 controllers"});
  // The application's messages alone: a service's never reaches it as one.
  CHECK(received(evs) == std::vector<std::string>{"a", "b"});
  const auto control = only<events::control_received>(evs);
  REQUIRE(control.size() == 2);
  CHECK(control[0].seq == 1);
  CHECK(control[1].seq == 3);

  // Acknowledged alike: one cumulative ACK covers both kinds.
  s.handle_deadline(t(100));
  pump(c, s, t(100));
  CHECK(c.replay_count() == 0);
  CHECK(c.next_unacked_seq() == 4);
}

TEST_CASE("an unacknowledged service message is resent as CONTROL after a resume, once") {
  int ids = 0;
  session c(session_role::client), s(session_role::server, server_settings(&ids));
  handshake(c, s, t(0));
  c.send(msg("v1 wifi_set"), t(1), message_kind::provisioning);
  c.poll_output(t(1)); // written to a connection that dies before it arrives
  disconnect(c, s, t(2));

  connect(c, s, t(10));
  auto ev = pump(c, s, t(10));
  CHECK(arrivals(ev.server) == std::vector<std::string>{"provisioning:v1 wifi_set"});
  s.handle_deadline(t(100));
  pump(c, s, t(100));
  CHECK(c.replay_count() == 0);
  // A second resume resends nothing: it was acknowledged.
  disconnect(c, s, t(200));
  connect(c, s, t(210));
  ev = pump(c, s, t(210));
  CHECK(arrivals(ev.server).empty());
}

TEST_CASE("a session reset returns unacknowledged service messages with their kind") {
  int ids = 0;
  session c(session_role::client);
  auto s = std::make_unique<session>(session_role::server, server_settings(&ids));
  handshake(c, *s, t(0));
  c.send(msg("a"), t(1));
  pump(c, *s, t(1)); // traffic in the session, not acknowledged yet
  c.send(msg("v1 wifi_set"), t(2), message_kind::provisioning);
  c.on_disconnected(t(3));
  s = std::make_unique<session>(session_role::server, server_settings(&ids));
  connect(c, *s, t(4));
  auto ev = pump(c, *s, t(4));
  const auto resets = only<events::session_reset>(ev.client);
  REQUIRE(resets.size() == 1);
  REQUIRE(resets[0].unacked.size() == 2);
  CHECK(resets[0].unacked[0].kind == message_kind::application);
  CHECK(resets[0].unacked[1].kind == message_kind::provisioning);
  CHECK(str(resets[0].unacked[1].payload) == "v1 wifi_set");
}

TEST_CASE("on_consume: the session takes a service message itself, after what the application "
          "has not taken yet") {
  int ids = 0;
  session c(session_role::client), s(session_role::server, consuming(server_settings(&ids)));
  handshake(c, s, t(0));

  SECTION("first in line: taken at once, without the application") {
    c.send(msg("v1 controllers"), t(1), message_kind::administration);
    auto ev = pump(c, s, t(1));
    CHECK(arrivals(ev.server) == std::vector<std::string>{"administration:v1 controllers"});
    CHECK(s.next_unconsumed_seq() == 1);
    CHECK(s.unconsumed_bytes() == 0);
    s.handle_deadline(t(100));
    pump(c, s, t(100));
    CHECK(c.replay_count() == 0);
  }

  SECTION("behind unread messages: taken with the last of them") {
    c.send(msg("a"), t(1));
    c.send(msg("b"), t(1));
    c.send(msg("v1 wifi_set"), t(1), message_kind::provisioning);
    c.send(msg("v1 controllers"), t(1), message_kind::administration);
    c.send(msg("c"), t(1));
    auto ev = pump(c, s, t(1));
    CHECK(arrivals(ev.server) ==
          std::vector<std::string>{"app:a", "app:b", "provisioning:v1 wifi_set",
                                   "administration:v1 controllers", "app:c"});
    CHECK(s.next_unconsumed_seq() == 0);
    REQUIRE_FALSE(s.consume(0, 1, t(2)));
    CHECK(s.next_unconsumed_seq() == 1);
    // The application's next is "c" (seq 4): the two service messages go with "b".
    CHECK(s.consume(2, 11, t(2)) == channel_errc::invalid_state);
    REQUIRE_FALSE(s.consume(1, 1, t(2)));
    CHECK(s.next_unconsumed_seq() == 4);
    REQUIRE_FALSE(s.consume(4, 1, t(3)));
    CHECK(s.unconsumed_bytes() == 0);
    s.handle_deadline(t(100));
    pump(c, s, t(100));
    CHECK(c.replay_count() == 0);
  }

  SECTION("held across a resume: the resend is skipped, not delivered twice") {
    c.send(msg("a"), t(1));
    c.send(msg("v1 wifi_set"), t(1), message_kind::provisioning);
    auto ev = pump(c, s, t(1));
    REQUIRE(arrivals(ev.server).size() == 2);
    disconnect(c, s, t(2));
    connect(c, s, t(10));
    ev = pump(c, s, t(10));
    CHECK(arrivals(ev.server).empty());
    CHECK(s.state() == session_state::established);
    REQUIRE_FALSE(s.consume(0, 1, t(11)));
    CHECK(s.next_unconsumed_seq() == 2);
    s.handle_deadline(t(100));
    pump(c, s, t(100));
    CHECK(c.replay_count() == 0);
  }
}

TEST_CASE("a service message counts against the window like any other") {
  int ids = 0;
  session_settings ss = consuming(server_settings(&ids));
  ss.max_message_size = 100;
  ss.max_replay_bytes = 2 * (100 + replay_overhead_per_message);
  session_settings cs;
  cs.max_message_size = 100;
  cs.max_replay_bytes = 1 << 20;
  session c(session_role::client, cs), s(session_role::server, ss);
  handshake(c, s, t(0));
  const std::vector<std::byte> m(100);
  c.send(m, t(1));
  c.send(m, t(1), message_kind::provisioning);
  c.send(m, t(1), message_kind::administration); // beyond the receiver's window
  auto ev = pump(c, s, t(1));
  // The sender keeps to the window the WELCOME announced: the third waits (PROTOCOL.md § 3.3).
  CHECK(arrivals(ev.server).size() == 2);
  CHECK(only<events::connection_failed>(ev.server).empty());
  CHECK(c.in_flight_bytes() == ss.max_replay_bytes);
  // The application takes the first; the session takes the service message behind it; the
  // ACK opens the window for the third.
  REQUIRE_FALSE(s.consume(0, m.size(), t(2)));
  s.handle_deadline(t(30));
  ev = pump(c, s, t(30));
  CHECK(arrivals(ev.server).size() == 1);
  CHECK(only<events::connection_failed>(ev.server).empty());
}

TEST_CASE("send() refuses a kind no peer would accept") {
  session c(session_role::client);
  const auto r = c.send(msg("x"), t(0), static_cast<message_kind>(4));
  CHECK(r.error == channel_errc::invalid_frame_field);
  CHECK(c.replay_count() == 0);
  CHECK(c.next_send_seq() == 0);
}

TEST_CASE("a CONTROL frame before the handshake is a protocol violation") {
  int ids = 0;
  session s(session_role::server, server_settings(&ids));
  REQUIRE_FALSE(s.on_connected(t(0)));
  CHECK(s.receive(encode(control_frame{0, message_kind::provisioning, msg("v1 wifi_set")}), t(0)) ==
        channel_errc::protocol_violation);
}
