#include <lanyard/firmware/accessory.hpp>

#include "controller_admin.hpp"
#include "table_pairing_host.hpp"
#include <lanyard/core/app_message.hpp>
#include <lanyard/core/app_message_view.hpp>
#include <lanyard/core/channel_error.hpp>
#include <lanyard/core/fixed_ring.hpp>
#include <lanyard/core/frame.hpp>
#include <lanyard/core/pairing_error.hpp>
#include <lanyard/core/pairing_responder.hpp>
#include <lanyard/core/pairing_throttle.hpp>
#include <lanyard/core/provisioning_responder.hpp>
#include <lanyard/core/session_table.hpp>
#include <lanyard/crypto/pairing_crypto.hpp>
#include <lanyard/firmware/error.hpp>
#include <lanyard/tls_engine/engine.hpp>
#include <lanyard/tls_engine/error.hpp>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>

namespace lanyard::firmware {

core::session_settings firmware_session_profile() {
  core::session_settings s;
  s.max_replay_bytes = 16 * 1024;
  s.max_message_size = 4 * 1024;
  // One batch of output is one TLS write: a record's worth keeps the engine's buffer small.
  s.output_batch_bytes = 4 * 1024;
  // Every buffer reserved when a session is made, and received messages handed to the
  // application as views with the peer's window as the queue: nothing allocated per message.
  s.memory = core::session_memory::reserve;
  s.delivery = core::message_delivery::view;
  // A session's end or reset counts its unacknowledged messages rather than copy them.
  s.unacked = core::unacked_report::count;
  return s;
}

namespace {

// Connection handles: slot index in the low 16 bits, the slot's generation above.
constexpr std::size_t max_slots = 0xFFFF;
connection_id make_id(std::size_t slot, std::uint16_t generation) {
  return {static_cast<std::uint32_t>(slot) | (std::uint32_t{generation} << 16)};
}

} // namespace

struct accessory::impl {
  // A pairing exchange's state. Only a connection that is pairing needs one, so they are a
  // pool of their own, one per pending connection (max_pending), not a part of every
  // connection slot: that is 440 B less per session. Entries never move (an array allocated
  // once): the responder keeps references to the crypto and the host beside it.
  struct pairing_state {
    bool used = false;
    std::optional<crypto::mbedtls_pairing_crypto> crypto;
    std::optional<detail::table_pairing_host> host;
    std::optional<core::pairing_responder> responder;
  };
  // One connection slot. Slots never move (an array allocated once): the TLS verifier keeps a
  // reference to its slot.
  struct connection {
    enum class stage : std::uint8_t { free, tls, greeting, pairing, session, closing };
    stage st = stage::free;
    std::uint16_t generation = 0;
    std::uint64_t arrival = 0;
    std::optional<tls::engine> tls;
    tls::engine_buffers buffers; // this slot's share of tls_memory
    core::fingerprint fp;
    bool known = false; // the key is a paired controller's
    time_point deadline = time_point::max();
    // Greeting: the first plaintext byte, while the second (the frame type) has not come.
    std::optional<std::byte> first;
    // Its pairing exchange (stage pairing), from the pool; null otherwise.
    pairing_state* pairing = nullptr;
    core::pairing_responder* responder() const noexcept {
      return pairing ? &*pairing->responder : nullptr;
    }
    bool reported = false; // the pairing's end went out as an event
    std::size_t session = no_session;
    static constexpr std::size_t no_session = std::numeric_limits<std::size_t>::max();
  };
  struct session_slot {
    bool used = false;
    core::fingerprint key;
    std::optional<core::session> s;
    std::size_t conn = connection::no_session;
    // Its message waits in the event queue (a view of the session's frame buffer).
    bool message_queued = false;
    // The application took its message: read on at the next handle_deadline().
    bool resume = false;
  };

  // Never throws: the controller table and the session table reserve their room through the
  // non-throwing operator new (reserve() checks them), reserve() allocates the rest.
  impl(tls::context c, platform p, pairing_secrets sec, accessory_settings st) noexcept
      : ctx(std::move(c)), plat(p), secrets(std::move(sec)), settings(std::move(st)),
        controllers(settings.max_controllers),
        table({std::max<std::size_t>(settings.max_sessions, 1), settings.session_linger}),
        throttle(settings.failure_delay_first, settings.failure_delay_max),
        provisioning(settings.provisioning) {}

  // The tables, sized from the settings, each through the non-throwing operator new: false if
  // one allocation failed (what was reserved goes with the impl).
  bool reserve() noexcept {
    if (!controllers.reserved() || !table.reserved()) return false;
    slot_count = std::max<std::size_t>(settings.max_sessions, 1) +
                 std::max<std::size_t>(settings.max_pending, 1);
    // A connection handle keeps its slot in 16 bits (make_id): more slots would alias
    // handles. Nothing is reserved; start() refuses the settings (bad_settings).
    if (slot_count > max_slots) {
      slot_count = 0;
      return true;
    }
    // Room for the events one call can produce besides messages: a close and a pairing verdict
    // per connection, an end per session; messages and resets have max_events.
    control_events = 2 * slot_count + session_capacity();
    constexpr std::size_t most = std::numeric_limits<std::size_t>::max() / 4;
    if (settings.max_events > most || control_events > most ||
        !events.reserve(std::max<std::size_t>(settings.max_events, 1) + control_events))
      return false;
    conns.reset(new (std::nothrow) connection[slot_count]);
    if (!conns) return false;
    // The engines' ciphertext buffers, one block for every slot: reserved here, never grown.
    tls_in = std::max(settings.tls_input_bytes, tls::engine_buffers::min_input_bytes);
    tls_out = settings.tls_output_bytes;
    if (tls_out == 0)
      tls_out =
          std::max(settings.session.output_batch_bytes, settings.session.max_message_size + 64) +
          128;
    tls_out = std::max(tls_out, tls::engine_buffers::min_output_bytes);
    if (tls_in > most || tls_out > most || slot_count > most / (tls_in + tls_out))
      return false; // sizes no heap has
    tls_memory.reset(new (std::nothrow) std::uint8_t[slot_count * (tls_in + tls_out)]);
    if (!tls_memory) return false;
    // Each slot's TLS engine is made here and reset when the slot is reused (free_slot): a
    // connection allocates nothing of Lanyard's (mbedTLS its SSL context, from its own heap).
    for (std::size_t k = 0; k < slot_count; ++k) {
      std::uint8_t* base = tls_memory.get() + k * (tls_in + tls_out);
      conns[k].buffers = {std::span(base, tls_in), std::span(base + tls_in, tls_out)};
      // (An empty context has no engines: start() refuses it with bad_settings.)
      std::error_code error;
      if (ctx) conns[k].tls = tls::engine::create(ctx, conns[k].buffers, error);
      if (ctx && !conns[k].tls) return false;
    }
    pairings.reset(new (std::nothrow) pairing_state[pairing_capacity()]);
    if (!pairings) return false;
    sessions.reset(new (std::nothrow) session_slot[session_capacity()]);
    if (!sessions) return false;
    // Every session is made here, its buffers reserved (firmware_session_profile: replay ring,
    // frame, output, events), and recycled for one controller after another (make_session,
    // drop): a controller's first connection allocates nothing.
    for (std::size_t i = 0; i < session_capacity(); ++i) {
      sessions[i].s.emplace(core::session_role::server, session_settings_for(i));
      if (!sessions[i].s->memory_reserved()) return false;
    }
    blob_size = controller_table::blob_size(controllers.capacity());
    blob.reset(new (std::nothrow) std::byte[blob_size]);
    return blob != nullptr;
  }

