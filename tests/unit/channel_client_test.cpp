#include <lanyard/client/client_channel.hpp>

#include <lanyard/core/pairing_error.hpp>

#include <lanyard/accessory/diagnostics.hpp>
#include <lanyard/accessory/server.hpp>
#include <lanyard/channel/error.hpp>
#include <lanyard/core/frame.hpp>
#include <lanyard/core/pairing_window.hpp>
#include <lanyard/tls/stream.hpp>
#include <lanyard/tls_engine/context.hpp>
#include <lanyard/tls_engine/error.hpp>
#include <lanyard/tls_engine/identity.hpp>
#include <lanyard/trust/controller_store.hpp>
#include <lanyard/trust/trust_store.hpp>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <catch2/catch.hpp>

#include "support/diagnostics_recorder.hpp"
#include "support/io_test_support.hpp"

#include <array>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

using asio::ip::tcp;
using lanyard::accessory::server;
using lanyard::accessory::server_options;
using lanyard::channel::send_completion_mode;
using lanyard::channel::send_mode;
using lanyard::channel::send_options;
using lanyard::client::channel_state;
using lanyard::client::client_channel;
using lanyard::client::client_options;
using lanyard::core::channel_errc;
namespace diag = lanyard::accessory::diag;
namespace fk = lanyard::core::field_key;
using lanyard::tls::context;
using lanyard::tls::identity;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

using lanyard::test::bytes;
using lanyard::test::make_identity;
using lanyard::test::run_until;
using lanyard::test::text;

struct temp_dir : lanyard::test::temp_dir {
  temp_dir() : lanyard::test::temp_dir("lanyard-channel") {}
};

// Key generation is the slow part: one set per process.
const identity& accessory_id() {
  static const identity id = make_identity("lamp-1");
  return id;
}
const identity& phone_id() {
  static const identity id = make_identity("phone-a");
  return id;
}
const identity& impostor_id() { // claims to be lamp-1 with another key
  static const identity id = make_identity("lamp-1");
  return id;
}
const identity& stranger_id() {
  static const identity id = make_identity("phone-b");
  return id;
}

// A TCP relay between the client and the server: the "network" a test can cut (close every
// connection abruptly) or blackhole (silently drop every byte, as a sleeping radio does).
class relay {
public:
  relay(asio::io_context& io, tcp::endpoint target)
      : io_(io), acceptor_(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0)),
        target_(target) {
    accept();
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  void set_target(tcp::endpoint t) { target_ = t; }
  void set_blackhole(bool on) { blackhole_ = on; }
  void cut() {
    for (auto& p : pairs_) {
      std::error_code ignored;
      p->a.close(ignored);
      p->b.close(ignored);
    }
    pairs_.clear();
    ++cuts;
  }
  int accepted = 0;
  int cuts = 0;

private:
  struct pair {
    explicit pair(asio::io_context& io) : a(io), b(io) {}
    tcp::socket a, b;
    std::array<char, 4096> ab{}, ba{};
  };
  void accept() {
    acceptor_.async_accept([this](std::error_code ec, tcp::socket s) {
      if (ec) return;
      ++accepted;
      auto p = std::make_shared<pair>(io_);
      p->a = std::move(s);
      pairs_.push_back(p);
      p->b.async_connect(target_, [this, p](std::error_code cec) {
        if (cec) return close(p);
        pump(p, p->a, p->b, p->ab);
        pump(p, p->b, p->a, p->ba);
      });
      accept();
    });
  }
  void close(const std::shared_ptr<pair>& p) {
    std::error_code ignored;
    p->a.close(ignored);
    p->b.close(ignored);
  }
  void pump(std::shared_ptr<pair> p, tcp::socket& from, tcp::socket& to,
            std::array<char, 4096>& buf) {
    from.async_read_some(
        asio::buffer(buf), [this, p, &from, &to, &buf](std::error_code ec, std::size_t n) {
          if (ec) return close(p);
          if (blackhole_) return pump(p, from, to, buf); // swallowed
          asio::async_write(to, asio::buffer(buf.data(), n),
                            [this, p, &from, &to, &buf](std::error_code wec, std::size_t) {
                              if (wec) return close(p);
                              pump(p, from, to, buf);
                            });
        });
  }

  asio::io_context& io_;
  tcp::acceptor acceptor_;
  tcp::endpoint target_;
  bool blackhole_ = false;
  std::vector<std::shared_ptr<pair>> pairs_;
};

// An accessory: controller store (phone paired), TLS context, server, and what it received.
struct accessory_fixture {
  explicit accessory_fixture(asio::io_context& io, const fs::path& dir, std::uint16_t port = 0,
                             server_options opts = {}, const identity& me = accessory_id())
      : store(std::make_shared<lanyard::trust::controller_store>(dir / "controllers")) {
    REQUIRE(store->load().ok());
    opts.diagnostics = diags.handler();
    srv = std::make_unique<server>(io.get_executor(), context(me), store, opts);
    srv->set_message_handler(
        [this](const server::controller_id& c, std::uint64_t seq, std::span<const std::byte> p) {
          received[c].push_back(text(p));
          seqs[c].push_back(seq);
        });
    srv->set_control_handler([this](const server::controller_id& c, lanyard::core::message_kind k,
                                    std::uint64_t seq, std::span<const std::byte> p) {
      controls[c].push_back(std::string(lanyard::core::to_string(k)) + ":" + text(p) + "@" +
                            std::to_string(seq));
    });
    srv->set_event_handler(
        [this](const server::controller_id& c, const lanyard::core::session_event& ev) {
          if (auto* e = std::get_if<lanyard::core::events::established>(&ev))
            session_ids[c] = e->id;
        });
    REQUIRE(!srv->listen(tcp::endpoint(asio::ip::address_v4::loopback(), port)));
  }
  void pair(const identity& who) {
    auto now = std::chrono::system_clock::now();
    REQUIRE(store->open_window(now).ok());
    REQUIRE(
        store->pair(who.fingerprint(), who.device_id(), lanyard::trust::controller_role::user, now)
            .ok());
    REQUIRE(store->close_window().ok());
  }
  tcp::endpoint endpoint() const { return srv->local_endpoint(); }

  // Declared before the server, whose handler refers to it.
  lanyard::test::diagnostics_recorder diags;
  std::shared_ptr<lanyard::trust::controller_store> store;
  std::unique_ptr<server> srv;
  std::map<server::controller_id, std::vector<std::string>> received;
  std::map<server::controller_id, std::vector<std::uint64_t>> seqs;
  // Service messages as "service:text@seq".
  std::map<server::controller_id, std::vector<std::string>> controls;
  std::map<server::controller_id, lanyard::core::session_id> session_ids;
};

client_options phone_options() {
  client_options o;
  o.trust.device_id = "lamp-1";
  o.trust.expected_fingerprint = accessory_id().fingerprint();
  o.backoff.initial = 20ms;
  o.backoff.cap = 200ms;
  return o;
}

// A replay buffer that holds three 255-byte messages (+32 bytes accounting each).
client_options three_message_buffer() {
  client_options o = phone_options();
  o.session.max_message_size = 256;
  o.session.max_replay_bytes = 1024;
  return o;
}

