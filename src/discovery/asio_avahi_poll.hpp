// Avahi's main-loop abstraction (AvahiPoll) implemented on an asio executor, so that Avahi's
// D-Bus traffic is handled by the application's io_context with no thread of its own.
//
// Watches become asio::posix::stream_descriptor waits on a dup() of the descriptor (libdbus
// may watch one descriptor twice, for reading and for writing, and epoll cannot register the
// same descriptor twice); timeouts become asio::steady_timer (Avahi gives absolute wall-clock
// times; they are converted to a delay when set). Every Avahi callback runs from a handler on
// the executor, never from inside the AvahiPoll call that created or updated the watch.
//
// Thread-safety: an asio_avahi_poll and everything Avahi creates on it must be used from its
// executor only (one thread, or a strand). The AvahiClient using it must be freed first.
#pragma once

#include <asio/any_io_executor.hpp>
#include <avahi-common/watch.h>

#include <cstddef>
#include <memory>

namespace lanyard::discovery::detail {

class asio_avahi_poll {
public:
  explicit asio_avahi_poll(const asio::any_io_executor& executor);
  ~asio_avahi_poll();
  asio_avahi_poll(const asio_avahi_poll&) = delete;
  asio_avahi_poll& operator=(const asio_avahi_poll&) = delete;

  /// The AvahiPoll to pass to avahi_client_new(); valid while this object lives.
  const AvahiPoll* get() const noexcept { return &api_; }

  const asio::any_io_executor& get_executor() const noexcept;

  /// Watches and timeouts created and not yet freed (for leak checks in tests).
  std::size_t live_watches() const noexcept;
  std::size_t live_timeouts() const noexcept;

  struct state;

private:
  AvahiPoll api_{};
  std::shared_ptr<state> state_;
};

} // namespace lanyard::discovery::detail
