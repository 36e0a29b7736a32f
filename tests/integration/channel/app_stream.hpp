// The app side of the channel lab's stream test, whichever API carries it (channel_stream_peer:
// client::client_channel with push delivery; channel_product_peer: app::device, pulled): what
// was sent and how each send completed, the order of echoes and ticks, session resets and
// their lists, progress lines for the driver scripts, and the verdict. The peers only wire
// their API to it. See channel_stream_peer.cpp for the options and what is checked.
#pragma once

#include "stream_peer_common.hpp"

#include <lanyard/channel/error.hpp>
#include <lanyard/core/session_event.hpp>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <functional>
#include <string>
#include <system_error>
#include <vector>

namespace stream_peer {

class app_stream {
public:
  /// Sends "m<i>" (payload `m`); its completion must reach send_completed(i, ec).
  using send_fn = std::function<void(long long i, const std::string& m)>;

  app_stream(asio::io_context& io, const args& a)
      : io_(io), count_(a.num("count", 0)), epoch_(a.num("epoch", 0)), burst_(a.num("burst", 1)),
        tick_(std::chrono::milliseconds(a.num("tick-ms", 100))),
        expect_reset_(a.get("reset", "forbid") == "expect"),
        many_resets_(a.get("reset", "forbid") == "many"), log_echoes_(a.has("log-echoes")),
        log_acks_(a.has("log-acks")), progress_ms_(a.num("progress-ms", 0)),
        min_recoveries_(a.num("min-recoveries", 0)), expect_echoes_(!a.has("no-echo")),
        echo_target_(a.num("echo-target", 0)), timeout_s_(a.num("timeout", 120)),
        status_(static_cast<std::size_t>(count_), 0),
        listed_(many_resets_ ? static_cast<std::size_t>(count_) : 0, 0), limit_(count_),
        ticker_(io), progress_(io), give_up_(io) {}

  bool failed() const noexcept { return failed_; }
  long long sent() const noexcept { return sent_; }
  /// The seq expected next in the current session (0 at its start).
  std::uint64_t next_seq() const noexcept { return next_seq_; }

  void violation(const std::string& what) {
    say("VIOLATION: " + what);
    failed_ = true;
    io_.stop();
  }

  /// The channel's state changed (its name: ready, waiting, failed...).
  void on_state(std::string_view name, std::error_code why) {
    state_ = std::string(name);
    say("state " + state_ + (why ? " " + why.message() : ""));
    if (name == "ready") {
      say("connected " + std::to_string(++connects_));
      if (was_waiting_) ++recoveries_;
      was_ready_ = true;
      was_waiting_ = false;
    } else if (name == "waiting") {
      if (was_ready_) say("disconnected " + std::to_string(++disconnects_));
      was_ready_ = false;
      was_waiting_ = true;
    } else if (name == "failed") {
      violation("the channel failed: " + why.message());
    }
  }

  /// A message of the current session, in the order taken.
  void on_message(std::uint64_t seq, const std::string& m) {
    if (seq != next_seq_)
      return violation("message seq " + std::to_string(seq) + " (\"" + m + "\"), expected " +
                       std::to_string(next_seq_));
    ++next_seq_;
    if (long long t = index_of(m, "t"); t >= 0) {
      if (t != next_tick_)
        return violation("tick \"" + m + "\", expected t" + std::to_string(next_tick_));
      ++next_tick_;
      ++ticks_;
      return;
    }
    long long e = index_of(m, "echo:m");
    if (e < 0) return violation("unexpected message \"" + m + "\"");
    // The first echo of a session after a reset is the first message of that session.
    bool ok = first_echo_of_session_
                  ? (last_echo_ < 0 && echo_boundary_ < 0 ? e == 0 : e == echo_boundary_)
                  : e == last_echo_ + 1;
    if (!ok)
      return violation(
          "echo \"" + m + "\" after echo:m" + std::to_string(last_echo_) +
          (echo_boundary_ >= 0 ? " (reset boundary m" + std::to_string(echo_boundary_) + ")" : ""));
    first_echo_of_session_ = false;
    last_echo_ = e;
    ++echoes_;
    if (log_echoes_) say("echo m" + std::to_string(e));
    if (echo_target_ > 0 && echoes_ == echo_target_) {
      limit_ = sent_;
      say("echo target reached: sending no more after m" + std::to_string(sent_ - 1));
    }
    check_done();
  }

