// app::controller's pairing modes over the real adapters on loopback (a real accessory::server
// with its controller store and pairing window, the controller's identity and trust store on
// disk): by setup code, by confirmation, and proving the secret again for a pinned accessory.
// What the trust store records, and what the accessory records, is checked on both sides.
#include <lanyard/app/controller.hpp>

#include <lanyard/accessory/server.hpp>
#include <lanyard/core/error_condition.hpp>
#include <lanyard/core/pairing_error.hpp>
#include <lanyard/core/setup_code.hpp>
#include <lanyard/crypto/pairing_crypto.hpp>
#include <lanyard/tls_engine/context.hpp>
#include <lanyard/trust/controller_store.hpp>
#include <lanyard/trust/error.hpp>
#include <lanyard/trust/setup_credentials.hpp>
#include <lanyard/trust/trust_store.hpp>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include <catch2/catch.hpp>

#include "support/app_fixture.hpp"
#include "support/io_test_support.hpp"

#include <functional>
#include <optional>
#include <string>

using lanyard::client::channel_state;
using lanyard::test::run_until;
namespace app = lanyard::app;
namespace core = lanyard::core;
namespace trust = lanyard::trust;

namespace {

const lanyard::tls::identity& accessory_id() {
  static const lanyard::tls::identity id = lanyard::test::make_identity("lamp-1");
  return id;
}

// A valid code: seven digits and their Verhoeff check digit.
std::string test_code() {
  std::string digits = "2718281";
  digits += core::verhoeff_check_digit(digits);
  return digits;
}

// An accessory in setup mode whose label has a setup secret and `test_code()`.
struct coded_accessory : lanyard::test::setup_mode_accessory {
  static lanyard::accessory::server_options with_code() {
    lanyard::accessory::server_options so;
    so.pairing.failure_delay_first = std::chrono::milliseconds(1);
    so.pairing.failure_delay_max = std::chrono::milliseconds(1);
    return so;
  }
  coded_accessory(asio::io_context& io, const std::filesystem::path& dir)
      : setup_mode_accessory(io, dir, accessory_id(), with_code()) {}
};

// setup_mode_accessory knows only the payload's secret: give its server the code's verifier.
std::unique_ptr<coded_accessory> make_coded(asio::io_context& io,
                                            const std::filesystem::path& dir) {
  auto acc = std::make_unique<coded_accessory>(io, dir);
  trust::setup_credentials creds;
  creds.secret.fill(lanyard::test::setup_mode_accessory::secret_byte);
  REQUIRE_FALSE(lanyard::crypto::make_setup_code_verifier(
      test_code(), lanyard::crypto::system_random(), 1000, creds.verifier));
  lanyard::accessory::server_options so = coded_accessory::with_code();
  so.pairing.credentials = creds;
  acc->srv = std::make_unique<lanyard::accessory::server>(
      io.get_executor(), lanyard::tls::context(accessory_id()), acc->store, so);
  REQUIRE(!acc->srv->listen(asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0)));
  return acc;
}

struct pair_result {
  std::optional<std::error_code> ec;
  app::pairing_result r;
};

} // namespace

