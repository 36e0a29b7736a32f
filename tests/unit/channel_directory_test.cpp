// client_channel started by device id through a discovery::directory (fed with made-up browse
// events, no Avahi), against a real accessory::server over loopback TLS: paths tried in the
// directory's order, unreachable paths skipped, not_discovered while absent, an immediate
// attempt on a directory change, the paths looked up again on every reconnect, a failed path
// left reachable (the channel never writes the directory), bad arguments,
// and the resolution delay (found on p2p first: wait for Wi-Fi, up to the delay).
#include <lanyard/client/client_channel.hpp>

#include <lanyard/accessory/server.hpp>
#include <lanyard/channel/error.hpp>
#include <lanyard/discovery/directory.hpp>
#include <lanyard/tls/context.hpp>
#include <lanyard/trust/controller_store.hpp>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include <catch2/catch.hpp>

#include "support/io_test_support.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using asio::ip::tcp;
using lanyard::accessory::server;
using lanyard::client::channel_state;
using lanyard::client::client_channel;
using lanyard::client::client_options;
using lanyard::tls::context;
using lanyard::tls::identity;
namespace discovery = lanyard::discovery;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

using lanyard::test::bytes;
using lanyard::test::make_identity;
using lanyard::test::run_until;
using lanyard::test::text;

const identity& accessory_id() {
  static const identity id = make_identity("lamp-1");
  return id;
}
const identity& phone_id() {
  static const identity id = make_identity("phone-a");
  return id;
}

// An accessory server on loopback (any free port, or `port`) with the phone paired; records
// messages.
struct accessory {
  accessory(asio::io_context& io, const fs::path& dir, std::uint16_t port = 0)
      : store(std::make_shared<lanyard::trust::controller_store>(dir / "controllers")) {
    fs::create_directories(dir);
    REQUIRE(store->load().ok());
    if (store->list().empty()) {
      auto now = std::chrono::system_clock::now();
      REQUIRE(store->open_window(now).ok());
      REQUIRE(store
                  ->pair(phone_id().fingerprint(), "phone-a", lanyard::trust::controller_role::user,
                         now)
                  .ok());
      REQUIRE(store->close_window().ok());
    }
    srv = std::make_unique<server>(io.get_executor(), context(accessory_id()), store);
    srv->set_message_handler([this](const server::controller_id&, std::uint64_t,
                                    std::span<const std::byte> p) { received.push_back(text(p)); });
    REQUIRE(!srv->listen(tcp::endpoint(asio::ip::address_v4::loopback(), port)));
  }
  std::uint16_t port() const { return srv->local_endpoint().port(); }

  std::shared_ptr<lanyard::trust::controller_store> store;
  std::unique_ptr<server> srv;
  std::vector<std::string> received;
};

