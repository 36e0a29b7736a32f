#include "lanyard/core/session.hpp"

#include "lanyard/core/channel_error.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

// Randomized property test of the session, modelled on ngtcp2's examples/sim.h: two sessions
// joined by a deterministic simulated byte link. Each seeded schedule sends messages both ways,
// delivers bytes in random chunks and after random delays, cuts the connection at arbitrary
// byte offsets (mid frame, mid handshake, before or after ACKs), lets the keep-alive time out,
// reconnects, and now and then "reboots" the server, losing its session. Then it settles the
// link and checks the guarantee:
//   - every message is delivered at most once and in order (checked at every delivery);
//   - a message the sender saw acknowledged was delivered exactly once;
//   - a session_reset lists exactly the messages never acknowledged, in order; such a message
//     was not delivered in any live session (it may have reached a rebooted, lost server);
//   - in the end every message is acknowledged or reported — never both, never neither;
//   - without a server reboot there is no reset at all;
//   - no connection ever fails for anything but a timeout (no protocol error between two
//     correct peers).
// LANYARD_PROPERTY_SCHEDULES overrides the number of schedules (default 10000);
// LANYARD_PROPERTY_SEED runs one seed only (to reproduce a failure).

using namespace lanyard::core;
using namespace std::chrono_literals;
using tp = session::time_point;

namespace {

// Message payload: tag ('c' client / 's' server), incarnation u32, index u64, then filler
// bytes derived from the index, so corruption or mix-ups are detected.
std::vector<std::byte> make_payload(char tag, std::uint32_t inc, std::uint64_t index,
                                    std::size_t filler) {
  std::vector<std::byte> p;
  p.push_back(std::byte(static_cast<unsigned char>(tag)));
  for (int s = 24; s >= 0; s -= 8)
    p.push_back(std::byte(static_cast<unsigned char>(inc >> s)));
  for (int s = 56; s >= 0; s -= 8)
    p.push_back(std::byte(static_cast<unsigned char>(index >> s)));
  for (std::size_t k = 0; k < filler; ++k)
    p.push_back(std::byte(static_cast<unsigned char>(index * 31 + k)));
  return p;
}

struct parsed {
  bool ok = false;
  char tag = 0;
  std::uint32_t inc = 0;
  std::uint64_t index = 0;
};

parsed parse_payload(const std::vector<std::byte>& p) {
  parsed r;
  if (p.size() < 13) return r;
  r.tag = static_cast<char>(p[0]);
  for (int i = 1; i < 5; ++i)
    r.inc = (r.inc << 8) | std::to_integer<std::uint32_t>(p[i]);
  for (int i = 5; i < 13; ++i)
    r.index = (r.index << 8) | std::to_integer<std::uint64_t>(p[i]);
  for (std::size_t k = 13; k < p.size(); ++k)
    if (p[k] != std::byte(static_cast<unsigned char>(r.index * 31 + (k - 13)))) return r;
  r.ok = true;
  return r;
}

struct pipe {
  std::vector<std::byte> bytes;
  std::size_t head = 0;
  std::size_t pending() const { return bytes.size() - head; }
  void push(std::span<const std::byte> b) { bytes.insert(bytes.end(), b.begin(), b.end()); }
  std::span<const std::byte> take(std::size_t n) {
    auto s = std::span<const std::byte>(bytes).subspan(head, n);
    head += n;
    return s;
  }
  void clear() {
    bytes.clear();
    head = 0;
  }
  void compact() {
    if (head == bytes.size()) clear();
  }
};

// What one side sent, keyed by the message index, and the sequence numbers still in flight.
struct sender_book {
  std::deque<std::pair<std::uint64_t, std::uint64_t>> unacked; // (seq, index)
  std::map<std::uint64_t, bool> acked;                         // index -> acked
  std::map<std::uint64_t, bool> reported;                      // index -> in a reset
};

// What the schedules exercised, so the test can insist it covered the hard cases.
struct coverage {
  std::uint64_t messages_delivered = 0, drops = 0, drops_losing_bytes = 0, reboots = 0, resumed = 0,
                client_resets = 0, server_resets = 0, timeouts = 0, buffer_full = 0;
};

class simulation {
public:
  explicit simulation(std::uint64_t seed) : rng_(seed) {
    client_settings_.ack_every = 1 + rand(8);
    client_settings_.ack_delay = std::chrono::milliseconds(1 + rand(40));
    client_settings_.keepalive_interval = 1000ms;
    client_settings_.peer_timeout = 5000ms;
    client_settings_.handshake_timeout = 3000ms;
    client_settings_.max_message_size = 64;
    client_settings_.max_replay_bytes = 150 + rand(2000); // buffer_full happens
    client_settings_.output_batch_bytes = 64 + rand(600);
    server_settings_ = client_settings_;
    server_settings_.ack_every = 1 + rand(8);
    server_settings_.new_session_id = [this] {
      session_id id;
      for (auto& b : id.bytes)
        b = std::byte(static_cast<unsigned char>(rng_()));
      id.bytes[0] = std::byte{0x5a}; // never all zero
      return id;
    };
    client_ = std::make_unique<session>(session_role::client, client_settings_);
    server_ = std::make_unique<session>(session_role::server, server_settings_);
    server_books_.emplace_back();
  }