TEST_CASE("app: pairing by setup code pins the key as proven by the code; a certificate naming "
          "another id is refused before any pairing frame",
          "[app][pairing]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-app-pair");
  auto acc = make_coded(io, dir.path / "accessory");
  auto ctl = lanyard::test::open_controller(
      io, lanyard::test::loopback_app(dir.path / "app", acc->port()));

  // The accessory at this address is lamp-1: asking for lamp-2 there pairs nothing.
  pair_result wrong_id;
  ctl->async_pair("lamp-2", test_code(), [&](std::error_code ec, app::pairing_result r) {
    wrong_id = {ec, std::move(r)};
  });
  REQUIRE(run_until(io, [&] { return wrong_id.ec.has_value(); }));
  CHECK(*wrong_id.ec == trust::trust_errc::payload_mismatch);
  CHECK(acc->store->list().empty());

  pair_result ok;
  ctl->async_pair("lamp-1", test_code(), [&](std::error_code ec, app::pairing_result r) {
    ok = {ec, std::move(r)};
  });
  REQUIRE(run_until(io, [&] { return ok.ec.has_value(); }));
  INFO(ok.ec->message());
  REQUIRE_FALSE(*ok.ec);
  CHECK(ok.r.fingerprint == accessory_id().fingerprint());
  REQUIRE(ok.r.role);
  CHECK(*ok.r.role == core::paired_role::admin);
  CHECK(ctl->get("lamp-1")->state() == channel_state::ready);
  const auto pins = ctl->accessories();
  REQUIRE(pins.size() == 1);
  CHECK(pins[0].paired);
  // How the key was proven is recorded with the pin.
  ctl.reset();
  trust::trust_store store(dir.path / "app" / "trust-store.json");
  REQUIRE_FALSE(store.load().failed());
  const auto rec = store.find("lamp-1");
  REQUIRE(rec);
  CHECK(rec->method == trust::pin_method::setup_code);
}

TEST_CASE("app: a wrong setup code fails with wrong_proof and pins nothing", "[app][pairing]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-app-pair");
  auto acc = make_coded(io, dir.path / "accessory");
  auto ctl = lanyard::test::open_controller(
      io, lanyard::test::loopback_app(dir.path / "app", acc->port()));
  std::string guess = "3141592";
  guess += core::verhoeff_check_digit(guess);
  pair_result r;
  ctl->async_pair("lamp-1", guess, [&](std::error_code ec, app::pairing_result p) {
    r = {ec, std::move(p)};
  });
  REQUIRE(run_until(io, [&] { return r.ec.has_value(); }));
  // SPAKE2+: the accessory's confirmation comes first, so a wrong code shows as the accessory
  // failing to prove itself; both are authentication failures.
  CHECK(*r.ec == core::condition::authentication_failed);
  CHECK(ctl->accessories().empty());
  // The device says how many tries the accessory still takes.
  const core::error_detail why = ctl->get("lamp-1")->last_error();
  INFO(why.message());
  CHECK(why.find(core::field_key::attempts_left) != nullptr);
  // A mistyped code (bad check digit) never reaches the network.
  pair_result typo;
  ctl->async_pair("lamp-1", "12345678", [&](std::error_code ec, app::pairing_result p) {
    typo = {ec, std::move(p)};
  });
  REQUIRE(run_until(io, [&] { return typo.ec.has_value(); }));
  CHECK(*typo.ec == core::setup_code_errc::check_digit_mismatch);
}

TEST_CASE("app: prove_again pairs a pinned accessory again: an app its admin removed is added back "
          "and learns its role",
          "[app][pairing]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-app-pair");
  auto acc = make_coded(io, dir.path / "accessory");
  auto ctl = lanyard::test::open_controller(
      io, lanyard::test::loopback_app(dir.path / "app", acc->port()));
  auto lamp = lanyard::test::pair_device(io, *ctl, acc->payload());

  // Pinned and connected: by default a second call only connects and reports no role.
  pair_result plain;
  ctl->async_pair(acc->payload(), [&](std::error_code ec, app::pairing_result p) {
    plain = {ec, std::move(p)};
  });
  REQUIRE(run_until(io, [&] { return plain.ec.has_value(); }));
  CHECK_FALSE(*plain.ec);
  CHECK_FALSE(plain.r.role);

  // The accessory forgets this app (an admin removed it): proving the secret again adds it back.
  lamp->cancel();
  REQUIRE(acc->store->remove(ctl->fingerprint()).ok());
  REQUIRE_FALSE(acc->store->find(ctl->fingerprint()));
  pair_result again;
  ctl->async_pair(acc->payload(), app::pair_options{.prove_again = true},
                  [&](std::error_code ec, app::pairing_result p) {
                    again = {ec, std::move(p)};
                  });
  REQUIRE(run_until(io, [&] { return again.ec.has_value(); }));
  INFO(again.ec->message());
  REQUIRE_FALSE(*again.ec);
  REQUIRE(again.r.role);
  CHECK(*again.r.role == core::paired_role::admin);
  CHECK(acc->store->find(ctl->fingerprint()));
  CHECK(ctl->get("lamp-1")->state() == channel_state::ready);

  // By code as well, while connected: the exchange runs on a new connection.
  pair_result by_code;
  ctl->async_pair("lamp-1", test_code(), app::pair_options{.prove_again = true},
                  [&](std::error_code ec, app::pairing_result p) {
                    by_code = {ec, std::move(p)};
                  });
  REQUIRE(run_until(io, [&] { return by_code.ec.has_value(); }));
  INFO(by_code.ec->message());
  REQUIRE_FALSE(*by_code.ec);
  CHECK(by_code.r.role);

  // A payload without its secret cannot prove anything again.
  auto no_secret = acc->payload();
  no_secret.setup_secret.reset();
  pair_result refused;
  ctl->async_pair(no_secret, app::pair_options{.prove_again = true},
                  [&](std::error_code ec, app::pairing_result p) {
                    refused = {ec, std::move(p)};
                  });
  REQUIRE(run_until(io, [&] { return refused.ec.has_value(); }));
  CHECK(*refused.ec == core::payload_errc::no_setup_secret);
}

