// Counts this process's rtnetlink sockets, as the kernel sees them: the NETLINK_ROUTE entries
// of /proc/self/net/netlink (every netlink socket of the network namespace, with its inode)
// whose inode one of /proc/self/fd's "socket:[inode]" links names. Tests of the shared path
// monitor compare counts before and after, so a change that opens a socket per subscriber
// anywhere underneath fails them, whatever the monitor's own bookkeeping says.
#pragma once

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace lanyard::test {

inline std::size_t open_rtnetlink_sockets() {
  std::set<unsigned long> ours;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    const std::string target = std::filesystem::read_symlink(e.path(), ec).string();
    if (ec || target.rfind("socket:[", 0) != 0) continue;
    ours.insert(std::stoul(target.substr(8)));
  }
  std::ifstream table("/proc/self/net/netlink");
  std::string line;
  std::getline(table, line); // "sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode"
  std::size_t n = 0;
  while (std::getline(table, line)) {
    std::istringstream in(line);
    std::string sk, skip;
    int protocol = -1;
    unsigned long inode = 0;
    in >> sk >> protocol;
    for (int i = 0; i < 7; ++i)
      in >> skip;
    in >> inode;
    if (in && protocol == 0 /* NETLINK_ROUTE */ && ours.count(inode)) ++n;
  }
  return n;
}

} // namespace lanyard::test