  tls::context ctx;
  platform plat;
  pairing_secrets secrets;
  accessory_settings settings;
  controller_table controllers;
  core::session_table table;
  core::pairing_throttle throttle;
  core::provisioning_responder provisioning;
  std::unique_ptr<connection[]> conns;
  std::size_t slot_count = 0;
  std::unique_ptr<std::uint8_t[]> tls_memory;
  std::size_t tls_in = 0;
  std::size_t tls_out = 0;
  std::unique_ptr<session_slot[]> sessions;
  std::unique_ptr<pairing_state[]> pairings;
  std::unique_ptr<std::byte[]> blob; // the controller table's blob, reserved for its capacity
  std::size_t blob_size = 0;
  // Events until poll_event() takes them: max_events messages and resets, and control_events
  // more for the rest (closes, pairings, ends), which are never refused for want of room.
  core::fixed_ring<accessory_event> events;
  std::size_t control_events = 0;
  std::uint64_t next_arrival = 0;
  bool started = false;
  bool random_failed = false;
  // The admin whose wifi_set is being joined: the driver's verdict goes to it.
  std::optional<core::fingerprint> provisioning_by;
  std::array<std::uint8_t, 1024> plain{}; // one read's plaintext
  // The latest time a call brought: poll_event() has none, and consuming a message there
  // schedules its acknowledgement from it.
  time_point last_now{};

  // --- helpers -------------------------------------------------------------------------------
  std::size_t session_capacity() const { return std::max<std::size_t>(settings.max_sessions, 1); }
  std::size_t pairing_capacity() const { return std::max<std::size_t>(settings.max_pending, 1); }

  connection* lookup(connection_id id) const noexcept {
    const std::size_t slot = id.value & 0xffff;
    if (slot >= slot_count) return nullptr;
    connection& c = conns[slot];
    if (c.st == connection::stage::free || c.generation != (id.value >> 16)) return nullptr;
    return &c;
  }
  connection_id id_of(const connection& c) const noexcept {
    return make_id(static_cast<std::size_t>(&c - conns.get()), c.generation);
  }
  std::size_t index_of(const connection& c) const noexcept {
    return static_cast<std::size_t>(&c - conns.get());
  }

  session_slot* find_session(const core::fingerprint& key) const noexcept {
    for (std::size_t i = 0; i < session_capacity(); ++i)
      if (sessions[i].used && sessions[i].key == key) return &sessions[i];
    return nullptr;
  }

  std::chrono::system_clock::time_point wall() const { return plat.wall_clock(plat.user); }

  std::error_code save_controllers() {
    const std::size_t n = controllers.serialize(std::span(blob.get(), blob_size));
    if (plat.save(plat.user, storage_key::controllers, blob.get(), n) != 0)
      return firmware_errc::storage_failed;
    return {};
  }

  core::session_id random_session_id() {
    core::session_id id;
    for (int attempt = 0; attempt < 3 && id.is_zero(); ++attempt)
      if (plat.random.fill(plat.random.ctx, reinterpret_cast<unsigned char*>(id.bytes.data()),
                           id.bytes.size()) != 0)
        random_failed = true;
    if (id.is_zero()) {
      // No unpredictable id to give: the connection is closed before the WELCOME leaves
      // (pump_session checks random_failed); the id only has to be non-zero until then.
      random_failed = true;
      id.bytes[0] = std::byte{1};
    }
    return id;
  }

  // --- writing plaintext through TLS ------------------------------------------------------------
  // Encrypts `data` into the connection's output buffer, all of it: what is written here was
  // taken from a session or a pairing exchange, which count it as sent. Callers write only
  // when the buffer is empty (pump_session) and it is sized for the largest frame; if it still
  // does not fit, the connection ends (output_full): the session resends on the next one.
  void write_plain(connection& c, std::span<const std::byte> data, time_point now) {
    auto in = std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(data.data()),
                                            data.size());
    while (!in.empty() && c.tls) {
      std::size_t n = 0;
      std::error_code ec;
      c.tls->write(in, n, ec);
      if (ec) return begin_close(c, ec, now);
      in = in.subspan(n);
      if (n == 0) return begin_close(c, firmware_errc::output_full, now);
    }
  }

  // The driver made room in the connection's output buffer: what waited for it goes on (the
  // rest of a handshake flight mbedTLS held, a session's next frames).
  void resume_output(connection& c, time_point now) {
    if (!c.tls || !c.tls->output().empty()) return;
    if (c.st == connection::stage::tls) return advance(c, now);
    if (c.st == connection::stage::closing || c.st == connection::stage::free) return;
    std::size_t n = 0;
    std::error_code ec;
    c.tls->write({}, n, ec); // hands over what mbedTLS still holds, if anything
    if (ec) return begin_close(c, ec, now);
    if (c.st == connection::stage::session && c.session != connection::no_session)
      pump_session(sessions[c.session], now);
  }

