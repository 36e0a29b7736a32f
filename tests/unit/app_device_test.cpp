// app::controller and app::device over the real adapters on loopback: a real accessory::server
// (mbedTLS, controller store, pairing window), the controller's real identity and trust store
// on disk. Discovery is off (no avahi-daemon in unit tests): the device reaches the accessory
// by a static path, as an app on an accessory's SoftAP does.
#include <lanyard/app/controller.hpp>

#include <lanyard/accessory/server.hpp>
#include <lanyard/channel/error.hpp>
#include <lanyard/core/app_message.hpp>
#include <lanyard/core/channel_error.hpp>
#include <lanyard/core/pairing_error.hpp>
#include <lanyard/core/provisioning.hpp>
#include <lanyard/core/setup_payload.hpp>
#include <lanyard/tls_engine/context.hpp>
#include <lanyard/trust/controller_store.hpp>
#include <lanyard/trust/error.hpp>
#include <lanyard/trust/setup_credentials.hpp>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include <catch2/catch.hpp>

#include "support/app_fixture.hpp"
#include "support/io_test_support.hpp"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

using asio::ip::tcp;
using lanyard::app::controller;
using lanyard::app::device;
using lanyard::app::device_event;
using lanyard::client::channel_state;
using lanyard::core::message_kind;
using lanyard::test::bytes;
using lanyard::test::run_until;
using lanyard::test::text;
namespace app = lanyard::app;
namespace core = lanyard::core;
using namespace std::chrono_literals;

namespace {

const lanyard::tls::identity& accessory_id() {
  static const lanyard::tls::identity id = lanyard::test::make_identity("lamp-1");
  return id;
}

// An accessory in setup mode whose provisioning service the test scripts (`answer`).
struct accessory : lanyard::test::setup_mode_accessory {
  accessory(asio::io_context& io, const std::filesystem::path& dir,
            lanyard::accessory::server_options so = {})
      : setup_mode_accessory(io, dir, accessory_id(), std::move(so)) {}
};

app::controller_options options(const std::filesystem::path& state, std::uint16_t port) {
  return lanyard::test::loopback_app(state, port);
}

std::unique_ptr<controller> open(asio::io_context& io, app::controller_options o) {
  return lanyard::test::open_controller(io, std::move(o));
}

std::shared_ptr<device> pair(asio::io_context& io, controller& ctl, const accessory& acc) {
  return lanyard::test::pair_device(io, ctl, acc.payload());
}

std::vector<device_event> drain_events(asio::io_context& io, device& d) {
  return lanyard::test::drain_events<device_event>(io, d);
}

} // namespace

