#include <lanyard/accessory/controller_admin.hpp>

#include <lanyard/core/admin_request.hpp>
#include <lanyard/core/pairing_error.hpp>
#include <lanyard/trust/error.hpp>

#include <variant>

namespace lanyard::accessory {
namespace {

core::admin_refusal reason_of(const trust::store_status& s) {
  if (s.code == trust::trust_errc::not_admin) return core::admin_refusal::not_admin;
  if (s.code == trust::trust_errc::not_paired) return core::admin_refusal::not_paired;
  if (s.code == trust::trust_errc::last_admin) return core::admin_refusal::last_admin;
  if (s.code == core::pairing_errc::invalid_timeout) return core::admin_refusal::bad_field;
  return core::admin_refusal::storage;
}

trust::controller_role role_of(core::paired_role r) {
  return r == core::paired_role::admin ? trust::controller_role::admin
                                       : trust::controller_role::user;
}

core::paired_role role_of(trust::controller_role r) {
  return r == trust::controller_role::admin ? core::paired_role::admin : core::paired_role::user;
}

} // namespace

bool handle_admin_message(trust::controller_store& store, const core::fingerprint& from,
                          std::uint64_t seq, const core::app_message& m,
                          std::chrono::system_clock::time_point now,
                          std::vector<std::string>& replies) {
  namespace req = core::admin_requests;
  if (!core::is_admin_verb(m.verb)) return false;
  replies.clear();
  const auto me = store.find(from);
  if (!me || me->role != trust::controller_role::admin) {
    replies.push_back(core::encode_admin_refusal(seq, core::admin_refusal::not_admin,
                                                 "only an admin manages controllers"));
    return true;
  }
  const core::admin_parse_result parsed = core::parse_admin_request(m);
  if (!parsed.ok) {
    replies.push_back(
        core::encode_admin_refusal(seq, core::admin_refusal::bad_field, parsed.detail));
    return true;
  }
  if (std::holds_alternative<req::list>(parsed.request)) {
    const auto list = store.list();
    for (const auto& c : list)
      replies.push_back(core::encode_admin_controller(seq, c.fingerprint, role_of(c.role), c.name));
    replies.push_back(core::encode_admin_list_end(seq, list.size()));
    return true;
  }
  trust::store_status s;
  if (const auto* w = std::get_if<req::window>(&parsed.request))
    s = w->open ? store.open_window_by(from, now, w->duration) : store.close_window();
  else if (const auto* r = std::get_if<req::remove>(&parsed.request))
    s = store.remove(r->controller);
  else if (const auto* sr = std::get_if<req::set_role>(&parsed.request))
    s = store.set_role(from, sr->controller, role_of(sr->role));
  replies.push_back(s.failed() ? core::encode_admin_refusal(seq, reason_of(s), s.message())
                               : core::encode_admin_ok(seq));
  return true;
}

} // namespace lanyard::accessory
