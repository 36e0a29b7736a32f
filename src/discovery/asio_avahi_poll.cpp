#include "asio_avahi_poll.hpp"

#include <asio/posix/stream_descriptor.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <cerrno>
#include <chrono>
#include <fcntl.h>
#include <poll.h>
#include <sys/time.h>
#include <unistd.h>
#include <unordered_map>

// Avahi declares these opaque; the poll implementation defines them.
struct AvahiWatch : std::enable_shared_from_this<AvahiWatch> {
  AvahiWatch(const asio::any_io_executor& ex, int dup_fd) : descriptor(ex, dup_fd) {}
  asio::posix::stream_descriptor descriptor; // owns a dup() of `fd`
  int fd = -1;                               // the descriptor Avahi gave us
  int wanted = 0;                            // AvahiWatchEvent bits
  int happened = 0;                          // non-zero only during the callback
  AvahiWatchCallback callback = nullptr;
  void* userdata = nullptr;
  bool read_pending = false;
  bool write_pending = false;
  bool error_pending = false;
  bool alive = true;
  bool in_callback = false;
  lanyard::discovery::detail::asio_avahi_poll::state* owner = nullptr;
};

struct AvahiTimeout : std::enable_shared_from_this<AvahiTimeout> {
  explicit AvahiTimeout(const asio::any_io_executor& ex) : timer(ex) {}
  asio::steady_timer timer;
  AvahiTimeoutCallback callback = nullptr;
  void* userdata = nullptr;
  std::uint64_t generation = 0; // bumped on every update, so stale expiries are ignored
  bool armed = false;
  bool alive = true;
  lanyard::discovery::detail::asio_avahi_poll::state* owner = nullptr;
};