// A loopback port nobody listens on: connecting to it is refused at once.
std::uint16_t closed_port(asio::io_context& io) {
  tcp::acceptor a(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  return a.local_endpoint().port();
}

// A browse instance of "lamp-1" on a made-up interface: the index orders the directory's
// paths; being unknown to the kernel (1000 + n), the path is not pinned to an interface, so it
// plays no part in connecting to 127.0.0.1.
discovery::service_instance instance(unsigned if_index, std::uint16_t port,
                                     const char* id = "lamp-1") {
  discovery::service_instance s;
  s.name = "Lamp";
  s.type = "_lanyard._tcp";
  s.domain = "local";
  s.interface = {1000 + if_index, "if" + std::to_string(if_index),
                 lanyard::link::interface_kind::other};
  s.protocol = discovery::ip_protocol::ipv4;
  s.host = "lamp.local";
  s.port = port;
  s.addresses = {asio::ip::make_address("127.0.0.1")};
  REQUIRE_FALSE(s.txt.set("id", id));
  return s;
}

// The same, seen over a link of `kind` (the kind discovery reports; the made-up interface is
// unknown to the kernel, so the path stays unpinned and reaches 127.0.0.1).
discovery::service_instance instance_on(lanyard::link::interface_kind kind, unsigned if_index,
                                        std::uint16_t port) {
  discovery::service_instance s = instance(if_index, port);
  s.interface.kind = kind;
  return s;
}

discovery::browse_event added(discovery::service_instance s) {
  return {discovery::browse_event_kind::added, std::move(s)};
}

// backoff_initial: a long backoff proves an attempt came from a directory change, not from
// the retry timer (full jitter could still pick a short delay; the test then only passes
// for the wrong reason, it cannot fail).
client_options phone_options(std::chrono::milliseconds backoff_initial = 20ms) {
  client_options o;
  o.trust.expected_fingerprint = accessory_id().fingerprint();
  o.backoff.initial = backoff_initial;
  o.backoff.cap = std::max<std::chrono::milliseconds>(backoff_initial, 200ms);
  return o;
}

// Interface kinds for this process (LANYARD_INTERFACE_KINDS, read by the channel's path
// monitor): lo as `lo_kind`, every other interface of this host as cellular, so that the host's
// own links (an eth0 is "wired", which ranks before Wi-Fi) play no part in what the resolution
// delay waits for. Only the usable kinds matter to it; the paths themselves are unpinned.
struct interface_kinds {
  explicit interface_kinds(const char* lo_kind) {
    std::string v = std::string("lo=") + lo_kind;
    for (const auto& e : fs::directory_iterator("/sys/class/net"))
      if (e.path().filename() != "lo") v += "," + e.path().filename().string() + "=cellular";
    ::setenv("LANYARD_INTERFACE_KINDS", v.c_str(), 1);
  }
  ~interface_kinds() { ::unsetenv("LANYARD_INTERFACE_KINDS"); }
  interface_kinds(const interface_kinds&) = delete;
  interface_kinds& operator=(const interface_kinds&) = delete;
};

struct phone {
  phone(asio::io_context& io, client_options o)
      : ch(io.get_executor(), context(phone_id()), with_log(o)) {
    ch.set_state_handler([this](channel_state s, std::error_code why) {
      states.push_back(s);
      if (why) reasons.push_back(why);
    });
    ch.set_session_reset_handler([this](const lanyard::core::events::session_reset& r) {
      ++resets;
      for (const auto& m : r.unacked)
        reset_unacked.push_back(text(m.payload));
    });
  }
  client_options with_log(client_options o) {
    o.log = [this](std::string_view line) { log.emplace_back(line); };
    return o;
  }
  void send(const std::string& s) {
    ch.async_send(bytes(s), [this, s](std::error_code ec, std::uint64_t) {
      if (!ec) acked.push_back(s);
    });
  }
  bool logged(const std::string& needle) const {
    return std::any_of(log.begin(), log.end(),
                       [&](const std::string& l) { return l.find(needle) != std::string::npos; });
  }
  bool saw_reason(std::error_code ec) const {
    return std::find(reasons.begin(), reasons.end(), ec) != reasons.end();
  }

  client_channel ch;
  std::vector<channel_state> states;
  std::vector<std::error_code> reasons;
  std::vector<std::string> log;
  std::vector<std::string> acked;
  int resets = 0;
  std::vector<std::string> reset_unacked;
};

} // namespace

