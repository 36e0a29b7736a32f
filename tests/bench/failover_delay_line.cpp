// lanyard-bench failover's delay line: adds a fixed one-way delay to everything a lab host sends
// on some interfaces, because this kernel has neither netem nor the fq/etf qdiscs that would
// honour an earliest-departure time set by a BPF program (docs/PERFORMANCE.md, "Failover").
//
// How: for each interface IF, a tap device "dly-IF" and a packet socket bound to IF. The bench
// adds `tc qdisc add dev IF clsact` and `tc filter add dev IF egress protocol all u32 match u32 0
// 0 action mirred egress redirect dev dly-IF`, so every frame IF would send (IP, ARP, ND) is
// handed to this process instead; it holds the frame for the delay and sends it out on IF
// through the packet socket with PACKET_QDISC_BYPASS, which skips the egress hook (no loop).
// Frames leave in arrival order, each at arrival + delay. Unlike a relay it terminates nothing:
// the hosts' TCP, MPTCP and TLS see the same segments, later. The price is a userspace hop per
// frame (tens of µs) and the scheduling jitter of this process, which it measures and reports
// (how late each frame left relative to its due time).
//
// Everything lives in the lab host's network namespace: the taps vanish with this process, the
// clsact qdiscs with the namespace (and the bench removes them first).
#include "failover_peer.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <optional>
#include <poll.h>
#include <sched.h>
#include <string>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace lanyard::bench {
namespace {

using clock_type = std::chrono::steady_clock;

volatile std::sig_atomic_t stop_requested = 0;
extern "C" void on_stop(int) {
  stop_requested = 1;
}

struct frame {
  clock_type::time_point due;
  std::vector<unsigned char> bytes;
};

struct port {
  std::string ifname;
  int tap = -1;
  int out = -1;
  unsigned char mac[6] = {};
  std::deque<frame> queue;
  std::uint64_t forwarded = 0;
  std::uint64_t send_failed = 0; // the interface was down (the bench's link-down scenario)
  std::uint64_t queue_full = 0;
  std::vector<std::uint32_t> late_us; // how late each frame left (capped sample)
};

// The queue never holds more than this many frames per interface (about 2 s of the bench's
// traffic at 50 ms); beyond it frames are dropped, like a full qdisc.
constexpr std::size_t max_queued = 10000;
constexpr std::size_t max_samples = 1 << 20;

bool fail(const std::string& what) {
  std::fprintf(stderr, "delay-line: %s: %s\n", what.c_str(), std::strerror(errno));
  return false;
}

bool set_up(const std::string& name, short add) {
  int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return fail("socket");
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  bool ok = ::ioctl(s, SIOCGIFFLAGS, &ifr) == 0;
  if (ok) {
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | add);
    ok = ::ioctl(s, SIOCSIFFLAGS, &ifr) == 0;
  }
  if (!ok) fail("flags of " + name);
  ::close(s);
  return ok;
}

bool open_port(port& p) {
  const std::string tap = "dly-" + p.ifname;
  if (tap.size() >= IFNAMSIZ) {
    errno = ENAMETOOLONG;
    return fail(tap);
  }
  p.tap = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (p.tap < 0) return fail("/dev/net/tun");
  ifreq ifr{};
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  std::strncpy(ifr.ifr_name, tap.c_str(), IFNAMSIZ - 1);
  if (::ioctl(p.tap, TUNSETIFF, &ifr) != 0) return fail("TUNSETIFF " + tap);
  // The tap is only a mailbox: no IPv6 (no router solicitations or MLD of its own), no ARP.
  if (FILE* f = std::fopen(("/proc/sys/net/ipv6/conf/" + tap + "/disable_ipv6").c_str(), "w")) {
    std::fputs("1", f);
    std::fclose(f);
  }
  if (!set_up(tap, IFF_UP | IFF_NOARP)) return false;

  p.out = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0); // protocol 0: receives nothing
  if (p.out < 0) return fail("socket(AF_PACKET)");
  ifreq hw{};
  std::strncpy(hw.ifr_name, p.ifname.c_str(), IFNAMSIZ - 1);
  if (::ioctl(p.out, SIOCGIFINDEX, &hw) != 0) return fail("no interface " + p.ifname);
  sockaddr_ll ll{};
  ll.sll_family = AF_PACKET;
  ll.sll_ifindex = hw.ifr_ifindex;
  if (::bind(p.out, reinterpret_cast<sockaddr*>(&ll), sizeof ll) != 0) return fail("bind");
  int one = 1;
  if (::setsockopt(p.out, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one) != 0)
    return fail("PACKET_QDISC_BYPASS");
  if (::ioctl(p.out, SIOCGIFHWADDR, &hw) != 0) return fail("SIOCGIFHWADDR " + p.ifname);
  std::memcpy(p.mac, hw.ifr_hwaddr.sa_data, sizeof p.mac);
  return true;
}

std::uint32_t percentile(std::vector<std::uint32_t>& v, double p) {
  if (v.empty()) return 0;
  auto k = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

} // namespace

