#include "lanyard/link/shared_path_monitor.hpp"

#include "event_queue.hpp"
#include "monitor_engine.hpp"
#include "wait_cancellation.hpp"

#include <asio/error.hpp>
#include <asio/execution/context.hpp>
#include <asio/execution_context.hpp>
#include <asio/query.hpp>

#include <mutex>

namespace lanyard::link {
namespace {

// What the subscribers of one context share. The last one to let go closes the socket at
// once: the engine itself lives on until its pending socket wait returns (it holds itself).
struct hub {
  explicit hub(std::shared_ptr<detail::monitor_engine> e) : engine(std::move(e)) {}
  ~hub() { engine->stop(); }
  hub(const hub&) = delete;
  hub& operator=(const hub&) = delete;
  std::shared_ptr<detail::monitor_engine> engine;
};

// One per execution context (asio keeps it in the context's service registry and destroys it
// with the context), so a context's monitor is found without a global table keyed by address
// (an address a destroyed io_context may leave to a new one). It holds the hub weakly: the
// subscribers own it.
class monitor_service final : public asio::execution_context::service {
public:
  static asio::execution_context::id id;

  explicit monitor_service(asio::execution_context& ctx) : service(ctx) {}

  // The running hub, or a new one started on `ex`. A hub whose socket failed is not handed
  // out again: its subscribers have seen the error; a new one tries afresh.
  std::shared_ptr<hub> acquire(const asio::any_io_executor& ex, link_error& error) {
    std::lock_guard lock(mutex_);
    if (auto h = current_.lock(); h && !h->engine->failed()) return h;
    auto fresh = std::make_shared<hub>(
        std::make_shared<detail::monitor_engine>(ex, path_monitor_settings{}));
    if ((error = fresh->engine->start())) return nullptr; // ~hub closes what was opened
    current_ = fresh;
    return fresh;
  }

  std::size_t subscribers() {
    std::lock_guard lock(mutex_);
    return static_cast<std::size_t>(current_.use_count());
  }

private:
  void shutdown() override {}

  std::mutex mutex_;
  std::weak_ptr<hub> current_;
};

asio::execution_context::id monitor_service::id;

monitor_service& service_of(const asio::any_io_executor& ex) {
  return asio::use_service<monitor_service>(asio::query(ex, asio::execution::context));
}

} // namespace

struct shared_path_monitor::impl {
  impl(executor_type e, std::size_t max) : ex(std::move(e)), queue(max) {}
  executor_type ex;
  detail::event_queue queue;
  std::shared_ptr<hub> shared; // null while not subscribed
  std::uint64_t waits = 0;     // async_next_event calls so far (path_event_op::id)

  void cancel(std::uint64_t only) {
    if (shared)
      shared->engine->cancel(queue, only);
    else
      queue.cancel(only);
  }
};

shared_path_monitor::shared_path_monitor(executor_type ex, std::size_t max_queued_events)
    : impl_(std::make_shared<impl>(std::move(ex), max_queued_events)) {}

shared_path_monitor::~shared_path_monitor() {
  stop();
}

shared_path_monitor::executor_type shared_path_monitor::get_executor() const noexcept {
  return impl_->ex;
}

link_error shared_path_monitor::start() {
  if (impl_->shared) return {asio::error::already_started, "path monitor: already started"};
  link_error error;
  auto h = service_of(impl_->ex).acquire(impl_->ex, error);
  if (!h) return error;
  // A queue from an earlier subscription starts clean.
  impl_->queue.reset();
  h->engine->attach(impl_->queue, true);
  impl_->shared = std::move(h);
  return {};
}

void shared_path_monitor::stop() {
  auto h = std::move(impl_->shared);
  if (!h) {
    impl_->queue.finish(asio::error::operation_aborted);
    return;
  }
  h->engine->detach(impl_->queue);
  impl_->queue.finish(asio::error::operation_aborted);
  // `h` goes here: the socket closes if this was the last subscriber.
}

void shared_path_monitor::cancel() {
  impl_->cancel(0);
}

void shared_path_monitor::start_wait(std::unique_ptr<detail::path_event_op> op) {
  op->id = ++impl_->waits;
  detail::arm_cancellation(*op, impl_->ex, [w = std::weak_ptr<impl>(impl_), id = op->id] {
    if (auto i = w.lock()) i->cancel(id);
  });
  if (impl_->shared) return impl_->shared->engine->wait(impl_->queue, std::move(op));
  // Not subscribed: the queue's stream has ended (or never began): abort, through the executor.
  impl_->queue.finish(asio::error::operation_aborted);
  impl_->queue.wait(std::move(op));
}

bool shared_path_monitor::ready() const noexcept {
  return impl_->shared && impl_->shared->engine->ready();
}

std::vector<network_interface> shared_path_monitor::interfaces() const {
  if (!impl_->shared) return {};
  return impl_->shared->engine->interfaces();
}

std::optional<network_interface> shared_path_monitor::find(std::uint32_t index) const {
  if (!impl_->shared) return std::nullopt;
  return impl_->shared->engine->find(index);
}

std::optional<network_interface> shared_path_monitor::find(std::string_view name) const {
  if (!impl_->shared) return std::nullopt;
  return impl_->shared->engine->find(name);
}

bool shared_path_monitor::available(std::uint32_t index) const {
  return impl_->shared && impl_->shared->engine->available(index);
}

std::vector<default_route> shared_path_monitor::default_routes() const {
  if (!impl_->shared) return {};
  return impl_->shared->engine->default_routes();
}

std::size_t shared_path_monitor::subscribers(const executor_type& ex) {
  return service_of(ex).subscribers();
}

} // namespace lanyard::link
