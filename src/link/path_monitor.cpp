#include "lanyard/link/path_monitor.hpp"

#include "interface_table.hpp"
#include "netlink.hpp"

#include <asio/error.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>

#include <cerrno>
#include <cstring>
#include <deque>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

namespace lanyard::link {
namespace {

using clock = std::chrono::steady_clock;

std::error_code errno_code(int e) {
  return {e, std::system_category()};
}

link_error netlink_error(std::string_view what, int e) {
  return {make_error_code(link_errc::netlink_failed),
          "rtnetlink: " + std::string(what) + " failed: " + std::strerror(e)};
}

/// Opens a NETLINK_ROUTE socket subscribed to `groups` (0: none), non-blocking if asked.
int open_netlink(std::uint32_t groups, std::size_t rcvbuf, bool nonblocking, link_error& error) {
  int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0),
                    NETLINK_ROUTE);
  if (fd < 0) {
    error = netlink_error("socket(AF_NETLINK, NETLINK_ROUTE)", errno);
    return -1;
  }
  int size = static_cast<int>(rcvbuf);
  // SO_RCVBUFFORCE ignores rmem_max but needs CAP_NET_ADMIN; SO_RCVBUF is capped by it.
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  int one = 1;
  // Tells the kernel to reject requests it does not understand instead of guessing.
  ::setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof one);
  sockaddr_nl sa{};
  sa.nl_family = AF_NETLINK;
  sa.nl_groups = groups;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    error = netlink_error("bind", errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

constexpr std::uint16_t dump_type(interface_table::dump d) {
  return d == interface_table::dump::links       ? RTM_GETLINK
         : d == interface_table::dump::addresses ? RTM_GETADDR
                                                 : RTM_GETROUTE;
}

/// Feeds parsed messages to the table; tracks the end (or failure) of the dump `seq`.
struct table_visitor final : netlink::visitor {
  interface_table& table;
  std::vector<path_event>& out;
  clock::time_point now;
  std::uint32_t dump_seq = 0; // 0: no dump running
  bool done = false;
  bool interrupted = false;
  int error = 0;

  table_visitor(interface_table& t, std::vector<path_event>& o, clock::time_point n)
      : table(t), out(o), now(n) {}

  void note(const netlink::header& h) {
    if (dump_seq != 0 && h.seq == dump_seq && (h.flags & NLM_F_DUMP_INTR)) interrupted = true;
  }
  void on_link(const netlink::header& h, const netlink::link_message& m) override {
    note(h);
    table.apply(m, now, out);
  }
  void on_address(const netlink::header& h, const netlink::address_message& m) override {
    note(h);
    table.apply(m, now, out);
  }
  void on_route(const netlink::header& h, const netlink::route_message& m) override {
    note(h);
    table.apply(m, now, out);
  }
  void on_done(const netlink::header& h) override {
    note(h);
    if (dump_seq != 0 && h.seq == dump_seq) done = true;
  }
  void on_error(const netlink::header& h, int e) override {
    if (dump_seq != 0 && h.seq == dump_seq && e != 0) {
      error = -e;
      done = true;
    }
  }
};

} // namespace

struct path_monitor::impl : std::enable_shared_from_this<impl> {
  executor_type ex;
  path_monitor_settings settings;
  interface_table table;
  asio::posix::stream_descriptor socket;
  asio::steady_timer timer;
  clock::time_point armed = clock::time_point::max();
  std::deque<path_event> queue;
  bool lost = false;
  std::unique_ptr<detail::path_event_op> waiter;
  std::vector<std::byte> rx = std::vector<std::byte>(64 * 1024);
  std::deque<interface_table::dump> dumps; // pending, front is running when dump_seq != 0
  std::uint32_t dump_seq = 0;
  std::uint32_t next_seq = 1;
  bool started = false;
  bool stopped = false;
  bool initial = true;
  std::error_code failure;

  impl(executor_type e, path_monitor_settings s)
      : ex(e), settings(std::move(s)), table(settings.debounce, settings.resolve_kind), socket(e),
        timer(e) {}

  void push(std::vector<path_event>& events) {
    for (auto& ev : events) {
      if (queue.size() >= settings.max_queued_events) {
        queue.pop_front();
        lost = true;
      }
      queue.push_back(std::move(ev));
    }
    events.clear();
    deliver();
  }