  void write_close_frame(connection& c, core::channel_errc code, std::string_view reason,
                         time_point now) {
    // On the stack: closing a connection allocates nothing (the reasons are short sentences;
    // a longer one is cut).
    std::array<std::byte, 128> out;
    core::close_frame f;
    f.code = static_cast<std::uint16_t>(code);
    f.reason = reason.substr(0, std::min(reason.size(), out.size() - core::frame_header_size -
                                                            core::close_body_min_size));
    write_plain(c, std::span(out).first(core::encode_frame(f, std::span(out))), now);
  }

  // --- events ------------------------------------------------------------------------------
  // A control event: its room is reserved (control_events) for what one call produces. An
  // application that lets events pile up across calls grows the ring instead of losing a
  // close, a pairing verdict or a session's end; only if memory runs out is one lost.
  void emit(accessory_event ev) {
    if (events.size() >= events.capacity() && !events.grow(2 * events.capacity())) return;
    (void)events.push_back(std::move(ev));
  }

  // A message or a reset. max_events is the room reserved at start; a burst beyond it (one
  // receive() can decode many small messages) grows the ring instead of dropping the event:
  // the session acknowledged the message on receipt, so a dropped one would be lost for good.
  // Only if memory runs out is the connection closed (event_queue_full) and the event lost.
  void emit_data(session_slot& s, accessory_event ev, time_point now) {
    if (events.size() + control_events >= events.capacity() &&
        !events.grow(2 * events.capacity())) {
      if (s.conn != connection::no_session)
        begin_close(conns[s.conn], firmware_errc::event_queue_full, now);
      return;
    }
    (void)events.push_back(std::move(ev));
  }

  // --- ending connections ------------------------------------------------------------------
  // Detaches a connection from whatever it served: its session lingers, a pairing in progress
  // is over (abandoned, reported).
  void detach(connection& c, time_point now) {
    if (c.st == connection::stage::session && c.session != connection::no_session) {
      session_slot& s = sessions[c.session];
      if (s.used && s.conn == index_of(c)) {
        s.conn = connection::no_session;
        s.s->on_disconnected(now);
        drain_session_events(s, now);
        table.connection_lost(s.key, now);
      }
    }
    c.session = connection::no_session;
    if (core::pairing_responder* r = c.responder()) {
      if (!r->done()) r->abandon();
      if (!c.reported) report_pairing(c);
    }
    release_pairing(c);
  }

  // Gives the connection's pairing state back to the pool (its exchange is over, reported).
  void release_pairing(connection& c) noexcept {
    if (!c.pairing) return;
    c.pairing->responder.reset();
    c.pairing->host.reset();
    c.pairing->crypto.reset();
    c.pairing->used = false;
    c.pairing = nullptr;
  }

  // A pairing state for connection `c`'s new exchange. When every one is taken, the exchange
  // cheapest to lose gives its own up (its connection closes): one that already ended (paired,
  // its HELLO not come yet: the controller just reconnects), then an unknown key's, then a
  // paired controller's, the oldest first, but never a class above the newcomer's (a stranger
  // does not displace a paired controller's exchange) and never one awaiting the controller's
  // SPAKE2+ confirmation (its attempt is counted: ending it would charge a wrong guess, perhaps
  // to the owner). Null when none may go: the newcomer is refused.
  pairing_state* take_pairing(const connection& c, time_point now) {
    for (std::size_t k = 0; k < pairing_capacity(); ++k)
      if (!pairings[k].used) return &pairings[k];
    const auto rank = [](const connection& o) {
      if (o.responder()->done()) return 0;
      return o.known ? 2 : 1;
    };
    const int newcomer = c.known ? 2 : 1;
    connection* victim = nullptr;
    for (std::size_t k = 0; k < slot_count; ++k) {
      connection& o = conns[k];
      if (!o.pairing || o.responder()->awaiting_confirmation() || rank(o) > newcomer) continue;
      if (!victim || rank(o) < rank(*victim) ||
          (rank(o) == rank(*victim) && o.arrival < victim->arrival))
        victim = &o;
    }
    if (!victim) return nullptr;
    pairing_state* freed = victim->pairing;
    begin_close(*victim, firmware_errc::too_many_connections, now);
    return freed;
  }

  // The accessory ends the connection: the driver writes what is left and closes the socket.
  void begin_close(connection& c, std::error_code why, time_point now) {
    if (c.st == connection::stage::closing || c.st == connection::stage::free) return;
    detach(c, now);
    c.st = connection::stage::closing;
    c.deadline = time_point::max();
    emit(events::close_connection{id_of(c), why});
  }

  void free_slot(connection& c) {
    if (c.tls) c.tls->reset();
    release_pairing(c);
    c.first.reset();
    c.known = c.reported = false;
    c.session = connection::no_session;
    c.deadline = time_point::max();
    c.st = connection::stage::free;
    ++c.generation;
  }

  // --- the TLS handshake -----------------------------------------------------------------------
  std::error_code verify(connection& c, const core::fingerprint& fp) {
    c.fp = fp;
    c.known = controllers.find(fp) != nullptr;
    if (c.known) return {};
    // An unknown key: only to pair, only while the window admits.
    if (controllers.window().expire(wall())) save_controllers();
    return controllers.window().admit(wall());
  }

