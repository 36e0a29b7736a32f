#include <lanyard/client/client_channel.hpp>
#include <lanyard/client/diagnostics.hpp>
#include <lanyard/client/pair.hpp>
#include <lanyard/core/channel_controller.hpp>
#include <lanyard/core/diagnostic.hpp>
#include <lanyard/core/error_condition.hpp>
#include <lanyard/core/pairing_error.hpp>

#include "path_racer.hpp"
#include "path_watcher.hpp"
#include "pin_verifier.hpp"
#include "relay_link.hpp"
#include <lanyard/channel/receive_queue.hpp>
#include <lanyard/channel/send_queue.hpp>
#include <lanyard/channel/session_runner.hpp>

#include <lanyard/trust/error.hpp>

#include <asio/error.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <map>
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

namespace act = core::controller_actions;
namespace key = core::field_key;
using level = core::diagnostic_level;
using fields = std::vector<core::field>;

namespace {

// Enumerator names, not the log's phrases: field values are for programs and stay stable when
// a sentence is reworded.
std::string_view token(core::attempt_trigger t) {
  switch (t) {
  case core::attempt_trigger::network_changed:
    return "network_changed";
  case core::attempt_trigger::new_path:
    return "new_path";
  case core::attempt_trigger::new_viable_path:
    return "new_viable_path";
  case core::attempt_trigger::path_failed:
    return "path_failed";
  case core::attempt_trigger::move_failed:
    return "move_failed";
  }
  return "unknown";
}

std::string_view token(core::path_change_reason r) {
  switch (r) {
  case core::path_change_reason::connected:
    return "connected";
  case core::path_change_reason::path_failed:
    return "path_failed";
  case core::path_change_reason::preferred_path_available:
    return "preferred_path_available";
  case core::path_change_reason::lower_rtt:
    return "lower_rtt";
  }
  return "unknown";
}

std::string_view token(core::path_rejection_reason r) {
  switch (r) {
  case core::path_rejection_reason::prohibited_kind:
    return "prohibited_kind";
  case core::path_rejection_reason::not_required_kind:
    return "not_required_kind";
  case core::path_rejection_reason::interface_down:
    return "interface_down";
  case core::path_rejection_reason::no_source_address:
    return "no_source_address";
  case core::path_rejection_reason::unreachable:
    return "unreachable";
  case core::path_rejection_reason::link_local_no_scope:
    return "link_local_no_scope";
  }
  return "unknown";
}

// "wifi", "wired,wifi": the kinds' names in the default preference order.
std::string kind_list(core::kind_set kinds) {
  std::string s;
  for (core::interface_kind k : core::default_preference)
    if (kinds.contains(k)) s += (s.empty() ? "" : ",") + std::string(core::to_string(k));
  return s;
}

// The path fields of the diagnostics: a path through the routing table has no interface.
void add_path(fields& f, const std::string& interface_name, core::interface_kind kind,
              const std::string& address, std::uint16_t port) {
  if (!interface_name.empty()) {
    f.push_back({key::interface, interface_name});
    f.push_back({key::interface_kind, std::string(core::to_string(kind))});
  }
  f.push_back({key::address, address});
  f.push_back({key::port, std::uint64_t{port}});
}
void add_path(fields& f, const core::tracked_path& t) {
  add_path(f, t.facts.interface_name, t.facts.kind, t.facts.address, t.port);
}
void add_path(fields& f, const path_info& p) {
  add_path(f, p.interface_name, p.kind, p.address, p.port);
}

// The trust decision's facts (never a secret: fingerprints are public key hashes).
// diag::pinned_since_s: the pin's time in seconds since the Unix epoch.
core::field pinned_since(std::chrono::system_clock::time_point t) {
  return {
      diag::pinned_since_s,
      std::int64_t{std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count()}};
}

// The fingerprints are the decision's own fields (trust_decision::to_error_detail(), one
// place); the channel adds when the pin was made. Its device_id is the channel's, which emit()
// puts first.
void add_decision(fields& f, const trust::trust_decision& d) {
  for (auto& field : d.to_error_detail().fields)
    if (field.key != key::device_id) f.push_back(std::move(field));
  if (d.pinned_since) f.push_back(pinned_since(*d.pinned_since));
}

} // namespace

struct client_channel::impl : std::enable_shared_from_this<impl> {
  impl(executor_type e, tls::context c, client_options o)
      : ex(e), ctx(std::move(c)), opts(std::move(o)), ctl(settings(opts, true)), timer(e),
        resolver(e), resolve_timer(e), sends(e, opts.max_waiting_sends), inbox(e) {
    if (opts.tcp_user_timeout.count() == 0) opts.tcp_user_timeout = opts.session.peer_timeout;
    if (opts.receive == receive_mode::pull) opts.session.acknowledge = core::ack_policy::on_consume;
    runner = std::make_shared<session_runner>(ex, core::session_role::client, opts.session);
  }

