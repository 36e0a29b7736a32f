#include <lanyard/accessory/server.hpp>

#include "store_pairing_host.hpp"
#include <lanyard/accessory/diagnostics.hpp>
#include <lanyard/channel/receive_queue.hpp>
#include <lanyard/channel/send_queue.hpp>
#include <lanyard/channel/session_runner.hpp>

#include <lanyard/core/app_message.hpp>
#include <lanyard/core/diagnostic.hpp>
#include <lanyard/core/display_text.hpp>
#include <lanyard/core/pairing_error.hpp>
#include <lanyard/core/pairing_responder.hpp>
#include <lanyard/core/pairing_throttle.hpp>
#include <lanyard/core/pairing_window.hpp>
#include <lanyard/core/session_table.hpp>
#include <lanyard/crypto/pairing_crypto.hpp>
#include <lanyard/tls_engine/error.hpp>
#include <lanyard/trust/error.hpp>
#include <lanyard/trust/window_clock.hpp>

#include <asio/error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <map>
#include <new>
#include <random>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace lanyard::accessory {

using channel::detail::send_queue;
using channel::detail::session_runner;
using channel::detail::tls_stream;
using tcp = asio::ip::tcp;
using level = core::diagnostic_level;
namespace fk = core::field_key;

namespace {

core::field controller_field(const core::fingerprint& fp) {
  return {fk::controller, core::to_string(fp)};
}
core::field peer_field(const std::string& peer) {
  return {fk::peer, peer};
}
// A listener's address as fields (listen, stop_listening, end_connections_through).
std::vector<core::field> endpoint_fields(const tcp::endpoint& ep) {
  return {{fk::address, ep.address().to_string()}, {fk::port, std::uint64_t{ep.port()}}};
}
std::uint64_t ms(std::chrono::milliseconds d) {
  return static_cast<std::uint64_t>(d.count());
}

// Session ids must be unpredictable and never repeat: std::random_device is getrandom(2) on
// Linux (the kernel CSPRNG).
core::session_id random_session_id() {
  static thread_local std::random_device rd;
  core::session_id id;
  do {
    for (std::size_t i = 0; i < id.bytes.size(); i += 4) {
      std::uint32_t v = rd();
      for (std::size_t k = 0; k < 4; ++k)
        id.bytes[i + k] = static_cast<std::byte>(v >> (8 * k));
    }
  } while (id.is_zero());
  return id;
}

} // namespace

struct server::impl : std::enable_shared_from_this<impl> {
  struct entry {
    entry(asio::any_io_executor ex, std::size_t max_waiting)
        : sends(ex, max_waiting), inbox(std::move(ex)) {}
    controller_id controller;
    std::shared_ptr<session_runner> runner;
    send_queue sends;
    channel::detail::receive_queue inbox; // receive_mode::pull
    // The local endpoint of the current connection: end_connections_through() matches it.
    tcp::endpoint via;
    // The current connection's "ADDRESS:PORT", for the session's diagnostics.
    std::string peer;
  };
  // One listening socket; a server may have several (a SoftAP address and the home LAN's).
  struct listener {
    explicit listener(executor_type e) : acceptor(e), retry(e) {}
    tcp::acceptor acceptor;
    asio::steady_timer retry;
    tcp::endpoint local;
    bool closed = false;
  };
  struct pending {
    std::uint64_t number = 0; // arrival order: the smallest is the oldest
    std::string peer;
    tcp::endpoint local;
    std::unique_ptr<tls_stream> stream;
    bool relayed = false; // a relay tunnel, not a TCP connection
    std::optional<trust::controller_decision> decision;
    // Why the server ended the handshake itself, if it did.
    enum class abort_reason { none, evicted, closed } aborted = abort_reason::none;
  };
  // A handshaken connection before it is a session's: its first frame tells a paired
  // controller's HELLO from an unknown controller's pairing (which then runs here).
  struct greeting {
    explicit greeting(executor_type e) : timer(e) {}
    std::uint64_t number = 0;
    std::string peer;
    tcp::endpoint local;
    std::unique_ptr<tls_stream> stream;
    bool relayed = false;
    controller_id fp;
    std::optional<trust::controller_record> known;
    asio::steady_timer timer;
    std::chrono::steady_clock::time_point deadline;
    std::array<std::byte, 512> rbuf{};
    // Read before the kind of connection was known; once paired, what came after the last
    // pairing frame (the channel's first bytes).
    std::vector<std::byte> first;
    std::unique_ptr<crypto::mbedtls_pairing_crypto> crypto;
    std::unique_ptr<detail::store_pairing_host> host;
    std::unique_ptr<core::pairing_responder> responder;
    std::vector<std::byte> wbuf;
    bool writing = false;
    bool finished = false;
    bool started = false;  // the start of its exchange was reported (pairing_start)
    bool reported = false; // its end was (pairing_report)
  };

  impl(executor_type e, tls::context c, std::shared_ptr<trust::controller_store> s,
       server_options o)
      : ex(e), ctx(std::move(c)), store(std::move(s)), opts(std::move(o)),
        table({opts.max_sessions, opts.session_linger}), table_timer(e) {
    if (!table.reserved()) throw std::bad_alloc(); // its drop ring (core::session_table)
    if (opts.tcp_user_timeout.count() == 0) opts.tcp_user_timeout = opts.session.peer_timeout;
    if (opts.max_pending_handshakes == 0) opts.max_pending_handshakes = 1;
    if (opts.max_pending_relayed_handshakes == 0) opts.max_pending_relayed_handshakes = 1;
    local_handshakes.limit = opts.max_pending_handshakes;
    local_handshakes.option = diag::key::max_pending_handshakes;
    relayed_handshakes.limit = opts.max_pending_relayed_handshakes;
    relayed_handshakes.option = diag::key::max_pending_relayed_handshakes;
    if (opts.pairing.max_pending == 0) opts.pairing.max_pending = 1;
    if (opts.max_sessions == 0) opts.max_sessions = 1;
    throttle =
        core::pairing_throttle(opts.pairing.failure_delay_first, opts.pairing.failure_delay_max);
  }

