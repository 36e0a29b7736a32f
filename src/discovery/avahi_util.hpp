// Small conversions between Lanyard's types and Avahi's (private to src/discovery).
#pragma once

#include "lanyard/core/txt_record.hpp"

#include <avahi-common/strlst.h>

#include <string>
#include <system_error>

namespace lanyard::discovery::detail {

/// Maps an avahi errno (avahi_client_errno) to the closest discovery_errc.
std::error_code from_avahi_error(int avahi_errno);

/// The TXT record as an AvahiStringList in the record's order (caller frees with
/// avahi_string_list_free). nullptr for the empty record (Avahi then sends one zero byte).
AvahiStringList* to_string_list(const core::txt_record& txt);

} // namespace lanyard::discovery::detail