  void deliver() {
    if (!waiter) return;
    if (lost) {
      lost = false;
      path_event ev;
      ev.type = path_event_type::events_lost;
      ev.time = clock::now();
      std::exchange(waiter, nullptr)->complete({}, std::move(ev));
    } else if (!queue.empty()) {
      auto ev = std::move(queue.front());
      queue.pop_front();
      std::exchange(waiter, nullptr)->complete({}, std::move(ev));
    } else if (failure) {
      std::exchange(waiter, nullptr)->complete(failure, {});
    } else if (stopped) {
      std::exchange(waiter, nullptr)->complete(asio::error::operation_aborted, {});
    }
  }

  void fail(std::error_code ec) {
    if (!failure) failure = ec;
    close();
    deliver();
  }

  void close() {
    std::error_code ignored;
    socket.close(ignored);
    timer.cancel();
    armed = clock::time_point::max();
  }

  void queue_dump(interface_table::dump d) {
    if (std::find(dumps.begin() + (dump_seq != 0 ? 1 : 0), dumps.end(), d) == dumps.end())
      dumps.push_back(d);
  }

  void start_next_dump() {
    if (dump_seq != 0 || dumps.empty() || stopped) return;
    const auto d = dumps.front();
    table.begin_dump(d);
    dump_seq = next_seq++;
    if (next_seq == 0) next_seq = 1;
    auto req = netlink::dump_request(dump_type(d), AF_UNSPEC, dump_seq);
    if (::send(socket.native_handle(), req.data(), req.size(), 0) < 0) fail(errno_code(errno));
  }

  void read() {
    socket.async_wait(asio::posix::stream_descriptor::wait_read,
                      [self = shared_from_this()](std::error_code ec) { self->on_readable(ec); });
  }

  void on_readable(std::error_code ec) {
    if (stopped) return;
    if (ec) return fail(ec);
    std::vector<path_event> events;
    for (;;) {
      sockaddr_nl from{};
      iovec iov{rx.data(), rx.size()};
      msghdr msg{};
      msg.msg_name = &from;
      msg.msg_namelen = sizeof from;
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      const ssize_t n = ::recvmsg(socket.native_handle(), &msg, MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        if (errno == ENOBUFS) {
          // The kernel dropped notifications: re-read everything and report the differences.
          // A dump that was running is now unreliable too.
          if (dump_seq != 0) {
            dumps.pop_front();
            dump_seq = 0;
          }
          queue_dump(interface_table::dump::links);
          queue_dump(interface_table::dump::addresses);
          queue_dump(interface_table::dump::routes);
          continue;
        }
        return fail(errno_code(errno));
      }
      if (from.nl_pid != 0) continue; // only the kernel may tell us about interfaces
      if (msg.msg_flags & MSG_TRUNC) {
        // A message larger than 64 KiB cannot happen with rtnetlink today; treat it like an
        // overrun rather than trusting a cut message.
        queue_dump(interface_table::dump::links);
        queue_dump(interface_table::dump::addresses);
        continue;
      }
      table_visitor v(table, events, clock::now());
      v.dump_seq = dump_seq;
      netlink::parse(std::span<const std::byte>(rx.data(), static_cast<std::size_t>(n)), v);
      if (v.done && dump_seq != 0) finish_dump(v, events);
      if (failure) return;
    }
    start_next_dump();
    if (stopped) return;
    push(events);
    arm_timer();
    read();
  }

  void finish_dump(const table_visitor& v, std::vector<path_event>& events) {
    const auto d = dumps.front();
    dumps.pop_front();
    dump_seq = 0;
    if (v.error == EBUSY || v.interrupted) {
      dumps.push_front(d); // the kernel was busy or the data changed under the dump: again
      return;
    }
    if (v.error != 0) return fail(errno_code(v.error));
    table.end_dump(d, v.now, events);
    if (initial && dumps.empty()) {
      initial = false;
      table.initial_dump_complete();
      path_event ev;
      ev.type = path_event_type::snapshot_complete;
      ev.time = v.now;
      events.push_back(std::move(ev));
    }
  }