// A client channel with everything it reports recorded.
struct phone_fixture {
  phone_fixture(asio::io_context& io, client_options o = phone_options(),
                const identity& who = phone_id())
      : ch(io.get_executor(), context(who), add_log(o)) {
    ch.set_state_handler([this](channel_state s, std::error_code why) {
      states.push_back(s);
      if (why) reasons.push_back(why);
    });
    ch.set_message_handler([this](std::uint64_t seq, std::span<const std::byte> p) {
      received.push_back(text(p));
      seqs.push_back(seq);
    });
    ch.set_control_handler(
        [this](lanyard::core::message_kind k, std::uint64_t seq, std::span<const std::byte> p) {
          controls.push_back(std::string(lanyard::core::to_string(k)) + ":" + text(p) + "@" +
                             std::to_string(seq));
        });
    ch.set_session_reset_handler(
        [this](const lanyard::core::events::session_reset& r) { resets.push_back(r); });
  }
  client_options add_log(client_options o) {
    o.log = [this](std::string_view line) { log.emplace_back(line); };
    return o;
  }
  bool saw(channel_state s) const {
    return std::find(states.begin(), states.end(), s) != states.end();
  }
  int count(channel_state s) const {
    return static_cast<int>(std::count(states.begin(), states.end(), s));
  }
  // Sends `s`; the completion is recorded in `done[s]`.
  void send(const std::string& s, send_options o = {}) {
    auto payload = bytes(s);
    ch.async_send(payload, o, [this, s](std::error_code ec, std::uint64_t seq) {
      done[s] = {ec, seq};
    });
  }
  // Sends `s` as a message of `service` (CONTROL); recorded in `done[s]` too.
  void send_control(lanyard::core::message_kind service, const std::string& s) {
    auto payload = bytes(s);
    ch.async_send_control(service, payload, {}, [this, s](std::error_code ec, std::uint64_t seq) {
      done[s] = {ec, seq};
    });
  }

  client_channel ch;
  std::vector<channel_state> states;
  std::vector<std::error_code> reasons;
  std::vector<std::string> received;
  std::vector<std::uint64_t> seqs;
  std::vector<lanyard::core::events::session_reset> resets;
  std::vector<std::string> controls; // "service:text@seq"
  std::vector<std::string> log;
  std::map<std::string, std::pair<std::error_code, std::uint64_t>> done;
};

std::vector<std::string> numbered(const std::string& prefix, int n) {
  std::vector<std::string> v;
  for (int i = 0; i < n; ++i)
    v.push_back(prefix + std::to_string(i));
  return v;
}

} // namespace

TEST_CASE("channel: open, exchange messages both ways, server push", "[channel]") {
  asio::io_context io;
  temp_dir dir;
  accessory_fixture acc(io, dir.path);
  acc.pair(phone_id());
  phone_fixture phone(io);
  const auto fp = phone_id().fingerprint();

  phone.ch.start({"127.0.0.1", acc.endpoint().port()});
  // async_send never completes inside the call, even before the channel is ready.
  phone.send("hello");
  CHECK(phone.done.empty());
  REQUIRE(run_until(io, [&] { return phone.done.count("hello") == 1; }));
  CHECK(!phone.done["hello"].first);
  CHECK(phone.done["hello"].second == 0);
  CHECK(phone.ch.state() == channel_state::ready);
  CHECK(phone.states == std::vector<channel_state>{channel_state::preparing, channel_state::ready});
  CHECK(acc.received[fp] == std::vector<std::string>{"hello"});

  // Server push (Local Push): completes when the app acknowledged it.
  std::optional<std::error_code> pushed;
  auto msg = bytes("light on");
  acc.srv->async_send(fp, msg, {}, [&](std::error_code ec, std::uint64_t) { pushed = ec; });
  CHECK(!pushed);
  REQUIRE(run_until(io, [&] { return pushed.has_value(); }));
  CHECK(!*pushed);
  CHECK(phone.received == std::vector<std::string>{"light on"});
  CHECK(phone.seqs == std::vector<std::uint64_t>{0});

  // A push to a controller without a session fails clearly.
  std::optional<std::error_code> nosession;
  acc.srv->async_send(stranger_id().fingerprint(), msg, {},
                      [&](std::error_code ec, std::uint64_t) { nosession = ec; });
  REQUIRE(run_until(io, [&] { return nosession.has_value(); }));
  CHECK(*nosession == lanyard::channel::errc::no_session);

  // queued completion: completes before any acknowledgement could have arrived.
  phone.send("q", {send_mode::wait, send_completion_mode::queued});
  REQUIRE(run_until(io, [&] { return phone.done.count("q") == 1; }));
  CHECK(!phone.done["q"].first);
  REQUIRE(run_until(io, [&] { return acc.received[fp].size() == 2; }));
  CHECK(phone.ch.rtt().has_value());

  // cancel(): graceful; the server forgets the session (CLOSE 0).
  phone.ch.cancel();
  CHECK(phone.ch.state() == channel_state::cancelled);
  REQUIRE(run_until(io, [&] { return acc.srv->session_count() == 0; }));
}

// start(endpoint) is a race over the resolved addresses, with the racer's per-attempt bound:
// connect_timeout covers TCP connect and TLS handshake, so an address that accepts TCP and
// then stays silent cannot hold the channel for the TLS handshake timeout.
TEST_CASE("channel: an endpoint whose TLS handshake stays silent fails the attempt at "
          "connect_timeout, then connects once it answers",
          "[channel]") {
  asio::io_context io;
  temp_dir dir;
  accessory_fixture acc(io, dir.path);
  acc.pair(phone_id());
  relay silent(io, acc.endpoint());
  silent.set_blackhole(true);
  client_options o = phone_options();
  o.connect_timeout = 300ms;
  o.backoff.initial = 100ms;
  phone_fixture phone(io, o);

  phone.ch.start({"127.0.0.1", silent.port()});
  REQUIRE(run_until(io, [&] { return phone.saw(channel_state::waiting); }));
  REQUIRE(!phone.reasons.empty());
  CHECK(phone.reasons.front() == asio::error::timed_out);
  CHECK(silent.accepted >= 1);

  silent.set_blackhole(false);
  REQUIRE(run_until(io, [&] { return phone.ch.state() == channel_state::ready; }));
  phone.send("through");
  REQUIRE(run_until(io, [&] { return phone.done.count("through") == 1; }));
  CHECK(!phone.done["through"].first);
}

