#include <lanyard/client/client_channel.hpp>
#include <lanyard/client/pair.hpp>
#include <lanyard/core/error_condition.hpp>
#include <lanyard/core/resolution_delay.hpp>

#include "path_manager.hpp"
#include "path_racer.hpp"
#include "pin_verifier.hpp"
#include <lanyard/channel/send_queue.hpp>
#include <lanyard/channel/session_runner.hpp>

#include <lanyard/trust/error.hpp>

#include <asio/error.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <random>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace lanyard::client {

using channel::send_completion;
using channel::send_options;
using channel::detail::send_queue;
using channel::detail::session_runner;
using channel::detail::tls_stream;
using tcp = asio::ip::tcp;

struct client_channel::impl : std::enable_shared_from_this<impl> {
  impl(executor_type e, tls::context c, client_options o)
      : ex(e), ctx(std::move(c)), opts(std::move(o)), backoff(opts.backoff), retry_timer(e),
        resolution({opts.paths.resolution_delay}), resolution_timer(e), resolver(e),
        resolve_timer(e), sends(e, opts.max_waiting_sends), rng(std::random_device{}()) {
    if (opts.tcp_user_timeout.count() == 0) opts.tcp_user_timeout = opts.session.peer_timeout;
    runner = std::make_shared<session_runner>(ex, core::session_role::client, opts.session);
  }

  executor_type ex;
  tls::context ctx;
  client_options opts;
  core::backoff backoff;
  asio::steady_timer retry_timer;
  // By device id: hold the first race back for a better interface kind still being discovered
  // (path_options::resolution_delay, docs/paths.md).
  core::resolution_delay resolution;
  asio::steady_timer resolution_timer;
  bool awaiting_better_path = false;              // resolution_timer runs for this generation
  core::kind_set awaited_kinds;                   // what it waits for (for the log)
  std::chrono::steady_clock::time_point wait_end; // the deadline announced in the log
  // Started with an endpoint: its host is resolved before every attempt, within
  // connect_timeout (resolving is true meanwhile); the addresses are raced like paths.
  tcp::resolver resolver;
  asio::steady_timer resolve_timer;
  bool resolving = false;
  channel::detail::send_queue sends;
  std::mt19937_64 rng; // jitter only: not security relevant
  std::shared_ptr<session_runner> runner;
  // Where to connect: an explicit endpoint, or a device id looked up in a directory.
  std::optional<endpoint> target;
  std::shared_ptr<const discovery::directory> dir;
  bool started = false;
  channel_state st = channel_state::setup;
  std::error_code last_error;
  std::uint64_t gen = 0; // current attempt generation
  bool retry_scheduled = false;
  bool paired_here = false; // this channel ran a successful pairing exchange
  state_handler on_state;
  message_handler on_message;
  session_reset_handler on_reset;
  path_handler on_path;
  // Started by device id: candidates, racing, moves (docs/paths.md).
  std::shared_ptr<detail::path_manager> paths;
  std::shared_ptr<detail::path_racer> race;    // the current connection attempt
  std::shared_ptr<detail::path_racer> upgrade; // a make-before-break move in progress
  std::optional<path_info> active_path;        // the path of the live connection
  std::optional<path_info> last_path;          // the path of the previous connection
  std::string lost_detail;                     // why the previous connection ended

  void log(const std::string& line) {
    if (opts.log) opts.log(line);
  }

  // For log lines: "lamp-1 (198.18.1.3:7443)" or "lamp-1 (via the discovery directory)".
  std::string where() const {
    if (target)
      return opts.trust.device_id + " (" + target->host + ":" + std::to_string(target->port) + ")";
    return opts.trust.device_id + " (via the discovery directory)";
  }

  bool terminal() const noexcept {
    return st == channel_state::failed || st == channel_state::cancelled;
  }

  void set_state(channel_state s, std::error_code why = {}) {
    if (s == st && (s != channel_state::waiting || why == last_error)) return;
    st = s;
    if (why) last_error = why;
    if (on_state) on_state(s, why);
  }

  void wire_runner() {
    std::weak_ptr<impl> w = shared_from_this();
    runner->set_callbacks({
        [w](core::session_event& ev) {
          if (auto self = w.lock()) self->on_event(ev);
        },
        [w](std::error_code why) {
          if (auto self = w.lock()) self->on_link_lost(why);
        },
    });
  }

