// Driving two core::session objects against each other in unit tests (session_test,
// session_flow_control_test): literal timestamps, frames moved by hand or pumped until quiet.
#pragma once

#include "lanyard/core/frame.hpp"
#include "lanyard/core/frame_decoder.hpp"
#include "lanyard/core/session.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace lanyard::test::session_support {

using namespace lanyard::core;
using tp = session::time_point;

// Literal timestamps: t(5) is 5 ms after an arbitrary origin.
inline tp t(std::int64_t ms) {
  return tp{} + std::chrono::milliseconds(ms);
}

inline std::vector<std::byte> msg(const std::string& s) {
  std::vector<std::byte> v;
  for (char c : s)
    v.push_back(std::byte(static_cast<unsigned char>(c)));
  return v;
}

inline std::string str(const std::vector<std::byte>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size());
}

inline session_id id_of(int n) {
  session_id id;
  id.bytes[0] = std::byte{0xee};
  id.bytes[15] = std::byte(static_cast<unsigned char>(n));
  return id;
}

inline session_settings server_settings(int* counter) {
  session_settings s;
  s.new_session_id = [counter] { return id_of(++*counter); };
  return s;
}

inline std::vector<session_event> drain(session& s) {
  std::vector<session_event> out;
  while (auto e = s.poll_event())
    out.push_back(std::move(*e));
  return out;
}

template <class T>
std::vector<T> only(const std::vector<session_event>& evs) {
  std::vector<T> out;
  for (auto& e : evs)
    if (auto* p = std::get_if<T>(&e)) out.push_back(*p);
  return out;
}

inline std::vector<std::string> received(const std::vector<session_event>& evs) {
  std::vector<std::string> out;
  for (auto& m : only<events::message_received>(evs))
    out.push_back(str(m.payload));
  return out;
}

inline std::vector<frame_type> frame_types(std::span<const std::byte> bytes) {
  std::vector<frame_type> out;
  frame_decoder dec;
  while (!bytes.empty()) {
    auto r = dec.decode(bytes);
    REQUIRE_FALSE(r.error);
    bytes = bytes.subspan(r.consumed);
    if (r.value) out.push_back(type_of(*r.value));
  }
  return out;
}

inline std::vector<std::byte> copy(std::span<const std::byte> b) {
  return {b.begin(), b.end()};
}

inline std::vector<std::byte> encode(const frame& f) {
  std::vector<std::byte> out;
  encode_frame(f, out);
  return out;
}

// Moves bytes between two sessions until neither has output. Returns the events of each.
struct pair_events {
  std::vector<session_event> client, server;
};

inline pair_events pump(session& c, session& s, tp now) {
  pair_events ev;
  // Two buffers reused across rounds (a copy: the view dies with the next call into its
  // session).
  std::vector<std::byte> a, b;
  for (int i = 0; i < 100; ++i) {
    const auto out_c = c.poll_output(now);
    a.assign(out_c.begin(), out_c.end());
    if (!a.empty()) s.receive(a, now);
    const auto out_s = s.poll_output(now);
    b.assign(out_s.begin(), out_s.end());
    if (!b.empty()) c.receive(b, now);
    if (a.empty() && b.empty()) break;
  }
  for (auto& e : drain(c))
    ev.client.push_back(std::move(e));
  for (auto& e : drain(s))
    ev.server.push_back(std::move(e));
  return ev;
}

inline void connect(session& c, session& s, tp now) {
  REQUIRE_FALSE(c.on_connected(now));
  REQUIRE_FALSE(s.on_connected(now));
}

// Connects both and runs HELLO → WELCOME to the end.
inline void handshake(session& c, session& s, tp now) {
  connect(c, s, now);
  pump(c, s, now);
}

inline void disconnect(session& c, session& s, tp now) {
  c.on_disconnected(now);
  s.on_disconnected(now);
}

} // namespace lanyard::test::session_support