TEST_CASE("app: pair with the setup payload, talk both ways with pull receive, one device per id",
          "[app]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-app");
  accessory acc(io, dir.path / "accessory");
  auto ctl = open(io, options(dir.path / "app", acc.port()));
  auto lamp = pair(io, *ctl, acc);
  CHECK(ctl->get("lamp-1") == lamp); // the same object while someone holds it
  // Pairing again with the same payload is done already; with a payload naming another key
  // for this id (a forged label, a replaced accessory) it is key_changed, not success.
  std::optional<std::error_code> repeated, forged;
  ctl->async_pair(acc.payload(), [&](std::error_code ec, app::pairing_result) { repeated = ec; });
  auto other = acc.payload();
  other.device_fingerprint = ctl->fingerprint(); // any key but the accessory's
  ctl->async_pair(other, [&](std::error_code ec, app::pairing_result) { forged = ec; });
  REQUIRE(run_until(io, [&] { return repeated.has_value() && forged.has_value(); }));
  CHECK_FALSE(*repeated);
  CHECK(*forged == lanyard::trust::trust_errc::key_changed);
  CHECK(lamp->state() == channel_state::ready); // the session goes on

  // The accessory recorded this app under its name, as its admin (the first one paired).
  const auto rec = acc.store->find(ctl->fingerprint());
  REQUIRE(rec);
  CHECK(rec->name == "Anna's phone");
  CHECK(rec->role == lanyard::trust::controller_role::admin);

  std::optional<std::error_code> sent;
  lamp->async_send(bytes("v1 set on=1"), [&](std::error_code ec, std::uint64_t) { sent = ec; });
  REQUIRE(run_until(io, [&] { return sent.has_value(); }));
  CHECK_FALSE(*sent);
  CHECK(acc.received[ctl->fingerprint()] == std::vector<std::string>{"v1 set on=1"});

  acc.srv->async_send(ctl->fingerprint(), bytes("v1 state on=1"), {},
                      [](std::error_code, std::uint64_t) {});
  std::optional<core::message> got;
  lamp->async_receive([&](std::error_code ec, core::message m) {
    REQUIRE_FALSE(ec);
    got = std::move(m);
  });
  REQUIRE(run_until(io, [&] { return got.has_value(); }));
  CHECK(text(got->payload) == "v1 state on=1");

  // The state events so far: preparing, then ready (path events come in between).
  const auto events = drain_events(io, *lamp);
  std::vector<channel_state> states;
  for (const auto& e : events)
    if (auto* s = std::get_if<app::state_event>(&e)) states.push_back(s->to);
  CHECK(states == std::vector<channel_state>{channel_state::preparing, channel_state::ready});

  // The paired accessory is listed (not discovered: discovery is off here).
  const auto list = ctl->accessories();
  REQUIRE(list.size() == 1);
  CHECK(list[0].id == "lamp-1");
  CHECK(list[0].paired);
  CHECK_FALSE(list[0].reachable);

  // The same app, opened again from its state directory, knows the accessory and reconnects.
  lamp.reset();
  ctl.reset();
  auto again = open(io, options(dir.path / "app", acc.port()));
  auto lamp2 = again->get("lamp-1");
  lamp2->start();
  REQUIRE(run_until(io, [&] { return lamp2->state() == channel_state::ready; }));
}

TEST_CASE("app: a wrong setup secret fails the pairing with wrong_proof and pins nothing",
          "[app]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-app");
  accessory acc(io, dir.path / "accessory");
  auto ctl = open(io, options(dir.path / "app", acc.port()));
  std::optional<std::error_code> done;
  ctl->async_pair(acc.payload(0x11), [&](std::error_code ec, app::pairing_result) { done = ec; });
  REQUIRE(run_until(io, [&] { return done.has_value(); }));
  CHECK(*done == core::pairing_errc::wrong_proof);
  CHECK(ctl->get("lamp-1")->state() == channel_state::failed);
  CHECK(ctl->accessories().empty());
  // A payload without a secret is refused before anything is sent.
  auto no_secret = acc.payload();
  no_secret.setup_secret.reset();
  std::optional<std::error_code> refused;
  ctl->async_pair(no_secret, [&](std::error_code ec, app::pairing_result) { refused = ec; });
  REQUIRE(run_until(io, [&] { return refused.has_value(); }));
  CHECK(*refused == core::payload_errc::no_setup_secret);
}

TEST_CASE("app: a cancelled pairing completes with operation_aborted and stops trying", "[app]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-app");
  // Nobody listens on this port: the pairing keeps trying until it is cancelled.
  tcp::acceptor closed(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  const std::uint16_t port = closed.local_endpoint().port();
  closed.close();
  auto ctl = open(io, options(dir.path / "app", port));
  accessory acc(io, dir.path / "accessory");
  asio::cancellation_signal stop;
  std::optional<std::error_code> done;
  ctl->async_pair(acc.payload(),
                  asio::bind_cancellation_slot(
                      stop.slot(), [&](std::error_code ec, app::pairing_result) { done = ec; }));
  auto lamp = ctl->get("lamp-1");
  REQUIRE(run_until(io, [&] { return lamp->state() == channel_state::waiting; }));
  CHECK_FALSE(done.has_value());
  stop.emit(asio::cancellation_type::terminal);
  REQUIRE(run_until(io, [&] { return done.has_value(); }));
  CHECK(*done == asio::error::operation_aborted);
  CHECK(lamp->state() == channel_state::cancelled);
}