  void on_event(core::session_event& ev) {
    if (auto* m = std::get_if<core::events::message_received>(&ev)) {
      if (on_message) on_message(m->seq, m->payload);
    } else if (auto* a = std::get_if<core::events::acked>(&ev)) {
      sends.on_acked(*runner, a->next_unacked);
    } else if (auto* sample = std::get_if<core::events::rtt_sample>(&ev)) {
      if (paths) paths->rtt_sample(sample->smoothed);
    } else if (std::get_if<core::events::established>(&ev)) {
      backoff.reset();
      if (!terminal()) set_state(channel_state::ready);
    } else if (auto* r = std::get_if<core::events::session_reset>(&ev)) {
      log("channel to " + opts.trust.device_id + ": the accessory lost the session; " +
          std::to_string(r->unacked.size()) + " unacknowledged message(s) reported");
      sends.fail_unacked(channel::errc::session_reset);
      if (on_reset) on_reset(*r);
      // The new session's replay buffer is empty: sends that were waiting for room go in now
      // (no acknowledgement will come to trigger it). Resends made by the reset handler queue
      // behind them.
      asio::post(ex, [w = weak_from_this()] {
        if (auto self = w.lock(); self && !self->terminal())
          self->sends.admit_waiting(*self->runner);
      });
    } else if (auto* c = std::get_if<core::events::closed>(&ev)) {
      if (st != channel_state::cancelled) {
        std::error_code why =
            c->error ? c->error : make_error_code(core::channel_errc::session_closed);
        sends.fail_all(core::channel_errc::session_closed);
        set_state(channel_state::failed, why);
        stop_attempts();
        stop_paths();
      }
    }
  }

  void on_link_lost(std::error_code why) {
    if (terminal()) return;
    // A make-before-break move: the new connection took over, nothing was lost.
    if (why == channel::errc::connection_replaced) return;
    if (active_path) {
      last_path = active_path;
      active_path.reset();
      // The interface did not go down (that is reported first, with lost_detail set): the
      // link itself is bad — blackholed, or the peer unreachable over it. Race it last.
      if (lost_detail.empty() && paths && paths->active())
        paths->suspect(paths->active()->path.interface_index);
      if (lost_detail.empty()) lost_detail = why.message();
    }
    if (paths) paths->set_active(std::nullopt);
    if (upgrade) {
      // The accessory closes the old connection as soon as the new one (the move in progress)
      // is authenticated: the move completes the switch; only if it fails do we reconnect.
      log("channel to " + opts.trust.device_id +
          ": old connection closed while moving: " + why.message());
      return;
    }
    log("channel to " + opts.trust.device_id + ": connection lost: " + why.message());
    if (why == core::condition::permanent) {
      // A permanent end: the accessory does not know this app (never paired, or removed), and
      // reconnecting cannot change that; pairing can.
      sends.fail_all(core::channel_errc::session_closed);
      set_state(channel_state::failed, why);
      return;
    }
    set_state(channel_state::waiting, why);
    // The failure belongs to that path: when another one is viable, resume there at once
    // (handover) instead of waiting out a backoff meant for an unreachable accessory.
    if (paths && last_path && other_path_viable(*last_path))
      return attempt_now("moving to another path", true);
    schedule_retry();
  }

  bool other_path_viable(const path_info& failed) {
    for (const auto& t : paths->candidates().targets)
      if (t.path.interface_name != failed.interface_name) return true;
    return false;
  }

  void stop_attempts() {
    ++gen;
    retry_scheduled = false;
    retry_timer.cancel();
    resolution_timer.cancel();
    awaiting_better_path = false;
    resolving = false;
    resolve_timer.cancel();
    resolver.cancel();
    if (race) {
      race->cancel();
      race.reset();
    }
  }

  void stop_paths() {
    if (upgrade) {
      upgrade->cancel();
      upgrade.reset();
    }
    if (paths) paths->stop();
  }

  // Fails the channel from a fresh frame: start() must not call handlers from inside itself.
  void fail_soon(std::error_code why) {
    asio::post(ex, [w = weak_from_this(), why] {
      auto self = w.lock();
      if (!self || self->terminal()) return;
      self->sends.fail_all(core::channel_errc::session_closed);
      self->set_state(channel_state::failed, why);
    });
  }

