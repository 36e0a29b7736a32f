// relay::tunnel_hub and relay::tunnel_stream (docs/design/relay.md, "The tunnel protocol").
#include <lanyard/relay/tunnel_hub.hpp>
#include <lanyard/relay/tunnel_stream.hpp>

#include <lanyard/crypto/error.hpp>
#include <lanyard/crypto/primitives.hpp>

#include <asio/error.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <deque>
#include <map>
#include <vector>

namespace lanyard::relay {

namespace detail {

struct hub_link; // what a tunnel needs of its hub: publishing, unregistering

struct tunnel {
  asio::any_io_executor ex;
  std::weak_ptr<hub_link> hub;
  core::relay_tunnel_id id{};
  std::string peer_topic; // where this end's frames go
  core::relay_sequence seq;
  std::optional<core::fingerprint> opened_by;
  std::vector<std::uint8_t> inbound; // received, not read yet
  std::size_t inbound_pos = 0;
  asio::mutable_buffer read_into;
  tunnel_stream::completion read_done;
  std::function<void(std::error_code)> wait_done; // channel::tunnel_io's readiness wait
  bool open = true;
  std::error_code end_reason;

  void complete_read(std::error_code ec, std::size_t n) {
    auto done = std::move(read_done);
    read_done = nullptr;
    asio::post(ex, [done = std::move(done), ec, n] { done(ec, n); });
  }
  void complete_wait(std::error_code ec) {
    auto done = std::move(wait_done);
    wait_done = nullptr;
    asio::post(ex, [done = std::move(done), ec] { done(ec); });
  }
  // Takes queued bytes: would_block when none are queued, the end's reason after the end.
  std::size_t take(asio::mutable_buffer into, std::error_code& ec) {
    ec.clear();
    if (inbound_pos == inbound.size()) {
      ec = open ? std::error_code(asio::error::would_block) : end_reason;
      return 0;
    }
    const std::size_t n = std::min(into.size(), inbound.size() - inbound_pos);
    std::memcpy(into.data(), inbound.data() + inbound_pos, n);
    inbound_pos += n;
    if (inbound_pos == inbound.size()) {
      inbound.clear();
      inbound_pos = 0;
    }
    return n;
  }
  void try_read() {
    if (read_done && (inbound_pos < inbound.size() || !open)) {
      std::error_code ec;
      const std::size_t n = take(read_into, ec);
      complete_read(ec, n);
    }
    if (wait_done && (inbound_pos < inbound.size() || !open)) complete_wait({});
  }
  // A pending read or wait ends with operation_aborted.
  void abort_waiting() {
    if (read_done) complete_read(asio::error::operation_aborted, 0);
    if (wait_done) complete_wait(asio::error::operation_aborted);
  }
  void deliver(std::span<const std::uint8_t> bytes) {
    inbound.insert(inbound.end(), bytes.begin(), bytes.end());
    try_read();
  }
  // The tunnel is over (what is already received can still be read).
  void end(std::error_code why) {
    if (!open) return;
    open = false;
    end_reason = why;
    try_read();
  }
};

struct hub_link {
  virtual ~hub_link() = default;
  virtual std::error_code publish(const std::string& topic,
                                  std::span<const std::uint8_t> frame) = 0;
  virtual void forget(const core::relay_tunnel_id& id) = 0;
};

} // namespace detail

namespace {

std::string topic_of(const core::relay_address& a, std::error_code& ec) {
  std::array<char, core::relay_max_topic_length> buf{};
  const std::size_t n = core::relay_topic(a, buf, ec);
  return ec ? std::string() : std::string(buf.data(), n);
}

// Sends CLOSE and lets the hub forget the tunnel.
void close_tunnel(detail::tunnel& t, std::error_code why) {
  const bool was_open = t.open;
  t.end(why);
  auto hub = t.hub.lock();
  if (!hub) return;
  if (was_open) {
    std::array<std::uint8_t, core::relay_header_size + 2> frame{};
    std::error_code ec;
    const std::size_t n = core::encode_relay_close(t.id, t.seq.next_out(), 0, frame, ec);
    if (!ec) (void)hub->publish(t.peer_topic, std::span(frame).first(n));
  }
  hub->forget(t.id);
}

} // namespace

// --- tunnel_stream ---------------------------------------------------------------------------

tunnel_stream::tunnel_stream(std::shared_ptr<detail::tunnel> t) noexcept : t_(std::move(t)) {}
tunnel_stream::~tunnel_stream() {
  if (!t_) return;
  t_->abort_waiting();
  close_tunnel(*t_, asio::error::operation_aborted);
}
tunnel_stream::tunnel_stream(tunnel_stream&&) noexcept = default;
tunnel_stream& tunnel_stream::operator=(tunnel_stream&& other) noexcept {
  if (this != &other) {
    if (t_) close_tunnel(*t_, asio::error::operation_aborted);
    t_ = std::move(other.t_);
  }
  return *this;
}

tunnel_stream::executor_type tunnel_stream::get_executor() const noexcept {
  return t_->ex;
}

void tunnel_stream::start_read(asio::mutable_buffer into, completion done) {
  detail::tunnel& t = *t_;
  if (t.read_done) {
    asio::post(t.ex, [done = std::move(done)] { done(asio::error::in_progress, 0); });
    return;
  }
  t.read_into = into;
  t.read_done = std::move(done);
  if (into.size() == 0) return t.complete_read({}, 0);
  t.try_read();
}

namespace {

// Publishes a prefix of `from` (at most one DATA frame) at once; returns its size.
std::size_t write_frame(detail::tunnel& t, asio::const_buffer from, std::error_code& ec) {
  ec.clear();
  auto hub = t.hub.lock();
  if (!t.open) {
    ec = t.end_reason ? t.end_reason : asio::error::not_connected;
    return 0;
  }
  if (!hub) {
    ec = asio::error::not_connected;
    return 0;
  }
  if (from.size() == 0) return 0;
  const std::size_t n = std::min(from.size(), core::relay_max_data);
  std::vector<std::uint8_t> frame(core::relay_header_size + n);
  const std::size_t size = core::encode_relay_data(
      t.id, t.seq.next_out(), {static_cast<const std::uint8_t*>(from.data()), n}, frame, ec);
  if (!ec) ec = hub->publish(t.peer_topic, std::span(frame).first(size));
  if (ec) {
    close_tunnel(t, ec);
    return 0;
  }
  return n;
}

} // namespace

void tunnel_stream::start_write(asio::const_buffer from, completion done) {
  std::error_code ec;
  const std::size_t n = write_frame(*t_, from, ec);
  asio::post(t_->ex, [done = std::move(done), ec, n] { done(ec, n); });
}

void tunnel_stream::cancel(std::error_code& ec) {
  ec.clear();
  if (t_) t_->abort_waiting();
}

void tunnel_stream::close(std::error_code& ec) {
  ec.clear();
  if (!t_) return;
  t_->abort_waiting();
  close_tunnel(*t_, asio::error::operation_aborted);
}

void tunnel_stream::shutdown(asio::socket_base::shutdown_type, std::error_code& ec) {
  close(ec);
}
bool tunnel_stream::is_open() const noexcept {
  return t_ && t_->open;
}
const core::relay_tunnel_id& tunnel_stream::id() const noexcept {
  return t_->id;
}
const std::optional<core::fingerprint>& tunnel_stream::opened_by() const noexcept {
  return t_->opened_by;
}

// --- channel::tunnel_io ------------------------------------------------------------------------

namespace {

class channel_tunnel final : public channel::tunnel_io {
public:
  channel_tunnel(tunnel_stream s, detail::tunnel* t) : s_(std::move(s)), t_(t) {}

