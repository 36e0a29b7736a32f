// libFuzzer target for the channel session: arbitrary bytes from a (malicious) peer go into a
// session's receive(), never a crash, and these properties hold (a violated property aborts):
//   - messages, the application's and the services' (CONTROL), are delivered in order, each
//     sequence number once (per session id);
//   - acknowledgements only move forward and never beyond what was sent;
//   - a failed connection reports a connection error and nothing more is accepted on it, but
//     the session survives: the target reconnects and keeps feeding the rest of the input;
//   - everything the session writes decodes as valid frames;
//   - the replay buffer stays within its bound.
//
// Input: byte 0 picks the role and starting point (fresh server, a server with an established
// session id 0x11.. and queued messages, a client waiting for WELCOME, or a firmware's server:
// reserved memory and messages as views, taken through receive_some() and consumed now or
// later); byte 1 seeds chunk sizes; the rest is the byte stream from the peer. In the view
// mode also: receive_some() takes no more than offered, nothing while a message is held, and
// a held message the session gives back on a failed connection comes again with its number.
#include <lanyard/core/session.hpp>

#include <lanyard/core/channel_error.hpp>
#include <lanyard/core/frame_decoder.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

using namespace lanyard::core;
using namespace std::chrono_literals;

#define SESSION_FUZZ_CHECK(cond)                                                                   \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      std::fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond);             \
      std::abort();                                                                                \
    }                                                                                              \
  } while (false)

namespace {

session_id fixed_id(std::uint8_t b) {
  session_id id;
  for (auto& x : id.bytes)
    x = std::byte{b};
  return id;
}

// Session ids from a per-run counter: 0x11.., 0x12.., ... (deterministic for libFuzzer).
session_settings make_settings(std::uint8_t& next_id) {
  session_settings s;
  s.max_message_size = 256;
  s.max_replay_bytes = 2048;
  s.ack_every = 4;
  s.keepalive_interval = 1000ms;
  s.peer_timeout = 4000ms;
  s.handshake_timeout = 2000ms;
  s.new_session_id = [&next_id] { return fixed_id(++next_id); };
  s.is_foreign_session = [](const session_id& id) { return id == fixed_id(0x22); };
  return s;
}

struct checker {
  session& s;
  session_id id = s.id();
  std::uint64_t expect_seq = s.next_expected_seq();
  std::uint64_t acked = s.next_unacked_seq();
  // message_delivery::view: the application's message shown and not consumed yet.
  std::uint64_t held_seq = 0;
  std::size_t held_size = 0;
  bool views = s.settings().delivery == message_delivery::view;

  // A failed or closed connection gives a held message back: it comes again, same number.
  void resync() {
    if (views) expect_seq = s.next_expected_seq();
  }

  void output(session::time_point now) {
    auto out = s.poll_output(now);
    frame_decoder dec(s.settings().max_message_size + data_body_min_size);
    while (!out.empty()) {
      decode_result r = dec.decode(out);
      SESSION_FUZZ_CHECK(!r.error);
      out = out.subspan(r.consumed);
    }
    SESSION_FUZZ_CHECK(!dec.has_partial_frame());
  }