  executor_type ex;
  tls::context ctx;
  std::shared_ptr<trust::controller_store> store;
  server_options opts;
  std::vector<std::shared_ptr<listener>> listeners;
  // The sessions the table holds (and, until their drops are carried out, those it dropped).
  std::map<controller_id, std::shared_ptr<entry>> sessions;
  // Which sessions exist, linger and are dropped is the table's decision (core::session_table);
  // this adapter carries it out, with one timer at its next deadline.
  core::session_table table;
  asio::steady_timer table_timer;
  core::session_table::time_point table_timer_at = core::session_table::time_point::max();
  // Handshakes in progress by arrival: begin() is the one evicted when the limit is reached.
  // Two pools: a relay tunnel never evicts a handshake from the local network, nor a local
  // connection a relayed one (server_options::max_pending_relayed_handshakes says why).
  struct handshake_pool {
    std::map<std::uint64_t, std::shared_ptr<pending>> in_progress;
    std::size_t limit = 1;
    std::string_view option; // the server_options member that sets `limit`
    // Evictions are logged at most once per second: a flood must not flood the log as well.
    std::uint64_t evicted_unlogged = 0;
    std::chrono::steady_clock::time_point eviction_logged{};
  };
  handshake_pool local_handshakes;
  handshake_pool relayed_handshakes;
  std::uint64_t next_pending = 0;
  // Connections between TLS and session, by arrival; unknown controllers' count against
  // opts.pairing.max_pending.
  std::map<std::uint64_t, std::shared_ptr<greeting>> greetings;
  core::pairing_throttle throttle;
  std::uint64_t pairing_evicted_unlogged = 0;
  std::chrono::steady_clock::time_point pairing_eviction_logged{};
  bool closed = false;
  message_handler on_message;
  control_handler on_control;
  event_handler on_event;
  pairing_handler on_pairing;
  pairing_start_handler on_pairing_start;

  // Reports to server_options::diagnostics, else `text` to server_options::log: the line it
  // always received, unchanged (lab scripts grep some of them).
  void emit(level lvl, std::string_view id, std::error_code code, const std::string& text,
            std::vector<core::field> fields = {}) {
    if (!opts.diagnostics && !opts.log) return;
    core::emit_diagnostic(opts.diagnostics, opts.log,
                          core::diagnostic{lvl, id, code, text, fields});
  }

  void accept(const std::shared_ptr<listener>& l) {
    l->acceptor.async_accept([w = weak_from_this(), l](std::error_code ec, tcp::socket s) {
      auto self = w.lock();
      if (!self || self->closed || l->closed) return;
      if (ec == asio::error::operation_aborted) return;
      if (!ec) {
        self->handshake(std::move(s));
        self->accept(l);
        return;
      }
      // A failed accept (EMFILE, ENFILE, ENOBUFS...) does not stop the server, but retrying at
      // once would spin: the pending connection keeps the listening socket readable.
      self->emit(level::warning, diag::accept_failed, ec,
                 "accept failed: " + ec.message() + "; retrying in 100 ms",
                 endpoint_fields(l->local));
      l->retry.expires_after(std::chrono::milliseconds(100));
      l->retry.async_wait([w, l](std::error_code tec) {
        auto me = w.lock();
        if (!me || me->closed || l->closed || tec) return;
        me->accept(l);
      });
    });
  }

  // Ends a handshake in progress from the server's side; its completion handler reports it.
  void abort_handshake(const std::shared_ptr<pending>& p, pending::abort_reason why) {
    if (p->aborted != pending::abort_reason::none) return;
    p->aborted = why;
    std::error_code ignored;
    p->stream->next_layer().shutdown(asio::socket_base::shutdown_both, ignored);
    p->stream->next_layer().close(ignored);
  }

  handshake_pool& pool_of(bool relayed) { return relayed ? relayed_handshakes : local_handshakes; }

  void evict_oldest_handshake(handshake_pool& pool) {
    auto oldest = pool.in_progress.begin();
    std::shared_ptr<pending> victim = oldest->second;
    pool.in_progress.erase(oldest); // its slot is free now; its handler finds it gone
    abort_handshake(victim, pending::abort_reason::evicted);
    ++pool.evicted_unlogged;
    const auto now = std::chrono::steady_clock::now();
    if (now - pool.eviction_logged >= std::chrono::seconds(1)) {
      const std::string what =
          victim->relayed ? " TLS handshakes through the relay" : " TLS handshakes";
      emit(level::warning, diag::handshakes_evicted, {},
           std::to_string(pool.limit) + what +
               " in progress (server_options::" + std::string(pool.option) +
               "): closed the oldest " + std::to_string(pool.evicted_unlogged) +
               " to admit new connections (latest from " + victim->peer + ")",
           {{pool.option, std::uint64_t{pool.limit}},
            {diag::key::count, pool.evicted_unlogged},
            peer_field(victim->peer)});
      pool.eviction_logged = now;
      pool.evicted_unlogged = 0;
    }
  }

  void handshake(tcp::socket s) {
    std::error_code ec;
    tcp::endpoint remote = s.remote_endpoint(ec);
    std::string peer =
        ec ? std::string("?") : remote.address().to_string() + ":" + std::to_string(remote.port());
    if (std::error_code cec = channel::detail::configure_socket(s, opts.tcp_user_timeout)) {
      emit(level::warning, diag::socket_setup_failed, cec,
           "connection from " + peer + ": configuring the socket failed: " + cec.message(),
           {peer_field(peer)});
      return;
    }
    const tcp::endpoint local = s.local_endpoint(ec);
    start_handshake(channel::transport(std::move(s)), std::move(peer), local, std::nullopt);
  }

