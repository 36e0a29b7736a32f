/// @file
/// The app's trust store: which key each known accessory must present (device id → pinned
/// fingerprint), and the rules that decide whether a handshake may proceed.
///
/// See docs/trust.md for the trust model and the file format.
#pragma once

#include "lanyard/core/fingerprint.hpp"
#include "lanyard/core/relay_settings.hpp"
#include "lanyard/trust/error.hpp"

#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace lanyard::trust {

/// How a pin came to be.
enum class pin_method {
  /// The presented key matched the fingerprint in the accessory's setup payload.
  verified_payload,
  /// Trust on first use: whatever key answered first (the user was shown its fingerprint and a
  /// verification code, and confirmed).
  tofu,
  /// The key proved (SPAKE2+) that it knows the accessory's 8-digit setup code.
  setup_code,
};

/// "verified" / "tofu" / "code" (the file's spelling).
std::string_view to_string(pin_method m) noexcept;

/// A time as the trust store writes it: UTC to the second, "2026-12-03T08:24:56Z" (clamped
/// to the years the file format accepts).
std::string format_time(std::chrono::system_clock::time_point t);

/// How to treat a device that is not pinned yet. A pinned device is always held to its pin.
enum class trust_mode {
  /// Pin only a key that matches the setup payload's fingerprint (the default when a payload
  /// is given). Without a payload: payload_required.
  verified_first_use,
  /// Pin whatever key answers first; if a payload fingerprint is given anyway, it must match.
  tofu,
  /// Known devices only: an unknown device is refused with unknown_device.
  strict,
};

/// One pinned accessory.
struct device_record {
  std::string device_id;
  core::fingerprint fingerprint;
  /// A display name (may be empty; at most 256 bytes, any bytes).
  std::string name;
  pin_method method = pin_method::tofu;
  /// Stored with one-second resolution.
  std::chrono::system_clock::time_point first_seen{};
  std::chrono::system_clock::time_point last_seen{};

  friend bool operator==(const device_record&, const device_record&) = default;
};

/// What the handshake should do with the key a device presented.
enum class trust_action {
  /// Known device, pinned key: proceed (then touch() the record).
  accept,
  /// Unknown device whose key may be pinned: proceed, and pin once the handshake completes.
  pin_new,
  /// Refuse: `code` says why. Nothing of the application may be sent or accepted.
  refuse,
};

/// The outcome of check(): an action, the error when refused, and every fingerprint involved
/// so that the refusal can show them.
struct trust_decision {
  trust_action action = trust_action::refuse;
  /// Empty unless action == refuse: key_changed, unknown_device, payload_mismatch,
  /// payload_required, invalid_record.
  std::error_code code;
  std::string device_id;
  /// The key the device presented in the handshake.
  core::fingerprint presented;
  /// The pinned key, if the device is known (key_changed: the one it should have presented).
  std::optional<core::fingerprint> pinned;
  /// When the pin was made, if the device is known.
  std::optional<std::chrono::system_clock::time_point> pinned_since;
  /// The setup payload's fingerprint, if one was given (payload_mismatch: the expected key).
  std::optional<core::fingerprint> expected;
  /// For pin_new: how the pin will be recorded.
  pin_method method = pin_method::tofu;

  bool accepted() const noexcept { return action != trust_action::refuse; }

  /// One line a person can act on. For key_changed, exactly:
  ///
  ///     device "ID" presented a different key: pinned PINNED (since DATE), presented
  ///     PRESENTED; refusing to connect. If the accessory was reset or replaced, run
  ///     "lanyard trust forget ID" and pair again; otherwise someone may be impersonating it.
  ///
  /// (on one line; fingerprints in grouped base32).
  std::string describe() const;
  /// A refused decision as an error: code, describe(), and the device and fingerprints as
  /// fields (docs/diagnostics.md), so a program need not parse the sentence.
  store_status to_error_detail() const;
};

/// The trust rules, as a pure function of the existing pin (if any) and the presented key.
///
/// - An invalid device id (see core::is_valid_device_id()) is refused with invalid_record.
/// - Pinned device: presented == pinned → accept (but if `expected` is given and differs:
///   payload_mismatch); presented != pinned → key_changed in every mode. A changed key is never
///   re-pinned automatically, not even with a matching payload: the user must forget first.
/// - Unknown device: strict → unknown_device. verified_first_use → pin_new (verified_payload)
///   if presented == expected, payload_mismatch if not, payload_required without `expected`.
///   tofu → pin_new (tofu), or (verified_payload) if `expected` is given and matches, or
///   payload_mismatch if it is given and differs.
///
/// Thread-safety: pure function.
trust_decision check_trust(const std::optional<device_record>& known, std::string_view device_id,
                           const core::fingerprint& presented, trust_mode mode,
                           const std::optional<core::fingerprint>& expected = std::nullopt);