TEST_CASE("channel by device id: the directory's reachable paths are tried in order",
          "[channel][directory]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-channel-dir");
  // Two accessory servers with the same identity: whichever gets the message was used.
  accessory first(io, dir.path / "first");
  accessory second(io, dir.path / "second");
  auto directory = std::make_shared<discovery::directory>();
  // In the directory's order (interface index): 1 refuses; 2 (the second server) is marked
  // unreachable, so it must be skipped although it would accept; 3 is the first server; 4 the
  // second server again.
  directory->apply(added(instance(1, closed_port(io))));
  directory->apply(added(instance(2, second.port())));
  directory->apply(added(instance(3, first.port())));
  directory->apply(added(instance(4, second.port())));
  REQUIRE(directory->report_unreachable(1002, asio::ip::make_address("127.0.0.1"), second.port())
              .size() == 1);
  REQUIRE(directory->find("lamp-1")->paths.size() == 4);

  phone p(io, phone_options());
  p.ch.start("lamp-1", directory);
  p.send("hello");
  REQUIRE(run_until(io, [&] { return p.acked.size() == 1; }));
  CHECK(first.received == std::vector<std::string>{"hello"});
  CHECK(second.received.empty());
  CHECK(p.ch.state() == channel_state::ready);
  CHECK(p.reasons.empty()); // the refusing path was passed over within the same attempt
  p.ch.cancel();
  run_until(
      io, [&] { return first.srv->session_count() == 0; }, 5s);
}

TEST_CASE("channel by device id: waits while not discovered, attempts at once when a path "
          "appears",
          "[channel][directory]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-channel-dir");
  accessory acc(io, dir.path);
  auto directory = std::make_shared<discovery::directory>();
  directory->apply(added(instance(1, 4433, "another-device")));

  phone p(io, phone_options(1h));
  p.ch.start("lamp-1", directory);
  p.send("queued while undiscovered");
  REQUIRE(run_until(io, [&] { return p.ch.state() == channel_state::waiting; }));
  CHECK(p.ch.last_error() == lanyard::channel::errc::not_discovered);
  CHECK(p.logged("lamp-1 (via the discovery directory): no reachable path"));

  // Events of another accessory change nothing.
  p.ch.directory_changed(directory->apply(added(instance(2, 4434, "another-device"))));
  CHECK(p.ch.state() == channel_state::waiting);

  // The accessory appears: attempt at once (the backoff is an hour).
  auto events = directory->apply(added(instance(3, acc.port())));
  REQUIRE_FALSE(events.empty());
  p.ch.directory_changed(events);
  CHECK(p.ch.state() == channel_state::preparing);
  // "a new path may work" or "new path in the directory": the first of the two triggers may
  // leave the channel in its resolution delay (a host whose eth0 is "wired" may still find the
  // accessory there), and the second then re-decides without a line of its own.
  CHECK(p.logged("reconnecting now"));
  REQUIRE(run_until(io, [&] { return p.acked.size() == 1; }));
  CHECK(acc.received == std::vector<std::string>{"queued while undiscovered"});
  p.ch.cancel();
}

TEST_CASE("channel by device id: a path reported reachable again triggers an attempt",
          "[channel][directory]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-channel-dir");
  accessory acc(io, dir.path);
  auto directory = std::make_shared<discovery::directory>();
  directory->apply(added(instance(1, acc.port())));
  directory->report_unreachable(1001, asio::ip::make_address("127.0.0.1"), acc.port());

  phone p(io, phone_options(1h));
  p.ch.start("lamp-1", directory);
  REQUIRE(run_until(io, [&] { return p.ch.state() == channel_state::waiting; }));
  CHECK(p.ch.last_error() == lanyard::channel::errc::not_discovered);
  p.ch.directory_changed(
      directory->report_reachable(1001, asio::ip::make_address("127.0.0.1"), acc.port()));
  REQUIRE(run_until(io, [&] { return p.ch.state() == channel_state::ready; }));
  p.ch.cancel();
}