  // Runs the schedule; returns an empty string or a description of the first violation.
  std::string run() {
    const int steps = 30 + static_cast<int>(rand(300));
    for (int i = 0; i < steps && failure_.empty(); ++i)
      step();
    if (failure_.empty()) settle();
    if (failure_.empty()) final_checks();
    return failure_;
  }

  bool rebooted() const { return incarnation_ > 0; }
  const coverage& covered() const { return cov_; }

private:
  std::uint64_t rand(std::uint64_t n) { return n == 0 ? 0 : rng_() % n; }
  bool chance(unsigned percent) { return rand(100) < percent; }

  void fail(const std::string& what) {
    if (failure_.empty())
      failure_ = what + " (step at t=" +
                 std::to_string(
                     std::chrono::duration_cast<std::chrono::milliseconds>(now_.time_since_epoch())
                         .count()) +
                 " ms)";
  }

  void step() {
    switch (rand(12)) {
    case 0:
    case 1:
      send_client();
      break;
    case 2:
      send_server();
      break;
    case 3:
    case 4:
    case 5:
      deliver(c2s_, *server_, rand(c2s_.pending() + 1));
      break;
    case 6:
    case 7:
    case 8:
      deliver(s2c_, *client_, rand(s2c_.pending() + 1));
      break;
    case 9:
      advance_time();
      break;
    case 10:
      if (connected_ && chance(30))
        drop();
      else if (!connected_)
        connect();
      break;
    case 11:
      if (chance(3))
        reboot_server();
      else if (!connected_ && chance(50))
        connect();
      break;
    }
    flush();
  }

  void send_client() {
    auto payload = make_payload('c', 0, client_next_, rand(50));
    auto r = client_->send(payload, now_);
    if (r.error == channel_errc::buffer_full) { // not sent: it must never show up
      ++cov_.buffer_full;
      return;
    }
    if (r.error) return fail("client send: " + r.error.message());
    client_book_.unacked.emplace_back(r.seq, client_next_);
    client_book_.acked[client_next_] = false;
    ++client_next_;
  }

  void send_server() {
    auto payload = make_payload('s', incarnation_, server_next_, rand(50));
    auto r = server_->send(payload, now_);
    if (r.error == channel_errc::buffer_full) return;
    if (r.error) return fail("server send: " + r.error.message());
    server_books_.back().unacked.emplace_back(r.seq, server_next_);
    server_books_.back().acked[server_next_] = false;
    ++server_next_;
  }

  void deliver(pipe& p, session& to, std::size_t n) {
    if (!connected_ || n == 0) return;
    // Split the delivery into a few reads, like a real socket.
    while (n > 0) {
      const std::size_t chunk = 1 + rand(n);
      to.receive(p.take(chunk), now_);
      n -= chunk;
    }
    p.compact();
  }

