// node::node over the real adapters on loopback (its state on disk, mbedTLS, the server),
// with the app side on app::controller: the first boot's window and TXT, pairing closing the
// window (sf follows without polling), sf down while a pairing exchange runs (held open with
// client/pair.hpp's stream), pull receive and broadcast, the pairing button, a restart. Advertising
// is off (no avahi-daemon in unit tests; the lab test integration.examples.minimal_accessory
// watches sf with a real avahi-browse).
#include <lanyard/node/node.hpp>

#include <lanyard/app/controller.hpp>
#include <lanyard/client/client_channel.hpp>
#include <lanyard/client/pair.hpp>
#include <lanyard/core/app_message.hpp>
#include <lanyard/core/pairing_error.hpp>
#include <lanyard/core/pairing_frame.hpp>
#include <lanyard/core/provisioning.hpp>
#include <lanyard/core/relay_settings.hpp>
#include <lanyard/core/setup_code.hpp>
#include <lanyard/core/setup_payload.hpp>
#include <lanyard/tls_engine/identity_files.hpp>
#include <lanyard/trust/controller_store.hpp>
#include <lanyard/trust/window_clock.hpp>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/error.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/write.hpp>

#include <catch2/catch.hpp>

#include "support/app_fixture.hpp"
#include "support/io_test_support.hpp"
#include "support/node_fixture.hpp"

#include <array>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

using lanyard::client::channel_state;
using lanyard::node::node;
using lanyard::node::node_event;
using lanyard::test::bytes;
using lanyard::test::run_until;
using lanyard::test::scripted_driver;
using lanyard::test::text;
namespace app = lanyard::app;
namespace core = lanyard::core;
namespace nd = lanyard::node;
using namespace std::chrono_literals;

namespace {

std::unique_ptr<node> open_node(asio::io_context& io, const std::filesystem::path& dir,
                                std::shared_ptr<nd::wifi_driver> wifi = nullptr) {
  nd::node_options o = lanyard::test::loopback_node_options(dir);
  o.setup_mode = wifi != nullptr;
  o.softap_ssid = "Lanyard-lamp-1";
  o.wifi = std::move(wifi);
  o.name = "Kitchen Lamp";
  REQUIRE_FALSE(o.txt.set("md", "lamp"));
  return lanyard::test::open_node(io, std::move(o));
}

std::unique_ptr<app::controller> open_app(asio::io_context& io, const std::filesystem::path& dir,
                                          std::uint16_t port) {
  auto o = lanyard::test::loopback_app(dir, port);
  o.name = "phone";
  return lanyard::test::open_controller(io, std::move(o));
}

std::string sf(const core::txt_record& t) {
  const core::txt_entry* e = t.find("sf");
  return e != nullptr && e->value ? *e->value : "<none>";
}

std::vector<node_event> drain(asio::io_context& io, node& n) {
  return lanyard::test::drain_events<node_event>(io, n);
}

template <class Event>
std::vector<Event> only(const std::vector<node_event>& events) {
  std::vector<Event> out;
  for (const auto& e : events)
    if (auto* x = std::get_if<Event>(&e)) out.push_back(*x);
  return out;
}

// sf of every record the node published, in order.
std::vector<std::string> published_sf(const std::vector<node_event>& events) {
  std::vector<std::string> out;
  for (const auto& a : only<nd::advertising_event>(events))
    out.push_back(sf(a.txt));
  return out;
}

// An app's own pairing connection to `n` (client/pair.hpp): TLS with a key of its own, then the
// pairing frames written here or by client::async_pair. What app::controller does too quickly
// to watch, this holds: a neighbour who starts an exchange and never finishes it.
struct pairing_connection {
  pairing_connection(asio::io_context& io, const node& n, const char* name)
      : me(lanyard::test::make_identity(name)), ctx(me, no_tickets()),
        s(asio::ip::tcp::socket(io), ctx) {
    s.next_layer().socket()->connect({asio::ip::make_address("127.0.0.1"), n.ports().at(0)});
    const core::fingerprint accessory = n.fingerprint();
    s.set_verifier([accessory](const core::fingerprint& fp, const lanyard::tls::peer_cert_info&) {
      return fp == accessory ? std::error_code{}
                             : std::make_error_code(std::errc::permission_denied);
    });
    std::optional<std::error_code> hs;
    s.async_handshake(lanyard::tls::role::client, [&](std::error_code ec) { hs = ec; });
    REQUIRE(run_until(io, [&] { return hs.has_value(); }));
    REQUIRE_FALSE(*hs);
  }
  static lanyard::tls::context_options no_tickets() {
    lanyard::tls::context_options o;
    o.session_tickets = false; // pairing needs a full handshake
    return o;
  }

