// The CLI's JSON error and diagnostic events (src/cli/report.hpp), parsed back as a script
// reads them: stable code names, conditions, fields, and peer bytes that cannot break a line.
#include "cli/cli_error.hpp"
#include "cli/report.hpp"

#include <lanyard/core/channel_error.hpp>
#include <lanyard/core/pairing_error.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

using namespace lanyard;
using nlohmann::json;

TEST_CASE("an error event names the code, its conditions and its fields", "[cli][report]") {
  core::error_detail e{core::pairing_errc::wrong_proof, "wrong setup code or payload; 19 attempts "
                                                        "left before the accessory stops pairing"};
  e.with(core::field_key::attempts_left, std::uint64_t{19})
      .with(core::field_key::retry_after_ms, std::int64_t{0})
      .with(core::field_key::device_id, std::string("lamp-7"));
  const json j = json::parse(cli::error_event(e, 1));
  CHECK(j["event"] == "error");
  CHECK(j["code"] == "lanyard.pairing.wrong_proof");
  CHECK(j["conditions"] == json::array({"authentication_failed", "permanent"}));
  CHECK(j["message"] == e.detail);
  CHECK(j["fields"]["attempts_left"] == 19);
  CHECK(j["fields"]["retry_after_ms"] == 0);
  CHECK(j["fields"]["device_id"] == "lamp-7");
  CHECK(j["exit"] == 1);
  CHECK(j["time_ms"].is_number_integer());
}

TEST_CASE("the CLI's own failures have names too", "[cli][report]") {
  const json j =
      json::parse(cli::error_event({cli::cli_errc::bad_argument, "--timeout: not a number"}, 2));
  CHECK(j["code"] == "lanyard.cli.bad_argument");
  CHECK(j["conditions"] == json::array({"permanent"}));
  CHECK(j["fields"].empty());
  CHECK(j["exit"] == 2);
}

TEST_CASE("a diagnostic event carries level, id, code and fields; none when not an error",
          "[cli][report]") {
  const std::vector<core::field> fields{{core::field_key::interface, std::string("wlan0")},
                                        {core::field_key::port, std::uint64_t{7443}},
                                        {"resumed", true}};
  const core::diagnostic d{core::diagnostic_level::warning, "channel.path_attempt_failed",
                           core::channel_errc::peer_dead, "a line for people", fields};
  const json j = json::parse(cli::diagnostic_event(d));
  CHECK(j["event"] == "diagnostic");
  CHECK(j["level"] == "warning");
  CHECK(j["id"] == "channel.path_attempt_failed");
  CHECK(j["code"] == "lanyard.channel.peer_dead");
  CHECK(j["conditions"] == json::array({"transient"}));
  CHECK(j["text"] == "a line for people");
  CHECK(j["fields"]["interface"] == "wlan0");
  CHECK(j["fields"]["port"] == 7443);
  CHECK(j["fields"]["resumed"] == true);

  const core::diagnostic info{core::diagnostic_level::info, "channel.paired", {}, "paired", {}};
  const json k = json::parse(cli::diagnostic_event(info));
  CHECK_FALSE(k.contains("code"));
  CHECK_FALSE(k.contains("conditions"));
}

TEST_CASE("a repeated field key becomes one array, in order", "[cli][report]") {
  const std::vector<core::field> fields{{"rejected_interface", std::string("cell0")},
                                        {"rejection", std::string("interface_down")},
                                        {"rejected_interface", std::string("wlan0")},
                                        {"rejection", std::string("prohibited")},
                                        {core::field_key::device_id, std::string("lamp-1")}};
  const core::diagnostic d{core::diagnostic_level::warning, "channel.attempt_failed",
                           core::channel_errc::no_viable_path, "no path", fields};
  const json j = json::parse(cli::diagnostic_event(d));
  CHECK(j["fields"]["rejected_interface"] == json::array({"cell0", "wlan0"}));
  CHECK(j["fields"]["rejection"] == json::array({"interface_down", "prohibited"}));
  CHECK(j["fields"]["device_id"] == "lamp-1");
  CHECK(j["fields"].size() == 3);
}

TEST_CASE("what a peer sent stays inside its string", "[cli][report]") {
  // A controller name or TXT value with a quote, a newline and bytes that are not UTF-8.
  const std::vector<core::field> fields{
      {core::field_key::controller, std::string("ev\"il\n\xff\"}")}};
  const core::diagnostic d{core::diagnostic_level::warning, "server.connection_refused",
                           core::channel_errc::not_paired, "refused \"ev\"il\n\"", fields};
  const std::string line = cli::diagnostic_event(d);
  CHECK(line.find('\n') == std::string::npos);
  const json j = json::parse(line);
  CHECK(j["fields"]["controller"] == "ev\"il\n\xEF\xBF\xBD\"}");
  CHECK(j["text"] == "refused \"ev\"il\n\"");
}