  void advance_time() {
    std::uint64_t ms = rand(10);
    if (chance(10)) ms = rand(2000);
    if (chance(2)) ms = 4000 + rand(4000); // long enough for the keep-alive to give up
    now_ += std::chrono::milliseconds(ms);
    if (client_->next_deadline() <= now_) client_->handle_deadline(now_);
    if (server_->next_deadline() <= now_) server_->handle_deadline(now_);
  }

  void connect() {
    if (connected_) return;
    if (auto ec = client_->on_connected(now_)) return fail("client on_connected: " + ec.message());
    if (auto ec = server_->on_connected(now_)) return fail("server on_connected: " + ec.message());
    connected_ = true;
  }

  // Cuts the connection: a random prefix of what is in flight still arrives (possibly ending
  // mid frame), the rest is lost.
  void drop() {
    if (connected_) {
      ++cov_.drops;
      deliver(c2s_, *server_, rand(c2s_.pending() + 1));
      deliver(s2c_, *client_, rand(s2c_.pending() + 1));
      // Bytes still in flight are lost: usually the cut falls inside a frame.
      if (c2s_.pending() != 0 || s2c_.pending() != 0) ++cov_.drops_losing_bytes;
    }
    c2s_.clear();
    s2c_.clear();
    if (connected_) {
      client_->on_disconnected(now_);
      server_->on_disconnected(now_);
    }
    connected_ = false;
    drain();
  }

  void reboot_server() {
    drop();
    server_ = std::make_unique<session>(session_role::server, server_settings_);
    ++incarnation_;
    ++cov_.reboots;
    server_next_ = 0;
    server_books_.emplace_back();
  }

  // Moves output into the pipes, handles events, and drops the connection if a side failed it.
  void flush() {
    if (connected_) {
      c2s_.push(client_->poll_output(now_));
      s2c_.push(server_->poll_output(now_));
    }
    drain();
    auto closing = [](const session& s) {
      return s.state() == session_state::closing || s.state() == session_state::closed;
    };
    if (connected_ && (closing(*client_) || closing(*server_))) drop();
  }

  void drain() {
    while (auto e = client_->poll_event())
      on_client_event(*e);
    while (auto e = server_->poll_event())
      on_server_event(*e);
  }

  void check_failure(const events::connection_failed& f, const char* side) {
    ++cov_.timeouts;
    if (f.error != channel_errc::peer_dead && f.error != channel_errc::handshake_timeout)
      fail(std::string(side) + " connection failed: " + f.error.message() +
           (f.by_peer ? " (by peer)" : ""));
  }

  static void on_acked(sender_book& book, std::uint64_t next_unacked) {
    while (!book.unacked.empty() && book.unacked.front().first < next_unacked) {
      book.acked[book.unacked.front().second] = true;
      book.unacked.pop_front();
    }
  }

  // The reset's list must be exactly the unacknowledged messages, in order.
  void on_reset(sender_book& book, const events::session_reset& r, char tag, const char* side) {
    if (r.unacked.size() != book.unacked.size())
      return fail(std::string(side) + " reset lists " + std::to_string(r.unacked.size()) +
                  " messages, " + std::to_string(book.unacked.size()) + " were unacknowledged");
    for (std::size_t i = 0; i < r.unacked.size(); ++i) {
      parsed p = parse_payload(r.unacked[i].payload);
      if (!p.ok || p.tag != tag || p.index != book.unacked[i].second ||
          r.unacked[i].seq != book.unacked[i].first)
        return fail(std::string(side) + " reset lists the wrong message");
      book.reported[p.index] = true;
    }
    book.unacked.clear();
  }