  executor_type ex;
  tls::context ctx;
  client_options opts;
  // The connection policy (core::channel_controller): this object feeds it facts and outcomes
  // and carries out its actions; its one deadline runs on `timer`.
  core::channel_controller ctl;
  asio::steady_timer timer;
  bool draining = false;
  // Started with an endpoint: its host is resolved for every race, within connect_timeout;
  // the addresses are raced like paths.
  tcp::resolver resolver;
  asio::steady_timer resolve_timer;
  channel::detail::send_queue sends;
  channel::detail::receive_queue inbox; // receive_mode::pull
  std::shared_ptr<session_runner> runner;
  // Where to connect: an explicit endpoint, or a device id looked up in a directory.
  std::optional<endpoint> target;
  std::shared_ptr<const discovery::directory> dir;
  bool started = false;                    // start() was called
  channel_state st = channel_state::setup; // as last reported
  std::error_code last_error;              // as last reported
  core::error_detail last_detail;          // last_error with its text and fields
  // The detail of the failure the controller is about to report with a state: filled when the
  // failure is reported (its notice, or start()'s bad arguments), taken by report_state if the
  // codes agree (the controller reports a state after its notice, in the same drain).
  core::error_detail pending_detail;
  // What the executor knows about the attempt failure it is feeding the controller: which part
  // failed, and fields only it has (the trust decision, pairing's attempts left).
  std::string_view failing_step;
  fields failing_fields;
  std::optional<path_info> lost_on; // the path of the connection whose loss is being reported
  bool paired_here = false;         // this channel ran a successful pairing exchange
  std::optional<core::paired_role> role_here; // the role that exchange gave this app
  state_handler on_state;
  message_handler on_message;
  control_handler on_control;
  session_reset_handler on_reset;
  path_handler on_path;
  // Started by device id: the facts about the paths (docs/paths.md).
  std::shared_ptr<detail::path_watcher> paths;
  // The relay path (started by device id, with a trust store holding the accessory's ticket,
  // and a policy that allows it); its target is the snapshot's last.
  std::unique_ptr<detail::relay_link> relay;
  std::vector<detail::path_target> snapshot; // the targets of the controller's last snapshot
  // Races and moves in flight, by the controller's id, with the snapshot indices they race.
  struct attempt {
    std::shared_ptr<detail::path_racer> racer;
    std::vector<std::size_t> indices;
    bool move = false;
  };
  std::map<std::uint64_t, attempt> attempts;
  std::optional<detail::path_target> attaching; // the connection handed to the session last
  bool attaching_mptcp = false;
  std::optional<path_info> path_now; // the path of the live connection (as reported)
  bool path_mptcp = false;           // the last reported connection's transport
  // async_close(): waits until nothing sent is unacknowledged, then cancels. Set while a
  // close waits: sends are refused then.
  channel::completion<> closer;

  static core::channel_controller_settings settings(const client_options& o, bool by_id) {
    core::channel_controller_settings s;
    s.backoff = o.backoff;
    if (by_id) {
      s.paths.policy = o.paths.policy;
      s.paths.mode = o.paths.mode;
      s.paths.move_back_hold = o.paths.move_back_hold;
      s.resolution_delay = o.paths.resolution_delay;
    } else {
      s.resolution_delay = std::chrono::milliseconds(0); // one static path: nothing to wait for
    }
    // One generator per thread, not per channel: an mt19937_64 is 2.5 KB, and captured in the
    // std::function it was 2.5 KB of heap for every channel (jitter only, not security relevant).
    s.random = [] {
      thread_local std::mt19937_64 g{std::random_device{}()};
      return g();
    };
    return s;
  }

  // The only clock read for decisions.
  static core::channel_controller::time_point now() { return std::chrono::steady_clock::now(); }

  // Every diagnostic carries the device id first (the channel's, unless `f` names one).
  // `text` is the line `log` received before diagnostics existed, unchanged: lab scripts and
  // people still read it.
  void emit(level lv, std::string_view id, std::error_code code, const std::string& text,
            fields f = {}) {
    if (!opts.diagnostics && !opts.log) return;
    if (!core::find_field(f, key::device_id))
      f.insert(f.begin(), core::field{key::device_id, opts.trust.device_id});
    core::emit_diagnostic(opts.diagnostics, opts.log, core::diagnostic{lv, id, code, text, f});
  }

  // An error a state report may carry next: emitted, and kept for last_error_detail().
  void emit_failure(level lv, std::string_view id, std::error_code code, const std::string& text,
                    fields f = {}) {
    pending_detail = {code, text, f};
    emit(lv, id, code, text, std::move(f));
  }

  // For log lines: "lamp-1 (198.18.1.3:7443)" or "lamp-1 (by device id)" (its paths are the
  // directory's and the static ones: discovery may be off).
  std::string where() const {
    if (target)
      return opts.trust.device_id + " (" + target->host + ":" + std::to_string(target->port) + ")";
    return opts.trust.device_id + " (by device id)";
  }

  bool terminal() const noexcept {
    return st == channel_state::failed || st == channel_state::cancelled;
  }

  // --- feeding the controller -------------------------------------------------------------------

  // The facts now, for the controller: every path (directory, then static), unranked.
  core::path_snapshot facts() {
    core::path_snapshot s;
    if (!paths) return s;
    snapshot = paths->targets();
    if (relay) snapshot.push_back(relay->target());
    for (const auto& t : snapshot)
      s.paths.push_back(detail::tracked_of(t));
    s.usable_kinds = paths->usable_kinds();
    const discovery::discovered_accessory* acc = dir->find(opts.trust.device_id);
    if ((!acc || !acc->reachable()) && opts.paths.static_paths.empty())
      s.nothing_known = channel::errc::not_discovered;
    return s;
  }

  // Every input: the facts refreshed first (paths come and go while the channel lives; not
  // while draining: the actions queued refer to the snapshot they were decided on), then the
  // input, then its actions carried out.
  template <class F>
  void feed(F&& input, bool refresh = true) {
    if (refresh && paths && !draining)
      ctl.paths_changed(facts(), core::paths_trigger::refresh, now());
    input();
    drain();
  }

  // Re-entrant: runner callbacks (drop_link, attach) feed while the actions are carried out;
  // what they add is carried out in this loop, in order.
  void drain() {
    if (draining) return;
    draining = true;
    while (auto a = ctl.poll_action())
      std::visit(*this, *a);
    draining = false;
    const auto deadline = ctl.next_deadline();
    if (deadline == core::channel_controller::time_point::max()) {
      timer.cancel();
      return;
    }
    timer.expires_at(deadline);
    timer.async_wait([w = weak_from_this()](std::error_code ec) {
      auto self = w.lock();
      if (!self || ec) return;
      self->feed([&] { self->ctl.handle_deadline(now()); });
    });
  }

  // --- the controller's actions -----------------------------------------------------------------

  void operator()(const act::report_state& a) {
    st = a.state;
    if (a.reason) {
      last_error = a.reason;
      last_detail = pending_detail.code == a.reason ? std::move(pending_detail)
                                                    : core::error_detail{a.reason};
      pending_detail = {};
    }
    if (a.state == channel_state::failed && closer)
      closer.complete(a.reason ? a.reason : make_error_code(core::channel_errc::session_closed));
    if (on_state) on_state(a.state, a.reason);
  }