/// The trust store, kept in a text file (see docs/trust.md):
///
///     lanyard-trust-store 1
///     device ID HEX-FINGERPRINT verified|tofu|code FIRST-SEEN LAST-SEEN NAME
///     end COUNT CRC32C
///
/// A missing file is an empty store. A damaged file is an error (store_corrupt, detail
/// "FILE:LINE: what"), never an empty store, and is never overwritten: every change re-reads
/// the file first and refuses to write over one that does not parse.
///
/// Every change is a read-modify-write under an exclusive lock on FILE.lock (so another
/// process, e.g. `lanyard trust forget`, never loses or undoes a change), written atomically
/// (FILE.tmp, fsync, rename, fsync of the directory) with mode 0600; a missing directory is
/// created with mode 0700. A crash at any moment leaves the old or the new file.
///
/// Thread-safety: all member functions may be called concurrently on one object (an internal
/// mutex serialises them); several objects and processes may share one file. Reads (list,
/// find, check) use the contents as of the last load() or change.
/// Cancellation: operations are synchronous, short file I/O; there is nothing to cancel.
class trust_store {
public:
  using time_point = std::chrono::system_clock::time_point;
  static constexpr std::size_t max_name_length = 256;

  /// A store kept in `path`. Nothing is read until load().
  explicit trust_store(std::filesystem::path path);

  /// `$XDG_STATE_HOME/lanyard/trust-store` if XDG_STATE_HOME is set to an absolute path, else
  /// `$HOME/.local/state/lanyard/trust-store`. Fails (store_io) if neither is usable.
  static store_status default_path(std::filesystem::path& out);

  const std::filesystem::path& path() const noexcept { return path_; }

  /// (Re-)reads the file. Missing → empty store. On error the previous contents are kept.
  /// Errors: store_corrupt, store_unsupported_version, store_io, store_permissions.
  store_status load();

  /// All pins, sorted by device id.
  std::vector<device_record> list() const;
  std::optional<device_record> find(std::string_view device_id) const;

  /// check_trust() against this store's pin for `device_id`.
  trust_decision check(std::string_view device_id, const core::fingerprint& presented,
                       trust_mode mode,
                       const std::optional<core::fingerprint>& expected = std::nullopt) const;

  /// Pins `fp` for `device_id` (first_seen = last_seen = now). If the device is already pinned
  /// to the same key, updates its name (when `name` is not empty) and last_seen; pinned to
  /// another key: key_changed (forget() it first). Errors also: invalid_record and the load
  /// errors.
  store_status pin(std::string_view device_id, const core::fingerprint& fp, pin_method method,
                   std::string_view name, time_point now);

  /// Applies a handshake's decision after the handshake succeeded: pin_new → pin(), accept →
  /// touch(). A refuse decision returns its code unchanged.
  store_status commit(const trust_decision& decision, std::string_view name, time_point now);

  /// Removes a pin. Errors: unknown_device (not pinned), and the load errors.
  store_status forget(std::string_view device_id);

  /// Sets last_seen. Errors: unknown_device, and the load errors.
  store_status touch(std::string_view device_id, time_point now);

  // --- Relay tickets (docs/design/relay.md) -----------------------------------------------------
  // What an accessory's relay ticket says (its broker, the household's credentials, its inbox,
  // this app's relay key) is kept next to the store, in `<store directory>/relay-tickets/`: the
  // ticket as the accessory sent it (core::relay_ticket encoding) in `<device id>` and the
  // broker's CA in `<device id>.ca.pem` (libmosquitto reads it from a file). Both 0600 in a
  // 0700 directory, written atomically; forget() removes them with the pin. A ticket holds
  // secrets (the household password, the relay key): nothing here prints one.

  /// Stores `encoded` (a core::relay_ticket's encoding) for pinned `device_id`. Errors:
  /// unknown_device (not pinned: tickets go with pins), invalid_record (a ticket that does not
  /// decode: the detail names the field), store_io, store_permissions.
  store_status save_relay_ticket(std::string_view device_id, std::span<const std::uint8_t> encoded);
  /// The stored ticket of `device_id`; nullopt when there is none. A damaged one is reported
  /// in `error` (store_corrupt) and not used.
  std::optional<core::relay_ticket> relay_ticket(std::string_view device_id,
                                                 store_status* error = nullptr) const;
  /// Deletes `device_id`'s ticket (its accessory switched the relay off; forget() does this
  /// too). No ticket is no error; store_io when a file cannot be deleted.
  store_status forget_relay_ticket(std::string_view device_id);
  /// Where save_relay_ticket() put the broker's CA of `device_id`'s ticket.
  std::filesystem::path relay_ca_path(std::string_view device_id) const;

  /// Parses a trust store file's text (`file` names it in error details). Pure; for fuzzing
  /// and tools. On error `out` is unspecified.
  static store_status parse(std::string_view text, std::string_view file,
                            std::vector<device_record>& out);
  /// The file text for `records` (any order; written sorted by device id).
  static std::string serialize(const std::vector<device_record>& records);

private:
  std::filesystem::path relay_ticket_path(std::string_view device_id) const;
  using record_map = std::map<std::string, device_record, std::less<>>;
  store_status read_locked(record_map& out) const;
  template <class Change>
  store_status modify(Change change);

  std::filesystem::path path_;
  mutable std::mutex mutex_;
  record_map records_;
};

} // namespace lanyard::trust