  void schedule_retry() {
    if (terminal() || retry_scheduled || resolving || race) return;
    retry_scheduled = true;
    auto delay = backoff.next_delay(rng());
    retry_timer.expires_after(delay);
    retry_timer.async_wait([w = weak_from_this(), g = gen](std::error_code ec) {
      auto self = w.lock();
      if (!self || ec || g != self->gen || self->terminal()) return;
      self->retry_scheduled = false;
      self->connect_now();
    });
  }

  // After a handshake: pair first if this is the accessory's first use and the app was given
  // credentials, then commit the pin and hand the connection to the session.
  void admit(std::unique_ptr<tls_stream> stream, std::optional<trust::trust_decision> decision,
             std::function<void(std::unique_ptr<tls_stream>, std::error_code)> then) {
    // First use: no pin yet (with a store), or not yet paired by this channel (without one).
    const bool first_use =
        !paired_here &&
        (!opts.trust.store || (decision && decision->action == trust::trust_action::pin_new));
    if (!opts.trust.pairing || !first_use) {
      commit(decision);
      return then(std::move(stream), {});
    }
    auto held = std::make_shared<std::unique_ptr<tls_stream>>(std::move(stream));
    pairing_request req;
    req.credentials = *opts.trust.pairing;
    req.name = opts.trust.controller_name;
    async_pair(**held, std::move(req),
               [w = weak_from_this(), held, decision,
                then = std::move(then)](std::error_code ec, core::pairing_outcome o) mutable {
                 auto self = w.lock();
                 if (!self) return;
                 if (ec) {
                   std::string line =
                       "pairing with " + self->opts.trust.device_id + " failed: " + ec.message();
                   if (o.attempts_left)
                     line += " (" + std::to_string(*o.attempts_left) + " attempts left)";
                   self->log(line);
                   return then(nullptr, ec);
                 }
                 self->paired_here = true;
                 self->log("paired with " + self->opts.trust.device_id + " as " +
                           (o.role == core::paired_role::admin ? "admin" : "user"));
                 if (decision &&
                     self->opts.trust.pairing->method == core::pairing_method::setup_code)
                   decision->method = trust::pin_method::setup_code;
                 self->commit(decision);
                 then(std::move(*held), {});
               });
  }

  void commit(const std::optional<trust::trust_decision>& decision) {
    if (!decision || !opts.trust.store) return;
    trust::store_status s =
        opts.trust.store->commit(*decision, opts.trust.name, std::chrono::system_clock::now());
    if (s.failed()) log("could not record the pin: " + s.message());
  }

  void attempt_failed(std::error_code ec, const std::string& what) {
    resolving = false;
    resolve_timer.cancel();
    if (terminal()) return;
    log("channel to " + where() + ": " + what + ": " + ec.message());
    // Trust refusals, refused pairings (a wrong secret stays wrong, and every try costs the
    // owner one of the accessory's attempts), a certificate the peer refuses, no ALPN, not
    // paired: the next attempt would fail the same way. A slow pairing, a busy accessory, an
    // unreachable path may not.
    if (ec == core::condition::permanent) {
      sends.fail_all(core::channel_errc::session_closed);
      set_state(channel_state::failed, ec);
      return;
    }
    set_state(channel_state::waiting, ec);
    schedule_retry();
  }

  // The accessory pairs only on a full handshake (the exporter of a resumed one would be the
  // master secret of a connection it never saw proven). An attempt that may have to pair must
  // not offer a session ticket an earlier, abandoned attempt left behind.
  void no_resumption_before_pairing() {
    if (!opts.trust.pairing || paired_here) return;
    if (opts.trust.store && opts.trust.store->find(opts.trust.device_id)) return;
    ctx.forget_session(opts.trust.device_id);
  }

  void connect_now() {
    if (terminal() || runner->has_link()) return;
    stop_attempts();
    no_resumption_before_pairing();
    set_state(channel_state::preparing);
    if (dir) return race_paths(gen);
    resolve_endpoint(gen);
  }

