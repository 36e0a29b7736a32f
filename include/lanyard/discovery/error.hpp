/// @file
/// Errors of Lanyard's DNS-SD discovery (advertising, browsing, the Avahi connection).
#pragma once

#include <system_error>
#include <type_traits>

namespace lanyard::discovery {

/// What went wrong in discovery. Every code's message() says what to do about it.
///
/// Validation codes (service_type_* … port_zero) are returned before anything reaches the
/// network: a bad argument never becomes a half-published service.
enum class discovery_errc {
  /// avahi-daemon is not running (or not reachable over D-Bus). Not fatal: clients keep
  /// running, and re-publish / re-browse by themselves when the daemon is back.
  daemon_unavailable = 1,
  /// The D-Bus system bus itself is not running; retried in the background like the daemon.
  bus_unavailable,
  /// The service type is not of the form "_name._tcp" or "_name._udp".
  service_type_format,
  /// The protocol label of a service type is neither "_tcp" nor "_udp".
  service_type_protocol,
  /// The service name (between "_" and "._tcp") is empty or longer than 15 characters.
  service_name_length,
  /// The service name contains a character other than a letter, a digit or a hyphen.
  service_name_characters,
  /// The service name has no letter (RFC 6335 §5.1 requires at least one).
  service_name_no_letter,
  /// The service name begins or ends with a hyphen or has two adjacent hyphens.
  service_name_hyphen,
  /// A subtype label is empty, longer than 63 bytes, or contains '.', '\\' or a control byte.
  subtype_invalid,
  /// The instance name is empty.
  instance_name_empty,
  /// The instance name is longer than 63 bytes of UTF-8 (one DNS label).
  instance_name_too_long,
  /// The instance name is not valid UTF-8 or contains a control character.
  instance_name_invalid,
  /// The encoded TXT record is larger than an mDNS packet can carry (8900 bytes).
  txt_too_large,
  /// Port 0 cannot be advertised: the service would be unreachable.
  port_zero,
  /// The interface named (or numbered) does not exist on this host.
  unknown_interface,
  /// Every alternative name tried was taken on the network.
  name_conflict,
  /// avahi-daemon refused or failed a request (look at its log: journalctl -u avahi-daemon).
  daemon_error,
  /// The daemon's per-client object limit was reached (too many browsers or services).
  too_many_objects,
  /// The operation needs a published service, but publish() has not been called.
  not_published,
};

/// The error category of discovery_errc, named "lanyard.discovery".
///
/// Thread-safety: immutable, safe from any thread.
const std::error_category& discovery_category() noexcept;

/// Makes a std::error_code of discovery_category() (found by argument-dependent lookup).
inline std::error_code make_error_code(discovery_errc e) noexcept {
  return {static_cast<int>(e), discovery_category()};
}

} // namespace lanyard::discovery

template <>
struct std::is_error_code_enum<lanyard::discovery::discovery_errc> : std::true_type {};