  void events() {
    while (auto e = s.poll_event()) {
      if (auto* m = std::get_if<events::message_received>(&*e)) {
        SESSION_FUZZ_CHECK(m->seq == expect_seq);
        SESSION_FUZZ_CHECK(m->payload.size() <= s.settings().max_message_size);
        ++expect_seq;
      } else if (auto* c = std::get_if<events::control_received>(&*e)) {
        // A service's message takes its place in the one sequence, never the application's.
        SESSION_FUZZ_CHECK(c->seq == expect_seq);
        SESSION_FUZZ_CHECK(c->payload.size() <= s.settings().max_message_size);
        SESSION_FUZZ_CHECK(is_known_message_kind(c->kind) && c->kind != message_kind::application);
        ++expect_seq;
      } else if (auto* v = std::get_if<events::message_view>(&*e)) {
        SESSION_FUZZ_CHECK(views);
        SESSION_FUZZ_CHECK(v->seq == expect_seq);
        SESSION_FUZZ_CHECK(v->payload.size() <= s.settings().max_message_size);
        ++expect_seq;
        if (v->kind == message_kind::application) {
          SESSION_FUZZ_CHECK(s.holding_message());
          held_seq = v->seq;
          held_size = v->payload.size();
        }
      } else if (auto* a = std::get_if<events::acked>(&*e)) {
        SESSION_FUZZ_CHECK(a->next_unacked > acked);
        SESSION_FUZZ_CHECK(a->next_unacked <= s.next_send_seq());
        acked = a->next_unacked;
      } else if (auto* r = std::get_if<events::session_reset>(&*e)) {
        SESSION_FUZZ_CHECK(r->old_id == id);
        id = r->new_id;
        expect_seq = 0;
        acked = 0;
      } else if (auto* est = std::get_if<events::established>(&*e)) {
        SESSION_FUZZ_CHECK(!est->id.is_zero());
        if (est->resumed) SESSION_FUZZ_CHECK(est->id == id);
        id = est->id;
      } else if (auto* f = std::get_if<events::connection_failed>(&*e)) {
        // A connection error, or message_too_large: a message queued before the peer's
        // HELLO / WELCOME announced a smaller maximum cannot be delivered on this connection
        // (docs/PROTOCOL.md § 3.3; session::adopt_peer_limits).
        SESSION_FUZZ_CHECK(is_connection_error(f->error) ||
                           f->error == channel_errc::message_too_large);
        SESSION_FUZZ_CHECK(s.state() == session_state::closing ||
                           s.state() == session_state::closed);
        resync();
      }
    }
    SESSION_FUZZ_CHECK(s.replay_bytes() <= s.settings().max_replay_bytes);
    SESSION_FUZZ_CHECK(s.next_unacked_seq() <= s.next_send_seq());
  }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t mode = data[0] % 4;
  std::uint32_t chunk_state = data[1] + 1u;
  std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data + 2), size - 2);

  session::time_point now{};
  std::uint8_t next_id = 0x10;
  session_settings settings = make_settings(next_id);
  if (mode == 3) {
    settings.memory = session_memory::reserve;
    settings.delivery = message_delivery::view;
  }
  session s(mode == 2 ? session_role::client : session_role::server, std::move(settings));
  const std::vector<std::byte> payload(40, std::byte{0x42});
  if (mode == 1) {
    // An established session: handshake with a real client, messages both ways, then a
    // disconnect, so the input can try resuming, acknowledging, replaying...
    std::uint8_t unused = 0;
    session c(session_role::client, make_settings(unused));
    c.on_connected(now);
    s.on_connected(now);
    s.receive(c.poll_output(now), now);
    c.receive(s.poll_output(now), now);
    for (int i = 0; i < 3; ++i) {
      c.send(payload, now);
      s.send(payload, now);
    }
    s.receive(c.poll_output(now), now);
    c.receive(s.poll_output(now), now);
    s.send(payload, now);
    s.on_disconnected(now);
    while (s.poll_event()) {
    }
  }
  checker check{s};
  s.on_connected(now);
  check.output(now);

  while (!in.empty()) {
    chunk_state = chunk_state * 1103515245u + 12345u;
    std::size_t n = 1 + (chunk_state >> 16) % 64;
    if (n > in.size()) n = in.size();
    const bool was_connected =
        s.state() == session_state::handshaking || s.state() == session_state::established;
    if (mode == 3) {
      const bool was_holding = s.holding_message();
      const auto r = s.receive_some(in.first(n), now);
      SESSION_FUZZ_CHECK(r.taken <= n);
      if (was_holding && was_connected) SESSION_FUZZ_CHECK(r.taken == 0);
      if (!was_connected) SESSION_FUZZ_CHECK(!r.error && r.taken == n);
      in = in.subspan(r.taken);
      check.events();
      // The application takes its message now or on a later round (never stuck: at once when
      // nothing was taken).
      if (s.holding_message() && (r.taken == 0 || (chunk_state >> 12) % 2 == 0))
        SESSION_FUZZ_CHECK(!s.consume(check.held_seq, check.held_size, now));
    } else {
      const auto ec = s.receive(in.first(n), now);
      if (!was_connected) SESSION_FUZZ_CHECK(!ec);
      in = in.subspan(n);
      check.events();
    }
    if ((chunk_state >> 8) % 4 == 0) s.send(payload, now);
    now += std::chrono::milliseconds((chunk_state >> 4) % 700);
    if (s.next_deadline() <= now) s.handle_deadline(now);
    check.output(now);
    check.events();
    if (s.state() == session_state::closing) {
      // The session survives a failed connection: reconnect and go on.
      s.on_disconnected(now);
      check.resync();
      SESSION_FUZZ_CHECK(s.state() == session_state::disconnected);
      SESSION_FUZZ_CHECK(!s.on_connected(now));
      check.output(now);
      check.events();
    }
  }
  s.on_disconnected(now);
  check.events();
  return 0;
}
