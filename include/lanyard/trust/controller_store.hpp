/// @file
/// The accessory's paired controllers (pinned client certificates with a role) and its pairing
/// window, persisted together in one file so that the failed-attempt count and the window's
/// deadline survive a restart.
///
/// Typical accessory use:
///
///     controller_store store(dir / "controllers");
///     if (auto s = store.load(); s.failed()) fail(s.message());   // damaged: never reset
///     store.expire_window(now);
///     if (store.list().empty()) store.open_window(now);            // setup mode: first boot
///     ...in the TLS verify callback, with the client's fingerprint:
///     auto d = store.check(fp, now);      // accept / pair / refuse (before any app byte)
///     ...after a completed pairing: store.pair(fp, name, role, now);
///     ...after a failed pairing attempt: store.record_failure(now);
///
/// See docs/trust.md for the rules and the file format.
#pragma once

#include "lanyard/core/fingerprint.hpp"
#include "lanyard/core/pairing_window.hpp"
#include "lanyard/trust/error.hpp"
#include "lanyard/trust/window_clock.hpp"

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lanyard::trust {
namespace detail {
struct slot_file_state;
} // namespace detail

/// What a paired controller may do. Admins may open the pairing window and remove
/// controllers; users may only use the accessory.
enum class controller_role { admin, user };

/// "admin" / "user".
std::string_view to_string(controller_role r) noexcept;

/// One paired controller.
struct controller_record {
  core::fingerprint fingerprint;
  /// A display name (may be empty; at most 256 bytes).
  std::string name;
  controller_role role = controller_role::user;
  /// Stored with one-second resolution.
  std::chrono::system_clock::time_point paired_at{};

  friend bool operator==(const controller_record&, const controller_record&) = default;
};

/// What the accessory's handshake should do with a client certificate.
enum class controller_action {
  /// A paired controller: proceed.
  accept,
  /// Unknown, but the pairing window is open: proceed with pairing; afterwards pair() on
  /// success or record_failure() on failure.
  pair,
  /// Refuse the handshake: `code` is trust_errc::not_paired (the window is closed) or
  /// core::pairing_errc::too_many_attempts.
  refuse,
};

struct controller_decision {
  controller_action action = controller_action::refuse;
  std::error_code code;
  core::fingerprint presented;
  /// The paired controller (accept).
  std::optional<controller_record> controller;
  /// One line for logs, e.g. "controller MFRG-GZDF-... is not paired and the pairing window is
  /// closed (...); refusing".
  std::string describe() const;
};

/// The accessory's persistent pairing state. File format:
///
///     lanyard-controller-store 1
///     window open|closed OPENED-AT DEADLINE FAILED-ATTEMPTS
///         never-opened|timed-out|too-many-attempts|closed
///     window-boot BOOT-ID OPENED-AT-MS DEADLINE-MS          (optional)
///     controller HEX-FINGERPRINT admin|user PAIRED-AT NAME
///     end COUNT CRC32C
///
/// The window's times are the accessory's window clock (trust/window_clock.hpp), in UTC with
/// one-second resolution. window-boot gives the same two times on the monotonic clock of the
/// boot that wrote them (milliseconds since that boot, may be negative for a window opened in
/// an earlier boot): read back in the same boot, they decide, so that the window's timeout runs
/// on a monotonic clock across restarts of the accessory process. Files without it (written
/// before it existed, or where the boot is unknown) are read by their wall-clock times. An
/// older Lanyard refuses a file with it as corrupt (unknown record).
///
/// Missing file: no controllers, window never opened. Damaged file: store_corrupt with
/// "FILE:LINE: what", never reset, never overwritten. Writes are atomic, mode 0600, under
/// FILE.lock, exactly like trust_store. Times have one-second resolution (the window's
/// deadline is rounded down, never extended).
///
/// Thread-safety: all member functions may be called concurrently (internal mutex); several
/// objects and processes may share the file. Cancellation: synchronous; nothing to cancel.
class controller_store {
public:
  using time_point = std::chrono::system_clock::time_point;
  static constexpr std::size_t max_name_length = 256;
  /// How many controllers an accessory holds by default: a household's phones, tablets and a
  /// hub or two, while bounding what a file (and a firmware's flash) must keep.
  static constexpr std::size_t default_max_controllers = 16;

  /// `max_controllers` caps pair() (controllers_full beyond it; at least 1).
  explicit controller_store(std::filesystem::path path,
                            std::size_t max_controllers = default_max_controllers);

  std::size_t max_controllers() const noexcept { return max_controllers_; }

  const std::filesystem::path& path() const noexcept { return path_; }

  /// (Re-)reads the file. Errors: store_corrupt, store_unsupported_version, store_io,
  /// store_permissions; the previous contents are kept then.
  store_status load();

  /// True if the last load() found no file: the accessory's first boot (or a factory reset).
  bool first_boot() const;

  std::vector<controller_record> list() const;
  std::optional<controller_record> find(const core::fingerprint& fp) const;
  core::pairing_window_state window() const;

  /// Decides about a client certificate with fingerprint `fp` at `now`. Pure over the loaded
  /// state (call expire_window() to persist a timeout).
  controller_decision check(const core::fingerprint& fp, time_point now) const;

  /// Records a successful pairing. Requires the window to admit at `now` (else
  /// core::pairing_errc::window_closed / too_many_attempts); the first controller is always made
  /// admin so the accessory is never left without one. Pairing an already paired fingerprint
  /// updates its name and keeps its role. Errors also: core::pairing_errc::controllers_full
  /// (max_controllers() reached), invalid_record, load errors.
  store_status pair(const core::fingerprint& fp, std::string_view name, controller_role role,
                    time_point now);

  /// refund_failure() and then pair(), in one write (a SPAKE2+ pairing, whose attempt was
  /// counted before its confirmation, costs one write less). If pairing fails, the refund is
  /// still made.
  store_status refund_and_pair(const core::fingerprint& fp, std::string_view name,
                               controller_role role, time_point now);

  /// Adds a controller outside the window, on behalf of a paired admin (`by`). Errors: not_admin,
  /// controllers_full, invalid_record, load errors.
  store_status add_by_admin(const core::fingerprint& by, const core::fingerprint& fp,
                            std::string_view name, controller_role role, time_point now);

  /// Removes a controller. Errors: not_paired (unknown fingerprint), last_admin (it is the only
  /// admin and others remain), load errors.
  store_status remove(const core::fingerprint& fp);

  /// Opens the pairing window (see core::pairing_window::open()). Errors: invalid_timeout,
  /// too_many_attempts (setup mode after 20 failures), load errors.
  store_status
  open_window(time_point now,
              core::pairing_window::duration timeout = core::pairing_window::default_timeout,
              core::window_opener opener = core::window_opener::setup_mode);

  /// Opens the window on behalf of a paired controller `by`, which must be an admin (not_admin,
  /// not_paired otherwise). Resets the failure count.
  store_status
  open_window_by(const core::fingerprint& by, time_point now,
                 core::pairing_window::duration timeout = core::pairing_window::default_timeout);

  store_status close_window();

  /// Persists a failed proof; the 20th closes the window.
  store_status record_failure(time_point now);

  /// Takes back a failure recorded ahead of a proof that then succeeded
  /// (core::pairing_window::refund_failure()).
  store_status refund_failure(time_point now);

  /// Changes the role of controller `fp` on behalf of admin `by`. Errors: not_paired (either),
  /// not_admin, last_admin (demoting the only admin), load errors.
  store_status set_role(const core::fingerprint& by, const core::fingerprint& fp,
                        controller_role role);

  /// Persists the window's timeout if its deadline passed. Cheap when nothing changed.
  store_status expire_window(time_point now);

  /// Where the store reads the window clock and the boot's clock whenever it reads or writes
  /// the file; window_time::sample by default. For tests that restart an accessory within a
  /// boot, or in another one.
  void set_time_source(std::function<window_time()> source);

  /// Parses / writes the file's text (pure; for fuzzing and tools). With `at`, a window-boot
  /// line of `at`'s boot is read (times converted to `at.now`'s clock) or written; without, the
  /// window-boot line is checked but not used, and not written.
  static store_status parse(std::string_view text, std::string_view file,
                            core::pairing_window_state& window,
                            std::vector<controller_record>& controllers,
                            const window_time* at = nullptr);
  static std::string serialize(const core::pairing_window_state& window,
                               const std::vector<controller_record>& controllers,
                               const window_time* at = nullptr);

private:
  struct state {
    core::pairing_window_state window;
    std::map<core::fingerprint, controller_record> controllers;
    bool existed = false;
  };
  store_status read_locked(state& out, detail::slot_file_state* file = nullptr) const;
  store_status pair_into(state& st, const core::fingerprint& fp, std::string_view name,
                         controller_role role, time_point now) const;
  template <class Change>
  store_status modify(Change change);

  std::filesystem::path path_;
  std::size_t max_controllers_;
  std::function<window_time()> time_source_ = &window_time::sample;
  mutable std::mutex mutex_;
  state state_;
};

} // namespace lanyard::trust