  // PAIR_START for SPAKE2+, then the accessory's PARAMS: the exchange is under way on the node,
  // waiting for a share that does not come.
  void start_and_hold(asio::io_context& io) {
    core::pair_start_frame start;
    start.method = core::pairing_method::setup_code;
    start.name = "neighbour";
    std::vector<std::byte> out;
    core::encode_pairing_frame(start, out);
    std::optional<std::error_code> wrote;
    asio::async_write(s, asio::buffer(out), [&](std::error_code ec, std::size_t) { wrote = ec; });
    REQUIRE(run_until(io, [&] { return wrote.has_value(); }));
    REQUIRE_FALSE(*wrote);
    std::array<std::byte, 256> params{};
    std::optional<std::error_code> read;
    s.async_read_some(asio::buffer(params), [&](std::error_code ec, std::size_t) { read = ec; });
    REQUIRE(run_until(io, [&] { return read.has_value(); }));
    REQUIRE_FALSE(*read);
  }

  // The whole exchange with the setup code `digits`.
  std::error_code pair_by_code(asio::io_context& io, std::string digits) {
    lanyard::client::pairing_request req;
    req.credentials.method = core::pairing_method::setup_code;
    req.credentials.code = std::move(digits);
    req.name = "phone";
    std::optional<std::error_code> done;
    lanyard::client::async_pair(s, req,
                                [&](std::error_code ec, core::pairing_outcome) { done = ec; });
    REQUIRE(run_until(io, [&] { return done.has_value(); }));
    return *done;
  }

  void drop() {
    std::error_code ignored;
    s.next_layer().close(ignored);
  }

  lanyard::tls::identity me;
  lanyard::tls::context ctx;
  lanyard::client::pairing_stream s;
};

// A valid setup code that is not `code` (the first digit changed, the check digit recomputed).
std::string other_code(const core::setup_code& code) {
  std::string digits(code.view());
  digits[0] = digits[0] == '9' ? '1' : static_cast<char>(digits[0] + 1);
  digits[7] = core::verhoeff_check_digit(std::string_view(digits).substr(0, 7));
  return digits;
}

} // namespace

TEST_CASE("node: first boot opens the window (sf=1); pairing closes it (sf=0) by events",
          "[node]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-node");
  auto n = open_node(io, dir.path / "acc");
  CHECK(n->new_setup_code().has_value()); // made now: for the label
  CHECK(n->setup_payload().setup_secret.has_value());
  CHECK(n->setup_payload().device_fingerprint == n->fingerprint());
  CHECK(sf(n->txt()) == "1");
  CHECK(n->txt().find("md") != nullptr); // the product's own key
  auto first = drain(io, *n);
  REQUIRE(only<nd::window_event>(first).size() == 1);
  CHECK(only<nd::window_event>(first)[0].open);

  auto ctl = open_app(io, dir.path / "app", n->ports().at(0));
  std::optional<std::error_code> paired;
  ctl->async_pair(n->setup_payload(),
                  [&](std::error_code ec, app::pairing_result) { paired = ec; });
  REQUIRE(run_until(io, [&] { return paired.has_value(); }));
  REQUIRE_FALSE(*paired);
  // No timer and no polling: the pairing report closed the window and rebuilt the TXT.
  CHECK(sf(n->txt()) == "0");
  const auto events = drain(io, *n);
  const auto pairings = only<nd::pairing_event>(events);
  REQUIRE(pairings.size() == 1);
  CHECK_FALSE(pairings[0].error);
  CHECK(pairings[0].controller == ctl->fingerprint());
  CHECK(pairings[0].role == lanyard::trust::controller_role::admin);
  CHECK(pairings[0].name == "phone");
  const auto windows = only<nd::window_event>(events);
  REQUIRE(windows.size() == 1);
  CHECK_FALSE(windows[0].open);
  const auto adverts = only<nd::advertising_event>(events);
  REQUIRE_FALSE(adverts.empty());
  CHECK(sf(adverts.back().txt) == "0");
  const auto sessions = only<nd::session_event>(events);
  REQUIRE(sessions.size() == 1);
  CHECK(sessions[0].open);
  CHECK(n->sessions() == std::vector<nd::controller_id>{ctl->fingerprint()});

  // The pairing button opens it again, and closing it closes it: each a new record.
  REQUIRE_FALSE(n->open_pairing_window());
  CHECK(sf(n->txt()) == "1");
  REQUIRE_FALSE(n->close_pairing_window());
  CHECK(sf(n->txt()) == "0");
  const auto button = only<nd::advertising_event>(drain(io, *n));
  REQUIRE(button.size() == 2);
  CHECK(sf(button[0].txt) == "1");
  CHECK(sf(button[1].txt) == "0");

  // A restart: the same key, no new setup code, the window stays closed (someone is paired).
  const core::fingerprint key = n->fingerprint();
  ctl.reset();
  n.reset();
  auto again = open_node(io, dir.path / "acc");
  CHECK_FALSE(again->new_setup_code().has_value());
  CHECK(again->fingerprint() == key);
  CHECK(sf(again->txt()) == "0");
}