  // `opener`: a tunnel's, the controller whose relay key opened it; only its key is admitted
  // (not another paired controller's, not an unknown one's even with the window open).
  void start_handshake(channel::transport t, std::string peer, tcp::endpoint local,
                       std::optional<controller_id> opener) {
    handshake_pool& pool = pool_of(opener.has_value());
    while (pool.in_progress.size() >= pool.limit)
      evict_oldest_handshake(pool);
    auto p = std::make_shared<pending>();
    p->number = next_pending++;
    p->peer = std::move(peer);
    p->local = local;
    p->relayed = opener.has_value();
    p->stream = std::make_unique<tls_stream>(std::move(t), ctx);
    pending* raw = p.get();
    p->stream->set_verifier([raw, st = store,
                             opener](const core::fingerprint& fp,
                                     const tls::peer_cert_info&) -> std::error_code {
      raw->decision = st->check(fp, trust::window_clock::now());
      if (opener && (fp != *opener || raw->decision->action != trust::controller_action::accept)) {
        raw->decision->action = trust::controller_action::refuse;
        raw->decision->code = trust::trust_errc::not_paired;
        raw->decision->controller.reset();
      }
      return raw->decision->code;
    });
    pool.in_progress.emplace(p->number, p);
    p->stream->async_handshake(tls::role::server, [w = weak_from_this(), p](std::error_code hec) {
      auto self = w.lock();
      if (!self) return;
      auto& in_progress = self->pool_of(p->relayed).in_progress;
      if (auto it = in_progress.find(p->number); it != in_progress.end() && it->second == p)
        in_progress.erase(it);
      if (self->closed) return;
      self->handshake_done(p, hec, p->peer);
    });
  }

  void handshake_done(const std::shared_ptr<pending>& p, std::error_code ec,
                      const std::string& peer) {
    using reason = pending::abort_reason;
    if (!ec && p->aborted != reason::none) ec = asio::error::operation_aborted; // raced the close
    if (ec) {
      // Not a pairing attempt, whoever it was: only a failed proof counts against the window.
      if (p->decision && p->decision->action == trust::controller_action::refuse) {
        emit(level::warning, diag::connection_refused, p->decision->code,
             "connection from " + peer + " refused: " + p->decision->describe(),
             {peer_field(peer), controller_field(p->decision->presented)});
      } else if (ec == tls::tls_errc::handshake_timeout) {
        // Absolute, not idle: a slow-loris client trickling bytes ends here too.
        emit(level::warning, diag::handshake_timeout, ec,
             "TLS handshake with " + peer + " timed out after " +
                 std::to_string(ctx.options().handshake_timeout.count()) +
                 " ms (tls::context_options::handshake_timeout); connection closed",
             {peer_field(peer), {diag::key::timeout_ms, ms(ctx.options().handshake_timeout)}});
      } else if (p->aborted == reason::none) {
        // The engine's own account (mbedTLS's reason, the alert), next to the address it does
        // not know: one diagnostic says who and why.
        std::vector<core::field> fields{peer_field(peer)};
        const core::error_detail& engine_error = p->stream->last_error();
        if (engine_error.code == ec)
          fields.insert(fields.end(), engine_error.fields.begin(), engine_error.fields.end());
        emit(level::warning, diag::handshake_failed, ec,
             "TLS handshake with " + peer + " failed: " + ec.message(), std::move(fields));
      }
      return;
    }
    auto g = std::make_shared<greeting>(ex);
    g->number = p->number;
    g->peer = peer;
    g->local = p->local;
    g->relayed = p->relayed;
    g->stream = std::move(p->stream);
    g->fp = g->stream->peer_fingerprint();
    if (p->decision && p->decision->action == trust::controller_action::accept)
      g->known = p->decision->controller;
    if (!g->known) {
      std::size_t unknown = 0;
      for (const auto& [n, other] : greetings)
        unknown += other->known ? 0 : 1;
      if (unknown >= opts.pairing.max_pending) evict_oldest_pairing();
    }
    greetings.emplace(g->number, g);
    g->deadline = std::chrono::steady_clock::now() + opts.pairing.exchange.timeout;
    arm(g);
    greet_read(g);
  }

  void evict_oldest_pairing() {
    for (auto it = greetings.begin(); it != greetings.end(); ++it) {
      if (it->second->known) continue;
      std::shared_ptr<greeting> victim = it->second;
      end_greeting(victim);
      ++pairing_evicted_unlogged;
      const auto now = std::chrono::steady_clock::now();
      if (now - pairing_eviction_logged >= std::chrono::seconds(1)) {
        emit(level::warning, diag::pairings_evicted, {},
             std::to_string(opts.pairing.max_pending) +
                 " pairing exchanges in progress (pairing_options::max_pending): closed the "
                 "oldest " +
                 std::to_string(pairing_evicted_unlogged) + " to admit new ones (latest from " +
                 victim->peer + ")",
             {{diag::key::max_pending_pairings, std::uint64_t{opts.pairing.max_pending}},
              {diag::key::count, pairing_evicted_unlogged},
              peer_field(victim->peer)});
        pairing_eviction_logged = now;
        pairing_evicted_unlogged = 0;
      }
      return;
    }
  }

