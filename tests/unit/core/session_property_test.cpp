#include "lanyard/core/session.hpp"

#include "lanyard/core/channel_error.hpp"
#include "lanyard/core/frame.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

// Randomized property test of the channel session (docs/PROTOCOL.md § 3–6), in the spirit of
// ngtcp2's examples/sim.h: an app (client) and an accessory (server) session, driven the way
// channel::detail::session_runner drives them, over a simulated transport and clock.
//
// The model.
//   - Driving: after every call into a session its events are drained, its output is written
//     and a session in state closing/closed has its connection closed (after its CLOSE frame;
//     at once for peer_dead). In half the schedules output is written at once completely; in
//     the others one batch at a time, the next poll_output() only once the write in flight
//     completed (as session_runner does), so it comes later and after more input. Timers fire
//     at next_deadline(), in order, now and then late; handle_deadline() is also called early.
//   - Connections: a byte stream each way. A side's session is attached to at most one
//     connection; attaching another closes the old one first (session_runner::attach, the
//     "takeover"). The app opens connections: a reconnect, or a handover while still connected
//     (make-before-break). The accessory accepts them some steps later, normally the app's
//     latest; rarely an older one the app already abandoned (a stale connection whose HELLO
//     arrives late). Meanwhile the accessory still reads and writes the old connection: bytes
//     arrive late or vanish.
//   - Faults: a clean close (the peer reads what was in flight, then EOF), an RST (both ends
//     told, bytes in flight lost), a blackhole (the path is gone: bytes vanish and nobody is
//     told, both ends are half-open until keep-alive or a takeover), one end dropping the
//     connection silently (the other end half-open).
//   - Restarts of both sides: a crash (the kernel closes the sockets: what was written still
//     arrives, then EOF) or a power loss (its connections are blackholed). Nothing of a session
//     survives a restart: the core has no persistent session state, a client without a
//     session says HELLO(zero id) and a rebooted accessory knows none of its old ids
//     (PROTOCOL.md § 3, § 4). A restarted side is a new session object; the accessory's id
//     source never repeats an id, across reboots too (session_settings::new_session_id).
//   - Payloads of 0 up to and including max_message_size bytes (the default 64 KiB in some
//     schedules); one byte more must be refused.
//   - Acknowledgement (§ 3.1): in some schedules both sides acknowledge only what their
//     application consumed (ack_policy::on_consume). Their applications then take messages
//     now and then, a few at a time, in order, only those of the current session; in the final
//     phase they take everything.
//
// What the protocol promises, asserted at every event and after a final phase on a healthy
// link (a "stream" is what one incarnation of a side numbered from 0 in one session; a
// session_reset ends it and the next message starts a new stream at 0):
//   1. Exactly once, in order, without a gap (§ 3): a side's application receives seq 0, 1, 2,
//      ... of the peer's stream, byte-identical, each once, within one incarnation, and never
//      returns to a stream it left.
//   2. ACK(n) means received (§ 2.4): when a sender sees n acknowledged, its peer's
//      application has received every message below n.
//   3. A session_reset (§ 4) lists exactly the unacknowledged messages of the stream, in
//      order, queued ones included; none of them is delivered in the new session. They may
//      have reached the lost incarnation — allowed, not required.
//   4. So across a restart of the receiving side: acknowledged messages reached the lost
//      incarnation exactly once; the sender reports the rest. Across a restart of the sending
//      side nothing is promised for what it had not got acknowledged (it was only in its
//      memory); what arrived arrived once, in order.
//   5. The resume rule (§ 4): the server resumes iff the HELLO names its current id, and
//      starts a session with a fresh id otherwise; the client's WELCOME says the same.
//   6. No loss without a cause: without a server reboot (or a stale HELLO replacing the
//      session) the client never resets; without any restart (or stale HELLO) the server starts
//      a new session only for a HELLO naming no session.
//   7. Connections fail only by peer_dead or handshake_timeout (§ 5) — or with
//      sequence_out_of_window for a stale HELLO (§ 4 rule 1) — and never on the healthy link.
//   8. send(): the next sequence number; buffer_full exactly when the replay buffer cannot take
//      the message's charge; message_too_large above max_message_size, changing nothing.
//   9. The session's replay buffer (count, bytes, oldest and next seq) equals the test's books;
//      under on_consume what a side holds unread never exceeds max_replay_bytes.
//  10. In the end, on a healthy link, everything the live sides sent is acknowledged and
//      delivered, and both sides hold the same session.
//
// A core bug this harness found (a timer due again at once while a write was in flight: the
// runner would spin) is fixed; the test at the end and check_coverage() keep it fixed.
//
// Seeds: the fixed seeds 1..N always run; then N consecutive seeds from a random base (from
// std::random_device, printed). LANYARD_PROPERTY_SEED=S replays the random range from S (and
// skips the fixed seeds); LANYARD_PROPERTY_SCHEDULES=N sets N (1 replays a single seed). A
// failure names its seed, step and the last actions.

using namespace lanyard::core;
using namespace std::chrono_literals;
using tp = session::time_point;

