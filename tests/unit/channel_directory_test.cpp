// client_channel started by device id through a discovery::directory (fed with made-up browse
// events, no Avahi), against a real accessory::server over loopback TLS: paths tried in the
// directory's order, unreachable paths skipped, not_discovered while absent, an immediate
// attempt on a directory change, the paths looked up again on every reconnect, a failed path
// left reachable (the channel never writes the directory), bad arguments,
// and the resolution delay (found on p2p first: wait for Wi-Fi, up to the delay). What the
// channel reports is asserted on its diagnostics (ids, codes, fields), never on log text, plus
// the detail of its last error (last_error_detail()): a trust refusal's fingerprints, the
// rejected paths of no_viable_path, a refused pairing's attempts left.
#include <lanyard/client/client_channel.hpp>

#include <lanyard/accessory/server.hpp>
#include <lanyard/accessory/server_options.hpp>
#include <lanyard/channel/error.hpp>
#include <lanyard/client/diagnostics.hpp>
#include <lanyard/core/fingerprint.hpp>
#include <lanyard/core/pairing_error.hpp>
#include <lanyard/discovery/directory.hpp>
#include <lanyard/tls_engine/context.hpp>
#include <lanyard/tls_engine/error.hpp>
#include <lanyard/trust/controller_store.hpp>
#include <lanyard/trust/error.hpp>
#include <lanyard/trust/setup_credentials.hpp>
#include <lanyard/trust/trust_store.hpp>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include <catch2/catch.hpp>

#include "support/diagnostics_recorder.hpp"
#include "support/io_test_support.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

using asio::ip::tcp;
using lanyard::accessory::server;
using lanyard::client::channel_state;
using lanyard::client::client_channel;
using lanyard::client::client_options;
using lanyard::tls::context;
using lanyard::tls::identity;
namespace discovery = lanyard::discovery;
namespace diag = lanyard::client::diag;
namespace key = lanyard::core::field_key;
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
const identity& impostor_id() { // claims to be lamp-1 with another key
  static const identity id = make_identity("lamp-1");
  return id;
}

