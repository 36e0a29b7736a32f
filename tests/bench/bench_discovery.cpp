// lanyard-bench discovery: (a) advertise → resolved with TXT at the browser and (b) TXT
// update → update event, in the lab (accessory advertises, phone browses), Lanyard's CLI
// (`lanyard advertise` / `lanyard browse --json`) side by side with Avahi's own tools
// (`avahi-publish` / `avahi-browse -rp`), interleaved run by run.
//
// Both contenders are measured the same way: from just before the advertising process is
// spawned (or, for (b), before the change is made) to the moment the browser's output line
// appears; the browsers run for the whole benchmark. Avahi's tools cannot change a TXT record
// in place (avahi-publish has no update) and a running avahi-browse never reports a TXT
// change, so for Avahi (b) is "withdraw avahi-publish, publish again with the new TXT, run
// avahi-browse -rpt until it shows the new record".
//
// Runs inside the lab: tests/lab/run-in-lab build/bin/lanyard-bench discovery [--json]
// (run-in-lab executes it with LAB_ID and LAB_DIR in the environment).
#include "bench.hpp"
#include "lab_process.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <functional>
#include <spawn.h>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace lanyard::bench {
namespace {

struct samples {
  std::vector<double> advertise, update;
};

// One Lanyard run: advertise "L<i>", then update its TXT in place.
bool run_lanyard(const lab_env& lab, int i, follower& browser, samples& s) {
  const std::string name = "L" + std::to_string(i);
  const std::string fifo = lab.dir + "/bench-" + name + ".fifo";
  ::mkfifo(fifo.c_str(), 0600);
  // Opened before the spawn: the child's O_RDONLY open of a FIFO waits for a writer, and
  // posix_spawn returns only once the child has exec'd. O_RDWR itself never blocks.
  int w = ::open(fifo.c_str(), O_RDWR | O_CLOEXEC);
  auto t0 = clock_type::now();
  pid_t pid = spawn_on(lab, "accessory",
                       {lab.lanyard, "advertise", name, "_lnybench._tcp", "4433",
                        "id=run-" + std::to_string(i), "c#=1", "--txt-from-stdin"},
                       lab.dir + "/bench-" + name + ".log", fifo);
  auto seen = browser.wait(
      [&](const std::string& l) {
        return has(l, "\"event\":\"added\"") && has(l, "\"name\":\"" + name + "\"") &&
               has(l, "\"c#\":\"1\"");
      },
      std::chrono::seconds(15));
  bool ok = seen.has_value();
  if (ok) {
    s.advertise.push_back(ms_between(t0, *seen));
    // Let every instance of it (each interface and protocol) be reported first.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    std::string line = "id=run-" + std::to_string(i) + " c#=2\n";
    auto t1 = clock_type::now();
    ok = ::write(w, line.data(), line.size()) == static_cast<ssize_t>(line.size());
    auto upd = browser.wait(
        [&](const std::string& l) {
          return has(l, "\"event\":\"updated\"") && has(l, "\"name\":\"" + name + "\"") &&
                 has(l, "\"c#\":\"2\"");
        },
        std::chrono::seconds(15));
    if (ok && upd) s.update.push_back(ms_between(t1, *upd));
    ok = ok && upd;
  }
  stop(pid, SIGINT);
  if (w >= 0) ::close(w);
  ::unlink(fifo.c_str());
  return ok;
}

// One Avahi run: avahi-publish "A<i>", then publish it again with the new TXT.
bool run_avahi(const lab_env& lab, int i, follower& browser, samples& s) {
  const std::string name = "A" + std::to_string(i);
  const std::string id = "id=run-" + std::to_string(i);
  const std::string log = lab.dir + "/bench-" + name + ".log";
  auto t0 = clock_type::now();
  pid_t pid = spawn_on(lab, "accessory",
                       {"avahi-publish", "-s", name, "_avbench._tcp", "4433", id, "c#=1"}, log);
  auto resolved = [&](const char* c) {
    return [&, c](const std::string& l) {
      return l.rfind("=;", 0) == 0 && has(l, ";" + name + ";_avbench._tcp;") &&
             has(l, std::string("\"c#=") + c + "\"");
    };
  };
  auto seen = browser.wait(resolved("1"), std::chrono::seconds(15));
  bool ok = seen.has_value();
  if (ok) {
    s.advertise.push_back(ms_between(t0, *seen));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    auto t1 = clock_type::now();
    stop(pid, SIGTERM);
    pid = spawn_on(lab, "accessory",
                   {"avahi-publish", "-s", name, "_avbench._tcp", "4433", id, "c#=2"}, log);
    // A running avahi-browse never notices: the new announcement refreshes its cache entry
    // before the goodbye's one-second grace ends, so there is no remove/new to re-resolve on.
    // What an Avahi-tools user can do is browse again until the new record shows up.
    // Bounded in time, not in attempts: an attempt takes from milliseconds (the daemon answers
    // from its cache) to over a second (it queries the network first).
    ok = false;
    const auto give_up = t1 + std::chrono::seconds(15);
    while (!ok && clock_type::now() < give_up) {
      const std::string once = lab.dir + "/bench-" + name + "-once.txt";
      ::unlink(once.c_str());
      pid_t b = spawn_on(lab, "phone", {"avahi-browse", "-rpt", "_avbench._tcp"}, once);
      int status = 0;
      while (b > 0 && ::waitpid(b, &status, 0) < 0 && errno == EINTR) {
      }
      std::ifstream in(once);
      for (std::string l; std::getline(in, l);)
        if (resolved("2")(l)) ok = true;
    }
    if (ok) s.update.push_back(ms_between(t1, clock_type::now()));
  }
  stop(pid, SIGTERM);
  return ok;
}

int run(const cli::parsed_args& args, cli::json_writer& out, std::vector<std::string>& lines) {
  const char* id = std::getenv("LAB_ID");
  const char* dir = std::getenv("LAB_DIR");
  if (!id || !dir) {
    std::fprintf(stderr, "lanyard-bench discovery: runs inside the network lab: "
                         "tests/lab/run-in-lab build/bin/lanyard-bench discovery [--json]\n");
    return 2;
  }
  std::string error;
  long long runs = 20;
  if (auto v = args.value("runs")) {
    auto n = cli::parse_integer(*v, 1, 1000, "--runs", error);
    if (!n) {
      std::fprintf(stderr, "lanyard-bench discovery: %s\n", error.c_str());
      return 2;
    }
    runs = *n;
  }
  // Signals blocked by whoever started us would also be blocked in the processes we spawn.
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  lab_env lab{id, dir, {}};
  // The CLI sits next to lanyard-bench in the build tree (bin/).
  char self[4096] = {};
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  std::string bin = n > 0 ? std::string(self, static_cast<std::size_t>(n)) : std::string();
  lab.lanyard = args.value("lanyard").value_or(bin.substr(0, bin.rfind('/') + 1) + "lanyard");
  if (::access(lab.lanyard.c_str(), X_OK) != 0) {
    std::fprintf(stderr,
                 "lanyard-bench discovery: %s not found (build lanyard_cli, or give --lanyard)\n",
                 lab.lanyard.c_str());
    return 2;
  }

  const std::string lb_out = lab.dir + "/bench-lanyard-browse.json";
  const std::string ab_out = lab.dir + "/bench-avahi-browse.txt";
  pid_t lb = spawn_on(lab, "phone", {lab.lanyard, "browse", "_lnybench._tcp", "--json"}, lb_out);
  pid_t ab = spawn_on(lab, "phone", {"avahi-browse", "-rp", "_avbench._tcp"}, ab_out);
  follower lf(lb_out), af(ab_out);
  std::this_thread::sleep_for(std::chrono::milliseconds(500)); // both browsers up

  samples ls, as;
  int failures = 0;
  for (int i = 0; i < runs; ++i) {
    // Alternate who goes first, so neither always runs on a quieter network.
    bool ok = i % 2 ? (run_avahi(lab, i, af, as) && run_lanyard(lab, i, lf, ls))
                    : (run_lanyard(lab, i, lf, ls) && run_avahi(lab, i, af, as));
    if (!ok) ++failures;
  }
  stop(lb, SIGINT);
  stop(ab, SIGTERM);
  if (ls.advertise.empty() || as.advertise.empty()) {
    std::fprintf(stderr, "lanyard-bench discovery: no successful run (see %s)\n", lab.dir.c_str());
    return 1;
  }

  auto la = summarize(ls.advertise), aa = summarize(as.advertise);
  auto lu = summarize(ls.update), au = summarize(as.update);
  out.begin_object();
  out.key("advertise_to_resolved_ms").begin_object();
  out.key("lanyard");
  write_summary(out, la);
  out.key("avahi");
  write_summary(out, aa);
  out.end_object();
  out.key("txt_update_ms").begin_object();
  out.key("lanyard");
  write_summary(out, lu);
  out.key("avahi");
  write_summary(out, au);
  out.end_object();
  const double ratio = aa.median > 0 ? la.median / aa.median : 0;
  const double uratio = au.median > 0 ? lu.median / au.median : 0;
  out.key("ratio_vs_avahi").value(ratio);
  out.key("txt_update_ratio_vs_avahi").value(uratio);
  out.key("failed_runs").value(failures);
  out.end_object();

  char buf[256];
  std::snprintf(buf, sizeof buf,
                "advertise -> resolved: lanyard median %.1f ms p95 %.1f ms | avahi median %.1f ms "
                "p95 %.1f ms | ratio %.3f",
                la.median, la.p95, aa.median, aa.p95, ratio);
  lines.emplace_back(buf);
  std::snprintf(buf, sizeof buf,
                "txt update -> event:   lanyard median %.1f ms p95 %.1f ms | avahi (re-publish) "
                "median %.1f ms p95 %.1f ms | ratio %.3f",
                lu.median, lu.p95, au.median, au.p95, uratio);
  lines.emplace_back(buf);
  std::snprintf(buf, sizeof buf, "runs: %lld, failed: %d", runs, failures);
  lines.emplace_back(buf);
  return 0;
}

const benchmark bench_discovery{
    "discovery",
    "advertise->resolved and TXT update->event latency vs avahi-publish/avahi-browse (lab)",
    "usage: tests/lab/run-in-lab build/bin/lanyard-bench discovery [--runs N] [--json]\n"
    "  In the lab: the accessory advertises, the phone browses; Lanyard's CLI and Avahi's\n"
    "  tools interleaved run by run. (a) spawn of the advertiser -> resolved event with TXT;\n"
    "  (b) TXT change -> update event (Avahi: withdraw + re-publish + avahi-browse -rpt until\n"
    "  the new record shows: its tools can neither update in place nor notice a change).\n"
    "  --runs N         runs per contender (default 20)\n"
    "  --lanyard PATH   the lanyard CLI (default: next to lanyard-bench)\n",
    cli::arg_spec{{{"runs", true}, {"lanyard", true}}, 0, 0},
    &run,
};
benchmark_registrar reg{bench_discovery};

} // namespace
} // namespace lanyard::bench
