#include "lanyard/link/socket_binding.hpp"

#include "lanyard/link/interface_policy.hpp"
#include "lanyard/link/path_monitor.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>

namespace lanyard::link {
namespace {

std::string plain(const asio::ip::address& a) {
  auto s = a.to_string();
  if (auto pct = s.find('%'); pct != std::string::npos) s.resize(pct);
  return s;
}

std::string no_route(const asio::ip::address& destination, const network_interface& iface) {
  return "no route to " + plain(destination) + " via interface " + describe(iface) + ": ";
}

link_error fail(link_errc code, std::string detail) {
  return {make_error_code(code), std::move(detail)};
}

/// Why `iface` has no source address for `destination`, as precisely as the snapshot allows;
/// `problem` names the case (the field problem, docs/diagnostics.md).
std::string missing_address(const network_interface& iface, const asio::ip::address& destination,
                            std::string_view& problem) {
  const bool v6 = destination.is_v6();
  const char* family = v6 ? "IPv6" : "IPv4";
  bool any = false, tentative = false, failed = false, link_local_only = true;
  for (const auto& a : iface.addresses) {
    if (a.address.is_v6() != v6) continue;
    any = true;
    tentative = tentative || a.tentative;
    failed = failed || a.dad_failed;
    if (!(v6 && a.address.to_v6().is_link_local())) link_local_only = false;
  }
  if (!any) {
    problem = "no_address_of_family";
    return std::string("the interface has no ") + family + " address";
  }
  if (v6 && link_local_only && !destination.to_v6().is_link_local()) {
    problem = "link_local_only";
    return "the interface has only a link-local IPv6 address, which cannot reach a routable one";
  }
  if (tentative) {
    problem = "address_tentative";
    return std::string("the interface's ") + family +
           " address is still tentative (duplicate address detection has not finished)";
  }
  if (failed) {
    problem = "address_dad_failed";
    return std::string("the interface's ") + family +
           " address failed duplicate address detection (another host uses it)";
  }
  if (v6 && destination.to_v6().is_link_local()) {
    problem = "no_link_local_address";
    return "the interface has no link-local IPv6 address";
  }
  problem = "no_usable_address";
  return std::string("the interface has no usable ") + family + " address";
}

/// bind_to_interface without the fields every failure shares (added by the caller).
link_error bind_unlabelled(asio::ip::tcp::socket& socket, const network_interface& iface,
                           const asio::ip::address& destination,
                           const core::interface_policy* policy);

} // namespace

asio::ip::tcp::endpoint scoped_endpoint(asio::ip::tcp::endpoint endpoint,
                                        const network_interface& iface) {
  auto a = endpoint.address();
  if (a.is_v6() && a.to_v6().is_link_local()) {
    auto v6 = a.to_v6();
    v6.scope_id(iface.index);
    endpoint.address(v6);
  }
  return endpoint;
}

link_error connect_failure(const asio::ip::tcp::endpoint& endpoint, const network_interface& iface,
                           const std::error_code& ec) {
  link_error e{ec, "connecting to " + plain(endpoint.address()) + " port " +
                       std::to_string(endpoint.port()) + " via interface " + describe(iface) +
                       " failed: " + ec.message()};
  e.with(core::field_key::address, plain(endpoint.address()))
      .with(core::field_key::port, std::uint64_t{endpoint.port()})
      .with(core::field_key::interface, iface.name)
      .with(core::field_key::interface_kind, std::string(core::to_string(iface.kind)))
      .with(core::field_key::step, std::string("tcp_connect"));
  return e;
}

link_error bind_to_interface(asio::ip::tcp::socket& socket, const network_interface& iface,
                             const asio::ip::address& destination,
                             const core::interface_policy* policy) {
  link_error e = bind_unlabelled(socket, iface, destination, policy);
  if (e.failed())
    e.with(core::field_key::address, plain(destination))
        .with(core::field_key::interface, iface.name)
        .with(core::field_key::interface_kind, std::string(core::to_string(iface.kind)));
  return e;
}

namespace {

link_error bind_unlabelled(asio::ip::tcp::socket& socket, const network_interface& iface,
                           const asio::ip::address& destination,
                           const core::interface_policy* policy) {
  if (policy && !allows(*policy, iface))
    return fail(link_errc::policy_prohibits, "not connecting to " + plain(destination) +
                                                 " via interface " + describe(iface) +
                                                 ": the interface policy " + policy->describe());
  if (!iface.up())
    return fail(link_errc::interface_down,
                no_route(destination, iface) + "the interface is down (" +
                    (iface.admin_up
                         ? "no carrier, state " + std::string(to_string(iface.operational))
                         : std::string("administratively down")) +
                    ")")
        .with(core::field_key::problem,
              std::string(iface.admin_up ? "no_carrier" : "administratively_down"));
  const interface_address* source = iface.source_for(destination);
  if (!source) {
    std::string_view problem;
    std::string why = missing_address(iface, destination, problem);
    return fail(link_errc::no_address, no_route(destination, iface) + why)
        .with(core::field_key::problem, std::string(problem));
  }

  const auto protocol = destination.is_v6() ? asio::ip::tcp::v6() : asio::ip::tcp::v4();
  std::error_code ec;
  if (!socket.is_open()) {
    socket.open(protocol, ec);
    if (ec)
      return {ec, "cannot open a socket to reach " + plain(destination) + " via interface " +
                      describe(iface) + ": " + ec.message()};
  } else {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(socket.native_handle(), reinterpret_cast<sockaddr*>(&ss), &len) == 0 &&
        ss.ss_family != (destination.is_v6() ? AF_INET6 : AF_INET))
      return fail(link_errc::family_mismatch,
                  "cannot reach " + plain(destination) + " via interface " + describe(iface) +
                      ": the socket is " + (destination.is_v6() ? "IPv4" : "IPv6") +
                      ", the destination " + (destination.is_v6() ? "IPv6" : "IPv4"));
  }