TEST_CASE("app: provisioning completes with the accessory's addresses; progress comes to its "
          "handler and as events",
          "[app]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-app");
  accessory acc(io, dir.path / "accessory");
  auto ctl = open(io, options(dir.path / "app", acc.port()));
  auto lamp = pair(io, *ctl, acc);
  drain_events(io, *lamp);

  struct outcome {
    std::error_code ec;
    app::provisioning_outcome result;
  };
  // The progress handler's reports, each with whether the operation had completed by then.
  std::vector<std::pair<core::provisioning_state, bool>> progress;
  auto provision = [&](core::wifi_credentials c) {
    std::optional<outcome> o;
    progress.clear();
    lamp->async_provision(
        c,
        [&](const core::provisioning_progress& p) {
          progress.emplace_back(p.state, o.has_value());
        },
        [&](std::error_code ec, app::provisioning_outcome r) {
          o = outcome{ec, std::move(r)};
        });
    REQUIRE(run_until(io, [&] { return o.has_value(); }));
    return *o;
  };

  // An unsolicited report (re=0) and one for another request are news, not the answer. (`re`
  // is the request's seq, shared with application messages: a session's first message has
  // seq 0, so one goes first here, or re=0 would answer the request. A known ambiguity of
  // PROTOCOL.md § 2.7: an accessory sends no unsolicited reports today.)
  std::optional<std::error_code> hello;
  lamp->async_send(std::as_bytes(std::span("hello", 5)),
                   [&](std::error_code ec, std::uint64_t) { hello = ec; });
  REQUIRE(run_until(io, [&] { return hello.has_value(); }));
  REQUIRE_FALSE(*hello);
  acc.answer = {"v1 wifi_status re=0 state=connecting", "v1 wifi_status re={re} state=connecting",
                "v1 wifi_status re=999 state=failed reason=timeout",
                "v1 wifi_status re={re} state=connected addresses=198.18.1.3,2001:2:0:1::3"};
  const outcome ok = provision({"HomeLAN", "correct horse"});
  CHECK_FALSE(ok.ec);
  CHECK(ok.result.addresses == std::vector<std::string>{"198.18.1.3", "2001:2:0:1::3"});
  // The handler sees this request's reports only (not re=0 nor re=999), before the completion.
  CHECK(progress == std::vector<std::pair<core::provisioning_state, bool>>{
                        {core::provisioning_state::connecting, false},
                        {core::provisioning_state::connected, false}});
  std::vector<core::provisioning_state> reported;
  for (const auto& e : drain_events(io, *lamp))
    if (auto* p = std::get_if<app::provisioning_event>(&e)) reported.push_back(p->progress.state);
  CHECK(reported == std::vector<core::provisioning_state>{
                        core::provisioning_state::connecting, core::provisioning_state::connecting,
                        core::provisioning_state::failed, core::provisioning_state::connected});

  // Every failure reason is its own code; the accessory stays reachable, the device can retry.
  const std::vector<std::pair<std::string, std::error_code>> failures = {
      {"v1 wifi_status re={re} state=failed reason=auth_error",
       core::provisioning_errc::wrong_passphrase},
      {"v1 wifi_status re={re} state=failed reason=network_not_found",
       core::provisioning_errc::network_not_found},
      {"v1 wifi_status re={re} state=failed reason=timeout", core::provisioning_errc::join_timeout},
      {"v1 error re={re} reason=not_admin", core::provisioning_errc::not_admin},
      {"v1 error re={re} reason=disk_full", core::provisioning_errc::credentials_refused},
  };
  for (const auto& [answer, code] : failures) {
    INFO(answer);
    acc.answer = {answer};
    const outcome o = provision({"HomeLAN", "wrong horse"});
    CHECK(o.ec == code);
    CHECK(lamp->last_error().code == code);
    // A failed join is a report (the progress handler sees it); a refusal is none.
    if (answer.find("wifi_status") != std::string::npos)
      CHECK(progress == std::vector<std::pair<core::provisioning_state, bool>>{
                            {core::provisioning_state::failed, false}});
    else
      CHECK(progress.empty());
  }
  // The refusal's word is kept as sent.
  CHECK(lamp->last_error().text("refusal") == std::string_view("disk_full"));
  CHECK(lamp->state() == channel_state::ready);

  // Bad credentials are refused before anything is sent.
  acc.answer.clear();
  CHECK(provision({"", "12345678"}).ec == core::provisioning_errc::bad_ssid);
  CHECK(provision({"HomeLAN", "short"}).ec == core::provisioning_errc::bad_passphrase);
}

