#include <lanyard/tls/handshake_deadlines.hpp>

#include <algorithm>

namespace lanyard::tls::detail {

asio::execution_context::id handshake_deadlines::id;

handshake_deadlines::handshake_deadlines(asio::execution_context& context)
    : asio::execution_context::service(context) {}

handshake_deadlines::~handshake_deadlines() {
  shutdown();
}

void handshake_deadlines::shutdown() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    // The context's pending handlers (the operations owning these watches among them) are
    // destroyed without running: forget the watches rather than expire them.
    while (head_ != nullptr)
      unlink_locked(*head_);
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void handshake_deadlines::add(handshake_watch& w) {
  std::lock_guard lock(mutex_);
  if (stopping_) return; // the context is shutting down: nothing will run the expiry
  w.prev_ = nullptr;
  w.next_ = head_;
  if (head_ != nullptr) head_->prev_ = &w;
  head_ = &w;
  w.listed_ = true;
  ++size_;
  if (!thread_.joinable()) {
    thread_ = std::thread([this] { watch(); });
  } else if (w.deadline_ < sleeping_until_) {
    // Earlier than the watcher's wake-up: with one timeout for every stream, only a deadline
    // added while the watcher had nothing to wait for.
    sleeping_until_ = w.deadline_;
    ++wakeups_;
    wake_.notify_one();
  }
}

void handshake_deadlines::remove(handshake_watch& w) noexcept {
  std::lock_guard lock(mutex_);
  // The watcher is not woken: when it wakes it finds nothing due and sleeps until what is
  // left, which is cheaper than waking it on every completion.
  if (w.listed_) unlink_locked(w);
}

void handshake_deadlines::unlink_locked(handshake_watch& w) noexcept {
  if (w.prev_ != nullptr)
    w.prev_->next_ = w.next_;
  else
    head_ = w.next_;
  if (w.next_ != nullptr) w.next_->prev_ = w.prev_;
  w.prev_ = w.next_ = nullptr;
  w.listed_ = false;
  --size_;
}

void handshake_deadlines::watch() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    const auto now = clock::now();
    auto earliest = clock::time_point::max();
    for (handshake_watch* w = head_; w != nullptr;) {
      handshake_watch* next = w->next_;
      if (w->deadline_ <= now) {
        unlink_locked(*w);
        // Only posts (under the lock, so the operation owning `w` cannot complete and free it
        // meanwhile: it removes `w` under this lock first); the posted handler shares `w`.
        w->expire_(*w);
      } else {
        earliest = std::min(earliest, w->deadline_);
      }
      w = next;
    }
    sleeping_until_ = earliest;
    if (earliest == clock::time_point::max())
      wake_.wait(lock);
    else
      wake_.wait_until(lock, earliest);
  }
}

std::size_t handshake_deadlines::size() const {
  std::lock_guard lock(mutex_);
  return size_;
}

std::uint64_t handshake_deadlines::wakeups() const {
  std::lock_guard lock(mutex_);
  return wakeups_;
}

} // namespace lanyard::tls::detail
