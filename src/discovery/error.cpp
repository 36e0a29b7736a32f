#include "lanyard/discovery/error.hpp"

#include "lanyard/core/error_condition.hpp"

#include <string>
#include <string_view>

namespace lanyard::discovery {
namespace {

class category final : public core::lanyard_category {
public:
  const char* name() const noexcept override { return "lanyard.discovery"; }
  std::string message(int value) const override {
    switch (static_cast<discovery_errc>(value)) {
    case discovery_errc::daemon_unavailable:
      return "avahi-daemon is not running: start it (systemctl start avahi-daemon, or "
             "avahi-daemon -D)";
    case discovery_errc::bus_unavailable:
      return "the D-Bus system bus is not running, so avahi-daemon cannot be reached: start it "
             "(systemctl start dbus, or dbus-daemon --system --fork)";
    case discovery_errc::service_type_format:
      return "service type must look like _name._tcp or _name._udp (RFC 6763 §7)";
    case discovery_errc::service_type_protocol:
      return "service type's protocol must be _tcp or _udp (RFC 6763 §7)";
    case discovery_errc::service_name_length:
      return "service name (between '_' and '._tcp') must be 1 to 15 characters (RFC 6335 §5.1)";
    case discovery_errc::service_name_characters:
      return "service name may contain only letters, digits and hyphens (RFC 6335 §5.1)";
    case discovery_errc::service_name_no_letter:
      return "service name must contain at least one letter (RFC 6335 §5.1)";
    case discovery_errc::service_name_hyphen:
      return "service name must not begin or end with a hyphen, nor contain two adjacent "
             "hyphens (RFC 6335 §5.1)";
    case discovery_errc::subtype_invalid:
      return "subtype must be 1 to 63 bytes without '.', '\\' or control characters "
             "(RFC 6763 §7.1)";
    case discovery_errc::instance_name_empty:
      return "instance name is empty: give the service a name people will recognise";
    case discovery_errc::instance_name_too_long:
      return "instance name is longer than 63 bytes of UTF-8 (one DNS label): shorten it";
    case discovery_errc::instance_name_invalid:
      return "instance name must be valid UTF-8 without control characters (RFC 6763 §4.1.1)";
    case discovery_errc::txt_too_large:
      return "TXT record is larger than 8900 bytes and cannot fit in an mDNS packet: move data "
             "out of the TXT record (RFC 6763 §6.2 recommends under 1300 bytes)";
    case discovery_errc::port_zero:
      return "port 0 cannot be advertised: give the port the service listens on";
    case discovery_errc::unknown_interface:
      return "no such network interface on this host (see ip link)";
    case discovery_errc::name_conflict:
      return "every alternative instance name is taken on the network: choose another name";
    case discovery_errc::daemon_error:
      return "avahi-daemon refused the request (see its log: journalctl -u avahi-daemon)";
    case discovery_errc::too_many_objects:
      return "avahi-daemon's per-client object limit was reached: browse or publish fewer "
             "services, or raise objects-per-client-max in avahi-daemon.conf";
    case discovery_errc::not_published:
      return "the service has not been published yet: call publish() first";
    }
    return "unknown discovery error " + std::to_string(value);
  }

  std::string_view code_name(int code) const noexcept override {
    switch (static_cast<discovery_errc>(code)) {
    case discovery_errc::daemon_unavailable:
      return "daemon_unavailable";
    case discovery_errc::bus_unavailable:
      return "bus_unavailable";
    case discovery_errc::service_type_format:
      return "service_type_format";
    case discovery_errc::service_type_protocol:
      return "service_type_protocol";
    case discovery_errc::service_name_length:
      return "service_name_length";
    case discovery_errc::service_name_characters:
      return "service_name_characters";
    case discovery_errc::service_name_no_letter:
      return "service_name_no_letter";
    case discovery_errc::service_name_hyphen:
      return "service_name_hyphen";
    case discovery_errc::subtype_invalid:
      return "subtype_invalid";
    case discovery_errc::instance_name_empty:
      return "instance_name_empty";
    case discovery_errc::instance_name_too_long:
      return "instance_name_too_long";
    case discovery_errc::instance_name_invalid:
      return "instance_name_invalid";
    case discovery_errc::txt_too_large:
      return "txt_too_large";
    case discovery_errc::port_zero:
      return "port_zero";
    case discovery_errc::unknown_interface:
      return "unknown_interface";
    case discovery_errc::name_conflict:
      return "name_conflict";
    case discovery_errc::daemon_error:
      return "daemon_error";
    case discovery_errc::too_many_objects:
      return "too_many_objects";
    case discovery_errc::not_published:
      return "not_published";
    }
    return {};
  }

  // What callers branch on (lanyard/core/error_condition.hpp); docs/design/error-model.md
  // §2.3 argues each row.
  core::condition_set conditions(int code) const noexcept override {
    using enum core::condition;
    switch (static_cast<discovery_errc>(code)) {
    case discovery_errc::daemon_unavailable:
    case discovery_errc::bus_unavailable:
    case discovery_errc::unknown_interface:
    case discovery_errc::daemon_error:
    case discovery_errc::too_many_objects:
      return {transient};
    case discovery_errc::service_type_format:
    case discovery_errc::service_type_protocol:
    case discovery_errc::service_name_length:
    case discovery_errc::service_name_characters:
    case discovery_errc::service_name_no_letter:
    case discovery_errc::service_name_hyphen:
    case discovery_errc::subtype_invalid:
    case discovery_errc::instance_name_empty:
    case discovery_errc::instance_name_too_long:
    case discovery_errc::instance_name_invalid:
    case discovery_errc::txt_too_large:
    case discovery_errc::port_zero:
    case discovery_errc::name_conflict:
    case discovery_errc::not_published:
      return {permanent};
    }
    return {};
  }
};

} // namespace

const std::error_category& discovery_category() noexcept {
  static const category instance;
  return instance;
}

} // namespace lanyard::discovery