namespace {

// An accessory without label or display code: confirmation pairing only.
struct confirming_accessory {
  confirming_accessory(asio::io_context& io, const std::filesystem::path& dir)
      : store(std::make_shared<trust::controller_store>(dir / "controllers")) {
    REQUIRE(store->load().ok());
    REQUIRE(store->open_window(std::chrono::system_clock::now()).ok());
    lanyard::accessory::server_options so;
    so.pairing.allow_confirmation = true;
    so.pairing.on_verification_code = [this](std::uint32_t c) { shown = c; };
    srv = std::make_unique<lanyard::accessory::server>(
        io.get_executor(), lanyard::tls::context(accessory_id()), store, so);
    REQUIRE(!srv->listen(asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0)));
  }
  std::uint16_t port() const { return srv->local_endpoint().port(); }
  std::shared_ptr<trust::controller_store> store;
  std::unique_ptr<lanyard::accessory::server> srv;
  std::optional<std::uint32_t> shown; // what its display shows
};

} // namespace

TEST_CASE("app: confirmation pairing asks the person with the code both sides show; only a yes "
          "pins the key",
          "[app][pairing]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-app-pair");
  confirming_accessory acc(io, dir.path / "accessory");

  // A person who says no: nothing pinned, not_confirmed.
  auto declined = lanyard::test::open_controller(
      io, lanyard::test::loopback_app(dir.path / "declined", acc.port()));
  std::optional<lanyard::client::pairing_confirmation> asked;
  pair_result no;
  declined->async_pair_by_confirmation(
      "lamp-1",
      [&](const lanyard::client::pairing_confirmation& c, std::function<void(bool)> answer) {
        asked = c;
        answer(false);
        answer(true); // only the first answer counts
      },
      {},
      [&](std::error_code ec, app::pairing_result p) {
        no = {ec, std::move(p)};
      });
  REQUIRE(run_until(io, [&] { return no.ec.has_value(); }));
  CHECK(*no.ec == core::pairing_errc::not_confirmed);
  REQUIRE(asked);
  CHECK(asked->device_id == "lamp-1");
  CHECK(asked->fingerprint == accessory_id().fingerprint());
  REQUIRE(acc.shown);
  CHECK(asked->code == *acc.shown); // both sides show the same code
  CHECK(declined->accessories().empty());
  CHECK(declined->get("lamp-1")->state() == channel_state::failed);

  // A person who says yes, later (a dialog): pinned as trust on first use, connected.
  auto owner = lanyard::test::open_controller(
      io, lanyard::test::loopback_app(dir.path / "owner", acc.port()));
  std::function<void(bool)> pending_answer;
  pair_result yes;
  owner->async_pair_by_confirmation(
      "lamp-1",
      [&](const lanyard::client::pairing_confirmation&, std::function<void(bool)> answer) {
        pending_answer = std::move(answer);
      },
      {},
      [&](std::error_code ec, app::pairing_result p) {
        yes = {ec, std::move(p)};
      });
  REQUIRE(run_until(io, [&] { return static_cast<bool>(pending_answer); }));
  CHECK(owner->accessories().empty()); // nothing pinned while the person looks
  pending_answer(true);
  REQUIRE(run_until(io, [&] { return yes.ec.has_value(); }));
  INFO(yes.ec->message());
  REQUIRE_FALSE(*yes.ec);
  CHECK(yes.r.fingerprint == accessory_id().fingerprint());
  CHECK(owner->get("lamp-1")->state() == channel_state::ready);
  owner.reset();
  trust::trust_store store(dir.path / "owner" / "trust-store.json");
  REQUIRE_FALSE(store.load().failed());
  const auto rec = store.find("lamp-1");
  REQUIRE(rec);
  CHECK(rec->method == trust::pin_method::tofu);
}