TEST_CASE("node: the window closes at its deadline by itself: sf=0 published, nothing called",
          "[node]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-node");
  // A window opened (before this boot of the node) almost its shortest timeout ago: about a
  // second left. The node resumes it from the store and arms its timer for the deadline.
  {
    lanyard::trust::controller_store store(dir.path / "acc" / "controllers");
    REQUIRE(store.load().ok());
    REQUIRE(store
                .open_window(lanyard::trust::window_clock::now() -
                                 core::pairing_window::min_timeout + std::chrono::seconds(2),
                             core::pairing_window::min_timeout)
                .ok());
  }
  auto n = open_node(io, dir.path / "acc");
  CHECK(sf(n->txt()) == "1");
  drain(io, *n);
  // Only the event loop runs: the node's own timer closes the window and publishes the record.
  REQUIRE(run_until(
      io, [&] { return sf(n->txt()) == "0"; }, 10s));
  const auto events = drain(io, *n);
  const auto windows = only<nd::window_event>(events);
  REQUIRE(windows.size() == 1);
  CHECK_FALSE(windows[0].open);
  CHECK(windows[0].reason == core::window_close_reason::timed_out);
  CHECK(published_sf(events) == std::vector<std::string>{"0"});
}

TEST_CASE("node: each controller's messages are pulled; broadcast reaches every session; "
          "provisioning without a Wi-Fi driver is refused, not left unanswered",
          "[node]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-node");
  auto n = open_node(io, dir.path / "acc");
  auto ctl = open_app(io, dir.path / "app", n->ports().at(0));
  auto lamp = lanyard::test::pair_device(io, *ctl, n->setup_payload());
  REQUIRE(run_until(io, [&] { return !n->sessions().empty(); }));

  std::optional<std::error_code> sent;
  lamp->async_send(bytes("v1 set on=1"), [&](std::error_code ec, std::uint64_t) { sent = ec; });
  std::optional<core::message> got;
  n->async_receive(ctl->fingerprint(), [&](std::error_code ec, core::message m) {
    REQUIRE_FALSE(ec);
    got = std::move(m);
  });
  REQUIRE(run_until(io, [&] { return got.has_value() && sent.has_value(); }));
  CHECK(text(got->payload) == "v1 set on=1");
  CHECK_FALSE(*sent);

  // try_receive(): what is queued, taken in order without an operation each, and acknowledged
  // as async_receive() does: the app's sends complete (once acknowledged) only once taken.
  int acked = 0;
  for (const char* m : {"v1 a", "v1 b", "v1 c"})
    lamp->async_send(bytes(m), [&](std::error_code ec, std::uint64_t) {
      CHECK_FALSE(ec);
      ++acked;
    });
  std::vector<std::string> taken;
  REQUIRE(run_until(io, [&] {
    while (auto m = n->try_receive(ctl->fingerprint()))
      taken.push_back(text(m->payload));
    return taken.size() >= 3;
  }));
  CHECK(taken == std::vector<std::string>{"v1 a", "v1 b", "v1 c"});
  REQUIRE(run_until(io, [&] { return acked == 3; }));
  CHECK_FALSE(n->try_receive(lanyard::test::make_identity("stranger").fingerprint()));

  CHECK(n->broadcast(bytes("v1 state on=1")) == 1);
  std::optional<core::message> pushed;
  lamp->async_receive([&](std::error_code ec, core::message m) {
    REQUIRE_FALSE(ec);
    pushed = std::move(m);
  });
  REQUIRE(run_until(io, [&] { return pushed.has_value(); }));
  CHECK(text(pushed->payload) == "v1 state on=1");

  // With send options: completes once queued, before the app took it; it arrives all the same.
  std::optional<std::error_code> queued;
  n->async_send(ctl->fingerprint(), bytes("v1 state on=0"),
                {lanyard::channel::send_mode::wait, lanyard::channel::send_completion_mode::queued},
                [&](std::error_code ec, std::uint64_t) { queued = ec; });
  REQUIRE(run_until(io, [&] { return queued.has_value(); }));
  CHECK_FALSE(*queued);
  std::optional<core::message> later;
  lamp->async_receive([&](std::error_code ec, core::message m) {
    REQUIRE_FALSE(ec);
    later = std::move(m);
  });
  REQUIRE(run_until(io, [&] { return later.has_value(); }));
  CHECK(text(later->payload) == "v1 state on=0");

  const core::wifi_credentials home{"HomeLAN", "correct horse"};
  std::optional<std::error_code> provisioned;
  lamp->async_provision(home,
                        [&](std::error_code ec, app::provisioning_outcome) { provisioned = ec; });
  REQUIRE(run_until(io, [&] { return provisioned.has_value(); }));
  CHECK(*provisioned == core::provisioning_errc::credentials_refused);
  CHECK(lamp->last_error().text("refusal") == std::string_view("not_supported"));
}