TEST_CASE("app: a cancelled provisioning completes with operation_aborted; a second one while "
          "one runs is in_progress",
          "[app]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-app");
  accessory acc(io, dir.path / "accessory");
  auto ctl = open(io, options(dir.path / "app", acc.port()));
  auto lamp = pair(io, *ctl, acc);
  acc.answer = {"v1 wifi_status re={re} state=connecting"}; // and then nothing
  asio::cancellation_signal stop;
  std::optional<std::error_code> first, second;
  lamp->async_provision(
      {"HomeLAN", "correct horse"},
      asio::bind_cancellation_slot(
          stop.slot(), [&](std::error_code ec, app::provisioning_outcome) { first = ec; }));
  lamp->async_provision({"HomeLAN", "correct horse"},
                        [&](std::error_code ec, app::provisioning_outcome) { second = ec; });
  REQUIRE(run_until(io, [&] { return second.has_value(); }));
  CHECK(*second == asio::error::in_progress);
  // Wait for the accessory's `connecting`, then give up.
  bool connecting = false;
  while (!connecting)
    for (const auto& e : drain_events(io, *lamp))
      connecting = connecting || std::holds_alternative<app::provisioning_event>(e);
  CHECK_FALSE(first.has_value());
  stop.emit(asio::cancellation_type::terminal);
  REQUIRE(run_until(io, [&] { return first.has_value(); }));
  CHECK(*first == asio::error::operation_aborted);
  CHECK(lamp->state() == channel_state::ready); // the session goes on
}

TEST_CASE("app: a device that is not taking messages holds the accessory to the window; the "
          "accessory's pushes complete once it reads, nothing lost",
          "[app]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-app");
  lanyard::accessory::server_options so;
  so.session.max_message_size = 256;
  so.session.max_replay_bytes = 1024;
  accessory acc(io, dir.path / "accessory", so);
  auto o = options(dir.path / "app", acc.port());
  o.session.max_message_size = 256;
  o.session.max_replay_bytes = 1024; // the receive window: three 255-byte messages
  auto ctl = open(io, o);
  auto lamp = pair(io, *ctl, acc);

  constexpr std::size_t n = 12;
  std::vector<std::optional<std::error_code>> pushed(n);
  for (std::size_t i = 0; i < n; ++i)
    acc.srv->async_send(ctl->fingerprint(), bytes("r" + std::to_string(i) + std::string(250, '.')),
                        {}, [&pushed, i](std::error_code ec, std::uint64_t) { pushed[i] = ec; });
  asio::steady_timer pause(io, 300ms);
  bool paused = false;
  pause.async_wait([&](std::error_code) { paused = true; });
  REQUIRE(run_until(io, [&] { return paused; }));
  CHECK(std::none_of(pushed.begin(), pushed.end(), [](const auto& p) { return p.has_value(); }));

  std::vector<std::string> got;
  std::function<void()> next = [&] {
    lamp->async_receive([&](std::error_code ec, core::message m) {
      REQUIRE_FALSE(ec);
      got.push_back(text(m.payload).substr(0, text(m.payload).find('.')));
      if (got.size() < n) next();
    });
  };
  next();
  REQUIRE(run_until(io, [&] {
    return got.size() == n &&
           std::all_of(pushed.begin(), pushed.end(), [](const auto& p) { return p.has_value(); });
  }));
  for (std::size_t i = 0; i < n; ++i) {
    CHECK(got[i] == "r" + std::to_string(i));
    CHECK_FALSE(*pushed[i]);
  }
}