  void end_greeting(const std::shared_ptr<greeting>& g) {
    if (g->finished) return;
    g->finished = true;
    g->timer.cancel();
    greetings.erase(g->number);
    if (g->stream) {
      std::error_code ignored;
      g->stream->next_layer().shutdown(asio::socket_base::shutdown_both, ignored);
      g->stream->next_layer().close(ignored);
    }
    // Whoever ended it (the controller leaving, a failed write, an eviction), an exchange that
    // was running is reported as over: the application's view of what is in progress (TXT sf)
    // must never keep one that is gone. Not on close(): the application is closing it all.
    if (!closed && g->responder && !g->responder->done()) pairing_abandoned(g);
  }

  // One timer per greeting: the responder's next deadline (a proof waiting out the delay after
  // failures) or the greeting's own limit, whichever comes first.
  void arm(const std::shared_ptr<greeting>& g) {
    auto when = g->deadline;
    if (g->responder && !g->responder->done()) when = std::min(when, g->responder->next_deadline());
    g->timer.expires_at(when);
    g->timer.async_wait([w = weak_from_this(), g](std::error_code ec) {
      auto self = w.lock();
      if (!self || ec || g->finished) return;
      const auto now = std::chrono::steady_clock::now();
      if (g->responder && !g->responder->done()) {
        g->responder->handle_deadline(now);
        self->after_pairing_input(g);
        if (!g->finished) self->arm(g);
        return;
      }
      self->emit(level::warning, diag::greeting_timeout, core::channel_errc::handshake_timeout,
                 "connection from " + g->peer + " closed: no " +
                     std::string(g->responder ? "HELLO after pairing" : "HELLO or pairing frame") +
                     " within " + std::to_string(self->opts.pairing.exchange.timeout.count()) +
                     " ms",
                 {peer_field(g->peer),
                  controller_field(g->fp),
                  {diag::key::timeout_ms, ms(self->opts.pairing.exchange.timeout)},
                  {diag::key::after_pairing, g->responder != nullptr}});
      self->end_greeting(g);
    });
  }

  void greet_read(const std::shared_ptr<greeting>& g) {
    g->stream->async_read_some(
        asio::buffer(g->rbuf), [w = weak_from_this(), g](std::error_code ec, std::size_t n) {
          auto self = w.lock();
          if (!self || g->finished) return;
          // A pairing that ended with the controller closing (lanyard pair) ends here too;
          // end_greeting() reports it.
          if (ec) return self->end_greeting(g);
          self->greet_bytes(g, std::span<const std::byte>(g->rbuf.data(), n));
        });
  }

  void greet_bytes(const std::shared_ptr<greeting>& g, std::span<const std::byte> bytes) {
    const auto now = std::chrono::steady_clock::now();
    if (g->responder && g->responder->done()) {
      // Paired: what follows is the channel (HELLO), with whatever came with the last frame.
      std::vector<std::byte> already = std::move(g->first);
      already.insert(already.end(), bytes.begin(), bytes.end());
      return to_session(g, already);
    }
    if (g->responder) {
      pairing_bytes(g, bytes, now);
      after_pairing_input(g);
      if (!g->finished) {
        arm(g);
        greet_read(g);
      }
      return;
    }
    g->first.insert(g->first.end(), bytes.begin(), bytes.end());
    if (g->first.size() < 2) return greet_read(g);
    const auto type = std::to_integer<std::uint8_t>(g->first[1]);
    // Pairing proves a code shown next to the accessory: it has no business in a relay tunnel,
    // which only a paired controller's relay key opens (its exchange ends here unstarted).
    if (core::is_pairing_frame_type(type) && g->relayed) return end_greeting(g);
    if (core::is_pairing_frame_type(type)) return start_pairing(g);
    if (g->known) return to_session(g, g->first);
    // An unknown controller that skipped pairing: CLOSE(not_paired) says what to do.
    emit(level::warning, diag::not_paired_traffic, core::channel_errc::not_paired,
         "connection from " + g->peer + " (controller " + core::to_string(g->fp) +
             "): not paired; it sent channel traffic without pairing first",
         {peer_field(g->peer), controller_field(g->fp)});
    core::close_frame c;
    c.code = static_cast<std::uint16_t>(core::channel_errc::not_paired);
    c.reason = "not paired: prove the setup secret or code first";
    g->wbuf.clear();
    core::encode_frame(c, g->wbuf);
    g->first.clear();
    write_then_end(g);
  }

  void start_pairing(const std::shared_ptr<greeting>& g) {
    const auto exporter = g->stream->exporter();
    if (g->stream->resumed() || !exporter) {
      // Nothing fresh to bind the proofs to: refused before the exchange starts, so no attempt
      // is counted. The application hears why through its pairing handler, like any refusal.
      pairing_report r;
      r.controller = g->fp;
      r.peer = g->peer;
      r.error = core::pairing_errc::needs_full_handshake;
      r.attempts_left = core::pairing_window(store->window()).attempts_left();
      emit(level::warning, diag::pairing_refused, r.error,
           "pairing from " + g->peer + " refused: " + r.error.message() + " (" +
               (exporter ? "this one resumed a session" : "no keying material") + ")",
           {peer_field(g->peer),
            controller_field(g->fp),
            {fk::attempts_left, std::uint64_t{r.attempts_left}},
            {diag::key::resumed, g->stream->resumed()}});
      g->reported = true;
      if (on_pairing) on_pairing(r);
      return end_greeting(g);
    }
    core::pairing_binding b;
    std::copy(exporter->begin(), exporter->end(), b.exporter.begin());
    b.controller = g->fp;
    b.accessory = ctx.local_identity().fingerprint();
    g->crypto = std::make_unique<crypto::mbedtls_pairing_crypto>();
    g->host = std::make_unique<detail::store_pairing_host>(store, opts.pairing, throttle, g->known);
    const auto now = std::chrono::steady_clock::now();
    g->responder = std::make_unique<core::pairing_responder>(*g->crypto, *g->host, b, now,
                                                             opts.pairing.exchange);
    // The exchange's own timeout runs from here; the greeting's deadline moves with it. Left
    // at the earlier one, the timer would fire before the responder's deadline and be re-armed
    // at a time already past, again and again until then: a client that waited before its
    // PAIR_START made the accessory spin for as long as it had waited.
    g->deadline = now + opts.pairing.exchange.timeout;
    std::vector<std::byte> first = std::move(g->first);
    g->first.clear();
    pairing_bytes(g, first, now);
    after_pairing_input(g);
    if (!g->finished) {
      arm(g);
      greet_read(g);
    }
  }