// An accessory server on loopback (any free port, or `port`) with the phone paired; records
// messages.
struct accessory {
  accessory(asio::io_context& io, const fs::path& dir, std::uint16_t port = 0,
            const identity& me = accessory_id())
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
    srv = std::make_unique<server>(io.get_executor(), context(me), store);
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
      : ch(io.get_executor(), context(phone_id()), with_diagnostics(o)) {
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
  client_options with_diagnostics(client_options o) {
    o.diagnostics = diags.handler();
    return o;
  }
  void send(const std::string& s) {
    ch.async_send(bytes(s), [this, s](std::error_code ec, std::uint64_t) {
      if (!ec) acked.push_back(s);
    });
  }
  // The first diagnostic `id` whose text field `k` is `v`, or nullptr.
  const lanyard::core::diagnostic_record* with_field(std::string_view id, std::string_view k,
                                                     std::string_view v) const {
    return diags.find_if(id, [&](const auto& r) { return r.text_field(k) == v; });
  }
  bool saw_reason(std::error_code ec) const {
    return std::find(reasons.begin(), reasons.end(), ec) != reasons.end();
  }

  // Before `ch`: the channel holds a handler into it.
  lanyard::test::diagnostics_recorder diags;
  client_channel ch;
  std::vector<channel_state> states;
  std::vector<std::error_code> reasons;
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
  const auto* failed = p.diags.find(diag::attempt_failed, lanyard::channel::errc::not_discovered);
  REQUIRE(failed != nullptr);
  CHECK(failed->level == lanyard::core::diagnostic_level::warning);
  CHECK(failed->text_field(key::device_id) == "lamp-1");
  CHECK(failed->text_field(key::step) == "directory");

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
  const auto* now = p.diags.find(diag::reconnecting_now);
  REQUIRE(now != nullptr);
  CHECK((now->text_field(diag::trigger) == "new_path" ||
         now->text_field(diag::trigger) == "new_viable_path"));
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
    const auto* d =
        p.diags.find(diag::start_failed, std::make_error_code(std::errc::invalid_argument));
    REQUIRE(d != nullptr);
    CHECK(d->level == lanyard::core::diagnostic_level::error);
    CHECK(d->text_field(diag::problem) == "no_directory");
    CHECK(d->text_field(key::device_id) == "lamp-1");
    // The state's reason comes with the same detail.
    const lanyard::core::error_detail e = p.ch.last_error_detail();
    CHECK(e.code == std::errc::invalid_argument);
    CHECK(e.text(diag::problem) == "no_directory");
    CHECK(e.detail == d->text);
  }
  SECTION("empty device id") {
    phone p(io, phone_options());
    p.ch.start("", directory);
    REQUIRE(run_until(io, [&] { return p.ch.state() == channel_state::failed; }));
    const auto* d =
        p.diags.find(diag::start_failed, std::make_error_code(std::errc::invalid_argument));
    REQUIRE(d != nullptr);
    CHECK(d->text_field(diag::problem) == "empty_device_id");
  }
  SECTION("trust.device_id names another device") {
    client_options o = phone_options();
    o.trust.device_id = "lamp-2";
    phone p(io, o);
    p.ch.start("lamp-1", directory);
    p.send("never");
    REQUIRE(run_until(io, [&] { return p.ch.state() == channel_state::failed; }));
    const auto* d =
        p.diags.find(diag::start_failed, std::make_error_code(std::errc::invalid_argument));
    REQUIRE(d != nullptr);
    CHECK(d->text_field(diag::problem) == "device_id_mismatch");
    CHECK(d->text_field(diag::trust_device_id) == "lamp-2");
    CHECK(d->text_field(key::device_id) == "lamp-1");
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
  CHECK(p.with_field(diag::reconnecting_now, diag::trigger, "new_path") != nullptr);
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
  CHECK_FALSE(p.diags.has(diag::connection_lost, lanyard::tls::tls_errc::stream_truncated));
  CHECK(std::none_of(p.diags.seen.begin(), p.diags.seen.end(), [](const auto& r) {
    return r.code == lanyard::tls::tls_errc::stream_truncated;
  }));
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
      io, [&] { return p.diags.has(diag::resolution_wait_started); }, 30s));
  const auto* wait = p.diags.find(diag::resolution_wait_started);
  CHECK(wait->text_field(key::interface) == "if1");
  CHECK(wait->text_field(key::interface_kind) == "p2p");
  CHECK(wait->text_field(diag::awaited) == "wifi");
  CHECK(wait->number(diag::wait_ms) > 3'000'000u); // about the hour of the delay
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
  const auto* found = p.with_field(diag::resolution_wait_ended, diag::outcome, "found");
  REQUIRE(found != nullptr);
  CHECK(found->text_field(key::interface) == "if2");
  CHECK(found->text_field(key::interface_kind) == "wifi");
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
  const auto* over = p.diags.find(diag::resolution_wait_ended);
  REQUIRE(over != nullptr);
  CHECK(over->text_field(diag::outcome) == "expired");
  CHECK(over->text_field(diag::awaited) == "wifi");
  CHECK(over->number(diag::delay_ms) == 300u);
  REQUIRE(run_until(
      io, [&] { return p.acked.size() == 1; }, 30s));
  CHECK(acc.received == std::vector<std::string>{"hello"});

  // A reconnect over paths known for longer does not wait: cut the connection; the channel
  // comes back without announcing another wait.
  REQUIRE(acc.srv->end_connections_through(acc.srv->local_endpoint()) == 1);
  REQUIRE(run_until(
      io, [&] { return std::count(p.states.begin(), p.states.end(), channel_state::ready) >= 2; },
      30s));
  CHECK(p.diags.count(diag::resolution_wait_started) == 1);
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
  CHECK_FALSE(p.diags.has(diag::resolution_wait_started));
  p.ch.cancel();
}

// Diagnostics (docs/diagnostics.md): the log fallback keeps the old lines, and the state's reason
// reaches the app with its fields (last_error_detail()).
TEST_CASE("channel diagnostics: without a diagnostics handler, log receives the same lines",
          "[channel][diagnostics]") {
  asio::io_context io;
  auto directory = std::make_shared<discovery::directory>();
  std::vector<std::string> lines;
  lanyard::test::diagnostics_recorder diags;
  client_options o = phone_options();
  o.log = [&](std::string_view l) { lines.emplace_back(l); };

  SECTION("log only: the line as it always was") {
    client_channel ch(io.get_executor(), context(phone_id()), o);
    ch.start("", directory);
    REQUIRE(run_until(io, [&] { return ch.state() == channel_state::failed; }));
    CHECK(lines ==
          std::vector<std::string>{"channel to \"\": cannot start by device id: empty device id"});
  }
  SECTION("both: diagnostics only, with that line as its text") {
    o.diagnostics = diags.handler();
    client_channel ch(io.get_executor(), context(phone_id()), o);
    ch.start("", directory);
    REQUIRE(run_until(io, [&] { return ch.state() == channel_state::failed; }));
    CHECK(lines.empty());
    REQUIRE(diags.seen.size() == 1);
    CHECK(diags.seen[0].id == diag::start_failed);
    CHECK(diags.seen[0].text == "channel to \"\": cannot start by device id: empty device id");
  }
}