namespace lanyard::discovery::detail {

struct asio_avahi_poll::state {
  asio::any_io_executor executor;
  std::unordered_map<AvahiWatch*, std::shared_ptr<AvahiWatch>> watches;
  std::unordered_map<AvahiTimeout*, std::shared_ptr<AvahiTimeout>> timeouts;
};

namespace {

using state = asio_avahi_poll::state;

int poll_now(int fd, int events) {
  pollfd p{fd, static_cast<short>(events & (POLLIN | POLLOUT)), 0};
  int r;
  do
    r = ::poll(&p, 1, 0);
  while (r < 0 && errno == EINTR);
  return r > 0 ? p.revents : 0;
}

void arm(const std::shared_ptr<AvahiWatch>& w);

// Runs Avahi's callback if the descriptor is ready for something still wanted, then re-arms.
void dispatch_ready(const std::shared_ptr<AvahiWatch>& w) {
  if (!w->alive) return;
  int revents = poll_now(w->fd, w->wanted) & (w->wanted | POLLERR | POLLHUP);
  if (revents != 0 && w->wanted != 0) {
    w->happened = revents;
    w->in_callback = true;
    w->callback(w.get(), w->fd, static_cast<AvahiWatchEvent>(revents), w->userdata);
    w->in_callback = false;
    w->happened = 0;
    if (!w->alive) return;
    // asio's epoll reactor is edge-triggered: if the callback left the descriptor ready (libdbus
    // reads in chunks), a new wait would never complete. Go round again through the queue.
    if (poll_now(w->fd, w->wanted) & (w->wanted | POLLERR | POLLHUP)) {
      asio::post(w->descriptor.get_executor(), [w] { dispatch_ready(w); });
      return;
    }
  }
  arm(w);
}

void on_wait(const std::shared_ptr<AvahiWatch>& w, const std::error_code& ec) {
  if (!w->alive || ec == asio::error::operation_aborted) return;
  dispatch_ready(w);
}

void arm(const std::shared_ptr<AvahiWatch>& w) {
  using wait = asio::posix::stream_descriptor::wait_type;
  if ((w->wanted & AVAHI_WATCH_IN) && !w->read_pending) {
    w->read_pending = true;
    w->descriptor.async_wait(wait::wait_read, [w](const std::error_code& ec) {
      w->read_pending = false;
      on_wait(w, ec);
    });
  }
  if ((w->wanted & AVAHI_WATCH_OUT) && !w->write_pending) {
    w->write_pending = true;
    w->descriptor.async_wait(wait::wait_write, [w](const std::error_code& ec) {
      w->write_pending = false;
      on_wait(w, ec);
    });
  }
  if ((w->wanted & (AVAHI_WATCH_ERR | AVAHI_WATCH_HUP)) &&
      !(w->wanted & (AVAHI_WATCH_IN | AVAHI_WATCH_OUT)) && !w->error_pending) {
    w->error_pending = true;
    w->descriptor.async_wait(wait::wait_error, [w](const std::error_code& ec) {
      w->error_pending = false;
      on_wait(w, ec);
    });
  }
}

AvahiWatch* watch_new(const AvahiPoll* api, int fd, AvahiWatchEvent event,
                      AvahiWatchCallback callback, void* userdata) {
  auto* st = static_cast<state*>(api->userdata);
  int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return nullptr; // Avahi treats NULL as failure (out of descriptors)
  auto w = std::make_shared<AvahiWatch>(st->executor, copy);
  w->fd = fd;
  w->wanted = event;
  w->callback = callback;
  w->userdata = userdata;
  w->owner = st;
  st->watches.emplace(w.get(), w);
  // Arm through the queue: the callback must never run inside watch_new().
  arm(w);
  return w.get();
}

void watch_update(AvahiWatch* w, AvahiWatchEvent event) {
  w->wanted = event;
  // Waits for events no longer wanted stay queued and are ignored when they complete (asio
  // cannot cancel one direction of a descriptor's waits alone).
  if (w->in_callback) return; // dispatch_ready() re-arms after the callback
  auto self = w->shared_from_this();
  arm(self);
}

AvahiWatchEvent watch_get_events(AvahiWatch* w) {
  return static_cast<AvahiWatchEvent>(w->happened);
}

void release(AvahiWatch* w) {
  w->alive = false;
  std::error_code ignored;
  w->descriptor.cancel(ignored);
  w->descriptor.close(ignored); // closes only our dup
}

void watch_free(AvahiWatch* w) {
  auto* st = w->owner;
  release(w);
  // Pending handlers keep the object alive until they have run and seen alive == false.
  st->watches.erase(w);
}

std::chrono::microseconds delay_until(const struct timeval* tv) {
  struct timeval now;
  ::gettimeofday(&now, nullptr);
  long long us = (static_cast<long long>(tv->tv_sec) - now.tv_sec) * 1000000LL +
                 (static_cast<long long>(tv->tv_usec) - now.tv_usec);
  return std::chrono::microseconds(us > 0 ? us : 0);
}

void timeout_update(AvahiTimeout* t, const struct timeval* tv) {
  ++t->generation;
  t->armed = tv != nullptr;
  if (!tv) {
    t->timer.cancel();
    return;
  }
  t->timer.expires_after(delay_until(tv));
  t->timer.async_wait(
      [self = t->shared_from_this(), generation = t->generation](const std::error_code&) {
        // A stale or cancelled expiry (even one that completed successfully before a later
        // update) is recognised by its generation, not by the error code.
        if (!self->alive || !self->armed || generation != self->generation) return;
        self->armed = false; // Avahi: "after the timeout expired… the timeout is disabled"
        self->callback(self.get(), self->userdata);
      });
}

AvahiTimeout* timeout_new(const AvahiPoll* api, const struct timeval* tv,
                          AvahiTimeoutCallback callback, void* userdata) {
  auto* st = static_cast<state*>(api->userdata);
  auto t = std::make_shared<AvahiTimeout>(st->executor);
  t->callback = callback;
  t->userdata = userdata;
  t->owner = st;
  st->timeouts.emplace(t.get(), t);
  timeout_update(t.get(), tv);
  return t.get();
}

void timeout_free(AvahiTimeout* t) {
  auto* st = t->owner;
  t->alive = false;
  t->armed = false;
  t->timer.cancel();
  st->timeouts.erase(t);
}

} // namespace

asio_avahi_poll::asio_avahi_poll(const asio::any_io_executor& executor)
    : state_(std::make_shared<state>()) {
  state_->executor = executor;
  api_.userdata = state_.get();
  api_.watch_new = watch_new;
  api_.watch_update = watch_update;
  api_.watch_get_events = watch_get_events;
  api_.watch_free = watch_free;
  api_.timeout_new = timeout_new;
  api_.timeout_update = timeout_update;
  api_.timeout_free = timeout_free;
}

asio_avahi_poll::~asio_avahi_poll() {
  // Whatever Avahi did not free (it should have: free the client first) is disarmed so that no
  // queued handler calls back into freed Avahi state.
  for (auto& [raw, w] : state_->watches)
    release(raw);
  for (auto& [raw, t] : state_->timeouts) {
    t->alive = false;
    t->timer.cancel();
  }
}

const asio::any_io_executor& asio_avahi_poll::get_executor() const noexcept {
  return state_->executor;
}

std::size_t asio_avahi_poll::live_watches() const noexcept {
  return state_->watches.size();
}
std::size_t asio_avahi_poll::live_timeouts() const noexcept {
  return state_->timeouts.size();
}

} // namespace lanyard::discovery::detail