namespace {

constexpr int client = 0;
constexpr int server = 1;
constexpr int peer_of(int side) {
  return 1 - side;
}
const char* name_of(int side) {
  return side == client ? "client" : "server";
}

// --- Payloads ---------------------------------------------------------------------------------

std::uint64_t splitmix(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Pseudo-random content unique to `tag`, so that two messages of equal size never compare
// equal: a mix-up is seen even without a header in the payload (payloads may be empty).
std::vector<std::byte> make_payload(std::uint64_t tag, std::size_t size) {
  std::vector<std::byte> p(size);
  std::uint64_t state = tag;
  for (std::size_t i = 0; i < size; i += 8) {
    const std::uint64_t word = splitmix(state);
    std::memcpy(p.data() + i, &word, std::min<std::size_t>(8, size - i));
  }
  return p;
}

std::string hex(const session_id& id) {
  static const char digits[] = "0123456789abcdef";
  std::string s;
  for (std::byte b : id.bytes) {
    s += digits[std::to_integer<unsigned>(b) >> 4];
    s += digits[std::to_integer<unsigned>(b) & 15];
  }
  return s;
}

// --- Bookkeeping of what was sent and delivered ------------------------------------------------

// A sender's stream: incarnation `inc` of the sender, its `index`-th stream.
struct stream_ref {
  std::uint32_t inc = 0;
  std::uint32_t index = 0;
  friend bool operator==(const stream_ref&, const stream_ref&) = default;
};

struct stream {
  std::vector<std::vector<std::byte>> messages; // by sequence number
  std::vector<message_kind> kinds;              // by sequence number
  std::size_t unacked_bytes = 0;                // what the replay buffer must be charged
  std::uint64_t acked = 0;                      // the sender saw every seq below acknowledged
  std::uint64_t delivered = 0;                  // the peer's application got 0 .. delivered-1
  std::optional<std::uint32_t> receiver;        // the peer incarnation that got them
  std::optional<session_id> reset_in;           // ended by a session_reset of this session
};

struct incarnation {
  std::vector<stream> streams;          // what it sent; the last one is current
  std::optional<stream_ref> reading;    // the peer stream its application receives now
  std::vector<stream_ref> done_reading; // peer streams it moved away from
};

// --- The simulated transport -------------------------------------------------------------------

// One direction of a connection: what one end wrote and the other has not read yet.
struct direction {
  std::vector<std::byte> bytes;
  std::size_t head = 0;
  bool fin = false;  // the writer closed: EOF once `bytes` are read
  stream_ref source; // the writer's stream when it last wrote: its DATA here belong to it
  std::size_t pending() const { return bytes.size() - head; }
  void discard() {
    bytes.clear();
    head = 0;
  }
};

struct connection {
  std::array<std::uint32_t, 2> inc{}; // incarnation of each end (the server's once accepted)
  std::array<bool, 2> open{};         // that end is attached to its side's session
  bool accepted = false;              // the server end exists
  bool blackholed = false;            // the path is gone: nothing arrives, nobody is told
  bool stale = false;                 // accepted although the client had moved on
  session_id hello_id;                // what the client's HELLO names
  std::optional<bool> server_resumed; // the server's answer to that HELLO...
  session_id server_id;               // ... and the id it named
  std::array<direction, 2> dir;       // dir[client]: client → server
};

struct endpoint {
  std::unique_ptr<session> s;
  std::vector<incarnation> incs;                     // the last one is alive
  int conn = -1;                                     // the attached connection
  session_state state = session_state::disconnected; // as told by state_changed
  session_id id_before;                              // its id before the call being handled
  bool writing = false;   // a write is in flight: the next poll_output() waits for it
  bool gave_up = false;   // the session failed or closed its connection (state closing)
  bool peer_dead = false; // ... because of peer_dead: session_runner closes at once
  // on_consume: messages of the current session its application has not taken (seq, size).
  std::deque<std::pair<std::uint64_t, std::size_t>> unread;
  std::uint32_t inc() const { return static_cast<std::uint32_t>(incs.size() - 1); }
  stream& current() { return incs.back().streams.back(); }
  stream_ref current_ref() const {
    return {static_cast<std::uint32_t>(incs.size() - 1),
            static_cast<std::uint32_t>(incs.back().streams.size() - 1)};
  }
};

// Deliberate breakage, for the self-test that the checks can fail at all.
enum class sabotage {
  none,
  corrupt_payload,    // the transport flips a byte of a DATA payload
  drop_data_frame,    // the transport swallows one whole DATA frame
  skip_delivery,      // the application ignores one delivered message
  duplicate_delivery, // the application processes one delivered message twice
  lazy_settle,        // the final phase does not wait for the link to go quiet
};

// What the schedules exercised, so that the test can insist it covered the hard cases.
struct coverage {
  std::uint64_t delivered = 0, bytes_delivered = 0, empty_sent = 0, max_sent = 0, too_large = 0,
                buffer_full = 0, resumed = 0, new_sessions = 0, handovers = 0, takeovers = 0,
                stale_accepts = 0, stale_replacements = 0, stale_refusals = 0, late_deliveries = 0,
                late_after_reset = 0, clean_closes = 0, rsts = 0, blackholes = 0, half_opens = 0,
                timeouts = 0, server_reboots = 0, client_restarts = 0, client_resets = 0,
                server_resets = 0, reported_but_delivered = 0, big_schedules = 0, timer_spins = 0,
                consume_schedules = 0, consumed = 0, resumed_holding_unread = 0,
                control_delivered = 0;

  void add(const coverage& o);
  std::string describe() const {
    std::ostringstream o;
    o << "delivered " << delivered << " messages, " << bytes_delivered << " bytes (sent empty "
      << empty_sent << ", max size " << max_sent << "), refused too_large " << too_large
      << ", buffer_full " << buffer_full << "; handshakes resumed " << resumed << ", new "
      << new_sessions << "; handovers " << handovers << ", takeovers " << takeovers
      << ", stale accepts " << stale_accepts << " (replacing the session " << stale_replacements
      << ", refused " << stale_refusals << "), late deliveries " << late_deliveries
      << " (after a reset " << late_after_reset << "); clean closes " << clean_closes << ", RSTs "
      << rsts << ", blackholes " << blackholes << ", half-open " << half_opens << ", timeouts "
      << timeouts << "; server reboots " << server_reboots << ", client restarts "
      << client_restarts << "; resets client " << client_resets << " / server " << server_resets
      << " (listing messages the lost peer had received: " << reported_but_delivered
      << "); 64 KiB schedules " << big_schedules << "; timers due again at once while a write "
      << "was in flight (session_runner spins) " << timer_spins << "; on_consume schedules "
      << consume_schedules << ", messages consumed " << consumed << ", resumed holding unread "
      << resumed_holding_unread << "; service messages delivered " << control_delivered;
    return o.str();
  }
};

void coverage::add(const coverage& o) {
  using c = coverage;
  // clang-format off
  static constexpr std::uint64_t coverage::*counters[] = {
      &c::delivered, &c::bytes_delivered, &c::empty_sent, &c::max_sent, &c::too_large,
      &c::buffer_full, &c::resumed, &c::new_sessions, &c::handovers, &c::takeovers,
      &c::stale_accepts, &c::stale_replacements, &c::stale_refusals, &c::late_deliveries,
      &c::late_after_reset, &c::clean_closes, &c::rsts, &c::blackholes, &c::half_opens,
      &c::timeouts, &c::server_reboots, &c::client_restarts, &c::client_resets,
      &c::server_resets, &c::reported_but_delivered, &c::big_schedules, &c::timer_spins,
      &c::consume_schedules, &c::consumed, &c::resumed_holding_unread, &c::control_delivered};
  // clang-format on
  static_assert(sizeof(counters) / sizeof(counters[0]) * sizeof(std::uint64_t) == sizeof(c),
                "every counter is summed");
  for (auto counter : counters)
    this->*counter += o.*counter;
}

class simulation {
public:
  simulation(std::uint64_t seed, sabotage sab = sabotage::none)
      : seed_(seed), sabotage_(sab), rng_(seed) {
    settings_ = random_settings();
    for (int side : {client, server})
      start_incarnation(side);
  }
  simulation(const simulation&) = delete; // the id source captures `this`
  simulation& operator=(const simulation&) = delete;

  // Runs the schedule; returns an empty string or a description of the first violation.
  std::string run() {
    // 64 KiB messages cost time (ASan, Debug): shorter schedules there.
    const int steps = 40 + static_cast<int>(rand(big_ ? 100 : 360));
    for (step_ = 0; step_ < steps && failure_.empty(); ++step_) {
      step();
      check_books(client);
      check_books(server);
    }
    if (failure_.empty()) settle();
    if (failure_.empty()) final_checks();
    return failure_;
  }

  const coverage& covered() const { return cov_; }

private:
  struct trace_entry {
    int step = 0, round = 0;
    std::int64_t ms = 0;
    const char* action = "";
    std::int64_t a = -1, b = -1;
  };

  // --- Randomness and failure reports ----------------------------------------------------------

  std::uint64_t rand(std::uint64_t n) { return n == 0 ? 0 : rng_() % n; }
  bool chance(unsigned percent) { return rand(100) < percent; }

  // Some schedules use the default 64 KiB limit, some a tiny one (even 0: empty messages
  // only), most a small one; replay buffers are small so that buffer_full happens.
  session_settings random_settings() {
    session_settings s;
    const std::uint64_t kind = rand(100);
    if (kind < 8) {
      big_ = true; // the default max_message_size
      ++cov_.big_schedules;
    } else if (kind < 15) {
      s.max_message_size = 0;
    } else {
      s.max_message_size = 1 + rand(300);
    }
    const std::size_t one = s.max_message_size + replay_overhead_per_message;
    s.max_replay_bytes = one * (1 + rand(6)) + rand(3000);
    s.ack_every = chance(20) ? 16 : 1 + rand(8);
    s.ack_delay = std::chrono::milliseconds(1 + rand(40));
    s.keepalive_interval = std::chrono::milliseconds(500 + rand(1000));
    s.peer_timeout = s.keepalive_interval * static_cast<int>(3 + rand(3));
    s.handshake_timeout = std::chrono::milliseconds(1000 + rand(3000));
    s.output_batch_bytes = 1 + rand(2 * one + 600);
    async_writes_ = chance(50);
    if (chance(35)) {
      s.acknowledge = ack_policy::on_consume;
      consume_percent_ = 2 + static_cast<unsigned>(rand(20)); // slow readers and fast ones
      ++cov_.consume_schedules;
    }
    return s;
  }

  // Ids never repeat, across reboots too (PROTOCOL.md § 3); random bytes in front.
  session_id new_id() {
    session_id id;
    std::uint64_t r = rng_(), n = ++ids_issued_;
    for (int i = 0; i < 8; ++i) {
      id.bytes[i] = std::byte(static_cast<unsigned char>(r >> (8 * i)));
      id.bytes[8 + i] = std::byte(static_cast<unsigned char>(n >> (8 * i)));
    }
    return last_id_ = id;
  }

  // What happened recently, printed with a failure; LANYARD_PROPERTY_VERBOSE=1 prints all of it
  // as it happens (for replaying one seed).
  void trace(const char* action, std::int64_t a = -1, std::int64_t b = -1) {
    const trace_entry t{settling_ ? -1 : step_, settling_ ? step_ : -1, now_ms(), action, a, b};
    trace_[trace_next_++ % trace_.size()] = t;
    if (verbose_) std::printf("%s\n", format(t).c_str());
  }

  static std::string format(const trace_entry& t) {
    std::string s =
        t.step >= 0 ? "step " + std::to_string(t.step) : "final round " + std::to_string(t.round);
    s += " @" + std::to_string(t.ms) + " ms: " + t.action;
    if (t.a >= 0) s += " " + std::to_string(t.a);
    if (t.b >= 0) s += " " + std::to_string(t.b);
    return s;
  }

  std::int64_t now_ms() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(now_.time_since_epoch()).count();
  }

  void fail(const std::string& what) {
    if (!failure_.empty()) return;
    std::ostringstream o;
    o << "seed " << seed_ << ", " << (settling_ ? "final phase round " : "step ") << step_
      << ", t=" << now_ms() << " ms: " << what << "\n  replay: LANYARD_PROPERTY_SEED=" << seed_
      << " LANYARD_PROPERTY_SCHEDULES=1 core_session_property_test\n  last actions:";
    const std::size_t n = std::min<std::size_t>(trace_next_, trace_.size());
    for (std::size_t i = trace_next_ - n; i < trace_next_; ++i)
      o << "\n    " << format(trace_[i % trace_.size()]);
    failure_ = o.str();
  }

  // --- The schedule ----------------------------------------------------------------------------

  void step() {
    // Writes in flight usually complete before the next thing happens; not always.
    for (int side : {client, server})
      if (chance(70)) write_done(side);
    if (consuming())
      for (int side : {client, server})
        if (chance(consume_percent_)) consume(side, 1 + rand(6)); // resumes find messages held
    switch (rand(20)) {
    case 0:
    case 1:
    case 2:
      return send(client);
    case 3:
    case 4:
      return send(server);
    case 5:
    case 6:
    case 7:
      return read(client, rand(pending_for(client) + 1));
    case 8:
    case 9:
    case 10:
      return read(server, rand(pending_for(server) + 1));
    case 11:
    case 12:
      return advance_time(random_delay());
    case 13:
    case 14:
      // Reconnect after a backoff; now and then move a live connection to another path.
      if (ep_[client].conn < 0 ? chance(60) : chance(4)) open_connection();
      return;
    case 15:
    case 16:
      return accept(chance(3));
    case 17:
      if (chance(30)) fault();
      return;
    case 18:
      if (chance(6)) return restart(chance(50) ? client : server);
      if (chance(30)) return send_too_large(chance(50) ? client : server);
      return;
    default:
      return send(chance(50) ? client : server);
    }
  }

  std::chrono::milliseconds random_delay() {
    std::uint64_t ms = rand(10);
    if (chance(10)) ms = rand(2000);
    if (chance(3)) ms = 3000 + rand(6000); // long enough for keep-alive to give up
    return std::chrono::milliseconds(ms);
  }

  // --- Sending ---------------------------------------------------------------------------------

  // 0, the maximum, one below it, small sizes and anything up to the maximum.
  std::size_t draw_size(std::size_t max) {
    const std::uint64_t r = rand(100);
    if (r < 15) return 0;
    if (r < 30) return max;
    if (r < 35) return max == 0 ? 0 : max - 1;
    if (r < 70) return rand(std::min<std::size_t>(max, 64) + 1);
    return rand(max + 1);
  }

  void send(int side) {
    endpoint& ep = ep_[side];
    const session_settings& set = ep.s->settings();
    const std::size_t size = draw_size(set.max_message_size);
    std::vector<std::byte> payload = make_payload(++payload_tags_, size);
    // One in four a service's message (CONTROL), chosen by the tag so the schedule's random
    // draws stay those of a schedule without them.
    const message_kind kind = payload_tags_ % 8 == 3   ? message_kind::provisioning
                              : payload_tags_ % 8 == 6 ? message_kind::administration
                                                       : message_kind::application;
    const std::size_t charge = size + replay_overhead_per_message;
    const bool fits = ep.s->replay_bytes() + charge <= set.max_replay_bytes;
    trace(side == client ? "client send, bytes" : "server send, bytes",
          static_cast<std::int64_t>(size));
    session::send_result r = ep.s->send(payload, now_, kind);
    if (r.error == channel_errc::buffer_full) {
      ++cov_.buffer_full;
      if (fits)
        fail(std::string(name_of(side)) + ": buffer_full although " + std::to_string(charge) +
             " more bytes fit the replay buffer (" + std::to_string(ep.s->replay_bytes()) + " of " +
             std::to_string(set.max_replay_bytes) + ")");
      return;
    }
    if (r.error) return fail(std::string(name_of(side)) + " send: " + r.error.message());
    if (!fits)
      return fail(std::string(name_of(side)) + ": the replay buffer took more than "
                                               "max_replay_bytes");
    stream& st = ep.current();
    if (r.seq != st.messages.size())
      return fail(std::string(name_of(side)) + ": send got seq " + std::to_string(r.seq) +
                  ", the stream's next is " + std::to_string(st.messages.size()));
    st.unacked_bytes += charge;
    st.messages.push_back(std::move(payload));
    st.kinds.push_back(kind);
    cov_.empty_sent += size == 0;
    cov_.max_sent += size == set.max_message_size;
    after(side);
  }

  bool consuming() const { return settings_.acknowledge == ack_policy::on_consume; }

  // The application takes up to `n` messages, oldest first (on_consume).
  void consume(int side, std::size_t n) {
    endpoint& ep = ep_[side];
    for (; n > 0 && !ep.unread.empty() && failure_.empty(); --n) {
      const auto [seq, size] = ep.unread.front();
      ep.unread.pop_front();
      trace(side == client ? "client consumes" : "server consumes", static_cast<std::int64_t>(seq));
      if (auto ec = ep.s->consume(seq, size, now_))
        return fail(std::string(name_of(side)) + ": consume(" + std::to_string(seq) +
                    ") failed: " + ec.message());
      ++cov_.consumed;
    }
    after(side);
  }

  // One byte over the limit (or more) is refused with message_too_large and changes nothing.
  void send_too_large(int side) {
    session& s = *ep_[side].s;
    const std::size_t size = s.settings().max_message_size + 1 + (chance(20) ? rand(1000) : 0);
    trace(side == client ? "client sends too large, bytes" : "server sends too large, bytes",
          static_cast<std::int64_t>(size));
    const auto before = std::make_tuple(s.state(), s.next_send_seq(), s.next_unacked_seq(),
                                        s.replay_count(), s.replay_bytes());
    session::send_result r = s.send(std::vector<std::byte>(size), now_);
    ++cov_.too_large;
    if (r.error != channel_errc::message_too_large)
      return fail(std::string(name_of(side)) + ": a message of " + std::to_string(size) +
                  " bytes got '" + r.error.message() + "', not message_too_large");
    if (before != std::make_tuple(s.state(), s.next_send_seq(), s.next_unacked_seq(),
                                  s.replay_count(), s.replay_bytes()))
      return fail(std::string(name_of(side)) + ": a refused message changed the session");
    if (s.poll_event()) fail(std::string(name_of(side)) + ": a refused message made an event");
  }

  // --- Driving a session like session_runner ---------------------------------------------------

  // After every call, like session_runner::after(): events first (the books decide which
  // stream output belongs to), then output, then close the connection if the session gave it
  // up — once its last output (a CLOSE frame) is written; at once if the peer is dead. With
  // asynchronous writes the next poll_output() waits until the write in flight completes
  // (write_done()), so it runs later, at a later time, after more input.
  void after(int side) {
    endpoint& ep = ep_[side];
    while (auto e = ep.s->poll_event())
      on_event(side, *e);
    if (ep.conn < 0) return;
    const session_state st = ep.s->state();
    ep.gave_up = st == session_state::closing || st == session_state::closed;
    if (ep.gave_up && ep.peer_dead) return detach(side, true);
    for (int guard = 0; !ep.writing; ++guard) {
      std::span<const std::byte> out = ep.s->poll_output(now_);
      if (out.empty()) {
        if (ep.gave_up) detach(side, true);
        return;
      }
      if (guard > 100000) return fail(std::string(name_of(side)) + ": poll_output never ends");
      write(side, out);
      ep.writing = async_writes_;
    }
  }

  // The write in flight completed: the next batch may be polled.
  void write_done(int side) {
    if (!ep_[side].writing) return;
    ep_[side].writing = false;
    after(side);
  }

  void write(int side, std::span<const std::byte> out) {
    connection& c = conns_[ep_[side].conn];
    direction& d = c.dir[side];
    d.source = ep_[side].current_ref();
    // A reader that closed, or a dead path, never gets it.
    if (c.blackholed || (side == client ? c.accepted && !c.open[server] : !c.open[client])) return;
    const std::size_t at = d.bytes.size();
    d.bytes.insert(d.bytes.end(), out.begin(), out.end());
    if (sabotage_ == sabotage::corrupt_payload || sabotage_ == sabotage::drop_data_frame)
      sabotage_frames(d, at);
  }

  // Walks the whole frames just written and breaks the 5th DATA frame (with a payload).
  void sabotage_frames(direction& d, std::size_t at) {
    while (at + frame_header_size <= d.bytes.size()) {
      std::size_t len = 0;
      for (int i = 2; i < 6; ++i)
        len = (len << 8) | std::to_integer<std::size_t>(d.bytes[at + i]);
      const std::size_t end = at + frame_header_size + len;
      if (d.bytes[at + 1] == std::byte{0x03} && len > data_body_min_size &&
          ++data_frames_seen_ == 5) {
        if (sabotage_ == sabotage::corrupt_payload)
          d.bytes[end - 1] ^= std::byte{0x40};
        else
          d.bytes.erase(d.bytes.begin() + static_cast<std::ptrdiff_t>(at),
                        d.bytes.begin() + static_cast<std::ptrdiff_t>(end));
        return;
      }
      at = end;
    }
  }

  // The side's session lets go of its connection: `fin` tells the peer (after the bytes in
  // flight), otherwise the peer never hears of it. Unread bytes die with the socket.
  void detach(int side, bool fin) {
    endpoint& ep = ep_[side];
    connection& c = conns_[ep.conn];
    c.open[side] = false;
    if (fin && !c.blackholed) c.dir[side].fin = true;
    c.dir[peer_of(side)].discard();
    ep.conn = -1;
    ep.writing = ep.gave_up = ep.peer_dead = false;
    ep.s->on_disconnected(now_);
    while (auto e = ep.s->poll_event())
      on_event(side, *e);
  }

  std::size_t pending_for(int side) const {
    const int c = ep_[side].conn;
    return c < 0 ? 0 : conns_[c].dir[peer_of(side)].pending();
  }

  // The side reads up to `budget` bytes of what arrived, in a few reads of random size, and
  // EOF if the writer closed and everything is read.
  void read(int side, std::size_t budget) {
    endpoint& ep = ep_[side];
    const int c = ep.conn;
    if (c < 0 || ep.gave_up) return; // session_runner stops reading a connection it closes
    direction& d = conns_[c].dir[peer_of(side)];
    std::size_t n = std::min(budget, d.pending());
    if (n > 0)
      trace(side == client ? "client reads" : "server reads", static_cast<std::int64_t>(n));
    while (n > 0 && ep.conn == c && !ep.gave_up && failure_.empty()) {
      const std::size_t chunk = 1 + rand(n);
      // The span stays valid through receive(): only after() may discard `d` (by closing).
      const std::span<const std::byte> bytes(d.bytes.data() + d.head, chunk);
      d.head += chunk;
      n -= chunk;
      ep.id_before = ep.s->id();
      ep.s->receive(bytes, now_);
      after(side);
    }
    if (ep.conn != c || ep.gave_up) return;
    if (d.pending() == 0) {
      d.discard();
      if (d.fin) {
        trace(side == client ? "client reads EOF" : "server reads EOF");
        detach(side, true);
      }
    }
  }

  // Fires every timer that is due up to `by` from now, in order, like a steady_timer would —
  // now and then late (a busy executor), and now and then early (documented as harmless).
  void advance_time(std::chrono::milliseconds by) {
    const tp target = now_ + by;
    trace("time +ms", by.count());
    int stuck = 0;
    while (failure_.empty()) {
      const tp next = std::min(ep_[client].s->next_deadline(), ep_[server].s->next_deadline());
      if (next > target) break;
      if (next > now_) {
        stuck = 0;
      } else if (wait_for_writes()) {
        continue;
      } else if (++stuck > 100) {
        return fail("a deadline stays due after handle_deadline() and poll_output()");
      }
      const auto late = std::chrono::milliseconds(chance(10) ? rand(30) : 0);
      now_ = std::min(target, std::max(now_, next + late));
      for (int side : {client, server})
        if (ep_[side].s->next_deadline() <= now_) fire(side);
    }
    now_ = target;
    if (chance(10)) fire(chance(50) ? client : server);
  }

  // A deadline still due right after handle_deadline() while a write is in flight: the
  // runner, which polls output only after the write, would re-arm its timer in the past and
  // spin until the write completes (a core bug, fixed: check_coverage() wants none). Counted;
  // here the write completes now. False if no write was in the way.
  bool wait_for_writes() {
    bool waited = false;
    for (int side : {client, server}) {
      if (!ep_[side].writing || ep_[side].s->next_deadline() > now_) continue;
      ++cov_.timer_spins;
      write_done(side);
      waited = true;
    }
    return waited;
  }

  void fire(int side) {
    ep_[side].s->handle_deadline(now_);
    after(side);
  }

  // --- Connections -----------------------------------------------------------------------------

  // The app connects; if it is still connected this is a handover (make-before-break: the
  // session moves to the new connection, the old one is closed behind it).
  void open_connection() {
    endpoint& ep = ep_[client];
    if (ep.conn >= 0) {
      ++cov_.handovers;
      trace("client hands over from connection", ep.conn);
      detach(client, true);
    }
    connection& c = conns_.emplace_back();
    const int number = static_cast<int>(conns_.size() - 1);
    c.inc[client] = ep.inc();
    c.open[client] = true;
    c.hello_id = ep.s->id();
    trace("client opens connection", number);
    if (std::error_code ec = ep.s->on_connected(now_))
      return fail("client on_connected: " + ec.message());
    ep.conn = number;
    latest_ = number;
    after(client);
  }

  // The accessory accepts a connection: normally the app's latest; if `stale`, one the app
  // already abandoned (its HELLO arrives late). Its session moves there (takeover).
  void accept(bool stale) {
    int pick = -1;
    if (!stale) {
      if (latest_ >= 0 && !conns_[latest_].accepted && !conns_[latest_].blackholed) pick = latest_;
    } else {
      std::vector<int> candidates;
      for (int i = 0; i < static_cast<int>(conns_.size()); ++i)
        if (i != latest_ && !conns_[i].accepted && !conns_[i].blackholed) candidates.push_back(i);
      if (!candidates.empty()) pick = candidates[rand(candidates.size())];
    }
    if (pick < 0) return;
    endpoint& ep = ep_[server];
    if (ep.conn >= 0) {
      ++cov_.takeovers;
      trace("takeover: server leaves connection", ep.conn);
      detach(server, true);
    }
    connection& c = conns_[pick];
    c.accepted = true;
    c.open[server] = true;
    c.inc[server] = ep.inc();
    c.stale = stale;
    cov_.stale_accepts += stale;
    trace(stale ? "server accepts stale connection" : "server accepts connection", pick);
    if (std::error_code ec = ep.s->on_connected(now_))
      return fail("server on_connected: " + ec.message());
    ep.conn = pick;
    after(server);
  }

  void fault() {
    const int side = chance(50) ? client : server;
    const int c = ep_[side].conn;
    if (c < 0) return;
    switch (rand(5)) {
    case 0: // e.g. a write error: this side closes, the peer reads what is in flight, then EOF
    case 1:
      ++cov_.clean_closes;
      trace(side == client ? "client closes connection" : "server closes connection", c);
      return detach(side, true);
    case 2: { // RST: a random part of what is in flight arrives, then both ends are told
      ++cov_.rsts;
      trace("RST on connection", c);
      for (int s : {client, server})
        if (ep_[s].conn == c) read(s, rand(pending_for(s) + 1));
      conns_[c].blackholed = true;
      conns_[c].dir[client].discard();
      conns_[c].dir[server].discard();
      for (int s : {client, server})
        if (ep_[s].conn == c) detach(s, false);
      return;
    }
    case 3: // the path is gone: both ends half-open, only keep-alive or a takeover tells
      ++cov_.blackholes;
      trace("blackhole connection", c);
      return blackhole(c);
    default: // one end drops it silently (its interface went down): the other end half-open
      ++cov_.half_opens;
      trace(side == client ? "client drops silently" : "server drops silently", c);
      blackhole(c);
      return detach(side, false);
    }
  }

  void blackhole(int c) {
    connection& conn = conns_[c];
    conn.blackholed = true;
    for (direction& d : conn.dir) {
      d.discard();
      d.fin = false;
    }
  }

  // A restart loses the side's session: a crash closes its sockets (what it wrote still
  // arrives, then EOF), a power loss leaves them half-open at the peer.
  void restart(int side) {
    const bool power_loss = chance(50);
    endpoint& ep = ep_[side];
    trace(side == client ? (power_loss ? "client loses power" : "client crashes")
                         : (power_loss ? "server loses power" : "server crashes"));
    for (connection& c : conns_) {
      if (!c.open[side] || c.inc[side] != ep.inc()) continue;
      if (power_loss) {
        c.blackholed = true;
        for (direction& d : c.dir) {
          d.discard();
          d.fin = false;
        }
      } else {
        c.dir[side].fin = true;
        c.dir[peer_of(side)].discard();
      }
      c.open[side] = false;
    }
    if (side == client) {
      latest_ = -1;
      ++cov_.client_restarts;
    } else {
      ++cov_.server_reboots;
    }
    start_incarnation(side);
  }

  void start_incarnation(int side) {
    endpoint& ep = ep_[side];
    session_settings s = settings_;
    if (side == server) s.new_session_id = [this] { return new_id(); };
    ep.s = std::make_unique<session>(side == client ? session_role::client : session_role::server,
                                     std::move(s));
    ep.incs.emplace_back().streams.emplace_back();
    ep.conn = -1;
    ep.state = session_state::disconnected;
    ep.writing = ep.gave_up = ep.peer_dead = false; // a new process has nothing in flight
    ep.unread.clear();
  }

  // --- Events and the checks on them -----------------------------------------------------------

  void on_event(int side, const session_event& e) {
    if (auto* sc = std::get_if<events::state_changed>(&e)) {
      if (sc->from != ep_[side].state)
        fail(std::string(name_of(side)) + ": state_changed from " +
             std::string(to_string(sc->from)) + ", but it was " +
             std::string(to_string(ep_[side].state)));
      ep_[side].state = sc->to;
    } else if (auto* es = std::get_if<events::established>(&e)) {
      on_established(side, *es);
      // A new session: what the application still holds is the old one's (kept, not consumed).
      if (!es->resumed) ep_[side].unread.clear();
      // Resumed with messages held unread: the peer resends them, and they must be skipped.
      if (es->resumed && !ep_[side].unread.empty()) ++cov_.resumed_holding_unread;
    } else if (auto* m = std::get_if<events::message_received>(&e)) {
      on_message(side, *m);
      if (consuming()) ep_[side].unread.emplace_back(m->seq, m->payload.size());
      if (sabotage_ == sabotage::duplicate_delivery && cov_.delivered == 7) on_message(side, *m);
    } else if (auto* cr = std::get_if<events::control_received>(&e)) {
      // Checked as a message of the stream; the session takes it itself (not in `unread`).
      on_message(side, events::message_received{cr->seq, cr->payload}, cr->kind);
      ++cov_.control_delivered;
    } else if (auto* a = std::get_if<events::acked>(&e)) {
      on_acked(side, *a);
    } else if (auto* r = std::get_if<events::session_reset>(&e)) {
      on_reset(side, *r);
    } else if (auto* f = std::get_if<events::connection_failed>(&e)) {
      on_failure(side, *f);
    } else if (auto* rtt = std::get_if<events::rtt_sample>(&e)) {
      if (rtt->sample.count() < 0 || rtt->smoothed.count() < 0)
        fail(std::string(name_of(side)) + ": negative RTT");
    } else if (std::get_if<events::closed>(&e)) {
      fail(std::string(name_of(side)) + ": the session closed, nobody called close()");
    }
  }

  // Rule 5: the server resumes iff the HELLO names its current id; the client agrees.
  void on_established(int side, const events::established& e) {
    endpoint& ep = ep_[side];
    connection& c = conns_[ep.conn];
    if (side == server) {
      const bool expect_resume = !c.hello_id.is_zero() && c.hello_id == ep.id_before;
      if (e.resumed != expect_resume)
        return fail("server: HELLO named " + hex(c.hello_id) + ", its session was " +
                    hex(ep.id_before) + ", yet it " + (e.resumed ? "resumed" : "started anew"));
      if (e.id != (e.resumed ? c.hello_id : last_id_))
        return fail("server established with an id that is neither the resumed nor a fresh one");
      c.server_resumed = e.resumed;
      c.server_id = e.id;
      if (!e.resumed && c.stale) ++cov_.stale_replacements;
      // Rule 6: only a HELLO naming no session starts a new one, unless something was lost.
      if (!e.resumed && !c.hello_id.is_zero() && cov_.client_restarts == 0 &&
          cov_.server_reboots == 0 && cov_.stale_replacements == 0)
        return fail("server started a new session for HELLO(" + hex(c.hello_id) +
                    ") though nobody restarted");
    } else {
      if (!c.server_resumed || *c.server_resumed != e.resumed || c.server_id != e.id)
        return fail("client established (" + std::string(e.resumed ? "resumed " : "new ") +
                    hex(e.id) + ") unlike the server's answer on this connection");
    }
    trace(side == client ? (e.resumed ? "client resumed on connection" : "client new session on")
                         : (e.resumed ? "server resumed on connection" : "server new session on"),
          ep.conn);
    if (side == client) ++(e.resumed ? cov_.resumed : cov_.new_sessions); // completed ones
  }

  // Rule 1: the next message of the stream, byte-identical, once, from one incarnation.
  void on_message(int side, const events::message_received& m,
                  message_kind kind = message_kind::application) {
    endpoint& ep = ep_[side];
    const int peer = peer_of(side);
    const stream_ref src = conns_[ep.conn].dir[peer].source;
    stream& st = ep_[peer].incs[src.inc].streams[src.index];
    const auto who = [&] {
      return std::string(name_of(side)) + " received " + name_of(peer) + " message " +
             std::to_string(m.seq) + " of stream " + std::to_string(src.inc) + "/" +
             std::to_string(src.index);
    };
    if (sabotage_ == sabotage::skip_delivery && cov_.delivered == 7) {
      ++cov_.delivered; // the application "loses" it
      return;
    }
    if (m.seq < st.delivered) return fail(who() + ": delivered twice");
    if (m.seq > st.delivered)
      return fail(who() + ": a gap, " + std::to_string(st.delivered) + " was next");
    if (m.seq >= st.messages.size()) return fail(who() + ": never sent");
    if (m.payload != st.messages[m.seq])
      return fail(who() + ": payload differs (" + std::to_string(m.payload.size()) + " bytes, " +
                  std::to_string(st.messages[m.seq].size()) + " sent)");
    if (kind != st.kinds[m.seq])
      return fail(who() + ": sent as " + std::string(to_string(st.kinds[m.seq])) +
                  ", delivered as " + std::string(to_string(kind)));
    if (st.receiver && *st.receiver != ep.inc())
      return fail(who() + ": its stream was delivered to incarnation " +
                  std::to_string(*st.receiver) + " before");
    // Rule 3: a reported message may arrive late only in the session that reported it.
    if (st.reset_in && *st.reset_in != ep.s->id())
      return fail(who() + ": it was reported in a reset of session " + hex(*st.reset_in) +
                  ", and now arrives in session " + hex(ep.s->id()));
    incarnation& me = ep.incs.back();
    if (!me.reading || !(*me.reading == src)) {
      if (std::find(me.done_reading.begin(), me.done_reading.end(), src) != me.done_reading.end())
        return fail(who() + ": it had moved on to another stream");
      if (me.reading) me.done_reading.push_back(*me.reading);
      me.reading = src;
    }
    if (verbose_)
      std::printf("  %s got %s message %u/%u #%llu\n", name_of(side), name_of(peer), src.inc,
                  src.index, static_cast<unsigned long long>(m.seq));
    st.receiver = ep.inc();
    ++st.delivered;
    ++cov_.delivered;
    cov_.bytes_delivered += m.payload.size();
    if (side == server && ep.conn != ep_[client].conn) ++cov_.late_deliveries;
    if (st.reset_in) ++cov_.late_after_reset;
  }

  // Rule 2: an acknowledgement covers only what the peer's application received.
  void on_acked(int side, const events::acked& a) {
    stream& st = ep_[side].current();
    const auto who = [&] {
      return std::string(name_of(side)) + " saw " + std::to_string(a.next_unacked);
    };
    if (a.next_unacked <= st.acked)
      return fail(who() + " acknowledged, after " + std::to_string(st.acked) + " already");
    if (a.next_unacked > st.messages.size())
      return fail(who() + " acknowledged, only " + std::to_string(st.messages.size()) + " sent");
    if (a.next_unacked > st.delivered)
      return fail(who() + " acknowledged, the peer received only " + std::to_string(st.delivered));
    for (std::uint64_t i = st.acked; i < a.next_unacked; ++i)
      st.unacked_bytes -= st.messages[i].size() + replay_overhead_per_message;
    st.acked = a.next_unacked;
    if (verbose_)
      std::printf("  %s acked below %llu\n", name_of(side),
                  static_cast<unsigned long long>(st.acked));
  }

  // Rule 3: the reset lists exactly the unacknowledged messages, in order; rule 6: only after
  // a loss.
  void on_reset(int side, const events::session_reset& r) {
    endpoint& ep = ep_[side];
    ep.unread.clear(); // the old session's messages: the application keeps them
    stream& st = ep.current();
    const std::string who = std::string(name_of(side)) + " reset";
    trace(side == client ? "client reset, unacked" : "server reset, unacked",
          static_cast<std::int64_t>(r.unacked.size()));
    ++(side == client ? cov_.client_resets : cov_.server_resets);
    if (r.old_id != ep.id_before || r.new_id != ep.s->id())
      return fail(who + " names the wrong sessions");
    if (r.unacked.size() != st.messages.size() - st.acked)
      return fail(who + " lists " + std::to_string(r.unacked.size()) + " messages, " +
                  std::to_string(st.messages.size() - st.acked) + " were unacknowledged");
    for (std::size_t i = 0; i < r.unacked.size(); ++i)
      if (r.unacked[i].seq != st.acked + i || r.unacked[i].payload != st.messages[st.acked + i] ||
          r.unacked[i].kind != st.kinds[st.acked + i])
        return fail(who + " lists a wrong message at position " + std::to_string(i));
    if (side == client && cov_.server_reboots == 0 && cov_.stale_replacements == 0)
      return fail(who + " though the server never lost the session");
    const bool peer_got_some = st.delivered > st.acked;
    if (peer_got_some) ++cov_.reported_but_delivered;
    // Without a stale HELLO the peer that got them is gone; with one it may still be there,
    // in the replaced session. (This reset may come from one: its established event follows.)
    const bool stale_now = side == server && conns_[ep.conn].stale;
    if (peer_got_some && st.receiver && *st.receiver == ep_[peer_of(side)].inc() &&
        cov_.stale_replacements == 0 && !stale_now)
      return fail(who + " lists messages the live peer received");
    st.reset_in = r.old_id;
    ep.incs.back().streams.emplace_back();
  }

  // Rule 7: between two correct peers only timeouts fail a connection (and a late HELLO that
  // no longer fits the window).
  void on_failure(int side, const events::connection_failed& f) {
    endpoint& ep = ep_[side];
    const connection& c = conns_[ep.conn];
    const bool timeout = !f.by_peer && (f.error == channel_errc::peer_dead ||
                                        f.error == channel_errc::handshake_timeout);
    const bool stale_hello = side == server && !f.by_peer && c.stale &&
                             ep.state == session_state::handshaking &&
                             f.error == channel_errc::sequence_out_of_window;
    trace(side == client ? "client connection failed, code" : "server connection failed, code",
          f.error.value());
    cov_.timeouts += timeout;
    cov_.stale_refusals += stale_hello;
    ep.peer_dead = f.error == channel_errc::peer_dead;
    if (!timeout && !stale_hello)
      return fail(std::string(name_of(side)) + " connection failed (code " +
                  std::to_string(f.error.value()) + (f.by_peer ? ", by the peer" : "") +
                  "): " + f.error.message());
    if (settling_ && ep.conn == healthy_)
      fail(std::string(name_of(side)) + ": the healthy connection failed: " + f.error.message());
  }

  // Rule 9: the session's replay buffer is exactly the test's unacknowledged messages.
  void check_books(int side) {
    const session& s = *ep_[side].s;
    const stream& st = ep_[side].current();
    if (s.next_send_seq() != st.messages.size() || s.next_unacked_seq() != st.acked ||
        s.replay_count() != st.messages.size() - st.acked || s.replay_bytes() != st.unacked_bytes)
      fail(std::string(name_of(side)) + ": replay buffer " + std::to_string(s.next_unacked_seq()) +
           ".." + std::to_string(s.next_send_seq()) + " (" + std::to_string(s.replay_bytes()) +
           " bytes), the books say " + std::to_string(st.acked) + ".." +
           std::to_string(st.messages.size()) + " (" + std::to_string(st.unacked_bytes) + ")");
    if (s.replay_bytes() > s.settings().max_replay_bytes)
      fail(std::string(name_of(side)) + ": replay buffer over max_replay_bytes");
    if (s.unconsumed_bytes() > s.settings().max_replay_bytes)
      fail(std::string(name_of(side)) + ": holds more unread than max_replay_bytes");
  }

  // --- The final phase -------------------------------------------------------------------------

  // The network heals. The app keeps its connection if both ends are established on it (then
  // keep-alives flow both ways), else it moves to a fresh one; everything in flight is
  // delivered before time passes, in small steps, until all is quiet.
  void settle() {
    settling_ = true;
    step_ = 0;
    finish_writes(); // a connection given up is let go of only then
    const int c = ep_[client].conn;
    const bool works = c >= 0 && ep_[server].conn == c && !conns_[c].blackholed &&
                       ep_[client].s->state() == session_state::established &&
                       ep_[server].s->state() == session_state::established;
    if (!works) open_connection();
    healthy_ = ep_[client].conn;
    if (sabotage_ == sabotage::lazy_settle) return;
    for (; step_ < 600 && failure_.empty(); ++step_) {
      for (int side : {client, server})
        consume(side, SIZE_MAX);
      pump();
      if (quiet()) return;
      advance_time(50ms); // delayed ACKs and keep-alives fire; far below any timeout
      if (ep_[client].conn != healthy_) return fail("the app lost its healthy connection");
    }
    fail("the link did not go quiet: client " + std::string(to_string(ep_[client].s->state())) +
         " with " + std::to_string(ep_[client].s->replay_count()) + " unacked, server " +
         std::string(to_string(ep_[server].s->state())) + " with " +
         std::to_string(ep_[server].s->replay_count()) + " unacked");
  }

  // Delivers everything in flight, both ways, until nothing is.
  void pump() {
    for (int guard = 0; guard < 10000 && failure_.empty(); ++guard) {
      finish_writes();
      accept(false);
      const bool idle = pending_for(server) == 0 && pending_for(client) == 0;
      read(server, pending_for(server)); // also EOF
      read(client, pending_for(client));
      if (idle) return;
    }
  }

  void finish_writes() {
    for (int side : {client, server})
      while (ep_[side].writing && failure_.empty())
        write_done(side);
  }

  bool quiet() const {
    const int c = ep_[client].conn;
    return c >= 0 && ep_[server].conn == c && !ep_[client].writing && !ep_[server].writing &&
           conns_[c].dir[client].pending() == 0 && conns_[c].dir[server].pending() == 0 &&
           ep_[client].s->state() == session_state::established &&
           ep_[server].s->state() == session_state::established &&
           ep_[client].s->replay_count() == 0 && ep_[server].s->replay_count() == 0;
  }

  // Rule 10, and rules 1–2 once more over all the books.
  void final_checks() {
    for (int side : {client, server}) {
      const endpoint& ep = ep_[side];
      const std::string who = name_of(side);
      for (std::size_t i = 0; i < ep.incs.size(); ++i)
        for (std::size_t k = 0; k < ep.incs[i].streams.size(); ++k) {
          const stream& st = ep.incs[i].streams[k];
          const std::string where = who + " stream " + std::to_string(i) + "/" + std::to_string(k);
          if (st.acked > st.delivered || st.delivered > st.messages.size())
            return fail(where + ": acked " + std::to_string(st.acked) + ", delivered " +
                        std::to_string(st.delivered) + ", sent " +
                        std::to_string(st.messages.size()));
        }
      const stream& live = ep.incs.back().streams.back();
      if (live.acked != live.messages.size() || live.delivered != live.messages.size())
        return fail(who + ": of " + std::to_string(live.messages.size()) + " messages " +
                    std::to_string(live.acked) + " acknowledged, " +
                    std::to_string(live.delivered) + " delivered");
      if (!live.messages.empty() && (!live.receiver || *live.receiver != ep_[peer_of(side)].inc()))
        return fail(who + ": its messages reached another incarnation than the live peer");
    }
    if (ep_[client].s->id() != ep_[server].s->id())
      fail("client and server ended in different sessions");
  }

  std::uint64_t seed_;
  sabotage sabotage_;
  std::mt19937_64 rng_;
  session_settings settings_;
  std::array<endpoint, 2> ep_;
  std::deque<connection> conns_;
  int latest_ = -1;              // the live client incarnation's newest connection
  int healthy_ = -1;             // the final phase's connection
  unsigned consume_percent_ = 0; // on_consume: the chance per step that an application reads
  tp now_ = tp{} + 1h;
  int step_ = -1;
  bool settling_ = false;
  bool big_ = false;          // max_message_size is the default 64 KiB
  bool async_writes_ = false; // poll_output() only once the previous write completed
  std::uint64_t ids_issued_ = 0, payload_tags_ = 0, data_frames_seen_ = 0;
  session_id last_id_;
  std::array<trace_entry, 24> trace_{};
  bool verbose_ = std::getenv("LANYARD_PROPERTY_VERBOSE") != nullptr;
  std::size_t trace_next_ = 0;
  std::string failure_;
  coverage cov_;
};

std::uint64_t env_or(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : fallback;
}

struct range_result {
  std::string failure; // the first one
  coverage covered;
};

range_result run_range(std::uint64_t first, std::uint64_t count, sabotage sab = sabotage::none) {
  range_result r;
  for (std::uint64_t i = 0; i < count && r.failure.empty(); ++i) {
    simulation sim(first + i, sab);
    r.failure = sim.run();
    r.covered.add(sim.covered());
  }
  return r;
}

// Also on unbuffered stderr: a build without exceptions ends the run at a failed REQUIRE
// (std::terminate), and Catch's buffered report of the seed could be lost with it.
void say(const std::string& text) {
  std::fprintf(stderr, "%s\n", text.c_str());
  std::fflush(stderr);
}

void report(const range_result& r) {
  if (r.failure.empty()) return;
  say("session property FAILED: " + r.failure);
  FAIL_CHECK(r.failure);
}

// The schedules must exercise the hard cases, not only a happy link. The minimums are about
// half of what 1000 schedules do, scaled to the number run.
void check_coverage(const coverage& c, std::uint64_t schedules) {
  INFO(c.describe());
  const auto at_least = [schedules](std::uint64_t per_thousand) {
    return per_thousand * schedules / 1000;
  };
  CHECK(c.delivered >= at_least(20000));
  CHECK(c.empty_sent >= at_least(5000));
  CHECK(c.max_sent >= at_least(5000));
  CHECK(c.too_large >= at_least(1000));
  CHECK(c.buffer_full >= at_least(5000));
  CHECK(c.resumed >= at_least(300));
  CHECK(c.handovers >= at_least(400));
  CHECK(c.takeovers >= at_least(400));
  CHECK(c.stale_accepts >= at_least(20));
  CHECK(c.stale_replacements >= at_least(5));
  CHECK(c.late_deliveries >= at_least(200));
  CHECK(c.rsts >= at_least(150));
  CHECK(c.blackholes >= at_least(150));
  CHECK(c.half_opens >= at_least(150));
  CHECK(c.timeouts >= at_least(400));
  CHECK(c.server_reboots >= at_least(120));
  CHECK(c.client_restarts >= at_least(120));
  CHECK(c.client_resets >= at_least(40));
  CHECK(c.server_resets >= at_least(120));
  CHECK(c.reported_but_delivered >= at_least(50));
  CHECK(c.big_schedules >= at_least(40));
  CHECK(c.timer_spins == 0); // a deadline handled is never due again at once
  CHECK(c.consume_schedules >= at_least(250));
  CHECK(c.consumed >= at_least(5000));
  // Rare, and spread wide: 11 to 42 per 1000 schedules over 100 random ranges (median 24),
  // and 7 in 4 of 1,800 (the old minimum of 10 failed those: about one CI run in 400, a
  // coverage flake, not a broken guarantee). 3 still proves the case is exercised.
  CHECK(c.resumed_holding_unread >= at_least(3));
  CHECK(c.control_delivered >= at_least(1000));
}

// Per range. Debug + ASan: about 2.5 s per 1000; RelWithDebInfo: about 0.3 s.
constexpr std::uint64_t default_schedules = 1000;

} // namespace