// Cancelling a wait takes nothing and loses nothing: the message goes to the next receive; a
// send whose wait for the acknowledgement is cancelled is still delivered, once. (The event
// streams' cancellation is what drain() relies on, in every test here.)
TEST_CASE("node and device: per-operation cancellation of receives and of a send's wait for its "
          "acknowledgement; nothing is lost",
          "[node][app]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-node");
  auto n = open_node(io, dir.path / "acc");
  auto ctl = open_app(io, dir.path / "app", n->ports().at(0));
  auto lamp = lanyard::test::pair_device(io, *ctl, n->setup_payload());
  REQUIRE(run_until(io, [&] { return !n->sessions().empty(); }));
  const auto app_id = ctl->fingerprint();

  // The app's receive.
  asio::cancellation_signal stop_app;
  std::optional<std::error_code> app_waited;
  lamp->async_receive(asio::bind_cancellation_slot(
      stop_app.slot(), [&](std::error_code ec, core::message) { app_waited = ec; }));
  io.poll();
  CHECK_FALSE(app_waited.has_value());
  stop_app.emit(asio::cancellation_type::terminal);
  REQUIRE(run_until(io, [&] { return app_waited.has_value(); }));
  CHECK(*app_waited == asio::error::operation_aborted);
  CHECK(n->broadcast(bytes("v1 state on=1")) == 1);
  std::optional<core::message> pushed;
  lamp->async_receive([&](std::error_code ec, core::message m) {
    CHECK_FALSE(ec);
    pushed = std::move(m);
  });
  REQUIRE(run_until(io, [&] { return pushed.has_value(); }));
  CHECK(text(pushed->payload) == "v1 state on=1");

  // The node's receive, and the app's send waiting for its acknowledgement (which comes only
  // once the node takes the message): both cancelled, the message arrives once all the same.
  asio::cancellation_signal stop_node, stop_ack;
  std::optional<std::error_code> node_waited, ack_waited;
  n->async_receive(
      app_id, asio::bind_cancellation_slot(
                  stop_node.slot(), [&](std::error_code ec, core::message) { node_waited = ec; }));
  io.poll();
  CHECK_FALSE(node_waited.has_value());
  stop_node.emit(asio::cancellation_type::terminal);
  REQUIRE(run_until(io, [&] { return node_waited.has_value(); }));
  CHECK(*node_waited == asio::error::operation_aborted);
  lamp->async_send(
      bytes("v1 set on=0"),
      asio::bind_cancellation_slot(stop_ack.slot(),
                                   [&](std::error_code ec, std::uint64_t) { ack_waited = ec; }));
  io.poll();
  CHECK_FALSE(ack_waited.has_value()); // not taken, so not acknowledged
  stop_ack.emit(asio::cancellation_type::terminal);
  REQUIRE(run_until(io, [&] { return ack_waited.has_value(); }));
  CHECK(*ack_waited == asio::error::operation_aborted);
  std::vector<std::string> taken;
  std::function<void()> take = [&] {
    n->async_receive(app_id, [&](std::error_code ec, core::message m) {
      if (ec) return;
      taken.push_back(text(m.payload));
      take();
    });
  };
  take();
  REQUIRE(run_until(io, [&] { return !taken.empty(); }));
  io.run_for(std::chrono::milliseconds(200)); // a second copy would be here by now
  CHECK(taken == std::vector<std::string>{"v1 set on=0"});
}