  void operator()(const act::race& a) {
    no_resumption_before_pairing();
    if (!paths) return resolve_endpoint(a.id);
    std::vector<detail::path_target> targets;
    for (std::size_t i : a.targets)
      targets.push_back(snapshot.at(i));
    start_racer(a.id, std::move(targets), a.targets, false);
  }

  void operator()(const act::move& a) {
    start_racer(a.id, {snapshot.at(a.target)}, {a.target}, true);
  }

  void operator()(const act::abort& a) {
    auto it = attempts.find(a.id);
    if (it == attempts.end()) return;
    if (it->second.racer) it->second.racer->cancel();
    attempts.erase(it);
    if (!paths) stop_resolving();
  }

  void operator()(const act::drop_connection&) { runner->drop_link(asio::error::network_down); }

  void operator()(const act::give_up&) {
    sends.fail_all(core::channel_errc::session_closed);
    inbox.close(core::channel_errc::session_closed); // after what was received
    if (paths) paths->stop();
  }

  void operator()(const act::path_changed& a) {
    // Started with an endpoint: no path events (the routing table chose the path, and
    // client_channel.hpp documents path events for channels started by device id only).
    if (!paths || !attaching) return;
    path_change change{std::nullopt, info_of(a.to), a.reason, a.detail};
    if (a.from) {
      change.from = info_of(*a.from);
      change.from->mptcp = path_mptcp;
    }
    change.to.mptcp = path_mptcp = attaching_mptcp;
    path_now = change.to;
    paths->set_active(std::exchange(attaching, std::nullopt));
    fields f;
    add_path(f, change.to);
    f.push_back({diag::reason, std::string(token(a.reason))});
    f.push_back({diag::mptcp, change.to.mptcp});
    emit(level::info, diag::path_changed, {},
         "channel to " + opts.trust.device_id + ": on " + describe(change.to) +
             (change.to.mptcp ? ", MPTCP" : "") + " (" + std::string(to_string(a.reason)) +
             (change.detail.empty() ? "" : ": " + change.detail) + ")",
         std::move(f));
    if (on_path) on_path(change);
  }

  void operator()(const act::notice& n) {
    using k = core::notice_kind;
    const std::string to = "channel to " + opts.trust.device_id + ": ";
    fields f;
    switch (n.kind) {
    case k::reconnect_now:
      f.push_back({diag::trigger, std::string(token(n.trigger))});
      return emit(level::notice, diag::reconnecting_now, {},
                  "channel to " + where() + ": " + std::string(to_string(n.trigger)) +
                      ", reconnecting now",
                  std::move(f));
    case k::attempt_failed:
      return emit_failure(level::warning, diag::attempt_failed, n.error,
                          "channel to " + where() + ": " + n.what + ": " + n.error.message(),
                          attempt_fields(n.error));
    case k::connection_lost:
      if (lost_on) add_path(f, *lost_on);
      return emit_failure(level::warning, diag::connection_lost, n.error,
                          to + "connection lost: " + n.error.message(), std::move(f));
    case k::lost_while_moving:
      if (lost_on) add_path(f, *lost_on);
      return emit(level::notice, diag::lost_while_moving, n.error,
                  to + "old connection closed while moving: " + n.error.message(), std::move(f));
    case k::active_path_lost:
      if (path_now) add_path(f, *path_now);
      f.push_back({diag::cause, n.what});
      return emit(level::warning, diag::active_path_lost, {}, to + "active path lost: " + n.what,
                  std::move(f));
    case k::resolution_wait:
      add_path(f, *n.path);
      f.push_back({diag::awaited, kind_list(n.kinds)});
      f.push_back({diag::wait_ms, std::uint64_t(n.duration.count())});
      return emit(level::info, diag::resolution_wait_started, {},
                  to + "found on " + label(*n.path) + " first; waiting up to " +
                      std::to_string(n.duration.count()) + " ms for a " + n.kinds.describe("or") +
                      " path before connecting (path_options::resolution_delay)",
                  std::move(f));
    case k::resolution_found:
      f.push_back({diag::outcome, std::string("found")});
      add_path(f, *n.path);
      return emit(level::info, diag::resolution_wait_ended, {},
                  to + "found on " + label(*n.path) +
                      " within the resolution delay; racing the paths now",
                  std::move(f));
    case k::resolution_over:
      f.push_back({diag::outcome, std::string("expired")});
      f.push_back({diag::awaited, kind_list(n.kinds)});
      f.push_back({diag::delay_ms, std::uint64_t(n.duration.count())});
      return emit(level::info, diag::resolution_wait_ended, {},
                  to + "no " + n.kinds.describe("or") + " path within the resolution delay (" +
                      std::to_string(n.duration.count()) + " ms); racing the paths now",
                  std::move(f));
    case k::moving:
      add_path(f, *n.path);
      f.push_back({diag::reason, std::string(token(n.reason))});
      return emit(level::info, diag::move_started, {},
                  to + "moving to " + describe(info_of(*n.path)) + " (" +
                      std::string(to_string(n.reason)) + ")",
                  std::move(f));
    case k::move_failed:
      f.push_back({diag::cause, n.what});
      return emit(level::warning, diag::move_failed, n.error,
                  to + "move failed, staying: " + n.what, std::move(f));
    }
  }

  // The fields of an attempt failure: which part failed, what the executor learnt about it
  // (taken: they belong to this failure only), and for no_viable_path why each path was
  // rejected, so the app can say "Wi-Fi is off" without parsing the sentence.
  fields attempt_fields(std::error_code ec) {
    fields f;
    std::string_view step = failing_step;
    if (ec == channel::errc::not_discovered)
      step = "directory";
    else if (ec == core::channel_errc::no_viable_path)
      step = "policy";
    if (!step.empty()) f.push_back({key::step, std::string(step)});
    for (auto& x : std::exchange(failing_fields, {}))
      f.push_back(std::move(x));
    if (ec == core::channel_errc::no_viable_path) {
      const auto known = ctl.paths();
      for (const core::path_rejection& r : ctl.ranking().rejected) {
        if (r.candidate >= known.size()) continue;
        const core::path_candidate& c = known[r.candidate].facts;
        f.push_back({diag::rejected_interface, c.interface_name});
        f.push_back({diag::rejected_kind, std::string(core::to_string(c.kind))});
        f.push_back({diag::rejected_address, c.address});
        f.push_back({diag::rejection, std::string(token(r.reason))});
      }
    }
    return f;
  }

