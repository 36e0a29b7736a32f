#include "lanyard/core/channel_controller.hpp"

#include "lanyard/core/channel_error.hpp"
#include "lanyard/core/error_condition.hpp"

#include <algorithm>
#include <utility>

namespace lanyard::core {

namespace act = controller_actions;

channel_controller::channel_controller(channel_controller_settings settings)
    : settings_(std::move(settings)), backoff_(settings_.backoff),
      resolution_({settings_.resolution_delay}), tracker_(settings_.paths) {}

// --- inputs -------------------------------------------------------------------------------------

void channel_controller::start(time_point now) {
  if (state_ != channel_state::setup || started_) return;
  started_ = true;
  retry_at_ = now; // never in the caller's frame: the executor's timer starts the first attempt
}

void channel_controller::fail(std::error_code ec, time_point) {
  if (terminal()) return;
  started_ = true;
  give_up(ec);
}

void channel_controller::paths_changed(path_snapshot snapshot, paths_trigger trigger,
                                       time_point now) {
  usable_kinds_ = snapshot.usable_kinds;
  nothing_known_ = snapshot.nothing_known;
  tracker_.update(std::move(snapshot.paths), now);
  follow_advice();
  if (trigger == paths_trigger::refresh || terminal()) return;
  // Something new may work now: a waiting channel attempts at once, a resolution wait decides
  // again. Only when a path is viable: otherwise (an accessory not discovered yet) every event
  // would start a pointless attempt.
  if (!tracker_.ranked().viable.empty() && (state_ == channel_state::waiting || awaiting_better_))
    attempt_now(attempt_trigger::new_viable_path, false, now);
  if (trigger == paths_trigger::interfaces) return;
  // A disappearance closes the resolution delay's window even while no race is due.
  resolution_.observe(tracker_.viable_kinds(), now);
  if (trigger == paths_trigger::new_path) attempt_now(attempt_trigger::new_path, false, now);
}

void channel_controller::network_changed(time_point now) {
  // A pending attempt (a SYN sent over the old path) is abandoned too: it may never complete.
  attempt_now(attempt_trigger::network_changed, true, now);
}

void channel_controller::race_won(std::uint64_t id, std::size_t target, time_point) {
  if (id != 0 && id == move_id_) {
    move_id_ = 0;
    if (terminal()) return;
    if (!link_) stop_attempts(); // the old connection went meanwhile: the move replaces a retry
    attempt_id_ = id;
    racing_ = false;
    won_ = move_path_;
    won_reason_ = move_reason_;
    return;
  }
  if (!racing_ || id != attempt_id_ || target >= attempt_paths_.size()) return;
  racing_ = false;
  won_ = attempt_paths_[target];
  attempt_paths_ =
      std::vector<tracked_path>(); // only a race's indices need it: an idle channel holds no copy
}

void channel_controller::attached(std::uint64_t id, time_point now) {
  if (id == 0 || id != attempt_id_ || racing_ || !won_) return;
  attempt_id_ = 0;
  std::optional<tracked_path> from = active_path_ ? active_path_ : last_path_;
  link_ = true;
  active_path_ = std::exchange(won_, std::nullopt);
  if (active_path_->facts.kind != interface_kind::relay) local_failed_ = false;
  tracker_.set_active(active_path_, now);
  emit(act::path_changed{std::move(from), *active_path_, won_reason_,
                         won_reason_ == path_change_reason::path_failed ? lost_detail_
                                                                        : std::string()});
  lost_detail_.clear();
  last_path_.reset();
  follow_advice();
}

void channel_controller::attempt_failed(std::uint64_t id, std::error_code ec, std::string what,
                                        time_point now) {
  if (id != 0 && id == move_id_) {
    move_id_ = 0;
    return move_failed(ec, std::move(what), now);
  }
  if (id == 0 || id != attempt_id_) return; // stale: aborted, or superseded by a restart
  // Lost in the race (no path proved the accessory's key) over paths discovery announced only.
  unproven_discovered_ = std::exchange(racing_, false) && raced_unproven_only_;
  attempt_paths_ = std::vector<tracked_path>();
  attempt_id_ = 0;
  won_.reset();
  if (!race_has_relay_) local_failed_ = true;
  failed_attempt(ec, std::move(what), now);
}

void channel_controller::established(time_point) {
  backoff_.reset();
  if (!terminal()) set_state(channel_state::ready);
}

void channel_controller::connection_lost(std::error_code why, time_point now) {
  if (terminal()) return;
  link_ = false;
  if (active_path_) {
    last_path_ = std::exchange(active_path_, std::nullopt);
    // The interface did not go down (path_lost() would have said why first): the link itself
    // is bad, blackholed or the peer unreachable over it. Race it last.
    if (lost_detail_.empty()) {
      tracker_.suspect_active(now);
      lost_detail_ = why.message();
    }
  }
  tracker_.set_active(std::nullopt, now);
  const bool interface_gone = std::exchange(lost_by_interface_, false);
  if (move_id_ != 0) {
    // The accessory closes the old connection as soon as the move's connection is
    // authenticated: the move completes the switch; only if it fails do we reconnect.
    emit(act::notice{.kind = notice_kind::lost_while_moving, .error = why});
    if (interface_gone) attempt_now(attempt_trigger::path_failed, true, now);
    return;
  }
  emit(act::notice{.kind = notice_kind::connection_lost, .error = why});
  // Not paired (never, or removed): reconnecting cannot change that; pairing can.
  if (why == condition::permanent) return give_up(why);
  set_state(channel_state::waiting, why);
  // The failure belongs to that path: when another interface has a viable path, resume there
  // at once (handover) instead of waiting out a backoff meant for an unreachable accessory.
  if (interface_gone ||
      (last_path_ && tracker_.other_interface_viable(last_path_->facts.interface_name)))
    return attempt_now(attempt_trigger::path_failed, true, now);
  schedule_retry(now);
}

void channel_controller::path_lost(std::string why, time_point now) {
  if (terminal() || !link_) return;
  emit(act::notice{.kind = notice_kind::active_path_lost, .what = why});
  lost_detail_ = std::move(why);
  lost_by_interface_ = true;
  tracker_.set_active(std::nullopt, now);
  emit(act::drop_connection{});
}

void channel_controller::rtt_sample(std::chrono::nanoseconds srtt, time_point now) {
  tracker_.rtt_sample(srtt, now);
  follow_advice();
}

void channel_controller::interface_changed_state(std::uint32_t interface_index, time_point now) {
  tracker_.interface_changed_state(interface_index, now);
  follow_advice();
}

void channel_controller::session_closed(std::error_code ec, time_point) {
  if (terminal()) return;
  give_up(ec ? ec : make_error_code(channel_errc::session_closed));
}

void channel_controller::cancel(time_point) {
  if (terminal()) return;
  set_state(channel_state::cancelled);
  stop_attempts();
  stop_move();
}

void channel_controller::handle_deadline(time_point now) {
  if (terminal()) return;
  if (retry_at_ <= now) {
    retry_at_ = time_point::max();
    connect_now(now);
  }
  if (awaiting_better_ && resolution_.next_deadline() <= now) {
    awaiting_better_ = false;
    race_paths(now);
  }
  if (tracker_.next_deadline() <= now) tracker_.handle_deadline(now);
  follow_advice();
}

// --- outputs and queries ------------------------------------------------------------------------

std::optional<controller_action> channel_controller::poll_action() {
  if (actions_read_ == actions_.size()) return std::nullopt;
  controller_action a = std::move(actions_[actions_read_++]);
  if (actions_read_ == actions_.size()) {
    // Drained: give the storage back. Actions come in short bursts on state changes, and an
    // idle channel should hold none (a std::deque kept a 280-byte node and its map, ~0.35 KB
    // per channel, forever).
    actions_ = std::vector<controller_action>(); // not `= {}`: that keeps the capacity
    actions_read_ = 0;
  }
  return a;
}

channel_controller::time_point channel_controller::next_deadline() const noexcept {
  if (terminal()) return time_point::max();
  time_point t = std::min(retry_at_, tracker_.next_deadline());
  if (awaiting_better_) t = std::min(t, resolution_.next_deadline());
  return t;
}

bool channel_controller::attempt_pending(std::uint64_t id) const noexcept {
  return id != 0 && (id == attempt_id_ || id == move_id_);
}

// --- decisions ----------------------------------------------------------------------------------

bool channel_controller::terminal() const noexcept {
  return state_ == channel_state::failed || state_ == channel_state::cancelled;
}

void channel_controller::emit(controller_action a) {
  actions_.push_back(std::move(a));
}

void channel_controller::set_state(channel_state s, std::error_code why) {
  // Only changes are reported; waiting again when its reason changed.
  if (s == state_ && (s != channel_state::waiting || why == last_error_)) return;
  state_ = s;
  if (why) last_error_ = why;
  emit(act::report_state{s, why});
}

void channel_controller::give_up(std::error_code why) {
  // The sends fail before the state handler runs.
  emit(act::give_up{why});
  set_state(channel_state::failed, why);
  stop_attempts();
  stop_move();
}

void channel_controller::stop_attempts() {
  retry_at_ = time_point::max();
  awaiting_better_ = false;
  if (racing_) emit(act::abort{attempt_id_});
  racing_ = false;
  attempt_paths_ = std::vector<tracked_path>();
  attempt_id_ = 0; // an admission in progress is stale now
  won_.reset();
}

void channel_controller::stop_move() {
  if (move_id_ != 0) emit(act::abort{move_id_});
  move_id_ = 0;
}

void channel_controller::schedule_retry(time_point now) {
  if (terminal() || retry_at_ != time_point::max() || racing_) return;
  retry_at_ = now + backoff_.next_delay(settings_.random());
}

void channel_controller::connect_now(time_point now) {
  if (terminal() || link_) return;
  stop_attempts();
  set_state(channel_state::preparing);
  race_paths(now);
}

void channel_controller::race_paths(time_point now) {
  // A suspicion that ended before the timer fired no longer puts its link last.
  if (tracker_.next_deadline() <= now) tracker_.handle_deadline(now);
  const path_ranking& ranked = tracker_.ranked();
  const resolution_decision d =
      resolution_.decide(tracker_.viable_kinds(), usable_kinds_, settings_.paths.policy, now);
  if (d.verdict == resolution_verdict::wait) return await_better_path(d, now);
  if (announced_wait_end_ != time_point{}) {
    announced_wait_end_ = {};
    if (!ranked.viable.empty()) {
      if (awaited_kinds_.contains(d.best))
        emit(act::notice{.kind = notice_kind::resolution_found,
                         .path = tracker_.paths()[ranked.viable.front()]});
      else
        emit(act::notice{.kind = notice_kind::resolution_over,
                         .kinds = awaited_kinds_,
                         .duration = settings_.resolution_delay});
    }
  }
  if (ranked.viable.empty()) {
    if (nothing_known_)
      return failed_attempt(nothing_known_, "no reachable path in the directory", now);
    return failed_attempt(make_error_code(channel_errc::no_viable_path), ranked.reason, now);
  }
  // The relay is the last resort: raced only when no local path is viable, or when the last
  // race over the local ones failed (a directory entry that outlived the home network looks
  // viable). Ranked last, it then starts after the local attempts' delays.
  std::vector<std::size_t> targets = ranked.viable;
  const auto relayed = [&](std::size_t i) {
    return tracker_.paths()[i].facts.kind == interface_kind::relay;
  };
  if (!local_failed_ && !std::all_of(targets.begin(), targets.end(), relayed))
    std::erase_if(targets, relayed);
  race_has_relay_ = std::any_of(targets.begin(), targets.end(), relayed);
  // Every raced path is one anybody may answer (discovery, the relay's broker): a refusal
  // there proves nothing about the accessory.
  raced_unproven_only_ =
      !targets.empty() && std::all_of(targets.begin(), targets.end(), [&](std::size_t i) {
        return tracker_.paths()[i].facts.discovered;
      });
  attempt_id_ = ++last_id_;
  racing_ = true;
  attempt_paths_.assign(tracker_.paths().begin(), tracker_.paths().end());
  won_reason_ = last_path_ ? path_change_reason::path_failed : path_change_reason::connected;
  emit(act::race{attempt_id_, std::move(targets), won_reason_});
}

// RFC 8305 §3 style: the accessory was found over a worse kind than this host could reach it
// by, moments ago; its better answer is probably still on the way. Announced once per window,
// not on every discovery event in it.
void channel_controller::await_better_path(const resolution_decision& d, time_point now) {
  awaiting_better_ = true;
  awaited_kinds_ = d.awaited;
  if (d.deadline == announced_wait_end_) return;
  announced_wait_end_ = d.deadline;
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(d.deadline - now);
  emit(act::notice{.kind = notice_kind::resolution_wait,
                   .path = tracker_.paths()[tracker_.ranked().viable.front()],
                   .kinds = d.awaited,
                   .duration = std::max(left, std::chrono::milliseconds(0))});
}

// Restarts the attempt when waiting or still connecting. `even_mid_handshake`: also abandon an
// attempt past its race (a network change may have killed the path it runs on; a new
// directory path says nothing about the current one).
void channel_controller::attempt_now(attempt_trigger why, bool even_mid_handshake, time_point now) {
  if (awaiting_better_ && !link_) {
    // Not connecting yet: decide again with what changed (quietly: nothing is abandoned).
    stop_attempts();
    return connect_now(now);
  }
  const bool connecting =
      state_ == channel_state::preparing && !link_ && (even_mid_handshake || racing_);
  // Still "ready" without a connection: the old one closed during a move that then failed.
  const bool lost_while_moving = state_ == channel_state::ready && !link_;
  if (state_ != channel_state::waiting && !connecting && !lost_while_moving) return;
  emit(act::notice{.kind = notice_kind::reconnect_now, .trigger = why});
  stop_attempts();
  connect_now(now);
}

void channel_controller::failed_attempt(std::error_code ec, std::string what, time_point now) {
  if (terminal()) return;
  emit(act::notice{.kind = notice_kind::attempt_failed, .error = ec, .what = std::move(what)});
  // Trust refusals, refused pairings, a certificate the peer refuses, not paired: the next
  // attempt would fail the same way. A slow pairing, a busy accessory, an unreachable path may
  // not.
  //
  // Except when no path proved the accessory's key and every path came from discovery:
  // anyone on the network can advertise the accessory's id at their own address and answer
  // there with another key, no certificate, a wrong ALPN or a refusal alert. Giving up then
  // would let a neighbour end the owner's channel whenever the real accessory is away (its
  // record gone, the impostor's the only path). The channel waits with the refusal as its
  // reason (the app sees who presented which key) and keeps retrying; the real accessory's
  // path wins when it is back. A refusal on one of the app's own paths (static, or an
  // endpoint), or after a path proved the key (pairing, HELLO), stays final.
  const bool unproven = std::exchange(unproven_discovered_, false);
  if (ec == condition::permanent && !unproven) return give_up(ec);
  set_state(channel_state::waiting, ec);
  schedule_retry(now);
}

void channel_controller::move_failed(std::error_code ec, std::string what, time_point now) {
  if (terminal()) return;
  if (ec != condition::cancelled)
    emit(act::notice{.kind = notice_kind::move_failed, .error = ec, .what = std::move(what)});
  // The old connection may have gone meanwhile: reconnect the usual way.
  if (!link_) attempt_now(attempt_trigger::move_failed, true, now);
}

// Make-before-break: only from a working session, one move at a time.
void channel_controller::follow_advice() {
  std::optional<upgrade_advice> advice = tracker_.poll_upgrade();
  if (!advice || state_ != channel_state::ready || move_id_ != 0 || !link_) return;
  move_id_ = ++last_id_;
  move_path_ = tracker_.paths()[advice->index];
  move_reason_ = advice->reason;
  emit(act::notice{.kind = notice_kind::moving, .path = move_path_, .reason = move_reason_});
  emit(act::move{move_id_, advice->index, move_reason_});
}

} // namespace lanyard::core