  void advance(connection& c, time_point now) {
    if (c.st == connection::stage::tls) {
      std::error_code ec;
      c.tls->handshake(tls::role::server, ec);
      if (ec) return begin_close(c, ec, now);
      if (!c.tls->handshake_done()) return;
      c.st = connection::stage::greeting;
      c.deadline = now + settings.pairing.timeout;
    }
    while (c.st == connection::stage::greeting || c.st == connection::stage::pairing ||
           c.st == connection::stage::session) {
      // Only what the next step takes, so that nothing read is left over: the greeting's two
      // bytes (then the stage changes), a session's frame up to its end (it stops after a
      // message until the application took it: the rest waits in mbedTLS, then in the
      // driver's socket, and the controller's window holds it back).
      std::size_t limit = plain.size();
      if (c.st == connection::stage::greeting) limit = c.first ? 1 : 2;
      if (c.st == connection::stage::session)
        limit = std::min(limit, sessions[c.session].s->input_wanted());
      if (limit == 0) return;
      std::size_t n = 0;
      std::error_code ec;
      c.tls->read(std::span(plain.data(), limit), n, ec);
      if (n > 0) plaintext(c, std::as_bytes(std::span(plain.data(), n)), now);
      if (ec)
        return begin_close(c, ec == tls::tls_errc::closed_by_peer ? std::error_code{} : ec, now);
      // Nothing decrypted: it waits for ciphertext (its own output, if any, is the driver's).
      if (n == 0) return;
    }
  }

  // --- plaintext by stage ------------------------------------------------------------------
  void plaintext(connection& c, std::span<const std::byte> bytes, time_point now) {
    if (bytes.empty()) return;
    switch (c.st) {
    case connection::stage::greeting:
      return greet(c, bytes, now);
    case connection::stage::pairing:
      if (c.responder()->done()) return to_session(c, {}, bytes, now); // paired: the HELLO
      c.responder()->receive(bytes, now);
      return after_pairing_input(c, now);
    case connection::stage::session: {
      session_slot& s = sessions[c.session];
      feed_session(c, s, bytes, now);
      return pump_session(s, now);
    }
    default:
      return;
    }
  }

  void greet(connection& c, std::span<const std::byte> bytes, time_point now) {
    if (!c.first) {
      c.first = bytes[0];
      bytes = bytes.subspan(1);
      if (bytes.empty()) return;
    }
    const std::byte head[1] = {*c.first};
    const auto type = std::to_integer<std::uint8_t>(bytes[0]);
    if (core::is_pairing_frame_type(type)) return start_pairing(c, head, bytes, now);
    if (c.known) return to_session(c, head, bytes, now);
    // An unknown controller that skipped pairing: CLOSE(not_paired) says what to do.
    write_close_frame(c, core::channel_errc::not_paired,
                      "not paired: prove the setup secret or code first", now);
    begin_close(c, core::channel_errc::not_paired, now);
  }

  void start_pairing(connection& c, std::span<const std::byte> head,
                     std::span<const std::byte> rest, time_point now) {
    const auto exporter = c.tls->exporter();
    if (c.tls->resumed() || !exporter) {
      // Nothing fresh to bind the proofs to: refused before any attempt counts.
      emit(events::pairing_failed{c.fp, core::pairing_errc::needs_full_handshake,
                                  controllers.window().attempts_left()});
      return begin_close(c, core::pairing_errc::needs_full_handshake, now);
    }
    core::pairing_binding b;
    std::copy(exporter->begin(), exporter->end(), b.exporter.begin());
    b.controller = c.fp;
    b.accessory = ctx.local_identity().fingerprint();
    pairing_state* room = take_pairing(c, now);
    if (!room) return begin_close(c, firmware_errc::too_many_connections, now);
    pairing_state& p = *room;
    p.used = true;
    c.pairing = &p;
    p.crypto.emplace(plat.random);
    const controller_entry* known = controllers.find(c.fp);
    p.host.emplace(*this, known != nullptr);
    p.responder.emplace(*p.crypto, *p.host, b, now, settings.pairing);
    c.st = connection::stage::pairing;
    c.deadline = now + settings.pairing.timeout;
    p.responder->receive(head, now);
    if (!p.responder->done()) p.responder->receive(rest, now);
    after_pairing_input(c, now);
  }

  void after_pairing_input(connection& c, time_point now) {
    write_plain(c, c.responder()->poll_output(), now);
    // A failed write closed the connection, and its pairing state went back to the pool.
    if (!c.pairing) return;
    core::pairing_responder& r = *c.responder();
    if (!r.done()) return;
    if (!c.reported) report_pairing(c);
    if (r.outcome().error) return begin_close(c, r.outcome().error, now);
    // Paired: the channel follows on this connection, perhaps in the same read. The bytes are
    // a view of the read (`plain`): to_session() hands them to the session before anything
    // reads again, and gives the pairing state back only after that.
    std::span<const std::byte> unread = r.unread();
    if (!unread.empty()) to_session(c, {}, unread, now);
  }

  void report_pairing(connection& c) {
    c.reported = true;
    const core::pairing_responder_outcome& o = c.responder()->outcome();
    if (!o.error)
      emit(events::paired{c.fp, o.role, o.method});
    else
      emit(events::pairing_failed{c.fp, o.error, controllers.window().attempts_left()});
  }

  // --- sessions ----------------------------------------------------------------------------
  void to_session(connection& c, std::span<const std::byte> head, std::span<const std::byte> rest,
                  time_point now) {
    const core::session_admission verdict = table.admit(c.fp, now);
    if (verdict == core::session_admission::refuse) {
      write_close_frame(c, core::channel_errc::too_many_sessions, "too many sessions", now);
      return begin_close(c, core::channel_errc::too_many_sessions, now);
    }
    carry_out_drops(now);
    session_slot* s = find_session(c.fp);
    if (!s) s = make_session(c.fp);
    if (s->conn != connection::no_session) {
      // Taken over: the old connection goes; the session continues on this one.
      connection& old = conns[s->conn];
      s->conn = connection::no_session;
      s->s->on_disconnected(now);
      drain_session_events(*s, now);
      old.session = connection::no_session;
      begin_close(old, core::channel_errc::connection_replaced, now);
    }
    c.first.reset();
    c.st = connection::stage::session;
    c.deadline = time_point::max();
    c.session = static_cast<std::size_t>(s - sessions.get());
    s->conn = index_of(c);
    s->s->on_connected(now);
    if (!head.empty()) feed_session(c, *s, head, now);
    if (!rest.empty() && c.st == connection::stage::session) feed_session(c, *s, rest, now);
    pump_session(*s, now);
    release_pairing(c); // after the session took the bytes that came with the pairing's end
  }

