/// @file
/// Structured diagnostics: what the adapters report about themselves (an attempt failed, a path
/// was chosen, a controller was refused) as data a program can branch on, instead of a
/// free-text line (docs/design/error-model.md §7.3). The client channel, the accessory server
/// and the TLS context each take a `diagnostics` handler in their options; their `log` option
/// stays and receives `text` of each diagnostic when no `diagnostics` handler is set, so
/// programs that print lines keep printing the same lines.
///
/// A diagnostic is a view: `id`, `text` and `fields` point into the emitter's storage and are
/// valid only during the call. Keep a copy with diagnostic_record (tests do exactly that).
///
/// Ids are stable, "area.what" ("channel.reconnecting_now"); each area lists its ids as
/// constants in one header (lanyard/client/diagnostics.hpp, lanyard/accessory/diagnostics.hpp,
/// lanyard/tls_engine/diagnostics.hpp) and docs/diagnostics.md lists them all with their fields.
/// Field keys come from core::field_key. Secrets never appear in `text` or in a field, and text a
/// peer sent (names, TXT) is escaped before it is put in `text`.
///
/// Standard library only; no exceptions, no RTTI.
/// Thread-safety: the types are values; a handler is called on the emitting object's executor
/// (or thread) and must not call back into that object.
#pragma once

#include <lanyard/core/error_detail.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace lanyard::core {

/// How much a person should care. `debug` is chatter; `info` a normal step (a path chosen,
/// a controller paired); `notice` a normal event worth seeing (a reconnect); `warning` something
/// went wrong that Lanyard handles (an attempt failed, a peer refused); `error` something went
/// wrong that a person must fix (the trust store could not be written).
enum class diagnostic_level : std::uint8_t { debug, info, notice, warning, error };

/// "debug", "info", "notice", "warning", "error".
std::string_view to_string(diagnostic_level level) noexcept;

/// One event, as a view (valid during the handler call only).
struct diagnostic {
  diagnostic_level level = diagnostic_level::info;
  /// Stable id, "area.what"; one of the constants of the area's diagnostics header.
  std::string_view id;
  /// Empty for events that are not errors (a path chosen, a controller paired).
  std::error_code code;
  /// The line a person reads (what the `log` option receives).
  std::string_view text;
  /// Named values; keys from field_key or the area's own documented keys.
  std::span<const field> fields;

  /// The first field named `key`, or nullptr.
  const field* find(std::string_view key) const noexcept;
  /// The first field named `key` if it holds text.
  std::optional<std::string_view> text_field(std::string_view key) const noexcept;
  /// The first field named `key` if it holds a non-negative number (either integer kind).
  std::optional<std::uint64_t> number(std::string_view key) const noexcept;
};

/// Receives diagnostics. May be empty (then the `log` line, if any, is all that is reported).
using diagnostics_handler = std::function<void(const diagnostic&)>;

/// An owning copy of a diagnostic: to queue it to another thread, or to assert on it in a test.
/// Field keys stay views: they are string literals (field_key or an area's constants).
struct diagnostic_record {
  diagnostic_level level = diagnostic_level::info;
  std::string id;
  std::error_code code;
  std::string text;
  std::vector<field> fields;

  static diagnostic_record from(const diagnostic& d);
  /// A view of this record (valid while the record lives and is not modified).
  diagnostic view() const noexcept;

  const field* find(std::string_view key) const noexcept;
  std::optional<std::string_view> text_field(std::string_view key) const noexcept;
  std::optional<std::uint64_t> number(std::string_view key) const noexcept;
};

/// Calls `handler` if set, else `log(d.text)` if set: the fallback every emitter applies, so
/// the `log` option keeps receiving exactly the lines it received before diagnostics existed.
void emit_diagnostic(const diagnostics_handler& handler,
                     const std::function<void(std::string_view)>& log, const diagnostic& d);

} // namespace lanyard::core