int delay_line(const cli::parsed_args& args) {
  const long long delay_ms = std::atoll(args.value("delay-ms").value_or("0").c_str());
  if (delay_ms < 0 || delay_ms > 1000) {
    std::fprintf(stderr, "delay-line: --delay-ms must be 0..1000\n");
    return 2;
  }
  const auto delay = std::chrono::milliseconds(delay_ms);
  std::vector<port> ports;
  const std::string list = args.value("interfaces").value_or("");
  for (std::size_t at = 0; at < list.size();) {
    std::size_t comma = list.find(',', at);
    if (comma == std::string::npos) comma = list.size();
    if (comma > at) {
      port p;
      p.ifname = list.substr(at, comma - at);
      ports.push_back(std::move(p));
    }
    at = comma + 1;
  }
  if (ports.empty()) {
    std::fprintf(stderr, "delay-line: --interfaces IF[,IF...] missing\n");
    return 2;
  }
  struct sigaction sa {};
  sa.sa_handler = on_stop;
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);
  ::prctl(PR_SET_TIMERSLACK, 1UL); // wake up on time, not up to 50 µs later
  // netem would run in the kernel's timer softirq; the closest a process gets is a real-time
  // priority, so that compilers and the peers on the same cores do not hold frames back. The
  // loop sleeps in ppoll between frames, and the kernel's RT throttling bounds it anyway.
  sched_param sp{};
  sp.sched_priority = 10;
  const bool fifo = ::sched_setscheduler(0, SCHED_FIFO, &sp) == 0;
  for (auto& p : ports)
    if (!open_port(p)) return 1;
  std::printf("ready\n");
  std::fflush(stdout);

  std::vector<pollfd> fds;
  for (auto& p : ports)
    fds.push_back({p.tap, POLLIN, 0});
  std::vector<unsigned char> buf(65536 + 64);
  while (!stop_requested) {
    // Sleep until the next frame is due or a frame arrives.
    auto now = clock_type::now();
    std::optional<clock_type::time_point> next;
    for (auto& p : ports)
      if (!p.queue.empty() && (!next || p.queue.front().due < *next)) next = p.queue.front().due;
    timespec ts{};
    timespec* timeout = nullptr;
    if (next) {
      const auto wait = std::max(std::chrono::nanoseconds(0), *next - now);
      ts.tv_sec = static_cast<time_t>(wait.count() / 1'000'000'000);
      ts.tv_nsec = static_cast<long>(wait.count() % 1'000'000'000);
      timeout = &ts;
    }
    if (::ppoll(fds.data(), fds.size(), timeout, nullptr) < 0 && errno != EINTR) {
      std::perror("delay-line: ppoll");
      return 1;
    }
    now = clock_type::now();
    for (std::size_t i = 0; i < ports.size(); ++i) {
      if (!(fds[i].revents & POLLIN)) continue;
      port& p = ports[i];
      for (;;) {
        ssize_t n = ::read(p.tap, buf.data(), buf.size());
        if (n <= 0) break;
        // Only what IF sent (its source address): nothing the tap itself might emit.
        if (n < 14 || std::memcmp(buf.data() + 6, p.mac, 6) != 0) continue;
        if (p.queue.size() >= max_queued) {
          ++p.queue_full;
          continue;
        }
        p.queue.push_back(
            frame{now + delay, std::vector<unsigned char>(buf.data(), buf.data() + n)});
      }
    }
    now = clock_type::now();
    for (auto& p : ports) {
      while (!p.queue.empty() && p.queue.front().due <= now) {
        const frame& f = p.queue.front();
        // ENETDOWN while the bench has the link down: the frame is lost, as on the wire.
        if (::send(p.out, f.bytes.data(), f.bytes.size(), 0) < 0)
          ++p.send_failed;
        else
          ++p.forwarded;
        if (p.late_us.size() < max_samples)
          p.late_us.push_back(static_cast<std::uint32_t>(
              std::chrono::duration_cast<std::chrono::microseconds>(now - f.due).count()));
        p.queue.pop_front();
      }
    }
  }
  for (auto& p : ports) {
    const auto p50 = percentile(p.late_us, 50), p99 = percentile(p.late_us, 99);
    const auto max = p.late_us.empty() ? 0 : *std::max_element(p.late_us.begin(), p.late_us.end());
    const auto over_5ms = std::count_if(p.late_us.begin(), p.late_us.end(),
                                        [](std::uint32_t us) { return us > 5000; });
    std::printf("stats %s forwarded %llu send_failed %llu queue_full %llu late_us_p50 %u "
                "late_us_p99 %u late_us_max %u late_over_5ms %lld sched %s\n",
                p.ifname.c_str(), static_cast<unsigned long long>(p.forwarded),
                static_cast<unsigned long long>(p.send_failed),
                static_cast<unsigned long long>(p.queue_full), p50, p99, max,
                static_cast<long long>(over_5ms), fifo ? "fifo" : "other");
  }
  std::fflush(stdout);
  return 0;
}

} // namespace lanyard::bench