TEST_CASE("channel: a TCP connection killed mid-stream resumes, nothing lost or duplicated",
          "[channel]") {
  asio::io_context io;
  temp_dir dir;
  accessory_fixture acc(io, dir.path);
  acc.pair(phone_id());
  relay net(io, acc.endpoint());
  phone_fixture phone(io);
  const auto fp = phone_id().fingerprint();
  phone.ch.start({"127.0.0.1", net.port()});
  REQUIRE(run_until(io, [&] { return phone.ch.state() == channel_state::ready; }));

  const int n = 400;
  const auto up = numbered("up-", n);
  const auto down = numbered("down-", n);
  int pushed_ok = 0;
  auto send_batch = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      phone.send(up[static_cast<std::size_t>(i)]);
      auto m = bytes(down[static_cast<std::size_t>(i)]);
      acc.srv->async_send(fp, m, {}, [&](std::error_code ec, std::uint64_t) {
        if (!ec) ++pushed_ok;
      });
    }
  };
  // Four batches in both directions; the network is cut while each of the first three is in
  // flight, once the current connection has carried part of it.
  std::size_t delivered = 0;
  for (int batch = 0; batch < 4; ++batch) {
    send_batch(batch * 100, (batch + 1) * 100);
    if (batch == 3) break;
    REQUIRE(run_until(io, [&] {
      return net.accepted == batch + 1 &&
             acc.received[fp].size() + phone.received.size() >= delivered + 60;
    }));
    delivered = acc.received[fp].size() + phone.received.size();
    CHECK(delivered < static_cast<std::size_t>(2 * (batch + 1) * 100)); // really mid-stream
    net.cut();
  }
  REQUIRE(run_until(
      io, [&] { return phone.done.size() == static_cast<std::size_t>(n) && pushed_ok == n; }));
  CHECK(acc.received[fp] == up);
  CHECK(phone.received == down);
  for (const auto& [s, r] : phone.done)
    CHECK(!r.first);
  CHECK(net.accepted >= 4);
  CHECK(phone.count(channel_state::waiting) >= 1);
  CHECK(phone.resets.empty());
  CHECK(phone.ch.state() == channel_state::ready);
}

TEST_CASE("channel: a restarted accessory causes a session_reset listing the unacknowledged "
          "messages",
          "[channel]") {
  asio::io_context io;
  temp_dir dir;
  auto acc = std::make_unique<accessory_fixture>(io, dir.path);
  acc->pair(phone_id());
  const std::uint16_t port = acc->endpoint().port();
  const auto fp = phone_id().fingerprint();
  phone_fixture phone(io);
  phone.ch.start({"127.0.0.1", port});
  phone.send("m0");
  phone.send("m1");
  REQUIRE(run_until(io, [&] { return phone.done.size() == 2; }));
  CHECK(!phone.done["m0"].first);
  CHECK(!phone.done["m1"].first);

  acc.reset(); // the accessory process is gone, sessions and all
  REQUIRE(run_until(io, [&] { return phone.ch.state() == channel_state::waiting; }));
  phone.send("m2");
  phone.send("m3", {send_mode::wait, send_completion_mode::queued});
  REQUIRE(run_until(io, [&] { return phone.done.count("m3") == 1; }));

  acc = std::make_unique<accessory_fixture>(io, dir.path, port); // same store, new process
  phone.ch.network_changed(); // attempt at once rather than after the backoff
  REQUIRE(run_until(io, [&] { return !phone.resets.empty(); }));
  REQUIRE(phone.resets.size() == 1);
  std::vector<std::string> unacked;
  for (const auto& m : phone.resets[0].unacked)
    unacked.push_back(text(m.payload));
  CHECK(unacked == std::vector<std::string>{"m2", "m3"});
  REQUIRE(run_until(io, [&] { return phone.done.count("m2") == 1; }));
  CHECK(phone.done["m2"].first == lanyard::channel::errc::session_reset);
  CHECK(acc->received[fp].empty());

  // The new session works.
  phone.send("m4");
  REQUIRE(run_until(io, [&] { return phone.done.count("m4") == 1; }));
  CHECK(!phone.done["m4"].first);
  CHECK(phone.done["m4"].second == 0);
  CHECK(acc->received[fp] == std::vector<std::string>{"m4"});
}

TEST_CASE("channel: service messages (CONTROL) reach the control handlers both ways, in order "
          "with the application's, never its message handlers",
          "[channel]") {
  using lanyard::core::message_kind;
  asio::io_context io;
  temp_dir dir;
  accessory_fixture acc(io, dir.path);
  acc.pair(phone_id());
  phone_fixture phone(io);
  const auto fp = phone_id().fingerprint();
  phone.ch.start({"127.0.0.1", acc.endpoint().port()});

  phone.send("a");
  phone.send_control(message_kind::provisioning, "v1 wifi_set");
  phone.send("b");
  phone.send_control(message_kind::administration, "v1 controllers");
  REQUIRE(run_until(io, [&] { return phone.done.size() == 4; }));
  CHECK(phone.done["v1 wifi_set"] == std::pair<std::error_code, std::uint64_t>{{}, 1});
  CHECK(phone.done["v1 controllers"] == std::pair<std::error_code, std::uint64_t>{{}, 3});
  CHECK(acc.received[fp] == std::vector<std::string>{"a", "b"});
  CHECK(acc.controls[fp] ==
        std::vector<std::string>{"provisioning:v1 wifi_set@1", "administration:v1 controllers@3"});

  // The accessory answers the same way; the app's message handler never sees it.
  std::optional<std::error_code> answered;
  auto report = bytes("v1 wifi_status re=1 state=connecting");
  acc.srv->async_send_control(fp, message_kind::provisioning, report, {},
                              [&](std::error_code ec, std::uint64_t) { answered = ec; });
  auto push = bytes("v1 state on=1");
  acc.srv->async_send(fp, push, {}, [](std::error_code, std::uint64_t) {});
  REQUIRE(run_until(io, [&] { return answered.has_value() && phone.received.size() == 1; }));
  CHECK(!*answered);
  CHECK(phone.controls ==
        std::vector<std::string>{"provisioning:v1 wifi_status re=1 state=connecting@0"});
  CHECK(phone.received == std::vector<std::string>{"v1 state on=1"});

  // "application" is not a service: refused, nothing sent, on both ends.
  phone.send_control(message_kind::application, "not a service");
  std::optional<std::error_code> refused;
  acc.srv->async_send_control(fp, message_kind::application, report, {},
                              [&](std::error_code ec, std::uint64_t) { refused = ec; });
  REQUIRE(
      run_until(io, [&] { return phone.done.count("not a service") == 1 && refused.has_value(); }));
  CHECK(phone.done["not a service"].first == lanyard::core::channel_errc::invalid_frame_field);
  CHECK(*refused == lanyard::core::channel_errc::invalid_frame_field);
  CHECK(phone.ch.unacked_count() == 0);
  phone.ch.cancel();
}

TEST_CASE("channel: a session reset hands the app its own unacknowledged messages only; a "
          "service's send fails with session_reset",
          "[channel]") {
  using lanyard::core::message_kind;
  asio::io_context io;
  temp_dir dir;
  auto acc = std::make_unique<accessory_fixture>(io, dir.path);
  acc->pair(phone_id());
  const std::uint16_t port = acc->endpoint().port();
  phone_fixture phone(io);
  phone.ch.start({"127.0.0.1", port});
  phone.send("m0");
  REQUIRE(run_until(io, [&] { return phone.done.size() == 1; }));

  acc.reset();
  REQUIRE(run_until(io, [&] { return phone.ch.state() == channel_state::waiting; }));
  phone.send("m1");
  phone.send_control(message_kind::provisioning, "v1 wifi_set");
  phone.send("m2");
  acc = std::make_unique<accessory_fixture>(io, dir.path, port);
  phone.ch.network_changed();
  REQUIRE(run_until(io, [&] { return phone.done.size() == 4; }));
  REQUIRE(phone.resets.size() == 1);
  std::vector<std::string> unacked;
  for (const auto& m : phone.resets[0].unacked) {
    CHECK(m.kind == message_kind::application);
    unacked.push_back(text(m.payload));
  }
  CHECK(unacked == std::vector<std::string>{"m1", "m2"});
  CHECK(phone.done["v1 wifi_set"].first == lanyard::channel::errc::session_reset);
  CHECK(phone.done["m1"].first == lanyard::channel::errc::session_reset);
  phone.ch.cancel();
}