TEST_CASE("node: open() names what is missing", "[node]") {
  asio::io_context io;
  std::unique_ptr<node> n;
  nd::node_options o;
  o.advertise = false;
  CHECK(node::open(io.get_executor(), o, n).code == std::errc::invalid_argument);
  lanyard::test::temp_dir dir("lanyard-node");
  o.state_dir = dir.path / "acc";
  o.device_id = "lamp-1";
  o.listen = {{asio::ip::make_address("127.0.0.1"), 0}};
  auto first = open_node(io, dir.path / "taken");
  o.listen = {{asio::ip::make_address("127.0.0.1"), first->ports().at(0)}};
  const core::error_detail e = node::open(io.get_executor(), o, n);
  CHECK(e.code == asio::error::address_in_use);
  CHECK(e.message().find(std::to_string(first->ports().at(0))) != std::string::npos);
  CHECK_FALSE(n);
}

TEST_CASE("node: provisioning through the Wi-Fi driver seam: typed outcomes for the app, events "
          "for the accessory, admins only, retry after a failure",
          "[node]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-node");
  auto radio = std::make_shared<scripted_driver>(io);
  auto n = open_node(io, dir.path / "acc", radio);
  CHECK(n->setup_payload().needs_provisioning);
  CHECK(n->setup_payload().softap_ssid == "Lanyard-lamp-1");
  auto ctl = open_app(io, dir.path / "app", n->ports().at(0));
  auto lamp = lanyard::test::pair_device(io, *ctl, n->setup_payload());
  drain(io, *n);

  auto provision = [&](const core::wifi_credentials& c) {
    std::optional<std::pair<std::error_code, app::provisioning_outcome>> r;
    lamp->async_provision(
        c, [&](std::error_code ec, app::provisioning_outcome o) { r.emplace(ec, std::move(o)); });
    REQUIRE(run_until(io, [&] { return r.has_value(); }));
    return *r;
  };

  // Every way a join fails: the app gets the typed reason (the error its failure maps to), the
  // node a failed event with that reason, and it stays in setup mode for the next try.
  std::vector<std::string> expected_joins;
  for (const auto failure :
       {core::provisioning_failure::auth_error, core::provisioning_failure::timeout,
        core::provisioning_failure::network_not_found}) {
    INFO("failure " << core::to_string(failure));
    radio->verdict = {{}, failure};
    const core::wifi_credentials wrong{"NoSuchLAN", "correct horse"};
    expected_joins.push_back(wrong.ssid);
    CHECK(provision(wrong).first == core::to_error_code(failure));
    const auto events = only<nd::provisioning_event>(drain(io, *n));
    REQUIRE(events.size() == 2);
    CHECK(events[0].state == core::provisioning_state::connecting);
    CHECK(events[0].controller == ctl->fingerprint());
    CHECK(events[1].state == core::provisioning_state::failed);
    CHECK(events[1].reason == failure);
  }
  CHECK(core::to_error_code(core::provisioning_failure::auth_error) ==
        core::provisioning_errc::wrong_passphrase);
  CHECK(core::to_error_code(core::provisioning_failure::timeout) ==
        core::provisioning_errc::join_timeout);

  // The retry joins: the app learns the addresses.
  radio->verdict = {{"198.18.1.3", "2001:2:0:1::3"}, std::nullopt};
  const core::wifi_credentials home{"HomeLAN", "correct horse"};
  const auto ok = provision(home);
  CHECK_FALSE(ok.first);
  CHECK(ok.second.addresses == std::vector<std::string>{"198.18.1.3", "2001:2:0:1::3"});
  const auto events = only<nd::provisioning_event>(drain(io, *n));
  REQUIRE(events.size() == 2);
  CHECK(events[1].state == core::provisioning_state::connected);
  CHECK(events[1].addresses == ok.second.addresses);
  expected_joins.push_back("HomeLAN");
  CHECK(radio->joins == expected_joins);

  // Provisioned: a second request is refused, and the driver is not asked again.
  CHECK(provision(home).first == core::provisioning_errc::credentials_refused);
  CHECK(lamp->last_error().text("refusal") == std::string_view("not_in_setup_mode"));
  CHECK(radio->joins.size() == expected_joins.size());
}