  void on_client_event(const session_event& e) {
    if (auto* m = std::get_if<events::message_received>(&e)) {
      parsed p = parse_payload(m->payload);
      if (!p.ok || p.tag != 's') return fail("client received a corrupt message");
      // In order across incarnations: (incarnation, index) strictly increases.
      if (client_got_any_ && (p.inc < last_s_inc_ || (p.inc == last_s_inc_ && p.index <= last_s_)))
        return fail("client received server message " + std::to_string(p.inc) + "/" +
                    std::to_string(p.index) + " out of order or twice");
      client_got_any_ = true;
      ++cov_.messages_delivered;
      last_s_inc_ = p.inc;
      last_s_ = p.index;
      delivered_s_[{p.inc, p.index}] = true;
      if (server_books_.at(p.inc).reported.count(p.index))
        fail("client received a message the server had reported in a reset");
    } else if (auto* a = std::get_if<events::acked>(&e)) {
      on_acked(client_book_, a->next_unacked);
    } else if (auto* r = std::get_if<events::session_reset>(&e)) {
      ++cov_.client_resets;
      on_reset(client_book_, *r, 'c', "client");
      for (auto& lost : r->unacked) {
        parsed p = parse_payload(lost.payload);
        auto it = delivered_c_.find(p.index);
        // Delivered and reported only if it reached a server incarnation that is gone.
        if (it != delivered_c_.end() && it->second == incarnation_)
          fail("client reported message " + std::to_string(p.index) +
               " the live server had received");
      }
    } else if (auto* est = std::get_if<events::established>(&e)) {
      cov_.resumed += est->resumed ? 1 : 0;
    } else if (auto* f = std::get_if<events::connection_failed>(&e)) {
      check_failure(*f, "client");
    } else if (std::get_if<events::closed>(&e)) {
      fail("client session closed");
    }
  }

  void on_server_event(const session_event& e) {
    if (auto* m = std::get_if<events::message_received>(&e)) {
      parsed p = parse_payload(m->payload);
      if (!p.ok || p.tag != 'c') return fail("server received a corrupt message");
      if (server_got_any_ && p.index <= last_c_)
        return fail("server received client message " + std::to_string(p.index) +
                    " out of order or twice");
      server_got_any_ = true;
      ++cov_.messages_delivered;
      last_c_ = p.index;
      delivered_c_[p.index] = incarnation_;
      if (client_book_.reported.count(p.index))
        fail("server received a message the client had reported in a reset");
    } else if (auto* a = std::get_if<events::acked>(&e)) {
      on_acked(server_books_.back(), a->next_unacked);
    } else if (auto* r = std::get_if<events::session_reset>(&e)) {
      ++cov_.server_resets;
      on_reset(server_books_.back(), *r, 's', "server");
      for (auto& lost : r->unacked)
        if (delivered_s_.count({incarnation_, parse_payload(lost.payload).index}))
          fail("server reported a message the client had received");
    } else if (auto* f = std::get_if<events::connection_failed>(&e)) {
      check_failure(*f, "server");
    } else if (std::get_if<events::closed>(&e)) {
      fail("server session closed");
    }
  }

  // A healthy link until everything is acknowledged.
  void settle() {
    for (int round = 0; round < 400 && failure_.empty(); ++round) {
      if (!connected_) connect();
      flush();
      deliver(c2s_, *server_, c2s_.pending());
      flush();
      deliver(s2c_, *client_, s2c_.pending());
      flush();
      if (connected_ && client_->state() == session_state::established &&
          server_->state() == session_state::established && client_->replay_count() == 0 &&
          server_->replay_count() == 0 && c2s_.pending() == 0 && s2c_.pending() == 0)
        return;
      now_ += 50ms; // lets delayed ACKs fire, never reaches the peer timeout
      client_->handle_deadline(now_);
      server_->handle_deadline(now_);
    }
    fail("the link did not settle: client " + std::string(to_string(client_->state())) + " with " +
         std::to_string(client_->replay_count()) + " unacked, server " +
         std::string(to_string(server_->state())) + " with " +
         std::to_string(server_->replay_count()) + " unacked");
  }

