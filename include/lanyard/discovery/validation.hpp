/// @file
/// Checks applied to everything discovery sends to the network, before it is sent.
///
/// Pure functions: no I/O, no allocation beyond the results. Each failure is one precise
/// discovery_errc (see error.hpp), so a caller can tell "15-character limit" from "no letter".
///
/// Thread-safety: all functions are safe to call concurrently.
#pragma once

#include "lanyard/discovery/error.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace lanyard::discovery {

/// A DNS-SD service type split into its parts, e.g. "_printer._sub._ipp._tcp" →
/// {service "ipp", protocol "tcp", subtype "_printer"}.
struct service_type {
  std::string service;  ///< the service name without its underscore, e.g. "lanyard"
  std::string protocol; ///< "tcp" or "udp"
  std::string subtype;  ///< empty, or the subtype label as given (usually "_name")

  /// "_service._protocol" (without the subtype).
  std::string base() const { return "_" + service + "._" + protocol; }
  /// base(), or "SUBTYPE._sub._service._protocol" when a subtype is set (what to browse).
  std::string browse_name() const { return subtype.empty() ? base() : subtype + "._sub." + base(); }
};

/// Checks a service name (the part between "_" and "._tcp") against RFC 6335 §5.1: 1–15
/// characters, letters/digits/hyphens only, at least one letter, no leading, trailing or
/// double hyphen.
std::error_code validate_service_name(std::string_view name) noexcept;

/// Parses and checks "_name._tcp" / "_name._udp". Errors: service_type_format,
/// service_type_protocol, and those of validate_service_name().
std::error_code parse_service_type(std::string_view text, service_type& out);

/// Like parse_service_type(), also accepting a subtype: "SUBTYPE._sub._name._tcp" (what a
/// browser is given to browse a subtype). Errors: as parse_service_type(), subtype_invalid.
std::error_code parse_browse_type(std::string_view text, service_type& out);

/// Checks one subtype label (RFC 6763 §7.1): 1–63 bytes, no '.', '\\' or control bytes.
std::error_code validate_subtype(std::string_view label) noexcept;

/// Checks an instance name (RFC 6763 §4.1.1): non-empty, at most 63 bytes, valid UTF-8, no
/// control characters. Errors: instance_name_empty, instance_name_too_long,
/// instance_name_invalid.
std::error_code validate_instance_name(std::string_view name) noexcept;

/// The largest TXT record (encoded bytes) discovery publishes: what fits in a 9000-byte mDNS
/// message with the other records of a service (RFC 6762 §17, RFC 6763 §6.2).
inline constexpr std::size_t max_txt_size = 8900;

/// Checks an encoded TXT record's size. Errors: txt_too_large.
std::error_code validate_txt_size(std::size_t encoded_size) noexcept;

/// Checks a port to advertise. Errors: port_zero.
std::error_code validate_port(std::uint16_t port) noexcept;

/// True if `text` is well-formed UTF-8 (no overlongs, no surrogates, ≤ U+10FFFF).
bool is_valid_utf8(std::string_view text) noexcept;

} // namespace lanyard::discovery
