#include <lanyard/accessory/server.hpp>

#include "channel/send_queue.hpp"
#include "channel/session_runner.hpp"

#include <lanyard/tls/error.hpp>
#include <lanyard/trust/error.hpp>

#include <asio/error.hpp>
#include <asio/steady_timer.hpp>

#include <algorithm>
#include <map>
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

namespace {

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
    entry(executor_type ex, std::size_t max_waiting) : linger(ex), sends(max_waiting) {}
    controller_id controller;
    std::shared_ptr<session_runner> runner;
    asio::steady_timer linger;
    send_queue sends;
    // The local endpoint of the current connection: end_connections_through() matches it.
    tcp::endpoint via;
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
    std::optional<trust::controller_decision> decision;
    // Why the server ended the handshake itself, if it did.
    enum class abort_reason { none, evicted, closed } aborted = abort_reason::none;
  };

  impl(executor_type e, tls::context c, std::shared_ptr<trust::controller_store> s,
       server_options o)
      : ex(e), ctx(std::move(c)), store(std::move(s)), opts(std::move(o)) {
    if (opts.tcp_user_timeout.count() == 0) opts.tcp_user_timeout = opts.session.peer_timeout;
    if (opts.max_pending_handshakes == 0) opts.max_pending_handshakes = 1;
  }

  executor_type ex;
  tls::context ctx;
  std::shared_ptr<trust::controller_store> store;
  server_options opts;
  std::vector<std::shared_ptr<listener>> listeners;
  std::map<controller_id, std::shared_ptr<entry>> sessions;
  // Handshakes in progress by arrival: begin() is the one evicted when the limit is reached.
  std::map<std::uint64_t, std::shared_ptr<pending>> handshaking;
  std::uint64_t next_pending = 0;
  // Evictions are logged at most once per second: a flood must not flood the log as well.
  std::uint64_t evicted_unlogged = 0;
  std::chrono::steady_clock::time_point eviction_logged{};
  bool closed = false;
  message_handler on_message;
  event_handler on_event;

  void log(const std::string& line) {
    if (opts.log) opts.log(line);
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
      self->log("accept failed: " + ec.message() + "; retrying in 100 ms");
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
    p->stream->next_layer().shutdown(tcp::socket::shutdown_both, ignored);
    p->stream->next_layer().close(ignored);
  }

  void evict_oldest_handshake() {
    auto oldest = handshaking.begin();
    std::shared_ptr<pending> victim = oldest->second;
    handshaking.erase(oldest); // its slot is free now; its handler finds it gone
    abort_handshake(victim, pending::abort_reason::evicted);
    ++evicted_unlogged;
    const auto now = std::chrono::steady_clock::now();
    if (now - eviction_logged >= std::chrono::seconds(1)) {
      log(std::to_string(opts.max_pending_handshakes) +
          " TLS handshakes in progress (server_options::max_pending_handshakes): closed the "
          "oldest " +
          std::to_string(evicted_unlogged) + " to admit new connections (latest from " +
          victim->peer + ")");
      eviction_logged = now;
      evicted_unlogged = 0;
    }
  }

  void handshake(tcp::socket s) {
    std::error_code ec;
    tcp::endpoint remote = s.remote_endpoint(ec);
    std::string peer =
        ec ? std::string("?") : remote.address().to_string() + ":" + std::to_string(remote.port());
    if (std::error_code cec = channel::detail::configure_socket(s, opts.tcp_user_timeout)) {
      log("connection from " + peer + ": configuring the socket failed: " + cec.message());
      return;
    }
    while (handshaking.size() >= opts.max_pending_handshakes)
      evict_oldest_handshake();
    auto p = std::make_shared<pending>();
    p->number = next_pending++;
    p->peer = peer;
    p->local = s.local_endpoint(ec);
    p->stream = std::make_unique<tls_stream>(std::move(s), ctx);
    pending* raw = p.get();
    p->stream->set_verifier([raw, st = store](const core::fingerprint& fp,
                                              const tls::peer_cert_info&) -> std::error_code {
      raw->decision = st->check(fp, std::chrono::system_clock::now());
      return raw->decision->code;
    });
    handshaking.emplace(p->number, p);
    p->stream->async_handshake(tls::role::server, [w = weak_from_this(), p](std::error_code hec) {
      auto self = w.lock();
      if (!self) return;
      if (auto it = self->handshaking.find(p->number);
          it != self->handshaking.end() && it->second == p)
        self->handshaking.erase(it);
      if (self->closed) return;
      self->handshake_done(p, hec, p->peer);
    });
  }

  void handshake_done(const std::shared_ptr<pending>& p, std::error_code ec,
                      const std::string& peer) {
    const auto now = std::chrono::system_clock::now();
    using reason = pending::abort_reason;
    if (!ec && p->aborted != reason::none) ec = asio::error::operation_aborted; // raced the close
    if (ec) {
      if (p->decision && p->decision->action == trust::controller_action::refuse) {
        log("connection from " + peer + " refused: " + p->decision->describe());
      } else {
        // While the window is open, a failed handshake by anyone not yet paired is a failed
        // pairing attempt: the server saw an unknown certificate, or none at all because the
        // app refused this accessory's key (its setup payload did not match) before sending
        // its own. Counting both is what bounds guessing during the window.
        const bool unknown_peer =
            !p->decision || p->decision->action == trust::controller_action::pair;
        if (unknown_peer && store->window().open) {
          trust::store_status s = store->record_failure(now);
          if (s.failed()) log("recording a failed pairing attempt failed: " + s.message());
        }
        if (ec == tls::tls_errc::handshake_timeout)
          // Absolute, not idle: a slow-loris client trickling bytes ends here too.
          log("TLS handshake with " + peer + " timed out after " +
              std::to_string(ctx.options().handshake_timeout.count()) +
              " ms (tls::context_options::handshake_timeout); connection closed");
        else if (p->aborted == reason::none)
          log("TLS handshake with " + peer + " failed: " + ec.message());
      }
      return;
    }
    controller_id fp = p->stream->peer_fingerprint();
    if (p->decision && p->decision->action == trust::controller_action::pair) {
      if (!opts.pair_in_window) {
        log("connection from " + peer + " refused: not paired (pairing disabled on this server)");
        return;
      }
      trust::store_status s =
          store->pair(fp, p->stream->peer_subject(), trust::controller_role::user, now);
      if (s.failed()) {
        log("pairing controller " + core::to_string(fp) + " failed: " + s.message());
        return;
      }
      log("paired controller " + core::to_string(fp) + " (" + p->stream->peer_subject() + ")");
    }
    std::shared_ptr<entry> e = session_for(fp);
    e->linger.cancel();
    if (e->runner->has_link())
      log("controller " + core::to_string(fp) + ": new connection from " + peer +
          " takes over the session");
    e->via = p->local;
    if (std::error_code aec = e->runner->attach(std::move(p->stream)))
      log("controller " + core::to_string(fp) + ": could not attach: " + aec.message());
  }

  std::shared_ptr<entry> session_for(const controller_id& fp) {
    auto it = sessions.find(fp);
    if (it != sessions.end() && !it->second->runner->stopped() &&
        it->second->runner->session().state() != core::session_state::closed)
      return it->second;
    if (it != sessions.end()) drop(it->second, core::channel_errc::session_closed);
    auto e = std::make_shared<entry>(ex, opts.max_waiting_sends);
    e->controller = fp;
    core::session_settings s = opts.session;
    s.new_session_id = random_session_id;
    std::weak_ptr<impl> w = weak_from_this();
    s.is_foreign_session = [w, fp](const core::session_id& id) {
      auto self = w.lock();
      if (!self) return false;
      for (const auto& [other, oe] : self->sessions)
        if (other != fp && oe->runner->session().id() == id) return true;
      return false;
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

  void session_event(const std::shared_ptr<entry>& e, core::session_event& ev) {
    if (auto* m = std::get_if<core::events::message_received>(&ev)) {
      if (on_message) on_message(e->controller, m->seq, m->payload);
    } else if (auto* a = std::get_if<core::events::acked>(&ev)) {
      e->sends.on_acked(*e->runner, a->next_unacked);
    } else if (auto* f = std::get_if<core::events::connection_failed>(&ev)) {
      log("controller " + core::to_string(e->controller) + ": connection closed: " +
          f->error.message() + (f->by_peer ? " (reported by the app)" : ""));
    } else if (std::get_if<core::events::session_reset>(&ev)) {
      e->sends.fail_unacked(channel::errc::session_reset);
    }
    if (on_event) on_event(e->controller, ev);
    if (std::get_if<core::events::closed>(&ev)) {
      // The app ended the session: forget it once the CLOSE was handled.
      asio::post(ex, [w = weak_from_this(), e] {
        if (auto self = w.lock()) self->drop(e, core::channel_errc::session_closed);
      });
    }
  }

  void link_lost(const std::shared_ptr<entry>& e, std::error_code why) {
    if (e->runner->has_link()) return; // taken over: the session has a new connection
    // The session's own verdicts (protocol errors, peer_dead...) were logged with its
    // connection_failed event already.
    if (why != asio::error::eof && why != tls::tls_errc::stream_truncated && why &&
        why.category() != core::channel_category())
      log("controller " + core::to_string(e->controller) + ": connection lost: " + why.message());
    e->linger.expires_after(opts.session_linger);
    e->linger.async_wait([w = weak_from_this(), e](std::error_code ec) {
      auto self = w.lock();
      if (!self || ec || e->runner->has_link()) return;
      self->log("controller " + core::to_string(e->controller) + ": session expired after " +
                std::to_string(self->opts.session_linger.count()) + " ms without a connection");
      self->drop(e, channel::errc::session_expired);
    });
  }

  void drop(const std::shared_ptr<entry>& e, std::error_code why) {
    auto it = sessions.find(e->controller);
    if (it != sessions.end() && it->second == e) sessions.erase(it);
    e->linger.cancel();
    e->runner->stop();
    e->sends.fail_all(why);
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
    auto pend = std::move(handshaking);
    handshaking.clear();
    for (const auto& [n, p] : pend)
      abort_handshake(p, pending::abort_reason::closed);
    auto all = std::move(sessions);
    sessions.clear();
    for (auto& [fp, e] : all) {
      e->linger.cancel();
      e->runner->stop();
      e->sends.fail_all(asio::error::operation_aborted);
    }
  }
};

server::server(executor_type ex, tls::context ctx, std::shared_ptr<trust::controller_store> store,
               server_options options)
    : impl_(std::make_shared<impl>(ex, std::move(ctx), std::move(store), std::move(options))) {}

server::~server() {
  impl_->on_message = {};
  impl_->on_event = {};
  impl_->shut();
}

server::executor_type server::get_executor() const noexcept {
  return impl_->ex;
}
void server::set_message_handler(message_handler h) {
  impl_->on_message = std::move(h);
}
void server::set_event_handler(event_handler h) {
  impl_->on_event = std::move(h);
}

std::error_code server::listen(const tcp::endpoint& ep) {
  impl& i = *impl_;
  auto l = std::make_shared<impl::listener>(i.ex);
  std::error_code ec;
  bool mptcp = false;
  ec = link::open_acceptor(l->acceptor, ep.protocol(), i.opts.transport, &mptcp);
  if (!ec && i.opts.transport == link::transport_protocol::mptcp && !mptcp)
    i.log("MPTCP is not available in this kernel/namespace; listening with TCP");
  if (!ec) l->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) l->acceptor.bind(ep, ec);
  if (!ec) l->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) l->local = l->acceptor.local_endpoint(ec);
  if (ec) {
    std::error_code ignored;
    l->acceptor.close(ignored);
    i.log("listening on " + ep.address().to_string() + ":" + std::to_string(ep.port()) +
          " failed: " + ec.message());
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
  i.log("stopped listening on " + ep.address().to_string() + ":" + std::to_string(ep.port()));
  return {};
}