TEST_CASE("node: a controller that is not an admin cannot provision", "[node]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-node");
  auto radio = std::make_shared<scripted_driver>(io);
  radio->verdict = {{"198.18.1.3"}, std::nullopt};
  auto n = open_node(io, dir.path / "acc", radio);
  auto pair_app = [&](const char* where) {
    auto c = open_app(io, dir.path / where, n->ports().at(0));
    lanyard::test::pair_device(io, *c, n->setup_payload());
    return c;
  };
  auto owner = pair_app("owner"); // the first one paired: the admin
  REQUIRE_FALSE(n->open_pairing_window());
  auto guest = pair_app("guest");
  const core::wifi_credentials home{"HomeLAN", "correct horse"};
  std::optional<std::error_code> refused;
  guest->get("lamp-1")->async_provision(
      home, [&](std::error_code ec, app::provisioning_outcome) { refused = ec; });
  REQUIRE(run_until(io, [&] { return refused.has_value(); }));
  CHECK(*refused == core::provisioning_errc::not_admin);
  CHECK(radio->joins.empty());
}

TEST_CASE("node: after 20 wrong proofs a reboot neither reopens the window nor fails to start; "
          "the button reopens it",
          "[node]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-node");
  std::filesystem::create_directories(dir.path / "acc");
  {
    lanyard::trust::controller_store store(dir.path / "acc" / "controllers");
    REQUIRE(store.load().ok());
    const auto now = std::chrono::system_clock::now();
    REQUIRE(store.open_window(now).ok());
    for (std::uint32_t i = 0; i < core::pairing_window::max_failed_attempts; ++i)
      (void)store.record_failure(now);
    REQUIRE_FALSE(store.window().open);
  }
  auto n = open_node(io, dir.path / "acc");
  CHECK(sf(n->txt()) == "0");
  REQUIRE_FALSE(n->open_pairing_window()); // the physical action resets the count
  CHECK(sf(n->txt()) == "1");
}

// docs/design/product-api.md § 5: sf = the window is open *and* no pairing is in progress *and*
// there is room. Apps around stop offering "pair" while someone pairs; a neighbour who starts
// an exchange and walks away must not hold sf at 0: the exchange ends when its connection
// does, when a newer one evicts it, or at its timeout, and sf comes back with it.
TEST_CASE("node: sf drops while a pairing exchange is in progress and comes back when it ends "
          "without pairing",
          "[node][pairing]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-node");

  SECTION("the neighbour's connection ends") {
    auto n = open_node(io, dir.path / "acc");
    drain(io, *n);
    pairing_connection neighbour(io, *n, "neighbour");
    neighbour.start_and_hold(io);
    CHECK(n->server().pairings_in_progress() == 1);
    CHECK(sf(n->txt()) == "0"); // the start's report changed it: no timer, no polling
    const auto started = drain(io, *n);
    CHECK(published_sf(started) == std::vector<std::string>{"0"});
    // The product hears of the start first (its "pairing…"), then of the record without sf.
    REQUIRE(started.size() >= 2);
    const auto* start = std::get_if<nd::pairing_started_event>(&started[0]);
    REQUIRE(start);
    CHECK(start->controller == neighbour.me.fingerprint());
    CHECK(start->name == "neighbour");
    CHECK(start->method == core::pairing_method::setup_code);
    CHECK(start->peer.rfind("127.0.0.1:", 0) == 0);
    CHECK(std::holds_alternative<nd::advertising_event>(started[1]));

    neighbour.drop();
    REQUIRE(run_until(
        io, [&] { return sf(n->txt()) == "1"; }, 10s));
    CHECK(n->server().pairings_in_progress() == 0);
    const auto events = drain(io, *n);
    CHECK(published_sf(events) == std::vector<std::string>{"1"});
    const auto pairings = only<nd::pairing_event>(events);
    REQUIRE(pairings.size() == 1);
    CHECK(pairings[0].error == core::pairing_errc::protocol_violation);
    CHECK(pairings[0].method == core::pairing_method::setup_code);
  }

  SECTION("the exchange times out") {
    auto o = lanyard::test::loopback_node_options(dir.path / "acc");
    o.server.pairing.exchange.timeout = 1s;
    auto n = lanyard::test::open_node(io, std::move(o));
    drain(io, *n);
    pairing_connection neighbour(io, *n, "neighbour");
    neighbour.start_and_hold(io);
    CHECK(sf(n->txt()) == "0");
    REQUIRE(run_until(
        io, [&] { return sf(n->txt()) == "1"; }, 10s));
    const auto events = drain(io, *n);
    CHECK(published_sf(events) == std::vector<std::string>{"0", "1"});
    const auto pairings = only<nd::pairing_event>(events);
    REQUIRE(pairings.size() == 1);
    CHECK(pairings[0].error == core::pairing_errc::timeout);
  }

  SECTION("a newer exchange evicts it (pairing_options::max_pending), and then ends too") {
    auto o = lanyard::test::loopback_node_options(dir.path / "acc");
    o.server.pairing.max_pending = 1;
    auto n = lanyard::test::open_node(io, std::move(o));
    drain(io, *n);
    pairing_connection first(io, *n, "neighbour");
    first.start_and_hold(io);
    CHECK(sf(n->txt()) == "0");
    // A second unknown controller's handshake takes the only place: the first exchange ends
    // (the server reports it), though nobody has started another yet.
    pairing_connection second(io, *n, "neighbour-2");
    REQUIRE(run_until(
        io, [&] { return sf(n->txt()) == "1"; }, 10s));
    CHECK(only<nd::pairing_event>(drain(io, *n)).size() == 1);
    second.start_and_hold(io);
    CHECK(sf(n->txt()) == "0");
    second.drop();
    REQUIRE(run_until(
        io, [&] { return sf(n->txt()) == "1"; }, 10s));
  }

  SECTION("a wrong setup code") {
    auto n = open_node(io, dir.path / "acc");
    REQUIRE(n->new_setup_code());
    drain(io, *n);
    pairing_connection app(io, *n, "phone");
    CHECK(app.pair_by_code(io, other_code(*n->new_setup_code())) ==
          core::pairing_errc::accessory_unverified);
    app.drop(); // the app leaves after the accessory's confirmation: its attempt counted
    REQUIRE(run_until(
        io, [&] { return n->server().pairings_in_progress() == 0; }, 10s));
    CHECK(sf(n->txt()) == "1");
    const auto events = drain(io, *n);
    CHECK(published_sf(events) == std::vector<std::string>{"0", "1"});
    const auto pairings = only<nd::pairing_event>(events);
    REQUIRE(pairings.size() == 1);
    CHECK(pairings[0].error == core::pairing_errc::wrong_proof);
  }
}