TEST_CASE("app: try_receive takes what piled up without waiting, acknowledged as async_receive "
          "does; a waiting async_receive has precedence",
          "[app]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-app");
  lanyard::accessory::server_options so;
  so.session.max_message_size = 256;
  so.session.max_replay_bytes = 1024;
  accessory acc(io, dir.path / "accessory", so);
  auto o = options(dir.path / "app", acc.port());
  o.session.max_message_size = 256;
  o.session.max_replay_bytes = 1024; // three 255-byte messages wait at most
  auto ctl = open(io, o);
  auto lamp = pair(io, *ctl, acc);
  CHECK_FALSE(lamp->try_receive()); // nothing yet

  constexpr std::size_t n = 12;
  std::vector<std::optional<std::error_code>> pushed(n);
  for (std::size_t i = 0; i < n; ++i)
    acc.srv->async_send(ctl->fingerprint(), bytes("r" + std::to_string(i) + std::string(250, '.')),
                        {}, [&pushed, i](std::error_code ec, std::uint64_t) { pushed[i] = ec; });
  // The window fills while the app takes nothing.
  asio::steady_timer pause(io, 300ms);
  bool paused = false;
  pause.async_wait([&](std::error_code) { paused = true; });
  REQUIRE(run_until(io, [&] { return paused; }));
  // Whatever is queued is taken in one go; taking it acknowledges it, so more comes.
  std::vector<std::string> got;
  std::size_t most_at_once = 0;
  REQUIRE(run_until(io, [&] {
    std::size_t now = 0;
    while (auto m = lamp->try_receive()) {
      got.push_back(text(m->payload).substr(0, text(m->payload).find('.')));
      ++now;
    }
    most_at_once = std::max(most_at_once, now);
    return got.size() == n &&
           std::all_of(pushed.begin(), pushed.end(), [](const auto& p) { return p.has_value(); });
  }));
  CHECK(most_at_once > 1); // a pile, not one message per turn
  for (std::size_t i = 0; i < n; ++i) {
    CHECK(got[i] == "r" + std::to_string(i));
    CHECK_FALSE(*pushed[i]);
  }

  // A waiting async_receive gets the next message; try_receive does not take it from under it.
  std::optional<std::string> waited;
  lamp->async_receive([&](std::error_code ec, core::message m) {
    REQUIRE_FALSE(ec);
    waited = text(m.payload);
  });
  acc.srv->async_send(ctl->fingerprint(), bytes("last"), {}, [](std::error_code, std::uint64_t) {});
  REQUIRE(run_until(io, [&] {
    CHECK_FALSE(lamp->try_receive());
    return waited.has_value();
  }));
  CHECK(*waited == "last");
}

