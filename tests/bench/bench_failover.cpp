// lanyard-bench failover: how long the message stream stalls when the active link fails, for
// two failure kinds: the link goes down (the phone's wlan0, as when Wi-Fi drops), and the link
// is silently blackholed (nftables, link still up: a radio asleep, an AP gone bad).
//
// Contenders, in the same lab and topology (phone and accessory joined by wlan0 and p2p0), each
// at its defaults and tuned for fast detection of a silent link, with the same detection budget
// B for both tuned ones (--budget-ms, default 400):
//   - lanyard-default: the channel's handover (client_channel started by id with static paths on
//     wlan0 and p2p0) with core::session_settings{} as they are (keep-alive, peer timeout and,
//     through the peer timeout, TCP_USER_TIMEOUT), read from the struct, never copied here;
//   - lanyard-tuned: the same with a peer timeout of B and a keep-alive every B/4;
//   - mptcp-default: kernel Multipath TCP, the client's wlan0 subflow active and a backup subflow
//     over p2p0 (`ip mptcp endpoint ... subflow backup`), the kernel's default timers;
//   - mptcp-tuned: the same backup subflow (a plain one measured slower and erratic here; see
//     make_contenders()), with the knob that decides when MPTCP stops using a silent subflow
//     set to the budget, net.mptcp.stale_loss_cnt = B / 200 ms, inside the lab's namespaces only
//     and only during its runs, plus TCP_USER_TIMEOUT = B on the socket where the kernel takes
//     it (Linux 6.18 refuses it on MPTCP sockets). The knobs left alone (tcp_rto_min_us,
//     tcp_retries2, the scheduler) and why are in make_contenders() and in the JSON.
// Every contender streams 16-byte messages every 2 ms from phone to accessory.
//
// Figures, per run, at the receiver: the stall (the longest a message due around the failure
// took from its due time on the sender's 2 ms schedule to its arrival, link delay included, so
// a sender held up by its own transport is charged too) and the gap (the longest pause in arrivals
// that starts when the failure takes effect; pauses under 3 ms are not reported, so a gap of at
// most 3 ms shows as 3). The goals use the stall: the gap alone flatters a transport that
// trickles a little data through before it recovers (MPTCP re-sends one chunk per timer period
// on the backup before it marks the subflow stale), and it misses the messages that were lost
// in flight on the dead link and only arrive after the resume.
//
// Link delay (--delay-ms, default "0,20"): netem is not in this kernel, and neither are the fq
// and etf qdiscs that would honour an earliest-departure time set by a BPF program, so a delay
// line (failover_delay_line.cpp: tc mirred redirect to a tap, a userspace FIFO, out through a
// packet socket) delays every frame that the phone and the accessory send on wlan0 and p2p0 by
// D ms: a round trip takes 2D on both paths, measured with ping before the runs and reported.
// A delay that cannot be set up counts its runs as failed.
//
// Failed runs are counted per contender, scenario and delay (`failed_runs`), each printed on
// stderr with its reason; the figures are medians over the successful runs, with their count,
// and the exit status is 1 if any run failed. Missed goals are reported, not errors.
//
// Builds and removes its own lab (re-runs itself under tests/lab/run-in-lab) unless already in
// one. The peers are this same binary with --peer (failover_peer.cpp).
#include "bench.hpp"
#include "failover_peer.hpp"
#include "lab_process.hpp"

#include <lanyard/core/session_settings.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace lanyard::bench {
namespace {

using ms = std::chrono::milliseconds;

constexpr int mptcp_port = 5555;
constexpr int lanyard_port = 5556;
// Pauses that start up to this long after the failure command count; delivery must go on past
// it before a run's figures are read.
constexpr auto observe_window = std::chrono::milliseconds(1500);
// MPTCP's own retransmission timer, whose periods without progress count towards
// net.mptcp.stale_loss_cnt, is re-armed at TCP_RTO_MIN (200 ms, a compile-time constant in
// net/mptcp/protocol.c, not the tcp_rto_min_us sysctl) once a subflow has missed one period.
constexpr auto mptcp_timer_step = std::chrono::milliseconds(200);

struct scenario {
  const char* name;    // JSON value
  const char* fail;    // lab.sh command that breaks the active link
  const char* restore; // and the one that repairs it
};
constexpr scenario all_scenarios[] = {
    {"link_down", "link-down", "link-up"},
    {"blackhole", "blackhole", "unblackhole"},
};

// A sysctl set in both lab hosts' namespaces for one contender's runs (and put back after).
struct knob {
  std::string key, value, why;
};

struct contender {
  std::string name;
  bool lanyard = false;
  // Lanyard: nullopt = core::session_settings{} untouched (the library's defaults).
  std::optional<ms> keepalive, peer_timeout;
  // MPTCP.
  bool backup = true;
  std::vector<knob> sysctls;
  std::optional<ms> user_timeout;
  // When it gives up on a silent link, from its settings, and how that follows.
  ms budget{0};
  std::string budget_how;
  std::vector<std::string> notes;  // knobs that do not reach the budget, and why
  std::string user_timeout_status; // what the MPTCP client reported for TCP_USER_TIMEOUT
};

// Kernel defaults read from the lab (nominal values before the lab exists).
struct kernel_defaults {
  long long stale_loss_cnt = 4;
  long long rto_min_us = 200000;
  std::string schedulers = "default";
};

const char* const all_contender_names[] = {"lanyard-default", "lanyard-tuned", "mptcp-default",
                                           "mptcp-tuned"};

std::string fmt(const char* f, double a) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, a);
  return buf;
}

