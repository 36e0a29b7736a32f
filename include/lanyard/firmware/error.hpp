/// @file
/// Errors of the firmware target (lanyard::firmware): one category, "lanyard.firmware", for
/// what the accessory object itself reports — its configuration, the platform seam (storage,
/// entropy) and connection handles. Protocol verdicts keep their own categories (a session's
/// channel_errc, a pairing's pairing_errc, TLS's tls_errc).
///
/// Thread-safety: the category is a stateless singleton; safe from any thread.
#pragma once
#include <system_error>
#include <type_traits>

namespace lanyard::firmware {

enum class firmware_errc {
  /// accessory_settings out of range: a capacity of 0, or a session profile whose receive
  /// window cannot hold one message of its maximum size (window < max message + 32).
  bad_settings = 1,
  /// A platform callback the call needs is missing (storage, random source).
  platform_incomplete,
  /// The platform's storage failed to read or write (its callback returned non-zero): the
  /// accessory keeps what it had; fix the flash driver, then retry.
  storage_failed,
  /// A stored blob is damaged (wrong magic, version, length or checksum): never reset or
  /// overwritten silently; a factory reset (erase the key) is a person's decision.
  storage_corrupt,
  /// A stored blob holds more controllers than this accessory's capacity
  /// (accessory_settings::max_controllers): raise it, or factory-reset.
  storage_over_capacity,
  /// The platform's random source failed.
  random_failed,
  /// A connection handle this accessory does not hold (closed already, or never given):
  /// harmless, the driver closes its socket.
  unknown_connection,
  /// Every connection slot holds a session's connection and none is pending to evict: cannot
  /// happen with slots = max_sessions + max_pending (kept for safety). Close the socket.
  too_many_connections,
  /// No session with that controller (never connected, or dropped).
  no_session,
  /// start() was not called, or failed.
  not_started,
  /// A connection's TLS output buffer could not take what had to be written
  /// (accessory_settings::tls_output_bytes smaller than the session's frames): that connection
  /// is closed; its session loses nothing and resumes on the next one.
  output_full,
  /// Start-up could not allocate the accessory's tables (accessory_settings sizes them: the
  /// connection and session slots, TLS buffers, controllers, event queue): the accessory is
  /// empty and does nothing; give the heap more room or lower the capacities.
  not_enough_memory,
  /// A received message found the event queue full (accessory_settings::max_events) and no
  /// memory to grow it: the connection that brought it is closed and that message is lost (the
  /// session acknowledged it on receipt). Drain poll_event() after every call.
  event_queue_full,
};

/// The "lanyard.firmware" category. Any thread.
const std::error_category& firmware_category() noexcept;

inline std::error_code make_error_code(firmware_errc e) noexcept {
  return {static_cast<int>(e), firmware_category()};
}

} // namespace lanyard::firmware

template <>
struct std::is_error_code_enum<lanyard::firmware::firmware_errc> : std::true_type {};
