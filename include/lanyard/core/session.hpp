/// @file
/// The channel session state machine: sans-IO, one object per session, both roles.
///
/// A session outlives connections. Each direction numbers its messages from 0 (u64); the
/// receiver acknowledges cumulatively (after `ack_every` messages or `ack_delay`); the sender
/// keeps every unacknowledged message in a replay buffer bounded in bytes. On each new
/// connection the client sends HELLO(session id, next expected), the server answers
/// WELCOME(session id, resumed, next expected), and each side retransmits exactly what the
/// other lacks: delivery is exactly once and in order across any number of connections. If
/// the server does not know the session any more, it starts a new one and the side that had
/// traffic in the old one reports events::session_reset with every unacknowledged message
/// (or only their number: session_settings::unacked).
/// docs/PROTOCOL.md has the wire format and the rules.
///
/// Driving it (ngtcp2 style; the caller owns the transport and the clock):
///   - on_connected(now) when a transport connection is up (after TLS);
///   - receive(bytes, now) with whatever the transport read;
///   - send(payload, now) to queue a message;
///   - after each of these and after handle_deadline(): write poll_output(now) to the
///     transport completely, and drain poll_event();
///   - arm a timer for next_deadline() and call handle_deadline(now) when it fires;
///   - on_disconnected(now) when the transport closed or failed (also after state closing).
/// Time is std::chrono::steady_clock::time_point, only ever taken from the arguments: tests
/// pass literal time points. The session never reads a clock, an RNG, or does I/O; it never
/// throws (it builds with -fno-exceptions) — allocation failure terminates, as everywhere in
/// the core.
///
/// Memory: the replay buffer is a core::replay_ring (the messages' bytes in one circular
/// block of at most max_replay_bytes, nothing allocated per message) and the event queue a
/// core::fixed_ring (no std::deque: its code and its first block cost more than a firmware can
/// spare). Under session_memory::grow (the default) they start without room, double when full
/// and give a large block back once emptied, and so do the decoder's and the output's buffers:
/// an idle session stays small. Under session_memory::reserve every buffer is reserved at its
/// bound in the constructor and kept; with message_delivery::view too, nothing is allocated
/// once the session exists (a firmware's fixed heap; core.session_memory_test counts).
/// Events last until poll_event() drains them.
///
/// Errors: local calls return std::error_code in channel_category() (buffer_full,
/// message_too_large, session_closed, invalid_state). Anything wrong on the wire fails only
/// the current connection: events::connection_failed, state closing, optionally a CLOSE frame
/// in poll_output(); the session's messages and sequence numbers are untouched.
///
/// Thread-safety: distinct objects are safe, shared objects are unsafe (one strand/executor
/// per session in the asio layer). Cancellation: nothing blocks; dropping a connection is
/// on_disconnected(), ending the session is close().
#pragma once

#include "lanyard/core/fixed_ring.hpp"
#include "lanyard/core/frame.hpp"
#include "lanyard/core/frame_decoder.hpp"
#include "lanyard/core/replay_ring.hpp"
#include "lanyard/core/session_event.hpp"
#include "lanyard/core/session_id.hpp"
#include "lanyard/core/session_settings.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace lanyard::core {

/// Which end of the channel a session is: the client (app) sends HELLO and may be reset;
/// the server (accessory) answers with WELCOME and owns session ids.
enum class session_role { client, server };

/// See the file comment.
class session {
public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;
  using duration = clock::duration;

  /// Result of send(): the message's sequence number, or an error (then nothing was queued).
  struct send_result {
    std::error_code error;
    std::uint64_t seq = 0;
  };

  explicit session(session_role role, session_settings settings = {});

  /// session_memory::reserve: true if every buffer was reserved. The allocations go through
  /// the non-throwing operator new, so a firmware that builds its sessions at start-up learns
  /// here that its heap is too small (a session without its memory must not be used: drop
  /// it). Always true under session_memory::grow (a failed allocation there terminates).
  bool memory_reserved() const noexcept { return memory_reserved_; }

  /// Returns the session to the state it was made in (a new session: no id, no messages,
  /// sequence numbers from 0, disconnected), keeping its role, settings and reserved buffers:
  /// a firmware recycles one session object per slot instead of making one per controller, so
  /// nothing is allocated after start-up. Events not polled yet are dropped.
  void restart() noexcept;

