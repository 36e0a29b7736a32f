// What `lanyard controllers` reports when the accessory refuses an administration request:
// the refusal token it sent (accessory/controller_admin.hpp's reasons, or the node's answers
// to a service it does not offer) as a code a script can branch on, a sentence for a person,
// and the token itself, escaped, in the field `reason`.
//
// Thread-safety: pure function.
#pragma once

#include <lanyard/core/error_detail.hpp>

#include <string_view>

namespace lanyard::cli {

/// not_admin, not_paired, last_admin → trust_errc of the same name; bad_field →
/// core::app_message_errc::bad_value; storage → trust_errc::store_io; not_supported and
/// unknown_verb → trust_errc::request_not_supported; any other token (a newer accessory's) →
/// trust_errc::request_refused. `reason` is untrusted bytes.
core::error_detail admin_refusal(std::string_view reason);

} // namespace lanyard::cli
