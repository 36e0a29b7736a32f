// lanyard-bench failover: the delivery gap when the active link fails — the time between the
// last message that arrived before the failure and the first one after it, at the receiver —
// for two failure kinds: the link goes down (the phone's wlan0, as when Wi-Fi drops), and the
// link is silently blackholed (nftables, link still up: a radio asleep, an AP gone bad).
//
// Contenders, in the same lab and topology (phone and accessory joined by wlan0 and p2p0):
//   - mptcp: kernel Multipath TCP, the client's wlan0 subflow active and a backup subflow over
//     p2p0 (`ip mptcp endpoint ... subflow backup`), 16-byte messages every 2 ms;
//   - lanyard: the channel's handover (client_channel started by id with static paths on wlan0
//     and p2p0, keep-alive 100 ms / peer timeout 400 ms), the same 16-byte messages every 2 ms.
//
// Builds and removes its own lab (re-runs itself under tests/lab/run-in-lab) unless already in
// one. The peers are this same binary with --peer (see failover_peer.cpp).
#include "bench.hpp"
#include "failover_peer.hpp"
#include "lab_process.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
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

// A contender: how to start its two peers and what its client prints once the active path
// is wlan0 (with MPTCP: once the backup subflow exists too, or failing wlan0 would measure
// nothing useful).
struct contender {
  const char* name;
  std::vector<std::string> server_args, client_args;
  const char* ready_line;
  const char* not_ready; // why, if the client never got ready
};

// One run of `sc` for `c`: the gap in ms, or a negative value (and `why`) on failure.
double run_once(const lab_env& lab, const contender& c, const scenario& sc, int i,
                std::string& why) {
  const std::string self = self_path();
  const std::string tag = std::string(c.name) + "-" + sc.name + "-" + std::to_string(i);
  const std::string srv_log = lab.dir + "/failover-server-" + tag + ".log";
  const std::string cli_log = lab.dir + "/failover-client-" + tag + ".log";
  std::vector<std::string> srv_cmd = {self, "failover"}, cli_cmd = {self, "failover"};
  srv_cmd.insert(srv_cmd.end(), c.server_args.begin(), c.server_args.end());
  cli_cmd.insert(cli_cmd.end(), c.client_args.begin(), c.client_args.end());
  pid_t srv = spawn_on(lab, "accessory", srv_cmd, srv_log);
  follower sf(srv_log), cf(cli_log);
  double gap = -1;
  pid_t cli = -1;
  auto fail = [&](std::string w) {
    why = std::move(w) + " (logs: " + srv_log + ", " + cli_log + ")";
  };
  if (!sf.wait([](const std::string& l) { return has(l, "listening"); }, std::chrono::seconds(5))) {
    fail("the server peer did not start");
  } else {
    cli = spawn_on(lab, "phone", cli_cmd, cli_log);
    if (!cf.wait([&](const std::string& l) { return has(l, c.ready_line); },
                 std::chrono::seconds(10))) {
      fail(c.not_ready);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      const auto cut = clock_type::now();
      lab_sh(lab, {sc.fail, "phone", "wlan0"});
      // The failover gap is the longest pause in arrivals that starts when the failure takes
      // effect (within 2 s of the command). The servers report every pause over 3 ms and a
      // heartbeat every 500 ms of delivery; once a heartbeat shows delivery going on 2.5 s
      // after the failure, the pauses are all in.
      const long long cut_ns = cut.time_since_epoch().count();
      auto resumed = [&](const std::string& l) {
        long long t = 0;
        return std::sscanf(l.c_str(), "alive %lld", &t) == 1 && t > cut_ns + 2'500'000'000LL;
      };
      if (sf.wait(resumed, std::chrono::seconds(30))) {
        gap = 3.0; // no pause over the reporting threshold: the gap is at most 3 ms
        std::ifstream in(srv_log);
        for (std::string l; std::getline(in, l);) {
          double ms = 0;
          long long end = 0;
          if (std::sscanf(l.c_str(), "gap %lf end %lld", &ms, &end) != 2) continue;
          const long long start = end - static_cast<long long>(ms * 1e6);
          if (end > cut_ns && start < cut_ns + 2'000'000'000LL) gap = std::max(gap, ms);
        }
      } else {
        fail("delivery did not resume within 30 s of the failure");
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

  const std::string peers = lab->dir + "/failover-peers";
  if (!prepare_lanyard_peers(peers, error)) {
    std::fprintf(stderr, "lanyard-bench failover: preparing identities: %s\n", error.c_str());
    return 1;
  }
  const contender contenders[] = {
      {"lanyard",
       {"--peer", "lanyard-server", "--dir", peers, "--port", "5556"},
       {"--peer", "lanyard-client", "--dir", peers, "--port", "5556"},
       "path wlan0",
       "the Lanyard channel did not come up on wlan0"},
      {"mptcp",
       {"--peer", "mptcp-server", "--port", std::to_string(port)},
       {"--peer", "mptcp-client", "--connect", "198.18.1.3:" + std::to_string(port)},
       "subflows 1",
       "MPTCP did not establish the backup subflow over p2p0"},
  };

  out.begin_object();
  int failures = 0;
  for (const auto& sc : scenarios) {
    std::vector<double> gaps[2];
    for (int i = 0; i < runs; ++i) {
      for (int k = 0; k < 2; ++k) {
        const int c = (i + k) % 2; // alternate who goes first
        std::string why;
        double g = run_once(*lab, contenders[c], sc, i, why);
        if (g < 0) {
          ++failures;
          std::fprintf(stderr, "lanyard-bench failover: %s %s run %d: %s\n", contenders[c].name,
                       sc.name, i, why.c_str());
        } else {
          gaps[c].push_back(g);
        }
      }
    }
    out.key(sc.name).begin_object();
    summary s[2];
    for (int c = 0; c < 2; ++c) {
      s[c] = summarize(gaps[c]);
      out.key(contenders[c].name).begin_object();
      out.key("median_ms").value(s[c].median);
      out.key("p95_ms").value(s[c].p95);
      out.key("runs").value(static_cast<std::uint64_t>(s[c].runs));
      out.end_object();
    }
    out.end_object();
    const double ratio = s[1].median > 0 ? s[0].median / s[1].median : 0;
    out.key(std::string(sc.name) + "_ratio_vs_mptcp").value(ratio);
    char buf[240];
    std::snprintf(buf, sizeof buf,
                  "%-9s lanyard median %.1f ms p95 %.1f ms | mptcp median %.1f ms p95 %.1f ms | "
                  "ratio %.3f",
                  sc.name, s[0].median, s[0].p95, s[1].median, s[1].p95, ratio);
    lines.emplace_back(buf);
  }
  out.key("lanyard_keepalive_ms").value(100);
  out.key("lanyard_peer_timeout_ms").value(400);
  out.key("failed_runs").value(failures);
  out.end_object();
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
    cli::arg_spec{
        {{"runs", true}, {"peer", true}, {"port", true}, {"connect", true}, {"dir", true}}, 0, 0},
    &run,
};
benchmark_registrar reg{bench_failover};

} // namespace
} // namespace lanyard::bench
