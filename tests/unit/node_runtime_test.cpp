// node::node's run-time changes, over the real adapters on loopback as unit.node_test: the
// product's TXT keys (set_txt), leaving setup mode after a join (listeners moved, the old
// ones' connections ended after the grace period), pairing by confirmation only (no setup
// secret), and CONTROL messages the node does not know answered rather than dropped.
#include <lanyard/node/node.hpp>

#include <lanyard/app/controller.hpp>
#include <lanyard/core/pairing_error.hpp>
#include <lanyard/core/provisioning.hpp>
#include <lanyard/trust/controller_store.hpp>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>

#include <catch2/catch.hpp>

#include "support/app_fixture.hpp"
#include "support/io_test_support.hpp"
#include "support/node_fixture.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

using lanyard::node::node;
using lanyard::node::node_event;
using lanyard::test::loopback_node_options;
using lanyard::test::open_node;
using lanyard::test::run_until;
using lanyard::test::scripted_driver;
namespace app = lanyard::app;
namespace core = lanyard::core;
namespace nd = lanyard::node;
using namespace std::chrono_literals;

namespace {

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

std::string value(const core::txt_record& t, const char* key) {
  const core::txt_entry* e = t.find(key);
  return e != nullptr && e->value ? *e->value : "<none>";
}

bool accepts(asio::io_context& io, std::uint16_t port) {
  asio::ip::tcp::socket s(io);
  std::error_code ec;
  s.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
  return !ec;
}

} // namespace

TEST_CASE("node: set_txt changes the product's keys at run time, published only when changed",
          "[node]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-node");
  auto o = loopback_node_options(dir.path / "acc");
  REQUIRE_FALSE(o.txt.set("md", "lamp"));
  REQUIRE_FALSE(o.txt.set("c#", "1"));
  auto n = open_node(io, std::move(o));
  drain(io, *n);

  core::txt_record keys;
  REQUIRE_FALSE(keys.set("md", "lamp"));
  REQUIRE_FALSE(keys.set("c#", "2"));
  REQUIRE_FALSE(n->set_txt(keys));
  CHECK(value(n->txt(), "c#") == "2");
  CHECK(value(n->txt(), "sf") == "1"); // the node's keys stay the node's
  CHECK(value(n->txt(), "id") == "lamp-1");
  auto adverts = only<nd::advertising_event>(drain(io, *n));
  REQUIRE(adverts.size() == 1);
  CHECK(value(adverts[0].txt, "c#") == "2");

  REQUIRE_FALSE(n->set_txt(keys)); // the same keys: nothing to publish
  CHECK(only<nd::advertising_event>(drain(io, *n)).empty());

  core::txt_record too_long; // as full as a record gets: no room for id, pv and sf
  int k = 0;
  for (std::size_t size : {200u, 40u, 8u, 1u})
    while (!too_long.set("k" + std::to_string(k), std::string(size, 'x')))
      ++k;
  const auto before = n->txt();
  CHECK(n->set_txt(too_long));
  CHECK(n->txt() == before);
  CHECK(only<nd::advertising_event>(drain(io, *n)).empty());
}

// The simulator's c#: a configuration number bumped whenever sf changes. Set by set_txt() in
// answer to the node's window_event, it went out in a second publication after the node's own;
// derive_txt sets it inside the node's update, so each change is published once.
TEST_CASE("node: derive_txt sets keys that follow the state in the same update: one "
          "publication per change",
          "[node]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-node");
  auto o = loopback_node_options(dir.path / "acc");
  REQUIRE_FALSE(o.txt.set("md", "lamp"));
  unsigned config = 1;
  std::vector<std::string> advertised_sf; // what the hook was shown as published
  o.derive_txt = [&](const core::txt_record& advertised, core::txt_record& next) {
    advertised_sf.push_back(value(advertised, "sf"));
    if (advertised.find("sf") != nullptr && value(advertised, "sf") != value(next, "sf")) ++config;
    CHECK_FALSE(next.set("c#", std::to_string(config)));
    CHECK_FALSE(next.set("sf", "7")); // the node's key: undone
  };
  auto n = open_node(io, std::move(o));
  CHECK(advertised_sf.at(0) == "<none>"); // the first record: nothing published before it
  CHECK(value(n->txt(), "c#") == "1");
  CHECK(value(n->txt(), "sf") == "1");
  REQUIRE(only<nd::advertising_event>(drain(io, *n)).size() == 1);

  REQUIRE_FALSE(n->close_pairing_window());
  auto adverts = only<nd::advertising_event>(drain(io, *n));
  REQUIRE(adverts.size() == 1); // sf and c# together
  CHECK(value(adverts[0].txt, "sf") == "0");
  CHECK(value(adverts[0].txt, "c#") == "2");
  CHECK(value(adverts[0].txt, "md") == "lamp");

  REQUIRE_FALSE(n->open_pairing_window());
  adverts = only<nd::advertising_event>(drain(io, *n));
  REQUIRE(adverts.size() == 1);
  CHECK(value(adverts[0].txt, "sf") == "1");
  CHECK(value(adverts[0].txt, "c#") == "3");

  // The same state: rebuilt, shown to the hook, nothing published.
  const std::size_t calls = advertised_sf.size();
  REQUIRE_FALSE(n->set_txt(core::txt_record(n->txt())));
  CHECK(advertised_sf.size() == calls + 1);
  CHECK(only<nd::advertising_event>(drain(io, *n)).empty());
  CHECK(value(n->txt(), "c#") == "3");
}