  // Bytes for the responder. What follows the exchange's last frame is a view of `bytes`
  // (core::pairing_responder::unread()): kept for the session, which the next read starts.
  void pairing_bytes(const std::shared_ptr<greeting>& g, std::span<const std::byte> bytes,
                     std::chrono::steady_clock::time_point now) {
    g->responder->receive(bytes, now);
    if (g->responder->done() && !g->responder->outcome().error)
      g->first.assign(g->responder->unread().begin(), g->responder->unread().end());
  }

  // Writes what the responder has to say; reports the exchange once it is under way, and once
  // it is over.
  void after_pairing_input(const std::shared_ptr<greeting>& g) {
    std::span<const std::byte> out = g->responder->poll_output();
    g->wbuf.insert(g->wbuf.end(), out.begin(), out.end());
    if (g->responder->in_progress() && !g->started) report_start(g);
    if (g->responder->done() && !g->reported) report_pairing(g);
    if (g->responder->done() && g->responder->outcome().error) return write_then_end(g);
    flush_greeting(g);
  }

  void flush_greeting(const std::shared_ptr<greeting>& g) {
    if (g->writing || g->wbuf.empty() || g->finished) return;
    g->writing = true;
    auto buf = std::make_shared<std::vector<std::byte>>(std::move(g->wbuf));
    g->wbuf.clear();
    asio::async_write(*g->stream, asio::buffer(*buf),
                      [w = weak_from_this(), g, buf](std::error_code ec, std::size_t) {
                        auto self = w.lock();
                        g->writing = false;
                        if (!self || g->finished) return;
                        if (ec) return self->end_greeting(g);
                        self->flush_greeting(g);
                      });
  }

  // Sends what is queued (a refusal), then closes.
  void write_then_end(const std::shared_ptr<greeting>& g) {
    if (g->finished) return;
    auto buf = std::make_shared<std::vector<std::byte>>(std::move(g->wbuf));
    g->wbuf.clear();
    g->timer.cancel();
    asio::async_write(*g->stream, asio::buffer(*buf),
                      [w = weak_from_this(), g, buf](std::error_code, std::size_t) {
                        if (auto self = w.lock()) self->end_greeting(g);
                      });
  }

  void pairing_abandoned(const std::shared_ptr<greeting>& g) {
    // Whatever was counted stays counted (a SPAKE2+ attempt whose confirmation went out).
    g->responder->abandon();
    report_pairing(g);
  }

  // Exchanges whose start was reported and whose end was not: what pairings_in_progress() says.
  std::size_t exchanges_running() const {
    std::size_t n = 0;
    for (const auto& [number, g] : greetings)
      n += g->started && !g->reported ? 1 : 0;
    return n;
  }

  void report_start(const std::shared_ptr<greeting>& g) {
    g->started = true;
    pairing_start st;
    st.controller = g->fp;
    st.name = g->responder->outcome().name(); // PAIR_START's, read already
    st.method = g->responder->outcome().method;
    st.peer = g->peer;
    if (on_pairing_start) on_pairing_start(st);
  }

  pairing_report make_report(const std::shared_ptr<greeting>& g) {
    pairing_report r;
    r.controller = g->fp;
    r.peer = g->peer;
    const core::pairing_responder_outcome& o = g->responder->outcome();
    r.name = o.name();
    r.method = o.method;
    r.error = o.error;
    r.role = o.role;
    r.attempts_left = g->host->attempts_left();
    r.detail = g->host->detail();
    return r;
  }

  void report_pairing(const std::shared_ptr<greeting>& g) {
    g->reported = true;
    pairing_report r = make_report(g);
    const std::string who = "controller " + core::to_string(g->fp) + " (\"" +
                            core::display_text(r.name) + "\", " + g->peer + ")";
    std::vector<core::field> fields{controller_field(g->fp),
                                    peer_field(g->peer),
                                    {diag::key::name, core::display_text(r.name)},
                                    {diag::key::method, std::string(core::to_string(r.method))}};
    if (!r.error) {
      const std::string role = r.role == core::paired_role::admin ? "admin" : "user";
      fields.push_back({diag::key::paired_role, role});
      emit(level::notice, diag::paired, {}, "paired " + who + " as " + role, std::move(fields));
    } else {
      fields.push_back({fk::attempts_left, std::uint64_t{r.attempts_left}});
      emit(level::warning, diag::pairing_failed, r.error,
           "pairing with " + who + " failed: " + r.error.message() +
               (r.detail.empty() ? "" : " (" + r.detail + ")") + "; " +
               std::to_string(r.attempts_left) + " attempts left",
           std::move(fields));
    }
    if (on_pairing) on_pairing(r);
  }