TEST_CASE("channel: receive_mode::pull: an app that does not take its messages holds the "
          "accessory to the window; nothing is lost, and the sends complete once it reads",
          "[channel]") {
  asio::io_context io;
  temp_dir dir;
  // Both ends: messages up to 256 bytes, a window of three 255-byte messages.
  server_options so;
  so.session.max_message_size = 256;
  so.session.max_replay_bytes = 1024;
  accessory_fixture acc(io, dir.path, 0, so);
  acc.pair(phone_id());
  client_options o = three_message_buffer();
  o.receive = lanyard::client::receive_mode::pull;
  phone_fixture phone(io, o);
  const auto fp = phone_id().fingerprint();
  phone.ch.start({"127.0.0.1", acc.endpoint().port()});
  REQUIRE(run_until(io, [&] { return phone.ch.state() == channel_state::ready; }));

  // The accessory pushes 10 messages as fast as it can; each completes when acknowledged.
  constexpr int n = 10;
  std::vector<std::optional<std::error_code>> pushed(n);
  for (int i = 0; i < n; ++i) {
    const std::string text = "r" + std::to_string(i) + std::string(250, '.');
    acc.srv->async_send(fp, bytes(text), {},
                        [&pushed, i](std::error_code ec, std::uint64_t) { pushed[i] = ec; });
  }
  // The app reads nothing for a while: at most the window went through, none acknowledged.
  asio::steady_timer pause(io, 300ms);
  bool paused = false;
  pause.async_wait([&](std::error_code) { paused = true; });
  REQUIRE(run_until(io, [&] { return paused; }));
  int completed = 0;
  for (const auto& p : pushed)
    completed += p.has_value();
  CHECK(completed == 0);
  CHECK(phone.received.empty()); // the push handler is not called in pull mode
  CHECK(phone.ch.state() == channel_state::ready);

  // The app reads: every message in order, once; the accessory's sends complete.
  std::vector<std::string> got;
  std::function<void()> next = [&] {
    phone.ch.async_receive([&](std::error_code ec, lanyard::core::message m) {
      REQUIRE_FALSE(ec);
      CHECK(m.seq == got.size());
      got.push_back(text(m.payload).substr(0, 3));
      if (got.size() < n) next();
    });
  };
  next();
  REQUIRE(run_until(io, [&] {
    return got.size() == n &&
           std::all_of(pushed.begin(), pushed.end(), [](const auto& p) { return p.has_value(); });
  }));
  for (int i = 0; i < n; ++i) {
    CHECK(got[static_cast<std::size_t>(i)].substr(0, 2) == "r" + std::to_string(i).substr(0, 1));
    CHECK_FALSE(*pushed[static_cast<std::size_t>(i)]);
  }
  phone.ch.cancel();
}

TEST_CASE("channel: messages arriving while a receive waits complete it from the read, without "
          "a turn of the event loop each; a receive that finds one waiting completes later",
          "[channel]") {
  asio::io_context io;
  temp_dir dir;
  accessory_fixture acc(io, dir.path);
  acc.pair(phone_id());
  client_options o = phone_options();
  o.receive = lanyard::client::receive_mode::pull;
  phone_fixture phone(io, o);
  const auto fp = phone_id().fingerprint();
  phone.ch.start({"127.0.0.1", acc.endpoint().port()});
  REQUIRE(run_until(io, [&] { return phone.ch.state() == channel_state::ready; }));

  // A receive loop that re-arms in its handler, as a coroutine's does.
  constexpr std::size_t n = 200;
  std::vector<std::uint64_t> got;
  std::function<void()> next = [&] {
    phone.ch.async_receive([&](std::error_code ec, lanyard::core::message m) {
      REQUIRE_FALSE(ec);
      got.push_back(m.seq);
      if (got.size() < n) next();
    });
  };
  next();
  io.poll(); // the receive waits
  // A burst: the accessory writes it in a few batches; the app reads each batch at once.
  for (std::size_t i = 0; i < n; ++i)
    acc.srv->async_send(fp, bytes("m" + std::to_string(i)), {},
                        [](std::error_code, std::uint64_t) {});
  std::size_t handlers = 0;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (got.size() < n && std::chrono::steady_clock::now() < deadline)
    handlers += io.run_one_for(100ms);
  REQUIRE(got.size() == n);
  for (std::size_t i = 0; i < n; ++i)
    CHECK(got[i] == i);
  // Posted completions would need one handler per message, plus the reads and writes.
  CHECK(handlers < n / 4);

  // Messages already waiting: the receive never completes inside its own call.
  acc.srv->async_send(fp, bytes("late"), {}, [](std::error_code, std::uint64_t) {});
  asio::steady_timer settle(io, 200ms);
  bool settled = false;
  settle.async_wait([&](std::error_code) { settled = true; });
  REQUIRE(run_until(io, [&] { return settled; }));
  std::optional<lanyard::core::message> late;
  phone.ch.async_receive([&](std::error_code ec, lanyard::core::message m) {
    REQUIRE_FALSE(ec);
    late = std::move(m);
  });
  CHECK_FALSE(late.has_value());
  REQUIRE(run_until(io, [&] { return late.has_value(); }));
  CHECK(text(late->payload) == "late");

  // A handler completed from the read may end the channel there and then.
  acc.srv->async_send(fp, bytes("last"), {}, [](std::error_code, std::uint64_t) {});
  bool ended = false;
  phone.ch.async_receive([&](std::error_code ec, lanyard::core::message) {
    REQUIRE_FALSE(ec);
    phone.ch.cancel();
    ended = true;
  });
  REQUIRE(run_until(io, [&] { return ended; }));
  CHECK(phone.ch.state() == channel_state::cancelled);
}