TEST_CASE("session property: exactly once, in order, or exactly reported (fixed seeds)") {
  if (std::getenv("LANYARD_PROPERTY_SEED")) {
    WARN("LANYARD_PROPERTY_SEED is set: the fixed seeds are skipped");
    return;
  }
  const std::uint64_t n = env_or("LANYARD_PROPERTY_SCHEDULES", default_schedules);
  const range_result r = run_range(1, n);
  INFO("fixed seeds 1.." << n);
  report(r);
  if (!r.failure.empty()) return; // the coverage of a cut-short range says nothing
  WARN("fixed seeds 1.." << n << ": " << r.covered.describe());
  if (n >= default_schedules) check_coverage(r.covered, n);
}

TEST_CASE("session property: exactly once, in order, or exactly reported (random seeds)") {
  std::uint64_t base = 0;
  if (const char* s = std::getenv("LANYARD_PROPERTY_SEED"); s && *s) {
    base = std::strtoull(s, nullptr, 10);
  } else {
    std::random_device rd;
    base = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  }
  const std::uint64_t n = env_or("LANYARD_PROPERTY_SCHEDULES", default_schedules);
  // Printed up front so that even a crash can be replayed.
  const std::string range = "random seeds " + std::to_string(base) + ".." +
                            std::to_string(base + n - 1) +
                            " (replay with LANYARD_PROPERTY_SEED=" + std::to_string(base) +
                            " LANYARD_PROPERTY_SCHEDULES=" + std::to_string(n) + ")";
  say("session property: " + range);
  WARN(range);
  const range_result r = run_range(base, n);
  INFO(range);
  report(r);
  if (r.failure.empty() && n >= default_schedules) check_coverage(r.covered, n);
}

