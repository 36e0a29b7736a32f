// HELLO and WELCOME carry what their sender accepts (docs/PROTOCOL.md § 3.3): its largest
// message and its window. Two ends configured differently (a phone with the defaults, a
// firmware accessory with kilobytes) then still agree: each sends within the other's limits.
// Literal timestamps throughout.
#include "lanyard/core/session.hpp"

#include "lanyard/core/channel_error.hpp"
#include "lanyard/core/frame.hpp"

#include "support/session_pair.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

using namespace lanyard::core;
using namespace lanyard::test::session_support;

namespace {

constexpr std::size_t cost(std::size_t payload) {
  return payload + replay_overhead_per_message;
}

// A firmware accessory's profile: small messages, a window of four of them.
constexpr std::size_t small_message = 1000;
constexpr std::size_t small_window = 4 * cost(small_message);

session_settings firmware_server(int* ids) {
  session_settings s = server_settings(ids);
  s.max_message_size = small_message;
  s.max_replay_bytes = small_window;
  return s;
}

} // namespace

TEST_CASE("limits: each end announces its own in HELLO and WELCOME and learns the peer's") {
  int ids = 0;
  session c(session_role::client), s(session_role::server, firmware_server(&ids));
  // Before any handshake the peer is taken to be configured alike.
  CHECK(c.peer_limits() == c.own_limits());
  CHECK(c.own_limits() == receive_limits{64 * 1024, 1024 * 1024});
  handshake(c, s, t(0));
  CHECK(c.peer_limits() == receive_limits{small_message, small_window});
  CHECK(s.peer_limits() == receive_limits{64 * 1024, 1024 * 1024});
}

TEST_CASE("limits: a message larger than the peer's maximum is refused by send()") {
  int ids = 0;
  session c(session_role::client), s(session_role::server, firmware_server(&ids));
  handshake(c, s, t(0));
  const std::vector<std::byte> fits(small_message), too_big(small_message + 1);
  CHECK(c.send(too_big, t(1)).error == channel_errc::message_too_large);
  CHECK_FALSE(c.send(fits, t(1)).error);
  auto ev = pump(c, s, t(1));
  CHECK(only<events::message_received>(ev.server).size() == 1);
  CHECK(only<events::connection_failed>(ev.server).empty());
}

TEST_CASE("limits: a message queued before the peer was known and too large for it fails the "
          "connection, and stays in the session") {
  int ids = 0;
  session c(session_role::client), s(session_role::server, firmware_server(&ids));
  const std::vector<std::byte> big(4000);
  REQUIRE_FALSE(c.send(big, t(0)).error); // the client's own limit is 64 KiB
  connect(c, s, t(0));
  auto ev = pump(c, s, t(0));
  auto failed = only<events::connection_failed>(ev.client);
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].error == channel_errc::message_too_large);
  CHECK(c.replay_count() == 1);
  // Nothing of it reached the accessory: the client's CLOSE came instead.
  CHECK(only<events::message_received>(ev.server).empty());
}

TEST_CASE("limits: a window that cannot hold one message of the announced maximum is refused") {
  int ids = 0;
  SECTION("in a HELLO") {
    session s(session_role::server, server_settings(&ids));
    REQUIRE_FALSE(s.on_connected(t(0)));
    std::vector<std::byte> wire;
    encode_frame(hello_frame{{}, 0, {1000, 1000}}, wire);
    s.receive(wire, t(0));
    auto failed = only<events::connection_failed>(drain(s));
    REQUIRE(failed.size() == 1);
    CHECK(failed[0].error == channel_errc::invalid_frame_field);
  }
  SECTION("in a WELCOME") {
    session c(session_role::client);
    REQUIRE_FALSE(c.on_connected(t(0)));
    c.poll_output(t(0)); // the HELLO
    std::vector<std::byte> wire;
    encode_frame(welcome_frame{id_of(1), false, 0, {100, 100 + replay_overhead_per_message - 1}},
                 wire);
    c.receive(wire, t(0));
    auto failed = only<events::connection_failed>(drain(c));
    REQUIRE(failed.size() == 1);
    CHECK(failed[0].error == channel_errc::invalid_frame_field);
    CHECK(c.peer_limits() == c.own_limits()); // nothing adopted
  }
}

TEST_CASE("limits: a sender keeps to the peer's window under on_receipt too, and the receiver "
          "acknowledges by a quarter of the smaller window") {
  int ids = 0;
  // The small end is the client here; the server keeps the defaults (1 MiB, whose quarter
  // alone would wait for 16 messages or the ack delay).
  session_settings cs;
  cs.max_message_size = small_message;
  cs.max_replay_bytes = small_window;
  session c(session_role::client, cs), s(session_role::server, server_settings(&ids));
  handshake(c, s, t(0));
  const std::vector<std::byte> m(small_message);
  // A quarter of the client's window is one message: the server acknowledges each at once,
  // within the same pump, with no deadline passing.
  for (int i = 0; i < 3; ++i)
    REQUIRE_FALSE(c.send(m, t(1)).error);
  auto ev = pump(c, s, t(1));
  CHECK(only<events::message_received>(ev.server).size() == 3);
  CHECK(c.replay_count() == 0);

  // The server's messages to the client keep to the client's window: 4 of 6 go out at once.
  for (int i = 0; i < 6; ++i)
    REQUIRE_FALSE(s.send(m, t(2)).error);
  const auto out = s.poll_output(t(2));
  std::size_t data = 0;
  for (frame_type f : frame_types(out))
    data += f == frame_type::data;
  CHECK(data == 4);
  CHECK(s.in_flight_bytes() == small_window);
  // The client acknowledges as they arrive; all six arrive in order.
  std::vector<std::byte> first(out.begin(), out.end());
  c.receive(first, t(2));
  ev = pump(c, s, t(2));
  CHECK(only<events::message_received>(drain(c)).size() +
            only<events::message_received>(ev.client).size() ==
        6);
  CHECK(s.replay_count() == 0);
}
