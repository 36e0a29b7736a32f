#include <lanyard/relay/mqtt_client.hpp>

#include <lanyard/core/backoff.hpp>

#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>

#include <mosquitto.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <mutex>
#include <optional>
#include <random>
#include <vector>

namespace lanyard::relay {

std::string_view to_string(mqtt_state s) noexcept {
  switch (s) {
  case mqtt_state::stopped:
    return "stopped";
  case mqtt_state::connecting:
    return "connecting";
  case mqtt_state::connected:
    return "connected";
  case mqtt_state::waiting:
    return "waiting";
  }
  return "unknown";
}

namespace {

// libmosquitto's MOSQ_ERR_* as this library's codes.
std::error_code from_mosquitto(int rc) noexcept {
  switch (rc) {
  case MOSQ_ERR_SUCCESS:
    return {};
  case MOSQ_ERR_NOMEM:
    return mqtt_errc::no_memory;
  case MOSQ_ERR_NO_CONN:
    return mqtt_errc::not_connected;
  case MOSQ_ERR_TLS:
  case MOSQ_ERR_TLS_HANDSHAKE:
    return mqtt_errc::tls_failed;
  case MOSQ_ERR_CONN_REFUSED:
    return mqtt_errc::refused;
  case MOSQ_ERR_AUTH:
  case MOSQ_ERR_ACL_DENIED:
    return mqtt_errc::not_authorized;
  case MOSQ_ERR_PROTOCOL:
  case MOSQ_ERR_MALFORMED_PACKET:
  case MOSQ_ERR_DUPLICATE_PROPERTY:
  case MOSQ_ERR_QOS_NOT_SUPPORTED:
  case MOSQ_ERR_OVERSIZE_PACKET:
    return mqtt_errc::protocol;
  case MOSQ_ERR_INVAL:
  case MOSQ_ERR_PAYLOAD_SIZE:
  case MOSQ_ERR_MALFORMED_UTF8:
  case MOSQ_ERR_NOT_SUPPORTED:
    return mqtt_errc::bad_settings;
  default: // CONN_LOST, ERRNO, KEEPALIVE, EAI, ...
    return mqtt_errc::connection_lost;
  }
}

} // namespace

struct mqtt_client::impl : std::enable_shared_from_this<impl> {
  impl(asio::any_io_executor ex, mqtt_settings s)
      : settings(std::move(s)), misc_timer(ex), retry_timer(ex), executor(std::move(ex)),
        backoff({settings.backoff_initial, settings.backoff_cap}), rng(std::random_device{}()) {}

  ~impl() {
    detach_socket();
    if (mosq) mosquitto_destroy(mosq); // closes the socket
  }

  mqtt_settings settings;
  asio::steady_timer misc_timer, retry_timer;
  asio::any_io_executor executor;
  core::backoff backoff;
  std::mt19937_64 rng;
  mosquitto* mosq = nullptr;
  bool ever_connected = false; // connect_async once, then reconnect_async

  // The descriptor is libmosquitto's socket, watched but never closed here (release()): the
  // socket changes on every connection. `gen` tells a stale wait's completion from a live one.
  std::optional<asio::posix::stream_descriptor> sd;
  int fd = -1;
  unsigned gen = 0;
  bool reading = false, writing = false;
  // Between connecting and the broker's CONNACK: the TCP connection may still be pending
  // (watch for writable, then SO_ERROR) and TLS handshaking (libmosquitto continues the
  // handshake from mosquitto_loop_read(), whichever way the socket became ready).
  bool handshaking = false, tcp_pending = false;
  std::chrono::steady_clock::time_point connect_started{};

  mqtt_state st = mqtt_state::stopped;
  std::vector<std::string> subscriptions;
  message_handler on_msg;
  state_handler on_st;
  // Set by libmosquitto's callbacks during a loop call, looked at after it returns.
  bool lost = false;
  std::error_code refusal;

  void set_state(mqtt_state s, std::error_code why = {}) {
    st = s;
    if (on_st) on_st(s, why);
  }

  std::error_code create() {
    static std::once_flag init;
    std::call_once(init, [] { mosquitto_lib_init(); });
    if (mosq) return {};
    mosq = mosquitto_new(nullptr, true, this);
    if (!mosq) return mqtt_errc::no_memory;
    mosquitto_connect_callback_set(mosq, &impl::connected_cb);
    mosquitto_disconnect_callback_set(mosq, &impl::disconnected_cb);
    mosquitto_message_callback_set(mosq, &impl::message_cb);
    if (int rc =
            mosquitto_username_pw_set(mosq, settings.username.c_str(), settings.password.c_str()))
      return from_mosquitto(rc);
    // The broker's certificate must chain to the CA and name the host (tls_insecure stays
    // false); TLS 1.2 at least.
    if (mosquitto_tls_set(mosq, settings.ca_file.c_str(), nullptr, nullptr, nullptr, nullptr))
      return mqtt_errc::bad_settings;
    if (int rc = mosquitto_tls_opts_set(mosq, 1, "tlsv1.2", nullptr)) return from_mosquitto(rc);
    // A tunnel's TLS records are small and interactive: Nagle's algorithm against the peer's
    // delayed acknowledgement cost ~40 ms per direction (88 ms echoes on loopback). The broker
    // wants the same (mosquitto: set_tcp_nodelay true; docs/design/relay.md).
    (void)mosquitto_int_option(mosq, MOSQ_OPT_TCP_NODELAY, 1);
    return {};
  }

