#include "failover_peer.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <linux/mptcp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <optional>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace lanyard::bench {
namespace {

using clock_type = std::chrono::steady_clock;
constexpr std::size_t message_size = 16;
constexpr auto send_interval = std::chrono::milliseconds(2);

int fail(const char* what) {
  std::fprintf(stderr, "failover peer: %s: %s\n", what, std::strerror(errno));
  return 1;
}

bool parse_endpoint(const std::string& text, sockaddr_in& out) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos) return false;
  std::memset(&out, 0, sizeof out);
  out.sin_family = AF_INET;
  out.sin_port = htons(static_cast<std::uint16_t>(std::atoi(text.c_str() + colon + 1)));
  return ::inet_pton(AF_INET, text.substr(0, colon).c_str(), &out.sin_addr) == 1;
}

int mptcp_server(const cli::parsed_args& args) {
  const int port = std::atoi(args.value("port").value_or("5555").c_str());
  int l = ::socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP);
  if (l < 0) return fail("socket(IPPROTO_MPTCP)");
  int one = 1;
  ::setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return fail("bind");
  if (::listen(l, 1) != 0) return fail("listen");
  std::printf("listening\n");
  std::fflush(stdout);
  int c = ::accept(l, nullptr, nullptr);
  if (c < 0) return fail("accept");
  char buf[4096];
  std::size_t partial = 0;
  arrival_reporter arrivals;
  for (;;) {
    ssize_t n = ::read(c, buf, sizeof buf);
    if (n <= 0) break;
    // A gap is measured between message arrivals; a read completing a partial message counts.
    partial += static_cast<std::size_t>(n);
    if (partial < message_size) continue;
    partial %= message_size;
    arrivals.arrived();
  }
  return 0;
}

int subflows(int fd) {
  mptcp_info info{};
  socklen_t len = sizeof info;
  if (::getsockopt(fd, SOL_MPTCP, MPTCP_INFO, &info, &len) != 0) return -1;
  return info.mptcpi_subflows;
}

int mptcp_client(const cli::parsed_args& args) {
  sockaddr_in to{};
  if (!parse_endpoint(args.value("connect").value_or(""), to)) {
    std::fprintf(stderr, "failover peer: --connect needs IPV4:PORT\n");
    return 2;
  }
  int s = ::socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP);
  if (s < 0) return fail("socket(IPPROTO_MPTCP)");
  int one = 1;
  ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(s, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) return fail("connect");
  std::printf("connected\n");
  std::fflush(stdout);
  char msg[message_size] = {};
  int shown = -1;
  auto next = clock_type::now();
  for (std::uint64_t seq = 0;; ++seq) {
    std::memcpy(msg, &seq, sizeof seq);
    if (::write(s, msg, sizeof msg) != static_cast<ssize_t>(sizeof msg)) return fail("write");
    if (int n = subflows(s); n != shown) {
      shown = n;
      std::printf("subflows %d\n", n);
      std::fflush(stdout);
    }
    next += send_interval;
    std::this_thread::sleep_until(next);
  }
}

} // namespace

void arrival_reporter::arrived() {
  const auto now = clock_type::now();
  if (last_ && now - *last_ > std::chrono::milliseconds(3)) {
    std::printf("gap %.3f end %lld\n",
                std::chrono::duration<double, std::milli>(now - *last_).count(),
                static_cast<long long>(now.time_since_epoch().count()));
    std::fflush(stdout);
  }
  last_ = now;
  if (now - last_alive_ >= std::chrono::milliseconds(500)) {
    last_alive_ = now;
    std::printf("alive %lld\n", static_cast<long long>(now.time_since_epoch().count()));
    std::fflush(stdout);
  }
}

int run_failover_peer(const std::string& role, const cli::parsed_args& args) {
  if (role == "mptcp-server") return mptcp_server(args);
  if (role == "mptcp-client") return mptcp_client(args);
  if (role == "lanyard-server") return lanyard_server(args);
  if (role == "lanyard-client") return lanyard_client(args);
  std::fprintf(stderr,
               "failover peer: unknown --peer '%s' (mptcp-server, mptcp-client, lanyard-server, "
               "lanyard-client)\n",
               role.c_str());
  return 2;
}

} // namespace lanyard::bench