TEST_CASE("channel: a cancelled async_receive takes no message; the next one gets it",
          "[channel]") {
  asio::io_context io;
  temp_dir dir;
  accessory_fixture acc(io, dir.path);
  acc.pair(phone_id());
  client_options o = phone_options();
  o.receive = lanyard::client::receive_mode::pull;
  phone_fixture phone(io, o);
  const auto fp = phone_id().fingerprint();
  phone.ch.start({"127.0.0.1", acc.endpoint().port()});
  REQUIRE(run_until(io, [&] { return phone.ch.state() == channel_state::ready; }));

  asio::cancellation_signal stop;
  std::optional<std::error_code> first;
  phone.ch.async_receive(asio::bind_cancellation_slot(
      stop.slot(), [&](std::error_code ec, lanyard::core::message) { first = ec; }));
  // A second receive while one waits is refused.
  std::optional<std::error_code> second;
  phone.ch.async_receive([&](std::error_code ec, lanyard::core::message) { second = ec; });
  REQUIRE(run_until(io, [&] { return second.has_value(); }));
  CHECK(*second == asio::error::in_progress);
  stop.emit(asio::cancellation_type::terminal);
  REQUIRE(run_until(io, [&] { return first.has_value(); }));
  CHECK(*first == asio::error::operation_aborted);

  acc.srv->async_send(fp, bytes("hello"), {}, [](std::error_code, std::uint64_t) {});
  std::optional<lanyard::core::message> got;
  phone.ch.async_receive([&](std::error_code ec, lanyard::core::message m) {
    REQUIRE_FALSE(ec);
    got = std::move(m);
  });
  REQUIRE(run_until(io, [&] { return got.has_value(); }));
  CHECK(got->seq == 0);
  CHECK(text(got->payload) == "hello");

  // cancel(): what was received stays to be taken, then receives end with operation_aborted.
  std::optional<std::error_code> after_cancel;
  phone.ch.cancel();
  phone.ch.async_receive([&](std::error_code ec, lanyard::core::message) { after_cancel = ec; });
  REQUIRE(run_until(io, [&] { return after_cancel.has_value(); }));
  CHECK(*after_cancel == asio::error::operation_aborted);
}

TEST_CASE("server: receive_mode::pull: an accessory that does not take a controller's messages "
          "holds that app to the window; nothing is lost, its sends complete once it reads",
          "[channel][server]") {
  asio::io_context io;
  temp_dir dir;
  server_options so;
  so.session.max_message_size = 256;
  so.session.max_replay_bytes = 1024; // the window: three 255-byte messages
  so.receive = lanyard::channel::receive_mode::pull;
  accessory_fixture acc(io, dir.path, 0, so);
  acc.pair(phone_id());
  const auto fp = phone_id().fingerprint();
  // No session yet: nothing to receive from.
  std::optional<std::error_code> early;
  acc.srv->async_receive(fp, [&](std::error_code ec, lanyard::core::message) { early = ec; });
  REQUIRE(run_until(io, [&] { return early.has_value(); }));
  CHECK(*early == lanyard::channel::errc::no_session);

  phone_fixture phone(io, three_message_buffer());
  phone.ch.start({"127.0.0.1", acc.endpoint().port()});
  REQUIRE(run_until(io, [&] { return phone.ch.state() == channel_state::ready; }));
  constexpr int n = 10;
  for (int i = 0; i < n; ++i)
    phone.send("p" + std::to_string(i) + std::string(250, '.'));
  asio::steady_timer pause(io, 300ms);
  bool paused = false;
  pause.async_wait([&](std::error_code) { paused = true; });
  REQUIRE(run_until(io, [&] { return paused; }));
  CHECK(phone.done.empty());       // none acknowledged: the accessory took nothing
  CHECK(acc.received[fp].empty()); // the push handler is not called in pull mode

  std::vector<std::string> got;
  std::function<void()> next = [&] {
    acc.srv->async_receive(fp, [&](std::error_code ec, lanyard::core::message m) {
      REQUIRE_FALSE(ec);
      CHECK(m.seq == got.size());
      got.push_back(text(m.payload).substr(0, text(m.payload).find('.')));
      if (got.size() < n) next();
    });
  };
  next();
  REQUIRE(run_until(io, [&] { return got.size() == n && phone.done.size() == n; }));
  for (int i = 0; i < n; ++i)
    CHECK(got[static_cast<std::size_t>(i)] == "p" + std::to_string(i));
  for (const auto& [payload, result] : phone.done)
    CHECK_FALSE(result.first);

  // The app closes the session: a waiting receive ends with session_closed.
  std::optional<std::error_code> last;
  acc.srv->async_receive(fp, [&](std::error_code ec, lanyard::core::message) { last = ec; });
  phone.ch.cancel();
  REQUIRE(run_until(io, [&] { return last.has_value(); }));
  CHECK(*last == channel_errc::session_closed);
}

TEST_CASE("server: without a control handler, service messages are refused (not_supported), "
          "not swallowed",
          "[channel][server]") {
  asio::io_context io;
  temp_dir dir;
  accessory_fixture acc(io, dir.path);
  acc.srv->set_control_handler({}); // an accessory that serves neither service
  acc.pair(phone_id());
  phone_fixture phone(io);
  phone.ch.start({"127.0.0.1", acc.endpoint().port()});
  phone.send_control(lanyard::core::message_kind::provisioning, "v1 wifi_set ssid_hex=41");
  phone.send_control(lanyard::core::message_kind::administration, "v1 controllers");
  REQUIRE(run_until(io, [&] { return phone.controls.size() == 2; }));
  CHECK(phone.controls[0] == "provisioning:v1 error re=0 reason=not_supported@0");
  CHECK(phone.controls[1] == "administration:v1 error re=1 reason=not_supported@1");
  phone.ch.cancel();
}

TEST_CASE("server: async_receive in push mode is invalid_state", "[channel][server]") {
  asio::io_context io;
  temp_dir dir;
  accessory_fixture acc(io, dir.path);
  std::optional<std::error_code> ec;
  acc.srv->async_receive(phone_id().fingerprint(),
                         [&](std::error_code e, lanyard::core::message) { ec = e; });
  REQUIRE(run_until(io, [&] { return ec.has_value(); }));
  CHECK(*ec == channel_errc::invalid_state);
}

TEST_CASE("channel: async_receive in push mode is invalid_state", "[channel]") {
  asio::io_context io;
  phone_fixture phone(io);
  std::optional<std::error_code> ec;
  phone.ch.async_receive([&](std::error_code e, lanyard::core::message) { ec = e; });
  CHECK_FALSE(ec); // never inside the call
  REQUIRE(run_until(io, [&] { return ec.has_value(); }));
  CHECK(*ec == lanyard::core::channel_errc::invalid_state);
}