// The checks above can fail: a transport or an application that breaks the guarantee is
// caught, with the seed, the step and the rule in the report.
TEST_CASE("session property: the checks catch a broken transport or application") {
  struct mutation {
    sabotage sab;
    const char* expect;      // in the failure report...
    const char* alternative; // ... or this, when a schedule catches it another way
  };
  const mutation mutations[] = {
      {sabotage::corrupt_payload, "payload differs", "payload differs"},
      // The receiving session itself sees the gap and fails the connection.
      {sabotage::drop_data_frame, "connection failed (code 8)", "connection failed (code 8)"},
      {sabotage::skip_delivery, "a gap", "the peer received only"},
      {sabotage::duplicate_delivery, "delivered twice", "delivered twice"},
      {sabotage::lazy_settle, "acknowledged", "acknowledged"},
  };
  for (const mutation& m : mutations) {
    const range_result r = run_range(1, 300, m.sab);
    INFO("sabotage " << static_cast<int>(m.sab) << ": " << r.failure);
    CHECK_FALSE(r.failure.empty());
    CHECK((r.failure.find(m.expect) != std::string::npos ||
           r.failure.find(m.alternative) != std::string::npos));
    CHECK(r.failure.find("seed ") == 0);
    CHECK(r.failure.find("LANYARD_PROPERTY_SEED=") != std::string::npos);
  }
}

