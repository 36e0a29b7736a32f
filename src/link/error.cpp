#include "lanyard/link/error.hpp"

#include "lanyard/core/error_condition.hpp"

namespace lanyard::link {
namespace {

class category final : public core::lanyard_category {
public:
  const char* name() const noexcept override { return "lanyard.link"; }
  std::string message(int value) const override {
    switch (static_cast<link_errc>(value)) {
    case link_errc::no_such_interface:
      return "no such network interface on this host (see ip link)";
    case link_errc::interface_down:
      return "the network interface is down: bring it up or choose another one";
    case link_errc::no_address:
      return "the network interface has no usable address of the destination's family";
    case link_errc::policy_prohibits:
      return "the interface policy does not allow this interface's kind";
    case link_errc::netlink_failed:
      return "the rtnetlink socket failed (is this Linux, and is the process allowed to open "
             "NETLINK_ROUTE sockets?)";
    case link_errc::netlink_malformed:
      return "a malformed rtnetlink message was received and skipped";
    case link_errc::netlink_overrun:
      return "the kernel dropped interface change notifications (receive buffer overrun); the "
             "interface list is being re-read";
    case link_errc::family_mismatch:
      return "the socket's address family does not match the destination's";
    case link_errc::bind_to_device_failed:
      return "the socket could not be pinned to the interface (SO_BINDTODEVICE needs "
             "CAP_NET_RAW before Linux 5.7 or on a socket already bound to another device, and "
             "IP_UNICAST_IF was refused too)";
    case link_errc::join_failed:
      return "joining the accessory's network failed; check that it is in setup mode and in "
             "range";
    }
    return "unknown link error " + std::to_string(value);
  }

  std::string_view code_name(int code) const noexcept override {
    switch (static_cast<link_errc>(code)) {
    case link_errc::no_such_interface:
      return "no_such_interface";
    case link_errc::interface_down:
      return "interface_down";
    case link_errc::no_address:
      return "no_address";
    case link_errc::policy_prohibits:
      return "policy_prohibits";
    case link_errc::netlink_failed:
      return "netlink_failed";
    case link_errc::netlink_malformed:
      return "netlink_malformed";
    case link_errc::netlink_overrun:
      return "netlink_overrun";
    case link_errc::family_mismatch:
      return "family_mismatch";
    case link_errc::bind_to_device_failed:
      return "bind_to_device_failed";
    case link_errc::join_failed:
      return "join_failed";
    }
    return {};
  }

  // What callers branch on (lanyard/core/error_condition.hpp); docs/design/error-model.md
  // §2.3 argues each row.
  core::condition_set conditions(int code) const noexcept override {
    using enum core::condition;
    switch (static_cast<link_errc>(code)) {
    case link_errc::no_such_interface:
    case link_errc::interface_down:
    case link_errc::no_address:
    case link_errc::netlink_failed:
    case link_errc::netlink_overrun:
    case link_errc::join_failed:
    case link_errc::bind_to_device_failed:
      return {transient};
    case link_errc::policy_prohibits:
      return {policy, transient};
    case link_errc::netlink_malformed:
      return {protocol_violation, transient};
    case link_errc::family_mismatch:
      return {permanent};
    }
    return {};
  }
};

} // namespace

const std::error_category& link_category() noexcept {
  static const category instance;
  return instance;
}

} // namespace lanyard::link