// The channel does not write the directory (docs/channel.md, "Connecting by device id"): a
// path whose attempt failed is not marked unreachable, so it is raced again on the next
// attempt, and it works as soon as the accessory answers there.
TEST_CASE("channel by device id: a failed path stays reachable and is tried again",
          "[channel][directory]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-channel-dir");
  const std::uint16_t port = closed_port(io);
  auto directory = std::make_shared<discovery::directory>();
  directory->apply(added(instance(1, port)));

  phone p(io, phone_options());
  p.ch.start("lamp-1", directory);
  REQUIRE(run_until(io, [&] { return p.ch.state() == channel_state::waiting; }));
  CHECK(p.ch.last_error() != lanyard::channel::errc::not_discovered);
  REQUIRE(directory->find("lamp-1")->paths.size() == 1);
  CHECK(directory->find("lamp-1")->paths[0].reachable);
  // The accessory starts listening on that port; nothing is said to the channel.
  accessory acc(io, dir.path, port);
  p.send("after the failure");
  REQUIRE(run_until(io, [&] { return p.acked.size() == 1; }));
  CHECK(acc.received == std::vector<std::string>{"after the failure"});
  CHECK(directory->find("lamp-1")->paths[0].reachable);
  p.ch.cancel();
}

TEST_CASE("channel by device id: every reconnect looks the paths up again",
          "[channel][directory]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-channel-dir");
  auto acc = std::make_unique<accessory>(io, dir.path);
  auto directory = std::make_shared<discovery::directory>();
  directory->apply(added(instance(1, acc->port())));

  phone p(io, phone_options(1h));
  p.ch.start("lamp-1", directory);
  p.send("a");
  REQUIRE(run_until(io, [&] { return p.acked.size() == 1; }));

  // The accessory restarts on another port (same identity and controller store) and
  // announces it: the old path goes, a new one comes.
  const std::uint16_t old_port = acc->port();
  acc.reset();
  REQUIRE(run_until(io, [&] { return p.ch.state() == channel_state::waiting; }));
  acc = std::make_unique<accessory>(io, dir.path);
  REQUIRE(acc->port() != old_port);
  discovery::browse_event moved{discovery::browse_event_kind::updated, instance(1, acc->port())};
  moved.endpoint_changed = true;
  auto events = directory->apply(moved);
  p.ch.directory_changed(events);

  p.send("b"); // into the old session: the restarted accessory never acknowledges it
  REQUIRE(run_until(io, [&] { return p.resets == 1 && p.ch.state() == channel_state::ready; }));
  CHECK(p.reset_unacked == std::vector<std::string>{"b"});
  p.send("c");
  REQUIRE(run_until(io, [&] { return p.acked.size() == 2; }));
  CHECK(p.acked == std::vector<std::string>{"a", "c"});
  CHECK(acc->received == std::vector<std::string>{"c"});
  p.ch.cancel();
}

TEST_CASE("channel by device id: bad arguments fail the channel", "[channel][directory]") {
  asio::io_context io;
  auto directory = std::make_shared<discovery::directory>();

  SECTION("null directory") {
    phone p(io, phone_options());
    p.ch.start("lamp-1", nullptr);
    REQUIRE(run_until(io, [&] { return p.ch.state() == channel_state::failed; }));
    CHECK(p.ch.last_error() == std::errc::invalid_argument);
    CHECK(p.logged("no discovery directory given"));
  }
  SECTION("empty device id") {
    phone p(io, phone_options());
    p.ch.start("", directory);
    REQUIRE(run_until(io, [&] { return p.ch.state() == channel_state::failed; }));
    CHECK(p.logged("empty device id"));
  }
  SECTION("trust.device_id names another device") {
    client_options o = phone_options();
    o.trust.device_id = "lamp-2";
    phone p(io, o);
    p.ch.start("lamp-1", directory);
    p.send("never");
    REQUIRE(run_until(io, [&] { return p.ch.state() == channel_state::failed; }));
    CHECK(p.logged("trust.device_id is \"lamp-2\""));
    CHECK(p.acked.empty());
  }
}