  /// The boundary of a reset reported after the fact (app::device queues it as an event, which
  /// the app may take after it sent more): the message after the last one listed, or, with an
  /// empty list (everything before was acknowledged), the first send not completed yet.
  long long boundary_of(const std::vector<core::message>& unacked) {
    if (!unacked.empty()) return index_of(text(unacked.back().payload), "m") + 1;
    while (first_open_ < sent_ && status_[static_cast<std::size_t>(first_open_)] != 0)
      ++first_open_;
    return first_open_;
  }

  /// A session reset with its list; `boundary`: the first message of the new session. Checks
  /// the list; the receiving side moves to the new session with new_session().
  void on_reset(const std::vector<core::message>& unacked, long long boundary) {
    ++resets_;
    if (!expect_reset_ && !many_resets_) return violation("session reset");
    if (expect_reset_ && resets_ > 1) return violation("a second session reset");
    reset_boundary_ = boundary;
    say("session reset: " + std::to_string(unacked.size()) + " unacknowledged, boundary m" +
        std::to_string(boundary));
    long long k = boundary - static_cast<long long>(unacked.size());
    for (const core::message& m : unacked) {
      std::string s = text(m.payload);
      if (log_acks_) say("unacked " + s);
      if (!many_resets_) {
        reset_list_.push_back(index_of(s, "m"));
        continue;
      }
      // many: checked per reset (expect checks its single list after the run).
      if (index_of(s, "m") != k++)
        return violation("the reset list is not the run of messages right before boundary m" +
                         std::to_string(boundary));
      listed_[static_cast<std::size_t>(k - 1)] = 1;
      ++n_listed_;
    }
    // The reset event may come after the last send completed (it is queued as an event): the
    // run can be over now.
    check_done();
  }

  /// The messages taken from now on are the new session's: seq from 0, echoes from
  /// `boundary`, its reset's.
  void new_session(long long boundary) {
    next_seq_ = 0;
    next_tick_ = 0;
    first_echo_of_session_ = true;
    last_echo_ = -1;
    echo_boundary_ = boundary;
  }

  void send_completed(long long i, std::error_code e) {
    ++completed_;
    const std::string m = "m" + std::to_string(i);
    if (!e) {
      status_[static_cast<std::size_t>(i)] = 1;
      ++acked_;
      if (log_acks_) say("acked " + m);
    } else if (e == lanyard::channel::errc::session_reset) {
      status_[static_cast<std::size_t>(i)] = 2;
      if (log_acks_) say("reset-failed " + m);
    } else {
      status_[static_cast<std::size_t>(i)] = 3;
      return violation("send " + m + " failed: " + e.message());
    }
    check_done();
  }

  /// Starts sending (`send` per message), the progress lines and the timeout.
  void start(send_fn send) {
    send_ = std::move(send);
    send_some();
    if (progress_ms_ > 0) report();
    give_up_.expires_after(std::chrono::seconds(timeout_s_));
    give_up_.async_wait([this](std::error_code e) {
      if (e) return;
      violation("giving up: " + std::to_string(completed_) + "/" + std::to_string(count_) +
                " sends completed, last echo m" + std::to_string(last_echo_));
    });
  }