  // --- libmosquitto's callbacks (inside mosquitto_loop_*) ------------------------------------
  static void connected_cb(mosquitto*, void* obj, int rc) {
    auto* self = static_cast<impl*>(obj);
    if (rc != 0) {
      // CONNACK 4 (bad user name or password) and 5 (not authorised); 1-3 otherwise.
      self->refusal = rc == 4 || rc == 5 ? mqtt_errc::not_authorized : mqtt_errc::refused;
      return;
    }
    self->handshaking = false;
    self->backoff.reset();
    for (const std::string& t : self->subscriptions)
      mosquitto_subscribe(self->mosq, nullptr, t.c_str(), 1);
    self->set_state(mqtt_state::connected);
  }
  static void disconnected_cb(mosquitto*, void* obj, int) { static_cast<impl*>(obj)->lost = true; }
  static void message_cb(mosquitto*, void* obj, const mosquitto_message* m) {
    auto* self = static_cast<impl*>(obj);
    if (!self->on_msg || !m->topic) return;
    const auto* p = static_cast<const std::uint8_t*>(m->payload);
    self->on_msg(m->topic, std::span<const std::uint8_t>(p, p ? std::size_t(m->payloadlen) : 0));
  }

  // --- connecting ------------------------------------------------------------------------------
  void connect() {
    if (st == mqtt_state::stopped) return;
    lost = false;
    refusal.clear();
    set_state(mqtt_state::connecting);
    const int keepalive = static_cast<int>(std::max<std::int64_t>(5, settings.keepalive.count()));
    const int rc = ever_connected ? mosquitto_reconnect_async(mosq)
                                  : mosquitto_connect_async(mosq, settings.host.c_str(),
                                                            settings.port, keepalive);
    ever_connected = true;
    if (rc != MOSQ_ERR_SUCCESS) return fail(from_mosquitto(rc));
    const int s = mosquitto_socket(mosq);
    if (s < 0) return fail(mqtt_errc::connection_lost);
    sd.emplace(executor, s);
    fd = s;
    ++gen;
    handshaking = tcp_pending = true;
    connect_started = std::chrono::steady_clock::now();
    arm();
    arm_misc();
  }

  void detach_socket() {
    if (sd) {
      std::error_code ignored;
      sd->cancel(ignored);
      (void)sd->release();
      sd.reset();
    }
    fd = -1;
    ++gen;
    reading = writing = false;
  }

  // The connection failed: wait (backoff with full jitter) and connect again.
  void fail(std::error_code why) {
    detach_socket();
    misc_timer.cancel();
    handshaking = tcp_pending = false;
    if (st == mqtt_state::stopped) return;
    set_state(mqtt_state::waiting, why);
    if (st == mqtt_state::stopped) return; // the handler stopped it
    retry_timer.expires_after(backoff.next_delay(rng()));
    retry_timer.async_wait([self = shared_from_this()](std::error_code ec) {
      if (!ec) self->connect();
    });
  }

  // --- the socket ------------------------------------------------------------------------------
  void arm() {
    if (!sd) return;
    const unsigned g = gen;
    if (!reading) {
      reading = true;
      sd->async_wait(asio::posix::stream_descriptor::wait_read,
                     [self = shared_from_this(), g](std::error_code ec) {
                       if (g != self->gen) return;
                       self->reading = false;
                       if (!ec) self->ready(false);
                     });
    }
    if (!writing && (tcp_pending || mosquitto_want_write(mosq))) {
      writing = true;
      sd->async_wait(asio::posix::stream_descriptor::wait_write,
                     [self = shared_from_this(), g](std::error_code ec) {
                       if (g != self->gen) return;
                       self->writing = false;
                       if (!ec) self->ready(true);
                     });
    }
  }