  session_role role() const noexcept { return role_; }
  session_state state() const noexcept { return state_; }
  const session_settings& settings() const noexcept { return settings_; }

  /// The current session id (all zero before the first handshake on the client).
  const session_id& id() const noexcept { return id_; }

  // --- Connection lifecycle -----------------------------------------------------------------

  /// A new transport connection is up. Valid in state disconnected only (invalid_state
  /// otherwise, session_closed after the session ended). The client queues its HELLO.
  std::error_code on_connected(time_point now);

  /// Bytes read from the transport, split anywhere. Returns the connection error if these
  /// bytes failed the connection (also reported as events::connection_failed); bytes
  /// received outside handshaking/established are ignored. Under message_delivery::view it
  /// takes nothing and returns invalid_state: use receive_some().
  std::error_code receive(std::span<const std::byte> bytes, time_point now);

  /// Result of receive_some(): the connection error, as receive() returns it, and how many
  /// of the bytes were taken.
  struct receive_result {
    std::error_code error;
    std::size_t taken = 0;
  };

  /// receive() for message_delivery::view: takes bytes up to the end of the next message
  /// frame (events::message_view) and stops there. After an application's message it takes
  /// nothing more (taken 0) until consume() took that message; after a service's, it goes on
  /// at the next call. Hand the rest of the bytes in again later: the caller keeps them
  /// (a firmware stops reading the socket meanwhile, so the peer's window is the queue). The
  /// view's bytes are the session's own: they stay valid until the next receive_some(),
  /// on_disconnected() or close(). Under message_delivery::copy it takes everything, as
  /// receive() does. Bytes received outside handshaking/established are taken and ignored.
  receive_result receive_some(std::span<const std::byte> bytes, time_point now);

  /// How many bytes receive_some() would take before it stops: to the end of the frame being
  /// decoded (a header's 6 first), 0 while holding_message() or not connected. A caller that
  /// reads no more than this (a firmware reading its TLS plaintext) never has bytes left over.
  std::size_t input_wanted() const noexcept {
    return connected() && !holding_message() ? decoder_.wanted() : 0;
  }

  /// message_delivery::view: an application's message waits for consume() (receive_some()
  /// takes nothing until then).
  bool holding_message() const noexcept {
    return settings_.delivery == message_delivery::view && consumed_next_ < recv_next_;
  }

  /// Bytes to write to the transport now (empty if none). The view stays valid until the next
  /// call of a non-const member. Write all of it: the session considers it sent (whatever a
  /// dying connection loses is retransmitted after the next handshake).
  std::span<const std::byte> poll_output(time_point now);

  /// When handle_deadline() must be called next (time_point::max() if no timer is needed).
  time_point next_deadline() const noexcept;

  /// Runs the timers that expired at `now`: delayed ACK, keep-alive PING, peer and handshake
  /// timeouts. Harmless to call early.
  void handle_deadline(time_point now);

  /// The transport connection is gone (closed, failed or abandoned). Returns to disconnected
  /// unless the session has ended. Messages in flight are resent after the next handshake.
  void on_disconnected(time_point now);

  // --- Application ---------------------------------------------------------------------------

  /// Queues a message: the application's (a DATA frame), or with another `kind` a library
  /// service's (a CONTROL frame; the peer reports it as events::control_received). Both are
  /// numbered, buffered, acknowledged and retransmitted alike. Errors: message_too_large
  /// (> max_message_size, or > the peer's max_message once a handshake announced it:
  /// peer_limits()), buffer_full (the replay buffer cannot take it: wait for
  /// events::acked or fail), invalid_frame_field (`kind` is none of message_kind's values),
  /// session_closed. Works in every state but closed: while
  /// disconnected the message waits for the next connection.
  send_result send(std::span<const std::byte> payload, time_point now,
                   message_kind kind = message_kind::application);

