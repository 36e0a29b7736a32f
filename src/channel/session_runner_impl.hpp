// Member definitions of channel::detail::basic_session_runner (session_runner.hpp): included
// by session_runner.cpp, which instantiates the production runner (tls::stream<channel::transport>)
// once, and by unit tests that run it over another stream (tests/support/fail_count.hpp).
#pragma once

#include <lanyard/channel/session_runner.hpp>

#include <lanyard/channel/error.hpp>
#include <lanyard/core/channel_error.hpp>

#include <asio/error.hpp>
#include <asio/socket_base.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <utility>

namespace lanyard::channel::detail {

// The runner reads whole chunks and hands messages to handlers that keep them: it needs the
// session's copies (message_delivery::view is a firmware's, core::session::receive_some()).
inline core::session_settings with_copies(core::session_settings s) {
  s.delivery = core::message_delivery::copy;
  return s;
}

template <class Stream>
basic_session_runner<Stream>::basic_session_runner(asio::any_io_executor ex,
                                                   core::session_role role,
                                                   core::session_settings settings)
    : ex_(ex), session_(role, with_copies(std::move(settings))), timer_(ex) {}

template <class Stream>
std::error_code basic_session_runner<Stream>::attach(std::unique_ptr<Stream> s,
                                                     std::span<const std::byte> already_read) {
  auto self = this->shared_from_this();
  if (stopped_) return asio::error::operation_aborted;
  if (link_) finish_link(link_, errc::connection_replaced);
  if (std::error_code ec = session_.on_connected(now())) {
    std::error_code ignored;
    s->next_layer().close(ignored);
    after();
    return ec;
  }
  link_ = std::make_shared<link>(std::move(s));
  if (!already_read.empty()) session_.receive(already_read, now());
  start_read(link_);
  after();
  return {};
}

template <class Stream>
void basic_session_runner<Stream>::drop_link(std::error_code why) {
  auto self = this->shared_from_this();
  if (link_) finish_link(link_, why);
  after();
}

template <class Stream>
core::session::send_result basic_session_runner<Stream>::send(std::span<const std::byte> payload,
                                                              core::message_kind kind) {
  auto self = this->shared_from_this();
  core::session::send_result r = session_.send(payload, now(), kind);
  after();
  return r;
}

template <class Stream>
std::error_code basic_session_runner<Stream>::consume(std::uint64_t seq, std::size_t payload_size) {
  auto self = this->shared_from_this();
  std::error_code ec = session_.consume(seq, payload_size, now());
  after();
  return ec;
}

template <class Stream>
std::error_code basic_session_runner<Stream>::close() {
  auto self = this->shared_from_this();
  std::error_code ec = session_.close(now());
  after();
  return ec;
}

template <class Stream>
void basic_session_runner<Stream>::stop() {
  stopped_ = true;
  cb_ = {};
  timer_.cancel();
  if (link_) {
    std::error_code ignored;
    link_->stream->next_layer().close(ignored);
    link_.reset();
  }
}

template <class Stream>
void basic_session_runner<Stream>::after() {
  if (busy_) {
    again_ = true;
    return;
  }
  auto self = this->shared_from_this(); // callbacks may drop the owner's reference
  busy_ = true;
  do {
    again_ = false;
    while (!stopped_) {
      std::optional<core::session_event> ev = session_.poll_event();
      if (!ev) break;
      if (auto* f = std::get_if<core::events::connection_failed>(&*ev); f && link_)
        link_->error = f->error;
      if (cb_.on_event) cb_.on_event(*ev);
    }
    if (stopped_) break;
    core::session_state st = session_.state();
    if (link_ && !link_->closing &&
        (st == core::session_state::closing || st == core::session_state::closed)) {
      link_->closing = true;
      if (!link_->error) link_->error = make_error_code(core::channel_errc::session_closed);
      // A dead peer hears nothing: waiting for a write stuck behind a silent link (it would
      // only fail at TCP_USER_TIMEOUT) would delay the move to another path.
      if (link_->error == core::channel_errc::peer_dead) finish_link(link_, link_->error);
    }
    flush();
    if (link_lost_ && !stopped_) {
      std::error_code why = *link_lost_;
      link_lost_.reset();
      if (cb_.on_link_lost) cb_.on_link_lost(why);
      again_ = true;
    }
    if (!stopped_) rearm();
  } while (again_ && !stopped_);
  busy_ = false;
}

template <class Stream>
void basic_session_runner<Stream>::flush() {
  if (!link_ || link_->writing || stopped_) return;
  std::span<const std::byte> out = session_.poll_output(now());
  if (out.empty()) {
    if (link_->closing) finish_link(link_, link_->error);
    return;
  }
  link_ptr l = link_;
  // After large writes, the first small one (a PING or an ACK once the burst is over) gives
  // the large buffers back, as the session does with its own: a connection that went idle
  // after a burst should not keep three 64 KiB buffers. Bursts reuse them.
  if (out.size() < 1024 && l->wbuf.capacity() > 16 * 1024) {
    std::vector<std::byte>().swap(l->wbuf);
    l->stream->release_write_buffers();
  }
  l->wbuf.assign(out.begin(), out.end());
  l->writing = true;
  asio::async_write(*l->stream, asio::buffer(l->wbuf),
                    [self = this->shared_from_this(), l](std::error_code ec, std::size_t) {
                      l->writing = false;
                      if (self->stopped_ || l != self->link_) return;
                      if (ec) self->finish_link(l, ec);
                      self->after();
                    });
}

// Plaintext is read into one buffer per thread, not one per connection: the wait holds no
// buffer, and the session has taken (copied or decoded) the bytes before the handler returns.
// An idle connection then costs no read buffer at all; 16 KiB = one TLS record. (One per
// thread and stream type: production has one runner type.)
template <class Stream>
std::span<std::uint8_t> basic_session_runner<Stream>::read_buffer() {
  thread_local std::array<std::uint8_t, 16 * 1024> buffer;
  return buffer;
}

template <class Stream>
void basic_session_runner<Stream>::start_read(const link_ptr& l) {
  l->stream->async_wait_readable([self = this->shared_from_this(), l](std::error_code ec) {
    if (self->stopped_ || l != self->link_) return;
    if (ec) {
      self->finish_link(l, ec);
      self->after();
      return;
    }
    self->read_ready(l);
  });
}

template <class Stream>
void basic_session_runner<Stream>::read_ready(const link_ptr& l) {
  // Everything that has arrived, then back to waiting; bounded so that one busy connection
  // cannot keep the thread from its other work.
  for (int records = 0; records < 8; ++records) {
    std::error_code ec;
    std::span<std::uint8_t> buf = read_buffer();
    const std::size_t n = l->stream->read_some_now(buf, ec);
    if (ec == asio::error::would_block) break;
    if (ec) {
      finish_link(l, ec);
      after();
      return;
    }
    session_.receive(std::as_bytes(buf.first(n)), now());
    after();
    if (stopped_ || l != link_ || l->closing) return;
    // Nothing left in the engine: the socket was drained (one read takes up to a record), so
    // another try would only be an EAGAIN; the wait finds anything that arrived since.
    if (!l->stream->tls_engine().has_pending_input()) break;
  }
  start_read(l);
}

template <class Stream>
void basic_session_runner<Stream>::finish_link(link_ptr l, std::error_code why) {
  if (l != link_) return;
  link_.reset();
  end_transport(l, why);
  session_.on_disconnected(now());
  if (!link_lost_) link_lost_ = why;
}

template <class Stream>
void basic_session_runner<Stream>::end_transport(const link_ptr& l, std::error_code why) {
  // A planned end (the session closed, the accessory leaving its SoftAP, a newer connection)
  // says so with a TLS close_notify, or the peer reports "data may have been cut off". Not to
  // a dead peer or over a vanished interface (nobody would read it), and never in the middle
  // of a write (a record cut in two); bounded, so a peer that stopped reading costs nothing.
  const bool planned = why != core::channel_errc::peer_dead && why != asio::error::network_down;
  if (!planned || l->writing) {
    std::error_code ignored;
    l->stream->next_layer().close(ignored);
    return;
  }
  auto limit = std::make_shared<asio::steady_timer>(ex_, close_notify_limit);
  limit->async_wait([l](std::error_code ec) {
    std::error_code ignored;
    if (!ec) l->stream->next_layer().close(ignored);
  });
  l->stream->async_shutdown([l, limit](std::error_code) {
    limit->cancel();
    std::error_code ignored;
    l->stream->next_layer().shutdown(asio::socket_base::shutdown_both, ignored);
    l->stream->next_layer().close(ignored);
  });
}

template <class Stream>
void basic_session_runner<Stream>::rearm() {
  core::session::time_point d = session_.next_deadline();
  if (d == core::session::time_point::max()) {
    if (armed_at_) {
      armed_at_.reset();
      ++timer_gen_;
      timer_.cancel();
    }
    return;
  }
  if (armed_at_ && *armed_at_ == d) return;
  armed_at_ = d;
  timer_.expires_at(d);
  timer_.async_wait([self = this->shared_from_this(), gen = ++timer_gen_](std::error_code ec) {
    if (ec == asio::error::operation_aborted || self->stopped_ || gen != self->timer_gen_) return;
    self->armed_at_.reset();
    self->session_.handle_deadline(now());
    self->after();
  });
}

} // namespace lanyard::channel::detail
