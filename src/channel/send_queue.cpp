#include <lanyard/channel/send_queue.hpp>

#include <lanyard/channel/error.hpp>
#include <lanyard/core/channel_error.hpp>

#include <asio/error.hpp>
#include <asio/post.hpp>

#include <algorithm>
#include <utility>

namespace lanyard::channel::detail {

// The lists send `id` goes into, created if need be, with its cancellation handler: a send
// completed at once (queued mode, an error) never needs either. The lists are only replaced once
// empty, i.e. after this send completed, so the handler's weak reference stays right.
send_queue::lists& send_queue::hold(std::uint64_t id, send_completion& c) {
  if (!lists_) lists_ = std::make_shared<lists>();
  c.on_cancel([w = std::weak_ptr<lists>(lists_), ex = ex_, id](asio::cancellation_type type) {
    asio::post(ex, [w, id, type] {
      if (auto l = w.lock()) l->cancel(id, type);
    });
  });
  return *lists_;
}

// Only ever called when no loop over the lists is running: a list is emptied by pops after the
// completion it pops was run, so a send submitted from inside a completion never finds both
// empty mid-loop and never gets a second `lists` while the first is still being worked on.
void send_queue::release_if_empty() noexcept {
  if (lists_ && lists_->acks.empty() && lists_->waiting.empty()) lists_.reset();
}

// True if the payload was taken (or failed for good); false if the buffer is full.
bool send_queue::admit(session_runner& r, std::uint64_t id, std::span<const std::byte> payload,
                       send_options o, send_completion& c, core::message_kind kind) {
  core::session::send_result res = r.send(payload, kind);
  if (res.error == core::channel_errc::buffer_full) return false;
  if (res.error) {
    c.complete(res.error, 0);
  } else if (o.completion == send_completion_mode::queued) {
    c.complete({}, res.seq);
  } else {
    hold(id, c).acks.push_back({id, res.seq, std::move(c)});
  }
  return true;
}

void send_queue::make_wait(std::uint64_t id, std::span<const std::byte> payload, send_options o,
                           send_completion c, core::message_kind kind) {
  if (o.mode == send_mode::fail) return c.complete(core::channel_errc::buffer_full, 0);
  if (waiting() >= max_waiting_) return c.complete(errc::too_many_waiting_sends, 0);
  hold(id, c).waiting.push_back({id, {payload.begin(), payload.end()}, o, std::move(c), kind});
}

void send_queue::submit(session_runner& r, std::span<const std::byte> payload, send_options o,
                        send_completion c, core::message_kind kind) {
  const std::uint64_t id = next_id_++;
  // Never overtake a waiting send.
  if (waiting() != 0) {
    make_wait(id, payload, o, std::move(c), kind);
  } else if (!admit(r, id, payload, o, c, kind)) {
    make_wait(id, payload, o, std::move(c), kind);
  }
}

void send_queue::lists::cancel(std::uint64_t id, asio::cancellation_type type) {
  auto w = std::find_if(waiting.begin(), waiting.end(),
                        [id](const waiting_send& s) { return s.id == id; });
  if (w != waiting.end()) {
    send_completion c = std::move(w->c);
    waiting.erase(w);
    return c.complete(asio::error::operation_aborted, 0);
  }
  if ((type & (asio::cancellation_type::terminal | asio::cancellation_type::partial)) ==
      asio::cancellation_type::none)
    return;
  auto a =
      std::find_if(acks.begin(), acks.end(), [id](const pending_ack& p) { return p.id == id; });
  if (a == acks.end()) return; // completed meanwhile
  send_completion c = std::move(a->c);
  const std::uint64_t seq = a->seq;
  acks.erase(a);
  c.complete(asio::error::operation_aborted, seq);
}

void send_queue::on_acked(session_runner& r, std::uint64_t next_unacked) {
  if (!lists_) return;
  const std::shared_ptr<lists> l = lists_; // kept while its completions run
  auto& acks = l->acks;
  while (!acks.empty() && acks.front().seq < next_unacked) {
    acks.front().c.complete({}, acks.front().seq);
    acks.pop_front();
  }
  admit_waiting(r);
}

void send_queue::admit_waiting(session_runner& r) {
  if (admitting_) return; // admit() -> send() -> events -> on_acked() again
  if (!lists_) return;
  admitting_ = true;
  const std::shared_ptr<lists> l = lists_;
  auto& waiting = l->waiting;
  while (!waiting.empty()) {
    waiting_send& w = waiting.front();
    if (!admit(r, w.id, w.payload, w.options, w.c, w.kind)) break;
    waiting.pop_front();
  }
  admitting_ = false;
  release_if_empty();
}

void send_queue::fail_unacked(std::error_code ec) {
  if (!lists_) return;
  std::deque<pending_ack> acks = std::move(lists_->acks);
  lists_->acks.clear();
  release_if_empty();
  for (pending_ack& a : acks)
    a.c.complete(ec, a.seq);
}

void send_queue::fail_all(std::error_code ec) {
  fail_unacked(ec);
  if (!lists_) return;
  std::deque<waiting_send> w = std::move(lists_->waiting);
  lists_->waiting.clear();
  release_if_empty();
  for (waiting_send& s : w)
    s.c.complete(ec, 0);
}

} // namespace lanyard::channel::detail
