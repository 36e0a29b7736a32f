#include "failover_peer.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
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

std::uint64_t load_u64(const std::byte* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i)
    v = (v << 8) | static_cast<std::uint64_t>(p[i]);
  return v;
}

void store_u64(std::byte* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i, v >>= 8)
    p[i] = static_cast<std::byte>(v & 0xff);
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
  std::byte buf[4096];
  std::byte msg[failover_message_size];
  std::size_t have = 0; // bytes of the current message in `msg`
  arrival_reporter arrivals(late_threshold(args));
  for (;;) {
    ssize_t n = ::read(c, buf, sizeof buf);
    if (n <= 0) break;
    // A message arrives when its last byte does.
    for (ssize_t i = 0; i < n;) {
      const std::size_t take =
          std::min(failover_message_size - have, static_cast<std::size_t>(n - i));
      std::memcpy(msg + have, buf + i, take);
      have += take;
      i += static_cast<ssize_t>(take);
      if (have == failover_message_size) {
        arrivals.arrived(msg);
        have = 0;
      }
    }
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
  if (auto v = args.value("user-timeout-ms")) {
    // The knob Lanyard's channel sets (TCP_USER_TIMEOUT = its peer timeout). The kernel may
    // refuse it on an MPTCP socket (Linux 6.18: ENOPROTOOPT); the bench reports either way.
    unsigned ms = static_cast<unsigned>(std::atoi(v->c_str()));
    if (::setsockopt(s, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof ms) == 0)
      std::printf("knob TCP_USER_TIMEOUT ok\n");
    else
      std::printf("knob TCP_USER_TIMEOUT refused: %s\n", std::strerror(errno));
    std::fflush(stdout);
  }
  if (::connect(s, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) return fail("connect");
  std::printf("connected\n");
  std::fflush(stdout);
  std::byte msg[failover_message_size];
  int shown = -1;
  auto next = clock_type::now();
  for (std::uint64_t seq = 0;; ++seq) {
    encode_failover_message(msg, seq, next);
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

void encode_failover_message(std::byte (&out)[failover_message_size], std::uint64_t seq,
                             clock_type::time_point due) {
  store_u64(out, seq);
  store_u64(out + 8, static_cast<std::uint64_t>(due.time_since_epoch().count()));
}

std::chrono::nanoseconds late_threshold(const cli::parsed_args& args) {
  const double ms = std::atof(args.value("late-ms").value_or("3").c_str());
  return std::chrono::nanoseconds(static_cast<long long>(ms * 1e6));
}

void arrival_reporter::arrived(std::span<const std::byte> message) {
  const auto now = clock_type::now();
  const long long now_ns = static_cast<long long>(now.time_since_epoch().count());
  if (last_ && now - *last_ > std::chrono::milliseconds(3)) {
    std::printf("gap %.3f end %lld\n",
                std::chrono::duration<double, std::milli>(now - *last_).count(), now_ns);
    std::fflush(stdout);
  }
  last_ = now;
  if (message.size() >= failover_message_size) {
    const auto sent = static_cast<long long>(load_u64(message.data() + 8));
    const std::chrono::nanoseconds took(now_ns - sent);
    if (took > late_threshold_) {
      if (took > late_run_max_) {
        late_run_max_ = took;
        std::printf("late %.3f sent %lld\n", static_cast<double>(took.count()) / 1e6, sent);
        std::fflush(stdout);
      }
    } else {
      late_run_max_ = std::chrono::nanoseconds(0);
    }
  }
  if (now - last_alive_ >= std::chrono::milliseconds(250)) {
    last_alive_ = now;
    std::printf("alive %lld\n", now_ns);
    std::fflush(stdout);
  }
}

int run_failover_peer(const std::string& role, const cli::parsed_args& args) {
  if (role == "mptcp-server") return mptcp_server(args);
  if (role == "mptcp-client") return mptcp_client(args);
  if (role == "lanyard-server") return lanyard_server(args);
  if (role == "lanyard-client") return lanyard_client(args);
  if (role == "delay-line") return delay_line(args);
  std::fprintf(stderr,
               "failover peer: unknown --peer '%s' (mptcp-server, mptcp-client, lanyard-server, "
               "lanyard-client, delay-line)\n",
               role.c_str());
  return 2;
}

} // namespace lanyard::bench