TEST_CASE("channel: an unpaired controller is refused outside the pairing window, paired "
          "inside it",
          "[channel]") {
  asio::io_context io;
  temp_dir dir;
  accessory_fixture acc(io, dir.path);
  acc.pair(phone_id());
  {
    phone_fixture stranger(io, phone_options(), stranger_id());
    stranger.ch.start({"127.0.0.1", acc.endpoint().port()});
    stranger.send("let me in");
    REQUIRE(run_until(io, [&] { return acc.diags.has(diag::connection_refused); }));
    // The store's verdict, on the stranger's key, from its connection.
    const auto* refused = acc.diags.find(diag::connection_refused);
    CHECK(refused->level == lanyard::core::diagnostic_level::warning);
    CHECK(refused->code == lanyard::trust::trust_errc::not_paired);
    CHECK(refused->text_field(fk::controller) == to_string(stranger_id().fingerprint()));
    CHECK(refused->text_field(fk::peer).value_or("").starts_with("127.0.0.1:"));
    REQUIRE(run_until(io, [&] { return stranger.ch.state() != channel_state::preparing; }));
    // Fatal: retrying cannot help until the accessory opens its pairing window.
    CHECK(stranger.ch.state() == channel_state::failed);
    CHECK(stranger.ch.last_error() == lanyard::tls::tls_errc::peer_rejected_certificate);
    std::optional<std::error_code> late;
    stranger.ch.async_send(bytes("late"), {},
                           [&](std::error_code ec, std::uint64_t) { late = ec; });
    REQUIRE(run_until(io, [&] { return late.has_value(); }));
    CHECK(*late == channel_errc::session_closed);
    CHECK(!stranger.reasons.empty());
    UNSCOPED_INFO("stranger refused with: " << stranger.ch.last_error().message());
    CHECK(acc.srv->session_count() == 0);
    CHECK(acc.received.empty());
    CHECK(!acc.store->find(stranger_id().fingerprint()));
  }
  REQUIRE(acc.store->open_window(std::chrono::system_clock::now()).ok());
  {
    // The open window alone admits nobody: without the setup secret, CLOSE(not_paired).
    phone_fixture stranger(io, phone_options(), stranger_id());
    stranger.ch.start({"127.0.0.1", acc.endpoint().port()});
    stranger.send("let me in");
    REQUIRE(run_until(io, [&] { return stranger.ch.state() == channel_state::failed; }));
    CHECK(stranger.ch.last_error() == channel_errc::not_paired);
    CHECK(acc.received.empty());
    CHECK(!acc.store->find(stranger_id().fingerprint()));
    CHECK(acc.store->window().failed_attempts == 0); // no proof, no failed attempt
    // Its send completes (session_closed) before the fixture goes away.
    REQUIRE(run_until(io, [&] { return stranger.done.count("let me in") == 1; }));
    CHECK(stranger.done["let me in"].first == channel_errc::session_closed);
  }
}

TEST_CASE("channel: pairing on first use with the setup secret, then the session on the same "
          "connection",
          "[channel]") {
  asio::io_context io;
  temp_dir dir;
  lanyard::trust::setup_credentials creds;
  creds.secret.fill(0x5a);
  server_options so;
  so.pairing.credentials = creds;
  accessory_fixture acc(io, dir.path, 0, so);
  acc.pair(phone_id());
  REQUIRE(acc.store->open_window(std::chrono::system_clock::now()).ok());
  {
    client_options o = phone_options();
    lanyard::core::pairing_credentials wrong;
    wrong.method = lanyard::core::pairing_method::setup_secret;
    wrong.secret.fill(0x5b);
    o.trust.pairing = wrong;
    phone_fixture stranger(io, o, stranger_id());
    stranger.ch.start({"127.0.0.1", acc.endpoint().port()});
    stranger.send("guess");
    REQUIRE(run_until(io, [&] { return stranger.ch.state() == channel_state::failed; }));
    CHECK(stranger.ch.last_error() == lanyard::core::pairing_errc::wrong_proof);
    CHECK(acc.store->window().failed_attempts == 1);
    CHECK(!acc.store->find(stranger_id().fingerprint()));
    // The failed proof is reported with what the window still takes.
    const auto* failed = acc.diags.find(diag::pairing_failed);
    REQUIRE(failed);
    CHECK(failed->code == lanyard::core::pairing_errc::wrong_proof);
    CHECK(failed->text_field(fk::controller) == to_string(stranger_id().fingerprint()));
    CHECK(failed->text_field(diag::key::method) == "setup_secret");
    CHECK(failed->number(fk::attempts_left) ==
          lanyard::core::pairing_window(acc.store->window()).attempts_left());
    CHECK_FALSE(acc.diags.has(diag::paired));
    REQUIRE(run_until(io, [&] { return stranger.done.count("guess") == 1; }));
    CHECK(stranger.done["guess"].first == channel_errc::session_closed);
  }
  client_options o = phone_options();
  lanyard::core::pairing_credentials right;
  right.method = lanyard::core::pairing_method::setup_secret;
  right.secret.fill(0x5a);
  o.trust.pairing = right;
  o.trust.controller_name = "tablet";
  phone_fixture owner(io, o, stranger_id());
  owner.ch.start({"127.0.0.1", acc.endpoint().port()});
  owner.send("pair me");
  REQUIRE(run_until(io, [&] { return owner.done.count("pair me") == 1; }));
  CHECK(!owner.done["pair me"].first);
  const auto record = acc.store->find(stranger_id().fingerprint());
  REQUIRE(record);
  CHECK(record->name == "tablet");
  CHECK(record->role == lanyard::trust::controller_role::user); // the phone is the admin
  CHECK(acc.received[stranger_id().fingerprint()] == std::vector<std::string>{"pair me"});
  const auto* paired = acc.diags.find(diag::paired);
  REQUIRE(paired);
  CHECK(paired->level == lanyard::core::diagnostic_level::notice);
  CHECK(!paired->code);
  CHECK(paired->text_field(fk::controller) == to_string(stranger_id().fingerprint()));
  CHECK(paired->text_field(diag::key::paired_role) == "user");
  CHECK(paired->text_field(diag::key::name) == "tablet");
  CHECK(acc.diags.count(diag::pairing_failed) == 1); // the wrong guess only
}

TEST_CASE("channel: a full replay buffer fails sends in fail mode and holds them in wait mode",
          "[channel]") {
  asio::io_context io;
  temp_dir dir;
  accessory_fixture acc(io, dir.path);
  acc.pair(phone_id());
  phone_fixture phone(io, three_message_buffer());
  const std::string big(255, 'x');
  // Not started: nothing can be acknowledged, so the buffer fills.
  for (int i = 0; i < 3; ++i)
    phone.send(big + char('a' + i), {send_mode::fail, send_completion_mode::acknowledged});
  phone.send(big + 'd', {send_mode::fail, send_completion_mode::acknowledged});
  REQUIRE(run_until(io, [&] { return phone.done.count(big + 'd') == 1; }));
  CHECK(phone.done[big + 'd'].first == channel_errc::buffer_full);
  CHECK(phone.done.size() == 1);
  CHECK(phone.ch.unacked_count() == 3);

  phone.send(big + 'e'); // wait mode: waits for room
  phone.send(big + 'f', {send_mode::fail, send_completion_mode::acknowledged}); // can't overtake
  REQUIRE(run_until(io, [&] { return phone.done.count(big + 'f') == 1; }));
  CHECK(phone.done[big + 'f'].first == channel_errc::buffer_full);
  CHECK(phone.done.count(big + 'e') == 0);

  phone.ch.start({"127.0.0.1", acc.endpoint().port()});
  REQUIRE(run_until(io, [&] { return phone.done.count(big + 'e') == 1; }));
  for (char c : std::string("abce"))
    CHECK(!phone.done[big + c].first);
  const auto fp = phone_id().fingerprint();
  CHECK(acc.received[fp] == std::vector<std::string>{big + 'a', big + 'b', big + 'c', big + 'e'});
}