  void to_session(const std::shared_ptr<greeting>& g, std::span<const std::byte> already) {
    const controller_id fp = g->fp;
    const core::session_admission verdict = table.admit(fp, std::chrono::steady_clock::now());
    if (verdict == core::session_admission::refuse) {
      emit(level::warning, diag::session_cap_refused, core::channel_errc::too_many_sessions,
           "controller " + core::to_string(fp) + " from " + g->peer + ": refused, " +
               std::to_string(opts.max_sessions) +
               " sessions with live connections (server_options::max_sessions)",
           {controller_field(fp),
            peer_field(g->peer),
            {diag::key::max_sessions, std::uint64_t{opts.max_sessions}}});
      core::close_frame c;
      c.code = static_cast<std::uint16_t>(core::channel_errc::too_many_sessions);
      c.reason = "too many sessions";
      g->wbuf.clear();
      core::encode_frame(c, g->wbuf);
      return write_then_end(g);
    }
    // A session evicted to make room, or this controller's ended one, goes first.
    carry_out_drops();
    g->finished = true;
    g->timer.cancel();
    greetings.erase(g->number);
    auto it = sessions.find(fp);
    std::shared_ptr<entry> e = it != sessions.end() ? it->second : make_session(fp);
    if (verdict == core::session_admission::take_over)
      emit(level::notice, diag::connection_takeover, {},
           "controller " + core::to_string(fp) + ": new connection from " + g->peer +
               " takes over the session",
           {controller_field(fp), peer_field(g->peer)});
    e->via = g->local;
    e->peer = g->peer;
    if (std::error_code aec = e->runner->attach(std::move(g->stream), already)) {
      emit(level::warning, diag::attach_failed, aec,
           "controller " + core::to_string(fp) + ": could not attach: " + aec.message(),
           {controller_field(fp), peer_field(g->peer)});
      if (!e->runner->has_link()) {
        table.connection_lost(fp, std::chrono::steady_clock::now());
        arm_table_timer();
      }
    }
    // A resumed session's linger is over: the timer may have nothing left to wait for.
    if (verdict == core::session_admission::resume) arm_table_timer();
  }

  std::shared_ptr<entry> make_session(const controller_id& fp) {
    auto e = std::make_shared<entry>(ex, opts.max_waiting_sends);
    e->controller = fp;
    core::session_settings s = opts.session;
    if (opts.receive == channel::receive_mode::pull) s.acknowledge = core::ack_policy::on_consume;
    s.new_session_id = random_session_id;
    std::weak_ptr<impl> w = weak_from_this();
    s.is_foreign_session = [w, fp](const core::session_id& id) {
      auto self = w.lock();
      return self && self->table.foreign(fp, id);
    };
    e->runner = std::make_shared<session_runner>(ex, core::session_role::server, std::move(s));
    std::weak_ptr<entry> we = e;
    e->runner->set_callbacks({
        [w, we](core::session_event& ev) {
          auto self = w.lock();
          auto en = we.lock();
          if (self && en) self->session_event(en, ev);
        },
        [w, we](std::error_code why) {
          auto self = w.lock();
          auto en = we.lock();
          if (self && en) self->link_lost(en, why);
        },
    });
    sessions[fp] = e;
    return e;
  }

  // True if `e` is the session the table knows for its controller (not one it dropped).
  bool current(const std::shared_ptr<entry>& e) const {
    auto it = sessions.find(e->controller);
    return it != sessions.end() && it->second == e && table.contains(e->controller);
  }

  void session_event(const std::shared_ptr<entry>& e, core::session_event& ev) {
    if (auto* est = std::get_if<core::events::established>(&ev)) {
      if (current(e)) table.established(e->controller, est->id);
    } else if (auto* m = std::get_if<core::events::message_received>(&ev)) {
      if (opts.receive == channel::receive_mode::pull)
        e->inbox.push(*e->runner, core::message{m->seq, std::move(m->payload)});
      else if (on_message)
        on_message(e->controller, m->seq, m->payload);
    } else if (auto* cm = std::get_if<core::events::control_received>(&ev)) {
      if (on_control)
        on_control(e->controller, cm->kind, cm->seq, cm->payload);
      else
        refuse_service(e, cm->kind, cm->seq);
    } else if (auto* a = std::get_if<core::events::acked>(&ev)) {
      e->sends.on_acked(*e->runner, a->next_unacked);
    } else if (auto* f = std::get_if<core::events::connection_failed>(&ev)) {
      emit(
          level::warning, diag::connection_closed, f->error,
          "controller " + core::to_string(e->controller) + ": connection closed: " +
              f->error.message() + (f->by_peer ? " (reported by the app)" : ""),
          {controller_field(e->controller), peer_field(e->peer), {diag::key::by_peer, f->by_peer}});
    } else if (std::get_if<core::events::session_reset>(&ev)) {
      e->sends.fail_unacked(channel::errc::session_reset);
      e->inbox.new_session();
    }
    if (on_event) on_event(e->controller, ev);
    if (std::get_if<core::events::closed>(&ev) && current(e)) {
      // The session ended: the table forgets it now; the runner is stopped once it has
      // handled the CLOSE (never inside its own callback).
      table.ended(e->controller);
      asio::post(ex, [w = weak_from_this()] {
        if (auto self = w.lock()) self->carry_out_drops();
      });
    }
  }

  // Nobody serves provisioning or administration here: the app is told so (both services
  // answer requests with `error re=SEQ reason=WORD`, lanyard/core/provisioning.hpp and
  // lanyard/accessory/controller_admin.hpp) instead of waiting for an answer that never comes.
  void refuse_service(const std::shared_ptr<entry>& e, core::message_kind service,
                      std::uint64_t seq) {
    core::app_message m("error");
    m.set("re", seq).set("reason", "not_supported");
    std::string text;
    if (core::encode_app_message(m, text)) return;
    e->sends.submit(*e->runner, std::as_bytes(std::span(text.data(), text.size())), {},
                    channel::send_completion([](std::error_code, std::uint64_t) {}, ex), service);
  }