  asio::any_io_executor get_executor() const override { return t_->ex; }
  std::size_t read_now(asio::mutable_buffer into, std::error_code& ec) override {
    return t_->take(into, ec);
  }
  std::size_t write_now(asio::const_buffer from, std::error_code& ec) override {
    return write_frame(*t_, from, ec);
  }
  void async_read_some(asio::mutable_buffer into, completion done) override {
    s_.async_read_some(into, std::move(done));
  }
  void async_write_some(asio::const_buffer from, completion done) override {
    s_.async_write_some(from, std::move(done));
  }
  void async_wait_readable(std::function<void(std::error_code)> done) override {
    if (t_->wait_done) {
      asio::post(t_->ex, [done = std::move(done)] { done(asio::error::in_progress); });
      return;
    }
    t_->wait_done = std::move(done);
    t_->try_read();
  }
  void post(std::function<void()> f) override { asio::post(t_->ex, std::move(f)); }
  void cancel() override { t_->abort_waiting(); }
  void close() override {
    std::error_code ignored;
    s_.close(ignored);
  }
  bool is_open() const override { return s_.is_open(); }
  std::string describe() const override {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out = "relay tunnel ";
    for (std::size_t i = 0; i < 4; ++i) {
      out += hex[t_->id[i] >> 4];
      out += hex[t_->id[i] & 0xf];
    }
    return out;
  }

private:
  tunnel_stream s_;
  detail::tunnel* t_;
};

} // namespace

std::unique_ptr<channel::tunnel_io> make_tunnel_io(tunnel_stream s) {
  detail::tunnel* t = s.t_.get();
  return std::make_unique<channel_tunnel>(std::move(s), t);
}

// --- tunnel_hub --------------------------------------------------------------------------------

struct tunnel_hub::impl final : detail::hub_link, std::enable_shared_from_this<impl> {
  impl(mqtt_client& m, relay_endpoint s, std::size_t max)
      : mqtt(m), self(std::move(s)), max_tunnels(max), random(crypto::system_random()) {}

