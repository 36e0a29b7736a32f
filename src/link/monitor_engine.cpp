#include "monitor_engine.hpp"

#include "rtnetlink_dump.hpp"

#include <asio/error.hpp>

#include <algorithm>
#include <cerrno>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

namespace lanyard::link::detail {

monitor_engine::monitor_engine(asio::any_io_executor ex, path_monitor_settings settings)
    : ex_(ex), settings_(std::move(settings)), table_(settings_.debounce, settings_.resolve_kind),
      socket_(ex), timer_(ex) {}

link_error monitor_engine::start() {
  std::lock_guard lock(mutex_);
  if (started_) return {asio::error::already_started, "path monitor: already started"};
  link_error error;
  const std::uint32_t groups =
      RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE;
  int fd = open_netlink(groups, settings_.receive_buffer_bytes, true, error);
  if (fd < 0) return error;
  std::error_code ec;
  socket_.assign(fd, ec);
  if (ec) {
    ::close(fd);
    return {make_error_code(link_errc::netlink_failed), "rtnetlink: " + ec.message()};
  }
  started_ = true;
  dumps_ = {interface_table::dump::links, interface_table::dump::addresses,
            interface_table::dump::routes};
  start_next_dump();
  if (failure_)
    return {make_error_code(link_errc::netlink_failed),
            "rtnetlink: dump request failed: " + failure_.message()};
  read();
  return {};
}

void monitor_engine::stop() {
  std::lock_guard lock(mutex_);
  if (stopped_) return;
  stopped_ = true;
  close();
  for (auto* q : consumers_)
    q->finish(asio::error::operation_aborted);
}

bool monitor_engine::failed() const {
  std::lock_guard lock(mutex_);
  return bool(failure_);
}

void monitor_engine::attach(event_queue& q, bool replay) {
  std::lock_guard lock(mutex_);
  consumers_.push_back(&q);
  if (!replay) return;
  std::vector<path_event> events;
  const auto now = clock::now();
  table_.replay(now, events);
  if (table_.initial_complete()) {
    path_event ev;
    ev.type = path_event_type::snapshot_complete;
    ev.time = now;
    events.push_back(std::move(ev));
  }
  for (auto& ev : events)
    q.push(std::move(ev));
  if (failure_) q.finish(failure_);
  q.deliver();
}

void monitor_engine::detach(event_queue& q) {
  std::lock_guard lock(mutex_);
  std::erase(consumers_, &q);
}

void monitor_engine::wait(event_queue& q, std::unique_ptr<path_event_op> op) {
  std::lock_guard lock(mutex_);
  q.wait(std::move(op));
}

void monitor_engine::cancel(event_queue& q, std::uint64_t only) {
  std::lock_guard lock(mutex_);
  q.cancel(only);
}

void monitor_engine::finish(event_queue& q, std::error_code why) {
  std::lock_guard lock(mutex_);
  q.finish(why);
}

bool monitor_engine::ready() const {
  std::lock_guard lock(mutex_);
  return table_.initial_complete();
}

std::vector<network_interface> monitor_engine::interfaces() const {
  std::lock_guard lock(mutex_);
  return table_.interfaces();
}

std::optional<network_interface> monitor_engine::find(std::uint32_t index) const {
  std::lock_guard lock(mutex_);
  if (auto* i = table_.find(index)) return *i;
  return std::nullopt;
}

std::optional<network_interface> monitor_engine::find(std::string_view name) const {
  std::lock_guard lock(mutex_);
  if (auto* i = table_.find(name)) return *i;
  return std::nullopt;
}

bool monitor_engine::available(std::uint32_t index) const {
  std::lock_guard lock(mutex_);
  return table_.available(index);
}

std::vector<default_route> monitor_engine::default_routes() const {
  std::lock_guard lock(mutex_);
  return table_.default_routes();
}

// Everything below runs with mutex_ held.

void monitor_engine::push(std::vector<path_event>& events) {
  for (auto* q : consumers_) {
    for (const auto& ev : events)
      q->push(ev);
    q->deliver();
  }
  events.clear();
}

void monitor_engine::fail(std::error_code ec) {
  if (!failure_) failure_ = ec;
  close();
  for (auto* q : consumers_)
    q->finish(failure_);
}

void monitor_engine::close() {
  std::error_code ignored;
  socket_.close(ignored);
  timer_.cancel();
  armed_ = clock::time_point::max();
}

void monitor_engine::queue_dump(interface_table::dump d) {
  if (std::find(dumps_.begin() + (dump_seq_ != 0 ? 1 : 0), dumps_.end(), d) == dumps_.end())
    dumps_.push_back(d);
}

void monitor_engine::start_next_dump() {
  if (dump_seq_ != 0 || dumps_.empty() || stopped_) return;
  const auto d = dumps_.front();
  table_.begin_dump(d);
  dump_seq_ = next_seq_++;
  if (next_seq_ == 0) next_seq_ = 1;
  auto req = netlink::dump_request(dump_type(d), AF_UNSPEC, dump_seq_);
  if (::send(socket_.native_handle(), req.data(), req.size(), 0) < 0) fail(errno_code(errno));
}

void monitor_engine::read() {
  socket_.async_wait(asio::posix::stream_descriptor::wait_read,
                     [self = shared_from_this()](std::error_code ec) { self->on_readable(ec); });
}

void monitor_engine::on_readable(std::error_code ec) {
  std::lock_guard lock(mutex_);
  if (stopped_) return;
  if (ec) return fail(ec);
  std::vector<path_event> events;
  for (;;) {
    sockaddr_nl from{};
    iovec iov{rx_.data(), rx_.size()};
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    const ssize_t n = ::recvmsg(socket_.native_handle(), &msg, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == ENOBUFS) {
        // The kernel dropped notifications: re-read everything and report the differences.
        // A dump that was running is now unreliable too.
        if (dump_seq_ != 0) {
          dumps_.pop_front();
          dump_seq_ = 0;
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
    table_visitor v(table_, events, clock::now());
    v.dump_seq = dump_seq_;
    netlink::parse(std::span<const std::byte>(rx_.data(), static_cast<std::size_t>(n)), v);
    if (v.done && dump_seq_ != 0) finish_dump(v.interrupted, v.error, v.now, events);
    if (failure_) return;
  }
  start_next_dump();
  if (stopped_) return;
  push(events); // before the failure, if the next dump request failed
  if (failure_) return;
  arm_timer();
  read();
}

void monitor_engine::finish_dump(bool interrupted, int error, clock::time_point now,
                                 std::vector<path_event>& events) {
  const auto d = dumps_.front();
  dumps_.pop_front();
  dump_seq_ = 0;
  if (error == EBUSY || interrupted) {
    dumps_.push_front(d); // the kernel was busy or the data changed under the dump: again
    return;
  }
  if (error != 0) return fail(errno_code(error));
  table_.end_dump(d, now, events);
  if (initial_ && dumps_.empty()) {
    initial_ = false;
    table_.initial_dump_complete();
    path_event ev;
    ev.type = path_event_type::snapshot_complete;
    ev.time = now;
    events.push_back(std::move(ev));
  }
}

void monitor_engine::arm_timer() {
  const auto next = table_.next_deadline();
  if (next == armed_) return;
  armed_ = next;
  if (next == clock::time_point::max()) {
    timer_.cancel();
    return;
  }
  timer_.expires_at(next);
  timer_.async_wait(
      [self = shared_from_this(), next](std::error_code ec) { self->on_timer(next, ec); });
}

void monitor_engine::on_timer(clock::time_point deadline, std::error_code ec) {
  std::lock_guard lock(mutex_);
  if (ec || stopped_ || armed_ != deadline) return;
  armed_ = clock::time_point::max();
  std::vector<path_event> events;
  table_.handle_deadline(clock::now(), events);
  push(events);
  arm_timer();
}

} // namespace lanyard::link::detail