TEST_CASE("channel by device id: another key under the pinned id: the refusal's fingerprints "
          "reach the app; the channel waits instead of failing, and the real accessory wins once "
          "it is announced",
          "[channel][directory][diagnostics][security]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-channel-dir");
  auto store = std::make_shared<lanyard::trust::trust_store>(dir.path / "trust-store");
  REQUIRE(store->load().ok());
  REQUIRE(store
              ->pin("lamp-1", accessory_id().fingerprint(), lanyard::trust::pin_method::tofu,
                    "Lamp", std::chrono::system_clock::now())
              .ok());
  accessory impostor(io, dir.path / "impostor", 0, impostor_id());
  auto directory = std::make_shared<discovery::directory>();
  directory->apply(added(instance(1, impostor.port())));

  client_options o = phone_options(1h);
  o.trust.expected_fingerprint.reset();
  o.trust.store = store;
  phone p(io, o);
  p.ch.start("lamp-1", directory);
  p.send("secret");
  // The impostor's is the only path (the real lamp is away): discovery is no proof, so the
  // channel waits with the refusal as its reason rather than letting a neighbour end it.
  REQUIRE(run_until(io, [&] {
    return p.ch.state() == channel_state::waiting &&
           p.ch.last_error() == lanyard::trust::trust_errc::key_changed;
  }));
  CHECK(impostor.received.empty());

  const std::string pinned = lanyard::core::to_string(accessory_id().fingerprint());
  const std::string presented = lanyard::core::to_string(impostor_id().fingerprint());
  REQUIRE(pinned != presented);
  const lanyard::core::error_detail e = p.ch.last_error_detail();
  CHECK(e.code == lanyard::trust::trust_errc::key_changed);
  CHECK(e.text(key::fingerprint_pinned) == pinned);
  CHECK(e.text(key::step) == "race");
  CHECK(e.number(diag::pinned_since_s).has_value());
  // No setup payload given: no expected fingerprint to report.
  CHECK(e.find(key::fingerprint_expected) == nullptr);

  const auto* path = p.diags.find(diag::path_attempt_failed);
  REQUIRE(path != nullptr);
  CHECK(path->code == lanyard::trust::trust_errc::key_changed);
  CHECK(path->text_field(key::address) == "127.0.0.1");
  CHECK(path->number(key::port) == impostor.port());
  CHECK(path->text_field(key::step) == "tls_handshake"); // the racer's step that failed
  CHECK(path->text_field(key::device_id) == "lamp-1");
  CHECK(path->text_field(key::fingerprint_pinned) == pinned);
  // Who presented what, as fields: the racer hands over the refused path's verdict.
  CHECK(path->text_field(key::fingerprint_presented) == presented);
  CHECK(path->text.find("presented a different key") != std::string::npos);
  const auto* refused = p.diags.find(diag::trust_refused, lanyard::trust::trust_errc::key_changed);
  REQUIRE(refused != nullptr);
  CHECK(refused->text_field(key::fingerprint_presented) == presented);
  CHECK(refused->text_field(key::fingerprint_pinned) == pinned);
  CHECK(e.text(key::fingerprint_presented) == presented);
  CHECK(p.diags.has(diag::attempt_failed, lanyard::trust::trust_errc::key_changed));
  // The pin stays.
  CHECK(store->find("lamp-1")->fingerprint == accessory_id().fingerprint());

  // The real lamp comes back, announced next to the impostor: the channel connects to it and
  // the message that waited is delivered there, never to the impostor.
  accessory real(io, dir.path / "real");
  p.ch.directory_changed(directory->apply(added(instance(2, real.port()))));
  REQUIRE(run_until(
      io, [&] { return p.ch.state() == channel_state::ready; }, 20s));
  REQUIRE(run_until(io, [&] { return real.received.size() == 1; }));
  CHECK(real.received[0] == "secret");
  CHECK(impostor.received.empty());
  CHECK(p.ch.state() != channel_state::failed);
}

