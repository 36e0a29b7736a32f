// What the product-API tests share (unit.app_device_test, unit.app_flow_control_test,
// unit.node_test): an app::controller on loopback without discovery, pairing through it, a
// scripted accessory in setup mode, and draining a pulled event stream.
#pragma once

#include <lanyard/accessory/server.hpp>
#include <lanyard/app/controller.hpp>
#include <lanyard/core/app_message.hpp>
#include <lanyard/core/setup_payload.hpp>
#include <lanyard/tls_engine/context.hpp>
#include <lanyard/trust/controller_store.hpp>
#include <lanyard/trust/setup_credentials.hpp>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include <catch2/catch.hpp>

#include "support/io_test_support.hpp"

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace lanyard::test {

/// An app on loopback: discovery off (no avahi-daemon in unit tests), the accessory reached by
/// a static path to 127.0.0.1:`port`, as an app on an accessory's SoftAP does; a short backoff.
inline app::controller_options loopback_app(const std::filesystem::path& state,
                                            std::uint16_t port) {
  using namespace std::chrono_literals;
  app::controller_options o;
  o.state_dir = state;
  o.name = "Anna's phone";
  o.discovery = false;
  o.paths.static_paths = {{asio::ip::make_address("127.0.0.1"), port, ""}};
  o.backoff.initial = 20ms;
  o.backoff.cap = 200ms;
  return o;
}

inline std::unique_ptr<app::controller> open_controller(asio::io_context& io,
                                                        app::controller_options o) {
  std::unique_ptr<app::controller> c;
  const core::error_detail e = app::controller::open(io.get_executor(), std::move(o), c);
  INFO(e.message());
  REQUIRE_FALSE(e);
  REQUIRE(c);
  return c;
}

/// Pairs through the controller with `payload`; returns the device, connected.
inline std::shared_ptr<app::device> pair_device(asio::io_context& io, app::controller& ctl,
                                                const core::setup_payload& payload) {
  std::optional<std::error_code> done;
  app::pairing_result result;
  ctl.async_pair(payload, [&](std::error_code ec, app::pairing_result r) {
    done = ec;
    result = std::move(r);
  });
  REQUIRE(run_until(io, [&] { return done.has_value(); }));
  INFO(done->message());
  REQUIRE_FALSE(*done);
  CHECK(result.device_id == payload.device_id);
  CHECK(result.fingerprint == payload.device_fingerprint);
  auto d = ctl.get(payload.device_id);
  CHECK(d->state() == client::channel_state::ready);
  return d;
}

/// Every event `source` (a device or a node) has queued now, in order: each wait is cancelled
/// at once, so only what is there already is taken.
template <class Event, class Source>
std::vector<Event> drain_events(asio::io_context& io, Source& source) {
  std::vector<Event> out;
  for (;;) {
    std::optional<std::error_code> ec;
    asio::cancellation_signal stop;
    source.async_next_event(
        asio::bind_cancellation_slot(stop.slot(), [&](std::error_code e, Event ev) {
          ec = e;
          if (!e) out.push_back(std::move(ev));
        }));
    stop.emit(asio::cancellation_type::terminal);
    REQUIRE(run_until(io, [&] { return ec.has_value(); }));
    if (*ec) return out;
  }
}

/// An accessory in setup mode on loopback: accessory::server with its pairing window open and
/// the payload's secret `secret_byte` × 16. Its provisioning service answers each request with
/// the texts in `answer` ("{re}" replaced by the request's seq); application messages are
/// recorded in `received`.
struct setup_mode_accessory {
  static constexpr std::uint8_t secret_byte = 0x5a;

  setup_mode_accessory(asio::io_context& io, const std::filesystem::path& dir,
                       const tls::identity& me, accessory::server_options so = {})
      : id(me), store(std::make_shared<trust::controller_store>(dir / "controllers")) {
    REQUIRE(store->load().ok());
    REQUIRE(store->open_window(std::chrono::system_clock::now()).ok());
    trust::setup_credentials creds;
    creds.secret.fill(secret_byte);
    so.pairing.credentials = creds;
    srv = std::make_unique<accessory::server>(io.get_executor(), tls::context(me), store, so);
    srv->set_message_handler([this](const auto& c, std::uint64_t, std::span<const std::byte> p) {
      received[c].push_back(text(p));
    });
    srv->set_control_handler(
        [this](const auto& c, core::message_kind k, std::uint64_t seq, std::span<const std::byte>) {
          if (k != core::message_kind::provisioning) return;
          for (std::string a : answer) {
            if (auto at = a.find("{re}"); at != std::string::npos)
              a.replace(at, 4, std::to_string(seq));
            srv->async_send_control(c, core::message_kind::provisioning, bytes(a), {},
                                    [](std::error_code, std::uint64_t) {});
          }
        });
    REQUIRE(!srv->listen(asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0)));
  }
  core::setup_payload payload(std::uint8_t secret = secret_byte) const {
    core::setup_payload p;
    p.device_id = id.device_id();
    p.device_fingerprint = id.fingerprint();
    p.setup_secret.emplace();
    p.setup_secret->fill(secret);
    p.needs_provisioning = true;
    return p;
  }
  std::uint16_t port() const { return srv->local_endpoint().port(); }

  const tls::identity& id;
  std::shared_ptr<trust::controller_store> store;
  std::unique_ptr<accessory::server> srv;
  std::map<accessory::server::controller_id, std::vector<std::string>> received;
  std::vector<std::string> answer;
};

} // namespace lanyard::test
