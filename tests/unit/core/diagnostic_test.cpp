// core::diagnostic, the structured hook (docs/design/error-model.md §7.3): the record keeps an
// owning copy, field lookups, and the fallback to the old `log` line. Also runs in the
// core-freestanding build (-fno-exceptions -fno-rtti).
#include "lanyard/core/diagnostic.hpp"

#include "lanyard/core/channel_error.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

using namespace lanyard::core;

TEST_CASE("diagnostic: levels have stable names", "[diagnostic]") {
  CHECK(to_string(diagnostic_level::debug) == "debug");
  CHECK(to_string(diagnostic_level::info) == "info");
  CHECK(to_string(diagnostic_level::notice) == "notice");
  CHECK(to_string(diagnostic_level::warning) == "warning");
  CHECK(to_string(diagnostic_level::error) == "error");
}

TEST_CASE("diagnostic: a record owns what the view pointed at", "[diagnostic]") {
  diagnostic_record rec;
  {
    std::string id = "channel.path_attempt_failed";
    std::string text = "channel to lamp-1: 198.18.1.3:7443 via wlan0: connection refused";
    const std::vector<field> fields{{field_key::interface, std::string("wlan0")},
                                    {field_key::port, std::uint64_t{7443}},
                                    {field_key::attempts_left, std::int64_t{-1}}};
    const diagnostic d{diagnostic_level::warning, id, channel_errc::peer_dead, text, fields};
    rec = diagnostic_record::from(d);
    id.assign(id.size(), 'x');
    text.assign(text.size(), 'x');
  }
  CHECK(rec.level == diagnostic_level::warning);
  CHECK(rec.id == "channel.path_attempt_failed");
  CHECK(rec.code == channel_errc::peer_dead);
  CHECK(rec.text == "channel to lamp-1: 198.18.1.3:7443 via wlan0: connection refused");
  CHECK(rec.text_field(field_key::interface) == "wlan0");
  CHECK(rec.number(field_key::port) == 7443u);
  CHECK_FALSE(rec.number(field_key::attempts_left).has_value()); // negative is not a count
  CHECK_FALSE(rec.text_field(field_key::port).has_value());      // a number, not text
  CHECK(rec.find(field_key::peer) == nullptr);

  const diagnostic v = rec.view();
  CHECK(v.id == rec.id);
  CHECK(v.text_field(field_key::interface) == "wlan0");
  CHECK(v.number(field_key::port) == 7443u);
  CHECK(v.fields.size() == 3);
}

TEST_CASE("diagnostic: emit prefers the handler and falls back to the log line", "[diagnostic]") {
  const std::vector<field> fields{{field_key::device_id, std::string("lamp-1")}};
  const diagnostic d{diagnostic_level::notice,
                     "channel.reconnecting_now",
                     {},
                     "channel to lamp-1: reconnecting now",
                     fields};
  std::vector<std::string> lines;
  std::vector<diagnostic_record> seen;
  const std::function<void(std::string_view)> log = [&](std::string_view l) {
    lines.emplace_back(l);
  };
  const diagnostics_handler handler = [&](const diagnostic& x) {
    seen.push_back(diagnostic_record::from(x));
  };

  emit_diagnostic(handler, log, d);
  REQUIRE(seen.size() == 1);
  CHECK(lines.empty()); // the handler replaces the line, it does not add to it
  CHECK(seen[0].text_field(field_key::device_id) == "lamp-1");

  emit_diagnostic({}, log, d);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] == "channel to lamp-1: reconnecting now");

  emit_diagnostic({}, {}, d); // neither: nothing happens, nothing breaks
  CHECK(seen.size() == 1);
  CHECK(lines.size() == 1);
}
