/// @file
/// Controller management from the app: the messages an admin controller sends to list and
/// remove controllers, change their roles and open or close the pairing window, and the
/// accessory's answers (docs/trust.md § Managing controllers). Both travel as administration
/// messages (CONTROL frames, service 2, docs/PROTOCOL.md § 2.7), never as application data:
/// `lanyard controllers` is the app side; an accessory passes every administration message
/// (accessory::server's control handler) to handle_admin_message() and sends the replies back
/// the same way (server::async_send_control).
///
/// Requests (app_message.hpp syntax) and replies (`re` = the request's sequence number):
///
///     v1 controllers                          → v1 controller re=N fp=HEX role=R name=PCT  (each)
///                                               v1 controllers re=N count=K               (last)
///     v1 controller_remove fp=HEX             → v1 ok re=N
///     v1 controller_role fp=HEX role=admin|user → v1 ok re=N
///     v1 pairing_window open=1 [minutes=3..15] | open=0 → v1 ok re=N
///     any of them refused                     → v1 error re=N reason=R detail=D
///
/// Reasons: not_admin (the sender is not an admin: only admins manage controllers),
/// not_paired (no such controller), last_admin (the only admin cannot be removed or demoted),
/// bad_field (a field is missing or malformed), storage (the store could not be written).
///
/// Thread-safety: as the controller store's (internally locked).
#pragma once

#include <lanyard/core/app_message.hpp>
#include <lanyard/core/fingerprint.hpp>
#include <lanyard/trust/controller_store.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace lanyard::accessory {

/// If `m` is a controller-management request, carries it out for controller `from` against
/// `store` and returns true with the replies (encoded messages, in order) in `replies`; false
/// (and `replies` untouched) for any other verb. `now` is the wall-clock time for the window.
bool handle_admin_message(trust::controller_store& store, const core::fingerprint& from,
                          std::uint64_t seq, const core::app_message& m,
                          std::chrono::system_clock::time_point now,
                          std::vector<std::string>& replies);

} // namespace lanyard::accessory
