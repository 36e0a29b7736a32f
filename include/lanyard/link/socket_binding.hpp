/// @file
/// Binding a TCP socket to one network interface, for real: the kernel may only send the
/// connection's packets out of that interface.
///
/// bind_to_interface() opens the socket if needed, pins it to the interface with
/// SO_BINDTODEVICE (unprivileged since Linux 5.7 for a socket not yet bound to a device; older
/// kernels need CAP_NET_RAW, and then IP_UNICAST_IF / IPV6_UNICAST_IF is the fallback), and
/// binds it to the interface's source address for the destination (a link-local IPv6
/// destination gets the link-local source and the interface as scope id). A routing table that
/// would send the destination out of another interface does not matter: with the socket pinned,
/// the route lookup only considers routes through this interface, and fails with "network
/// unreachable" if there is none.
///
/// Every error names the destination, the interface and its kind and what is missing, e.g.
/// "no route to 198.18.1.3 via interface wlan0 (wifi): the interface has no IPv4 address".
///
/// Thread-safety: distinct sockets safe, a shared socket unsafe (as asio's own sockets).
/// Cancellation: async_connect_via is cancelled by closing or cancelling the socket; its
/// handler then gets asio::error::operation_aborted.
#pragma once

#include "lanyard/core/path_ranking.hpp"
#include "lanyard/link/error.hpp"
#include "lanyard/link/network_interface.hpp"

#include <asio/associated_cancellation_slot.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/bind_executor.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>

#include <string>
#include <string_view>
#include <system_error>

namespace lanyard::link {

/// Pins `socket` to `iface` and binds it to the interface's source address for `destination`
/// (port 0). If `policy` is given, an interface whose kind it does not allow is refused
/// (link_errc::policy_prohibits) before anything touches the socket.
///
/// Errors: link_errc::policy_prohibits, interface_down, no_address, family_mismatch (the
/// socket is open with the other family), bind_to_device_failed, or the system's error from
/// bind(); `detail` always names address, interface and kind, and so do the fields address,
/// interface and interface_kind; no_address and interface_down add problem
/// (docs/diagnostics.md lists its values).
link_error bind_to_interface(asio::ip::tcp::socket& socket, const network_interface& iface,
                             const asio::ip::address& destination,
                             const core::interface_policy* policy = nullptr);

/// As above, looking the interface up by name first (query_interfaces()).
/// Errors: additionally link_errc::no_such_interface (fields address, interface),
/// netlink_failed.
link_error bind_to_interface(asio::ip::tcp::socket& socket, std::string_view interface_name,
                             const asio::ip::address& destination,
                             const core::interface_policy* policy = nullptr);

/// The endpoint to connect to via `iface`: a link-local IPv6 address gets the interface's
/// index as scope id; everything else is returned unchanged.
asio::ip::tcp::endpoint scoped_endpoint(asio::ip::tcp::endpoint endpoint,
                                        const network_interface& iface);

/// A connect through `iface` that failed with `ec`, as an error: the sentence "connecting to
/// 198.18.1.3 port 4711 via interface cell0 (cellular) failed: " + ec.message(), and the fields
/// address, port, interface, interface_kind and step ("tcp_connect").
link_error connect_failure(const asio::ip::tcp::endpoint& endpoint, const network_interface& iface,
                           const std::error_code& ec);

/// Binds `socket` to `iface` (as bind_to_interface) and connects it to `endpoint` through it.
///
/// @par Completion Signature
/// @code void(std::error_code ec, link_error detail) @endcode
/// `detail` is empty on success; else `detail.code == ec`, its sentence names endpoint,
/// interface and kind, and its fields say the same for a program (a binding error: those of
/// bind_to_interface; a failed connect: those of connect_failure). The handler is never
/// invoked from inside this call (a binding error is posted).
template <class CompletionToken>
auto async_connect_via(asio::ip::tcp::socket& socket, asio::ip::tcp::endpoint endpoint,
                       const network_interface& iface, CompletionToken&& token,
                       const core::interface_policy* policy = nullptr) {
  return asio::async_initiate<CompletionToken, void(std::error_code, link_error)>(
      [&socket, endpoint, iface, policy](auto handler) {
        auto ex = asio::get_associated_executor(handler, socket.get_executor());
        auto error = bind_to_interface(socket, iface, endpoint.address(), policy);
        if (error) {
          asio::post(ex, [h = std::move(handler), error = std::move(error)]() mutable {
            const std::error_code ec = error.code;
            std::move(h)(ec, std::move(error));
          });
          return;
        }
        const auto target = scoped_endpoint(endpoint, iface);
        // The caller's cancellation slot goes to the socket's connect (per-operation
        // cancellation, every type as asio's connect).
        auto slot = asio::get_associated_cancellation_slot(handler);
        socket.async_connect(
            target, asio::bind_cancellation_slot(
                        slot, asio::bind_executor(ex, [h = std::move(handler), target,
                                                       iface](std::error_code ec) mutable {
                          std::move(h)(ec, ec ? connect_failure(target, iface, ec) : link_error{});
                        })));
      },
      token);
}

} // namespace lanyard::link