  // Started with an endpoint: every resolved address becomes one unpinned path (through the
  // routing table), raced in the resolver's order by the same path_racer as the directory's
  // paths, so both start() forms share one connector, one verifier and one route into admit().
  void resolve_endpoint(std::uint64_t g) {
    resolving = true;
    std::weak_ptr<impl> w = weak_from_this();
    // getaddrinfo cannot be interrupted: the attempt fails at the deadline and a late answer
    // is dropped (`resolving` is false by then).
    resolve_timer.expires_after(opts.connect_timeout);
    resolve_timer.async_wait([w, g](std::error_code ec) {
      auto self = w.lock();
      if (!self || ec || g != self->gen || !self->resolving) return;
      self->resolver.cancel();
      self->attempt_failed(asio::error::timed_out, "resolving the host failed");
    });
    resolver.async_resolve(target->host, std::to_string(target->port),
                           tcp::resolver::numeric_service,
                           [w, g](std::error_code ec, tcp::resolver::results_type results) {
                             auto self = w.lock();
                             if (!self || g != self->gen || !self->resolving) return;
                             self->resolving = false;
                             self->resolve_timer.cancel();
                             if (!ec && results.empty()) ec = channel::errc::host_not_resolved;
                             if (ec) return self->attempt_failed(ec, "resolving the host failed");
                             self->start_race(g, endpoint_targets(results));
                           });
  }

  static std::vector<detail::path_target>
  endpoint_targets(const tcp::resolver::results_type& results) {
    std::vector<detail::path_target> targets;
    for (const auto& r : results) {
      detail::path_target t;
      t.endpoint = r.endpoint();
      t.path.address = t.endpoint.address().to_string();
      t.path.family =
          t.endpoint.address().is_v6() ? core::address_family::ipv6 : core::address_family::ipv4;
      targets.push_back(std::move(t));
    }
    return targets;
  }

  static core::kind_set kinds_of(const detail::ranked_targets& ranked) {
    core::kind_set kinds;
    for (const auto& t : ranked.targets)
      kinds.insert(t.path.kind);
    return kinds;
  }

  static std::string label(const detail::path_target& t) {
    return (t.path.interface_name.empty() ? t.path.address : t.path.interface_name) + " (" +
           std::string(core::to_string(t.path.kind)) + ")";
  }

  // Discovery changed what the accessory can be reached over: a disappearance closes the
  // resolution delay's window even while no race is due (connected, or backing off).
  void observe_candidates() {
    if (paths) resolution.observe(kinds_of(paths->candidates()), std::chrono::steady_clock::now());
  }

  // Races the current candidates (looked up again for every attempt: paths come and go while
  // the channel lives), unless a better interface kind may still be discovered.
  void race_paths(std::uint64_t g) {
    detail::ranked_targets ranked = paths->candidates();
    const core::resolution_decision d =
        resolution.decide(kinds_of(ranked), paths->usable_kinds(), opts.paths.policy,
                          std::chrono::steady_clock::now());
    if (d.verdict == core::resolution_verdict::wait) return await_better_path(g, ranked, d);
    if (wait_end != std::chrono::steady_clock::time_point{}) {
      wait_end = {};
      if (!ranked.targets.empty())
        log("channel to " + opts.trust.device_id + ": " +
            (awaited_kinds.contains(d.best)
                 ? "found on " + label(ranked.targets.front()) + " within the resolution delay"
                 : "no " + awaited_kinds.describe("or") + " path within the resolution delay (" +
                       std::to_string(opts.paths.resolution_delay.count()) + " ms)") +
            "; racing the paths now");
    }
    if (ranked.targets.empty()) {
      const discovery::discovered_accessory* acc = dir->find(opts.trust.device_id);
      if ((!acc || !acc->reachable()) && opts.paths.static_paths.empty())
        return attempt_failed(channel::errc::not_discovered, "no reachable path in the directory");
      return attempt_failed(core::channel_errc::no_viable_path, ranked.reason);
    }
    start_race(g, std::move(ranked.targets));
  }

