#include "rtnetlink_dump.hpp"

#include <cerrno>
#include <cstring>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

namespace lanyard::link::detail {

std::error_code errno_code(int e) {
  return {e, std::system_category()};
}

link_error netlink_error(std::string_view what, int e) {
  return {make_error_code(link_errc::netlink_failed),
          "rtnetlink: " + std::string(what) + " failed: " + std::strerror(e)};
}

int open_netlink(std::uint32_t groups, std::size_t rcvbuf, bool nonblocking, link_error& error) {
  int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0),
                    NETLINK_ROUTE);
  if (fd < 0) {
    error = netlink_error("socket(AF_NETLINK, NETLINK_ROUTE)", errno);
    return -1;
  }
  int size = static_cast<int>(rcvbuf);
  // SO_RCVBUFFORCE ignores rmem_max but needs CAP_NET_ADMIN; SO_RCVBUF is capped by it.
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  int one = 1;
  // Tells the kernel to reject requests it does not understand instead of guessing.
  ::setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof one);
  sockaddr_nl sa{};
  sa.nl_family = AF_NETLINK;
  sa.nl_groups = groups;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    error = netlink_error("bind", errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

std::uint16_t dump_type(interface_table::dump d) {
  return d == interface_table::dump::links       ? RTM_GETLINK
         : d == interface_table::dump::addresses ? RTM_GETADDR
                                                 : RTM_GETROUTE;
}

void table_visitor::note(const netlink::header& h) {
  if (dump_seq != 0 && h.seq == dump_seq && (h.flags & NLM_F_DUMP_INTR)) interrupted = true;
}

void table_visitor::on_link(const netlink::header& h, const netlink::link_message& m) {
  note(h);
  table.apply(m, now, out);
}

void table_visitor::on_address(const netlink::header& h, const netlink::address_message& m) {
  note(h);
  table.apply(m, now, out);
}

void table_visitor::on_route(const netlink::header& h, const netlink::route_message& m) {
  note(h);
  table.apply(m, now, out);
}

void table_visitor::on_done(const netlink::header& h) {
  note(h);
  if (dump_seq != 0 && h.seq == dump_seq) done = true;
}

void table_visitor::on_error(const netlink::header& h, int e) {
  if (dump_seq != 0 && h.seq == dump_seq && e != 0) {
    error = -e;
    done = true;
  }
}

} // namespace lanyard::link::detail
