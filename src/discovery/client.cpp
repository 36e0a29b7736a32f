#include "lanyard/discovery/client.hpp"

#include "asio_avahi_poll.hpp"

#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <avahi-client/client.h>
#include <avahi-common/error.h>

#include <algorithm>
#include <vector>

namespace lanyard::discovery {

struct client::impl : std::enable_shared_from_this<impl> {
  explicit impl(const executor_type& ex) : executor(ex), poll(ex), retry(ex) {}

  executor_type executor;
  detail::asio_avahi_poll poll;
  asio::steady_timer retry; // re-creates the client when the bus is missing
  std::chrono::milliseconds retry_delay{250};
  AvahiClient* avahi = nullptr; // current AvahiClient (may be CONNECTING)
  bool running = false;         // AVAHI_CLIENT_S_RUNNING reached on `avahi`
  bool closing = false;
  std::error_code status = discovery_errc::daemon_unavailable;
  std::uint64_t generation = 0;
  std::function<void(std::error_code)> status_handler;
  std::vector<detail::client_listener*> listeners;

  void set_status(std::error_code ec) {
    if (ec == status) return;
    status = ec;
    if (status_handler) {
      auto h = status_handler; // the handler may replace itself
      h(ec);
    }
  }

  // Listeners may add or remove listeners while being told: iterate over a copy and skip
  // those removed meanwhile.
  template <class F>
  void each_listener(F f) {
    auto copy = listeners;
    for (auto* l : copy)
      if (std::find(listeners.begin(), listeners.end(), l) != listeners.end()) f(l);
  }

  void create() {
    if (closing) return;
    int error = 0;
    ++generation;
    running = false;
    // With NO_FAIL a missing daemon is not an error: the client waits in CONNECTING. The
    // callback already runs inside avahi_client_new() (before it returns the pointer), which
    // is why it works on its `c` argument.
    AvahiClient* c =
        avahi_client_new(poll.get(), AVAHI_CLIENT_NO_FAIL, &impl::callback, this, &error);
    if (!c) {
      // Only the bus itself can make NO_FAIL fail: retry with a growing delay (≤ 5 s).
      avahi = nullptr;
      set_status(discovery_errc::bus_unavailable);
      retry.expires_after(retry_delay);
      retry_delay = std::min(retry_delay * 2, std::chrono::milliseconds(5000));
      retry.async_wait([w = weak_from_this()](const std::error_code& ec) {
        if (ec) return;
        if (auto self = w.lock()) self->create();
      });
      return;
    }
    retry_delay = std::chrono::milliseconds(250);
    avahi = c;
  }

  void lost(AvahiClient* c) {
    const bool was_running = running;
    running = false;
    avahi = c;
    std::error_code reason = discovery_errc::daemon_unavailable;
    if (was_running) each_listener([&](detail::client_listener* l) { l->avahi_lost(reason); });
    set_status(reason);
    // Freeing a client inside its own callback is not allowed: do it from the queue, then
    // start over (NO_FAIL waits for the daemon to come back).
    asio::post(executor, [w = weak_from_this(), c] {
      auto self = w.lock();
      if (!self) return;
      if (self->avahi == c) {
        self->avahi = nullptr;
        avahi_client_free(c);
        self->create();
      }
    });
  }

  static void callback(AvahiClient* c, AvahiClientState state, void* userdata) {
    auto* self = static_cast<impl*>(userdata);
    if (self->closing) return;
    switch (state) {
    case AVAHI_CLIENT_S_RUNNING:
      self->avahi = c;
      self->running = true;
      self->set_status({});
      self->each_listener([&](detail::client_listener* l) { l->avahi_running(c); });
      break;
    case AVAHI_CLIENT_S_REGISTERING:
    case AVAHI_CLIENT_S_COLLISION:
      // The host is (re)registering: entry groups must be reset and re-added once running.
      if (self->running)
        self->each_listener([](detail::client_listener* l) { l->avahi_registering(); });
      break;
    case AVAHI_CLIENT_CONNECTING:
      self->avahi = c;
      if (self->running) {
        self->lost(c);
      } else {
        self->set_status(discovery_errc::daemon_unavailable);
      }
      break;
    case AVAHI_CLIENT_FAILURE:
      // AVAHI_ERR_DISCONNECTED: the daemon went away (or the bus did). Either way, drop
      // everything and build a new client.
      self->lost(c);
      break;
    }
  }
};

client::client(const executor_type& executor) : impl_(std::make_shared<impl>(executor)) {
  impl_->create();
}

client::~client() {
  impl_->closing = true;
  impl_->retry.cancel();
  if (impl_->avahi) {
    avahi_client_free(impl_->avahi);
    impl_->avahi = nullptr;
  }
}

client::executor_type client::get_executor() const noexcept {
  return impl_->executor;
}

std::error_code client::status() const noexcept {
  return impl_->status;
}

void client::on_status(std::function<void(std::error_code)> handler) {
  impl_->status_handler = std::move(handler);
}

std::string client::host_name() const {
  if (!impl_->running || !impl_->avahi) return {};
  const char* name = avahi_client_get_host_name(impl_->avahi);
  return name ? name : "";
}

std::uint64_t client::generation() const noexcept {
  return impl_->generation;
}

AvahiClient* client::native_handle() const noexcept {
  return impl_->running ? impl_->avahi : nullptr;
}

void client::add_listener(detail::client_listener* l) {
  impl_->listeners.push_back(l);
  if (!impl_->running) return;
  // Never call back from inside add_listener(): tell it from the queue, if still relevant.
  asio::post(impl_->executor, [w = impl_->weak_from_this(), l, gen = impl_->generation] {
    auto self = w.lock();
    if (!self || !self->running || self->generation != gen) return;
    if (std::find(self->listeners.begin(), self->listeners.end(), l) == self->listeners.end())
      return;
    l->avahi_running(self->avahi);
  });
}

void client::remove_listener(detail::client_listener* l) {
  auto& v = impl_->listeners;
  v.erase(std::remove(v.begin(), v.end(), l), v.end());
}

} // namespace lanyard::discovery