  // While handshaking, a socket error or the peer's close would otherwise wake the loop again
  // and again (libmosquitto's TLS connect reports a syscall error as "try again").
  std::error_code socket_failed() const {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err != 0)
      return mqtt_errc::connection_lost;
    char b;
    const ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) return mqtt_errc::connection_lost;
    return {};
  }

  void ready(bool writable) {
    int rc = MOSQ_ERR_SUCCESS;
    if (handshaking) {
      if (std::error_code ec = socket_failed()) return fail(ec);
      if (writable) tcp_pending = false;
      rc = mosquitto_loop_read(mosq, 1); // continues TLS while connecting, else reads
      if (rc == MOSQ_ERR_SUCCESS && !lost && mosquitto_socket(mosq) == fd)
        rc = mosquitto_loop_write(mosq, 1);
    } else {
      rc = writable ? mosquitto_loop_write(mosq, 1) : mosquitto_loop_read(mosq, 1);
    }
    after(rc);
  }

  void after(int rc) {
    if (st == mqtt_state::stopped) return;
    if (rc != MOSQ_ERR_SUCCESS || lost || refusal || mosquitto_socket(mosq) != fd) {
      std::error_code why = refusal ? refusal : from_mosquitto(rc);
      if (!why) why = mqtt_errc::connection_lost;
      return fail(why);
    }
    arm();
  }

  // Keep-alive and time-outs: libmosquitto's PINGREQ and its check for the broker's answer
  // (mosquitto_loop_misc), and a bound on connecting.
  void arm_misc() {
    misc_timer.expires_after(std::chrono::milliseconds(500));
    misc_timer.async_wait([self = shared_from_this(), g = gen](std::error_code ec) {
      if (ec || g != self->gen || !self->sd) return;
      const auto limit = std::min<std::chrono::steady_clock::duration>(
          std::chrono::seconds(15), self->settings.keepalive + std::chrono::seconds(5));
      if (self->handshaking && std::chrono::steady_clock::now() - self->connect_started > limit)
        return self->fail(mqtt_errc::connection_lost);
      self->after(mosquitto_loop_misc(self->mosq));
      if (self->sd && g == self->gen) self->arm_misc();
    });
  }
};

mqtt_client::mqtt_client(asio::any_io_executor executor, mqtt_settings settings)
    : impl_(std::make_shared<impl>(std::move(executor), std::move(settings))) {}

mqtt_client::~mqtt_client() {
  stop();
  impl_->on_msg = nullptr;
  impl_->on_st = nullptr;
}

void mqtt_client::on_message(message_handler handler) {
  impl_->on_msg = std::move(handler);
}
void mqtt_client::on_state(state_handler handler) {
  impl_->on_st = std::move(handler);
}

std::error_code mqtt_client::start() {
  impl& i = *impl_;
  if (i.st != mqtt_state::stopped) return {};
  if (i.settings.host.empty() || i.settings.port == 0 || i.settings.ca_file.empty())
    return mqtt_errc::bad_settings;
  if (std::error_code ec = i.create()) return ec;
  i.st = mqtt_state::connecting;
  i.connect();
  return {};
}

void mqtt_client::stop() {
  impl& i = *impl_;
  if (i.st == mqtt_state::stopped) return;
  const bool had_socket = i.sd.has_value();
  i.st = mqtt_state::stopped;
  i.retry_timer.cancel();
  i.misc_timer.cancel();
  if (had_socket && i.mosq) {
    mosquitto_disconnect(i.mosq); // DISCONNECT, so the broker drops the session at once
    (void)mosquitto_loop_write(i.mosq, 1);
  }
  i.detach_socket();
  if (i.on_st) i.on_st(mqtt_state::stopped, {});
}

std::error_code mqtt_client::subscribe(std::string topic_filter) {
  impl& i = *impl_;
  if (mosquitto_sub_topic_check(topic_filter.c_str()) != MOSQ_ERR_SUCCESS)
    return mqtt_errc::bad_settings;
  if (std::find(i.subscriptions.begin(), i.subscriptions.end(), topic_filter) !=
      i.subscriptions.end())
    return {};
  i.subscriptions.push_back(std::move(topic_filter));
  if (i.st == mqtt_state::connected) {
    if (int rc = mosquitto_subscribe(i.mosq, nullptr, i.subscriptions.back().c_str(), 1))
      return from_mosquitto(rc);
    i.arm();
  }
  return {};
}

std::error_code mqtt_client::publish(std::string_view topic,
                                     std::span<const std::uint8_t> payload) {
  impl& i = *impl_;
  const std::string t(topic);
  if (mosquitto_pub_topic_check(t.c_str()) != MOSQ_ERR_SUCCESS) return mqtt_errc::bad_settings;
  if (payload.size() > 268435455) return mqtt_errc::bad_settings;
  if (i.st != mqtt_state::connected) return mqtt_errc::not_connected;
  if (int rc = mosquitto_publish(i.mosq, nullptr, t.c_str(), static_cast<int>(payload.size()),
                                 payload.data(), 1, false))
    return from_mosquitto(rc);
  i.arm();
  return {};
}

mqtt_state mqtt_client::state() const noexcept {
  return impl_->st;
}
asio::any_io_executor mqtt_client::get_executor() const noexcept {
  return impl_->executor;
}

} // namespace lanyard::relay