TEST_CASE("node: leave_setup_mode moves the listeners; the SoftAP's connections end after the "
          "grace period, the sessions stay",
          "[node]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-node");
  auto radio = std::make_shared<scripted_driver>(io);
  auto o = loopback_node_options(dir.path / "acc");
  o.setup_mode = true;
  o.softap_ssid = "Lanyard-lamp-1";
  o.wifi = radio;
  auto n = open_node(io, std::move(o));
  CHECK(n->setup_mode());
  const std::uint16_t softap = n->ports().at(0);
  auto ctl =
      lanyard::test::open_controller(io, lanyard::test::loopback_app(dir.path / "app", softap));
  auto lamp = lanyard::test::pair_device(io, *ctl, n->setup_payload());
  std::optional<std::error_code> provisioned;
  lamp->async_provision(core::wifi_credentials{"HomeLAN", "correct horse"},
                        [&](std::error_code ec, app::provisioning_outcome) { provisioned = ec; });
  REQUIRE(run_until(io, [&] { return provisioned.has_value(); }));
  REQUIRE_FALSE(*provisioned);
  drain(io, *n);

  // A port taken by someone else: the node stays where it was, in setup mode.
  asio::ip::tcp::acceptor taken(io, {asio::ip::make_address("127.0.0.1"), 0});
  CHECK(n->leave_setup_mode({taken.local_endpoint()}, 50ms).code == asio::error::address_in_use);
  CHECK(n->setup_mode());
  CHECK(n->ports() == std::vector<std::uint16_t>{softap});

  REQUIRE_FALSE(n->leave_setup_mode({{asio::ip::make_address("127.0.0.1"), 0}}, 300ms));
  CHECK_FALSE(n->setup_mode());
  CHECK_FALSE(n->setup_payload().needs_provisioning);
  CHECK_FALSE(n->setup_payload().softap_ssid.has_value());
  const std::uint16_t home = n->ports().at(0);
  CHECK(home != softap);
  CHECK(accepts(io, home));
  CHECK_FALSE(accepts(io, softap));
  CHECK(lamp->state() == lanyard::client::channel_state::ready); // its connection stays

  std::vector<nd::setup_listeners_closed_event> closed;
  REQUIRE(run_until(io, [&] {
    for (const auto& e : only<nd::setup_listeners_closed_event>(drain(io, *n)))
      closed.push_back(e);
    return !closed.empty();
  }));
  REQUIRE(closed.size() == 1);
  CHECK(closed[0].connections_ended == 1);
  REQUIRE(closed[0].closed.size() == 1);
  CHECK(closed[0].closed[0].port() == softap);
  CHECK(n->sessions() == std::vector<nd::controller_id>{ctl->fingerprint()}); // lingering

  // Provisioned and out of setup mode: provisioning is refused.
  lamp.reset();
  ctl.reset();
  auto again =
      lanyard::test::open_controller(io, lanyard::test::loopback_app(dir.path / "app", home));
  auto dev = again->get("lamp-1");
  dev->start();
  REQUIRE(run_until(io, [&] { return dev->state() == lanyard::client::channel_state::ready; }));
  provisioned.reset();
  dev->async_provision(core::wifi_credentials{"HomeLAN", "correct horse"},
                       [&](std::error_code ec, app::provisioning_outcome) { provisioned = ec; });
  REQUIRE(run_until(io, [&] { return provisioned.has_value(); }));
  CHECK(*provisioned == core::provisioning_errc::credentials_refused);
  CHECK(dev->last_error().text("refusal") == std::string_view("not_in_setup_mode"));
}