  void link_lost(const std::shared_ptr<entry>& e, std::error_code why) {
    if (e->runner->has_link()) return; // taken over: the session has a new connection
    if (!current(e)) return;           // dropped already
    // The session's own verdicts (protocol errors, peer_dead...) were logged with its
    // connection_failed event already. A replaced connection is the runtime's verdict, in the
    // same category since lanyard.channel.io was folded into it: still logged here.
    if (why != asio::error::eof && why != tls::tls_errc::stream_truncated && why &&
        (why.category() != core::channel_category() ||
         why == core::channel_errc::connection_replaced))
      emit(level::notice, diag::link_lost, why,
           "controller " + core::to_string(e->controller) + ": connection lost: " + why.message(),
           {controller_field(e->controller), peer_field(e->peer)});
    table.connection_lost(e->controller, std::chrono::steady_clock::now());
    arm_table_timer();
  }

  // Waits for the table's next deadline (one timer for every lingering session); re-armed
  // only when that deadline moves.
  void arm_table_timer() {
    const auto at = table.next_deadline();
    if (at == table_timer_at) return;
    table_timer_at = at;
    if (at == core::session_table::time_point::max()) {
      table_timer.cancel();
      return;
    }
    table_timer.expires_at(at);
    table_timer.async_wait([w = weak_from_this()](std::error_code ec) {
      auto self = w.lock();
      if (!self || ec) return;
      self->table_timer_at = core::session_table::time_point::max();
      self->table.handle_deadline(std::chrono::steady_clock::now());
      self->carry_out_drops();
      self->arm_table_timer();
    });
  }

  // Carries out the table's drops, in order: stop the runner, fail its sends, forget it.
  void carry_out_drops() {
    bool any = false;
    while (auto d = table.poll_drop()) {
      any = true;
      auto it = sessions.find(d->controller);
      if (it == sessions.end()) continue;
      std::shared_ptr<entry> e = it->second;
      std::error_code why = channel::errc::session_expired;
      switch (d->reason) {
      case core::session_drop_reason::linger_expired:
        emit(level::notice, diag::session_expired, why,
             "controller " + core::to_string(d->controller) + ": session expired after " +
                 std::to_string(opts.session_linger.count()) + " ms without a connection",
             {controller_field(d->controller), {diag::key::linger_ms, ms(opts.session_linger)}});
        break;
      case core::session_drop_reason::made_room:
        emit(level::notice, diag::lingering_session_dropped, why,
             "controller " + core::to_string(d->controller) +
                 ": lingering session dropped to make room (server_options::max_sessions)",
             {controller_field(d->controller),
              {diag::key::max_sessions, std::uint64_t{opts.max_sessions}}});
        break;
      case core::session_drop_reason::ended:
        why = core::channel_errc::session_closed;
        break;
      }
      drop(e, why);
    }
    if (any) arm_table_timer();
  }

  void drop(const std::shared_ptr<entry>& e, std::error_code why) {
    auto it = sessions.find(e->controller);
    if (it != sessions.end() && it->second == e) sessions.erase(it);
    e->runner->stop();
    e->sends.fail_all(why);
    // A waiting receive ends with `why`. Messages nobody took go with the entry: under
    // on_consume they were never acknowledged, so the app's side fails them too.
    e->inbox.close(why);
  }

  static void close_listener(listener& l) {
    l.closed = true;
    std::error_code ignored;
    l.acceptor.close(ignored);
    l.retry.cancel();
  }

  // True if a connection to local endpoint `via` came in through a listener bound to `bound`
  // (a wildcard address matches every address of its family's port).
  static bool came_through(const tcp::endpoint& via, const tcp::endpoint& bound) {
    if (via.port() != bound.port()) return false;
    if (bound.address().is_unspecified()) return true;
    return via.address() == bound.address();
  }

  void shut() {
    if (closed) return;
    closed = true;
    for (const auto& l : listeners)
      close_listener(*l);
    listeners.clear();
    for (handshake_pool* pool : {&local_handshakes, &relayed_handshakes}) {
      auto pend = std::move(pool->in_progress);
      pool->in_progress.clear();
      for (const auto& [n, p] : pend)
        abort_handshake(p, pending::abort_reason::closed);
    }
    auto greeted = std::move(greetings);
    greetings.clear();
    for (const auto& [n, g] : greeted)
      end_greeting(g);
    table.clear();
    table_timer.cancel();
    table_timer_at = core::session_table::time_point::max();
    auto all = std::move(sessions);
    sessions.clear();
    for (auto& [fp, e] : all) {
      e->runner->stop();
      e->sends.fail_all(asio::error::operation_aborted);
      e->inbox.close(asio::error::operation_aborted);
    }
  }
};

server::server(executor_type ex, tls::context ctx, std::shared_ptr<trust::controller_store> store,
               server_options options)
    : impl_(std::make_shared<impl>(ex, std::move(ctx), std::move(store), std::move(options))) {}

server::~server() {
  impl_->on_message = {};
  impl_->on_control = {};
  impl_->on_event = {};
  impl_->on_pairing = {};
  impl_->on_pairing_start = {};
  impl_->shut();
}

server::executor_type server::get_executor() const noexcept {
  return impl_->ex;
}
void server::set_message_handler(message_handler h) {
  impl_->on_message = std::move(h);
}
void server::set_control_handler(control_handler h) {
  impl_->on_control = std::move(h);
}
void server::set_event_handler(event_handler h) {
  impl_->on_event = std::move(h);
}
void server::set_pairing_handler(pairing_handler h) {
  impl_->on_pairing = std::move(h);
}
void server::set_pairing_start_handler(pairing_start_handler h) {
  impl_->on_pairing_start = std::move(h);
}
std::size_t server::pairings_in_progress() const noexcept {
  return impl_->exchanges_running();
}