  const int fd = socket.native_handle();
  // SO_BINDTODEVICE restricts both routing and reception to the interface (no capability
  // needed since Linux 5.7 for a socket not yet bound to a device). Where it is refused,
  // IP_UNICAST_IF / IPV6_UNICAST_IF pin the outgoing interface instead.
  if (::setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, iface.name.c_str(),
                   static_cast<socklen_t>(iface.name.size() + 1)) != 0) {
    const int bind_errno = errno;
    int rc;
    if (destination.is_v6()) {
      int index = static_cast<int>(iface.index);
      rc = ::setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_IF, &index, sizeof index);
    } else {
      // IP_UNICAST_IF takes the index in network byte order (ip(7)).
      std::uint32_t index = htonl(iface.index);
      rc = ::setsockopt(fd, IPPROTO_IP, IP_UNICAST_IF, &index, sizeof index);
    }
    if (rc != 0)
      return fail(link_errc::bind_to_device_failed,
                  "cannot pin the socket for " + plain(destination) + " to interface " +
                      describe(iface) + ": SO_BINDTODEVICE: " + std::strerror(bind_errno) + "; " +
                      (destination.is_v6() ? "IPV6_UNICAST_IF: " : "IP_UNICAST_IF: ") +
                      std::strerror(errno));
  }

  asio::ip::address local = source->address;
  if (local.is_v6() && local.to_v6().is_link_local()) {
    auto v6 = local.to_v6();
    v6.scope_id(iface.index);
    local = v6;
  }
  socket.bind(asio::ip::tcp::endpoint(local, 0), ec);
  if (ec)
    return {ec, "cannot bind to source address " + plain(local) + " of interface " +
                    describe(iface) + " to reach " + plain(destination) + ": " + ec.message()};
  return {};
}

} // namespace

link_error bind_to_interface(asio::ip::tcp::socket& socket, std::string_view interface_name,
                             const asio::ip::address& destination,
                             const core::interface_policy* policy) {
  link_error error;
  auto all = query_interfaces(error);
  if (error) return error;
  for (const auto& iface : all)
    if (iface.name == interface_name) return bind_to_interface(socket, iface, destination, policy);
  return fail(link_errc::no_such_interface, "no route to " + plain(destination) +
                                                " via interface " + std::string(interface_name) +
                                                ": there is no such interface on this host")
      .with(core::field_key::address, plain(destination))
      .with(core::field_key::interface, std::string(interface_name));
}

} // namespace lanyard::link