TEST_CASE("node: pairing by confirmation only has no setup secret; a payload's proof is refused",
          "[node]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-node");
  auto o = loopback_node_options(dir.path / "acc");
  o.pairing = nd::pairing_mode::confirmation;
  auto n = open_node(io, std::move(o));
  CHECK_FALSE(std::filesystem::exists(dir.path / "acc" / "setup-credentials"));
  CHECK_FALSE(n->setup_payload().setup_secret.has_value());
  CHECK_FALSE(n->new_setup_code().has_value());
  CHECK(value(n->txt(), "sf") == "1"); // the window is open: apps may pair by confirmation

  core::setup_payload forged = n->setup_payload();
  forged.setup_secret.emplace();
  forged.setup_secret->fill(7);
  auto ctl = lanyard::test::open_controller(
      io, lanyard::test::loopback_app(dir.path / "app", n->ports().at(0)));
  std::optional<std::error_code> paired;
  ctl->async_pair(forged, [&](std::error_code ec, app::pairing_result) { paired = ec; });
  REQUIRE(run_until(io, [&] { return paired.has_value(); }));
  CHECK(*paired);
  std::vector<nd::pairing_event> pairings;
  REQUIRE(run_until(io, [&] {
    for (const auto& e : only<nd::pairing_event>(drain(io, *n)))
      pairings.push_back(e);
    return !pairings.empty();
  }));
  CHECK(pairings[0].error == core::pairing_errc::method_not_supported);
  CHECK(pairings[0].method == core::pairing_method::setup_secret);
}

TEST_CASE("node: every CONTROL message is shown to on_control; a verb the node does not know is "
          "answered unknown_verb",
          "[node]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-node");
  auto o = loopback_node_options(dir.path / "acc");
  std::vector<std::string> seen;
  o.on_control = [&](const core::fingerprint&, core::message_kind service, std::uint64_t,
                     std::span<const std::byte> m) {
    seen.push_back(std::string(core::to_string(service)) + ": " + lanyard::test::text(m));
  };
  auto n = open_node(io, std::move(o));
  auto ctl = lanyard::test::open_controller(
      io, lanyard::test::loopback_app(dir.path / "app", n->ports().at(0)));
  auto lamp = lanyard::test::pair_device(io, *ctl, n->setup_payload());
  // Without a Wi-Fi driver: provisioning is answered not_supported, and the observer saw it.
  std::optional<std::error_code> provisioned;
  lamp->async_provision(core::wifi_credentials{"HomeLAN", "correct horse"},
                        [&](std::error_code ec, app::provisioning_outcome) { provisioned = ec; });
  REQUIRE(run_until(io, [&] { return provisioned.has_value(); }));
  CHECK(*provisioned == core::provisioning_errc::credentials_refused);
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].rfind("provisioning: v1 wifi_set ", 0) == 0);
}

TEST_CASE("node: in setup mode with a controller paired, the window reopens at boot only when "
          "pairing needs the setup secret",
          "[node][security]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-node");
  auto boot = [&](const std::filesystem::path& state, nd::pairing_mode mode) {
    {
      // A controller paired on an earlier boot.
      lanyard::trust::controller_store store(state / "controllers");
      std::filesystem::create_directories(state);
      REQUIRE(store.load().ok());
      const auto now = lanyard::trust::window_clock::now();
      REQUIRE(store.open_window(now).ok());
      core::fingerprint owner{};
      owner.bytes.fill(0x42);
      REQUIRE(store.pair(owner, "owner", lanyard::trust::controller_role::admin, now).ok());
      REQUIRE(store.close_window().ok());
    }
    auto o = loopback_node_options(state);
    o.pairing = mode;
    o.setup_mode = true;
    return open_node(io, std::move(o));
  };
  CHECK(value(boot(dir.path / "secret", nd::pairing_mode::setup_secret)->txt(), "sf") == "1");
  // By confirmation alone anyone near could pair at every boot: the button opens it.
  auto n = boot(dir.path / "confirm", nd::pairing_mode::confirmation);
  CHECK(value(n->txt(), "sf") == "0");
  REQUIRE_FALSE(n->open_pairing_window());
  CHECK(value(n->txt(), "sf") == "1");
}
