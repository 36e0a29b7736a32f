// message_delivery::view: the session hands out each received message as a view of its own
// frame buffer and reads no further until the application took it, so the sender's window is
// the queue (a firmware's back-pressure, docs/PROTOCOL.md § 3.1). Literal timestamps.
#include "lanyard/core/session.hpp"

#include "lanyard/core/channel_error.hpp"

#include "support/view_pair.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace lanyard::core;
using namespace lanyard::test::session_support;

namespace {

// A payload whose bytes say which message it is: a mix-up or a torn copy shows.
std::string patterned(std::size_t n, int which) {
  std::string s(n, '\0');
  for (std::size_t k = 0; k < n; ++k)
    s[k] = static_cast<char>('a' + (static_cast<std::size_t>(which) * 7 + k) % 26);
  return s;
}

} // namespace

TEST_CASE("view: one message at a time; the next waits until the application took it") {
  int ids = 0;
  view_pair p(&ids);
  p.connect(t(0));
  REQUIRE(p.server.state() == session_state::established);
  CHECK(p.server.receive(msg("x"), t(0)) == channel_errc::invalid_state); // views: receive_some

  p.consume = false;
  for (const char* m : {"a", "b", "c"})
    REQUIRE_FALSE(p.client.send(msg(m), t(1)).error);
  p.pump(t(1));
  CHECK(p.at_server == std::vector<std::string>{"a"});
  CHECK(p.server.holding_message());
  CHECK(p.server.input_wanted() == 0);
  CHECK_FALSE(p.wire.empty()); // "b" and "c" wait on the wire
  CHECK(p.server.receive_some(p.wire, t(1)).taken == 0);
  CHECK(p.server.next_expected_seq() == 1);
  CHECK(p.client.next_unacked_seq() == 0); // nothing acknowledged: the view is not taken

  REQUIRE_FALSE(p.server.consume(0, 1, t(2)));
  CHECK_FALSE(p.server.holding_message());
  CHECK(p.server.input_wanted() == frame_header_size);
  p.pump(t(2));
  CHECK(p.at_server == std::vector<std::string>{"a", "b"});
  p.consume = true;
  REQUIRE_FALSE(p.server.consume(1, 1, t(3)));
  p.pump(t(3));
  CHECK(p.at_server == std::vector<std::string>{"a", "b", "c"});
  p.server.handle_deadline(t(100)); // the delayed ACK
  p.pump(t(100));
  CHECK(p.client.next_unacked_seq() == 3);
}

TEST_CASE("view: a service's message is taken by the session; input goes on at the next call") {
  int ids = 0;
  view_pair p(&ids);
  p.connect(t(0));
  REQUIRE_FALSE(p.client.send(msg("wifi"), t(1), message_kind::provisioning).error);
  REQUIRE_FALSE(p.client.send(msg("app"), t(1)).error);
  p.pump(t(1));
  CHECK(p.services_at_server == std::vector<std::string>{"wifi"});
  CHECK(p.at_server == std::vector<std::string>{"app"});
  CHECK(p.server.next_unconsumed_seq() == 2);
}

TEST_CASE("view: a message not taken when the connection ends comes again after the resume") {
  int ids = 0;
  view_pair p(&ids);
  p.connect(t(0));
  REQUIRE_FALSE(p.client.send(msg("taken"), t(1)).error);
  p.pump(t(1));
  p.consume = false;
  REQUIRE_FALSE(p.client.send(msg("held"), t(2)).error);
  REQUIRE_FALSE(p.client.send(msg("after"), t(2)).error);
  p.pump(t(2));
  CHECK(p.at_server == std::vector<std::string>{"taken", "held"});
  REQUIRE(p.server.holding_message());

  // Its view pointed into the frame buffer the next connection reuses: the session gives it
  // back (never acknowledged) and the client resends it after the handshake.
  p.disconnect(t(3));
  CHECK_FALSE(p.server.holding_message());
  CHECK(p.server.next_expected_seq() == 1);
  p.consume = true;
  p.connect(t(4));
  CHECK(p.at_server == std::vector<std::string>{"taken", "held", "held", "after"});
  // Taken once each: the client's replay buffer empties, and nothing comes again on the next
  // resume.
  p.server.handle_deadline(t(100));
  p.pump(t(100));
  CHECK(p.client.next_unacked_seq() == 3);
  p.disconnect(t(200));
  p.connect(t(201));
  CHECK(p.at_server.size() == 4);
  CHECK(only<events::established>(drain(p.client)).empty()); // drained by pump already
  CHECK(p.client.state() == session_state::established);
}

TEST_CASE("view: large messages both ways through a wrapping replay buffer, in order, intact") {
  int ids = 0;
  view_pair p(&ids);
  p.connect(t(0));
  std::vector<std::string> to_server, to_client;
  std::int64_t now = 1;
  for (int k = 0; k < 60; ++k, ++now) {
    // Sizes up to the 4 KiB maximum, so the 16 KiB replay ring wraps mid-message.
    const std::size_t n = static_cast<std::size_t>((k * 997) % 4097);
    to_server.push_back(patterned(n, k));
    to_client.push_back(patterned(4096 - n, k + 1000));
    REQUIRE_FALSE(p.client.send(msg(to_server.back()), t(now)).error);
    // The server's replay buffer fills: wait for acknowledgements as a sender must.
    while (p.server.send(msg(to_client.back()), t(now)).error == channel_errc::buffer_full) {
      p.client.handle_deadline(t(now + 50));
      p.server.handle_deadline(t(now + 50));
      p.pump(t(now + 50));
      now += 50;
    }
    p.pump(t(now));
  }
  p.client.handle_deadline(t(now + 50));
  p.server.handle_deadline(t(now + 50));
  p.pump(t(now + 50));
  CHECK(p.at_server == to_server);
  CHECK(p.at_client == to_client);
}
