#include "avahi_util.hpp"

#include "lanyard/discovery/error.hpp"

#include <avahi-common/error.h>

namespace lanyard::discovery::detail {

std::error_code from_avahi_error(int e) {
  switch (e) {
  case AVAHI_OK:
    return {};
  case AVAHI_ERR_DISCONNECTED:
  case AVAHI_ERR_NO_DAEMON:
  case AVAHI_ERR_DBUS_ERROR:
  case AVAHI_ERR_BAD_STATE:
    return discovery_errc::daemon_unavailable;
  case AVAHI_ERR_TOO_MANY_CLIENTS:
  case AVAHI_ERR_TOO_MANY_OBJECTS:
  case AVAHI_ERR_TOO_MANY_ENTRIES:
    return discovery_errc::too_many_objects;
  case AVAHI_ERR_INVALID_SERVICE_NAME:
    return discovery_errc::instance_name_invalid;
  case AVAHI_ERR_INVALID_SERVICE_TYPE:
    return discovery_errc::service_type_format;
  case AVAHI_ERR_INVALID_SERVICE_SUBTYPE:
    return discovery_errc::subtype_invalid;
  case AVAHI_ERR_INVALID_PORT:
    return discovery_errc::port_zero;
  case AVAHI_ERR_INVALID_INTERFACE:
    return discovery_errc::unknown_interface;
  case AVAHI_ERR_COLLISION:
    return discovery_errc::name_conflict;
  default:
    return discovery_errc::daemon_error;
  }
}

AvahiStringList* to_string_list(const core::txt_record& txt) {
  // Avahi keeps string lists newest-first and serialises them reversed, so prepending each
  // entry in order puts them on the wire in the record's order.
  AvahiStringList* list = nullptr;
  for (const auto& e : txt) {
    std::string s = e.key;
    if (e.value) {
      s += '=';
      s += *e.value;
    }
    list = avahi_string_list_add_arbitrary(list, reinterpret_cast<const std::uint8_t*>(s.data()),
                                           s.size());
  }
  return list;
}

} // namespace lanyard::discovery::detail
