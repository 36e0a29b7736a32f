// lanyard-bench failover: the delivery gap when the active link fails — the time between the
// last message that arrived before the failure and the first one after it, at the receiver —
// for two failure kinds: the link goes down (the phone's wlan0, as when Wi-Fi drops), and the
// link is silently blackholed (nftables, link still up: a radio asleep, an AP gone bad).
//
// Contenders, in the same lab and topology (phone and accessory joined by wlan0 and p2p0):
//   - mptcp: kernel Multipath TCP, the client's wlan0 subflow active and a backup subflow over
//     p2p0 (`ip mptcp endpoint ... subflow backup`), 16-byte messages every 2 ms;
//   - lanyard: the channel's handover to p2p0 — not measurable yet: the channel does not race
//     or move between paths (issue 6). Until it does, this benchmark reports the MPTCP
//     baseline only, and says so in its output (`"lanyard": null`).
//
// Builds and removes its own lab (re-runs itself under tests/lab/run-in-lab) unless already in
// one. The peers are this same binary with --peer (see failover_peer.cpp).
#include "bench.hpp"
#include "failover_peer.hpp"
#include "lab_process.hpp"

#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace lanyard::bench {
namespace {

constexpr int port = 5555;

struct scenario {
  const char* name;    // JSON key
  const char* fail;    // lab.sh command that breaks the active link
  const char* restore; // and the one that repairs it
};
constexpr scenario scenarios[] = {
    {"link_down", "link-down", "link-up"},
    {"blackhole", "blackhole", "unblackhole"},
};

std::string self_path() {
  char buf[4096] = {};
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

bool lab_sh(const lab_env& lab, std::vector<std::string> args) {
  std::vector<std::string> cmd = {"env", "LAB_ID=" + lab.id, "LAB_DIR=" + lab.dir, "bash",
                                  LANYARD_SOURCE_DIR "/tests/lab/lab.sh"};
  cmd.insert(cmd.end(), args.begin(), args.end());
  return run_command(std::move(cmd));
}

bool ip_on(const lab_env& lab, const std::string& host, std::vector<std::string> args) {
  std::vector<std::string> cmd = {"ip", "-n", lab.id + "-" + host};
  cmd.insert(cmd.end(), args.begin(), args.end());
  return run_command(std::move(cmd));
}

// MPTCP path management: up to two subflows; the phone opens a backup subflow from its p2p0
// address (so wlan0 carries the traffic while it works).
bool configure_mptcp(const lab_env& lab) {
  for (const char* h : {"phone", "accessory"})
    if (!ip_on(lab, h, {"mptcp", "limits", "set", "subflows", "2", "add_addr_accepted", "2"}))
      return false;
  ip_on(lab, "phone", {"mptcp", "endpoint", "flush"});
  return ip_on(lab, "phone",
               {"mptcp", "endpoint", "add", "198.18.2.2", "dev", "p2p0", "subflow", "backup"});
}

// One MPTCP run of `sc`: the gap in ms, or a negative value (and `why`) on failure.
double run_mptcp(const lab_env& lab, const scenario& sc, int i, std::string& why) {
  const std::string self = self_path();
  const std::string tag = std::string(sc.name) + "-" + std::to_string(i);
  const std::string srv_log = lab.dir + "/failover-mptcp-server-" + tag + ".log";
  const std::string cli_log = lab.dir + "/failover-mptcp-client-" + tag + ".log";
  pid_t srv = spawn_on(lab, "accessory",
                       {self, "failover", "--peer", "mptcp-server", "--port", std::to_string(port)},
                       srv_log);
  follower sf(srv_log), cf(cli_log);
  double gap = -1;
  pid_t cli = -1;
  auto fail = [&](std::string w) {
    why = std::move(w) + " (logs: " + srv_log + ", " + cli_log + ")";
  };
  if (!sf.wait([](const std::string& l) { return has(l, "listening"); }, std::chrono::seconds(5))) {
    fail("the MPTCP server peer did not start");
  } else {
    cli = spawn_on(lab, "phone",
                   {self, "failover", "--peer", "mptcp-client", "--connect",
                    "198.18.1.3:" + std::to_string(port)},
                   cli_log);
    // Failing the link before the backup subflow exists would measure nothing useful.
    if (!cf.wait([](const std::string& l) { return has(l, "subflows 1"); },
                 std::chrono::seconds(5))) {
      fail("MPTCP did not establish the backup subflow over p2p0");
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      const auto cut = clock_type::now();
      lab_sh(lab, {sc.fail, "phone", "wlan0"});
      // Only a gap that ends after the failure is the failover (a busy machine can pause the
      // stream for 50 ms on its own).
      auto after_cut = [&](const std::string& l) {
        long long end = 0;
        return std::sscanf(l.c_str(), "gap %*f end %lld", &end) == 1 &&
               end > cut.time_since_epoch().count();
      };
      if (sf.wait(after_cut, std::chrono::seconds(30))) {
        gap = std::strtod(sf.last_line().c_str() + 4, nullptr);
      } else {
        fail("no message arrived within 30 s after the failure");
      }
      lab_sh(lab, {sc.restore, "phone", "wlan0"});
    }
  }
  stop(cli, SIGTERM);
  stop(srv, SIGTERM);
  return gap;
}

int reexec_in_lab(int runs) {
  // The lab comes and goes with this process: run-in-lab tears it down on any exit.
  const std::string timeout = std::to_string(60 + runs * 2 * 40);
  std::vector<std::string> argv = {"env",
                                   "LANYARD_LAB_TIMEOUT=" + timeout,
                                   LANYARD_SOURCE_DIR "/tests/lab/run-in-lab",
                                   self_path(),
                                   "failover",
                                   "--runs",
                                   std::to_string(runs),
                                   "--json"};
  std::vector<char*> raw;
  for (auto& a : argv)
    raw.push_back(a.data());
  raw.push_back(nullptr);
  ::execvp("env", raw.data());
  std::perror("lanyard-bench failover: cannot run tests/lab/run-in-lab");
  return 2;
}

int run(const cli::parsed_args& args, cli::json_writer& out, std::vector<std::string>& lines) {
  if (auto peer = args.value("peer")) return run_failover_peer(*peer, args);
  std::string error;
  long long runs = 10;
  if (auto v = args.value("runs")) {
    auto n = cli::parse_integer(*v, 1, 1000, "--runs", error);
    if (!n) {
      std::fprintf(stderr, "lanyard-bench failover: %s\n", error.c_str());
      return 2;
    }
    runs = *n;
  }
  auto lab = lab_from_environment();
  if (!lab) {
    // Only --json output makes sense through the re-exec (the human lines would interleave
    // with run-in-lab's); the inner run prints the JSON object.
    return reexec_in_lab(static_cast<int>(runs));
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (!configure_mptcp(*lab)) {
    std::fprintf(stderr, "lanyard-bench failover: cannot configure MPTCP endpoints in the lab "
                         "(needs a kernel with MPTCP and `ip mptcp` from iproute2)\n");
    return 1;
  }

  out.begin_object();
  int failures = 0;
  for (const auto& sc : scenarios) {
    std::vector<double> gaps;
    for (int i = 0; i < runs; ++i) {
      std::string why;
      double g = run_mptcp(*lab, sc, i, why);
      if (g < 0) {
        ++failures;
        std::fprintf(stderr, "lanyard-bench failover: %s run %d: %s\n", sc.name, i, why.c_str());
      } else {
        gaps.push_back(g);
      }
    }
    auto s = summarize(gaps);
    out.key(sc.name).begin_object();
    out.key("lanyard").null();
    out.key("mptcp").begin_object();
    out.key("median_ms").value(s.median);
    out.key("p95_ms").value(s.p95);
    out.key("runs").value(static_cast<std::uint64_t>(s.runs));
    out.end_object();
    out.end_object();
    char buf[200];
    std::snprintf(buf, sizeof buf, "%-9s mptcp median %.1f ms p95 %.1f ms (%zu runs)", sc.name,
                  s.median, s.p95, s.runs);
    lines.emplace_back(buf);
  }
  out.key("link_down_ratio_vs_mptcp").null();
  out.key("lanyard_contender").value("not measurable yet: the channel has no handover (issue 6)");
  out.key("failed_runs").value(failures);
  out.end_object();
  lines.emplace_back("lanyard: not measurable yet (the channel has no handover)");
  return 0;
}

const benchmark bench_failover{
    "failover",
    "delivery gap on link down and blackhole: Lanyard handover vs kernel MPTCP (own lab)",
    "usage: lanyard-bench failover [--runs N] [--json]\n"
    "  Builds its own lab (tests/lab/run-in-lab) with phone and accessory joined by wlan0 and\n"
    "  p2p0, streams 16-byte messages every 2 ms from phone to accessory and fails the phone's\n"
    "  wlan0 (link down, then nftables blackhole); the gap is last message before -> first\n"
    "  after, at the receiver. Baseline: kernel MPTCP with a backup subflow over p2p0.\n"
    "  --runs N   runs per scenario and contender (default 10)\n",
    cli::arg_spec{{{"runs", true}, {"peer", true}, {"port", true}, {"connect", true}}, 0, 0},
    &run,
};
benchmark_registrar reg{bench_failover};

} // namespace
} // namespace lanyard::bench