TEST_CASE("channel by device id: a new path restarts an attempt stuck in its TCP connect",
          "[channel][directory]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-channel-dir");
  accessory acc(io, dir.path);

  // A listener that never accepts, its accept queue (backlog 0: one connection) filled: Linux
  // drops further SYNs, so a connect to it hangs (a path that swallows SYNs, on loopback).
  tcp::acceptor stuck(io);
  stuck.open(tcp::v4());
  stuck.bind(tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  stuck.listen(0);
  tcp::socket filler(io);
  filler.connect(stuck.local_endpoint());
  auto directory = std::make_shared<discovery::directory>();
  directory->apply(added(instance(2, stuck.local_endpoint().port())));

  client_options o = phone_options(1h);
  o.connect_timeout = std::chrono::hours(1);
  phone p(io, o);
  p.ch.start("lamp-1", directory);
  p.send("hello");
  // Give the SYN time to be dropped (the state stays preparing: nothing to wait for).
  run_until(
      io, [] { return false; }, 1s);
  REQUIRE(p.ch.state() == channel_state::preparing);

  // The accessory's real path appears before the stuck one: the attempt starts over.
  p.ch.directory_changed(directory->apply(added(instance(1, acc.port()))));
  REQUIRE(run_until(io, [&] { return p.acked.size() == 1; }));
  CHECK(acc.received == std::vector<std::string>{"hello"});
  CHECK(p.logged("new path in the directory, reconnecting now"));
  p.ch.cancel();
}

TEST_CASE("channel by device id: an accessory that stops listening on one address (its SoftAP "
          "after provisioning) keeps the session: the app resumes through its other listener",
          "[channel][directory][server]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-channel-dir");
  accessory acc(io, dir.path);
  const tcp::endpoint softap = acc.srv->local_endpoint();
  REQUIRE(!acc.srv->listen(tcp::endpoint(asio::ip::address_v4::loopback(), 0)));
  REQUIRE(acc.srv->local_endpoints().size() == 2);
  const tcp::endpoint home = acc.srv->local_endpoints()[1];
  auto directory = std::make_shared<discovery::directory>();
  directory->apply(added(instance(1, softap.port())));
  directory->apply(added(instance(2, home.port())));

  phone p(io, phone_options());
  p.ch.start("lamp-1", directory);
  p.send("a");
  REQUIRE(run_until(io, [&] { return p.acked.size() == 1; }));
  REQUIRE(acc.srv->connected(phone_id().fingerprint()));

  // The connection came in through the first listener: closing it and then ending the
  // connections through it leaves the session lingering, and the app's next attempt (the first
  // path is refused now) resumes it through the second.
  REQUIRE(!acc.srv->stop_listening(softap));
  CHECK(acc.srv->local_endpoints() == std::vector<tcp::endpoint>{home});
  CHECK(acc.srv->stop_listening(softap) ==
        std::make_error_code(std::errc::no_such_device_or_address));
  CHECK(acc.srv->connected(phone_id().fingerprint())); // closing a listener ends nothing
  CHECK(acc.srv->end_connections_through(home) == 0);
  CHECK(acc.srv->end_connections_through(softap) == 1);
  CHECK(acc.srv->session_count() == 1);
  // The channel noticed (its state left ready) and came back.
  REQUIRE(run_until(
      io, [&] { return std::count(p.states.begin(), p.states.end(), channel_state::ready) >= 2; }));
  p.send("b");
  REQUIRE(run_until(io, [&] { return p.acked.size() == 2; }));
  CHECK(p.resets == 0);
  CHECK(acc.received == std::vector<std::string>{"a", "b"});
  CHECK(p.ch.current_path().has_value());
  CHECK(p.ch.current_path()->port == home.port());
  // A planned end, said with a TLS close_notify: the app has no "data may have been cut off"
  // to report.
  CHECK_FALSE(p.logged("close_notify"));
  p.ch.cancel();
}

