#include <lanyard/channel/send_queue.hpp>

#include <lanyard/channel/error.hpp>
#include <lanyard/core/channel_error.hpp>

#include <utility>

namespace lanyard::channel::detail {

// True if the payload was taken (or failed for good); false if the buffer is full.
bool send_queue::admit(session_runner& r, std::span<const std::byte> payload, send_options o,
                       send_completion& c) {
  core::session::send_result res = r.send(payload);
  if (res.error == core::channel_errc::buffer_full) return false;
  if (res.error) {
    c.complete(res.error, 0);
  } else if (o.completion == send_completion_mode::queued) {
    c.complete({}, res.seq);
  } else {
    acks_.push_back({res.seq, std::move(c)});
  }
  return true;
}

void send_queue::submit(session_runner& r, std::span<const std::byte> payload, send_options o,
                        send_completion c) {
  if (!waiting_.empty()) {
    // Never overtake a waiting send.
    if (o.mode == send_mode::fail) return c.complete(core::channel_errc::buffer_full, 0);
    if (waiting_.size() >= max_waiting_) return c.complete(errc::too_many_waiting_sends, 0);
    waiting_.push_back({{payload.begin(), payload.end()}, o, std::move(c)});
    return;
  }
  if (admit(r, payload, o, c)) return;
  if (o.mode == send_mode::fail) return c.complete(core::channel_errc::buffer_full, 0);
  if (waiting_.size() >= max_waiting_) return c.complete(errc::too_many_waiting_sends, 0);
  waiting_.push_back({{payload.begin(), payload.end()}, o, std::move(c)});
}

void send_queue::on_acked(session_runner& r, std::uint64_t next_unacked) {
  while (!acks_.empty() && acks_.front().seq < next_unacked) {
    acks_.front().c.complete({}, acks_.front().seq);
    acks_.pop_front();
  }
  admit_waiting(r);
}

void send_queue::admit_waiting(session_runner& r) {
  if (admitting_) return; // admit() -> send() -> events -> on_acked() again
  admitting_ = true;
  while (!waiting_.empty()) {
    waiting_send& w = waiting_.front();
    if (!admit(r, w.payload, w.options, w.c)) break;
    waiting_.pop_front();
  }
  admitting_ = false;
}

void send_queue::fail_unacked(std::error_code ec) {
  std::deque<pending_ack> acks = std::move(acks_);
  acks_.clear();
  for (pending_ack& a : acks)
    a.c.complete(ec, a.seq);
}

void send_queue::fail_all(std::error_code ec) {
  fail_unacked(ec);
  std::deque<waiting_send> w = std::move(waiting_);
  waiting_.clear();
  for (waiting_send& s : w)
    s.c.complete(ec, 0);
}

} // namespace lanyard::channel::detail
