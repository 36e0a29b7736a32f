// A client session (the app's: copies, grown buffers) against a server session that delivers
// views (message_delivery::view) with reserved memory, as a firmware accessory runs it: bytes
// the server does not take wait on the wire, its application consumes on demand.
#pragma once

#include "support/session_pair.hpp"

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace lanyard::test::session_support {

// The firmware profile's numbers: 16 KiB window and replay buffer, 4 KiB messages.
inline session_settings view_server_settings(int* ids) {
  session_settings s = server_settings(ids);
  s.max_replay_bytes = 16 * 1024;
  s.max_message_size = 4 * 1024;
  s.output_batch_bytes = 4 * 1024;
  s.memory = session_memory::reserve;
  s.delivery = message_delivery::view;
  s.unacked = unacked_report::count;
  return s;
}

struct view_pair {
  session client;
  session server;
  // Client → server bytes the server has not taken yet (what a socket would hold).
  std::vector<std::byte> wire;
  std::vector<std::byte> back;
  // What the server's application received, and the client's.
  std::vector<std::string> at_server;
  std::vector<std::string> at_client;
  std::vector<std::string> services_at_server;
  // False: the server's application leaves its message unconsumed (a slow reader).
  bool consume = true;
  // Around every call into the server (a test counting its allocations sets these).
  std::function<void()> enter = [] {};
  std::function<void()> leave = [] {};

  view_pair(int* ids, session_settings client_settings = {})
      : client(session_role::client, std::move(client_settings)),
        server(session_role::server, view_server_settings(ids)) {}

  void drain_server(tp now) {
    for (;;) {
      enter();
      auto ev = server.poll_event();
      leave();
      if (!ev) return;
      auto* m = std::get_if<events::message_view>(&*ev);
      if (!m) continue;
      const std::string text(reinterpret_cast<const char*>(m->payload.data()), m->payload.size());
      if (m->kind != message_kind::application) {
        services_at_server.push_back(text);
        continue;
      }
      at_server.push_back(text);
      if (!consume) continue;
      enter();
      const std::error_code ec = server.consume(m->seq, m->payload.size(), now);
      leave();
      REQUIRE_FALSE(ec);
    }
  }

  // Moves bytes both ways until nothing moves.
  void pump(tp now) {
    for (int round = 0; round < 10000; ++round) {
      const auto out = client.poll_output(now);
      wire.insert(wire.end(), out.begin(), out.end());
      enter();
      const session::receive_result r = server.receive_some(wire, now);
      leave();
      wire.erase(wire.begin(), wire.begin() + static_cast<std::ptrdiff_t>(r.taken));
      drain_server(now);
      enter();
      const auto from_server = server.poll_output(now);
      leave();
      back.assign(from_server.begin(), from_server.end());
      if (!back.empty()) client.receive(back, now);
      for (auto& e : drain(client))
        if (auto* m = std::get_if<events::message_received>(&e))
          at_client.push_back(str(m->payload));
      if (out.empty() && r.taken == 0 && back.empty()) return;
    }
    FAIL("the sessions never went quiet");
  }

  void connect(tp now) {
    REQUIRE_FALSE(client.on_connected(now));
    enter();
    const std::error_code ec = server.on_connected(now);
    leave();
    REQUIRE_FALSE(ec);
    pump(now);
  }

  void disconnect(tp now) {
    wire.clear();
    client.on_disconnected(now);
    enter();
    server.on_disconnected(now);
    leave();
    drain(client);
  }
};

} // namespace lanyard::test::session_support