  // Plaintext for a session. advance() reads no more than the session wants, so it takes all;
  // only what a pairing exchange left unread can hold more: a HELLO, and nothing after it,
  // since a controller sends messages once the WELCOME came. One that did not wait is closed
  // (protocol_violation) rather than kept in memory the accessory does not have.
  void feed_session(connection& c, session_slot& s, std::span<const std::byte> bytes,
                    time_point now) {
    const core::session::receive_result r = s.s->receive_some(bytes, now);
    if (r.taken < bytes.size() && c.st == connection::stage::session) {
      drain_session_events(s, now);
      write_close_frame(c, core::channel_errc::protocol_violation, "messages before the WELCOME",
                        now);
      begin_close(c, core::channel_errc::protocol_violation, now);
    }
  }

  // Session slot `i`'s settings (its callbacks name the slot, so they fit in std::function's
  // own room: moving them allocates nothing).
  core::session_settings session_settings_for(std::size_t i) {
    core::session_settings st = settings.session;
    // Messages reach the application as views of the session's buffers, whatever the
    // settings say: the event queue has no room for copies (accessory_event.hpp).
    st.delivery = core::message_delivery::view;
    // Nobody could send them again: counted, not copied (a session's end allocates nothing).
    st.unacked = core::unacked_report::count;
    st.new_session_id = [this] { return random_session_id(); };
    st.is_foreign_session = [this, i](const core::session_id& id) {
      return table.foreign(sessions[i].key, id);
    };
    return st;
  }

  // A free slot's session (new since reserve() or restarted when it was dropped) for `key`.
  session_slot* make_session(const core::fingerprint& key) {
    for (std::size_t i = 0; i < session_capacity(); ++i) {
      session_slot& s = sessions[i];
      if (s.used) continue;
      s.used = true;
      s.key = key;
      s.conn = connection::no_session;
      return &s;
    }
    // The table admitted it, so a slot is free (its drops were carried out first).
    return nullptr;
  }

  void pump_session(session_slot& s, time_point now) {
    for (int round = 0; round < 64; ++round) {
      drain_session_events(s, now);
      if (!s.used) return;
      if (random_failed && s.conn != connection::no_session) {
        random_failed = false;
        connection& c = conns[s.conn];
        return begin_close(c, firmware_errc::random_failed, now);
      }
      // Frames are taken from the session only when the connection's output buffer is empty
      // (backpressure: the rest waits in the session until the driver made room).
      if (s.conn == connection::no_session || !conns[s.conn].tls ||
          !conns[s.conn].tls->output().empty())
        break;
      std::span<const std::byte> out = s.s->poll_output(now);
      if (out.empty()) break;
      write_plain(conns[s.conn], out, now);
    }
    drain_session_events(s, now);
  }

  void drain_session_events(session_slot& s, time_point now) {
    drain_session_events_only(s, now);
    // A message the application did not take before its connection ended was given back
    // to the peer (it resends it): its view is gone, so is its event.
    if (s.message_queued && !(s.used && s.s->holding_message())) withdraw_message(s);
  }

  // Takes `s`'s message event out of the queue, the others keep their order.
  void withdraw_message(session_slot& s) {
    s.message_queued = false;
    for (std::size_t n = events.size(); n > 0; --n) {
      accessory_event ev = std::move(events.front());
      events.pop_front();
      auto* m = std::get_if<events::message>(&ev);
      if (!m || m->controller != s.key) (void)events.push_back(std::move(ev));
    }
  }

  void drain_session_events_only(session_slot& s, time_point now) {
    while (s.used) {
      auto ev = s.s->poll_event();
      if (!ev) return;
      if (auto* est = std::get_if<core::events::established>(&*ev)) {
        table.established(s.key, est->id);
      } else if (auto* m = std::get_if<core::events::message_view>(&*ev)) {
        if (m->kind == core::message_kind::application) {
          s.message_queued = true;
          emit_data(s, events::message{s.key, m->seq, m->payload}, now);
        } else {
          serve(s, m->kind, m->seq, m->payload, now);
        }
      } else if (std::get_if<core::events::connection_failed>(&*ev)) {
        // The session's verdict on this connection (its CLOSE frame is in its output): write
        // it, then end the connection; the session stays.
        if (s.conn != connection::no_session) {
          connection& c = conns[s.conn];
          std::span<const std::byte> out = s.s->poll_output(now);
          write_plain(c, out, now);
          const auto why = std::get<core::events::connection_failed>(*ev).error;
          begin_close(c, why, now);
        }
      } else if (auto* r = std::get_if<core::events::session_reset>(&*ev)) {
        emit_data(s, events::session_reset{s.key, r->unacked_count}, now);
      } else if (std::get_if<core::events::closed>(&*ev)) {
        table.ended(s.key);
        carry_out_drops(now);
      }
    }
  }

  // A service message: controller administration (admins only), provisioning (admins only,
  // when offered), or anything else refused.
  void serve(session_slot& s, core::message_kind kind, std::uint64_t seq,
             std::span<const std::byte> payload, time_point now) {
    // Views of the payload (valid while it is served), replies on the stack: administration
    // allocates nothing.
    const auto parsed = core::parse_app_message_view(payload);
    if (kind == core::message_kind::administration) {
      if (parsed && core::is_admin_verb(parsed.message.verb)) {
        const detail::admin_outcome o = detail::handle_admin_request(
            controllers, s.key, seq, parsed.message, wall(),
            [&](std::string_view text) { send_text(s, text, kind, now); },
            [&] { return save_controllers(); });
        if (o.removed) end_removed(*o.removed, now);
        return;
      }
    }
    if (kind == core::message_kind::provisioning && plat.join_wifi) {
      if (parsed) {
        const controller_entry* who = controllers.find(s.key);
        const auto from = who && who->role == core::paired_role::admin
                              ? core::provisioning_responder::sender::admin
                              : core::provisioning_responder::sender::user;
        core::provisioning_responder::outcome o;
        if (!provisioning.on_message(parsed.message, seq, from, o)) {
          if (!o.reply.empty()) send_text(s, o.reply, kind, now);
          if (o.join) {
            provisioning_by = s.key;
            plat.join_wifi(plat.user, *o.join);
          }
          return;
        }
      }
    }
    // Nobody serves it here: the app is told so instead of waiting for an answer that never
    // comes (the same refusal accessory::server sends).
    core::app_message_writer refusal("error");
    refusal.set("re", seq).set("reason", "not_supported");
    send_text(s, refusal.text(), kind, now);
  }

