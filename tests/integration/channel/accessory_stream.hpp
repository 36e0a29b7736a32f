// The accessory side of the channel lab's stream test, whichever API carries it
// (channel_stream_peer: accessory::server with push delivery; channel_product_peer:
// node::node, pulled per controller): checks every controller's messages (session seq
// contiguous from 0, "m<i>" one more than the previous one of this process), echoes them,
// pushes ticks, and logs what the scripts read. See channel_stream_peer.cpp for the options.
#pragma once

#include "stream_peer_common.hpp"

#include <lanyard/core/fingerprint.hpp>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <functional>
#include <map>
#include <string>
#include <system_error>

namespace stream_peer {

class accessory_stream {
public:
  using controller = core::fingerprint;
  /// Sends `payload` to `c`; calls `done` with the send's completion.
  using send_fn = std::function<void(const controller& c, const std::string& payload,
                                     std::function<void(std::error_code)> done)>;

  accessory_stream(asio::io_context& io, const args& a, send_fn send)
      : log_recv_(a.has("log-recv")), tick_ms_(a.num("tick-ms", 0)), echo_(!a.has("no-echo")),
        log_echo_acks_(a.has("log-echo-acks")), send_(std::move(send)), ticker_(io) {}

  /// A session of `c` started (`resumed` false: a new one, seq from 0) or resumed.
  void on_established(const controller& c, bool resumed) {
    state& st = controllers_[c];
    st.has_session = true;
    if (!resumed) {
      st.next_seq = 0;
      st.next_tick = 0;
    }
    say(std::string("session ") + (resumed ? "resumed" : "new"));
  }
  void on_closed(const controller& c) {
    controllers_[c].has_session = false;
    say("session closed");
  }

  /// A message of `c`, in the order taken: checked, logged, echoed.
  void on_message(const controller& c, std::uint64_t seq, const std::string& m) {
    state& st = controllers_[c];
    long long i = index_of(m, "m");
    if (log_recv_) say("recv " + std::to_string(seq) + " " + m);
    if (seq != st.next_seq || i < 0 || (st.last_index >= 0 && i != st.last_index + 1))
      say("VIOLATION: received seq " + std::to_string(seq) + " \"" + m + "\", expected seq " +
          std::to_string(st.next_seq) + " m" + std::to_string(st.last_index + 1));
    st.next_seq = seq + 1;
    st.last_index = i;
    if (++st.received % 10000 == 0) say("received " + std::to_string(st.received) + " last " + m);
    if (!echo_) return;
    send_(c, "echo:" + m, [log = log_echo_acks_, m](std::error_code e) {
      if (log)
        say((e ? "echo-failed " : "echo-acked ") + m + (e ? " " + e.message() : ""));
      else if (e)
        say("push failed: " + e.message());
    });
  }

  /// With --tick-ms: pushes "t<k>" (k from 0 per session) every N ms to every controller with
  /// a session, connected or not.
  void start_ticks() {
    if (tick_ms_ > 0) tick();
  }
  void stop_ticks() { ticker_.cancel(); }

private:
  struct state {
    std::uint64_t next_seq = 0;  // session seq expected next
    long long last_index = -1;   // last "m<i>" received by this process
    std::uint64_t received = 0;  // messages received by this process
    std::uint64_t next_tick = 0; // per session
    bool has_session = false;
  };

  void tick() {
    for (auto& [c, st] : controllers_) {
      if (!st.has_session) continue;
      std::string t = "t" + std::to_string(st.next_tick++);
      send_(c, t, [t](std::error_code e) {
        if (e) say("tick " + t + " failed: " + e.message());
      });
    }
    ticker_.expires_after(std::chrono::milliseconds(tick_ms_));
    ticker_.async_wait([this](std::error_code e) {
      if (!e) tick();
    });
  }

  const bool log_recv_;
  const long long tick_ms_;
  const bool echo_, log_echo_acks_;
  send_fn send_;
  std::map<controller, state> controllers_;
  asio::steady_timer ticker_;
};

} // namespace stream_peer
