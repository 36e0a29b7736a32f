#include <lanyard/channel/session_runner.hpp>

#include "session_runner_impl.hpp"

#include <lanyard/link/mptcp.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

namespace lanyard::channel::detail {

std::error_code configure_socket(socket_type& s, std::chrono::milliseconds user_timeout) {
  std::error_code ec;
  s.set_option(asio::ip::tcp::no_delay(true), ec);
  if (ec) return ec;
  if (user_timeout.count() > 0) {
    // Bounds how long written data may stay unacknowledged: without it a connection whose
    // peer vanished keeps retransmitting for ~15 minutes.
    unsigned int ms = static_cast<unsigned int>(
        std::min<std::chrono::milliseconds::rep>(user_timeout.count(), 0x7fffffff));
    if (::setsockopt(s.native_handle(), IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof ms) != 0) {
      // MPTCP sockets do not take TCP_USER_TIMEOUT (per-subflow state, Linux 6.x): the
      // session's keep-alive timeout bounds a dead connection there instead.
      if (errno == ENOPROTOOPT && link::is_mptcp_socket(s)) return {};
      return {errno, std::system_category()};
    }
  }
  return {};
}

// The production runner, compiled here once (session_runner.hpp declares it extern).
template class basic_session_runner<tls_stream>;

} // namespace lanyard::channel::detail
