// The AvahiPoll adapter against real descriptors (pipes) and real timers on an io_context,
// checked against the semantics documented in avahi-common/watch.h.
#include "discovery/asio_avahi_poll.hpp"

#include <catch2/catch.hpp>

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <fcntl.h>
#include <sys/time.h>
#include <unistd.h>
#include <vector>

using lanyard::discovery::detail::asio_avahi_poll;

namespace {

struct pipe_pair {
  int fds[2] = {-1, -1};
  pipe_pair() { REQUIRE(::pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0); }
  ~pipe_pair() {
    for (int fd : fds)
      if (fd >= 0) ::close(fd);
  }
  int read_end() const { return fds[0]; }
  int write_end() const { return fds[1]; }
  void write_byte() const { REQUIRE(::write(fds[1], "x", 1) == 1); }
  void drain() const {
    char buf[64];
    while (::read(fds[0], buf, sizeof buf) > 0) {
    }
  }
  void close_write() {
    ::close(fds[1]);
    fds[1] = -1;
  }
};

struct watch_log {
  const AvahiPoll* api = nullptr;
  std::vector<int> events;     // events passed to the callback
  std::vector<int> get_events; // watch_get_events() during the callback
  int fd_seen = -1;
  bool drain = true;
  bool free_in_callback = false;
  bool disable_in_callback = false;
  int read_fd = -1;
};

void watch_cb(AvahiWatch* w, int fd, AvahiWatchEvent event, void* userdata) {
  auto* log = static_cast<watch_log*>(userdata);
  log->events.push_back(event);
  log->get_events.push_back(log->api->watch_get_events(w));
  log->fd_seen = fd;
  if (log->drain && log->read_fd >= 0) {
    char buf[64];
    while (::read(log->read_fd, buf, sizeof buf) > 0) {
    }
  }
  if (log->disable_in_callback) log->api->watch_update(w, static_cast<AvahiWatchEvent>(0));
  if (log->free_in_callback) log->api->watch_free(w);
}

struct timeout_log {
  const AvahiPoll* api = nullptr;
  int fired = 0;
  bool rearm_once = false;
  bool free_in_callback = false;
};

void timeout_cb(AvahiTimeout* t, void* userdata) {
  auto* log = static_cast<timeout_log*>(userdata);
  ++log->fired;
  if (log->rearm_once) {
    log->rearm_once = false;
    struct timeval tv;
    ::gettimeofday(&tv, nullptr);
    log->api->timeout_update(t, &tv);
  }
  if (log->free_in_callback) log->api->timeout_free(t);
}

// Runs the io_context until it has nothing left to do or `limit` handlers ran.
void run_some(asio::io_context& io, int limit = 1000) {
  io.restart();
  for (int i = 0; i < limit && io.poll_one() > 0; ++i) {
  }
}

} // namespace

TEST_CASE("a readable descriptor reports AVAHI_WATCH_IN, never inside watch_new") {
  asio::io_context io;
  asio_avahi_poll poll(io.get_executor());
  const AvahiPoll* api = poll.get();
  pipe_pair p;
  p.write_byte();
  watch_log log;
  log.api = api;
  log.read_fd = p.read_end();
  AvahiWatch* w = api->watch_new(api, p.read_end(), AVAHI_WATCH_IN, watch_cb, &log);
  REQUIRE(w != nullptr);
  CHECK(log.events.empty()); // already readable, but no callback from inside watch_new
  run_some(io);
  REQUIRE(log.events.size() == 1);
  CHECK(log.events[0] == AVAHI_WATCH_IN);
  CHECK(log.get_events[0] == AVAHI_WATCH_IN);
  CHECK(log.fd_seen == p.read_end());
  CHECK(api->watch_get_events(w) == 0); // only meaningful during the callback

  // Drained: nothing more until the next byte, which is seen again (the watch re-arms).
  run_some(io);
  CHECK(log.events.size() == 1);
  p.write_byte();
  run_some(io);
  CHECK(log.events.size() == 2);
  api->watch_free(w);
  CHECK(poll.live_watches() == 0);
}

TEST_CASE("a callback that leaves data unread is called again (edge-triggered reactor)") {
  asio::io_context io;
  asio_avahi_poll poll(io.get_executor());
  const AvahiPoll* api = poll.get();
  pipe_pair p;
  watch_log log;
  log.api = api;
  log.drain = false; // read nothing: the descriptor stays readable
  AvahiWatch* w = api->watch_new(api, p.read_end(), AVAHI_WATCH_IN, watch_cb, &log);
  p.write_byte();
  io.restart();
  for (int i = 0; i < 50 && log.events.size() < 3; ++i)
    io.run_one();
  CHECK(log.events.size() >= 3);
  api->watch_free(w);
  run_some(io);
}