  // One connection attempt: `targets` raced (RFC 8305), the first pinned handshake wins.
  void start_race(std::uint64_t g, std::vector<detail::path_target> targets) {
    no_resumption_before_pairing();
    race = std::make_shared<detail::path_racer>(ex, ctx, opts.trust, race_settings());
    auto kept = targets;
    race->start(std::move(targets), [w = weak_from_this(), g,
                                     targets = std::move(kept)](detail::race_outcome o) {
      auto self = w.lock();
      if (!self || g != self->gen) return; // stale: its streams are closed with it
      self->race.reset();
      for (const auto& f : o.failures)
        self->log("channel to " + self->opts.trust.device_id + ": " + f.what);
      if (o.error) {
        if (o.decision && !o.decision->accepted()) self->log(o.decision->describe());
        return self->attempt_failed(o.error, self->dir ? "no path to the accessory worked"
                                                       : "connecting failed");
      }
      self->established_on(targets[o.winner], std::move(o),
                           self->last_path ? path_change_reason::path_failed
                                           : path_change_reason::connected);
    });
  }

  // RFC 8305 §3 style: the accessory was found over a worse kind than this host could reach
  // it by, moments ago; its better answer is probably still on the way. A directory or
  // interface change re-decides at once (attempt_now); the timer races with what there is.
  void await_better_path(std::uint64_t g, const detail::ranked_targets& ranked,
                         const core::resolution_decision& d) {
    awaiting_better_path = true;
    awaited_kinds = d.awaited;
    if (d.deadline != wait_end) { // once per window, not on every discovery event in it
      wait_end = d.deadline;
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(
          d.deadline - std::chrono::steady_clock::now());
      log("channel to " + opts.trust.device_id + ": found on " + label(ranked.targets.front()) +
          " first; waiting up to " + std::to_string(std::max<long long>(left.count(), 0)) +
          " ms for a " + d.awaited.describe("or") +
          " path before connecting (path_options::resolution_delay)");
    }
    resolution_timer.expires_at(d.deadline);
    resolution_timer.async_wait([w = weak_from_this(), g](std::error_code ec) {
      auto self = w.lock();
      if (!self || ec || g != self->gen || self->terminal() || !self->awaiting_better_path) return;
      self->awaiting_better_path = false;
      self->race_paths(g);
    });
  }

  detail::race_settings race_settings() const {
    return {opts.paths.attempt_delay, opts.connect_timeout, opts.tcp_user_timeout,
            opts.paths.transport};
  }

  static path_info info_of(const detail::path_target& t) {
    return {t.path.interface_name, t.path.kind, t.path.address, t.endpoint.port()};
  }

  // A raced connection won (`reason` connected / path_failed) or a move completed.
  void established_on(const detail::path_target& t, detail::race_outcome o,
                      path_change_reason reason) {
    std::optional<trust::trust_decision> decision = std::move(o.decision);
    admit(std::move(o.stream), std::move(decision),
          [w = weak_from_this(), t, reason, g = gen](std::unique_ptr<tls_stream> s,
                                                     std::error_code ec) {
            auto self = w.lock();
            if (!self || g != self->gen) return;
            if (ec) return self->attempt_failed(ec, "pairing failed");
            self->attach_on(t, std::move(s), reason);
          });
  }

  void attach_on(const detail::path_target& t, std::unique_ptr<tls_stream> stream,
                 path_change_reason reason) {
    // Started with an endpoint: no path events. `lanyard connect --address` prints every path
    // event; reporting the routing table's path would be a separate, documented change.
    if (!paths) {
      if (std::error_code aec = runner->attach(std::move(stream)))
        attempt_failed(aec, "starting the session failed");
      return;
    }
    std::optional<path_info> from = active_path ? active_path : last_path;
    const bool mptcp = link::is_mptcp_connection(stream->next_layer());
    if (std::error_code aec = runner->attach(std::move(stream)))
      return attempt_failed(aec, "starting the session failed");
    active_path = info_of(t);
    active_path->mptcp = mptcp;
    paths->set_active(t);
    path_change change{from, *active_path, reason,
                       reason == path_change_reason::path_failed ? lost_detail : std::string()};
    lost_detail.clear();
    last_path.reset();
    log("channel to " + opts.trust.device_id + ": on " + describe(*active_path) +
        (mptcp ? ", MPTCP" : "") + " (" + std::string(to_string(reason)) +
        (change.detail.empty() ? "" : ": " + change.detail) + ")");
    if (on_path) on_path(change);
  }

