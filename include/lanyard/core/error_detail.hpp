/// @file
/// An error code, one line for a person, and the fields a program needs: the one "error plus
/// its detail" type (docs/design/error-model.md §7.2). It replaces the `{code, detail}` structs
/// of the adapters: link::link_error and trust::store_status are aliases of it, so their call
/// sites did not change. Later steps move `std::string* detail` out-parameters,
/// last_error_detail() and log lines onto it; parse results convert with to_error_detail().
///
/// Fields are named values next to the sentence (a peer address, an errno, a position), so a
/// program reads them instead of parsing `detail`. Their keys come from one vocabulary,
/// field_key, for every area. Secrets (setup secret, setup code, Wi-Fi passphrase, key
/// material) never become fields, nor do they appear in `detail`.
///
/// Standard library only; no exceptions, no RTTI (the accessors use std::get_if).
/// Thread-safety: a value (distinct objects safe, shared objects unsafe).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

namespace lanyard::core {

/// One named value. Keys are string literals from field_key (they must outlive the field).
struct field {
  using value_type = std::variant<std::int64_t, std::uint64_t, bool, std::string>;
  std::string_view key;
  value_type value;
};

/// The first field named `key` in `fields`, or nullptr (a key may repeat; the first wins).
const field* find_field(std::span<const field> fields, std::string_view key) noexcept;
/// The first field named `key` if it holds text; nullopt if absent or not text.
std::optional<std::string_view> field_text(std::span<const field> fields,
                                           std::string_view key) noexcept;
/// The first field named `key` if it holds a non-negative number (either integer kind);
/// nullopt if absent, negative, boolean or text.
std::optional<std::uint64_t> field_number(std::span<const field> fields,
                                          std::string_view key) noexcept;

/// The documented vocabulary of field keys (one list for every area, so scripts learn it once).
/// Secrets (setup secret, setup code, Wi-Fi passphrase, key material) never become fields.
namespace field_key {
inline constexpr std::string_view device_id = "device_id";
/// A controller's fingerprint, grouped base32.
inline constexpr std::string_view controller = "controller";
/// "198.18.1.3:7443".
inline constexpr std::string_view peer = "peer";
/// "wlan0".
inline constexpr std::string_view interface = "interface";
/// "wifi".
inline constexpr std::string_view interface_kind = "interface_kind";
inline constexpr std::string_view address = "address";
inline constexpr std::string_view port = "port";
/// "tcp_connect", "tls_handshake", ...
inline constexpr std::string_view step = "step";
inline constexpr std::string_view file = "file";
inline constexpr std::string_view line = "line";
/// "0664".
inline constexpr std::string_view mode = "mode";
/// errno.
inline constexpr std::string_view os_error = "os_error";
inline constexpr std::string_view fingerprint_pinned = "fingerprint_pinned";
inline constexpr std::string_view fingerprint_presented = "fingerprint_presented";
inline constexpr std::string_view fingerprint_expected = "fingerprint_expected";
inline constexpr std::string_view attempts_left = "attempts_left";
inline constexpr std::string_view retry_after_ms = "retry_after_ms";
/// Where in the input a parse failed (what it counts is the parse result's `position`).
inline constexpr std::string_view position = "position";
/// What is wrong, as a stable snake_case name where one code covers several problems: a store
/// file's "checksum_mismatch", a bad start() argument's "empty_device_id" (docs/diagnostics.md).
inline constexpr std::string_view problem = "problem";
inline constexpr std::string_view mbedtls_error = "mbedtls_error";
inline constexpr std::string_view tls_alert = "tls_alert";
/// A peer's refusal token as it sent it ("not_admin", "last_admin"): an application-level
/// reply mapped to `code` where this side knows the token.
inline constexpr std::string_view reason = "reason";
} // namespace field_key

/// The one "error plus its detail" type. An aggregate whose first members are link_error's and
/// store_status's (`code`, `detail`), so `return {ec, "sentence"};` and `return {};` still
/// build one, and both names are aliases of it without touching their call sites.
struct error_detail {
  /// The error; empty (false) on success.
  std::error_code code{};
  /// One line a person can act on; empty: code.message() is the line.
  std::string detail{};
  /// Named values a program reads instead of parsing `detail`; keys from field_key.
  std::vector<field> fields{};

  /// True if this holds an error.
  explicit operator bool() const noexcept { return static_cast<bool>(code); }
  bool ok() const noexcept { return !code; }
  bool failed() const noexcept { return static_cast<bool>(code); }
  /// `detail`, else code.message(); "ok" when there is no error (whatever `detail` says).
  /// One line.
  std::string message() const;

  /// Appends a field (a key may repeat; find() returns the first). Returns *this for chaining:
  /// `error_detail{ec, "..."}.with(field_key::port, std::uint64_t{7443})`.
  error_detail& with(std::string_view key, field::value_type v) {
    fields.push_back({key, std::move(v)});
    return *this;
  }
  /// The first field named `key`, or nullptr.
  const field* find(std::string_view key) const noexcept;
  /// The first field named `key` if it holds text; nullopt if absent or not text.
  std::optional<std::string_view> text(std::string_view key) const noexcept;
  /// The first field named `key` if it holds a non-negative number (either integer kind);
  /// nullopt if absent, negative, boolean or text.
  std::optional<std::uint64_t> number(std::string_view key) const noexcept;
};

} // namespace lanyard::core