TEST_CASE("app: a confirmation nobody answers waits until the pairing is cancelled",
          "[app][pairing]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-app-pair");
  confirming_accessory acc(io, dir.path / "accessory");
  auto ctl =
      lanyard::test::open_controller(io, lanyard::test::loopback_app(dir.path / "app", acc.port()));
  bool asked = false;
  asio::cancellation_signal stop;
  pair_result r;
  ctl->async_pair_by_confirmation(
      "lamp-1",
      [&](const lanyard::client::pairing_confirmation&, std::function<void(bool)>) {
        asked = true;
      },
      {}, asio::bind_cancellation_slot(stop.slot(), [&](std::error_code ec, app::pairing_result p) {
        r = {ec, std::move(p)};
      }));
  REQUIRE(run_until(io, [&] { return asked; }));
  CHECK_FALSE(r.ec.has_value());
  stop.emit(asio::cancellation_type::terminal);
  REQUIRE(run_until(io, [&] { return r.ec.has_value(); }));
  CHECK(*r.ec == asio::error::operation_aborted);
  CHECK(ctl->accessories().empty());
}

TEST_CASE("app: once paired, the channel accepts only the key the exchange proved, even when the "
          "pin could not be written",
          "[app][pairing]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-app-pair");
  auto acc = make_coded(io, dir.path / "accessory");
  const std::uint16_t port = acc->port();
  auto ctl =
      lanyard::test::open_controller(io, lanyard::test::loopback_app(dir.path / "app", port));
  // The trust store cannot be written (its lock file is a directory): the pin is not recorded.
  std::filesystem::create_directories(dir.path / "app" / "trust-store.json.lock");
  pair_result ok;
  ctl->async_pair("lamp-1", test_code(), [&](std::error_code ec, app::pairing_result r) {
    ok = {ec, std::move(r)};
  });
  REQUIRE(run_until(io, [&] { return ok.ec.has_value(); }));
  INFO(ok.ec->message());
  REQUIRE_FALSE(*ok.ec);
  CHECK(ctl->accessories().empty()); // not pinned
  auto lamp = ctl->get("lamp-1");

  // The accessory goes; another one claiming its id answers at its address. The app must not
  // take it for the accessory it paired (it would send it the session's messages).
  acc.reset();
  static const lanyard::tls::identity impostor_id = lanyard::test::make_identity("lamp-1");
  auto store = std::make_shared<trust::controller_store>(dir.path / "impostor");
  REQUIRE(store->load().ok());
  REQUIRE(store->open_window(std::chrono::system_clock::now()).ok());
  lanyard::accessory::server_options so;
  so.pairing.allow_confirmation = true;
  lanyard::accessory::server impostor(io.get_executor(), lanyard::tls::context(impostor_id), store,
                                      so);
  REQUIRE(!impostor.listen(asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), port)));
  REQUIRE(run_until(io, [&] { return lamp->state() != channel_state::ready; })); // the link went
  REQUIRE(run_until(io, [&] {
    return lamp->state() == channel_state::failed || lamp->state() == channel_state::ready;
  }));
  CHECK(lamp->state() == channel_state::failed);
  CHECK(lamp->last_error().code == trust::trust_errc::payload_mismatch);
}