  // --- the executor's own work: sockets, TLS, pairing, the pin
  // ------------------------------------

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
      if (opts.receive == receive_mode::pull)
        inbox.push(*runner, core::message{m->seq, std::move(m->payload)});
      else if (on_message)
        on_message(m->seq, m->payload);
    } else if (auto* cm = std::get_if<core::events::control_received>(&ev)) {
      if (cm->kind == core::message_kind::relay) take_ticket(cm->payload);
      if (on_control) on_control(cm->kind, cm->seq, cm->payload);
    } else if (auto* a = std::get_if<core::events::acked>(&ev)) {
      sends.on_acked(*runner, a->next_unacked);
      if (closer) post_close_check();
    } else if (auto* sample = std::get_if<core::events::rtt_sample>(&ev)) {
      feed([&] { ctl.rtt_sample(sample->smoothed, now()); }, false);
    } else if (std::get_if<core::events::established>(&ev)) {
      feed([&] { ctl.established(now()); }, false);
    } else if (auto* r = std::get_if<core::events::session_reset>(&ev)) {
      emit(level::warning, diag::session_reset, channel::errc::session_reset,
           "channel to " + opts.trust.device_id + ": the accessory lost the session; " +
               std::to_string(r->unacked.size()) + " unacknowledged message(s) reported",
           {{diag::unacked, std::uint64_t{r->unacked.size()}}});
      sends.fail_unacked(channel::errc::session_reset);
      inbox.new_session();
      // The application's own messages only: a service's is its sender's to redo (its send
      // completed with session_reset above), not the app's to resend as data.
      std::erase_if(r->unacked, [](const core::message& u) {
        return u.kind != core::message_kind::application;
      });
      if (on_reset) on_reset(*r);
      // The new session's replay buffer is empty: sends that were waiting for room go in now
      // (no acknowledgement will come to trigger it). Resends made by the reset handler queue
      // behind them.
      asio::post(ex, [w = weak_from_this()] {
        if (auto self = w.lock(); self && !self->terminal()) {
          self->sends.admit_waiting(*self->runner);
          self->close_if_drained();
        }
      });
    } else if (auto* c = std::get_if<core::events::closed>(&ev)) {
      if (st != channel_state::cancelled) feed([&] { ctl.session_closed(c->error, now()); });
    }
  }

  void on_link_lost(std::error_code why) {
    // A make-before-break move: the new connection took over, nothing was lost.
    if (terminal() || why == channel::errc::connection_replaced) return;
    lost_on = std::exchange(path_now, std::nullopt);
    if (paths) paths->set_active(std::nullopt);
    feed([&] { ctl.connection_lost(why, now()); });
    lost_on.reset();
  }

  // Fails the channel from a fresh frame: start() must not call handlers from inside itself.
  void fail_soon(std::error_code why) {
    asio::post(ex, [w = weak_from_this(), why] {
      if (auto self = w.lock()) self->feed([&] { self->ctl.fail(why, now()); });
    });
  }

  // After a handshake: pair first if this is the accessory's first use and the app was given
  // credentials, then commit the pin and hand the connection to the session.
  void admit(std::unique_ptr<tls_stream> stream, std::optional<trust::trust_decision> decision,
             std::function<void(std::unique_ptr<tls_stream>, std::error_code)> then) {
    // First use: no pin yet (with a store), or not yet paired by this channel (without one,
    // or when asked to prove the secret again).
    const bool first_use =
        !paired_here && (opts.trust.pair_when_pinned || !opts.trust.store ||
                         (decision && decision->action == trust::trust_action::pin_new));
    if (!opts.trust.pairing || !first_use) {
      commit(decision);
      return then(std::move(stream), {});
    }
    const std::string method(core::to_string(opts.trust.pairing->method));
    emit(level::info, diag::pairing_started, {},
         "pairing with " + opts.trust.device_id + " (" + method + ")", {{diag::method, method}});
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
                   fields f;
                   if (o.attempts_left) {
                     line += " (" + std::to_string(*o.attempts_left) + " attempts left)";
                     f.push_back({key::attempts_left, std::uint64_t{*o.attempts_left}});
                   }
                   if (o.retry_after.count() > 0)
                     f.push_back({key::retry_after_ms, std::uint64_t(o.retry_after.count())});
                   self->emit(level::warning, diag::pairing_failed, ec, line, f);
                   // The attempt fails with this error next: its detail carries the same.
                   self->failing_fields = std::move(f);
                   return then(nullptr, ec);
                 }
                 if (self->opts.trust.pairing->method == core::pairing_method::confirmation)
                   return self->confirm_then_admit(std::move(*held), o, std::move(decision),
                                                   std::move(then));
                 self->paired(o, std::move(decision));
                 then(std::move(*held), {});
               });
  }

  // Confirmation pairing: the accessory paired this app and shows its code; the key is pinned
  // only if the person says the codes are the same.
  void confirm_then_admit(std::unique_ptr<tls_stream> stream, core::pairing_outcome o,
                          std::optional<trust::trust_decision> decision,
                          std::function<void(std::unique_ptr<tls_stream>, std::error_code)> then) {
    pairing_confirmation c{opts.trust.device_id, stream->peer_fingerprint(),
                           std::string(stream->peer_subject()), 0};
    if (std::error_code vec = verification_code(*stream, c.code)) return then(nullptr, vec);
    if (!opts.trust.confirm) {
      emit(level::warning, diag::pairing_failed, core::pairing_errc::not_confirmed,
           "pairing with " + opts.trust.device_id +
               ": confirmation pairing needs a confirm handler (trust_options::confirm)");
      return then(nullptr, core::pairing_errc::not_confirmed);
    }
    struct pending {
      std::unique_ptr<tls_stream> stream;
      core::pairing_outcome outcome;
      std::optional<trust::trust_decision> decision;
      std::function<void(std::unique_ptr<tls_stream>, std::error_code)> then;
      bool answered = false;
    };
    auto p = std::make_shared<pending>(
        pending{std::move(stream), o, std::move(decision), std::move(then), false});
    // The answer may come from a UI thread: it is taken on the channel's executor. An answer
    // after the channel ended finds no channel and is ignored; the wait itself holds only the
    // stream, which ends with it.
    opts.trust.confirm(c, [w = weak_from_this(), p, ex = ex](bool same) {
      asio::post(ex, [w, p, same] {
        if (p->answered) return;
        p->answered = true;
        auto self = w.lock();
        if (!self) return;
        if (!same) {
          self->emit(level::warning, diag::pairing_failed, core::pairing_errc::not_confirmed,
                     "pairing with " + self->opts.trust.device_id +
                         ": the verification code was not confirmed; the key was not pinned");
          return p->then(nullptr, core::pairing_errc::not_confirmed);
        }
        self->paired(p->outcome, std::move(p->decision));
        p->then(std::move(p->stream), {});
      });
    });
  }

  void paired(const core::pairing_outcome& o, std::optional<trust::trust_decision> decision) {
    paired_here = true;
    role_here = o.role;
    const std::string role = o.role == core::paired_role::admin ? "admin" : "user";
    emit(level::info, diag::paired, {}, "paired with " + opts.trust.device_id + " as " + role,
         {{diag::role, role}});
    // A pin made now records how the key was proven (a key pinned before keeps its method).
    if (decision && decision->action == trust::trust_action::pin_new) {
      if (opts.trust.pairing->method == core::pairing_method::setup_code)
        decision->method = trust::pin_method::setup_code;
      else if (opts.trust.pairing->method == core::pairing_method::confirmation)
        decision->method = trust::pin_method::tofu;
    }
    // From now on this channel accepts only the key the exchange proved: should the pin not
    // be recorded (commit() fails), a later connection must not pin whichever key answers.
    if (decision) opts.trust.expected_fingerprint = decision->presented;
    commit(decision);
  }

  void commit(const std::optional<trust::trust_decision>& decision) {
    if (!decision || !opts.trust.store) return;
    trust::store_status s =
        opts.trust.store->commit(*decision, opts.trust.name, std::chrono::system_clock::now());
    // Error, not warning: the connection goes on, but the next one is a first use again
    // (pairing, or a TOFU prompt) until a person fixes the store.
    if (s.failed())
      emit(level::error, diag::pin_not_recorded, s.code, "could not record the pin: " + s.message(),
           s.fields);
  }

  // A trust refusal's fingerprints known without the refused handshake: the pin and the setup
  // payload's. The presented one is only in the racer's failure text (attempt_failure carries
  // no decision), which is not parsed.
  void add_known_trust(fields& f) const {
    if (opts.trust.store)
      if (auto pin = opts.trust.store->find(opts.trust.device_id)) {
        f.push_back({key::fingerprint_pinned, core::to_string(pin->fingerprint)});
        f.push_back(pinned_since(pin->first_seen));
      }
    if (opts.trust.expected_fingerprint)
      f.push_back({key::fingerprint_expected, core::to_string(*opts.trust.expected_fingerprint)});
  }

  // The accessory pairs only on a full handshake (the exporter of a resumed one would be the
  // master secret of a connection it never saw proven). An attempt that may have to pair must
  // not offer a session ticket an earlier, abandoned attempt left behind.
  void no_resumption_before_pairing() {
    if (!opts.trust.pairing || paired_here) return;
    if (!opts.trust.pair_when_pinned && opts.trust.store &&
        opts.trust.store->find(opts.trust.device_id))
      return;
    ctx.forget_session(opts.trust.device_id);
  }

  // `step` names the part that failed for the diagnostic (diag::attempt_failed).
  void attempt_failed(std::uint64_t id, std::error_code ec, std::string what,
                      std::string_view step) {
    failing_step = step;
    feed([&] { ctl.attempt_failed(id, ec, std::move(what), now()); });
    failing_step = {};
    failing_fields.clear();
  }

  void stop_resolving() {
    resolve_timer.cancel();
    resolver.cancel();
  }

  // Started with an endpoint: every resolved address becomes one unpinned path (through the
  // routing table), raced in the resolver's order by the same path_racer as the directory's
  // paths, so both start() forms share one connector, one verifier and one route into admit().
  void resolve_endpoint(std::uint64_t id) {
    attempts[id] = {};
    std::weak_ptr<impl> w = weak_from_this();
    // getaddrinfo cannot be interrupted: the attempt fails at the deadline and a late answer
    // is dropped (the attempt is no longer pending by then).
    resolve_timer.expires_after(opts.connect_timeout);
    resolve_timer.async_wait([w, id](std::error_code ec) {
      auto self = w.lock();
      if (!self || ec || !self->resolving(id)) return;
      self->resolver.cancel();
      self->attempts.erase(id);
      self->attempt_failed(id, asio::error::timed_out, "resolving the host failed", "resolve");
    });
    resolver.async_resolve(
        target->host, std::to_string(target->port), tcp::resolver::numeric_service,
        [w, id](std::error_code ec, tcp::resolver::results_type results) {
          auto self = w.lock();
          if (!self || !self->resolving(id)) return;
          self->resolve_timer.cancel();
          if (!ec && results.empty()) ec = channel::errc::host_not_resolved;
          if (ec) {
            self->attempts.erase(id);
            return self->attempt_failed(id, ec, "resolving the host failed", "resolve");
          }
          auto targets = endpoint_targets(results);
          std::vector<std::size_t> indices(targets.size(), 0);
          self->start_racer(id, std::move(targets), std::move(indices), false);
        });
  }

  // Race `id` is resolving its host (no racer yet) and still awaited.
  bool resolving(std::uint64_t id) const {
    auto it = attempts.find(id);
    return it != attempts.end() && !it->second.racer && ctl.attempt_pending(id);
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

  static std::string label(const core::tracked_path& t) {
    return (t.facts.interface_name.empty() ? t.facts.address : t.facts.interface_name) + " (" +
           std::string(core::to_string(t.facts.kind)) + ")";
  }

  // Race or move `id`: `targets` raced (RFC 8305), the first pinned handshake wins; `indices`
  // are their places in the controller's snapshot.
  void start_racer(std::uint64_t id, std::vector<detail::path_target> targets,
                   std::vector<std::size_t> indices, bool move) {
    failing_fields.clear(); // a pairing failure of an abandoned attempt is not this one's
    auto racer = std::make_shared<detail::path_racer>(ex, ctx, opts.trust, race_settings());
    attempts[id] = {racer, std::move(indices), move};
    auto kept = targets;
    racer->start(std::move(targets),
                 [w = weak_from_this(), id, targets = std::move(kept)](detail::race_outcome o) {
                   if (auto self = w.lock()) self->race_done(id, targets, std::move(o));
                 });
  }

  void race_done(std::uint64_t id, const std::vector<detail::path_target>& targets,
                 detail::race_outcome o) {
    auto it = attempts.find(id);
    if (it == attempts.end()) return; // aborted: its streams are closed with it
    attempt a = std::move(it->second);
    attempts.erase(it);
    if (!ctl.attempt_pending(id)) return;
    if (a.move) {
      if (o.error)
        return attempt_failed(
            id, o.error, o.failures.empty() ? o.error.message() : o.failures.back().what, "race");
    } else {
      for (const auto& f : o.failures) {
        fields pf;
        if (f.index < targets.size())
          add_path(pf, targets[f.index].path.interface_name, targets[f.index].path.kind,
                   targets[f.index].path.address, targets[f.index].endpoint.port());
        if (!f.step.empty()) pf.push_back({key::step, std::string(f.step)});
        if (f.refused)
          add_decision(pf, *f.refused);
        else if (f.error.category() == trust::trust_category())
          add_known_trust(pf);
        emit(level::warning, diag::path_attempt_failed, f.error,
             "channel to " + opts.trust.device_id + ": " + f.what, std::move(pf));
      }
      if (o.error) {
        fields tf;
        // The verdict behind the race's error: every path refused the key (else the error is a
        // transport failure), so the first refused path's verdict names the fingerprints.
        const trust::trust_decision* verdict =
            o.decision && !o.decision->accepted() ? &*o.decision : nullptr;
        for (const auto& f : o.failures)
          if (!verdict && f.refused && f.error == o.error) verdict = &*f.refused;
        if (verdict) {
          add_decision(tf, *verdict);
          emit(level::warning, diag::trust_refused, verdict->code, verdict->describe(), tf);
        } else if (o.error.category() == trust::trust_category()) {
          add_known_trust(tf);
        }
        // The fingerprints reach the app with the attempt's error (last_error_detail()).
        failing_fields = std::move(tf);
        return attempt_failed(
            id, o.error, dir ? "no path to the accessory worked" : "connecting failed", "race");
      }
    }
    feed([&] { ctl.race_won(id, a.indices.at(o.winner), now()); });
    const detail::path_target won = targets.at(o.winner);
    std::optional<trust::trust_decision> decision = std::move(o.decision);
    admit(std::move(o.stream), std::move(decision),
          [w = weak_from_this(), id, won](std::unique_ptr<tls_stream> s, std::error_code ec) {
            auto self = w.lock();
            if (!self || !self->ctl.attempt_pending(id)) return;
            if (ec) return self->attempt_failed(id, ec, "pairing failed", "pairing");
            self->attach(id, won, std::move(s));
          });
  }

  void attach(std::uint64_t id, const detail::path_target& t, std::unique_ptr<tls_stream> s) {
    const asio::ip::tcp::socket* socket = s->next_layer().socket();
    const bool mptcp = socket && link::is_mptcp_connection(*socket);
    if (std::error_code aec = runner->attach(std::move(s)))
      return attempt_failed(id, aec, "starting the session failed", "attach");
    attaching = t;
    attaching_mptcp = mptcp;
    feed([&] { ctl.attached(id, now()); });
  }

  detail::race_settings race_settings() const {
    detail::race_settings s{opts.paths.attempt_delay,
                            opts.connect_timeout,
                            opts.tcp_user_timeout,
                            opts.paths.transport,
                            {}};
    if (relay)
      s.open_relay = [w = weak_from_this()](auto done) {
        auto self = w.lock();
        if (!self || !self->relay) {
          std::unique_ptr<channel::tunnel_io> none;
          return done(channel::errc::relay_unavailable, std::move(none));
        }
        self->relay->open(self->opts.connect_timeout, std::move(done));
      };
    return s;
  }

  // --- the relay ----------------------------------------------------------------------------

  // The relay path needs a trust store (tickets are kept with the pins) and a policy that does
  // not prohibit it.
  bool relay_allowed() const {
    return opts.trust.store && dir && opts.paths.policy.allows(core::interface_kind::relay);
  }

  // At start: the ticket stored with the pin, if any.
  void load_ticket() {
    if (!relay_allowed()) return;
    trust::store_status err;
    auto t = opts.trust.store->relay_ticket(opts.trust.device_id, &err);
    if (err.failed())
      emit(level::warning, diag::relay_unavailable, err.code,
           "channel to " + opts.trust.device_id + ": relay ticket unusable: " + err.message());
    if (t) use_ticket(std::move(*t));
  }

  // Service 3 from the accessory: a ticket (after every handshake while it has relay
  // settings), or an error text answering an admin's settings (the application's to read).
  void take_ticket(std::span<const std::byte> payload) {
    if (payload.empty() || std::to_integer<std::uint8_t>(payload[0]) != 1) return;
    const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(payload.data()),
                                              payload.size());
    core::relay_ticket t;
    std::uint8_t field = 0;
    if (auto ec = core::decode_relay_ticket(bytes, t, &field)) {
      emit(level::warning, diag::relay_unavailable, ec,
           "channel to " + opts.trust.device_id +
               ": the accessory sent a relay ticket that does "
               "not decode (" +
               ec.message() + ", " + core::relay_settings_field_name(field) + ")");
      return;
    }
    if (!relay_allowed()) return;
    if (relay && same_ticket(relay->ticket(), t)) return; // nothing new: nothing written
    if (trust::store_status s = opts.trust.store->save_relay_ticket(opts.trust.device_id, bytes);
        s.failed()) {
      emit(level::warning, diag::relay_unavailable, s.code,
           "channel to " + opts.trust.device_id + ": relay ticket not stored: " + s.message());
      return;
    }
    use_ticket(std::move(t));
  }

  static bool same_ticket(const core::relay_ticket& a, const core::relay_ticket& b) {
    return a.broker.host == b.broker.host && a.broker.port == b.broker.port &&
           a.broker.ca_pem == b.broker.ca_pem && a.household_account == b.household_account &&
           a.household_password == b.household_password && a.accessory_inbox == b.accessory_inbox &&
           a.relay_key == b.relay_key;
  }

  void use_ticket(core::relay_ticket t) {
    relay.reset(); // a tunnel of the old link in use ends: the session resumes
    auto link = std::make_unique<detail::relay_link>(
        ex, std::move(t), opts.trust.store->relay_ca_path(opts.trust.device_id).string(),
        ctx.local_identity().fingerprint());
    std::weak_ptr<impl> w = weak_from_this();
    const std::error_code ec = link->start([w](relay::mqtt_state state, std::error_code why) {
      auto self = w.lock();
      if (!self || self->terminal()) return;
      if (state == relay::mqtt_state::waiting)
        self->emit(level::warning, diag::relay_unavailable, why,
                   "channel to " + self->opts.trust.device_id +
                       ": relay broker unreachable: " + why.message() + "; retrying");
      const auto trigger = state == relay::mqtt_state::connected ? core::paths_trigger::new_path
                                                                 : core::paths_trigger::interfaces;
      self->feed([&] { self->ctl.paths_changed(self->facts(), trigger, now()); }, false);
    });
    if (ec) {
      emit(level::warning, diag::relay_unavailable, ec,
           "channel to " + opts.trust.device_id + ": relay not started: " + ec.message());
      return;
    }
    relay = std::move(link);
  }

  static path_info info_of(const core::tracked_path& t) {
    return {t.facts.interface_name, t.facts.kind, t.facts.address, t.port};
  }

  static std::string describe(const path_info& p) {
    std::string s = p.address + " port " + std::to_string(p.port);
    if (!p.interface_name.empty())
      s += " via " + p.interface_name + " (" + std::string(core::to_string(p.kind)) + ")";
    return s;
  }

  // The path watcher's facts.
  void wire_paths() {
    std::weak_ptr<impl> w = shared_from_this();
    paths->set_fact_handlers({
        [w](const std::string& why) {
          if (auto self = w.lock()) self->feed([&] { self->ctl.path_lost(why, now()); });
        },
        [w](std::uint32_t index) {
          if (auto self = w.lock())
            self->feed([&] { self->ctl.interface_changed_state(index, now()); });
        },
        [w] {
          if (auto self = w.lock())
            self->feed([&] {
              self->ctl.paths_changed(self->facts(), core::paths_trigger::interfaces, now());
            });
        },
    });
  }

  // --- ending ----------------------------------------------------------------------------

  // cancel(): CLOSE if connected, state cancelled; received messages stay to be taken.
  void cancel_now() {
    if (terminal()) return;
    feed([&] { ctl.cancel(now()); }, false);
    if (paths) paths->stop();
    // Not the relay link yet: the CLOSE below may be going out through one of its tunnels.
    sends.fail_all(asio::error::operation_aborted);
    inbox.close(asio::error::operation_aborted);
    runner->close();
  }

  // async_close() waits for this: no send waiting for room, none unacknowledged.
  bool drained() const { return sends.waiting() == 0 && runner->session().replay_count() == 0; }

  // Checked after the event that may have drained it, outside the session's event loop (the
  // CLOSE then goes out through the runner's own flush).
  void post_close_check() {
    asio::post(ex, [w = weak_from_this()] {
      if (auto self = w.lock()) self->close_if_drained();
    });
  }

  void close_if_drained() {
    if (!closer || terminal() || !drained()) return;
    channel::completion<> done = std::move(closer);
    cancel_now();
    done.complete({});
  }

  void cancel_all() {
    for (auto& [id, a] : attempts)
      if (a.racer) a.racer->cancel();
    attempts.clear();
    stop_resolving();
    timer.cancel();
    if (paths) paths->stop();
    relay.reset();
  }
};

