#include "mdns_socket_error.hpp"

#include <cstdarg>
#include <cstdio>
#include <string>

namespace lamp {
namespace {

class mdns_socket_category_impl final : public std::error_category {
public:
  const char* name() const noexcept override { return "lamp.mdns_socket"; }

  std::string message(int value) const override {
    switch (static_cast<mdns_socket_errc>(value)) {
    case mdns_socket_errc::no_such_interface:
      return "no network interface by that name (list them with `ip link`)";
    case mdns_socket_errc::interface_down:
      return "the network interface is down (bring it up first)";
    case mdns_socket_errc::no_multicast:
      return "the network interface cannot do multicast, which mDNS needs";
    case mdns_socket_errc::no_address:
      return "the network interface has no IPv4 or IPv6 address yet";
    case mdns_socket_errc::too_many_interfaces:
      return "more interfaces than the mDNS responder holds (mdns_limits::max_interfaces)";
    case mdns_socket_errc::interface_list_failed:
      return "the network interfaces cannot be listed (getifaddrs failed)";
    case mdns_socket_errc::socket_failed:
      return "a UDP socket cannot be created";
    case mdns_socket_errc::socket_option_failed:
      return "a socket option mDNS needs was refused";
    case mdns_socket_errc::port_in_use:
      return "UDP port 5353 is held by a program that does not share it (stop it, or make it "
             "set SO_REUSEPORT)";
    case mdns_socket_errc::bind_failed:
      return "cannot bind UDP port 5353 (it needs root or CAP_NET_BIND_SERVICE)";
    case mdns_socket_errc::join_failed:
      return "cannot join the mDNS multicast group on the interface";
    case mdns_socket_errc::send_failed:
      return "an mDNS packet could not be sent";
    case mdns_socket_errc::receive_failed:
      return "an mDNS packet could not be read";
    }
    return "unknown mDNS socket error";
  }
};

} // namespace

const std::error_category& mdns_socket_category() noexcept {
  static const mdns_socket_category_impl category;
  return category;
}

std::error_code error_sentence::set(mdns_socket_errc code, const char* format, ...) noexcept {
  va_list args;
  va_start(args, format);
  std::vsnprintf(text_.data(), text_.size(), format, args);
  va_end(args);
  return code;
}

} // namespace lamp