std::vector<contender> make_contenders(ms budget, const kernel_defaults& k,
                                       const std::vector<std::string>& sysctl_override,
                                       bool tuned_plain) {
  std::vector<contender> out;
  const core::session_settings lib{};
  {
    contender c;
    c.name = "lanyard-default";
    c.lanyard = true;
    c.budget = lib.peer_timeout;
    c.budget_how = "peer timeout of core::session_settings{} (keep-alive every " +
                   std::to_string(lib.keepalive_interval.count()) +
                   " ms; TCP_USER_TIMEOUT = peer timeout)";
    out.push_back(std::move(c));
  }
  {
    contender c;
    c.name = "lanyard-tuned";
    c.lanyard = true;
    c.peer_timeout = budget;
    c.keepalive = budget / 4;
    c.budget = budget;
    c.budget_how = "peer timeout = budget, keep-alive every budget/4 (TCP_USER_TIMEOUT = peer "
                   "timeout, the library's default)";
    out.push_back(std::move(c));
  }
  const ms rto_min_default = ms(k.rto_min_us / 1000);
  {
    contender c;
    c.name = "mptcp-default";
    c.backup = true;
    c.budget = rto_min_default + k.stale_loss_cnt * mptcp_timer_step;
    c.budget_how = "about the first RTO (>= tcp_rto_min " +
                   std::to_string(rto_min_default.count()) + " ms) + stale_loss_cnt " +
                   std::to_string(k.stale_loss_cnt) +
                   " x 200 ms (MPTCP's retransmission timer) before the subflow is marked stale "
                   "and the backup takes over";
    out.push_back(std::move(c));
  }
  {
    contender c;
    c.name = "mptcp-tuned";
    // The p2p0 subflow keeps the backup flag: measured here (Linux 6.18, stale_loss_cnt 1, 2 and
    // 4), a plain subflow made MPTCP slower and erratic, 5 ms to 1.3 s, because the scheduler
    // spreads the stream over both subflows, and a subflow is only marked stale while the other
    // one shows no loss at the same timer tick (pm.c: mptcp_pm_nl_subflow_chk_stale), so the
    // data stuck on wlan0 waits. --mptcp-tuned-subflow plain measures that variant.
    c.backup = !tuned_plain;
    c.user_timeout = budget;
    if (!sysctl_override.empty()) {
      for (const auto& kv : sysctl_override) {
        const auto eq = kv.find('=');
        c.sysctls.push_back({kv.substr(0, eq), kv.substr(eq + 1), "given with --mptcp-sysctl"});
      }
      c.budget = budget;
      c.budget_how = "knobs given with --mptcp-sysctl (budget as given with --budget-ms)";
    } else {
      // MPTCP stops using a silent subflow (marks it stale and re-injects its data on the
      // backup) after stale_loss_cnt periods of its own retransmission timer without progress
      // (pm.c: mptcp_pm_subflow_chk_stale). The timer first fires at the subflow's RTO (>=
      // tcp_rto_min, 200 ms), then every TCP_RTO_MIN (200 ms, a compile-time constant): the
      // budget moves in 200 ms steps, stale_loss_cnt = budget / 200 ms, at least 1 (0 turns the
      // detection off). Measured here with 2: 230-550 ms depending on the RTT (0-20 ms delay).
      const long long steps = std::max<long long>(1, budget / mptcp_timer_step);
      if (budget < mptcp_timer_step)
        c.notes.push_back("budget " + std::to_string(budget.count()) +
                          " ms is below what MPTCP can reach with its timers at their defaults: "
                          "one 200 ms period of its retransmission timer");
      else if (budget % mptcp_timer_step != ms(0))
        c.notes.push_back("MPTCP's budget moves in 200 ms steps (periods of its retransmission "
                          "timer): " +
                          std::to_string(budget.count()) + " ms becomes " +
                          std::to_string((steps * mptcp_timer_step).count()) + " ms");
      c.sysctls.push_back(
          {"net.mptcp.stale_loss_cnt", std::to_string(steps),
           "retransmission-timer periods (>= 200 ms) without progress before MPTCP marks a "
           "subflow stale and moves its data to the backup (default " +
               std::to_string(k.stale_loss_cnt) + "): budget / 200 ms"});
      c.budget = steps * mptcp_timer_step;
      c.budget_how = "stale_loss_cnt " + std::to_string(steps) +
                     " periods of MPTCP's retransmission timer (the subflow's RTO >= 200 ms, "
                     "then 200 ms each); then the backup subflow takes over";
      // Not set, measured: a lower RTO floor shortens MPTCP's silence tolerance to a few RTOs
      // that follow the RTT, i.e. another, shorter budget than Lanyard's.
      c.notes.push_back(
          "net.ipv4.tcp_rto_min_us left at its default (" + std::to_string(k.rto_min_us) +
          " us): at 10 ms, with stale_loss_cnt 2, a blackhole stalled MPTCP 365 ms at 0 ms "
          "delay, 50 ms at 5 ms and 240 ms at 20 ms, a silence tolerance of a few RTOs that "
          "follows the RTT, well under the budget: not the same budget. Try it with "
          "--mptcp-sysctl net.mptcp.stale_loss_cnt=2 --mptcp-sysctl "
          "net.ipv4.tcp_rto_min_us=10000");
    }
    c.notes.push_back("net.mptcp.scheduler: only '" + k.schedulers +
                      "' is available in this kernel (net.mptcp.available_schedulers)");
    c.notes.push_back("net.ipv4.tcp_retries2 left at its default: 0 closes the silent subflow at "
                      "the first RTO firing 200 ms after its first retransmission (measured "
                      "~370 ms with tcp_rto_min 10 ms and stale_loss_cnt 4), no earlier than the "
                      "stale detection, and it would apply to every TCP connection of the host");
    c.notes.push_back("link down: the in-kernel path manager does not watch links (a userspace "
                      "one such as mptcpd would); MPTCP notices a downed link as it notices "
                      "silence");
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<std::string> words(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string w; in >> w;)
    out.push_back(w);
  return out;
}

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

std::string ns_of(const lab_env& lab, const std::string& host) {
  return lab.id + "-" + host;
}

bool ip_on(const lab_env& lab, const std::string& host, std::vector<std::string> args) {
  std::vector<std::string> cmd = {"ip", "-n", ns_of(lab, host)};
  cmd.insert(cmd.end(), args.begin(), args.end());
  return run_command(std::move(cmd));
}

bool tc_on(const lab_env& lab, const std::string& host, std::vector<std::string> args) {
  std::vector<std::string> cmd = {"tc", "-n", ns_of(lab, host)};
  cmd.insert(cmd.end(), args.begin(), args.end());
  return run_command(std::move(cmd));
}

std::optional<std::string> sysctl_get(const lab_env& lab, const std::string& host,
                                      const std::string& key) {
  auto v = command_output({"ip", "netns", "exec", ns_of(lab, host), "sysctl", "-n", key});
  if (v)
    while (!v->empty() && (v->back() == '\n' || v->back() == ' '))
      v->pop_back();
  return v;
}

bool sysctl_set(const lab_env& lab, const std::string& host, const std::string& key,
                const std::string& value) {
  return run_command(
      {"ip", "netns", "exec", ns_of(lab, host), "sysctl", "-q", "-w", key + "=" + value});
}

// The sysctls of all contenders, each at its lab default unless the running contender sets it.
class sysctl_state {
public:
  bool init(const lab_env& lab, const std::vector<contender>& cs, std::string& error) {
    for (const auto& c : cs)
      for (const auto& k : c.sysctls) {
        if (defaults_.count(k.key)) continue;
        auto v = sysctl_get(lab, "phone", k.key);
        if (!v) return error = "cannot read " + k.key + " in the lab", false;
        defaults_[k.key] = current_[k.key] = *v;
      }
    return true;
  }
  bool apply(const lab_env& lab, const contender& c) {
    for (const auto& [key, def] : defaults_) {
      std::string want = def;
      for (const auto& k : c.sysctls)
        if (k.key == key) want = k.value;
      if (current_[key] == want) continue;
      for (const char* h : {"phone", "accessory"})
        if (!sysctl_set(lab, h, key, want)) return false;
      current_[key] = want;
    }
    return true;
  }
  const std::string& default_of(const std::string& key) { return defaults_[key]; }

private:
  std::map<std::string, std::string> defaults_, current_;
};

// MPTCP path management: up to two subflows; the phone opens a second subflow from its p2p0
// address, a backup one (used once wlan0's is stale) or a plain one (both carry traffic).
bool configure_mptcp_limits(const lab_env& lab) {
  for (const char* h : {"phone", "accessory"})
    if (!ip_on(lab, h, {"mptcp", "limits", "set", "subflows", "2", "add_addr_accepted", "2"}))
      return false;
  return true;
}

bool configure_mptcp_endpoint(const lab_env& lab, bool backup) {
  ip_on(lab, "phone", {"mptcp", "endpoint", "flush"});
  std::vector<std::string> a = {"mptcp", "endpoint", "add", "198.18.2.2", "dev", "p2p0", "subflow"};
  if (backup) a.push_back("backup");
  return ip_on(lab, "phone", a);
}

// --- link delay ------------------------------------------------------------------------------

constexpr const char* delayed_ifs[] = {"wlan0", "p2p0"};
constexpr const char* delay_hosts[] = {"phone", "accessory"};

struct path_rtt {
  const char* ifc;
  const char* to;
  double min_ms = -1, avg_ms = -1;
};

struct delay_setup {
  int delay_ms = 0;
  bool available = true;
  std::string why;
  std::vector<path_rtt> rtt = {{"wlan0", "198.18.1.3"}, {"p2p0", "198.18.2.3"}};
  pid_t lines[2] = {-1, -1};
  std::string logs[2];
  struct line_stats {
    std::string host;
    char ifc[16] = {};
    unsigned long long forwarded = 0, send_failed = 0, queue_full = 0;
    unsigned late_p50 = 0, late_p99 = 0, late_max = 0;
    long long late_over_5ms = 0;
    char sched[8] = {};
  };
  std::vector<line_stats> stats; // the delay lines' own figures, after teardown
};

bool measure_rtt(const lab_env& lab, path_rtt& p) {
  auto out = command_output({"ip", "netns", "exec", ns_of(lab, "phone"), "ping", "-n", "-q", "-c",
                             "10", "-i", "0.05", "-W", "2", "-I", p.ifc, p.to});
  if (!out) return false;
  auto at = out->find("rtt min/avg/max/mdev = ");
  if (at == std::string::npos) return false;
  return std::sscanf(out->c_str() + at, "rtt min/avg/max/mdev = %lf/%lf", &p.min_ms, &p.avg_ms) ==
         2;
}

void remove_delay(const lab_env& lab, delay_setup& d) {
  for (const char* h : delay_hosts)
    for (const char* i : delayed_ifs)
      tc_on(lab, h, {"qdisc", "del", "dev", i, "clsact"}); // fails harmlessly when absent
  for (int k = 0; k < 2; ++k) {
    if (d.lines[k] <= 0) continue;
    stop(d.lines[k], SIGTERM);
    d.lines[k] = -1;
    std::ifstream in(d.logs[k]);
    for (std::string l; std::getline(in, l);) {
      delay_setup::line_stats st;
      st.host = delay_hosts[k];
      if (std::sscanf(l.c_str(),
                      "stats %15s forwarded %llu send_failed %llu queue_full %llu late_us_p50 %u "
                      "late_us_p99 %u late_us_max %u late_over_5ms %lld sched %7s",
                      st.ifc, &st.forwarded, &st.send_failed, &st.queue_full, &st.late_p50,
                      &st.late_p99, &st.late_max, &st.late_over_5ms, st.sched) == 9)
        d.stats.push_back(st);
    }
  }
}

// Starts the delay lines and redirects wlan0 and p2p0 of both hosts into them; checks the
// round trips. On failure everything set up is removed again and `why` says what went wrong.
bool install_delay(const lab_env& lab, delay_setup& d) {
  auto give_up = [&](std::string why) {
    d.available = false;
    d.why = std::move(why);
    remove_delay(lab, d);
    return false;
  };
  if (d.delay_ms > 0) {
    for (int k = 0; k < 2; ++k) {
      d.logs[k] =
          lab.dir + "/delay-line-" + delay_hosts[k] + "-" + std::to_string(d.delay_ms) + ".log";
      d.lines[k] = spawn_on(lab, delay_hosts[k],
                            {self_path(), "failover", "--peer", "delay-line", "--delay-ms",
                             std::to_string(d.delay_ms), "--interfaces", "wlan0,p2p0"},
                            d.logs[k]);
      follower f(d.logs[k]);
      if (d.lines[k] <= 0 ||
          !f.wait([](const std::string& l) { return has(l, "ready"); }, ms(5000)))
        return give_up(std::string("the delay line on ") + delay_hosts[k] +
                       " did not start (needs /dev/net/tun; log: " + d.logs[k] + ")");
    }
    for (const char* h : delay_hosts)
      for (const char* i : delayed_ifs) {
        if (!tc_on(lab, h, {"qdisc", "replace", "dev", i, "clsact"}))
          return give_up(std::string("tc clsact on ") + h + " " + i + " failed");
        // Everything IF sends (match-all u32) goes to the delay line's tap instead.
        if (!tc_on(lab, h,
                   words("filter replace dev " + std::string(i) +
                         " egress pref 1 protocol all u32 match u32 0 0 action mirred egress "
                         "redirect dev dly-" +
                         i)))
          return give_up(std::string("tc u32/mirred redirect on ") + h + " " + i +
                         " failed (needs cls_u32 and act_mirred)");
      }
  }
  const double want = 2.0 * d.delay_ms;
  for (auto& p : d.rtt) {
    if (!measure_rtt(lab, p))
      return give_up(std::string("ping over ") + p.ifc + " to " + p.to + " failed");
    // Each direction is held at least D ms; a few ms over is the delay line's jitter.
    if (p.min_ms < want - 0.5 || p.min_ms > want + std::max(5.0, 0.1 * want))
      return give_up(std::string("round trip over ") + p.ifc + " is " + fmt("%.2f", p.min_ms) +
                     " ms, not the expected " + fmt("%.0f", want) + " ms");
  }
  return true;
}

// --- one run -----------------------------------------------------------------------------------

struct run_result {
  bool ok = false;
  double gap_ms = 0, stall_ms = 0;
  std::string why;
};

std::vector<std::string> server_args(const contender& c, const std::string& peers, double late_ms) {
  std::vector<std::string> a;
  if (c.lanyard)
    a = {"--peer", "lanyard-server", "--dir", peers, "--port", std::to_string(lanyard_port)};
  else
    a = {"--peer", "mptcp-server", "--port", std::to_string(mptcp_port)};
  a.insert(a.end(), {"--late-ms", fmt("%.1f", late_ms)});
  // Both ends of the Lanyard channel run the same session settings.
  if (c.keepalive) a.insert(a.end(), {"--keepalive-ms", std::to_string(c.keepalive->count())});
  if (c.peer_timeout)
    a.insert(a.end(), {"--peer-timeout-ms", std::to_string(c.peer_timeout->count())});
  return a;
}

std::vector<std::string> client_args(const contender& c, const std::string& peers) {
  std::vector<std::string> a;
  if (c.lanyard) {
    a = {"--peer", "lanyard-client", "--dir", peers, "--port", std::to_string(lanyard_port)};
  } else {
    a = {"--peer", "mptcp-client", "--connect", "198.18.1.3:" + std::to_string(mptcp_port)};
    if (c.user_timeout)
      a.insert(a.end(), {"--user-timeout-ms", std::to_string(c.user_timeout->count())});
  }
  if (c.keepalive) a.insert(a.end(), {"--keepalive-ms", std::to_string(c.keepalive->count())});
  if (c.peer_timeout)
    a.insert(a.end(), {"--peer-timeout-ms", std::to_string(c.peer_timeout->count())});
  return a;
}

// How long a run may wait for delivery to resume before it counts as failed.
ms resume_timeout(const contender& c) {
  return std::max(ms(30000), 2 * c.budget + ms(10000));
}

run_result run_once(const lab_env& lab, contender& c, const scenario& sc, int delay_ms, int i,
                    const std::string& peers) {
  run_result r;
  const std::string self = self_path();
  const std::string tag =
      c.name + "-" + sc.name + "-" + std::to_string(delay_ms) + "ms-" + std::to_string(i);
  const std::string srv_log = lab.dir + "/failover-server-" + tag + ".log";
  const std::string cli_log = lab.dir + "/failover-client-" + tag + ".log";
  auto fail = [&](std::string w) {
    r.why = std::move(w) + " (logs: " + srv_log + ", " + cli_log + ")";
  };
  std::vector<std::string> srv_cmd = {self, "failover"}, cli_cmd = {self, "failover"};
  for (auto& a : server_args(c, peers, delay_ms + 3.0))
    srv_cmd.push_back(a);
  for (auto& a : client_args(c, peers))
    cli_cmd.push_back(a);
  pid_t srv = spawn_on(lab, "accessory", srv_cmd, srv_log);
  follower sf(srv_log), cf(cli_log);
  pid_t cli = -1;
  if (!sf.wait([](const std::string& l) { return has(l, "listening"); }, ms(5000))) {
    fail("the server peer did not start");
  } else {
    cli = spawn_on(lab, "phone", cli_cmd, cli_log);
    const char* ready = c.lanyard ? "path wlan0" : "subflows 1";
    if (!cf.wait([&](const std::string& l) { return has(l, ready); }, ms(10000))) {
      fail(c.lanyard ? "the Lanyard channel did not come up on wlan0"
                     : "MPTCP did not establish the second subflow over p2p0");
    } else {
      std::this_thread::sleep_for(ms(300));
      const auto cut = clock_type::now();
      const long long cut_ns = cut.time_since_epoch().count();
      const long long window_ns = std::chrono::nanoseconds(observe_window).count();
      if (!lab_sh(lab, {sc.fail, "phone", "wlan0"})) {
        fail(std::string("lab.sh ") + sc.fail + " failed");
      } else {
        // The servers print a heartbeat every 250 ms of delivery: one after the window means
        // that every pause that started within it has ended, so it is in the log.
        auto resumed = [&](const std::string& l) {
          long long t = 0;
          return std::sscanf(l.c_str(), "alive %lld", &t) == 1 && t > cut_ns + window_ns;
        };
        if (sf.wait(resumed, resume_timeout(c))) {
          r.ok = true;
          r.gap_ms = 3.0;              // no pause over 3 ms
          r.stall_ms = delay_ms + 3.0; // no message over the late threshold
          std::ifstream in(srv_log);
          for (std::string l; std::getline(in, l);) {
            double v = 0;
            long long t = 0;
            if (std::sscanf(l.c_str(), "gap %lf end %lld", &v, &t) == 2) {
              const long long start = t - static_cast<long long>(v * 1e6);
              if (t > cut_ns && start < cut_ns + window_ns) r.gap_ms = std::max(r.gap_ms, v);
            } else if (std::sscanf(l.c_str(), "late %lf sent %lld", &v, &t) == 2) {
              if (t > cut_ns - 1'000'000'000LL && t < cut_ns + window_ns)
                r.stall_ms = std::max(r.stall_ms, v);
            }
          }
        } else {
          fail("delivery did not resume within " +
               std::to_string(resume_timeout(c).count() / 1000) + " s of the failure");
        }
      }
      lab_sh(lab, {sc.restore, "phone", "wlan0"});
    }
  }
  stop(cli, SIGTERM);
  stop(srv, SIGTERM);
  if (!c.lanyard && c.user_timeout && c.user_timeout_status.empty()) {
    std::ifstream in(cli_log);
    for (std::string l; std::getline(in, l);)
      if (l.rfind("knob TCP_USER_TIMEOUT ", 0) == 0) c.user_timeout_status = l.substr(22);
  }
  return r;
}

// --- options -----------------------------------------------------------------------------------

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

struct plan {
  long long runs = 4; // the full matrix takes 4-5 minutes
  ms budget{400};
  std::vector<std::string> contenders{std::begin(all_contender_names),
                                      std::end(all_contender_names)};
  std::vector<const scenario*> scenarios;
  std::vector<int> delays{0, 20};
  std::vector<std::string> sysctl_override;
  bool tuned_plain = false; // mptcp-tuned's p2p0 subflow without the backup flag
};

bool parse_plan(const cli::parsed_args& args, plan& p, std::string& error) {
  if (auto v = args.value("runs")) {
    auto n = cli::parse_integer(*v, 1, 1000, "--runs", error);
    if (!n) return false;
    p.runs = *n;
  }
  if (auto v = args.value("budget-ms")) {
    auto n = cli::parse_integer(*v, 50, 60000, "--budget-ms", error);
    if (!n) return false;
    p.budget = ms(*n);
  }
  if (auto v = args.value("contenders")) {
    p.contenders = split(*v);
    for (const auto& c : p.contenders)
      if (std::find(std::begin(all_contender_names), std::end(all_contender_names), c) ==
          std::end(all_contender_names))
        return error = "unknown contender '" + c +
                       "' (lanyard-default, lanyard-tuned, mptcp-default, mptcp-tuned)",
               false;
    if (p.contenders.empty()) return error = "--contenders: none given", false;
  }
  std::vector<std::string> sc = {"link_down", "blackhole"};
  if (auto v = args.value("scenarios")) sc = split(*v);
  for (const auto& name : sc) {
    const scenario* found = nullptr;
    for (const auto& s : all_scenarios)
      if (name == s.name) found = &s;
    if (!found) return error = "unknown scenario '" + name + "' (link_down, blackhole)", false;
    p.scenarios.push_back(found);
  }
  if (p.scenarios.empty()) return error = "--scenarios: none given", false;
  if (auto v = args.value("delay-ms")) {
    p.delays.clear();
    for (const auto& d : split(*v)) {
      auto n = cli::parse_integer(d, 0, 500, "--delay-ms", error);
      if (!n) return false;
      p.delays.push_back(static_cast<int>(*n));
    }
    if (p.delays.empty()) return error = "--delay-ms: none given", false;
  }
  if (auto v = args.value("mptcp-tuned-subflow")) {
    if (*v != "plain" && *v != "backup")
      return error = "--mptcp-tuned-subflow wants plain or backup", false;
    p.tuned_plain = *v == "plain";
  }
  for (const auto& kv : args.values("mptcp-sysctl")) {
    if (kv.find('=') == std::string::npos || kv.rfind("net.", 0) != 0)
      return error = "--mptcp-sysctl wants net.KEY=VALUE (got '" + kv + "')", false;
    p.sysctl_override.push_back(kv);
  }
  return true;
}

// An upper bound of the whole run, for run-in-lab's timeout (a safety net, not an estimate).
long long time_bound_s(const plan& p) {
  long long s = 120;
  for (const auto& c : make_contenders(p.budget, {}, p.sysctl_override, p.tuned_plain)) {
    if (std::find(p.contenders.begin(), p.contenders.end(), c.name) == p.contenders.end()) continue;
    s += static_cast<long long>(p.delays.size() * p.scenarios.size()) * p.runs *
         (40 + resume_timeout(c).count() / 1000);
  }
  return s + static_cast<long long>(p.delays.size()) * 30;
}

int reexec_in_lab(const cli::parsed_args& args, const plan& p) {
  // The lab comes and goes with this process: run-in-lab tears it down on any exit.
  std::vector<std::string> argv = {"env", "LANYARD_LAB_TIMEOUT=" + std::to_string(time_bound_s(p)),
                                   LANYARD_SOURCE_DIR "/tests/lab/run-in-lab", self_path(),
                                   "failover"};
  for (const auto& [name, value] : args.options) {
    if (name == "json") {
      argv.push_back("--" + name);
      continue;
    }
    argv.push_back("--" + name + "=" + value);
  }
  std::vector<char*> raw;
  for (auto& a : argv)
    raw.push_back(a.data());
  raw.push_back(nullptr);
  ::execvp("env", raw.data());
  std::perror("lanyard-bench failover: cannot run tests/lab/run-in-lab");
  return 2;
}

// --- results -----------------------------------------------------------------------------------

struct cell {
  std::vector<double> gaps, stalls;
  int failed = 0;
};

struct goal {
  std::string what;
  int delay_ms;
  double value, limit;
  bool met;
};

void write_contender(cli::json_writer& out, const contender& c, sysctl_state& sys) {
  out.key(c.name).begin_object();
  out.key("transport").value(c.lanyard ? "lanyard channel over TCP" : "kernel MPTCP");
  if (c.lanyard) {
    const core::session_settings lib{};
    out.key("settings")
        .value(c.peer_timeout ? "tuned: keep-alive and peer timeout set"
                              : "core::session_settings{} (library defaults)");
    out.key("keepalive_ms")
        .value(static_cast<std::int64_t>(c.keepalive.value_or(lib.keepalive_interval).count()));
    out.key("peer_timeout_ms")
        .value(static_cast<std::int64_t>(c.peer_timeout.value_or(lib.peer_timeout).count()));
  } else {
    out.key("endpoint")
        .value(std::string("ip mptcp endpoint add 198.18.2.2 dev p2p0 subflow") +
               (c.backup ? " backup" : ""));
    out.key("sysctls").begin_array();
    for (const auto& k : c.sysctls) {
      out.begin_object();
      out.key("key").value(k.key).key("value").value(k.value);
      out.key("default").value(sys.default_of(k.key));
      out.key("why").value(k.why);
      out.end_object();
    }
    out.end_array();
    out.key("socket_options").begin_array();
    if (c.user_timeout) {
      out.begin_object();
      out.key("name").value("TCP_USER_TIMEOUT");
      out.key("value_ms").value(static_cast<std::int64_t>(c.user_timeout->count()));
      out.key("applied").value(c.user_timeout_status == "ok");
      out.key("result").value(c.user_timeout_status.empty() ? "not tried (no run)"
                                                            : c.user_timeout_status);
      out.end_object();
    }
    out.end_array();
  }
  out.key("silent_link_budget_ms").value(static_cast<std::int64_t>(c.budget.count()));
  out.key("budget_how").value(c.budget_how);
  out.key("notes").begin_array();
  for (const auto& n : c.notes)
    out.value(n);
  if (c.user_timeout && !c.user_timeout_status.empty() && c.user_timeout_status != "ok")
    out.value(
        "TCP_USER_TIMEOUT " + std::to_string(c.user_timeout->count()) +
        " ms (Lanyard's mechanism for a silent link) is not available: " + c.user_timeout_status);
  out.end_array();
  out.end_object();
}

int run(const cli::parsed_args& args, cli::json_writer& out, std::vector<std::string>& lines) {
  if (auto peer = args.value("peer")) return run_failover_peer(*peer, args);
  std::string error;
  plan p;
  if (!parse_plan(args, p, error)) {
    std::fprintf(stderr, "lanyard-bench failover: %s\n", error.c_str());
    return 2;
  }
  auto lab = lab_from_environment();
  if (!lab) return reexec_in_lab(args, p);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (!configure_mptcp_limits(*lab)) {
    std::fprintf(stderr, "lanyard-bench failover: cannot configure MPTCP in the lab (needs a "
                         "kernel with MPTCP and `ip mptcp` from iproute2)\n");
    return 1;
  }
  kernel_defaults kd;
  {
    auto s = sysctl_get(*lab, "phone", "net.mptcp.stale_loss_cnt");
    auto r = sysctl_get(*lab, "phone", "net.ipv4.tcp_rto_min_us");
    auto a = sysctl_get(*lab, "phone", "net.mptcp.available_schedulers");
    if (!s || !r) {
      std::fprintf(stderr, "lanyard-bench failover: cannot read net.mptcp.stale_loss_cnt and "
                           "net.ipv4.tcp_rto_min_us in the lab (kernel older than 6.11?)\n");
      return 1;
    }
    kd.stale_loss_cnt = std::atoll(s->c_str());
    kd.rto_min_us = std::atoll(r->c_str());
    if (a) kd.schedulers = *a;
  }
  std::vector<contender> all = make_contenders(p.budget, kd, p.sysctl_override, p.tuned_plain);
  std::vector<contender> cs;
  for (const auto& name : p.contenders)
    for (const auto& c : all)
      if (c.name == name) cs.push_back(c);
  sysctl_state sys;
  if (!sys.init(*lab, cs, error)) {
    std::fprintf(stderr, "lanyard-bench failover: %s\n", error.c_str());
    return 1;
  }
  const std::string peers = lab->dir + "/failover-peers";
  if (!prepare_lanyard_peers(peers, error)) {
    std::fprintf(stderr, "lanyard-bench failover: preparing identities: %s\n", error.c_str());
    return 1;
  }

  const std::size_t nd = p.delays.size(), ns = p.scenarios.size(), nc = cs.size();
  std::vector<cell> cells(nd * ns * nc);
  auto at = [&](std::size_t d, std::size_t s, std::size_t c) -> cell& {
    return cells[(d * ns + s) * nc + c];
  };
  std::vector<delay_setup> delays(nd);
  int failures = 0;
  const long long total = static_cast<long long>(nd * ns * nc) * p.runs;
  long long done = 0;
  const auto t0 = clock_type::now();
  for (std::size_t d = 0; d < nd; ++d) {
    delay_setup& ds = delays[d];
    ds.delay_ms = p.delays[d];
    if (!install_delay(*lab, ds)) {
      const int lost = static_cast<int>(ns * nc * p.runs);
      failures += lost;
      for (std::size_t s = 0; s < ns; ++s)
        for (std::size_t c = 0; c < nc; ++c)
          at(d, s, c).failed += static_cast<int>(p.runs);
      done += lost;
      std::fprintf(stderr,
                   "lanyard-bench failover: delay %d ms is NOT available, its %d runs count as "
                   "failed: %s\n",
                   ds.delay_ms, lost, ds.why.c_str());
      continue;
    }
    std::fprintf(stderr,
                 "lanyard-bench failover: delay %d ms: round trip wlan0 %.2f ms, p2p0 %.2f ms "
                 "(min of 10 pings)\n",
                 ds.delay_ms, ds.rtt[0].min_ms, ds.rtt[1].min_ms);
    for (long long i = 0; i < p.runs; ++i)
      for (std::size_t s = 0; s < ns; ++s)
        for (std::size_t k = 0; k < nc; ++k) {
          const std::size_t c = (static_cast<std::size_t>(i) + s + k) % nc; // rotate the order
          contender& con = cs[c];
          run_result r;
          if (!sys.apply(*lab, con) ||
              (!con.lanyard && !configure_mptcp_endpoint(*lab, con.backup)))
            r.why = "cannot apply the sysctls or MPTCP endpoint of " + con.name;
          else
            r = run_once(*lab, con, *p.scenarios[s], ds.delay_ms, static_cast<int>(i), peers);
          ++done;
          cell& ce = at(d, s, c);
          if (r.ok) {
            ce.gaps.push_back(r.gap_ms);
            ce.stalls.push_back(r.stall_ms);
            std::fprintf(stderr,
                         "[%lld/%lld %.0fs] delay %d ms %-9s %-15s stall %8.1f ms  gap %8.1f "
                         "ms\n",
                         done, total, ms_between(t0, clock_type::now()) / 1000, ds.delay_ms,
                         p.scenarios[s]->name, con.name.c_str(), r.stall_ms, r.gap_ms);
          } else {
            ++ce.failed;
            ++failures;
            std::fprintf(stderr, "[%lld/%lld] delay %d ms %s %s run %lld FAILED: %s\n", done, total,
                         ds.delay_ms, p.scenarios[s]->name, con.name.c_str(), i, r.why.c_str());
          }
        }
    remove_delay(*lab, ds);
  }
  // Put the lab's sysctls back (the lab goes away anyway; this keeps a kept lab honest).
  contender neutral;
  sys.apply(*lab, neutral);

  // Goals, per delay: each compares medians of the stall; RTT = 2 x delay.
  std::vector<goal> goals;
  auto find = [&](const char* name) -> int {
    for (std::size_t c = 0; c < nc; ++c)
      if (cs[c].name == name) return static_cast<int>(c);
    return -1;
  };
  auto scen = [&](const char* name) -> int {
    for (std::size_t s = 0; s < ns; ++s)
      if (std::string(p.scenarios[s]->name) == name) return static_cast<int>(s);
    return -1;
  };
  auto median_of = [&](std::size_t d, int s, int c) -> std::optional<double> {
    if (s < 0 || c < 0) return std::nullopt;
    const cell& ce = at(d, static_cast<std::size_t>(s), static_cast<std::size_t>(c));
    if (ce.stalls.empty()) return std::nullopt;
    return summarize(ce.stalls).median;
  };
  const int ld = scen("link_down"), bh = scen("blackhole");
  const int ldef = find("lanyard-default"), ltun = find("lanyard-tuned"),
            mdef = find("mptcp-default"), mtun = find("mptcp-tuned");
  for (std::size_t d = 0; d < nd; ++d) {
    const double rtt = 2.0 * delays[d].delay_ms;
    const int dm = delays[d].delay_ms;
    auto absolute = [&](const std::string& what, std::optional<double> v, double limit) {
      if (v) goals.push_back({what, dm, *v, limit, *v <= limit});
    };
    auto relative = [&](const std::string& what, std::optional<double> a, std::optional<double> b) {
      if (a && b && *b > 0) goals.push_back({what, dm, *a / *b, 1.0, *a <= *b});
    };
    const double resume_allowance = 100 + 4 * rtt; // reconnect: TCP, TLS resumption, HELLO
    absolute("link_down: lanyard-tuned stall <= 100 ms + 4 RTT", median_of(d, ld, ltun),
             resume_allowance);
    absolute("link_down: lanyard-default stall <= 100 ms + 4 RTT", median_of(d, ld, ldef),
             resume_allowance);
    relative("link_down: lanyard-tuned / mptcp-tuned stall <= 1", median_of(d, ld, ltun),
             median_of(d, ld, mtun));
    relative("link_down: lanyard-default / mptcp-default stall <= 1", median_of(d, ld, ldef),
             median_of(d, ld, mdef));
    relative("blackhole: lanyard-tuned / mptcp-tuned stall <= 1 (same budget)",
             median_of(d, bh, ltun), median_of(d, bh, mtun));
    if (ltun >= 0)
      absolute("blackhole: lanyard-tuned stall <= its budget + 100 ms + 4 RTT",
               median_of(d, bh, ltun),
               static_cast<double>(cs[static_cast<std::size_t>(ltun)].budget.count()) +
                   resume_allowance);
    if (ldef >= 0)
      absolute("blackhole: lanyard-default stall <= its peer timeout + 100 ms + 4 RTT",
               median_of(d, bh, ldef),
               static_cast<double>(cs[static_cast<std::size_t>(ldef)].budget.count()) +
                   resume_allowance);
  }

  out.begin_object();
  out.key("runs").value(static_cast<std::int64_t>(p.runs));
  out.key("budget_ms").value(static_cast<std::int64_t>(p.budget.count()));
  out.key("budget_meaning")
      .value("how long both tuned contenders let a silent link go before they stop using it");
  out.key("message_bytes").value(static_cast<std::uint64_t>(failover_message_size));
  out.key("send_interval_ms").value(2);
  out.key("observe_window_ms").value(static_cast<std::int64_t>(observe_window.count()));
  out.key("delay_method")
      .value("userspace delay line: tc clsact egress u32 match-all + mirred redirect to a tap, "
             "held D ms in FIFO order, sent on the interface through an AF_PACKET socket with "
             "PACKET_QDISC_BYPASS; on wlan0 and p2p0 of both hosts (RTT = 2D). netem, fq and "
             "etf are not in this kernel, so an EDT BPF program has nothing to honour its "
             "timestamps");
  out.key("delays").begin_array();
  for (const auto& ds : delays) {
    out.begin_object();
    out.key("delay_ms").value(ds.delay_ms);
    out.key("available").value(ds.available);
    if (!ds.available) out.key("why").value(ds.why);
    out.key("rtt_ms").begin_object();
    for (const auto& r : ds.rtt) {
      out.key(r.ifc).begin_object();
      out.key("min").value(r.min_ms).key("avg").value(r.avg_ms);
      out.end_object();
    }
    out.end_object();
    out.key("delay_line").begin_array();
    for (const auto& st : ds.stats) {
      out.begin_object();
      out.key("host").value(st.host).key("interface").value(st.ifc);
      out.key("forwarded").value(static_cast<std::uint64_t>(st.forwarded));
      out.key("send_failed").value(static_cast<std::uint64_t>(st.send_failed));
      out.key("queue_full").value(static_cast<std::uint64_t>(st.queue_full));
      out.key("late_us_p50").value(st.late_p50).key("late_us_p99").value(st.late_p99);
      out.key("late_us_max").value(st.late_max);
      out.key("late_over_5ms").value(static_cast<std::int64_t>(st.late_over_5ms));
      out.key("sched").value(st.sched);
      out.end_object();
    }
    out.end_array();
    out.end_object();
  }
  out.end_array();
  out.key("contenders").begin_object();
  for (const auto& c : cs)
    write_contender(out, c, sys);
  out.end_object();
  out.key("results").begin_array();
  for (std::size_t d = 0; d < nd; ++d)
    for (std::size_t s = 0; s < ns; ++s)
      for (std::size_t c = 0; c < nc; ++c) {
        const cell& ce = at(d, s, c);
        out.begin_object();
        out.key("delay_ms").value(delays[d].delay_ms);
        out.key("scenario").value(p.scenarios[s]->name);
        out.key("contender").value(cs[c].name);
        out.key("gap_ms");
        write_summary(out, summarize(ce.gaps));
        out.key("stall_ms");
        write_summary(out, summarize(ce.stalls));
        out.key("ok_runs").value(static_cast<std::uint64_t>(ce.gaps.size()));
        out.key("failed_runs").value(ce.failed);
        out.end_object();
      }
  out.end_array();
  out.key("goals").begin_array();
  for (const auto& g : goals) {
    out.begin_object();
    out.key("goal").value(g.what).key("delay_ms").value(g.delay_ms);
    out.key("value").value(g.value).key("limit").value(g.limit).key("met").value(g.met);
    out.end_object();
  }
  out.end_array();
  // The keys of the older output, kept for scripts: the same-budget pair (lanyard-tuned vs
  // mptcp-tuned) at the first delay, stall figures.
  if (ltun >= 0 && mtun >= 0) {
    for (const auto* sc : p.scenarios) {
      const int s = scen(sc->name);
      out.key(sc->name).begin_object();
      for (int c : {ltun, mtun}) {
        const summary sm =
            summarize(at(0, static_cast<std::size_t>(s), static_cast<std::size_t>(c)).stalls);
        out.key(c == ltun ? "lanyard" : "mptcp").begin_object();
        out.key("median_ms").value(sm.median).key("p95_ms").value(sm.p95);
        out.key("runs").value(static_cast<std::uint64_t>(sm.runs));
        out.end_object();
      }
      out.end_object();
      const auto a = median_of(0, s, ltun), b = median_of(0, s, mtun);
      out.key(std::string(sc->name) + "_ratio_vs_mptcp").value(a && b && *b > 0 ? *a / *b : 0.0);
    }
  }
  out.key("failed_runs").value(failures);
  out.end_object();

  char buf[320];
  for (std::size_t d = 0; d < nd; ++d) {
    std::snprintf(buf, sizeof buf, "delay %d ms (RTT %.1f ms measured on wlan0)%s",
                  delays[d].delay_ms, delays[d].rtt[0].min_ms,
                  delays[d].available ? "" : " NOT AVAILABLE");
    lines.emplace_back(buf);
    for (std::size_t s = 0; s < ns; ++s)
      for (std::size_t c = 0; c < nc; ++c) {
        const cell& ce = at(d, s, c);
        const summary g = summarize(ce.gaps), l = summarize(ce.stalls);
        std::snprintf(buf, sizeof buf,
                      "  %-9s %-15s stall median %8.1f ms p95 %8.1f | gap median %8.1f ms "
                      "p95 %8.1f | %zu ok, %d failed",
                      p.scenarios[s]->name, cs[c].name.c_str(), l.median, l.p95, g.median, g.p95,
                      ce.stalls.size(), ce.failed);
        lines.emplace_back(buf);
      }
  }
  for (const auto& g : goals) {
    std::snprintf(buf, sizeof buf, "goal (delay %d ms) %s: %.3f vs %.3f %s", g.delay_ms,
                  g.what.c_str(), g.value, g.limit, g.met ? "met" : "NOT met");
    lines.emplace_back(buf);
  }
  if (failures > 0) {
    std::fprintf(stderr, "lanyard-bench failover: %d run(s) failed (see above)\n", failures);
    return 1;
  }
  return 0;
}

const benchmark bench_failover{
    "failover",
    "stall on link down and blackhole: Lanyard handover vs kernel MPTCP, defaults and tuned to "
    "the same detection budget, with and without link delay (own lab)",
    "usage: lanyard-bench failover [--runs N] [--contenders LIST] [--scenarios LIST]\n"
    "                              [--delay-ms LIST] [--budget-ms B] [--json]\n"
    "  Builds its own lab (tests/lab/run-in-lab) with phone and accessory joined by wlan0 and\n"
    "  p2p0, streams 16-byte messages every 2 ms from phone to accessory and fails the phone's\n"
    "  wlan0 (link down, then nftables blackhole). Per run: the stall (longest due-to-arrival\n"
    "  time of a message due around the failure) and the gap (longest pause in arrivals\n"
    "  after it). Medians over successful runs; failed runs are counted and make the exit\n"
    "  status 1. Contenders: Lanyard and kernel MPTCP, each at its defaults and tuned to the\n"
    "  same silent-link budget (see the JSON for every knob). Full matrix ~4-5 min.\n"
    "  --runs N          runs per contender, scenario and delay (default 4)\n"
    "  --contenders L    comma list of lanyard-default, lanyard-tuned, mptcp-default,\n"
    "                    mptcp-tuned (default all)\n"
    "  --scenarios L     link_down, blackhole (default both)\n"
    "  --delay-ms L      one-way delay added on both links, both directions (default 0,20)\n"
    "  --budget-ms B     silent-link detection budget of both tuned contenders (default 400)\n"
    "  --mptcp-sysctl K=V  replaces mptcp-tuned's sysctls (repeatable)\n"
    "  --mptcp-tuned-subflow plain|backup  mptcp-tuned's p2p0 subflow (default backup)\n",
    cli::arg_spec{{{"runs", true},
                   {"contenders", true},
                   {"scenarios", true},
                   {"delay-ms", true},
                   {"budget-ms", true},
                   {"mptcp-sysctl", true, true},
                   {"mptcp-tuned-subflow", true},
                   {"peer", true},
                   {"port", true},
                   {"connect", true},
                   {"dir", true},
                   {"late-ms", true},
                   {"keepalive-ms", true},
                   {"peer-timeout-ms", true},
                   {"user-timeout-ms", true},
                   {"interfaces", true}},
                  0,
                  0},
    &run,
};
benchmark_registrar reg{bench_failover};

} // namespace
} // namespace lanyard::bench