  /// After io.run(): the checks over the whole run, the summary line; the exit code.
  int finish() {
    if (!failed_ && many_resets_) {
      for (long long i = 0; !failed_ && i < count_; ++i)
        if ((status_[static_cast<std::size_t>(i)] == 2) !=
            (listed_[static_cast<std::size_t>(i)] == 1))
          violation("m" + std::to_string(i) +
                    (listed_[static_cast<std::size_t>(i)] ? " was" : " was not") +
                    " listed in a reset but its send completed " +
                    (status_[static_cast<std::size_t>(i)] == 2 ? "with" : "without") +
                    " session_reset");
    }
    if (!failed_ && expect_reset_) {
      // The reset list is exactly the sends that completed with session_reset, in order: a
      // contiguous run ending right before the boundary; everything else was acknowledged.
      std::vector<long long> reset_failed;
      for (long long i = 0; i < count_; ++i)
        if (status_[static_cast<std::size_t>(i)] == 2) reset_failed.push_back(i);
      if (reset_failed != reset_list_) violation("the reset list differs from the failed sends");
      if (reset_list_.empty()) violation("the reset listed nothing");
      for (std::size_t k = 0; !failed_ && k < reset_list_.size(); ++k)
        if (reset_list_[k] != reset_boundary_ - static_cast<long long>(reset_list_.size() - k))
          violation("the reset list is not the run of messages right before the boundary");
    }
    say("done: sent " + std::to_string(sent_) + ", acked " + std::to_string(acked_) + ", echoes " +
        std::to_string(echoes_) + ", ticks " + std::to_string(ticks_) + ", connects " +
        std::to_string(connects_) + ", recoveries " + std::to_string(recoveries_) + ", resets " +
        std::to_string(resets_) + ", reset-failed " +
        std::to_string(many_resets_ ? n_listed_ : static_cast<long long>(reset_list_.size())));
    if (!failed_ && recoveries_ < min_recoveries_) {
      say("VIOLATION: " + std::to_string(recoveries_) + " recoveries, expected at least " +
          std::to_string(min_recoveries_));
      failed_ = true;
    }
    return failed_ ? 1 : 0;
  }

private:
  void check_done() {
    if (failed_ || sent_ < limit_ || completed_ < limit_) return;
    if (expect_reset_ && resets_ == 0) return;
    // Every message acknowledged in the current session has been echoed by it.
    if (expect_echoes_ && status_[static_cast<std::size_t>(limit_ - 1)] == 1 &&
        last_echo_ != limit_ - 1)
      return;
    io_.stop();
  }

  void send_some() {
    for (long long n = 0; n < burst_ && sent_ < limit_; ++n) {
      if (epoch_ > 0 && sent_ >= epoch_ * connects_) break;
      if (sent_ - completed_ >= 20000) break; // bound what is outstanding
      long long i = sent_++;
      send_(i, "m" + std::to_string(i));
    }
    if (sent_ == limit_) return;
    ticker_.expires_after(tick_);
    ticker_.async_wait([this](std::error_code e) {
      if (!e) send_some();
    });
  }

  void report() {
    say("progress sent " + std::to_string(sent_) + " completed " + std::to_string(completed_) +
        " acked " + std::to_string(acked_) + " echoes " + std::to_string(echoes_) + " resets " +
        std::to_string(resets_) + " connects " + std::to_string(connects_) + " state " + state_);
    progress_.expires_after(std::chrono::milliseconds(progress_ms_));
    progress_.async_wait([this](std::error_code e) {
      if (!e) report();
    });
  }

  asio::io_context& io_;
  const long long count_, epoch_, burst_;
  const std::chrono::milliseconds tick_;
  const bool expect_reset_, many_resets_, log_echoes_, log_acks_;
  const long long progress_ms_, min_recoveries_;
  const bool expect_echoes_;
  const long long echo_target_, timeout_s_;
  send_fn send_;

  // Per message: 0 pending, 1 acknowledged, 2 session_reset, 3 other error.
  std::vector<unsigned char> status_;
  long long sent_ = 0, completed_ = 0, acked_ = 0;
  long long first_open_ = 0; // no send before it is pending (boundary_of())
  bool failed_ = false;
  int connects_ = 0, disconnects_ = 0, recoveries_ = 0, resets_ = 0;
  bool was_ready_ = false, was_waiting_ = false;
  std::vector<long long> reset_list_; // the reset's list (expect)
  // many: which messages a reset listed. A preallocated map, not a growing list, so that the
  // app's memory stays flat across resets (the chaos test bounds its growth).
  std::vector<unsigned char> listed_;
  long long n_listed_ = 0;
  // The most that will be sent: --count, lowered to what was sent once --echo-target echoes
  // arrived.
  long long limit_;
  long long reset_boundary_ = -1; // first message of the session after the (last) reset
  long long echo_boundary_ = -1;  // the boundary of the session the receiving side is in
  std::string state_ = "idle";
  std::uint64_t next_seq_ = 0; // incoming, per session
  long long last_echo_ = -1, echoes_ = 0;
  long long next_tick_ = 0, ticks_ = 0;
  bool first_echo_of_session_ = true;
  asio::steady_timer ticker_, progress_, give_up_;
};

} // namespace stream_peer
