/// @file
/// The handshake timeouts of every tls::stream on one execution context, kept by one timer.
///
/// Why not a timer per handshake: arming a steady_timer costs a timerfd_settime whenever it is
/// the earliest, and cancelling it when the handshake completes queues an aborted handler and
/// one more turn of the reactor. A resumed handshake takes about 0.1 ms and paid about 4.5 µs
/// (both ends) for a timeout that practically never fires (docs/PERFORMANCE.md § Handshake).
/// Here a handshake enters a list when it starts and leaves it when it completes: a lock and
/// a few pointer updates, no system call.
///
/// Why a thread and not one timer in the io_context: a pending timer wait is outstanding work,
/// so io_context::run() would not return while it is armed (up to a whole timeout after the
/// last handshake), and cancelling it whenever the list empties costs what this saves. The
/// watcher thread (one per execution context, started on first use, joined when the context
/// shuts down; asio's resolver does the same) sleeps until the earliest deadline and is woken
/// only when an earlier one arrives, which with one timeout for every stream is once per
/// timeout period at most, not once per handshake.
///
/// An expired handshake is never touched from that thread: its expiry is posted to its
/// stream's executor, where it cancels the next layer exactly as a timer of the stream's own
/// did, so a stream on a strand stays on its strand. While a handshake is pending its socket
/// operation keeps the context running, so the posted expiry always runs.
///
/// Internal to tls::stream (detail); documented here because stream.hpp is a header template.
#pragma once

#include <asio/execution_context.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>

namespace lanyard::tls::detail {

/// One handshake being timed. Owned (shared) by its handshake operation and, while its expiry
/// is in flight, by that posted expiry, which may run after the operation completed: `active`
/// says whether the operation still wants it. `active` and `fired` are only touched on the
/// stream's executor.
class handshake_watch : public std::enable_shared_from_this<handshake_watch> {
public:
  using clock = std::chrono::steady_clock;
  /// Posts the expiry to the stream's executor (set by the stream; `owner` is the stream).
  using expire_fn = void (*)(handshake_watch&);

  handshake_watch(clock::time_point deadline, void* owner, expire_fn expire) noexcept
      : deadline_(deadline), owner_(owner), expire_(expire) {}

  bool active = true; ///< the handshake operation has not completed
  bool fired = false; ///< the deadline passed while it was active

  void* owner() const noexcept { return owner_; }

private:
  friend class handshake_deadlines;
  clock::time_point deadline_;
  void* owner_;
  expire_fn expire_;
  // The deadlines' list (guarded by handshake_deadlines' mutex).
  handshake_watch* prev_ = nullptr;
  handshake_watch* next_ = nullptr;
  bool listed_ = false;
};

/// The execution context's handshake deadlines (an asio service: one per execution context,
/// created on first use). Thread-safe.
class handshake_deadlines : public asio::execution_context::service {
public:
  using key_type = handshake_deadlines;
  static asio::execution_context::id id;

  explicit handshake_deadlines(asio::execution_context& context);
  ~handshake_deadlines() override;

  /// Starts timing `w` (its deadline was given at construction). May throw std::system_error
  /// if the watcher thread cannot be started (the first time only).
  void add(handshake_watch& w);
  /// Stops timing `w` (idempotent; a no-op once its expiry was posted).
  void remove(handshake_watch& w) noexcept;

  /// Handshakes being timed (tests).
  std::size_t size() const;
  /// Times the watcher thread was woken early for an earlier deadline (tests: once per
  /// handshake is what this design avoids).
  std::uint64_t wakeups() const;

private:
  using clock = handshake_watch::clock;

  void shutdown() override;
  void unlink_locked(handshake_watch& w) noexcept;
  void watch(); // the watcher thread

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::thread thread_;
  bool stopping_ = false;
  handshake_watch* head_ = nullptr;
  std::size_t size_ = 0;
  clock::time_point sleeping_until_ = clock::time_point::max();
  std::uint64_t wakeups_ = 0;
};

} // namespace lanyard::tls::detail
