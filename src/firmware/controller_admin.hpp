// The administration service on the firmware accessory (core/admin_request.hpp): an admin lists
// and removes controllers, changes roles and opens or closes the pairing window, against the
// controller table. The same rules as the Linux accessory's trust::controller_store: only an
// admin; the only admin cannot be removed or demoted while others are paired; a change that
// cannot be stored is undone and refused (`storage`), so what the app is told is what the
// accessory will remember after a power cut. Nothing is allocated: the request is a view of
// the payload, each reply is built on the stack (core::app_message_writer).
#pragma once

#include <lanyard/core/admin_request.hpp>
#include <lanyard/firmware/controller_table.hpp>

#include <chrono>
#include <optional>
#include <string_view>
#include <system_error>

namespace lanyard::firmware::detail {

/// What handle_admin_request() did besides its replies.
struct admin_outcome {
  /// A controller removed (and stored so): the accessory ends its session at once.
  std::optional<core::fingerprint> removed;
  /// The window or a role changed: the TXT record may have to follow (sf).
  bool changed = false;
};

/// Carries out `m` (an administration verb: core::is_admin_verb()) from controller `from`.
/// `reply(std::string_view)` is called for each reply (valid during the call), in order;
/// `persist()` stores the table and returns an error if it could not.
template <class Reply, class Persist>
admin_outcome handle_admin_request(controller_table& table, const core::fingerprint& from,
                                   std::uint64_t seq, const core::app_message_view& m,
                                   std::chrono::system_clock::time_point wall_now, Reply&& reply,
                                   Persist&& persist) {
  namespace req = core::admin_requests;
  admin_outcome out;
  const controller_entry* me = table.find(from);
  if (!me || me->role != core::paired_role::admin) {
    reply(core::admin_refusal_reply(seq, core::admin_refusal::not_admin,
                                    "only an admin manages controllers")
              .text());
    return out;
  }
  const core::admin_parse_result parsed = core::parse_admin_request(m);
  if (!parsed.ok) {
    reply(core::admin_refusal_reply(seq, core::admin_refusal::bad_field, parsed.detail).text());
    return out;
  }
  const auto refuse = [&](core::admin_refusal why, std::string_view detail) {
    reply(core::admin_refusal_reply(seq, why, detail).text());
  };
  const auto stored = [&]() {
    if (!persist()) return true;
    refuse(core::admin_refusal::storage, "the change could not be stored");
    return false;
  };

  if (std::holds_alternative<req::list>(parsed.request)) {
    for (const controller_entry& e : table.list())
      reply(core::admin_controller_reply(seq, e.key, e.role, e.name()).text());
    reply(core::admin_list_end_reply(seq, table.list().size()).text());
    return out;
  }
  if (const auto* w = std::get_if<req::window>(&parsed.request)) {
    const core::pairing_window before = table.window();
    if (w->open) {
      if (std::error_code ec =
              table.window().open(wall_now, w->duration, core::window_opener::admin)) {
        // Not ec.message(): its sentence would be composed on the heap. The request was
        // checked (3 to 15 minutes) and an admin may always open it: this is not expected.
        refuse(core::admin_refusal::bad_field, "the pairing window did not open");
        return out;
      }
    } else {
      table.window().close();
    }
    if (!stored()) {
      table.window() = before;
      return out;
    }
    out.changed = true;
    reply(core::admin_ok_reply(seq).text());
    return out;
  }
  // The rest name a controller: controller_remove and controller_role.
  const auto* removal = std::get_if<req::remove>(&parsed.request);
  const auto* role_change = std::get_if<req::set_role>(&parsed.request);
  if (!removal && !role_change) return out; // every request kind is handled above or here
  const core::fingerprint target = removal ? removal->controller : role_change->controller;
  const controller_entry* entry = table.find(target);
  if (!entry) {
    refuse(core::admin_refusal::not_paired, "no such controller");
    return out;
  }
  if (role_change) {
    const core::paired_role before = entry->role;
    if (role_change->role != core::paired_role::admin && table.last_admin(target)) {
      refuse(core::admin_refusal::last_admin, "the only admin stays admin");
      return out;
    }
    table.set_role(target, role_change->role);
    if (!stored()) {
      table.set_role(target, before);
      return out;
    }
  } else {
    if (table.last_admin(target)) {
      refuse(core::admin_refusal::last_admin, "the only admin cannot be removed");
      return out;
    }
    const controller_entry copy = *entry;
    table.remove(target);
    if (!stored()) {
      table.restore(copy);
      return out;
    }
    out.removed = target;
  }
  out.changed = true;
  reply(core::admin_ok_reply(seq).text());
  return out;
}

} // namespace lanyard::firmware::detail