  /// ack_policy::on_consume only: the application took received message `seq` (payload of
  /// `payload_size` bytes, as received). Service messages (events::control_received) are not
  /// the application's to take: the session consumes them itself, so the application
  /// consumes the message_received ones only, in order. Messages are consumed in order, one at a
  /// time, and only those of the current session: after events::session_reset the messages received
  /// before it are no longer this session's (do not consume them). Acknowledgements then
  /// follow as they follow receipt under on_receipt (ack_every, a quarter of
  /// max_replay_bytes, ack_delay). Errors: invalid_state (policy on_receipt, `seq` not the
  /// next unconsumed message, or not received yet), session_closed.
  std::error_code consume(std::uint64_t seq, std::size_t payload_size, time_point now);

  /// Ends the session: queues CLOSE(0) if connected, reports events::closed with the
  /// unacknowledged messages (or their number: session_settings::unacked) and enters state
  /// closed. session_closed if already closed.
  std::error_code close(time_point now);

  /// The next event, if any. Drain after every call that feeds the session.
  std::optional<session_event> poll_event();

  // --- Introspection -------------------------------------------------------------------------

  /// Sequence number the next send() gets.
  std::uint64_t next_send_seq() const noexcept { return send_next_; }
  /// Lowest sequence number not yet acknowledged by the peer (== next_send_seq() if none).
  std::uint64_t next_unacked_seq() const noexcept { return acked_; }
  /// Sequence number of the next message expected from the peer.
  std::uint64_t next_expected_seq() const noexcept { return recv_next_; }
  /// Sequence number of the next message the application has not consumed (on_consume;
  /// == next_expected_seq() under on_receipt).
  std::uint64_t next_unconsumed_seq() const noexcept {
    return settings_.acknowledge == ack_policy::on_consume ? consumed_next_ : recv_next_;
  }
  /// Bytes received but not consumed yet, charged as the replay buffer charges them (0 under
  /// on_receipt).
  std::size_t unconsumed_bytes() const noexcept { return unconsumed_bytes_; }
  /// Bytes the replay buffer is charged for (see session_settings::max_replay_bytes).
  std::size_t replay_bytes() const noexcept { return replay_bytes_; }
  /// Number of messages in the replay buffer.
  std::size_t replay_count() const noexcept { return replay_.size(); }
  /// The smoothed RTT, once measured.
  std::optional<duration> smoothed_rtt() const noexcept { return srtt_; }
  /// What the peer accepts, as its last HELLO or WELCOME announced (docs/PROTOCOL.md § 3.3);
  /// this end's own limits until a handshake said otherwise. The session sends messages of at
  /// most the smaller max_message and writes no more than the peer's window beyond its
  /// acknowledgement.
  const receive_limits& peer_limits() const noexcept { return peer_; }
  /// What this end announces: max_message_size and max_replay_bytes (at most 2^32 - 1 each).
  receive_limits own_limits() const noexcept;
  /// Bytes written on this connection and not acknowledged yet (charged as the replay buffer
  /// charges): at most peer_limits().window.
  std::size_t in_flight_bytes() const noexcept { return in_flight_bytes_; }

private:
  session(session_role role, session_settings settings, bool reserve_now);
  bool connected() const noexcept {
    return state_ == session_state::handshaking || state_ == session_state::established;
  }
  void set_state(session_state s);
  void reset_connection(time_point now);
  void fail_connection(std::error_code ec, bool by_peer, bool send_close);
  void handle_frame(const frame& f, time_point now);
  void handle_hello(const hello_frame& h, time_point now);
  void handle_welcome(const welcome_frame& w, time_point now);
  void handle_message(std::uint64_t seq, message_kind kind, std::span<const std::byte> payload,
                      time_point now);
  void take_consumed(std::size_t payload_size, time_point now);
  void handle_ack(const ack_frame& a);
  void handle_pong(const pong_frame& p, time_point now);
  void handle_close(const close_frame& c);
  bool peer_next_expected(std::uint64_t next);
  // What this end acknowledges: received (on_receipt) or consumed (on_consume), but never a
  // message the peer has not (re)sent on this connection yet: a sender may only see
  // acknowledged what it wrote on the connection (its check against broken peers), and after
  // a resume it resends what we hold unread before anything new.
  std::uint64_t ack_point() const noexcept {
    if (settings_.acknowledge == ack_policy::on_receipt) return recv_next_;
    return std::min(consumed_next_, skip_next_);
  }
  void count_for_ack(std::size_t payload_size, time_point now);
  void schedule_ack(time_point now);
  void announce_next_expected();
  void drop_acked(std::uint64_t next);
  void rewind_transmission() noexcept {
    transmit_next_ = acked_;
    transmit_pos_ = replay_.begin();
    in_flight_bytes_ = 0;
  }
  bool reserved() const noexcept { return settings_.memory == session_memory::reserve; }
  std::size_t output_capacity() const noexcept;
  bool views() const noexcept { return settings_.delivery == message_delivery::view; }
  void forget_held_message() noexcept;
  bool adopt_peer_limits(const receive_limits& l);
  void emit(session_event ev);
  // Empties the replay buffer into `out` (under unacked_report::messages) and says how many
  // messages it held.
  std::size_t take_replay(std::vector<message>& out);
  void start_new_session(const session_id& new_id);
  void establish(bool resumed, time_point now);
  void add_rtt_sample(duration sample);
  time_point ping_due() const noexcept;
  std::size_t charge(std::size_t payload_size) const noexcept {
    return payload_size + replay_overhead_per_message;
  }