TEST_CASE("node: after a pairing by the setup code sf stays 0 if the window closed, and comes "
          "back if it stayed open",
          "[node][pairing]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-node");
  const bool close_after = GENERATE(true, false);
  auto o = lanyard::test::loopback_node_options(dir.path / "acc");
  o.close_window_after_pairing = close_after;
  auto n = lanyard::test::open_node(io, std::move(o));
  REQUIRE(n->new_setup_code());
  drain(io, *n);
  pairing_connection app(io, *n, "phone");
  REQUIRE_FALSE(app.pair_by_code(io, std::string(n->new_setup_code()->view())));
  CHECK(n->server().pairings_in_progress() == 0);
  const auto events = drain(io, *n);
  REQUIRE(only<nd::pairing_event>(events).size() == 1);
  CHECK_FALSE(only<nd::pairing_event>(events)[0].error);
  if (close_after) {
    // Down at the start, and the window closed at the end: one publication for the pairing.
    CHECK(sf(n->txt()) == "0");
    CHECK(published_sf(events) == std::vector<std::string>{"0"});
  } else {
    // Another app may still pair (there is room): offered again.
    CHECK(sf(n->txt()) == "1");
    CHECK(published_sf(events) == std::vector<std::string>{"0", "1"});
  }
}

namespace {

// A paired app's own channel to `n` (its identity from `app_dir`), recording what the relay
// service (CONTROL service 3) sends it: to send what app::device has no call for.
struct relay_client {
  relay_client(asio::io_context& io, const node& n, const std::filesystem::path& app_dir)
      : id(identity(app_dir)), ch(io.get_executor(), lanyard::tls::context(id), options(n)) {
    ch.set_control_handler(
        [this](core::message_kind service, std::uint64_t, std::span<const std::byte> p) {
          if (service == core::message_kind::relay) got.emplace_back(p.begin(), p.end());
        });
    ch.start({"127.0.0.1", n.ports().at(0)});
  }
  static lanyard::tls::identity identity(const std::filesystem::path& app_dir) {
    core::error_detail e;
    auto loaded = lanyard::tls::identity_files::load(app_dir / "identity", e);
    INFO(e.message());
    REQUIRE_FALSE(e);
    return loaded;
  }
  static lanyard::client::client_options options(const node& n) {
    lanyard::client::client_options o;
    o.trust.device_id = "lamp-1";
    o.trust.expected_fingerprint = n.fingerprint();
    return o;
  }
  // Sends `body` on service 3; its seq once the accessory acknowledged it.
  std::uint64_t send(asio::io_context& io, std::span<const std::byte> body) {
    std::optional<std::pair<std::error_code, std::uint64_t>> done;
    ch.async_send_control(core::message_kind::relay, body, {},
                          [&](std::error_code ec, std::uint64_t seq) { done.emplace(ec, seq); });
    REQUIRE(run_until(io, [&] { return done.has_value(); }));
    REQUIRE_FALSE(done->first);
    return done->second;
  }
  // The texts answering `seq` among what came (binary tickets are not answers).
  std::vector<std::string> answers_to(std::uint64_t seq) const {
    std::vector<std::string> out;
    for (const auto& m : got) {
      auto parsed = core::parse_app_message(std::as_bytes(std::span(m)));
      if (parsed && parsed.message.get_uint("re", 0, UINT64_MAX) == seq)
        out.emplace_back(reinterpret_cast<const char*>(m.data()), m.size());
    }
    return out;
  }
  lanyard::tls::identity id;
  lanyard::client::client_channel ch;
  std::vector<std::vector<std::byte>> got;
};

// An admin's settings changes (stored, switched off), not the broker connection's states.
std::vector<nd::relay_event> settings_changes(const std::vector<node_event>& events) {
  std::vector<nd::relay_event> out;
  for (const auto& r : only<nd::relay_event>(events))
    if (r.settings_by) out.push_back(r);
  return out;
}

} // namespace