  void final_checks() {
    if (!client_book_.unacked.empty() || !server_books_.back().unacked.empty())
      return fail("messages neither acknowledged nor reported");
    for (auto& [index, acked] : client_book_.acked) {
      const bool reported = client_book_.reported.count(index) != 0;
      const bool delivered = delivered_c_.count(index) != 0;
      if (acked == reported)
        return fail("client message " + std::to_string(index) +
                    (acked ? " both acknowledged and reported" : " neither acked nor reported"));
      if (acked && !delivered)
        return fail("client message " + std::to_string(index) + " acknowledged, not delivered");
    }
    if (incarnation_ == 0 && !client_book_.reported.empty())
      return fail("a reset without a server reboot");
    for (std::uint32_t inc = 0; inc < server_books_.size(); ++inc) {
      for (auto& [index, acked] : server_books_[inc].acked) {
        const bool reported = server_books_[inc].reported.count(index) != 0;
        const bool delivered = delivered_s_.count({inc, index}) != 0;
        if (acked && reported) return fail("server message both acknowledged and reported");
        if (acked && !delivered) return fail("server message acknowledged, not delivered");
        // Only the live incarnation must account for every message; a rebooted one lost its
        // unacknowledged messages with its memory.
        if (inc == incarnation_ && !acked && !reported)
          return fail("server message " + std::to_string(index) + " neither acked nor reported");
      }
    }
  }

  std::mt19937_64 rng_;
  session_settings client_settings_, server_settings_;
  std::unique_ptr<session> client_, server_;
  pipe c2s_, s2c_;
  bool connected_ = false;
  tp now_ = tp{} + 1h;
  std::uint32_t incarnation_ = 0;
  std::uint64_t client_next_ = 0, server_next_ = 0;
  sender_book client_book_;
  std::vector<sender_book> server_books_;              // per incarnation
  std::map<std::uint64_t, std::uint32_t> delivered_c_; // client index -> server incarnation
  std::map<std::pair<std::uint32_t, std::uint64_t>, bool> delivered_s_;
  bool client_got_any_ = false, server_got_any_ = false;
  std::uint32_t last_s_inc_ = 0;
  std::uint64_t last_s_ = 0, last_c_ = 0;
  std::string failure_;
  coverage cov_;
};

std::uint64_t env_or(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : fallback;
}

} // namespace

TEST_CASE("property: exactly-once in-order delivery or an exact reset report, 10,000 schedules") {
  const std::uint64_t schedules = env_or("LANYARD_PROPERTY_SCHEDULES", 10000);
  const char* only_seed = std::getenv("LANYARD_PROPERTY_SEED");
  std::uint64_t first = 1, last = schedules;
  if (only_seed && *only_seed) first = last = std::strtoull(only_seed, nullptr, 10);
  coverage total;
  for (std::uint64_t seed = first; seed <= last; ++seed) {
    simulation sim(seed);
    const std::string failure = sim.run();
    if (!failure.empty()) {
      INFO("seed " << seed << " (rerun with LANYARD_PROPERTY_SEED=" << seed << "): " << failure);
      REQUIRE(failure.empty());
    }
    const coverage& c = sim.covered();
    total.messages_delivered += c.messages_delivered;
    total.drops += c.drops;
    total.drops_losing_bytes += c.drops_losing_bytes;
    total.reboots += c.reboots;
    total.resumed += c.resumed;
    total.client_resets += c.client_resets;
    total.server_resets += c.server_resets;
    total.timeouts += c.timeouts;
    total.buffer_full += c.buffer_full;
  }
  // The schedules must exercise the hard cases, not only a happy link.
  INFO("delivered " << total.messages_delivered << ", drops " << total.drops << " ("
                    << total.drops_losing_bytes << " losing bytes in flight), reboots "
                    << total.reboots << ", resumed " << total.resumed << ", resets "
                    << total.client_resets << "/" << total.server_resets << ", timeouts "
                    << total.timeouts << ", buffer_full " << total.buffer_full);
  if (last - first + 1 >= 1000) {
    CHECK(total.drops_losing_bytes > 1000);
    CHECK(total.reboots > 100);
    CHECK(total.resumed > 1000);
    CHECK(total.client_resets > 100);
    CHECK(total.server_resets > 10);
    CHECK(total.timeouts > 100);
    CHECK(total.buffer_full > 100);
  }
  WARN("delivered " << total.messages_delivered << ", drops " << total.drops << " ("
                    << total.drops_losing_bytes << " losing bytes in flight), reboots "
                    << total.reboots << ", resumed " << total.resumed << ", resets "
                    << total.client_resets << "/" << total.server_resets << ", timeouts "
                    << total.timeouts << ", buffer_full " << total.buffer_full);
}