  static std::string describe(const path_info& p) {
    std::string s = p.address + " port " + std::to_string(p.port);
    if (!p.interface_name.empty())
      s += " via " + p.interface_name + " (" + std::string(core::to_string(p.kind)) + ")";
    return s;
  }

  // The path manager's reports.
  void wire_paths() {
    std::weak_ptr<impl> w = shared_from_this();
    paths->set_callbacks({
        [w] {
          auto self = w.lock();
          // While holding the first race back, an interface change may end the wait (the
          // better kind's link went down, so nothing better can come).
          if (self && (self->st == channel_state::waiting || self->awaiting_better_path))
            self->attempt_now("a new path may work", false);
        },
        [w](const std::string& why) {
          auto self = w.lock();
          if (!self || self->terminal() || !self->runner->has_link()) return;
          self->log("channel to " + self->opts.trust.device_id + ": active path lost: " + why);
          self->lost_detail = why;
          self->runner->drop_link(asio::error::network_down);
          self->attempt_now("moving to another path", true);
        },
        [w](const detail::path_target& t, path_change_reason reason) {
          if (auto self = w.lock()) self->move_to(t, reason);
        },
    });
  }

  // Make-before-break: a connection over `t` is established and resumes the session, then
  // the old connection is closed by the takeover.
  void move_to(const detail::path_target& t, path_change_reason reason) {
    if (st != channel_state::ready || upgrade || !runner->has_link()) return;
    log("channel to " + opts.trust.device_id + ": moving to " + describe(info_of(t)) + " (" +
        std::string(to_string(reason)) + ")");
    upgrade = std::make_shared<detail::path_racer>(ex, ctx, opts.trust, race_settings());
    upgrade->start({t}, [w = weak_from_this(), t, reason](detail::race_outcome o) {
      auto self = w.lock();
      if (!self) return;
      self->upgrade.reset();
      if (self->terminal()) return;
      if (o.error) {
        if (o.error != asio::error::operation_aborted)
          self->log("channel to " + self->opts.trust.device_id + ": move failed, staying: " +
                    (o.failures.empty() ? o.error.message() : o.failures.back().what));
        // The old connection may have gone meanwhile: reconnect the usual way.
        if (!self->runner->has_link()) self->attempt_now("the move failed", true);
        return;
      }
      if (!self->runner->has_link()) self->stop_attempts(); // the move replaces any retry
      self->established_on(t, std::move(o), reason);
    });
  }

  // network_changed() and directory_changed(): attempt now if waiting or still connecting.
  // `even_mid_handshake`: also abandon an attempt past its TCP connect (a network change may
  // have killed the path it runs on; a new directory path says nothing about the current one).
  void attempt_now(const char* why, bool even_mid_handshake) {
    if (awaiting_better_path && !runner->has_link()) {
      // Not connecting yet: decide again with what changed (quietly: nothing is abandoned).
      stop_attempts();
      return connect_now();
    }
    bool connecting = st == channel_state::preparing && !runner->has_link() &&
                      (even_mid_handshake || race || resolving);
    // Still "ready" without a connection: the old one closed during a move that then failed.
    const bool lost_while_moving = st == channel_state::ready && !runner->has_link();
    if (st != channel_state::waiting && !connecting && !lost_while_moving) return;
    log("channel to " + where() + ": " + why + ", reconnecting now");
    stop_attempts();
    connect_now();
  }
};

client_channel::client_channel(executor_type ex, tls::context ctx, client_options options)
    : impl_(std::make_shared<impl>(ex, std::move(ctx), std::move(options))) {
  impl_->wire_runner();
}

client_channel::~client_channel() {
  impl_->on_state = {};
  impl_->on_message = {};
  impl_->on_reset = {};
  impl_->on_path = {};
  impl_->st = channel_state::cancelled;
  impl_->stop_attempts();
  impl_->stop_paths();
  impl_->sends.fail_all(asio::error::operation_aborted);
  impl_->runner->stop();
}

client_channel::executor_type client_channel::get_executor() const noexcept {
  return impl_->ex;
}

void client_channel::set_state_handler(state_handler h) {
  impl_->on_state = std::move(h);
}
void client_channel::set_message_handler(message_handler h) {
  impl_->on_message = std::move(h);
}
void client_channel::set_session_reset_handler(session_reset_handler h) {
  impl_->on_reset = std::move(h);
}
void client_channel::set_path_handler(path_handler h) {
  impl_->on_path = std::move(h);
}
std::optional<path_info> client_channel::current_path() const {
  return impl_->active_path;
}