void server::adopt_tunnel(channel::transport t, const controller_id& opened_by, std::string peer) {
  if (impl_->closed) {
    std::error_code ignored;
    t.close(ignored);
    return;
  }
  impl_->start_handshake(std::move(t), std::move(peer), tcp::endpoint{}, opened_by);
}

std::error_code server::listen(const tcp::endpoint& ep) {
  impl& i = *impl_;
  auto l = std::make_shared<impl::listener>(i.ex);
  std::error_code ec;
  bool mptcp = false;
  ec = link::open_acceptor(l->acceptor, ep.protocol(), i.opts.transport, &mptcp);
  if (!ec && i.opts.transport == link::transport_protocol::mptcp && !mptcp)
    i.emit(level::notice, diag::mptcp_unavailable, {},
           "MPTCP is not available in this kernel/namespace; listening with TCP",
           endpoint_fields(ep));
  if (!ec) l->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) l->acceptor.bind(ep, ec);
  if (!ec) l->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) l->local = l->acceptor.local_endpoint(ec);
  if (ec) {
    std::error_code ignored;
    l->acceptor.close(ignored);
    i.emit(level::error, diag::listen_failed, ec,
           "listening on " + ep.address().to_string() + ":" + std::to_string(ep.port()) +
               " failed: " + ec.message(),
           endpoint_fields(ep));
    return ec;
  }
  i.closed = false;
  i.listeners.push_back(l);
  i.accept(l);
  return {};
}

std::error_code server::stop_listening(const tcp::endpoint& ep) {
  impl& i = *impl_;
  auto it = std::find_if(i.listeners.begin(), i.listeners.end(),
                         [&](const auto& l) { return l->local == ep; });
  if (it == i.listeners.end()) return std::make_error_code(std::errc::no_such_device_or_address);
  impl::close_listener(**it);
  i.listeners.erase(it);
  i.emit(level::info, diag::stopped_listening, {},
         "stopped listening on " + ep.address().to_string() + ":" + std::to_string(ep.port()),
         endpoint_fields(ep));
  return {};
}

std::size_t server::end_connections_through(const tcp::endpoint& ep) {
  impl& i = *impl_;
  // The sessions stay: their apps reconnect through another listener and resume.
  std::vector<std::shared_ptr<impl::entry>> through;
  for (const auto& [fp, e] : i.sessions)
    if (e->runner->has_link() && impl::came_through(e->via, ep)) through.push_back(e);
  if (!through.empty()) {
    std::vector<core::field> fields = endpoint_fields(ep);
    fields.push_back({diag::key::count, std::uint64_t{through.size()}});
    i.emit(level::info, diag::connections_ended, {},
           "ending " + std::to_string(through.size()) + " connection(s) that came in through " +
               ep.address().to_string() + ":" + std::to_string(ep.port()) + "; their sessions stay",
           std::move(fields));
  }
  for (const auto& e : through)
    e->runner->drop_link(asio::error::shut_down);
  return through.size();
}

tcp::endpoint server::local_endpoint() const {
  return impl_->listeners.empty() ? tcp::endpoint{} : impl_->listeners.front()->local;
}

std::vector<tcp::endpoint> server::local_endpoints() const {
  std::vector<tcp::endpoint> out;
  for (const auto& l : impl_->listeners)
    out.push_back(l->local);
  return out;
}

void server::close() {
  impl_->shut();
}

bool server::end_session(const controller_id& controller) {
  impl& i = *impl_;
  if (i.sessions.find(controller) == i.sessions.end()) return false;
  // The table decides drops: ended() queues this one, carry_out_drops() stops its runner
  // (connection closed at once), fails its sends and closes its inbox.
  i.table.ended(controller);
  i.carry_out_drops();
  return true;
}

std::size_t server::session_count() const noexcept {
  return impl_->sessions.size();
}

bool server::connected(const controller_id& controller) const noexcept {
  auto it = impl_->sessions.find(controller);
  return it != impl_->sessions.end() && it->second->runner->has_link();
}

void server::receive_impl(const controller_id& controller, channel::receive_completion c) {
  impl& i = *impl_;
  if (i.opts.receive != channel::receive_mode::pull)
    return c.complete(core::channel_errc::invalid_state, {});
  if (i.closed) return c.complete(asio::error::operation_aborted, {});
  auto it = i.sessions.find(controller);
  if (it == i.sessions.end()) return c.complete(channel::errc::no_session, {});
  // The entry stays alive while its receive waits: the queue's state is shared with the
  // cancellation handler, and drop() closes it, completing the receive.
  it->second->inbox.receive(*it->second->runner, std::move(c));
}

std::optional<core::message> server::try_receive(const controller_id& controller) {
  impl& i = *impl_;
  if (i.opts.receive != channel::receive_mode::pull || i.closed) return std::nullopt;
  auto it = i.sessions.find(controller);
  if (it == i.sessions.end()) return std::nullopt;
  return it->second->inbox.try_take(*it->second->runner);
}

void server::send_impl(const controller_id& controller, std::span<const std::byte> payload,
                       channel::send_options options, channel::send_completion c,
                       std::optional<core::message_kind> service) {
  impl& i = *impl_;
  if (i.closed) return c.complete(asio::error::operation_aborted, 0);
  // A service's message must name a service: as application data it would reach the app.
  if (service == core::message_kind::application)
    return c.complete(core::channel_errc::invalid_frame_field, 0);
  auto it = i.sessions.find(controller);
  if (it == i.sessions.end()) return c.complete(channel::errc::no_session, 0);
  std::shared_ptr<impl::entry> e = it->second;
  e->sends.submit(*e->runner, payload, options, std::move(c),
                  service.value_or(core::message_kind::application));
}

} // namespace lanyard::accessory
