/// @file
/// The administration service's requests and replies, as every accessory speaks them: an admin
/// controller lists and removes controllers, changes their roles and opens or closes the
/// pairing window (docs/trust.md § Managing controllers; CONTROL frames, service 2,
/// docs/PROTOCOL.md § 2.7). This is the grammar only: parse_admin_request() checks a request's
/// fields, the encode functions write the replies. Who may do what, and the store, are the
/// accessory's: accessory::handle_admin_message() over trust::controller_store (Linux) and the
/// firmware accessory over firmware::controller_table.
///
///     v1 controllers                          → v1 controller re=N fp=HEX role=R name=PCT  (each)
///                                               v1 controllers re=N count=K               (last)
///     v1 controller_remove fp=HEX             → v1 ok re=N
///     v1 controller_role fp=HEX role=admin|user → v1 ok re=N
///     v1 pairing_window open=1 [minutes=3..15] | open=0 → v1 ok re=N
///     any of them refused                     → v1 error re=N reason=R detail=D
///
/// Reasons: not_admin, not_paired, last_admin, bad_field, storage (admin_refusal).
///
/// Each reply comes two ways: as a string (encode_admin_*, for the Linux accessory) and built in
/// fixed room (admin_*_reply, an app_message_writer: what a firmware accessory sends without the
/// heap); the same bytes. parse_admin_request() reads an app_message or a view.
///
/// Thread-safety: value types and pure functions.
#pragma once

#include "lanyard/core/app_message.hpp"
#include "lanyard/core/app_message_view.hpp"
#include "lanyard/core/fingerprint.hpp"
#include "lanyard/core/pairing_frame.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace lanyard::core {

namespace admin_requests {
/// `v1 controllers`: every paired controller, then the count.
struct list {};
/// `v1 controller_remove fp=HEX`.
struct remove {
  fingerprint controller;
};
/// `v1 controller_role fp=HEX role=admin|user`.
struct set_role {
  fingerprint controller;
  paired_role role = paired_role::user;
};
/// `v1 pairing_window open=1 [minutes=3..15]` (15 when left out) or `open=0`.
struct window {
  bool open = false;
  std::chrono::minutes duration{15};
};
} // namespace admin_requests

using admin_request = std::variant<admin_requests::list, admin_requests::remove,
                                   admin_requests::set_role, admin_requests::window>;

/// Why an administration request is refused: the `reason` of its `v1 error` reply.
enum class admin_refusal : std::uint8_t {
  not_admin,  ///< the sender is not an admin: only admins manage controllers
  not_paired, ///< no such controller
  last_admin, ///< the only admin cannot be removed or demoted
  bad_field,  ///< a field is missing or malformed
  storage,    ///< the accessory could not store the change
};

/// "not_admin", "not_paired", "last_admin", "bad_field", "storage".
std::string_view to_string(admin_refusal r) noexcept;

/// True if `verb` is one of the administration verbs above.
bool is_admin_verb(std::string_view verb) noexcept;

/// parse_admin_request()'s result: the request, or why its fields are wrong (`detail`: what
/// the field should be, for the reply).
struct admin_parse_result {
  admin_request request;
  bool ok = false;
  std::string_view detail;
};

/// Checks an administration request's fields (its verb must satisfy is_admin_verb()).
admin_parse_result parse_admin_request(const app_message& m) noexcept;
/// The same over a view (nothing allocated).
admin_parse_result parse_admin_request(const app_message_view& m) noexcept;

/// The replies below, built in fixed room (nothing allocated; the detail and the name cut and
/// percent-encoded as below).
app_message_writer admin_ok_reply(std::uint64_t seq) noexcept;
app_message_writer admin_refusal_reply(std::uint64_t seq, admin_refusal reason,
                                       std::string_view detail) noexcept;
app_message_writer admin_controller_reply(std::uint64_t seq, const fingerprint& controller,
                                          paired_role role, std::string_view name) noexcept;
app_message_writer admin_list_end_reply(std::uint64_t seq, std::size_t count) noexcept;

/// `v1 ok re=SEQ`.
std::string encode_admin_ok(std::uint64_t seq);
/// `v1 error re=SEQ reason=R detail=D`: `detail` is cut to 40 bytes and percent-encoded.
std::string encode_admin_refusal(std::uint64_t seq, admin_refusal reason, std::string_view detail);
/// `v1 controller re=SEQ fp=HEX role=R name=PCT`: the name cut to 40 bytes, percent-encoded.
std::string encode_admin_controller(std::uint64_t seq, const fingerprint& controller,
                                    paired_role role, std::string_view name);
/// `v1 controllers re=SEQ count=K`: the list's end.
std::string encode_admin_list_end(std::uint64_t seq, std::size_t count);

} // namespace lanyard::core
