#include "admin_refusal.hpp"

#include <lanyard/core/app_message.hpp>
#include <lanyard/core/display_text.hpp>
#include <lanyard/trust/error.hpp>

#include <string>

namespace lanyard::cli {

core::error_detail admin_refusal(std::string_view reason) {
  core::error_detail e;
  if (reason == "not_admin") {
    e = {trust::trust_errc::not_admin, "this app is not an admin of the accessory"};
  } else if (reason == "not_paired") {
    e = {trust::trust_errc::not_paired, "no such controller"};
  } else if (reason == "last_admin") {
    e = {trust::trust_errc::last_admin,
         "that is the accessory's only admin: make another controller admin first"};
  } else if (reason == "bad_field") {
    e = {core::app_message_errc::bad_value, "the accessory did not understand the request"};
  } else if (reason == "storage") {
    e = {trust::trust_errc::store_io, "the accessory could not record the change"};
  } else if (reason == "not_supported" || reason == "unknown_verb") {
    // Not the accessory's storage: it has no such service or verb (another product, an older
    // version). Reported as store_io before 2026-12-05.
    e = {trust::trust_errc::request_not_supported,
         "the accessory does not offer controller administration, or not this request"};
  } else {
    e = {trust::trust_errc::request_refused, "the accessory refused the request"};
  }
  e.detail += " (" + core::display_text(reason) + ")";
  e.with(core::field_key::reason, std::string(reason));
  return e;
}

} // namespace lanyard::cli