  mqtt_client& mqtt;
  relay_endpoint self;
  std::size_t max_tunnels;
  asio::any_io_executor ex;
  crypto::random_source random;
  std::map<core::relay_tunnel_id, std::weak_ptr<detail::tunnel>> tunnels;
  struct pending {
    std::string accessory_topic;
    std::unique_ptr<asio::steady_timer> timer;
    open_handler done;
  };
  std::map<core::relay_tunnel_id, pending> opening;
  // Tunnel ids of recent OPENs (accepted or not): a replayed OPEN is dropped.
  std::deque<core::relay_tunnel_id> recent;
  static constexpr std::size_t recent_limit = 256;
  // OPEN checks cost one HMAC per paired controller, and anyone with an account on the broker
  // who knows the inbox can publish OPENs: a token bucket (burst 8, 4 a second) bounds that
  // work. A flood delays the owner's relay connection (its open is retried), nothing more.
  static constexpr double open_burst = 8, open_rate = 4;
  double open_tokens = open_burst;
  std::chrono::steady_clock::time_point open_refill = std::chrono::steady_clock::now();
  std::uint64_t opens_shed = 0;
  bool take_open_token() {
    const auto now = std::chrono::steady_clock::now();
    const double elapsed = std::chrono::duration<double>(now - open_refill).count();
    open_tokens = std::min(open_burst, open_tokens + open_rate * elapsed);
    open_refill = now;
    if (open_tokens < 1) {
      ++opens_shed;
      return false;
    }
    open_tokens -= 1;
    return true;
  }
  authenticator authenticate;
  accepted_handler accepted;
  mqtt_client::state_handler user_state;

  std::error_code publish(const std::string& topic, std::span<const std::uint8_t> frame) override {
    return mqtt.publish(topic, frame);
  }
  void forget(const core::relay_tunnel_id& id) override { tunnels.erase(id); }