TEST_CASE("channel by device id: a policy that rejects every path: the rejected paths reach the "
          "app",
          "[channel][directory][diagnostics]") {
  asio::io_context io;
  auto directory = std::make_shared<discovery::directory>();
  directory->apply(added(instance(1, 4433))); // kind "other"
  client_options o = phone_options(1h);
  o.paths.policy.required.insert(lanyard::core::interface_kind::cellular);
  phone p(io, o);
  p.ch.start("lamp-1", directory);
  REQUIRE(run_until(io, [&] { return p.ch.state() == channel_state::waiting; }));
  REQUIRE(p.ch.last_error() == lanyard::core::channel_errc::no_viable_path);

  const lanyard::core::error_detail e = p.ch.last_error_detail();
  CHECK(e.code == lanyard::core::channel_errc::no_viable_path);
  CHECK(e.text(key::step) == "policy");
  CHECK(e.text(diag::rejected_interface) == "if1");
  CHECK(e.text(diag::rejected_kind) == "other");
  CHECK(e.text(diag::rejected_address) == "127.0.0.1");
  CHECK(e.text(diag::rejection) == "not_required_kind");
  CHECK(e.detail.find("policy requires cellular") != std::string::npos);

  const auto* d = p.diags.find(diag::attempt_failed, lanyard::core::channel_errc::no_viable_path);
  REQUIRE(d != nullptr);
  CHECK(d->text_field(diag::rejection) == "not_required_kind");
  CHECK(d->text == e.detail);
  p.ch.cancel();
}

TEST_CASE("channel by device id: a pin that cannot be written is reported at level error",
          "[channel][directory][diagnostics]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-channel-dir");
  accessory acc(io, dir.path / "acc");
  // A store whose directory turns into a file after loading: every write fails (ENOTDIR), even
  // for root, which file modes would not stop.
  fs::create_directories(dir.path / "sub");
  auto store = std::make_shared<lanyard::trust::trust_store>(dir.path / "sub" / "trust-store");
  REQUIRE(store->load().ok());
  fs::remove_all(dir.path / "sub");
  { std::ofstream(dir.path / "sub") << "not a directory"; }
  auto directory = std::make_shared<discovery::directory>();
  directory->apply(added(instance(1, acc.port())));

  client_options o = phone_options();
  o.trust.store = store; // verified first use against expected_fingerprint: pin_new
  phone p(io, o);
  p.ch.start("lamp-1", directory);
  p.send("hello");
  // The connection goes on: only the pin is lost.
  REQUIRE(run_until(io, [&] { return p.acked.size() == 1; }));
  const auto* d = p.diags.find(diag::pin_not_recorded);
  REQUIRE(d != nullptr);
  CHECK(d->level == lanyard::core::diagnostic_level::error);
  CHECK(d->code);
  CHECK(d->text_field(key::device_id) == "lamp-1");
  CHECK(d->text.rfind("could not record the pin: ", 0) == 0);
  p.ch.cancel();
}

TEST_CASE("channel by device id: a refused pairing reports the attempts left",
          "[channel][directory][diagnostics]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-channel-dir");
  // An accessory that knows no controller yet, its window open, its setup secret 0x5a...
  auto controllers = std::make_shared<lanyard::trust::controller_store>(dir.path / "controllers");
  REQUIRE(controllers->load().ok());
  REQUIRE(controllers->open_window(std::chrono::system_clock::now()).ok());
  lanyard::accessory::server_options so;
  lanyard::trust::setup_credentials creds;
  creds.secret.fill(0x5a);
  so.pairing.credentials = creds;
  server srv(io.get_executor(), context(accessory_id()), controllers, so);
  REQUIRE(!srv.listen(tcp::endpoint(asio::ip::address_v4::loopback(), 0)));
  auto directory = std::make_shared<discovery::directory>();
  directory->apply(added(instance(1, srv.local_endpoint().port())));

  // ...and a phone that proves another one.
  client_options o = phone_options(1h);
  lanyard::core::pairing_credentials wrong;
  wrong.method = lanyard::core::pairing_method::setup_secret;
  wrong.secret.fill(0x5b);
  o.trust.pairing = wrong;
  phone p(io, o);
  p.ch.start("lamp-1", directory);
  REQUIRE(run_until(io, [&] { return p.ch.state() == channel_state::failed; }));
  REQUIRE(p.ch.last_error() == lanyard::core::pairing_errc::wrong_proof);

  const auto* d = p.diags.find(diag::pairing_failed, lanyard::core::pairing_errc::wrong_proof);
  REQUIRE(d != nullptr);
  const std::optional<std::uint64_t> left = d->number(key::attempts_left);
  REQUIRE(left.has_value());
  CHECK(d->text.find("(" + std::to_string(*left) + " attempts left)") != std::string::npos);
  const lanyard::core::error_detail e = p.ch.last_error_detail();
  CHECK(e.code == lanyard::core::pairing_errc::wrong_proof);
  CHECK(e.text(key::step) == "pairing");
  CHECK(e.number(key::attempts_left) == left);
  CHECK_FALSE(p.diags.has(diag::paired));
}
