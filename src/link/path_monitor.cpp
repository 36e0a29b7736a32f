#include "lanyard/link/path_monitor.hpp"

#include "event_queue.hpp"
#include "interface_table.hpp"
#include "monitor_engine.hpp"
#include "netlink.hpp"
#include "rtnetlink_dump.hpp"
#include "wait_cancellation.hpp"

#include <cerrno>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

namespace lanyard::link {

using detail::netlink_error;

// A monitor of its own: an engine with this one consumer.
struct path_monitor::impl {
  impl(executor_type ex, path_monitor_settings settings)
      : queue(settings.max_queued_events),
        engine(std::make_shared<detail::monitor_engine>(ex, std::move(settings))) {
    engine->attach(queue, false);
  }
  ~impl() { engine->detach(queue); }
  detail::event_queue queue;
  std::shared_ptr<detail::monitor_engine> engine;
  std::uint64_t waits = 0; // async_next_event calls so far (path_event_op::id)
};

path_monitor::path_monitor(executor_type ex, path_monitor_settings settings)
    : impl_(std::make_shared<impl>(ex, std::move(settings))) {}

path_monitor::~path_monitor() {
  stop();
}

path_monitor::executor_type path_monitor::get_executor() const noexcept {
  return impl_->engine->get_executor();
}

link_error path_monitor::start() {
  return impl_->engine->start();
}

void path_monitor::stop() {
  if (impl_) impl_->engine->stop();
}

void path_monitor::cancel() {
  impl_->engine->cancel(impl_->queue);
}

void path_monitor::start_wait(std::unique_ptr<detail::path_event_op> op) {
  op->id = ++impl_->waits;
  detail::arm_cancellation(*op, get_executor(), [w = std::weak_ptr<impl>(impl_), id = op->id] {
    if (auto i = w.lock()) i->engine->cancel(i->queue, id);
  });
  impl_->engine->wait(impl_->queue, std::move(op));
}

bool path_monitor::ready() const noexcept {
  return impl_->engine->ready();
}

std::vector<network_interface> path_monitor::interfaces() const {
  return impl_->engine->interfaces();
}

std::optional<network_interface> path_monitor::find(std::uint32_t index) const {
  return impl_->engine->find(index);
}

std::optional<network_interface> path_monitor::find(std::string_view name) const {
  return impl_->engine->find(name);
}

bool path_monitor::available(std::uint32_t index) const {
  return impl_->engine->available(index);
}

std::vector<default_route> path_monitor::default_routes() const {
  return impl_->engine->default_routes();
}

std::vector<network_interface> query_interfaces(link_error& error) {
  error = {};
  int fd = detail::open_netlink(0, 1 << 20, false, error);
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
      auto req = netlink::dump_request(detail::dump_type(d), AF_UNSPEC, ++seq);
      if (::send(fd, req.data(), req.size(), 0) < 0) {
        error = netlink_error("send", errno);
        ::close(fd);
        return {};
      }
      detail::table_visitor v(table, ignored, std::chrono::steady_clock::now());
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