// Per-operation cancellation: a cancellation slot bound to the handler.
TEST_CASE("channel: a cancelled async_send waiting for room is withdrawn; one in the session "
          "stops waiting for its acknowledgement but is still delivered once",
          "[channel][cancellation]") {
  asio::io_context io;
  temp_dir dir;
  accessory_fixture acc(io, dir.path);
  acc.pair(phone_id());
  phone_fixture phone(io, three_message_buffer());
  const std::string big(255, 'x');
  std::map<char, std::pair<std::error_code, std::uint64_t>> done;
  std::map<char, asio::cancellation_signal> signals;
  auto send = [&](char c) {
    auto payload = bytes(big + c);
    phone.ch.async_send(
        payload, asio::bind_cancellation_slot(signals[c].slot(),
                                              [&done, c](std::error_code ec, std::uint64_t seq) {
                                                done[c] = {ec, seq};
                                              }));
  };
  // Not started: nothing is acknowledged; a, b, c fill the replay buffer, d and e wait.
  for (char c : std::string("abcde"))
    send(c);
  REQUIRE(run_until(io, [&] { return phone.ch.unacked_count() == 3; }));

  // Total cancellation promises no side effect: not honoured once the message is in the session.
  signals['b'].emit(asio::cancellation_type::total);
  // Waiting for room: nothing was sent, so even total cancellation withdraws it.
  signals['d'].emit(asio::cancellation_type::total);
  REQUIRE(run_until(io, [&] { return done.count('d') == 1; }));
  CHECK(done['d'].first == asio::error::operation_aborted);
  CHECK(done.count('b') == 0);
  // Terminal cancellation of a message in the session: stop waiting, keep the message.
  signals['b'].emit(asio::cancellation_type::terminal);
  REQUIRE(run_until(io, [&] { return done.count('b') == 1; }));
  CHECK(done['b'].first == asio::error::operation_aborted);
  CHECK(done['b'].second == 1);
  CHECK(phone.ch.unacked_count() == 3);

  phone.ch.start({"127.0.0.1", acc.endpoint().port()});
  REQUIRE(run_until(io, [&] { return done.count('e') == 1; }));
  for (char c : std::string("ace"))
    CHECK(!done[c].first);
  const auto fp = phone_id().fingerprint();
  CHECK(acc.received[fp] == std::vector<std::string>{big + 'a', big + 'b', big + 'c', big + 'e'});
  // A completed send's slot is free again (complete() removed the handler): emitting on it does
  // nothing.
  CHECK_FALSE(signals['a'].slot().has_handler());
  CHECK_FALSE(signals['b'].slot().has_handler());
  CHECK_FALSE(signals['e'].slot().has_handler());
  signals['a'].emit(asio::cancellation_type::terminal);
  signals['e'].emit(asio::cancellation_type::all);
  io.restart();
  io.poll();
  CHECK(!done['a'].first);
  CHECK(!done['e'].first);
}

// The shape the issue asks for: `co_await (ch.async_send(...) || timer.async_wait(...))`.
TEST_CASE("channel: async_send || timer: the timer wins and the waiting send is withdrawn",
          "[channel][cancellation]") {
  using namespace asio::experimental::awaitable_operators;
  asio::io_context io;
  temp_dir dir;
  accessory_fixture acc(io, dir.path);
  acc.pair(phone_id());
  phone_fixture phone(io, three_message_buffer());
  const std::string big(255, 'x');
  for (char c : std::string("abc"))
    phone.send(big + c); // fill the replay buffer (not started: nothing is acknowledged)
  std::optional<std::size_t> winner;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        asio::steady_timer timer(io, 20ms);
        auto payload = bytes(big + 'd');
        auto r = co_await (phone.ch.async_send(payload, asio::use_awaitable) ||
                           timer.async_wait(asio::use_awaitable));
        winner = r.index();
      },
      asio::detached);
  REQUIRE(run_until(io, [&] { return winner.has_value(); }));
  CHECK(*winner == 1);

  phone.ch.start({"127.0.0.1", acc.endpoint().port()});
  REQUIRE(run_until(io, [&] { return phone.done.count(big + 'c') == 1; }));
  phone.send("after");
  REQUIRE(run_until(io, [&] { return phone.done.count("after") == 1; }));
  const auto fp = phone_id().fingerprint();
  CHECK(acc.received[fp] == std::vector<std::string>{big + 'a', big + 'b', big + 'c', "after"});
}

TEST_CASE("channel: keep-alive timeout when the link goes silent, then recovery", "[channel]") {
  asio::io_context io;
  temp_dir dir;
  // Only the app has short keep-alive settings, so that it is the one noticing the silence.
  accessory_fixture acc(io, dir.path);
  acc.pair(phone_id());
  relay net(io, acc.endpoint());
  client_options o = phone_options();
  o.session.keepalive_interval = 100ms;
  o.session.peer_timeout = 600ms;
  phone_fixture phone(io, o);
  const auto fp = phone_id().fingerprint();
  phone.ch.start({"127.0.0.1", net.port()});
  phone.send("before");
  REQUIRE(run_until(io, [&] { return phone.done.count("before") == 1; }));

  net.set_blackhole(true); // the peer stops answering; no FIN, no RST
  phone.send("during");
  REQUIRE(run_until(io, [&] { return phone.ch.state() == channel_state::waiting; }));
  CHECK(phone.ch.last_error() == channel_errc::peer_dead);
  net.set_blackhole(false);
  REQUIRE(run_until(io, [&] { return phone.done.count("during") == 1; }));
  CHECK(!phone.done["during"].first);
  CHECK(phone.ch.state() == channel_state::ready);
  CHECK(acc.received[fp] == std::vector<std::string>{"before", "during"});
  CHECK(phone.resets.empty());
}

TEST_CASE("channel: a HELLO for another controller's session closes only that connection",
          "[channel]") {
  asio::io_context io;
  temp_dir dir;
  accessory_fixture acc(io, dir.path);
  acc.pair(phone_id());
  acc.pair(stranger_id());
  const auto fp = phone_id().fingerprint();
  phone_fixture phone(io);
  phone.ch.start({"127.0.0.1", acc.endpoint().port()});
  phone.send("one");
  REQUIRE(run_until(io, [&] { return phone.done.count("one") == 1; }));
  REQUIRE(acc.session_ids.count(fp) == 1);

  // Another paired controller presents phone-a's session id in its HELLO.
  context ctx(stranger_id());
  tcp::socket sock(io);
  sock.connect(acc.endpoint());
  lanyard::tls::stream<tcp::socket> s(std::move(sock), ctx);
  s.set_verifier([](const lanyard::core::fingerprint& f, const lanyard::tls::peer_cert_info&) {
    return f == accessory_id().fingerprint() ? std::error_code{}
                                             : std::make_error_code(std::errc::permission_denied);
  });
  std::optional<std::error_code> hs;
  s.async_handshake(lanyard::tls::role::client, [&](std::error_code ec) { hs = ec; });
  REQUIRE(run_until(io, [&] { return hs.has_value(); }));
  REQUIRE(!*hs);
  std::vector<std::byte> hello;
  lanyard::core::encode_frame(lanyard::core::hello_frame{acc.session_ids[fp], 0, {}}, hello);
  std::optional<std::error_code> wrote;
  asio::async_write(s, asio::buffer(hello), [&](std::error_code ec, std::size_t) { wrote = ec; });
  std::array<char, 512> buf{};
  std::optional<std::error_code> read_end;
  std::function<void()> read_all = [&] {
    s.async_read_some(asio::buffer(buf), [&](std::error_code ec, std::size_t) {
      if (ec)
        read_end = ec;
      else
        read_all();
    });
  };
  read_all();
  REQUIRE(run_until(io, [&] { return read_end.has_value(); }));
  // Reported against the controller that sent the HELLO, not the session's owner.
  const auto* closed = acc.diags.find(diag::connection_closed, channel_errc::session_not_owned);
  REQUIRE(closed);
  CHECK(closed->text_field(fk::controller) == to_string(stranger_id().fingerprint()));
  const auto* by_peer = closed->find(diag::key::by_peer);
  REQUIRE(by_peer);
  CHECK(std::get<bool>(by_peer->value) == false); // the accessory's verdict, not the app's
  CHECK(acc.diags.find_if(diag::connection_closed, [&](const auto& r) {
    return r.text_field(fk::controller) == to_string(fp);
  }) == nullptr);

  // phone-a's session is unharmed.
  phone.send("two");
  REQUIRE(run_until(io, [&] { return phone.done.count("two") == 1; }));
  CHECK(!phone.done["two"].first);
  CHECK(acc.received[fp] == std::vector<std::string>{"one", "two"});
  CHECK(phone.resets.empty());
}

