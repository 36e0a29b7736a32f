#include "lanyard/core/session.hpp"

#include "lanyard/core/channel_error.hpp"
#include "lanyard/core/error_condition.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <utility>

namespace lanyard::core {

namespace {

// Appends to a ring that doubles its room when full. Allocation failure terminates, as
// everywhere in the core (std::abort: no exception machinery is needed for it).
template <class T>
void append(fixed_ring<T>& r, T&& v) noexcept {
  if (r.full() && !r.grow(std::max<std::size_t>(2 * r.capacity(), 4))) std::abort();
  (void)r.push_back(std::move(v));
}

// A ring emptied after a burst gives its block back (see the file comment of session.hpp).
template <class T>
void shrink_if_idle(fixed_ring<T>& r) noexcept {
  if (r.empty() && r.capacity() > 64) r = fixed_ring<T>{};
}

} // namespace

std::string_view to_string(session_state s) noexcept {
  switch (s) {
  case session_state::disconnected:
    return "disconnected";
  case session_state::handshaking:
    return "handshaking";
  case session_state::established:
    return "established";
  case session_state::closing:
    return "closing";
  case session_state::closed:
    return "closed";
  }
  return "unknown";
}

session::session(session_role role, session_settings settings)
    : session(role, std::move(settings), true) {}

session::session(session_role role, session_settings settings, bool reserve_now)
    : role_(role), settings_(std::move(settings)),
      // The body length is a u32 on the wire.
      decoder_(std::min<std::size_t>(settings_.max_message_size, UINT32_MAX - data_body_min_size) +
               data_body_min_size) {
  settings_.max_message_size = decoder_.max_body_size() - data_body_min_size;
  // One maximum message must always fit, or a send could be refused forever.
  settings_.max_replay_bytes =
      std::max(settings_.max_replay_bytes, charge(settings_.max_message_size));
  settings_.ack_every = std::max<std::size_t>(settings_.ack_every, 1);
  // A view is taken by consume(): acknowledging on receipt would let the peer send on while
  // the application holds it.
  if (views()) settings_.acknowledge = ack_policy::on_consume;
  // Until a handshake says otherwise, the peer is taken to be configured alike.
  peer_ = own_limits();
  if (!reserve_now) return; // restart(): the buffers come from the session restarted
  // The replay ring's headers (16 B) are less than the charge of a message (32 B): a limit
  // of max_replay_bytes holds whatever send() admits. Views point into the decoder's buffer,
  // so every frame is copied there (and kept: a view must outlive the caller's input chunk).
  // Events one call produces: state changes, established, a message, acked (coalesced here),
  // an RTT sample, a failure: a caller that drains after every call never grows the ring.
  // Each allocation goes through the non-throwing operator new; the first that fails ends
  // the reservation (memory_reserved() says so).
  memory_reserved_ = replay_.reset(settings_.max_replay_bytes, reserved()) &&
                     (!(reserved() || views()) || decoder_.keep_frames_in_buffer()) &&
                     (!reserved() || (out_.reserve(output_capacity()) && events_.reserve(8)));
  transmit_pos_ = replay_.begin();
  // A session that grows keeps the core's policy: a failed allocation terminates.
  if (!memory_reserved_ && !reserved()) std::abort();
}

void session::restart() noexcept {
  replay_.clear();
  decoder_.reset();
  out_.clear();
  events_.clear();
  held_control_.clear();
  // Made again in its own memory (every field a new session's, none missed), without
  // reserving: the buffers are taken out first and given back (moving them, like the
  // settings' callbacks, allocates nothing).
  replay_ring replay = std::move(replay_);
  frame_decoder decoder = std::move(decoder_);
  byte_buffer out = std::move(out_);
  fixed_ring<session_event> events = std::move(events_);
  std::vector<std::pair<std::uint64_t, std::size_t>> held = std::move(held_control_);
  const session_role role = role_;
  const bool reserved = memory_reserved_;
  session_settings settings = std::move(settings_);
  this->~session();
  new (this) session(role, std::move(settings), false);
  replay_ = std::move(replay);
  transmit_pos_ = replay_.begin();
  decoder_ = std::move(decoder);
  out_ = std::move(out);
  events_ = std::move(events);
  held_control_ = std::move(held);
  memory_reserved_ = reserved;
}

// The largest output poll_output() builds: a batch, or the handshake and control frames
// (WELCOME, ACK, PONG, PING: under 128 bytes) and one largest message frame.
std::size_t session::output_capacity() const noexcept {
  return std::max(settings_.output_batch_bytes,
                  128 + frame_header_size + control_body_min_size + settings_.max_message_size);
}

receive_limits session::own_limits() const noexcept {
  constexpr std::size_t max32 = UINT32_MAX;
  return {static_cast<std::uint32_t>(std::min(settings_.max_message_size, max32)),
          static_cast<std::uint32_t>(std::min(settings_.max_replay_bytes, max32))};
}

// The peer's HELLO or WELCOME said what it accepts; checked before the frame changes anything
// else. False (the connection failed) for limits no sender could keep, invalid_frame_field: a
// window smaller than one message of the peer's own maximum would stall every send. And
// message_too_large for a message queued before the peer was known and larger than its
// maximum: it could never be delivered (the caller learns it from the connection's failure;
// the message stays in the session, or in its reset's list).
bool session::adopt_peer_limits(const receive_limits& l) {
  if (std::uint64_t{l.window} < std::uint64_t{l.max_message} + replay_overhead_per_message) {
    fail_connection(channel_errc::invalid_frame_field, false, true);
    return false;
  }
  peer_ = l;
  // send() held every queued message to this end's own maximum: only a smaller one needs the
  // walk over the replay buffer (on every handshake otherwise, up to max_replay_bytes of it).
  if (l.max_message >= settings_.max_message_size) return true;
  for (auto p = replay_.begin(); p != replay_.end(); p = replay_.next(p)) {
    if (replay_.at(p).size() > l.max_message) {
      fail_connection(channel_errc::message_too_large, false, true);
      return false;
    }
  }
  return true;
}

void session::emit(session_event ev) {
  append(events_, std::move(ev));
}

// Empties the replay buffer into a list (the unacknowledged messages of a reset or a close).
std::size_t session::take_replay(std::vector<message>& out) {
  const std::size_t count = replay_.size();
  if (settings_.unacked == unacked_report::messages) {
    out.reserve(count);
    for (auto p = replay_.begin(); p != replay_.end(); p = replay_.next(p)) {
      const replay_ring::entry e = replay_.at(p);
      message m{e.seq, std::vector<std::byte>(e.head.begin(), e.head.end()), e.kind};
      m.payload.insert(m.payload.end(), e.tail.begin(), e.tail.end());
      out.push_back(std::move(m));
    }
  }
  replay_.clear();
  transmit_pos_ = replay_.begin();
  replay_bytes_ = 0;
  return count;
}

void session::set_state(session_state s) {
  if (s == state_) return;
  emit(events::state_changed{state_, s});
  state_ = s;
}

// message_delivery::view: an application's message not consumed when its connection ends is
// given back, unacknowledged (ack_point() never passes it), so that the next connection's
// frames can use the decoder's buffer its view pointed into: the peer resends it after the
// handshake and it is delivered then, once.
void session::forget_held_message() noexcept {
  if (!holding_message()) return;
  recv_next_ = consumed_next_;
  skip_next_ = std::min(skip_next_, recv_next_);
  unconsumed_bytes_ = 0;
}

// Per-connection state starts afresh; the session's own state is untouched.
void session::reset_connection(time_point now) {
  forget_held_message();
  stop_after_message_ = false;
  decoder_.reset();
  out_.clear();
  last_receive_ = now;
  handshake_deadline_ = time_point::max();
  hello_pending_ = welcome_pending_ = close_pending_ = false;
  hello_sent_.reset();
  ack_now_ = false;
  ack_deadline_ = time_point::max();
  next_ping_ = time_point::max();
  ping_pending_ = false;
  ping_outstanding_.reset();
  pong_pending_.reset();
  rewind_transmission();
}

std::error_code session::on_connected(time_point now) {
  if (state_ == session_state::closed) return channel_errc::session_closed;
  if (state_ != session_state::disconnected) return channel_errc::invalid_state;
  reset_connection(now);
  handshake_deadline_ = now + settings_.handshake_timeout;
  if (role_ == session_role::client) hello_pending_ = true;
  set_state(session_state::handshaking);
  return {};
}

void session::on_disconnected(time_point now) {
  if (state_ == session_state::disconnected || state_ == session_state::closed) {
    if (state_ == session_state::closed) close_pending_ = false;
    return;
  }
  reset_connection(now);
  set_state(session_state::disconnected);
}

void session::fail_connection(std::error_code ec, bool by_peer, bool send_close) {
  emit(events::connection_failed{ec, by_peer});
  connection_error_ = ec;
  const session_state was = state_;
  reset_connection(last_receive_);
  // A CLOSE only makes sense if the peer can still read us.
  close_pending_ =
      send_close && (was == session_state::handshaking || was == session_state::established);
  close_code_ = static_cast<std::uint16_t>(ec.value());
  set_state(session_state::closing);
}

std::error_code session::receive(std::span<const std::byte> bytes, time_point now) {
  if (views()) return channel_errc::invalid_state;
  return receive_some(bytes, now).error;
}

session::receive_result session::receive_some(std::span<const std::byte> bytes, time_point now) {
  receive_result r;
  if (!connected()) {
    r.taken = bytes.size();
    return r;
  }
  // The peer is alive even while its bytes wait for the application (view held).
  if (!bytes.empty()) last_receive_ = now;
  while (!bytes.empty() && connected() && !holding_message()) {
    decode_result d = decoder_.decode(bytes);
    bytes = bytes.subspan(d.consumed);
    r.taken += d.consumed;
    if (d.error) fail_connection(d.error, false, true);
    if (d.value) {
      stop_after_message_ = false;
      handle_frame(*d.value, now);
      // A view stays the decoder's until the next call.
      if (stop_after_message_) break;
    }
  }
  // A connection that failed or a session that ended has no use for the rest.
  if (!connected()) r.taken += bytes.size();
  if (state_ == session_state::closing) r.error = connection_error_;
  return r;
}

void session::handle_frame(const frame& f, time_point now) {
  if (auto* c = std::get_if<close_frame>(&f)) return handle_close(*c);
  if (state_ == session_state::handshaking) {
    if (role_ == session_role::server) {
      if (auto* h = std::get_if<hello_frame>(&f)) return handle_hello(*h, now);
    } else {
      if (auto* w = std::get_if<welcome_frame>(&f)) return handle_welcome(*w, now);
    }
    // Nothing but the handshake may come first.
    return fail_connection(channel_errc::protocol_violation, false, true);
  }
  switch (type_of(f)) {
  case frame_type::data: {
    const auto& d = std::get<data_frame>(f);
    return handle_message(d.seq, message_kind::application, d.payload, now);
  }
  case frame_type::control: {
    const auto& c = std::get<control_frame>(f);
    return handle_message(c.seq, c.service, c.payload, now);
  }
  case frame_type::ack:
    return handle_ack(std::get<ack_frame>(f));
  case frame_type::ping:
    pong_pending_ = std::get<ping_frame>(f).token;
    return;
  case frame_type::pong:
    return handle_pong(std::get<pong_frame>(f), now);
  default: // HELLO or WELCOME after the handshake
    return fail_connection(channel_errc::protocol_violation, false, true);
  }
}

// The peer announced it expects `next` from us: everything below is acknowledged, the rest is
// retransmitted from there. False if `next` is outside what we could have sent.
bool session::peer_next_expected(std::uint64_t next) {
  if (next < acked_ || next > send_next_) return false;
  drop_acked(next);
  rewind_transmission();
  return true;
}

void session::drop_acked(std::uint64_t next) {
  while (!replay_.empty()) {
    const replay_ring::entry e = replay_.front();
    if (e.seq >= next) break;
    const std::size_t cost = charge(e.size());
    replay_bytes_ -= cost;
    if (e.seq < transmit_next_) in_flight_bytes_ -= std::min(in_flight_bytes_, cost);
    replay_.pop_front();
  }
  if (next == acked_) return;
  acked_ = next;
  // Acknowledgements are cumulative: with reserved memory a run of ACK frames in one input
  // updates the event still waiting instead of queueing one each (the queue keeps its size).
  if (reserved() && !events_.empty())
    if (auto* a = std::get_if<events::acked>(&events_[events_.size() - 1])) {
      a->next_unacked = acked_;
      return;
    }
  emit(events::acked{acked_});
}

void session::start_new_session(const session_id& new_id) {
  if (had_traffic_) {
    events::session_reset reset{id_, new_id, {}, 0};
    reset.unacked_count = take_replay(reset.unacked);
    send_next_ = acked_ = transmit_next_ = 0;
    in_flight_bytes_ = 0;
    recv_next_ = ack_sent_ = consumed_next_ = skip_next_ = 0;
    unconsumed_bytes_ = 0;
    held_control_.clear();
    emit(std::move(reset));
  }
  // Without traffic nothing was numbered on the wire: queued messages keep seq 0.. as is.
  id_ = new_id;
  had_traffic_ = false;
}

void session::establish(bool resumed, time_point now) {
  handshake_deadline_ = time_point::max();
  next_ping_ = now + settings_.keepalive_interval;
  // on_consume: the application took more since the HELLO was sent (client).
  schedule_ack(now);
  set_state(session_state::established);
  emit(events::established{id_, resumed});
}

void session::handle_hello(const hello_frame& h, time_point now) {
  if (!adopt_peer_limits(h.limits)) return;
  bool resumed = false;
  if (!id_.is_zero() && h.id == id_) {
    if (!peer_next_expected(h.next_expected))
      return fail_connection(channel_errc::sequence_out_of_window, false, true);
    resumed = true;
  } else {
    if (!h.id.is_zero() && settings_.is_foreign_session && settings_.is_foreign_session(h.id))
      return fail_connection(channel_errc::session_not_owned, false, true);
    if (!settings_.new_session_id) return fail_connection(channel_errc::invalid_state, false, true);
    session_id fresh = settings_.new_session_id();
    if (fresh.is_zero() || fresh == id_) // a broken generator must not resume by accident
      return fail_connection(channel_errc::invalid_state, false, true);
    start_new_session(fresh);
    rewind_transmission();
  }
  welcome_pending_ = true;
  welcome_resumed_ = resumed;
  establish(resumed, now);
}

void session::handle_welcome(const welcome_frame& w, time_point now) {
  if (w.id.is_zero()) return fail_connection(channel_errc::invalid_frame_field, false, true);
  if (!adopt_peer_limits(w.limits)) return;
  if (w.resumed) {
    // The server can only resume what we asked for.
    if (id_.is_zero() || w.id != id_)
      return fail_connection(channel_errc::protocol_violation, false, true);
    if (!peer_next_expected(w.next_expected))
      return fail_connection(channel_errc::sequence_out_of_window, false, true);
  } else {
    if (w.id == id_) return fail_connection(channel_errc::protocol_violation, false, true);
    // A new session expects message 0. Checked before adopting anything: a rejected WELCOME
    // must leave the session exactly as it was.
    if (w.next_expected != 0)
      return fail_connection(channel_errc::sequence_out_of_window, false, true);
    start_new_session(w.id);
    rewind_transmission();
  }
  if (hello_sent_) add_rtt_sample(now - *hello_sent_);
  establish(w.resumed, now);
}

// DATA and CONTROL alike: one sequence space, one window.
void session::handle_message(std::uint64_t seq, message_kind kind,
                             std::span<const std::byte> payload, time_point now) {
  // on_consume: after a resume the peer first resends what we hold unread, in order.
  if (skip_next_ < recv_next_) {
    if (seq != skip_next_)
      return fail_connection(channel_errc::sequence_out_of_window, false, true);
    ++skip_next_;
    // What the application took meanwhile may be acknowledged now (ack_point()).
    schedule_ack(now);
    return;
  }
  // TCP neither loses nor reorders, and a resume restarts exactly at recv_next_: anything
  // else is a broken or malicious peer.
  if (seq != recv_next_) return fail_connection(channel_errc::sequence_out_of_window, false, true);
  const bool on_consume = settings_.acknowledge == ack_policy::on_consume;
  if (on_consume) {
    // A peer keeping the same replay bound cannot exceed it (it holds all we hold unread);
    // one that does would make us hold more than the window promised.
    const std::size_t cost = charge(payload.size());
    if (unconsumed_bytes_ + cost > settings_.max_replay_bytes)
      return fail_connection(channel_errc::sequence_out_of_window, false, true);
    unconsumed_bytes_ += cost;
  }
  ++recv_next_;
  skip_next_ = recv_next_;
  had_traffic_ = true;
  if (views()) {
    // The payload is in the decoder's buffer (keep_frames_in_buffer): receive_some() stops
    // here so that it stays there. Nothing was decoded past an unconsumed message, so a
    // service's message is next in line and taken at once.
    stop_after_message_ = true;
    emit(events::message_view{seq, kind, payload});
    if (kind != message_kind::application) take_consumed(payload.size(), now);
    return;
  }
  std::vector<std::byte> bytes(payload.begin(), payload.end());
  if (kind == message_kind::application) {
    emit(events::message_received{seq, std::move(bytes)});
  } else {
    emit(events::control_received{seq, kind, std::move(bytes)});
    // The application never takes a service's message: it is taken here, once the
    // application took everything before it.
    if (on_consume) {
      if (consumed_next_ == seq)
        take_consumed(payload.size(), now);
      else
        held_control_.emplace_back(seq, payload.size());
      return;
    }
  }
  if (!on_consume) count_for_ack(payload.size(), now);
}

// One more message is acknowledgeable (received, or consumed under on_consume).
void session::count_for_ack(std::size_t payload_size, time_point now) {
  // Also by volume: with large messages the sender's window (the smaller of the two ends'
  // max_replay_bytes: each announced its own) fills before ack_every messages arrive, and the
  // sender would stall for ack_delay. A quarter of it keeps the window open.
  recv_unacked_bytes_ += charge(payload_size);
  // Not connected yet (on_consume: the application reads while the link is down): the next
  // HELLO or WELCOME announces it, or establish() schedules the ACK. A timer armed now would
  // be long overdue by then.
  if (state_ != session_state::established) return;
  if (ack_point() - ack_sent_ >= settings_.ack_every ||
      recv_unacked_bytes_ >= std::min<std::size_t>(settings_.max_replay_bytes, peer_.window) / 4)
    ack_now_ = true;
  else
    schedule_ack(now);
}

// An ACK is owed: it goes out after ack_delay at the latest (or earlier with other output).
void session::schedule_ack(time_point now) {
  if (ack_point() != ack_sent_ && ack_deadline_ == time_point::max())
    ack_deadline_ = now + settings_.ack_delay;
}

// HELLO or WELCOME tells the peer where to resume: that acknowledges everything below, and
// under on_consume the peer resends from there what we hold unread (skipped on arrival).
void session::announce_next_expected() {
  ack_sent_ = next_unconsumed_seq();
  skip_next_ = ack_sent_;
  recv_unacked_bytes_ = 0;
}

std::error_code session::consume(std::uint64_t seq, std::size_t payload_size, time_point now) {
  if (state_ == session_state::closed) return channel_errc::session_closed;
  if (settings_.acknowledge != ack_policy::on_consume || seq != consumed_next_ || seq >= recv_next_)
    return channel_errc::invalid_state;
  take_consumed(payload_size, now);
  // Service messages right behind it are taken with it.
  std::size_t taken = 0;
  while (taken < held_control_.size() && held_control_[taken].first == consumed_next_)
    take_consumed(held_control_[taken++].second, now);
  held_control_.erase(held_control_.begin(),
                      held_control_.begin() + static_cast<std::ptrdiff_t>(taken));
  return {};
}

// Message consumed_next_ (of `payload_size` bytes) is taken: it leaves the window.
void session::take_consumed(std::size_t payload_size, time_point now) {
  ++consumed_next_;
  unconsumed_bytes_ -= std::min(unconsumed_bytes_, charge(payload_size));
  if (consumed_next_ == recv_next_) unconsumed_bytes_ = 0; // whatever sizes the caller gave
  count_for_ack(payload_size, now);
}

void session::handle_ack(const ack_frame& a) {
  // Only what was written on this connection can have been received on it.
  if (a.next_expected < acked_ || a.next_expected > transmit_next_)
    return fail_connection(channel_errc::sequence_out_of_window, false, true);
  drop_acked(a.next_expected);
}

void session::handle_pong(const pong_frame& p, time_point now) {
  // A PONG for an older PING (superseded) carries no usable sample; ignore it.
  if (!ping_outstanding_ || *ping_outstanding_ != p.token) return;
  ping_outstanding_.reset();
  add_rtt_sample(now - ping_sent_);
}

void session::handle_close(const close_frame& c) {
  if (c.code == 0) {
    // The peer ended the session for good.
    events::closed ev{{}, true, {}, 0};
    ev.unacked_count = take_replay(ev.unacked);
    reset_connection(last_receive_);
    emit(std::move(ev));
    set_state(session_state::closed);
    return;
  }
  std::error_code ec = make_error_code(static_cast<channel_errc>(c.code));
  if (!is_connection_error(ec)) ec = channel_errc::closed_by_peer;
  fail_connection(ec, true, false);
}

void session::add_rtt_sample(duration sample) {
  // RFC 6298 § 2.
  if (!srtt_) {
    srtt_ = sample;
    rttvar_ = sample / 2;
  } else {
    const duration diff = *srtt_ > sample ? *srtt_ - sample : sample - *srtt_;
    rttvar_ = (3 * rttvar_ + diff) / 4;
    srtt_ = (7 * *srtt_ + sample) / 8;
  }
  emit(events::rtt_sample{sample, *srtt_, rttvar_});
}

session::send_result session::send(std::span<const std::byte> payload, time_point,
                                   message_kind kind) {
  if (state_ == session_state::closed) return {channel_errc::session_closed, 0};
  if (payload.size() > std::min<std::size_t>(settings_.max_message_size, peer_.max_message))
    return {channel_errc::message_too_large, 0};
  // A kind no peer accepts would fail every connection it is resent on, for ever.
  if (!is_known_message_kind(kind)) return {channel_errc::invalid_frame_field, 0};
  const std::size_t cost = charge(payload.size());
  if (replay_bytes_ + cost > settings_.max_replay_bytes) return {channel_errc::buffer_full, 0};
  // The ring's limit is max_replay_bytes and its headers cost less than the charge: it has
  // room whenever the charge fits.
  if (!replay_.push_back(send_next_, kind, payload)) return {channel_errc::buffer_full, 0};
  const std::uint64_t seq = send_next_++;
  replay_bytes_ += cost;
  return {{}, seq};
}

std::error_code session::close(time_point now) {
  if (state_ == session_state::closed) return channel_errc::session_closed;
  const bool can_tell_peer = connected();
  reset_connection(now);
  close_pending_ = can_tell_peer;
  close_code_ = 0;
  events::closed ev{{}, false, {}, 0};
  ev.unacked_count = take_replay(ev.unacked);
  emit(std::move(ev));
  set_state(session_state::closed);
  return {};
}

std::optional<session_event> session::poll_event() {
  if (events_.empty()) return std::nullopt;
  session_event ev = std::move(events_.front());
  events_.pop_front();
  shrink_if_idle(events_);
  return ev;
}

// The client pings on its own schedule (its PONGs are its RTT samples, also while data flows).
// The server pings only after hearing nothing for 1.5 intervals: with the same settings on both
// ends the client's PINGs keep it quiet, so an idle connection carries one exchange per
// interval instead of two, yet a server whose client pings rarely or not at all still probes.
session::time_point session::ping_due() const noexcept {
  if (role_ == session_role::client || next_ping_ == time_point::max()) return next_ping_;
  return std::max(next_ping_, last_receive_ + settings_.keepalive_interval * 3 / 2);
}

session::time_point session::next_deadline() const noexcept {
  switch (state_) {
  case session_state::handshaking:
    return handshake_deadline_;
  case session_state::established: {
    const time_point dead = last_receive_ + settings_.peer_timeout;
    return std::min({dead, ack_deadline_, ping_due()});
  }
  default:
    return time_point::max();
  }
}

void session::handle_deadline(time_point now) {
  if (state_ == session_state::handshaking) {
    if (now >= handshake_deadline_) fail_connection(channel_errc::handshake_timeout, false, false);
    return;
  }
  if (state_ != session_state::established) return;
  if (now - last_receive_ >= settings_.peer_timeout)
    return fail_connection(channel_errc::peer_dead, false, false);
  if (now >= ack_deadline_) {
    // Due now: the ACK goes with the next poll_output(). The deadline is spent, so that a
    // caller that cannot poll yet (a write in flight) is not woken again and again for it.
    ack_now_ = true;
    ack_deadline_ = time_point::max();
  }
  if (now >= ping_due()) {
    ping_pending_ = true;
    next_ping_ = now + settings_.keepalive_interval;
  }
}

std::span<const std::byte> session::poll_output(time_point now) {
  // Give a large batch buffer back once the caller is done with it, so that idle sessions
  // stay small; busy ones reuse it.
  if (!reserved() && out_.capacity() > 16 * 1024 && out_.size() < 1024) out_.release();
  out_.clear();
  if (close_pending_) {
    // Closing or closed: the CLOSE is the last thing this connection carries.
    close_pending_ = false;
    std::string_view reason;
    std::string text;
    if (close_code_ != 0 && reserved()) {
      // The code's name: a sentence would be a std::string, allocated.
      reason = static_cast<const lanyard_category&>(channel_category()).code_name(close_code_);
    } else if (close_code_ != 0) {
      text = make_error_code(static_cast<channel_errc>(close_code_)).message();
      reason = text;
    }
    encode_frame(close_frame{close_code_, reason}, out_);
    return out_.view();
  }
  if (state_ == session_state::handshaking) {
    if (hello_pending_) {
      hello_pending_ = false;
      hello_sent_ = now;
      announce_next_expected();
      encode_frame(hello_frame{id_, ack_sent_, own_limits()}, out_);
    }
    return out_.view();
  }
  if (state_ != session_state::established) return out_.view();
  if (welcome_pending_) {
    welcome_pending_ = false;
    announce_next_expected();
    encode_frame(welcome_frame{id_, welcome_resumed_, ack_sent_, own_limits()}, out_);
  }
  if (now >= ack_deadline_) ack_now_ = true;
  const bool data_waiting = transmit_next_ < send_next_;
  // Piggyback a due-soon ACK on any other output: it costs 14 bytes and frees the peer's
  // replay buffer earlier.
  if (ack_point() != ack_sent_ && (ack_now_ || data_waiting || ping_pending_ || pong_pending_)) {
    encode_frame(ack_frame{ack_point()}, out_);
    ack_sent_ = ack_point();
    recv_unacked_bytes_ = 0;
    ack_now_ = false;
    ack_deadline_ = time_point::max();
  }
  if (pong_pending_) {
    encode_frame(pong_frame{*pong_pending_}, out_);
    pong_pending_.reset();
  }
  if (ping_pending_) {
    ping_pending_ = false;
    ping_outstanding_ = ++ping_counter_;
    ping_sent_ = now;
    encode_frame(ping_frame{*ping_outstanding_}, out_);
  }
  bool batched = false;
  while (transmit_next_ < send_next_) {
    const replay_ring::entry m = replay_.at(transmit_pos_);
    // The peer's window: it holds no more than it announced beyond its acknowledgement (under
    // on_consume, unread), whatever this end's own replay buffer holds. The next ACK opens it.
    const std::size_t cost = charge(m.size());
    if (in_flight_bytes_ + cost > peer_.window) break;
    // The batch ends before a frame that would take it past output_batch_bytes (the first
    // always goes): a caller that sized its write buffer for a batch or a frame (a
    // firmware's TLS output) can always take it whole.
    const std::size_t frame_size =
        frame_header_size +
        (m.kind == message_kind::application ? data_body_min_size : control_body_min_size) +
        m.size();
    if (batched && out_.size() + frame_size > settings_.output_batch_bytes) break;
    in_flight_bytes_ += cost;
    encode_message_frame(m.seq, m.kind, m.head, m.tail, out_);
    transmit_pos_ = replay_.next(transmit_pos_);
    ++transmit_next_;
    had_traffic_ = true;
    batched = true;
  }
  return out_.view();
}

} // namespace lanyard::core
