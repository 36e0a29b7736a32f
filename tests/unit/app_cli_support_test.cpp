// What app::controller offers for a command-line tool built on it (src/cli): the device id of an
// identity it creates (controller_options::identity_id, so that every command of the tool makes
// the same one) and whether discovery is browsing (controller::discovery_status(), so that a
// tool can say why it will not find an accessory instead of waiting for its timeout).
#include <lanyard/app/controller.hpp>

#include <lanyard/discovery/client.hpp>
#include <lanyard/discovery/error.hpp>
#include <lanyard/tls_engine/error.hpp>
#include <lanyard/tls_engine/identity.hpp>
#include <lanyard/tls_engine/identity_files.hpp>

#include <asio/io_context.hpp>

#include <catch2/catch.hpp>

#include "support/io_test_support.hpp"

#include <filesystem>
#include <memory>
#include <system_error>

using lanyard::app::controller;
namespace app = lanyard::app;
namespace core = lanyard::core;

namespace {

app::controller_options options(const std::filesystem::path& state) {
  app::controller_options o;
  o.state_dir = state;
  o.name = "lanyard on a laptop";
  o.discovery = false;
  return o;
}

std::string identity_id_in(const std::filesystem::path& dir) {
  core::error_detail e;
  const lanyard::tls::identity id = lanyard::tls::identity_files::load(dir, e);
  INFO(e.message());
  REQUIRE_FALSE(e);
  return id.device_id();
}

} // namespace

TEST_CASE("app: identity_id names a new identity; an existing one keeps its id", "[app]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-app-cli");
  std::unique_ptr<controller> c;

  auto o = options(dir.path / "named");
  o.identity_id = "controller-test-host";
  REQUIRE_FALSE(controller::open(io.get_executor(), o, c));
  CHECK(identity_id_in(dir.path / "named" / "identity") == "controller-test-host");
  const core::fingerprint fp = c->fingerprint();
  c.reset();

  // Opened again under another identity_id: the same key, the same certificate.
  o.identity_id = "controller-other-host";
  REQUIRE_FALSE(controller::open(io.get_executor(), o, c));
  CHECK(c->fingerprint() == fp);
  CHECK(identity_id_in(dir.path / "named" / "identity") == "controller-test-host");
  c.reset();

  // Without it: "app-" and the name, as before.
  REQUIRE_FALSE(controller::open(io.get_executor(), options(dir.path / "default"), c));
  CHECK(identity_id_in(dir.path / "default" / "identity") == "app-lanyard-on-a-laptop");
  c.reset();

  // An id no certificate may carry is refused, and nothing is created.
  auto bad = options(dir.path / "bad");
  bad.identity_id = "not a device id";
  const core::error_detail e = controller::open(io.get_executor(), bad, c);
  CHECK(e.code == lanyard::tls::tls_errc::invalid_device_id);
  CHECK_FALSE(c);
  CHECK_FALSE(std::filesystem::exists(dir.path / "bad" / "identity" / "identity.key"));
}

TEST_CASE("app: discovery_status says whether the controller is browsing", "[app]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-app-cli");
  std::unique_ptr<controller> c;

  REQUIRE_FALSE(controller::open(io.get_executor(), options(dir.path / "off"), c));
  CHECK(c->discovery_status() == std::errc::operation_not_supported);
  c.reset();

  // With discovery on it is the Avahi client's status, known as soon as open() returns:
  // whether this host runs avahi-daemon or not (unit tests must pass either way).
  auto on = options(dir.path / "on");
  on.discovery = true;
  REQUIRE_FALSE(controller::open(io.get_executor(), on, c));
  lanyard::discovery::client avahi(io.get_executor());
  const std::error_code status = c->discovery_status();
  INFO(status.message());
  CHECK(status == avahi.status());
  CHECK((!status || status == lanyard::discovery::discovery_errc::daemon_unavailable ||
         status == lanyard::discovery::discovery_errc::bus_unavailable));
}
