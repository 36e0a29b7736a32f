// relay::mqtt_client without a broker: what it refuses before any connection, how it reports a
// broker that cannot be reached (a closed port on loopback), and that it stops cleanly. The
// broker itself is in the lab (integration.relay.mqtt_client).
#include <lanyard/core/error_condition.hpp>
#include <lanyard/relay/mqtt_client.hpp>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

using namespace lanyard;
using namespace std::chrono_literals;

namespace {

// A port on loopback that nobody listens on (bound, then closed).
std::uint16_t closed_port() {
  asio::io_context io;
  asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

// A CA certificate (self-signed, made for this test; its key was thrown away): libmosquitto
// loads it when it connects, and fails with tls_failed on one that does not parse.
std::string ca_file() {
  const auto path = std::filesystem::temp_directory_path() / "lanyard_relay_test_ca.pem";
  std::ofstream(path) << R"(-----BEGIN CERTIFICATE-----
MIIBlTCCATugAwIBAgIUCQp/uXc2tPCLfNB45tZ/tfyDsQcwCgYIKoZIzj0EAwIw
HzEdMBsGA1UEAwwUbGFueWFyZCB1bml0IHRlc3QgQ0EwIBcNMjYxMjA1MTczMTUw
WhgPMjEyNjExMTExNzMxNTBaMB8xHTAbBgNVBAMMFGxhbnlhcmQgdW5pdCB0ZXN0
IENBMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAETEUjGjkXaZhpb92YB+Er4j4n
IHvhmXBjoBji5qJ1PTdO/9tmRGmXiXxkK2nKHxUH+PxrJyYuvtVjhHsbDdulRaNT
MFEwHQYDVR0OBBYEFOvLb+oTNVsV9VnZNCQmiSm99aq1MB8GA1UdIwQYMBaAFOvL
b+oTNVsV9VnZNCQmiSm99aq1MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwID
SAAwRQIhAMG5LDaNT3r9Lu9I97KQxQ8GkYsCZ3+EhGyTGBylyDI/AiBp9oUCsrj9
FNG6TrJSIs4Z2QcCAcPyGGfaQ6AUG8gVhw==
-----END CERTIFICATE-----
)";
  return path.string();
}

} // namespace

TEST_CASE("mqtt_client: settings, topics and publishing before a connection are refused") {
  asio::io_context io;
  SECTION("no host, no port, no CA, an unreadable CA") {
    relay::mqtt_settings s;
    CHECK(relay::mqtt_client(io.get_executor(), s).start() == relay::mqtt_errc::bad_settings);
    s.host = "127.0.0.1";
    s.ca_file = ca_file();
    s.port = 0;
    CHECK(relay::mqtt_client(io.get_executor(), s).start() == relay::mqtt_errc::bad_settings);
    s.port = 8883;
    s.ca_file = "/nonexistent/ca.pem";
    CHECK(relay::mqtt_client(io.get_executor(), s).start() == relay::mqtt_errc::bad_settings);
  }
  SECTION("topics with wildcards where they cannot be, publishing while not connected") {
    relay::mqtt_client c(io.get_executor(), {});
    CHECK(c.subscribe("lanyard/v1/a/#") == std::error_code());
    CHECK(c.subscribe("lanyard/v1/#/a") == relay::mqtt_errc::bad_settings);
    const std::uint8_t b[] = {1};
    CHECK(c.publish("lanyard/v1/a/+", b) == relay::mqtt_errc::bad_settings);
    CHECK(c.publish("lanyard/v1/a/b", b) == relay::mqtt_errc::not_connected);
    CHECK(c.state() == relay::mqtt_state::stopped);
  }
}

TEST_CASE("mqtt_client: a broker that cannot be reached is reported and retried; stop ends it") {
  asio::io_context io;
  relay::mqtt_settings s;
  s.host = "127.0.0.1";
  s.port = closed_port();
  s.ca_file = ca_file();
  s.backoff_initial = 20ms;
  s.backoff_cap = 50ms;
  std::vector<std::pair<relay::mqtt_state, std::error_code>> seen;
  {
    relay::mqtt_client c(io.get_executor(), s);
    c.on_state([&](relay::mqtt_state st, std::error_code why) {
      seen.emplace_back(st, why);
      if (std::count_if(seen.begin(), seen.end(),
                        [](const auto& e) { return e.first == relay::mqtt_state::waiting; }) == 3)
        c.stop();
    });
    REQUIRE_FALSE(c.start());
    io.run_for(5s);
    CHECK(c.state() == relay::mqtt_state::stopped);
  }
  REQUIRE(seen.size() == 7); // (connecting, waiting) x 3, stopped
  for (std::size_t k = 0; k < 6; k += 2) {
    CHECK(seen[k].first == relay::mqtt_state::connecting);
    CHECK(seen[k + 1].first == relay::mqtt_state::waiting);
    CHECK(seen[k + 1].second == relay::mqtt_errc::connection_lost);
    CHECK(seen[k + 1].second == core::condition::transient);
  }
  CHECK(seen.back().first == relay::mqtt_state::stopped);
  // Nothing runs after the client is gone.
  io.restart();
  CHECK(io.run_for(100ms) == 0);
}

TEST_CASE("mqtt errors: named, classed") {
  CHECK(core::code_string(relay::mqtt_errc::not_authorized) == "lanyard.mqtt.not_authorized");
  CHECK(std::error_code(relay::mqtt_errc::not_authorized) == core::condition::permanent);
  CHECK(std::error_code(relay::mqtt_errc::tls_failed) == core::condition::authentication_failed);
  CHECK_FALSE(std::error_code(relay::mqtt_errc::connection_lost).message().empty());
  CHECK(relay::to_string(relay::mqtt_state::waiting) == "waiting");
}