  std::shared_ptr<detail::tunnel> make_tunnel(const core::relay_tunnel_id& id, std::string peer) {
    auto t = std::make_shared<detail::tunnel>();
    t->ex = ex;
    t->hub = std::static_pointer_cast<detail::hub_link>(shared_from_this());
    t->id = id;
    t->peer_topic = std::move(peer);
    tunnels[id] = t;
    return t;
  }

  void on_message(std::string_view, std::span<const std::uint8_t> payload) {
    core::relay_frame f;
    if (core::parse_relay_frame(payload, f)) return; // not a frame: nothing to answer
    switch (f.type) {
    case core::relay_frame_type::open:
      return on_open(f);
    case core::relay_frame_type::accept:
      return on_accept(f);
    case core::relay_frame_type::data:
    case core::relay_frame_type::close: {
      auto it = tunnels.find(f.tunnel);
      if (it == tunnels.end()) return;
      auto t = it->second.lock();
      if (!t) return (void)tunnels.erase(it);
      switch (t->seq.check_in(f.seq)) {
      case core::relay_sequence::verdict::duplicate:
        return; // QoS 1 redelivered it
      case core::relay_sequence::verdict::gap:
        return close_tunnel(*t, core::relay_errc::sequence_gap);
      case core::relay_sequence::verdict::deliver:
        break;
      }
      if (f.type == core::relay_frame_type::data) return t->deliver(f.data);
      t->end(asio::error::eof); // the peer closed: nothing more comes
      tunnels.erase(f.tunnel);
      return;
    }
    }
  }

  void on_open(const core::relay_frame& f) {
    if (!authenticate || tunnels.size() >= max_tunnels) return;
    if (std::find(recent.begin(), recent.end(), f.tunnel) != recent.end()) return;
    if (!take_open_token()) return;
    recent.push_back(f.tunnel);
    if (recent.size() > recent_limit) recent.pop_front();
    std::optional<core::fingerprint> who = authenticate(f);
    if (!who) return;
    std::error_code ec;
    std::string peer = topic_of(f.reply, ec);
    if (ec) return;
    std::array<std::uint8_t, core::relay_header_size> frame{};
    const std::size_t n = core::encode_relay_accept(f.tunnel, frame, ec);
    if (ec || publish(peer, std::span(frame).first(n))) return;
    auto t = make_tunnel(f.tunnel, std::move(peer));
    t->opened_by = who;
    if (accepted) accepted(tunnel_stream(std::move(t)));
  }

  void on_accept(const core::relay_frame& f) {
    auto it = opening.find(f.tunnel);
    if (it == opening.end()) return; // late, repeated or not ours
    pending p = std::move(it->second);
    opening.erase(it);
    p.timer->cancel();
    auto t = make_tunnel(f.tunnel, std::move(p.accessory_topic));
    p.done({}, tunnel_stream(std::move(t)));
  }