TEST_CASE("server: stop_listening leaves the connections that came through it up",
          "[channel][server]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-channel-dir");
  accessory acc(io, dir.path);
  const tcp::endpoint only = acc.srv->local_endpoint();
  auto directory = std::make_shared<discovery::directory>();
  directory->apply(added(instance(1, only.port())));
  phone p(io, phone_options());
  p.ch.start("lamp-1", directory);
  p.send("a");
  REQUIRE(run_until(io, [&] { return p.acked.size() == 1; }));
  REQUIRE(!acc.srv->stop_listening(only));
  CHECK(acc.srv->local_endpoints().empty());
  CHECK(acc.srv->local_endpoint() == tcp::endpoint{});
  p.send("b");
  REQUIRE(run_until(io, [&] { return p.acked.size() == 2; }));
  CHECK(p.ch.state() == channel_state::ready);
  // A new connection cannot come in any more.
  tcp::socket s(io);
  std::error_code ec;
  s.connect(only, ec);
  CHECK(ec == asio::error::connection_refused);
  p.ch.cancel();
}

// RFC 8305 §3 style resolution delay (path_options::resolution_delay, docs/paths.md). This host
// has a usable "Wi-Fi" link (lo, by the kind override) unless a test says otherwise, so an
// accessory found on p2p first may still turn up on Wi-Fi.
TEST_CASE("channel by device id: found on p2p first, the channel waits for Wi-Fi and starts on "
          "it as soon as it is found",
          "[channel][directory][resolution_delay]") {
  interface_kinds kinds("wifi");
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-channel-dir");
  accessory over_p2p(io, dir.path / "p2p");
  accessory over_wifi(io, dir.path / "wifi");
  auto directory = std::make_shared<discovery::directory>();
  directory->apply(added(instance_on(lanyard::link::interface_kind::p2p, 1, over_p2p.port())));

  client_options o = phone_options(1h);
  o.paths.resolution_delay = 1h; // only Wi-Fi's arrival can end the wait within the test
  phone p(io, o);
  std::vector<lanyard::client::path_change> moves;
  p.ch.set_path_handler([&](const lanyard::client::path_change& c) { moves.push_back(c); });
  p.ch.start("lamp-1", directory);
  p.send("hello");
  REQUIRE(run_until(
      io, [&] { return p.logged("waiting up to"); }, 30s));
  CHECK(p.logged("found on if1 (p2p) first; waiting up to"));
  CHECK(p.logged("ms for a wifi path before connecting"));
  run_until(
      io, [] { return false; }, 1s); // nothing may happen meanwhile
  CHECK(p.ch.state() == channel_state::preparing);
  CHECK(over_p2p.srv->session_count() == 0);

  // Another p2p answer (its IPv6 address, say) does not end the wait; Wi-Fi's does.
  p.ch.directory_changed(
      directory->apply(added(instance_on(lanyard::link::interface_kind::p2p, 3, over_p2p.port()))));
  run_until(
      io, [] { return false; }, 1s);
  CHECK(over_p2p.srv->session_count() == 0);
  p.ch.directory_changed(directory->apply(
      added(instance_on(lanyard::link::interface_kind::wifi, 2, over_wifi.port()))));
  REQUIRE(run_until(
      io, [&] { return p.acked.size() == 1; }, 30s));
  CHECK(over_wifi.received == std::vector<std::string>{"hello"});
  CHECK(over_p2p.received.empty());
  REQUIRE(moves.size() == 1);
  CHECK(moves[0].reason == lanyard::client::path_change_reason::connected);
  CHECK(moves[0].to.kind == lanyard::core::interface_kind::wifi);
  CHECK(p.logged("found on if2 (wifi) within the resolution delay; racing the paths now"));
  p.ch.cancel();
}