  // A controller an admin removed: its session ends now, not at its next reconnection. Its
  // connection gets what the session still had to say when the output is free (an admin that
  // removed itself gets its ok), then CLOSE(not_paired).
  void end_removed(const core::fingerprint& key, time_point now) {
    session_slot* s = find_session(key);
    if (!s) return;
    if (s->conn != connection::no_session) {
      connection& c = conns[s->conn];
      if (c.tls && c.tls->output().empty()) write_plain(c, s->s->poll_output(now), now);
      write_close_frame(c, core::channel_errc::not_paired, "removed by an admin", now);
      begin_close(c, core::channel_errc::not_paired, now);
    }
    table.ended(key);
    carry_out_drops(now);
  }

  // The Wi-Fi driver's verdict goes to the admin whose wifi_set it answers.
  void report_wifi(std::string_view report, time_point now) {
    if (!provisioning_by) return;
    if (session_slot* s = find_session(*provisioning_by)) {
      send_text(*s, report, core::message_kind::provisioning, now);
      pump_session(*s, now);
    }
  }

  void send_text(session_slot& s, std::string_view text, core::message_kind kind, time_point now) {
    s.s->send(std::as_bytes(std::span(text.data(), text.size())), now, kind);
  }

  void carry_out_drops(time_point now) {
    while (auto d = table.poll_drop()) {
      session_slot* s = find_session(d->controller);
      if (!s) continue;
      std::error_code why = d->reason == core::session_drop_reason::ended
                                ? std::error_code(core::channel_errc::session_closed)
                                : std::error_code(core::channel_errc::session_expired);
      if (s->conn != connection::no_session) {
        connection& c = conns[s->conn];
        s->conn = connection::no_session;
        c.session = connection::no_session;
        begin_close(c, why, now);
      }
      if (s->message_queued) withdraw_message(*s);
      s->used = false;
      s->resume = false;
      // Its buffers stay for the next controller; what it held goes now.
      s->s->restart();
      emit(events::session_ended{d->controller, why});
    }
  }
};

// --- the pairing host ------------------------------------------------------------------------
namespace detail {

std::error_code table_pairing_host::admit(time_point) {
  if (known_) return {};
  auto& a = *acc_;
  if (a.controllers.window().expire(a.wall())) a.save_controllers();
  return a.controllers.window().admit(a.wall());
}
std::uint32_t table_pairing_host::attempts_left() {
  return acc_->controllers.window().attempts_left();
}
table_pairing_host::time_point table_pairing_host::evaluate_not_before() {
  return acc_->throttle.not_before();
}
std::error_code table_pairing_host::record_failure(time_point now) {
  auto& a = *acc_;
  // Persisted before anything reveals the proof's verdict: a power cut right after still
  // counts it.
  a.controllers.window().record_failure();
  if (std::error_code ec = a.save_controllers()) return ec;
  throttle_before_ = a.throttle.not_before();
  a.throttle.record_failure(now, a.controllers.window().state().failed_attempts);
  return {};
}
std::error_code table_pairing_host::refund_failure(time_point) {
  auto& a = *acc_;
  if (throttle_before_) a.throttle.restore(*throttle_before_);
  a.controllers.window().refund_failure(a.wall());
  return {}; // persisted with the pairing (add_controller follows at once)
}
std::error_code table_pairing_host::add_controller(const core::fingerprint& fp,
                                                   std::string_view name, core::paired_role& role) {
  auto& a = *acc_;
  const core::pairing_window_state window_before = a.controllers.window().state();
  const bool was_paired = a.controllers.find(fp) != nullptr;
  if (std::error_code ec = a.controllers.add(fp, name, role)) return ec;
  if (a.settings.close_window_after_pairing && !known_) a.controllers.window().close();
  // One write: the pairing, the refund of a SPAKE2+ attempt and the closed window together.
  if (a.save_controllers()) {
    // Not persisted: not paired (and the window as it was).
    if (!was_paired) a.controllers.remove(fp);
    a.controllers.window() = core::pairing_window(window_before);
    return core::pairing_errc::accessory_failure;
  }
  return {};
}
std::optional<std::span<const std::uint8_t>> table_pairing_host::setup_secret() {
  if (!acc_->secrets.setup_secret) return std::nullopt;
  return std::span<const std::uint8_t>(*acc_->secrets.setup_secret);
}
const core::setup_code_verifier* table_pairing_host::code_verifier() {
  return acc_->secrets.code_verifier ? &*acc_->secrets.code_verifier : nullptr;
}
bool table_pairing_host::allows_confirmation() {
  return false; // a firmware accessory always has a setup secret or code to prove
}
void table_pairing_host::show_verification_code(std::uint32_t code) {
  if (acc_->plat.show_verification_code) acc_->plat.show_verification_code(acc_->plat.user, code);
}

} // namespace detail

// --- the public face ------------------------------------------------------------------------
accessory::accessory(tls::context ctx, platform p, pairing_secrets secrets,
                     accessory_settings s) noexcept
    : impl_(new (std::nothrow) impl(std::move(ctx), p, std::move(secrets), std::move(s))) {
  if (impl_ && !impl_->reserve()) impl_.reset();
}

accessory accessory::create(tls::context ctx, platform p, pairing_secrets secrets,
                            accessory_settings s, std::error_code& ec) noexcept {
  accessory a(std::move(ctx), p, std::move(secrets), std::move(s));
  ec = a ? std::error_code() : std::error_code(firmware_errc::not_enough_memory);
  return a;
}

accessory::~accessory() = default;
accessory::accessory(accessory&&) noexcept = default;
accessory& accessory::operator=(accessory&&) noexcept = default;