TEST_CASE("node: the relay is switched off by an admin only, with one answer; the settings go, "
          "the secret stays",
          "[node][relay]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-node");
  auto n = open_node(io, dir.path / "acc");
  const std::filesystem::path acc = dir.path / "acc";
  {
    auto owner = open_app(io, dir.path / "owner", n->ports().at(0));
    lanyard::test::pair_device(io, *owner, n->setup_payload());
    REQUIRE_FALSE(n->open_pairing_window());
    auto guest = open_app(io, dir.path / "guest", n->ports().at(0));
    lanyard::test::pair_device(io, *guest, n->setup_payload());
  } // their own channels go: the relay clients below are the controllers' only sessions
  relay_client admin(io, *n, dir.path / "owner");
  relay_client user(io, *n, dir.path / "guest");

  // Settings for a broker on loopback that does not answer: stored all the same.
  core::relay_settings s;
  s.broker = {"127.0.0.1", 1, "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"};
  s.accessory_password = "acc-secret";
  s.household_account = "home1";
  s.household_password = "home-secret";
  std::vector<std::uint8_t> body;
  REQUIRE_FALSE(core::encode_relay_settings(s, body));
  const std::uint64_t set = admin.send(io, std::as_bytes(std::span(body)));
  REQUIRE(run_until(io, [&] { return !admin.answers_to(set).empty(); }));
  CHECK(admin.answers_to(set) == std::vector<std::string>{"v1 ok re=" + std::to_string(set)});
  REQUIRE(std::filesystem::exists(acc / "relay-settings"));
  drain(io, *n);

  // A user: refused, nothing changes.
  const std::string off = "v1 relay_off";
  const std::uint64_t by_user = user.send(io, std::as_bytes(std::span(off)));
  REQUIRE(run_until(io, [&] { return !user.answers_to(by_user).empty(); }));
  CHECK(user.answers_to(by_user).front().find("reason=not_admin") != std::string::npos);
  CHECK(std::filesystem::exists(acc / "relay-settings"));
  CHECK(settings_changes(drain(io, *n)).empty());

  // The admin: one ok, the settings and the CA file gone, the secret kept, an event.
  const std::uint64_t by_admin = admin.send(io, std::as_bytes(std::span(off)));
  REQUIRE(run_until(io, [&] { return !admin.answers_to(by_admin).empty(); }));
  io.restart();
  io.run_for(200ms); // a second answer would come now
  CHECK(admin.answers_to(by_admin) ==
        std::vector<std::string>{"v1 ok re=" + std::to_string(by_admin)});
  CHECK_FALSE(std::filesystem::exists(acc / "relay-settings"));
  CHECK_FALSE(std::filesystem::exists(acc / "relay-broker-ca.pem")); // the answer was acknowledged
  CHECK(std::filesystem::exists(acc / "relay-secret"));
  const auto events = settings_changes(drain(io, *n));
  REQUIRE(events.size() == 1);
  CHECK(events[0].switched_off);
  CHECK(events[0].settings_by == admin.id.fingerprint());

  // Another verb on service 3: unknown_verb, not taken for settings.
  const std::string other = "v1 relay_on";
  const std::uint64_t unknown = admin.send(io, std::as_bytes(std::span(other)));
  REQUIRE(run_until(io, [&] { return !admin.answers_to(unknown).empty(); }));
  CHECK(admin.answers_to(unknown).front().find("reason=unknown_verb") != std::string::npos);
}