std::size_t server::end_connections_through(const tcp::endpoint& ep) {
  impl& i = *impl_;
  // The sessions stay: their apps reconnect through another listener and resume.
  std::vector<std::shared_ptr<impl::entry>> through;
  for (const auto& [fp, e] : i.sessions)
    if (e->runner->has_link() && impl::came_through(e->via, ep)) through.push_back(e);
  if (!through.empty())
    i.log("ending " + std::to_string(through.size()) + " connection(s) that came in through " +
          ep.address().to_string() + ":" + std::to_string(ep.port()) + "; their sessions stay");
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

std::size_t server::session_count() const noexcept {
  return impl_->sessions.size();
}

bool server::connected(const controller_id& controller) const noexcept {
  auto it = impl_->sessions.find(controller);
  return it != impl_->sessions.end() && it->second->runner->has_link();
}

void server::send_impl(const controller_id& controller, std::span<const std::byte> payload,
                       channel::send_options options, channel::send_completion c) {
  impl& i = *impl_;
  if (i.closed) return c.complete(asio::error::operation_aborted, 0);
  auto it = i.sessions.find(controller);
  if (it == i.sessions.end()) return c.complete(channel::errc::no_session, 0);
  std::shared_ptr<impl::entry> e = it->second;
  e->sends.submit(*e->runner, payload, options, std::move(c));
}

} // namespace lanyard::accessory