TEST_CASE("channel by device id: found on p2p only, the channel starts on it when the resolution "
          "delay is over",
          "[channel][directory][resolution_delay]") {
  interface_kinds kinds("wifi");
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-channel-dir");
  accessory acc(io, dir.path);
  auto directory = std::make_shared<discovery::directory>();

  client_options o = phone_options(); // short backoff: the reconnect below is a retry
  o.paths.resolution_delay = 300ms;
  phone p(io, o);
  std::vector<lanyard::client::path_change> moves;
  p.ch.set_path_handler([&](const lanyard::client::path_change& c) { moves.push_back(c); });
  p.ch.start("lamp-1", directory);
  p.send("hello");
  REQUIRE(run_until(
      io, [&] { return p.ch.state() == channel_state::waiting; }, 30s));
  // The window counts from the moment the accessory was found, not from start().
  const auto found = std::chrono::steady_clock::now();
  p.ch.directory_changed(
      directory->apply(added(instance_on(lanyard::link::interface_kind::p2p, 1, acc.port()))));
  REQUIRE(run_until(
      io, [&] { return !moves.empty(); }, 30s));
  CHECK(std::chrono::steady_clock::now() - found >= 300ms); // timers never fire early
  CHECK(moves[0].to.kind == lanyard::core::interface_kind::p2p);
  CHECK(p.logged("no wifi path within the resolution delay (300 ms); racing the paths now"));
  REQUIRE(run_until(
      io, [&] { return p.acked.size() == 1; }, 30s));
  CHECK(acc.received == std::vector<std::string>{"hello"});

  // A reconnect over paths known for longer does not wait: cut the connection; the channel
  // comes back without announcing another wait.
  REQUIRE(acc.srv->end_connections_through(acc.srv->local_endpoint()) == 1);
  REQUIRE(run_until(
      io, [&] { return std::count(p.states.begin(), p.states.end(), channel_state::ready) >= 2; },
      30s));
  CHECK(std::count_if(p.log.begin(), p.log.end(), [](const std::string& l) {
          return l.find("waiting up to") != std::string::npos;
        }) == 1);
  p.ch.cancel();
}

TEST_CASE("channel by device id: no wait when the best kind is found first, when no better link "
          "is up, or with a zero delay",
          "[channel][directory][resolution_delay]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-channel-dir");
  accessory acc(io, dir.path);
  auto directory = std::make_shared<discovery::directory>();
  client_options o = phone_options(1h);
  o.paths.resolution_delay = 1h; // a wait would outlast the test's bound
  std::optional<interface_kinds> kinds;

  SECTION("Wi-Fi found first") {
    kinds.emplace("wifi");
    directory->apply(added(instance_on(lanyard::link::interface_kind::wifi, 1, acc.port())));
  }
  SECTION("p2p found first, both at once (a cached answer)") {
    kinds.emplace("wifi");
    directory->apply(added(instance_on(lanyard::link::interface_kind::p2p, 1, acc.port())));
    directory->apply(added(instance_on(lanyard::link::interface_kind::wifi, 2, acc.port())));
  }
  SECTION("p2p found, but this host has no Wi-Fi link up") {
    kinds.emplace("p2p");
    directory->apply(added(instance_on(lanyard::link::interface_kind::p2p, 1, acc.port())));
  }
  SECTION("p2p found, Wi-Fi prohibited by the policy") {
    kinds.emplace("wifi");
    o.paths.policy.prohibited.insert(lanyard::core::interface_kind::wifi);
    directory->apply(added(instance_on(lanyard::link::interface_kind::p2p, 1, acc.port())));
  }
  SECTION("p2p found, resolution delay 0") {
    kinds.emplace("wifi");
    o.paths.resolution_delay = 0ms;
    directory->apply(added(instance_on(lanyard::link::interface_kind::p2p, 1, acc.port())));
  }
  phone p(io, o);
  p.ch.start("lamp-1", directory);
  p.send("hello");
  REQUIRE(run_until(
      io, [&] { return p.acked.size() == 1; }, 30s));
  CHECK(acc.received == std::vector<std::string>{"hello"});
  CHECK_FALSE(p.logged("waiting up to"));
  p.ch.cancel();
}
