// What the simulated accessory prints on stdout: one line per event, flushed at once so scripts
// can follow it. Text mode: "EVENT: key=value key=value ..." (values with spaces in double
// quotes; an event with just a `value` field prints it bare, e.g. "payload: LNY1:...").
// --json-events: one JSON object per line, {"event":"EVENT","key":value,...}. Any thread.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <system_error>

#include <lanyard/core/diagnostic.hpp>
#include <vector>

namespace lanyard::sim {

/// One field of an event: a string, or a raw JSON token (number, true/false, object).
struct field {
  std::string key;
  std::string value;
  bool raw = false;

  field(std::string k, std::string v) : key(std::move(k)), value(std::move(v)) {}
  field(std::string k, const char* v) : key(std::move(k)), value(v) {}
  field(std::string k, std::uint64_t v) : key(std::move(k)), value(std::to_string(v)), raw(true) {}
  field(std::string k, int v) : key(std::move(k)), value(std::to_string(v)), raw(true) {}
  field(std::string k, bool v) : key(std::move(k)), value(v ? "true" : "false"), raw(true) {}
};

/// Sets the output mode (once, at start).
void set_json_events(bool on);

/// Prints one event line (see the file comment).
void emit(std::string_view event, std::initializer_list<field> fields = {});
void emit(std::string_view event, const std::vector<field>& fields);

/// What the accessory's server and TLS report (core::diagnostic). JSON mode: one event
///   {"event":"diagnostic","level":...,"id":...,"code":...,"conditions":[...],"text":...,
///    "fields":{...}}
/// the shape `lanyard --json` prints too (src/cli/report.hpp), so scripts check ids, codes and
/// fields; text mode: "log: TEXT", the line the server's `log` hook printed before.
void emit_diagnostic(const core::diagnostic& d);

/// A "warning" event: `value` is the sentence for people, `code` (when `ec` is set) the stable
/// core::code_string() name that scripts check, e.g. "lanyard.discovery.daemon_unavailable".
void warn(const std::string& text, std::error_code ec = {});

/// Prints free text (the QR code) to stdout unless JSON mode is on (then to stderr).
void print_block(const std::string& text);

/// JSON string escaping (with quotes).
std::string json_quote(std::string_view s);

} // namespace lanyard::sim