TEST_CASE("app: events past the bound merge state changes and keep what must not be lost",
          "[app]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-app");
  tcp::acceptor closed(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  const std::uint16_t port = closed.local_endpoint().port();
  closed.close();
  auto o = options(dir.path / "app", port);
  o.max_queued_events = 2;
  auto ctl = open(io, o);
  // Not paired, nobody listening: the channel goes preparing → waiting → preparing → ...
  auto lamp = ctl->get("lamp-1");
  lamp->start();
  int waits = 0;
  REQUIRE(run_until(io, [&] {
    waits += lamp->state() == channel_state::waiting;
    return waits > 20;
  }));
  lamp->cancel();
  const auto events = drain_events(io, *lamp);
  REQUIRE(events.size() == 2);
  const auto* first = std::get_if<app::state_event>(&events[0]);
  const auto* last = std::get_if<app::state_event>(&events[1]);
  REQUIRE(first);
  REQUIRE(last);
  CHECK(first->from == channel_state::setup);
  CHECK(first->to == channel_state::preparing);
  CHECK(first->missed == 0);
  CHECK(last->to == channel_state::cancelled); // the latest state, whatever was merged
  CHECK(last->missed > 0);
  // After cancel() and an empty queue, event waits end.
  std::optional<std::error_code> ended;
  lamp->async_next_event([&](std::error_code ec, device_event) { ended = ec; });
  REQUIRE(run_until(io, [&] { return ended.has_value(); }));
  CHECK(*ended == asio::error::operation_aborted);
}

TEST_CASE("app: open() names what is wrong with the state directory", "[app]") {
  asio::io_context io;
  std::unique_ptr<controller> c;
  app::controller_options o;
  o.discovery = false;
  CHECK(controller::open(io.get_executor(), o, c).code == std::errc::invalid_argument);
  CHECK_FALSE(c);
  lanyard::test::temp_dir dir("lanyard-app");
  std::filesystem::create_directories(dir.path / "app");
  { std::ofstream(dir.path / "app" / "trust-store.json") << "{ not json"; }
  o.state_dir = dir.path / "app";
  const core::error_detail e = controller::open(io.get_executor(), o, c);
  CHECK(e);
  CHECK(e.message().find("trust-store.json") != std::string::npos);
  CHECK_FALSE(c);
}

TEST_CASE("app: a renamed app keeps its identity; identity and trust store may live elsewhere",
          "[app]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-app");
  auto o = options(dir.path / "app", 1);
  auto first = open(io, o);
  const core::fingerprint fp = first->fingerprint();
  first.reset();
  o.name = "Anna's new phone";
  CHECK(open(io, o)->fingerprint() == fp);

  auto elsewhere = options(dir.path / "other", 1);
  elsewhere.identity_dir = dir.path / "app" / "identity";
  elsewhere.trust_store = dir.path / "pins.json";
  CHECK(open(io, elsewhere)->fingerprint() == fp);
  CHECK_FALSE(std::filesystem::exists(dir.path / "other" / "identity"));
}

TEST_CASE("app: async_close waits until the accessory acknowledged every message, then closes; "
          "sends after it are refused",
          "[app]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-app");
  lanyard::accessory::server_options so;
  so.receive = lanyard::channel::receive_mode::pull; // acknowledges only what it took
  accessory acc(io, dir.path / "accessory", so);
  auto ctl = open(io, options(dir.path / "app", acc.port()));
  auto lamp = pair(io, *ctl, acc);
  const auto me = ctl->fingerprint();

  std::vector<std::optional<std::error_code>> sent(3);
  for (std::size_t i = 0; i < sent.size(); ++i)
    lamp->async_send(bytes("m" + std::to_string(i)),
                     [&sent, i](std::error_code ec, std::uint64_t) { sent[i] = ec; });
  std::optional<std::error_code> closed;
  lamp->async_close([&](std::error_code ec) { closed = ec; });
  std::optional<std::error_code> late;
  lamp->async_send(bytes("late"), [&](std::error_code ec, std::uint64_t) { late = ec; });

  // The accessory takes nothing for a while: the close waits, the device stays ready.
  asio::steady_timer pause(io, 300ms);
  bool paused = false;
  pause.async_wait([&](std::error_code) { paused = true; });
  REQUIRE(run_until(io, [&] { return paused; }));
  CHECK_FALSE(closed.has_value());
  CHECK(lamp->state() == channel_state::ready);
  REQUIRE(late.has_value());
  CHECK(*late == core::channel_errc::session_closed);

  // It takes them: every send completes, then the close, then the session ends on both sides.
  std::vector<std::string> got;
  std::optional<std::error_code> after_close;
  std::function<void()> next = [&] {
    acc.srv->async_receive(me, [&](std::error_code ec, core::message m) {
      if (ec) {
        after_close = ec;
        return;
      }
      got.push_back(text(m.payload));
      next();
    });
  };
  next();
  REQUIRE(run_until(io, [&] { return closed.has_value() && after_close.has_value(); }));
  CHECK_FALSE(*closed);
  CHECK(got == std::vector<std::string>{"m0", "m1", "m2"});
  for (const auto& s : sent) {
    REQUIRE(s.has_value());
    CHECK_FALSE(*s);
  }
  CHECK(*after_close == core::channel_errc::session_closed);
  CHECK(lamp->state() == channel_state::cancelled);

  // Closing a closed device succeeds at once; the event stream ends after the last events.
  std::optional<std::error_code> again;
  lamp->async_close([&](std::error_code ec) { again = ec; });
  CHECK_FALSE(again.has_value()); // never inside the call
  REQUIRE(run_until(io, [&] { return again.has_value(); }));
  CHECK_FALSE(*again);
  auto events = drain_events(io, *lamp);
  REQUIRE_FALSE(events.empty());
  auto* last = std::get_if<app::state_event>(&events.back());
  REQUIRE(last);
  CHECK(last->to == channel_state::cancelled);
}

