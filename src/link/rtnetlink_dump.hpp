// Private: what the path monitor and the one-shot query_interfaces() share to read the
// kernel's tables into an interface_table: opening a NETLINK_ROUTE socket, the dump request
// of each table, and a visitor that feeds parsed messages to the table and notices the end of
// a dump (or its failure, or its interruption by a concurrent change).
#pragma once

#include "interface_table.hpp"
#include "lanyard/link/error.hpp"
#include "netlink.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <system_error>
#include <vector>

namespace lanyard::link::detail {

std::error_code errno_code(int e);

/// netlink_failed, with "rtnetlink: <what> failed: <strerror(e)>" as the detail.
link_error netlink_error(std::string_view what, int e);

/// Opens a NETLINK_ROUTE socket subscribed to `groups` (0: none), non-blocking if asked.
/// Returns the descriptor, or -1 with `error` set.
int open_netlink(std::uint32_t groups, std::size_t rcvbuf, bool nonblocking, link_error& error);

/// RTM_GETLINK, RTM_GETADDR or RTM_GETROUTE.
std::uint16_t dump_type(interface_table::dump d);

/// Feeds parsed messages to the table; tracks the end (or failure) of the dump `dump_seq`.
struct table_visitor final : netlink::visitor {
  using clock = std::chrono::steady_clock;

  interface_table& table;
  std::vector<path_event>& out;
  clock::time_point now;
  std::uint32_t dump_seq = 0; // 0: no dump running
  bool done = false;
  bool interrupted = false;
  int error = 0;

  table_visitor(interface_table& t, std::vector<path_event>& o, clock::time_point n)
      : table(t), out(o), now(n) {}

  void on_link(const netlink::header& h, const netlink::link_message& m) override;
  void on_address(const netlink::header& h, const netlink::address_message& m) override;
  void on_route(const netlink::header& h, const netlink::route_message& m) override;
  void on_done(const netlink::header& h) override;
  void on_error(const netlink::header& h, int e) override;

private:
  void note(const netlink::header& h);
};

} // namespace lanyard::link::detail