  session_role role_;
  session_settings settings_;
  session_state state_ = session_state::disconnected;
  session_id id_;
  // True once DATA was sent or received under id_: only then does losing the session lose
  // anything, so only then is a reset reported.
  bool had_traffic_ = false;

  // Send direction.
  replay_ring replay_; // seq acked_ .. send_next_-1, in order
  std::size_t replay_bytes_ = 0;
  std::uint64_t send_next_ = 0;
  std::uint64_t acked_ = 0;
  std::uint64_t transmit_next_ = 0;        // next seq to write on this connection
  replay_ring::position transmit_pos_ = 0; // where message transmit_next_ is in replay_
  std::size_t in_flight_bytes_ = 0;        // charge of seq acked_ .. transmit_next_-1
  receive_limits peer_;                    // what the peer accepts (HELLO / WELCOME)

  // Receive direction.
  std::uint64_t recv_next_ = 0;
  std::uint64_t ack_sent_ = 0;         // last next_expected announced (ACK, HELLO or WELCOME)
  std::size_t recv_unacked_bytes_ = 0; // payload + overhead acknowledgeable since ack_sent_
  // on_consume: the application took every message below consumed_next_; those from there to
  // recv_next_ are held unread (unconsumed_bytes_, charged as the replay buffer charges). The
  // peer resumes from what was announced, so on a new connection the DATA from there up to
  // recv_next_ are retransmissions of held messages: skip_next_ is the next one to skip.
  std::uint64_t consumed_next_ = 0;
  std::size_t unconsumed_bytes_ = 0;
  std::uint64_t skip_next_ = 0;
  // on_consume: service messages held behind unread application messages, (seq, payload
  // size) in order; consumed by the session once everything before them is (a vector, not a
  // deque: an empty deque allocates, and most sessions never hold one).
  std::vector<std::pair<std::uint64_t, std::size_t>> held_control_;
  bool ack_now_ = false;
  time_point ack_deadline_ = time_point::max();
  // message_delivery::view: receive_some() stops after a message frame (its view is the
  // decoder's buffer until the next decode).
  bool stop_after_message_ = false;

  // Connection.
  frame_decoder decoder_;
  time_point last_receive_{};
  time_point handshake_deadline_ = time_point::max();
  bool hello_pending_ = false;
  bool welcome_pending_ = false;
  bool welcome_resumed_ = false;
  std::optional<time_point> hello_sent_;
  bool close_pending_ = false;
  std::uint16_t close_code_ = 0;
  std::error_code connection_error_; // why the connection failed (state closing)

  // Keep-alive and RTT.
  time_point next_ping_ = time_point::max();
  bool ping_pending_ = false;
  std::uint64_t ping_counter_ = 0;
  std::optional<std::uint64_t> ping_outstanding_; // token of the last PING sent
  time_point ping_sent_{};
  std::optional<std::uint64_t> pong_pending_;
  std::optional<duration> srtt_;
  duration rttvar_{};

  byte_buffer out_;
  fixed_ring<session_event> events_;
  bool memory_reserved_ = true;
};

} // namespace lanyard::core