std::error_code accessory::start(time_point now) {
  if (!impl_) return firmware_errc::not_enough_memory;
  impl& i = *impl_;
  i.last_now = now;
  const accessory_settings& st = i.settings;
  if (st.max_sessions == 0 || st.max_pending == 0 || i.slot_count == 0 || st.max_controllers == 0 ||
      st.max_controllers > 255 || st.session.max_message_size == 0 ||
      st.session.max_replay_bytes < st.session.max_message_size + 32 || !i.ctx)
    return firmware_errc::bad_settings;
  if (!i.plat.random.fill || !i.plat.load || !i.plat.save || !i.plat.wall_clock)
    return firmware_errc::platform_incomplete;
  std::size_t size = 0;
  const int r =
      i.plat.load(i.plat.user, storage_key::controllers, i.blob.get(), i.blob_size, &size);
  if (r == 0) {
    if (size > i.blob_size) return firmware_errc::storage_failed;
    if (std::error_code ec = i.controllers.parse(std::span(i.blob.get(), size))) return ec;
  } else if (r != 1) {
    return firmware_errc::storage_failed;
  }
  i.started = true;
  const auto wall = i.wall();
  if (i.controllers.window().expire(wall))
    if (std::error_code ec = i.save_controllers()) return ec;
  if (i.controllers.empty() && !i.controllers.window().is_open(wall)) {
    // Setup mode: nobody paired yet. Reopening does not reset the failure count, so
    // power-cycling buys an attacker no guesses.
    if (std::error_code ec =
            i.controllers.window().open(wall, st.setup_window, core::window_opener::setup_mode))
      return ec;
    if (std::error_code ec = i.save_controllers()) return ec;
  }
  return {};
}

std::error_code accessory::accept(connection_id& id, time_point now) {
  if (!impl_) return firmware_errc::not_started;
  impl& i = *impl_;
  if (!i.started) return firmware_errc::not_started;
  i.last_now = now;
  using stage = impl::connection::stage;
  impl::connection* slot = nullptr;
  for (std::size_t k = 0; k < i.slot_count && !slot; ++k)
    if (i.conns[k].st == stage::free) slot = &i.conns[k];
  if (!slot) {
    // Every slot taken: a connection that is not a session's makes room, the cheapest to
    // lose first: one closing already, then one still in its TLS handshake (anyone can open
    // those by the dozen), then an unknown key's greeting or pairing, last a paired
    // controller's greeting; the oldest within a class. A flood of bare connections therefore
    // evicts itself, not an owner's pairing that got past TLS.
    const auto rank = [](const impl::connection& c) {
      switch (c.st) {
      case stage::closing:
        return 0;
      case stage::tls:
        return 1;
      default:
        return c.known ? 3 : 2;
      }
    };
    impl::connection* victim = nullptr;
    for (std::size_t k = 0; k < i.slot_count; ++k) {
      impl::connection& c = i.conns[k];
      if (c.st == stage::session) continue;
      if (!victim || rank(c) < rank(*victim) ||
          (rank(c) == rank(*victim) && c.arrival < victim->arrival))
        victim = &c;
    }
    if (!victim) return firmware_errc::too_many_connections;
    if (victim->st != stage::closing)
      i.begin_close(*victim, firmware_errc::too_many_connections, now);
    i.free_slot(*victim);
    slot = victim;
  }
  slot->st = stage::tls;
  slot->arrival = i.next_arrival++;
  slot->deadline = now + i.settings.handshake_timeout;
  impl::connection* raw = slot;
  impl* self = &i;
  slot->tls->set_verifier(
      [self, raw](const core::fingerprint& fp, const tls::peer_cert_info&) -> std::error_code {
        return self->verify(*raw, fp);
      });
  id = i.id_of(*slot);
  return {};
}

accessory::receive_result accessory::receive(connection_id id, std::span<const std::byte> bytes,
                                             time_point now) {
  if (!impl_) return {firmware_errc::unknown_connection, 0};
  impl& i = *impl_;
  i.last_now = now;
  impl::connection* c = i.lookup(id);
  if (!c) return {firmware_errc::unknown_connection, 0};
  // A closing connection's bytes are of no use: taken and dropped.
  if (c->st == impl::connection::stage::closing) return {{}, bytes.size()};
  const std::size_t offered = bytes.size();
  // In pieces of the input buffer's room: each is handed to mbedTLS (advance) before the next.
  while (!bytes.empty() && c->tls) {
    auto room = c->tls->prepare_input(bytes.size());
    const std::size_t n = std::min(room.size(), bytes.size());
    // A full buffer: the session holds a message the application has not taken (advance()
    // reads nothing meanwhile). The rest is the driver's until then.
    if (n == 0) break;
    std::memcpy(room.data(), bytes.data(), n);
    c->tls->commit_input(n);
    bytes = bytes.subspan(n);
    i.advance(*c, now);
    if (c->st == impl::connection::stage::closing || c->st == impl::connection::stage::free)
      return {{}, offered};
  }
  return {{}, offered - bytes.size()};
}

bool accessory::wants_input(connection_id id) const noexcept {
  if (!impl_) return false;
  impl::connection* c = impl_->lookup(id);
  if (!c || !c->tls) return false;
  if (c->st == impl::connection::stage::closing) return true;
  // Room in the input buffer (asking for it only moves what waits to the buffer's front).
  return !c->tls->prepare_input(1).empty();
}

std::span<const std::uint8_t> accessory::output(connection_id id) const noexcept {
  if (!impl_) return {};
  impl::connection* c = impl_->lookup(id);
  if (!c || !c->tls) return {};
  return c->tls->output();
}

void accessory::consume_output(connection_id id, std::size_t n, time_point now) noexcept {
  if (!impl_) return;
  impl_->last_now = now;
  impl::connection* c = impl_->lookup(id);
  if (!c || !c->tls) return;
  c->tls->consume_output(n);
  impl_->resume_output(*c, now);
}

void accessory::closed(connection_id id, time_point now) {
  if (!impl_) return;
  impl& i = *impl_;
  i.last_now = now;
  impl::connection* c = i.lookup(id);
  if (!c) return;
  i.detach(*c, now);
  i.free_slot(*c);
}