// A core bug found by the asynchronous writes above, fixed: handle_deadline(now) with a
// delayed ACK due only set "ACK now" and left the ACK deadline in the past until poll_output()
// ran, so next_deadline() kept returning that past time although handle_deadline() had nothing
// left to do there. session_runner does not poll output while a write is in flight; it re-arms
// its timer at next_deadline(), which fired at once, again and again: the executor spun until
// the write completed (on a peer that stopped reading: until TCP_USER_TIMEOUT or peer_dead).
// Expected: after handle_deadline(t), next_deadline() > t.
TEST_CASE("session: after handle_deadline(t) the next deadline is later than t, even before "
          "poll_output()",
          "[session]") {
  session_settings cs;
  cs.ack_every = 16;
  cs.ack_delay = 20ms;
  session_settings ss = cs;
  ss.new_session_id = [] {
    session_id id;
    id.bytes[0] = std::byte{1};
    return id;
  };
  session c(session_role::client, cs), s(session_role::server, ss);
  const tp t0 = tp{} + 1h;
  REQUIRE_FALSE(c.on_connected(t0));
  REQUIRE_FALSE(s.on_connected(t0));
  REQUIRE_FALSE(s.receive(c.poll_output(t0), t0)); // HELLO
  REQUIRE_FALSE(c.receive(s.poll_output(t0), t0)); // WELCOME
  REQUIRE(c.state() == session_state::established);
  REQUIRE_FALSE(s.send(make_payload(1, 10), t0).error);
  REQUIRE_FALSE(c.receive(s.poll_output(t0), t0)); // DATA: the client's ACK waits ack_delay
  const tp due = c.next_deadline();
  REQUIRE(due == t0 + 20ms);

  const auto after_due = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(c.next_deadline() - due).count();
  };
  c.handle_deadline(due); // the driver's write is still in flight: no poll_output() yet
  INFO("next_deadline() - due = " << after_due() << " ms");
  CHECK(c.next_deadline() > due);

  CHECK_FALSE(c.poll_output(due).empty()); // the ACK goes out once output is polled
  CHECK(c.next_deadline() > due);
}