TEST_CASE("two watches on one descriptor (read and write, as libdbus does) both work") {
  asio::io_context io;
  asio_avahi_poll poll(io.get_executor());
  const AvahiPoll* api = poll.get();
  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
  watch_log rlog, wlog;
  rlog.api = api;
  wlog.api = api;
  rlog.read_fd = sv[0];
  wlog.disable_in_callback = true; // like libdbus once its queue is flushed
  AvahiWatch* rw = api->watch_new(api, sv[0], AVAHI_WATCH_IN, watch_cb, &rlog);
  AvahiWatch* ww = api->watch_new(api, sv[0], AVAHI_WATCH_OUT, watch_cb, &wlog);
  REQUIRE(rw != nullptr);
  REQUIRE(ww != nullptr);
  run_some(io);
  CHECK(wlog.events.size() == 1); // writable at once, then disabled by the callback
  CHECK(wlog.events.at(0) == AVAHI_WATCH_OUT);
  CHECK(rlog.events.empty());
  REQUIRE(::write(sv[1], "y", 1) == 1);
  run_some(io);
  CHECK(rlog.events.size() == 1);
  CHECK(wlog.events.size() == 1);
  // Re-enabling the write watch reports writability again.
  api->watch_update(ww, AVAHI_WATCH_OUT);
  run_some(io);
  CHECK(wlog.events.size() == 2);
  api->watch_free(rw);
  api->watch_free(ww);
  ::close(sv[0]);
  ::close(sv[1]);
}

TEST_CASE("watch_update to no events stops callbacks; back to IN resumes them") {
  asio::io_context io;
  asio_avahi_poll poll(io.get_executor());
  const AvahiPoll* api = poll.get();
  pipe_pair p;
  watch_log log;
  log.api = api;
  log.read_fd = p.read_end();
  AvahiWatch* w = api->watch_new(api, p.read_end(), AVAHI_WATCH_IN, watch_cb, &log);
  api->watch_update(w, static_cast<AvahiWatchEvent>(0));
  p.write_byte();
  run_some(io);
  CHECK(log.events.empty());
  api->watch_update(w, AVAHI_WATCH_IN);
  run_some(io);
  CHECK(log.events.size() == 1);
  api->watch_free(w);
}

TEST_CASE("a hang-up is reported with AVAHI_WATCH_HUP") {
  asio::io_context io;
  asio_avahi_poll poll(io.get_executor());
  const AvahiPoll* api = poll.get();
  pipe_pair p;
  watch_log log;
  log.api = api;
  log.read_fd = p.read_end();
  log.free_in_callback = true; // as Avahi does on HUP; also: freeing inside the callback is safe
  api->watch_new(api, p.read_end(), AVAHI_WATCH_IN, watch_cb, &log);
  p.close_write();
  run_some(io);
  REQUIRE(log.events.size() == 1);
  CHECK((log.events[0] & AVAHI_WATCH_HUP) != 0);
  CHECK(poll.live_watches() == 0);
}

TEST_CASE("a freed watch never calls back, even with a wait already completed") {
  asio::io_context io;
  asio_avahi_poll poll(io.get_executor());
  const AvahiPoll* api = poll.get();
  pipe_pair p;
  watch_log log;
  log.api = api;
  AvahiWatch* w = api->watch_new(api, p.read_end(), AVAHI_WATCH_IN, watch_cb, &log);
  p.write_byte();
  api->watch_free(w);
  run_some(io);
  CHECK(log.events.empty());
}

TEST_CASE("timeouts: absolute wall-clock time, fire once, NULL disables, update re-enables") {
  asio::io_context io;
  asio_avahi_poll poll(io.get_executor());
  const AvahiPoll* api = poll.get();
  timeout_log log;
  log.api = api;
  struct timeval now;
  ::gettimeofday(&now, nullptr);

  AvahiTimeout* t = api->timeout_new(api, &now, timeout_cb, &log);
  REQUIRE(t != nullptr);
  CHECK(log.fired == 0); // not inside timeout_new
  io.run_one();
  CHECK(log.fired == 1);
  run_some(io);
  CHECK(log.fired == 1); // disabled after expiring

  api->timeout_update(t, &now); // a time in the past fires at once
  api->timeout_update(t, nullptr);
  run_some(io);
  CHECK(log.fired == 1); // the disabled expiry is dropped

  log.rearm_once = true; // re-enabling from inside the callback
  api->timeout_update(t, &now);
  io.restart();
  io.run_one();
  io.run_one();
  CHECK(log.fired == 3);
  api->timeout_free(t);
  CHECK(poll.live_timeouts() == 0);
}

TEST_CASE("a timeout in the future waits for its time; freeing it cancels") {
  asio::io_context io;
  asio_avahi_poll poll(io.get_executor());
  const AvahiPoll* api = poll.get();
  timeout_log log;
  log.api = api;
  struct timeval tv;
  ::gettimeofday(&tv, nullptr);
  tv.tv_sec += 3600;
  AvahiTimeout* far = api->timeout_new(api, &tv, timeout_cb, &log);
  run_some(io);
  CHECK(log.fired == 0);
  api->timeout_free(far);

  timeout_log log2;
  log2.api = api;
  log2.free_in_callback = true;
  ::gettimeofday(&tv, nullptr);
  tv.tv_usec += 20000;
  api->timeout_new(api, nullptr, timeout_cb, &log); // NULL: never fires
  api->timeout_new(api, &tv, timeout_cb, &log2);
  // Stop when log2 has fired; the disabled one keeps nothing queued, so run() would not return.
  io.restart();
  while (log2.fired == 0)
    io.run_one();
  CHECK(log2.fired == 1);
  CHECK(log.fired == 0);
  CHECK(poll.live_timeouts() == 1); // the NULL one, still allocated until freed
}