client_channel::client_channel(executor_type ex, tls::context ctx, client_options options)
    : impl_(std::make_shared<impl>(ex, std::move(ctx), std::move(options))) {
  impl_->wire_runner();
}

client_channel::~client_channel() {
  impl_->on_state = {};
  impl_->on_message = {};
  impl_->on_control = {};
  impl_->on_reset = {};
  impl_->on_path = {};
  impl_->ctl.cancel(impl::now()); // nothing is reported any more: its actions are not run
  impl_->st = channel_state::cancelled;
  impl_->cancel_all();
  impl_->sends.fail_all(asio::error::operation_aborted);
  impl_->inbox.close(asio::error::operation_aborted);
  impl_->inbox.fail_waiting(asio::error::operation_aborted);
  impl_->closer.complete(asio::error::operation_aborted);
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
void client_channel::set_control_handler(control_handler h) {
  impl_->on_control = std::move(h);
}
void client_channel::set_session_reset_handler(session_reset_handler h) {
  impl_->on_reset = std::move(h);
}
void client_channel::set_path_handler(path_handler h) {
  impl_->on_path = std::move(h);
}
std::optional<path_info> client_channel::current_path() const {
  return impl_->path_now;
}

void client_channel::start(endpoint ep) {
  if (impl_->st != channel_state::setup || impl_->started) return;
  impl& i = *impl_;
  i.started = true;
  i.target = std::move(ep);
  // One static, unpinned path; its host is resolved for every race.
  i.ctl = core::channel_controller(impl::settings(i.opts, false));
  core::path_snapshot s;
  core::tracked_path p;
  p.facts.address = i.target->host;
  p.port = i.target->port;
  s.paths.push_back(std::move(p));
  // The first attempt is due now, on the timer: never inside the caller's frame.
  i.feed([&] {
    i.ctl.paths_changed(std::move(s), core::paths_trigger::refresh, impl::now());
    i.ctl.start(impl::now());
  });
}

void client_channel::start(std::string_view device_id,
                           std::shared_ptr<const discovery::directory> dir) {
  impl& i = *impl_;
  if (i.st != channel_state::setup || i.started) return;
  i.started = true;
  std::string problem;
  std::string_view problem_id; // diag::problem
  fields f;
  if (!dir) {
    problem = "no discovery directory given";
    problem_id = "no_directory";
  } else if (device_id.empty()) {
    problem = "empty device id";
    problem_id = "empty_device_id";
  } else if (!i.opts.trust.device_id.empty() && i.opts.trust.device_id != device_id) {
    problem = "client_options::trust.device_id is \"" + i.opts.trust.device_id +
              "\"; leave it empty or equal to the device id";
    problem_id = "device_id_mismatch";
    f.push_back({diag::trust_device_id, i.opts.trust.device_id});
  }
  const auto invalid = std::make_error_code(std::errc::invalid_argument);
  if (!problem.empty()) {
    f.insert(f.begin(), core::field{diag::problem, std::string(problem_id)});
    // The device id asked for, not trust.device_id (which emit() would add).
    f.insert(f.begin(), core::field{key::device_id, std::string(device_id)});
    i.emit_failure(level::error, diag::start_failed, invalid,
                   "channel to \"" + std::string(device_id) +
                       "\": cannot start by device id: " + problem,
                   std::move(f));
    i.fail_soon(invalid);
    return;
  }
  i.opts.trust.device_id = std::string(device_id);
  i.dir = std::move(dir);
  if (std::string bad = i.opts.paths.policy.check(); !bad.empty()) {
    i.emit_failure(level::error, diag::start_failed, invalid,
                   "channel to \"" + std::string(device_id) + "\": " + bad,
                   {{diag::problem, std::string("invalid_policy")}});
    i.fail_soon(invalid);
    return;
  }
  i.paths = std::make_shared<detail::path_watcher>(i.ex, i.opts.paths.static_paths);
  i.paths->set_directory(i.dir, i.opts.trust.device_id);
  i.wire_paths();
  i.load_ticket();
  if (link::link_error e = i.paths->start())
    i.emit(level::warning, diag::path_monitor_unavailable, e.code,
           "channel to " + i.opts.trust.device_id +
               ": not watching interfaces (moves only on connection errors): " + e.message(),
           e.fields);
  // The first attempt is due now, on the timer: never inside the caller's frame.
  i.feed([&] { i.ctl.start(impl::now()); });
}

void client_channel::network_changed() {
  impl& i = *impl_;
  i.feed([&] { i.ctl.network_changed(impl::now()); });
}

void client_channel::directory_changed(std::span<const discovery::directory_event> events) {
  impl& i = *impl_;
  if (!i.dir || i.terminal()) return;
  auto trigger = core::paths_trigger::directory;
  for (const discovery::directory_event& e : events)
    if (e.accessory.id == i.opts.trust.device_id &&
        (e.kind == discovery::directory_event_kind::added ||
         e.kind == discovery::directory_event_kind::path_added ||
         e.kind == discovery::directory_event_kind::path_reachable))
      trigger = core::paths_trigger::new_path;
  // The active path's check first (it may report the path lost), then the new facts.
  if (i.paths) i.paths->check_active();
  i.feed([&] { i.ctl.paths_changed(i.facts(), trigger, impl::now()); }, false);
}

void client_channel::cancel() {
  impl& i = *impl_;
  // What was received stays the app's to take; then receives complete with operation_aborted.
  i.cancel_now();
  i.closer.complete(asio::error::operation_aborted);
}

void client_channel::close_impl(channel::completion<> c) {
  impl& i = *impl_;
  if (i.st == channel_state::cancelled) return c.complete({});
  if (i.st == channel_state::failed)
    return c.complete(i.last_error ? i.last_error
                                   : make_error_code(core::channel_errc::session_closed));
  if (i.closer) return c.complete(asio::error::in_progress);
  c.on_cancel([w = std::weak_ptr<impl>(impl_), ex = i.ex](asio::cancellation_type) {
    asio::post(ex, [w] {
      auto self = w.lock();
      if (!self || !self->closer) return;
      channel::completion<> done = std::move(self->closer);
      self->cancel_now();
      done.complete(asio::error::operation_aborted);
    });
  });
  i.closer = std::move(c);
  i.post_close_check();
}

void client_channel::receive_impl(channel::receive_completion c) {
  impl& i = *impl_;
  if (i.opts.receive != receive_mode::pull)
    return c.complete(core::channel_errc::invalid_state, {});
  i.inbox.receive(*i.runner, std::move(c));
}

std::optional<core::message> client_channel::try_receive() {
  impl& i = *impl_;
  if (i.opts.receive != receive_mode::pull) return std::nullopt;
  return i.inbox.try_take(*i.runner);
}

channel_state client_channel::state() const noexcept {
  return impl_->st;
}
std::error_code client_channel::last_error() const noexcept {
  return impl_->last_error;
}
core::error_detail client_channel::last_error_detail() const {
  return impl_->last_detail;
}
std::optional<core::paired_role> client_channel::paired_role() const noexcept {
  return impl_->role_here;
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
                               send_completion c, std::optional<core::message_kind> service) {
  impl& i = *impl_;
  if (i.st == channel_state::cancelled) return c.complete(asio::error::operation_aborted, 0);
  if (i.st == channel_state::failed || i.closer)
    return c.complete(core::channel_errc::session_closed, 0);
  // A service's message must name a service: as application data it would reach the app.
  if (service == core::message_kind::application)
    return c.complete(core::channel_errc::invalid_frame_field, 0);
  i.sends.submit(*i.runner, payload, options, std::move(c),
                 service.value_or(core::message_kind::application));
}

} // namespace lanyard::client