TEST_CASE("channel: sends waiting for room go into the new session after a reset", "[channel]") {
  asio::io_context io;
  temp_dir dir;
  auto acc = std::make_unique<accessory_fixture>(io, dir.path);
  acc->pair(phone_id());
  const std::uint16_t port = acc->endpoint().port();
  const auto fp = phone_id().fingerprint();
  client_options o = phone_options();
  o.session.max_message_size = 256;
  o.session.max_replay_bytes = 1024; // three 255-byte messages fill it
  phone_fixture phone(io, o);
  phone.ch.start({"127.0.0.1", port});
  phone.send("pre"); // traffic in the old session: losing it is a reset
  REQUIRE(run_until(io, [&] { return phone.done.count("pre") == 1; }));

  acc.reset();
  REQUIRE(run_until(io, [&] { return phone.ch.state() == channel_state::waiting; }));
  const std::string big(254, 'x');
  for (char c : std::string("abcd"))
    phone.send(big + c); // a, b, c fill the buffer; d waits for room
  acc = std::make_unique<accessory_fixture>(io, dir.path, port);
  phone.ch.network_changed();
  REQUIRE(run_until(io, [&] { return phone.done.count(big + 'd') == 1; }));
  REQUIRE(phone.resets.size() == 1);
  CHECK(phone.resets[0].unacked.size() == 3);
  for (char c : std::string("abc"))
    CHECK(phone.done[big + c].first == lanyard::channel::errc::session_reset);
  CHECK(!phone.done[big + 'd'].first);
  CHECK(phone.done[big + 'd'].second == 0);
  CHECK(acc->received[fp] == std::vector<std::string>{big + 'd'});
}

TEST_CASE("channel: trust store decisions (TOFU pin, then a changed key is refused)", "[channel]") {
  asio::io_context io;
  temp_dir dir;
  auto store = std::make_shared<lanyard::trust::trust_store>(dir.path / "trust-store");
  REQUIRE(store->load().ok());
  client_options o = phone_options();
  o.trust.expected_fingerprint.reset();
  o.trust.store = store;
  o.trust.mode = lanyard::trust::trust_mode::tofu;
  o.trust.name = "Kitchen lamp";
  {
    accessory_fixture acc(io, dir.path / "a");
    acc.pair(phone_id());
    phone_fixture phone(io, o);
    phone.ch.start({"127.0.0.1", acc.endpoint().port()});
    phone.send("hi");
    REQUIRE(run_until(io, [&] { return phone.done.count("hi") == 1; }));
    CHECK(!phone.done["hi"].first);
    auto pin = store->find("lamp-1");
    REQUIRE(pin.has_value());
    CHECK(pin->fingerprint == accessory_id().fingerprint());
    CHECK(pin->method == lanyard::trust::pin_method::tofu);
    CHECK(pin->name == "Kitchen lamp");
  }
  // Another key under the pinned id: refused during the handshake, in every mode; fatal.
  accessory_fixture impostor(io, dir.path / "b", 0, {}, impostor_id());
  impostor.pair(phone_id());
  phone_fixture phone(io, o);
  phone.ch.start({"127.0.0.1", impostor.endpoint().port()});
  phone.send("secret");
  REQUIRE(run_until(io, [&] { return phone.ch.state() == channel_state::failed; }));
  CHECK(phone.ch.last_error() == lanyard::trust::trust_errc::key_changed);
  REQUIRE(run_until(io, [&] { return phone.done.count("secret") == 1; }));
  CHECK(phone.done["secret"].first == channel_errc::session_closed);
  CHECK(impostor.received.empty());
  bool described = false;
  for (const auto& l : phone.log)
    described = described || l.find("presented a different key") != std::string::npos;
  CHECK(described);
  CHECK(store->find("lamp-1")->fingerprint == accessory_id().fingerprint());
}

TEST_CASE("channel: at the session cap a newcomer takes a lingering session's place, or waits "
          "with too_many_sessions",
          "[channel]") {
  asio::io_context io;
  temp_dir dir;
  server_options so;
  so.max_sessions = 1;
  accessory_fixture acc(io, dir.path, 0, so);
  acc.pair(phone_id());
  acc.pair(stranger_id());
  auto phone = std::make_unique<phone_fixture>(io);
  phone->ch.start({"127.0.0.1", acc.endpoint().port()});
  phone->send("first");
  REQUIRE(run_until(io, [&] { return phone->done.count("first") == 1; }));
  {
    // Every session has a live connection: the second controller is told to wait.
    phone_fixture tablet(io, phone_options(), stranger_id());
    tablet.ch.start({"127.0.0.1", acc.endpoint().port()});
    REQUIRE(run_until(io, [&] {
      return std::find(tablet.reasons.begin(), tablet.reasons.end(),
                       std::error_code(channel_errc::too_many_sessions)) != tablet.reasons.end();
    }));
    CHECK(tablet.ch.state() != channel_state::failed); // it retries
    const auto* capped = acc.diags.find(diag::session_cap_refused, channel_errc::too_many_sessions);
    REQUIRE(capped);
    CHECK(capped->number(diag::key::max_sessions) == 1);
    CHECK(capped->text_field(fk::controller) == to_string(stranger_id().fingerprint()));
    CHECK(acc.srv->session_count() == 1);
  }
  // The phone goes away; its session lingers. The tablet's connection takes its place.
  phone.reset();
  phone_fixture tablet(io, phone_options(), stranger_id());
  tablet.ch.start({"127.0.0.1", acc.endpoint().port()});
  tablet.send("second");
  REQUIRE(run_until(io, [&] { return tablet.done.count("second") == 1; }));
  CHECK(!tablet.done["second"].first);
  CHECK(acc.srv->session_count() == 1);
  // The phone's lingering session made room, at the cap of one.
  const auto* dropped = acc.diags.find(diag::lingering_session_dropped);
  REQUIRE(dropped);
  CHECK(dropped->code == lanyard::channel::errc::session_expired);
  CHECK(dropped->text_field(fk::controller) == to_string(phone_id().fingerprint()));
  CHECK(dropped->number(diag::key::max_sessions) == 1);
}
