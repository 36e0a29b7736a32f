// How the CLI reports, in both of its voices: a sentence on stderr for a person, and with
// --json one JSON object per line on stdout for a program. Errors and the library's
// diagnostics (core::diagnostic) share one shape, so a script learns it once:
//   {"event":"error","code":"lanyard.pairing.wrong_proof","conditions":["authentication_failed",
//    "permanent"],"message":"...","fields":{"attempts_left":19},"exit":1,"time_ms":...}
//   {"event":"diagnostic","level":"warning","id":"channel.path_attempt_failed","code":...,
//    "conditions":[...],"text":"...","fields":{...},"time_ms":...}
// `code` is core::code_string() (stable; never the message) and absent when there is no error;
// programs branch on code, conditions and fields, never on message or text (for people).
#pragma once

#include "json.hpp"

#include <lanyard/core/diagnostic.hpp>
#include <lanyard/core/error_detail.hpp>

#include <span>
#include <string>
#include <string_view>
#include <system_error>

namespace lanyard::cli {

/// Writes "code" and "conditions" (both left out when `ec` is empty).
json_writer& write_code(json_writer& w, const std::error_code& ec);

/// Writes "fields": {...}; text values escaped by JSON's rules (bytes that are not UTF-8
/// replaced), so what a peer sent cannot break the line. A key that occurs several times (one
/// per rejected path) becomes one array of its values, in order.
json_writer& write_fields(json_writer& w, std::span<const core::field> fields);

/// One "diagnostic" event line (no newline).
std::string diagnostic_event(const core::diagnostic& d);

/// One "error" event line (no newline) for a failure that ends the command with `exit_status`.
std::string error_event(const core::error_detail& e, int exit_status);

/// Ends a command: prints "lanyard COMMAND: <e.message()>" to stderr and, when `json`, the error
/// event on stdout. Returns `exit_status`. The sentence is printed as given: whoever builds it
/// escapes what a peer sent (core::display_text), as every CLI sentence does.
int report_failure(std::string_view command, bool json, const core::error_detail& e,
                   int exit_status);

} // namespace lanyard::cli