  void on_mqtt_state(mqtt_state s, std::error_code why) {
    if (s != mqtt_state::connected && s != mqtt_state::connecting) {
      const std::error_code reason = why ? why : std::error_code(mqtt_errc::connection_lost);
      auto all = std::move(tunnels);
      tunnels.clear();
      for (auto& [id, weak] : all)
        if (auto t = weak.lock()) t->end(reason);
      auto waiting = std::move(opening);
      opening.clear();
      for (auto& [id, p] : waiting) {
        p.timer->cancel();
        p.done(mqtt_errc::not_connected, std::nullopt);
      }
    }
    if (user_state) user_state(s, why);
  }
};

tunnel_hub::tunnel_hub(mqtt_client& mqtt, relay_endpoint self, std::size_t max_tunnels)
    : impl_(std::make_shared<impl>(mqtt, std::move(self), max_tunnels)) {}

tunnel_hub::~tunnel_hub() {
  impl_->mqtt.on_message(nullptr);
  impl_->mqtt.on_state(impl_->user_state);
  // The peers are told (CLOSE, while the MQTT connection is still there), and waiting opens
  // complete: nothing waits for a timeout that would never come.
  auto live = std::move(impl_->tunnels);
  impl_->tunnels.clear();
  for (auto& [id, weak] : live)
    if (auto t = weak.lock()) {
      t->abort_waiting();
      close_tunnel(*t, asio::error::operation_aborted);
    }
  auto waiting = std::move(impl_->opening);
  impl_->opening.clear();
  for (auto& [id, p] : waiting) {
    p.timer->cancel();
    asio::post(impl_->ex,
               [done = std::move(p.done)] { done(asio::error::operation_aborted, std::nullopt); });
  }
}

std::error_code tunnel_hub::start() {
  impl& i = *impl_;
  std::error_code ec;
  const std::string inbox = topic_of(i.self.view(), ec);
  if (ec) return ec;
  i.ex = i.mqtt.get_executor();
  std::weak_ptr<impl> weak = impl_;
  i.mqtt.on_message([weak](std::string_view topic, std::span<const std::uint8_t> payload) {
    if (auto s = weak.lock()) s->on_message(topic, payload);
  });
  i.mqtt.on_state([weak](mqtt_state st, std::error_code why) {
    if (auto s = weak.lock()) s->on_mqtt_state(st, why);
  });
  return i.mqtt.subscribe(inbox);
}

void tunnel_hub::on_state(mqtt_client::state_handler handler) {
  impl_->user_state = std::move(handler);
}

void tunnel_hub::set_acceptor(authenticator authenticate, accepted_handler accepted) {
  impl_->authenticate = std::move(authenticate);
  impl_->accepted = std::move(accepted);
}

void tunnel_hub::async_open(const relay_endpoint& accessory, const crypto::relay_key& key,
                            std::chrono::milliseconds timeout, open_handler done) {
  impl& i = *impl_;
  if (!i.ex) i.ex = i.mqtt.get_executor();
  const auto fail = [&](std::error_code ec) {
    asio::post(i.ex, [done, ec] { done(ec, std::nullopt); });
  };
  std::error_code ec;
  std::string topic = topic_of(accessory.view(), ec);
  if (ec) return fail(ec);
  core::relay_tunnel_id id{};
  std::array<std::uint8_t, core::relay_nonce_size> nonce{};
  if (!i.random.fill || i.random.fill(i.random.ctx, id.data(), id.size()) != 0 ||
      i.random.fill(i.random.ctx, nonce.data(), nonce.size()) != 0)
    return fail(crypto::crypto_errc::random_failure);
  std::array<std::uint8_t, core::relay_tag_size> tag{};
  if ((ec = crypto::relay_open_tag(key, accessory.inbox, id, i.self.view(), nonce, tag)))
    return fail(ec);
  std::array<std::uint8_t, core::relay_header_size + 1 + core::relay_max_account_length +
                               core::relay_inbox_length + core::relay_nonce_size +
                               core::relay_tag_size>
      frame{};
  const std::size_t n = core::encode_relay_open(id, i.self.view(), nonce, tag, frame, ec);
  if (ec) return fail(ec);
  if ((ec = i.mqtt.publish(topic, std::span(frame).first(n)))) return fail(ec);
  impl::pending p{std::move(topic), std::make_unique<asio::steady_timer>(i.ex), std::move(done)};
  p.timer->expires_after(timeout);
  p.timer->async_wait([weak = std::weak_ptr<impl>(impl_), id](std::error_code e) {
    if (e) return;
    auto s = weak.lock();
    if (!s) return;
    auto it = s->opening.find(id);
    if (it == s->opening.end()) return;
    open_handler d = std::move(it->second.done);
    s->opening.erase(it);
    d(std::make_error_code(std::errc::timed_out), std::nullopt);
  });
  i.opening.emplace(id, std::move(p));
}

std::size_t tunnel_hub::tunnel_count() const noexcept {
  return impl_->tunnels.size();
}
std::uint64_t tunnel_hub::opens_shed() const noexcept {
  return impl_->opens_shed;
}

} // namespace lanyard::relay
