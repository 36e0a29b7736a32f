/// @file
/// A type-erased, move-only, one-shot completion handler for the channel's asynchronous
/// operations, over its signature void(std::error_code, Args...) (asio 1.22 has no
/// any_completion_handler): async_send() completes a completion<std::uint64_t>
/// (send_completion.hpp), async_receive() a completion<core::message>. It keeps the handler's
/// executor busy (outstanding work) while the operation is pending. complete() goes through
/// asio::post on the handler's associated executor, so the handler never runs inside the
/// initiating call; dispatch() goes through asio::dispatch, for an operation that completes
/// from the I/O that finished it (a message read while its receive was waiting), as asio's own
/// socket operations complete: inline when that I/O runs on the handler's executor.
///
/// It also carries the handler's associated cancellation slot (per-operation cancellation,
/// e.g. `co_await (ch.async_send(...) || timer.async_wait(...))`): the owner of the pending
/// operation installs what a cancellation does with on_cancel(), and complete() removes it, so
/// the slot never outlives the operation.
///
/// Thread-safety: distinct objects safe, shared objects unsafe. Not part of the stable API.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/associated_cancellation_slot.hpp>
#include <asio/associated_executor.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/dispatch.hpp>
#include <asio/execution.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/prefer.hpp>

#include <memory>
#include <system_error>
#include <tuple>
#include <utility>

namespace lanyard::channel {

/// See the file comment. Completion signature: void(std::error_code, Args...).
template <class... Args>
class completion {
public:
  completion() noexcept = default;

  /// Wraps `handler`; `fallback` is used when the handler has no associated executor.
  template <class Handler>
  completion(Handler&& handler, const asio::any_io_executor& fallback)
      : slot_(asio::get_associated_cancellation_slot(handler)),
        impl_(std::make_unique<holder<std::decay_t<Handler>>>(std::forward<Handler>(handler),
                                                              fallback)) {}

  explicit operator bool() const noexcept { return impl_ != nullptr; }

  /// True if the caller bound a cancellation slot to the handler.
  bool cancellable() const noexcept { return slot_.is_connected(); }

  /// Installs `f`, called as f(asio::cancellation_type) when the caller emits a cancellation.
  /// It runs in the emitter's frame (possibly inside another handler): it should only post.
  template <class F>
  void on_cancel(F&& f) {
    if (slot_.is_connected()) slot_.assign(std::forward<F>(f));
  }

  /// Posts the handler with (ec, args...); afterwards this object is empty. No effect when
  /// empty.
  void complete(std::error_code ec, Args... args) {
    if (!impl_) return;
    if (slot_.is_connected()) slot_.clear(); // the operation is over: no more cancellation
    std::unique_ptr<base> p = std::move(impl_);
    p->finish(false, ec, std::move(args)...);
  }

  /// Invokes the handler with (ec, args...) through asio::dispatch: inline when the caller
  /// runs on the handler's executor. Never from the initiating call (use complete() there).
  /// Afterwards this object is empty. No effect when empty.
  void dispatch(std::error_code ec, Args... args) {
    if (!impl_) return;
    if (slot_.is_connected()) slot_.clear();
    std::unique_ptr<base> p = std::move(impl_);
    p->finish(true, ec, std::move(args)...);
  }

private:
  struct base {
    virtual ~base() = default;
    // Runs the handler through asio::dispatch (`inline_ok`) or asio::post.
    virtual void finish(bool inline_ok, std::error_code ec, Args... args) = 0;
  };

  template <class Handler>
  struct holder final : base {
    holder(Handler&& h, const asio::any_io_executor& fallback)
        : handler(std::move(h)), work(asio::prefer(asio::get_associated_executor(handler, fallback),
                                                   asio::execution::outstanding_work.tracked)) {}
    holder(const Handler& h, const asio::any_io_executor& fallback)
        : handler(h), work(asio::prefer(asio::get_associated_executor(handler, fallback),
                                        asio::execution::outstanding_work.tracked)) {}
    void finish(bool inline_ok, std::error_code ec, Args... args) override {
      asio::any_io_executor ex = std::move(work);
      // What asio::dispatch comes to when the executor is an io_context's and this thread runs
      // it: the handler, called here. Through the type-erased executor it would also wrap the
      // call in a type-erased function and a fence, per message taken (issue 14's 64-byte
      // message figure). The tracked work ends after the handler, as it would there.
      if (inline_ok)
        if (const auto* io = ex.target<tracked_io_executor>(); io && io->running_in_this_thread())
          return std::move(handler)(ec, std::move(args)...);
      auto run = [h = std::move(handler), ec, a = std::make_tuple(std::move(args)...)]() mutable {
        std::apply([&](auto&&... v) { std::move(h)(ec, std::move(v)...); }, std::move(a));
      };
      if (inline_ok)
        asio::dispatch(ex, std::move(run));
      else
        asio::post(ex, std::move(run));
    }
    Handler handler;
    asio::any_io_executor work;
  };

  // The type `work` holds when the handler runs on an io_context (holder's constructor).
  using tracked_io_executor = decltype(asio::prefer(std::declval<asio::io_context::executor_type>(),
                                                    asio::execution::outstanding_work.tracked));

  asio::cancellation_slot slot_;
  std::unique_ptr<base> impl_;
};

} // namespace lanyard::channel