accessory::time_point accessory::next_deadline() const noexcept {
  if (!impl_) return time_point::max();
  const impl& i = *impl_;
  time_point at = i.table.next_deadline();
  for (std::size_t k = 0; k < i.session_capacity(); ++k)
    if (i.sessions[k].used && i.sessions[k].resume) at = std::min(at, i.last_now);
  for (std::size_t k = 0; k < i.slot_count; ++k) {
    const impl::connection& c = i.conns[k];
    at = std::min(at, c.deadline);
    if (const core::pairing_responder* r = c.responder(); r && !r->done())
      at = std::min(at, r->next_deadline());
  }
  for (std::size_t k = 0; k < i.session_capacity(); ++k)
    if (i.sessions[k].used) at = std::min(at, i.sessions[k].s->next_deadline());
  return at;
}

void accessory::handle_deadline(time_point now) {
  if (!impl_) return;
  impl& i = *impl_;
  i.last_now = now;
  using stage = impl::connection::stage;
  // Sessions whose message the application took: read on (what waited in mbedTLS), and send
  // what taking it made due (an ACK that reopens the controller's window).
  for (std::size_t k = 0; k < i.session_capacity(); ++k) {
    impl::session_slot& s = i.sessions[k];
    if (!s.used || !s.resume) continue;
    s.resume = false;
    if (s.conn != impl::connection::no_session) i.advance(i.conns[s.conn], now);
    if (s.used) i.pump_session(s, now);
  }
  for (std::size_t k = 0; k < i.slot_count; ++k) {
    impl::connection& c = i.conns[k];
    if (core::pairing_responder* r = c.responder(); r && !r->done() && r->next_deadline() <= now) {
      r->handle_deadline(now);
      i.after_pairing_input(c, now);
    }
    if ((c.st == stage::tls || c.st == stage::greeting || c.st == stage::pairing) &&
        c.deadline <= now) {
      const std::error_code why = c.st == stage::tls
                                      ? std::error_code(tls::tls_errc::handshake_timeout)
                                      : std::error_code(core::channel_errc::handshake_timeout);
      i.begin_close(c, why, now);
    }
  }
  for (std::size_t k = 0; k < i.session_capacity(); ++k) {
    impl::session_slot& s = i.sessions[k];
    if (!s.used || s.s->next_deadline() > now) continue;
    s.s->handle_deadline(now);
    i.pump_session(s, now);
  }
  i.table.handle_deadline(now);
  i.carry_out_drops(now);
}

std::optional<accessory_event> accessory::poll_event() {
  if (!impl_) return std::nullopt;
  impl& i = *impl_;
  if (i.events.empty()) return std::nullopt;
  std::optional<accessory_event> ev(std::move(i.events.front()));
  i.events.pop_front();
  // The application has the message now: the session acknowledges it (as it acknowledges a
  // received one, ack_every or ack_delay) and reads on at the next handle_deadline(), which
  // next_deadline() makes due at once. Its view stays valid until then.
  if (auto* m = std::get_if<events::message>(&*ev))
    if (impl::session_slot* s = i.find_session(m->controller); s && s->message_queued) {
      s->message_queued = false;
      (void)s->s->consume(m->seq, m->payload.size(), i.last_now);
      s->resume = true;
    }
  return ev;
}

core::session::send_result accessory::send(const core::fingerprint& controller,
                                           std::span<const std::byte> payload, time_point now) {
  if (!impl_) return {firmware_errc::not_started, 0};
  impl& i = *impl_;
  i.last_now = now;
  impl::session_slot* s = i.find_session(controller);
  if (!s) return {firmware_errc::no_session, 0};
  auto r = s->s->send(payload, now);
  i.pump_session(*s, now);
  return r;
}

std::error_code accessory::wifi_joined(std::span<const std::string_view> addresses,
                                       time_point now) {
  if (!impl_) return firmware_errc::not_started;
  std::string_view report;
  if (std::error_code ec = impl_->provisioning.joined(addresses, report)) return ec;
  impl_->report_wifi(report, now);
  return {};
}

std::error_code accessory::wifi_failed(core::provisioning_failure why, time_point now) {
  if (!impl_) return firmware_errc::not_started;
  std::string_view report;
  if (std::error_code ec = impl_->provisioning.failed(why, report)) return ec;
  impl_->report_wifi(report, now);
  return {};
}

std::error_code accessory::open_pairing_window(time_point) {
  if (!impl_) return firmware_errc::not_started;
  impl& i = *impl_;
  if (!i.started) return firmware_errc::not_started;
  const core::pairing_window before = i.controllers.window();
  if (std::error_code ec = i.controllers.window().open(i.wall(), i.settings.setup_window,
                                                       core::window_opener::local))
    return ec;
  // Open only if stored: a window that a reboot would forget must not admit anyone now.
  if (std::error_code ec = i.save_controllers()) {
    i.controllers.window() = before;
    return ec;
  }
  return {};
}

const controller_table& accessory::controllers() const noexcept {
  return impl_->controllers;
}
bool accessory::pairing_window_open() const {
  if (!impl_) return false;
  return impl_->controllers.window().is_open(impl_->wall());
}
std::size_t accessory::pairings_in_progress() const noexcept {
  if (!impl_) return 0;
  std::size_t n = 0;
  for (std::size_t k = 0; k < impl_->slot_count; ++k) {
    const impl::connection& c = impl_->conns[k];
    const core::pairing_responder* r = c.responder();
    n += r && r->in_progress() ? 1 : 0;
  }
  return n;
}
std::size_t accessory::session_count() const noexcept {
  if (!impl_) return 0;
  return impl_->table.size();
}
std::size_t accessory::connection_count() const noexcept {
  if (!impl_) return 0;
  std::size_t n = 0;
  for (std::size_t k = 0; k < impl_->slot_count; ++k)
    n += impl_->conns[k].st != impl::connection::stage::free ? 1 : 0;
  return n;
}
bool accessory::connected(const core::fingerprint& controller) const noexcept {
  if (!impl_) return false;
  const impl::session_slot* s = impl_->find_session(controller);
  return s && s->conn != impl::connection::no_session;
}
const core::session* accessory::session_of(const core::fingerprint& controller) const noexcept {
  if (!impl_) return nullptr;
  const impl::session_slot* s = impl_->find_session(controller);
  return s ? &*s->s : nullptr;
}

} // namespace lanyard::firmware
