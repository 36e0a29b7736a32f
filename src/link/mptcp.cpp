#include "lanyard/link/mptcp.hpp"

#include <cerrno>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef TCP_IS_MPTCP
#define TCP_IS_MPTCP 43 // Linux 5.16+; older glibc headers lack it
#endif

namespace lanyard::link {

namespace {

// socket() errors that mean "no MPTCP here", not a real failure.
bool mptcp_unavailable(int err) {
  return err == EPROTONOSUPPORT || err == EINVAL || err == ENOPROTOOPT || err == EAFNOSUPPORT;
}

// A stream socket of `family` with IPPROTO_MPTCP when asked and available, else IPPROTO_TCP.
int open_fd(int family, transport_protocol transport, bool& mptcp, std::error_code& ec) {
  mptcp = false;
  if (transport == transport_protocol::mptcp) {
    int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_MPTCP);
    if (fd >= 0) {
      mptcp = true;
      return fd;
    }
    if (!mptcp_unavailable(errno)) {
      ec = {errno, std::system_category()};
      return -1;
    }
  }
  int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd < 0) ec = {errno, std::system_category()};
  return fd;
}

template <class Socket>
std::error_code open_as(Socket& s, asio::ip::tcp family, transport_protocol transport,
                        bool* opened_mptcp) {
  std::error_code ec;
  bool mptcp = false;
  const int fd = open_fd(family.family(), transport, mptcp, ec);
  if (fd < 0) return ec;
  s.assign(family, fd, ec);
  if (ec) {
    ::close(fd);
    return ec;
  }
  if (opened_mptcp) *opened_mptcp = mptcp;
  return {};
}

} // namespace

std::string_view to_string(transport_protocol p) noexcept {
  return p == transport_protocol::mptcp ? "mptcp" : "tcp";
}

bool mptcp_supported() noexcept {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_MPTCP);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

std::error_code open_socket(asio::ip::tcp::socket& socket, asio::ip::tcp family,
                            transport_protocol transport, bool* opened_mptcp) {
  return open_as(socket, family, transport, opened_mptcp);
}

std::error_code open_acceptor(asio::ip::tcp::acceptor& acceptor, asio::ip::tcp family,
                              transport_protocol transport, bool* opened_mptcp) {
  return open_as(acceptor, family, transport, opened_mptcp);
}

bool is_mptcp_socket(const asio::ip::tcp::socket& socket) noexcept {
  int protocol = 0;
  socklen_t len = sizeof protocol;
  if (::getsockopt(const_cast<asio::ip::tcp::socket&>(socket).native_handle(), SOL_SOCKET,
                   SO_PROTOCOL, &protocol, &len) != 0)
    return false;
  return protocol == IPPROTO_MPTCP;
}

bool is_mptcp_connection(const asio::ip::tcp::socket& socket) noexcept {
  int v = 0;
  socklen_t len = sizeof v;
  // TCP_IS_MPTCP is 1 only on an MPTCP socket whose connection did not fall back to TCP.
  if (::getsockopt(const_cast<asio::ip::tcp::socket&>(socket).native_handle(), IPPROTO_TCP,
                   TCP_IS_MPTCP, &v, &len) != 0)
    return false;
  return v != 0;
}

} // namespace lanyard::link