TEST_CASE("app: a cancelled async_close cancels the device at once", "[app]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-app");
  lanyard::accessory::server_options so;
  so.receive = lanyard::channel::receive_mode::pull;
  accessory acc(io, dir.path / "accessory", so);
  auto ctl = open(io, options(dir.path / "app", acc.port()));
  auto lamp = pair(io, *ctl, acc);

  std::optional<std::error_code> sent;
  lamp->async_send(bytes("never taken"), [&](std::error_code ec, std::uint64_t) { sent = ec; });
  asio::cancellation_signal give_up;
  std::optional<std::error_code> closed;
  lamp->async_close(
      asio::bind_cancellation_slot(give_up.slot(), [&](std::error_code ec) { closed = ec; }));
  std::optional<std::error_code> second;
  lamp->async_close([&](std::error_code ec) { second = ec; });
  REQUIRE(run_until(io, [&] { return second.has_value(); }));
  CHECK(*second == asio::error::in_progress);
  CHECK_FALSE(closed.has_value());
  give_up.emit(asio::cancellation_type::terminal);
  REQUIRE(run_until(io, [&] { return closed.has_value() && sent.has_value(); }));
  CHECK(*closed == asio::error::operation_aborted);
  CHECK(*sent == asio::error::operation_aborted);
  CHECK(lamp->state() == channel_state::cancelled);
}

TEST_CASE("app: the pairing result says the role the accessory gave; a call that only connects "
          "has none",
          "[app]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-app");
  accessory acc(io, dir.path / "accessory");
  auto pair_with = [&](controller& ctl) {
    std::optional<std::error_code> done;
    app::pairing_result result;
    ctl.async_pair(acc.payload(), [&](std::error_code ec, app::pairing_result r) {
      done = ec;
      result = std::move(r);
    });
    REQUIRE(run_until(io, [&] { return done.has_value(); }));
    REQUIRE_FALSE(*done);
    CHECK(result.device_id == "lamp-1");
    CHECK(result.fingerprint == accessory_id().fingerprint());
    return result;
  };
  auto first = open(io, options(dir.path / "first", acc.port()));
  const auto admin = pair_with(*first);
  REQUIRE(admin.role);
  CHECK(*admin.role == core::paired_role::admin);
  // Pinned and connected already: the call only confirms it, no exchange, no role.
  CHECK_FALSE(pair_with(*first).role.has_value());

  auto second = open(io, options(dir.path / "second", acc.port()));
  const auto user = pair_with(*second);
  REQUIRE(user.role);
  CHECK(*user.role == core::paired_role::user);
}
