/// @file
/// The firmware accessory's paired controllers and its pairing window, in memory reserved once
/// (at construction, for `capacity` controllers) and persisted as one small binary blob through
/// the platform's storage (platform::save, key storage_key::controllers).
///
/// The app side's trust::controller_store keeps the same facts in a text file; firmware has a
/// flash page, not a file system, so this is its own compact form:
///
///     "LYCT" | version 1 | window: open u8, close reason u8, failed attempts u32 LE,
///     opened_at i64 LE, deadline i64 LE (seconds of the platform's wall clock) |
///     count u8 | count × (key 32 B, role u8 (0 admin, 1 user), name length u8, name) |
///     CRC32C u32 LE of everything before it
///
/// parse() checks every length against the blob and the checksum before it takes anything;
/// a damaged blob is an error (storage_corrupt), never an empty table: resetting the
/// controllers would reopen setup mode to whoever is near (docs/trust.md).
///
/// Rules (as trust::controller_store): the first controller paired is admin, so the accessory
/// is never without one; re-pairing a known key keeps its role and updates its name; names are
/// kept to 64 bytes (what pairing_initiator sends).
///
/// Thread-safety: a plain value; distinct objects safe, shared objects unsafe. Never throws.
#pragma once
#include <lanyard/core/fingerprint.hpp>
#include <lanyard/core/pairing_frame.hpp>
#include <lanyard/core/pairing_window.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <system_error>

namespace lanyard::firmware {

struct controller_entry {
  static constexpr std::size_t max_name = 64;
  core::fingerprint key;
  core::paired_role role = core::paired_role::user;
  std::uint8_t name_length = 0;
  std::array<char, max_name> name_bytes{};
  /// The display name as the controller sent it (untrusted: escape before showing it).
  std::string_view name() const noexcept { return {name_bytes.data(), name_length}; }
};

class controller_table {
public:
  /// The largest blob a table of `capacity` controllers serializes to.
  static constexpr std::size_t blob_size(std::size_t capacity) noexcept {
    return header_size + 1 + capacity * (core::fingerprint::size + 2 + controller_entry::max_name) +
           4;
  }
  /// Reserves room for `capacity` controllers (at least 1, at most 255): the only allocation,
  /// through the non-throwing operator new. If it fails the table has no room: reserved() is
  /// false, capacity() 0 (add() reports controllers_full, parse() storage_over_capacity).
  explicit controller_table(std::size_t capacity) noexcept;

  bool reserved() const noexcept { return entries_ != nullptr; }
  std::size_t capacity() const noexcept { return capacity_; }
  std::span<const controller_entry> list() const noexcept { return {entries_.get(), size_}; }
  const controller_entry* find(const core::fingerprint& key) const noexcept;
  bool empty() const noexcept { return size_ == 0; }

  core::pairing_window& window() noexcept { return window_; }
  const core::pairing_window& window() const noexcept { return window_; }

  /// Pairs `key` (see the rules above). Errors: pairing_errc::controllers_full. `role` is set to
  /// the role it has now. Does not check the window (the pairing exchange did).
  std::error_code add(const core::fingerprint& key, std::string_view name, core::paired_role& role);
  /// Forgets `key`; false if it was not paired.
  bool remove(const core::fingerprint& key) noexcept;
  /// Puts back an entry remove() took (when storing the removal failed): no allocation, as the
  /// room is reserved. False if the table is full or `e.key` is paired again meanwhile.
  bool restore(const controller_entry& e) noexcept;
  /// Changes a paired controller's role; false if `key` is not paired.
  bool set_role(const core::fingerprint& key, core::paired_role role) noexcept;
  /// True if `key` is the only admin while other controllers are paired: removing or demoting
  /// it would leave the accessory with nobody to manage it.
  bool last_admin(const core::fingerprint& key) const noexcept;

  /// Writes the blob into `out`; returns its size (0 if `out` is smaller than
  /// blob_size(capacity())).
  std::size_t serialize(std::span<std::byte> out) const noexcept;
  /// Replaces this table with the blob's contents. Errors (the table is unchanged):
  /// firmware_errc::storage_corrupt, storage_over_capacity.
  std::error_code parse(std::span<const std::byte> blob);

private:
  static constexpr std::size_t header_size = 4 + 1 + 1 + 1 + 4 + 8 + 8;
  std::unique_ptr<controller_entry[]> entries_;
  std::size_t capacity_ = 0;
  std::size_t size_ = 0;
  core::pairing_window window_;
};

} // namespace lanyard::firmware