  void arm_timer() {
    const auto next = table.next_deadline();
    if (next == armed) return;
    armed = next;
    if (next == clock::time_point::max()) {
      timer.cancel();
      return;
    }
    timer.expires_at(next);
    timer.async_wait([self = shared_from_this(), next](std::error_code ec) {
      if (ec || self->stopped || self->armed != next) return;
      self->armed = clock::time_point::max();
      std::vector<path_event> events;
      self->table.handle_deadline(clock::now(), events);
      self->push(events);
      self->arm_timer();
    });
  }
};

path_monitor::path_monitor(executor_type ex, path_monitor_settings settings)
    : impl_(std::make_shared<impl>(ex, std::move(settings))) {}

path_monitor::~path_monitor() {
  stop();
}

path_monitor::executor_type path_monitor::get_executor() const noexcept {
  return impl_->ex;
}

link_error path_monitor::start() {
  auto& s = *impl_;
  if (s.started) return {asio::error::already_started, "path monitor: already started"};
  link_error error;
  const std::uint32_t groups =
      RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE;
  int fd = open_netlink(groups, s.settings.receive_buffer_bytes, true, error);
  if (fd < 0) return error;
  std::error_code ec;
  s.socket.assign(fd, ec);
  if (ec) {
    ::close(fd);
    return {make_error_code(link_errc::netlink_failed), "rtnetlink: " + ec.message()};
  }
  s.started = true;
  s.dumps = {interface_table::dump::links, interface_table::dump::addresses,
             interface_table::dump::routes};
  s.start_next_dump();
  if (s.failure)
    return {make_error_code(link_errc::netlink_failed),
            "rtnetlink: dump request failed: " + s.failure.message()};
  s.read();
  return {};
}

void path_monitor::stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  impl_->close();
  impl_->deliver();
}

void path_monitor::cancel() {
  if (impl_->waiter)
    std::exchange(impl_->waiter, nullptr)->complete(asio::error::operation_aborted, {});
}

void path_monitor::start_wait(std::unique_ptr<detail::path_event_op> op) {
  if (impl_->waiter) {
    op->complete(asio::error::in_progress, {});
    return;
  }
  impl_->waiter = std::move(op);
  impl_->deliver();
}

bool path_monitor::ready() const noexcept {
  return impl_->table.initial_complete();
}

std::vector<network_interface> path_monitor::interfaces() const {
  return impl_->table.interfaces();
}

std::optional<network_interface> path_monitor::find(std::uint32_t index) const {
  if (auto* i = impl_->table.find(index)) return *i;
  return std::nullopt;
}

std::optional<network_interface> path_monitor::find(std::string_view name) const {
  if (auto* i = impl_->table.find(name)) return *i;
  return std::nullopt;
}

bool path_monitor::available(std::uint32_t index) const {
  return impl_->table.available(index);
}

std::vector<default_route> path_monitor::default_routes() const {
  return impl_->table.default_routes();
}

std::vector<network_interface> query_interfaces(link_error& error) {
  error = {};
  int fd = open_netlink(0, 1 << 20, false, error);
  if (fd < 0) return {};
  timeval tv{2, 0}; // the kernel answers at once; never hang a caller on a broken socket
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  interface_table table({}, {});
  std::vector<path_event> ignored;
  std::vector<std::byte> rx(64 * 1024);
  std::uint32_t seq = 1;
  for (auto d : {interface_table::dump::links, interface_table::dump::addresses}) {
    for (int attempt = 0;; ++attempt) {
      table.begin_dump(d);
      auto req = netlink::dump_request(dump_type(d), AF_UNSPEC, ++seq);
      if (::send(fd, req.data(), req.size(), 0) < 0) {
        error = netlink_error("send", errno);
        ::close(fd);
        return {};
      }
      table_visitor v(table, ignored, clock::now());
      v.dump_seq = seq;
      while (!v.done) {
        const ssize_t n = ::recv(fd, rx.data(), rx.size(), 0);
        if (n < 0) {
          if (errno == EINTR) continue;
          error = netlink_error("recv", errno);
          ::close(fd);
          return {};
        }
        netlink::parse(std::span<const std::byte>(rx.data(), static_cast<std::size_t>(n)), v);
      }
      if ((v.interrupted || v.error == EBUSY) && attempt < 5) continue;
      if (v.error != 0) {
        error = netlink_error("dump", v.error);
        ::close(fd);
        return {};
      }
      table.end_dump(d, v.now, ignored);
      break;
    }
  }
  ::close(fd);
  return table.interfaces();
}

} // namespace lanyard::link
