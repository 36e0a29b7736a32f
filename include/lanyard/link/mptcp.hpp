/// @file
/// Kernel Multipath TCP (RFC 8684) for the channel's sockets, with fallback to TCP.
///
/// With transport_protocol::mptcp, sockets and acceptors are opened with IPPROTO_MPTCP. The
/// kernel then negotiates MPTCP with the peer and, when the peer does not speak it, falls back
/// to plain TCP on the same socket (RFC 8684 §3.7) — so an MPTCP app works against any
/// accessory. Where the kernel has no MPTCP (not built in, or `net.mptcp.enabled=0` in the
/// namespace), opening falls back to a TCP socket at once. Extra subflows need `ip mptcp
/// endpoint` configuration on the host; without it MPTCP behaves like TCP.
///
/// Why an option and not the default: Lanyard's own handover (session-level resume on another
/// path) does not need MPTCP, and middleboxes on some networks strip MPTCP options; MPTCP is
/// for deployments that want the kernel to move the byte stream too.
///
/// Errors: the system's error from socket()/bind()/listen() other than "protocol not
/// supported". Thread-safety: as asio sockets (distinct objects safe, shared unsafe).
#pragma once

#include <asio/ip/tcp.hpp>

#include <cstdint>
#include <string_view>
#include <system_error>

namespace lanyard::link {

/// Which transport protocol a socket uses.
enum class transport_protocol : std::uint8_t {
  tcp,   ///< plain TCP (the default)
  mptcp, ///< Multipath TCP where the kernel supports it, else TCP
};

/// "tcp" or "mptcp".
std::string_view to_string(transport_protocol p) noexcept;

/// True if this network namespace's kernel can open MPTCP sockets.
bool mptcp_supported() noexcept;

/// Opens the closed `socket` for `family` (tcp::v4()/v6()) with `transport`. With mptcp and no
/// kernel support it opens a TCP socket instead; `*opened_mptcp` (if given) tells which.
std::error_code open_socket(asio::ip::tcp::socket& socket, asio::ip::tcp family,
                            transport_protocol transport, bool* opened_mptcp = nullptr);

/// Opens the closed `acceptor` for `family` with `transport` (fallback as open_socket()).
/// Accepted sockets inherit the protocol. The caller sets options, binds and listens.
std::error_code open_acceptor(asio::ip::tcp::acceptor& acceptor, asio::ip::tcp family,
                              transport_protocol transport, bool* opened_mptcp = nullptr);

/// True if `socket` was opened with IPPROTO_MPTCP (whether or not its connection fell back).
bool is_mptcp_socket(const asio::ip::tcp::socket& socket) noexcept;

/// True if the connected `socket` runs MPTCP end to end (both ends negotiated it); false for
/// TCP sockets and MPTCP sockets that fell back to TCP.
bool is_mptcp_connection(const asio::ip::tcp::socket& socket) noexcept;

} // namespace lanyard::link
