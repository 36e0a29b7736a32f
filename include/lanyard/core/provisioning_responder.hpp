/// @file
/// core::provisioning_responder: the accessory's side of SoftAP provisioning as a state
/// machine without I/O, so every firmware answers the app the same way and a firmware unit
/// test drives it without a radio. The firmware feeds it the app's messages and its Wi-Fi
/// driver's verdict; it says what to send back and when to start joining:
///
///     app: v1 wifi_set ...     → responder: reply "v1 wifi_status re=N state=connecting",
///                                 join {ssid, passphrase}  (phase joining)
///     driver: joined(addresses) → "v1 wifi_status re=N state=connected addresses=..." (done)
///     driver: failed(reason)    → "v1 wifi_status re=N state=failed reason=..."  (idle again:
///                                 the accessory stays in setup mode and the app may retry)
///
/// Requests it refuses are answered "v1 error re=N reason=R detail=D" (app_message.hpp) and
/// change nothing: `not_admin` (the controller that sent it is not an admin: only an admin
/// provisions), `not_in_setup_mode` (provisioned already, or constructed outside setup mode),
/// `busy` (a join is in progress), `bad_field` (the credentials do not decode; the detail is
/// the provisioning_errc's name: bad_ssid, bad_passphrase, missing_field, unknown_field).
/// Messages with another verb are not its business: on_message returns
/// provisioning_errc::not_provisioning and the firmware hands them to its other handlers.
///
/// Which controller asked is the firmware's to remember (it sends the replies); `re` is the
/// channel sequence number of the wifi_set being answered.
///
/// The responder keeps what the firmware needs in room of its own (about 1.2 KB): the replies
/// and the credentials being joined are views of it.
///
/// Thread-safety: a plain value; one owner. No exceptions, no allocation.
#pragma once

#include "lanyard/core/app_message.hpp"
#include "lanyard/core/provisioning.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <system_error>

namespace lanyard::core {

class provisioning_responder {
public:
  enum class phase : std::uint8_t {
    idle,    ///< in setup mode, waiting for credentials
    joining, ///< the driver is joining the network the app named
    done,    ///< joined: provisioning requests are refused from now on
  };

  /// What to do about one app message.
  struct outcome {
    /// The message to send to the app that asked, as a provisioning message (empty if none):
    /// a view of the responder's room, valid until the responder is next called or moved.
    std::string_view reply;
    /// Set when the driver must start joining this network; report with joined()/failed().
    /// Views of the responder's copy, which stays as it is until the verdict is reported.
    std::optional<wifi_credentials_view> join;
  };

  /// `setup_mode` false: the accessory is provisioned already (phase done).
  explicit provisioning_responder(bool setup_mode = true) noexcept
      : phase_(setup_mode ? phase::idle : phase::done) {}

  /// Who sent a message: provisioning needs an admin controller (the first one paired).
  enum class sender { admin, user };

  /// Handles a provisioning message (events::control_received with message_kind::
  /// provisioning, parsed) received with channel sequence number `seq` from a
  /// controller with role `from`. Errors: provisioning_errc::not_provisioning (another verb;
  /// `out` untouched). Every wifi_set gets a reply in `out`, refusals included.
  std::error_code on_message(const app_message& m, std::uint64_t seq, sender from, outcome& out);
  /// The same from a view of the message (what the firmware accessory parses with).
  std::error_code on_message(const app_message_view& m, std::uint64_t seq, sender from,
                             outcome& out);

  /// The driver joined: the wifi_status connected message in `out` (a view of the responder's
  /// room, as outcome::reply), phase done. Errors (`out` untouched, phase unchanged):
  /// bad_addresses (none, more than 8, or not IP literals: a driver bug), bad_state (no join
  /// in progress), app_message_errc::bad_value (the list is over 128 bytes).
  std::error_code joined(std::span<const std::string_view> addresses, std::string_view& out);

  /// The driver gave up: the wifi_status failed message in `out` (as joined()), phase idle:
  /// setup mode goes on. Errors: bad_state (no join in progress; `out` untouched).
  std::error_code failed(provisioning_failure why, std::string_view& out);

  phase current() const noexcept { return phase_; }
  /// The sequence number of the wifi_set being served (meaningful while joining or done).
  std::uint64_t request() const noexcept { return re_; }

private:
  // The driver's verdict as the reply; then phase `next`.
  std::error_code conclude(provisioning_state state, std::span<const std::string_view> addresses,
                           provisioning_failure why, phase next, std::string_view& out);
  // "v1 error re=N reason=R detail=D" in reply_.
  std::string_view refuse(std::uint64_t seq, std::string_view reason, std::string_view detail);

  phase phase_;
  std::uint64_t re_ = 0;
  std::optional<app_message_writer> reply_;
  // What the driver is joining (or last joined).
  wifi_credentials_buffer network_;
};

/// "idle", "joining", "done".
const char* to_string(provisioning_responder::phase p) noexcept;

} // namespace lanyard::core
