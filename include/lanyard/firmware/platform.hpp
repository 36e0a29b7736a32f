/// @file
/// The platform seam of the firmware target: what an accessory's firmware provides to
/// lanyard::firmware::accessory, as plain function pointers with a user pointer (no
/// std::function, no virtual interface: a C driver fills it, docs/design/firmware-target.md).
///
/// Every callback is called on the thread that called the accessory, inside that call; none may
/// call back into the accessory.
#pragma once
#include <lanyard/core/provisioning.hpp>
#include <lanyard/crypto/primitives.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace lanyard::firmware {

/// Names of the blobs the accessory keeps in persistent storage.
namespace storage_key {
/// The paired controllers and the pairing window (controller_table's blob).
inline constexpr const char* controllers = "controllers";
} // namespace storage_key

struct platform {
  /// Passed to every callback below as its first argument.
  void* user = nullptr;
  /// The hardware RNG (or a DRBG seeded from it): session ids and the SPAKE2+ scalars.
  /// Required. lanyard::crypto::system_random() on POSIX.
  crypto::random_source random;
  /// Reads blob `key` into `out` (at most `capacity` bytes), sets `size` to its length.
  /// Returns 0 on success, 1 when there is no such blob (first boot, after a factory reset),
  /// anything else on failure. A blob longer than `capacity` is a failure. Required.
  int (*load)(void* user, const char* key, std::byte* out, std::size_t capacity,
              std::size_t* size) = nullptr;
  /// Replaces blob `key` with `size` bytes, atomically (a power cut leaves the old blob or the
  /// new one, never a mix: write a new slot, then switch). Returns 0 on success. Required.
  int (*save)(void* user, const char* key, const std::byte* data, std::size_t size) = nullptr;
  /// The wall clock, for the pairing window's deadline (persisted, so it must mean something
  /// after a reboot). An accessory without a real-time clock may return the time since boot:
  /// a window opened in an earlier boot then counts as expired, never as open for longer
  /// (core::pairing_window). Required.
  std::chrono::system_clock::time_point (*wall_clock)(void* user) = nullptr;
  /// Start joining the Wi-Fi network an admin sent in setup mode; report the outcome with
  /// accessory::wifi_joined() or wifi_failed() (not from inside this call). `network` views the
  /// accessory's copy, which stays as it is until the outcome is reported; each is also
  /// followed by a NUL (an SSID may contain any byte: use its size). Null: provisioning is
  /// refused as not offered.
  void (*join_wifi)(void* user, const core::wifi_credentials_view& network) = nullptr;
  /// Show the verification code of a confirmation pairing (display, LED pattern). Null: the
  /// accessory offers no confirmation pairing.
  void (*show_verification_code)(void* user, std::uint32_t code) = nullptr;
};

} // namespace lanyard::firmware