void client_channel::start(endpoint ep) {
  if (impl_->st != channel_state::setup || impl_->started) return;
  impl_->started = true;
  impl_->target = std::move(ep);
  // Never connect (and report states) inside the caller's frame.
  asio::post(impl_->ex, [w = std::weak_ptr<impl>(impl_)] {
    if (auto self = w.lock()) self->connect_now();
  });
}

void client_channel::start(std::string_view device_id,
                           std::shared_ptr<const discovery::directory> dir) {
  impl& i = *impl_;
  if (i.st != channel_state::setup || i.started) return;
  i.started = true;
  std::string problem;
  if (!dir)
    problem = "no discovery directory given";
  else if (device_id.empty())
    problem = "empty device id";
  else if (!i.opts.trust.device_id.empty() && i.opts.trust.device_id != device_id)
    problem = "client_options::trust.device_id is \"" + i.opts.trust.device_id +
              "\"; leave it empty or equal to the device id";
  if (!problem.empty()) {
    i.log("channel to \"" + std::string(device_id) + "\": cannot start by device id: " + problem);
    i.fail_soon(std::make_error_code(std::errc::invalid_argument));
    return;
  }
  i.opts.trust.device_id = std::string(device_id);
  i.dir = std::move(dir);
  if (std::string bad = i.opts.paths.policy.check(); !bad.empty()) {
    i.log("channel to \"" + std::string(device_id) + "\": " + bad);
    i.fail_soon(std::make_error_code(std::errc::invalid_argument));
    return;
  }
  i.paths = std::make_shared<detail::path_manager>(i.ex, i.opts.paths);
  i.paths->set_directory(i.dir, i.opts.trust.device_id);
  i.wire_paths();
  if (link::link_error e = i.paths->start())
    i.log("channel to " + i.opts.trust.device_id +
          ": not watching interfaces (moves only on connection errors): " + e.message());
  // Never connect (and report states) inside the caller's frame.
  asio::post(i.ex, [w = std::weak_ptr<impl>(impl_)] {
    if (auto self = w.lock()) self->connect_now();
  });
}

void client_channel::network_changed() {
  // A pending attempt (a SYN sent over the old path) is abandoned too: it may never complete.
  impl_->attempt_now("network changed", true);
}

void client_channel::directory_changed(std::span<const discovery::directory_event> events) {
  impl& i = *impl_;
  if (!i.dir || i.terminal()) return;
  if (i.paths) i.paths->directory_changed();
  i.observe_candidates();
  for (const discovery::directory_event& e : events) {
    if (e.accessory.id != i.opts.trust.device_id) continue;
    if (e.kind == discovery::directory_event_kind::added ||
        e.kind == discovery::directory_event_kind::path_added ||
        e.kind == discovery::directory_event_kind::path_reachable)
      return i.attempt_now("new path in the directory", false);
  }
}

void client_channel::cancel() {
  impl& i = *impl_;
  if (i.terminal()) return;
  i.set_state(channel_state::cancelled);
  i.stop_attempts();
  i.stop_paths();
  i.sends.fail_all(asio::error::operation_aborted);
  i.runner->close();
}

channel_state client_channel::state() const noexcept {
  return impl_->st;
}
std::error_code client_channel::last_error() const noexcept {
  return impl_->last_error;
}
std::optional<std::chrono::nanoseconds> client_channel::rtt() const noexcept {
  auto r = impl_->runner->session().smoothed_rtt();
  if (!r) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::nanoseconds>(*r);
}
std::size_t client_channel::unacked_count() const noexcept {
  return impl_->runner->session().replay_count();
}

void client_channel::send_impl(std::span<const std::byte> payload, send_options options,
                               send_completion c) {
  impl& i = *impl_;
  if (i.st == channel_state::cancelled) return c.complete(asio::error::operation_aborted, 0);
  if (i.st == channel_state::failed) return c.complete(core::channel_errc::session_closed, 0);
  i.sends.submit(*i.runner, payload, options, std::move(c));
}

} // namespace lanyard::client
