// lanyard-bench discovery: (a) advertise → resolved with TXT at the browser and (b) TXT
// update → the browser reports the new TXT, in the lab (accessory advertises, phone browses),
// Lanyard's CLI (`lanyard advertise` / `lanyard browse --json`) side by side with the same done
// directly with Avahi's C API (avahi_c_baseline.cpp: this binary run on the lab's hosts with
// --peer avahi-publish / avahi-browse), interleaved run by run; optionally (--avahi-tools) Avahi's
// command-line tools (`avahi-publish` / `avahi-browse -rp`) as a third contender.
//
// Like for like: both main contenders are a process that publishes through the accessory's
// avahi-daemon and updates the TXT record in place when told on standard input
// (avahi_entry_group_update_service_txt_strlst in both), and a browser process on the phone
// that follows the TXT record continuously and prints a line per event. Timed the same way for
// every contender: from just before the advertising process is spawned (a), or before the new
// TXT is written to its standard input (b), to the moment the browser's line appears in its
// output file (polled every millisecond); the browsers run for the whole benchmark.
//  - Lanyard (a): `added` with the first TXT (its browser reports an instance once SRV, TXT and
//    the A and AAAA lookups are in); (b): `updated` with the new TXT (record browsers on SRV,
//    TXT, A, AAAA).
//  - Avahi C API (a): the first report of a continuous avahi_service_resolver with the first
//    TXT; (b): an avahi_record_browser on the instance's TXT record reporting the new record
//    (the baseline). With --resolver, the resolver's own report of the new TXT is a row of its
//    own: it keeps the record it has until that record is removed, so it reports the change
//    only when the old record leaves the cache (RFC 6762 §10.2: one second after an
//    announcement of the new one, and only if the old one was last received more than a second
//    before it): about 2.5 s here, which is why it is not the baseline and is not timed by
//    default (20 runs must fit in run-in-lab's default 100 s).
//  - Avahi's tools (a): `avahi-browse -rp`'s resolved line; (b): they cannot change a TXT
//    record in place (avahi-publish has no update) and a running avahi-browse never reports a
//    change (its resolver is one-shot), so: withdraw avahi-publish, publish again with the new
//    TXT, run avahi-browse -rpt until it shows the new record. Not like for like: a row for
//    information, never a ratio of a goal.
//
// Goals: Lanyard within 5% or 20 ms (whichever allows more) of the C API baseline, for (a)
// and for (b), judged on the median over the runs of Lanyard − C API within the same run.
// Pairing by run takes out the daemons' random delays, which both contenders of a run mostly
// share (avahi_elapse_time() keeps one random jitter for 10 s): the samples themselves swing
// by up to 250 ms from one 10-s window to the next, their medians over 20 runs by tens of ms.
// The ratio of the medians is reported too. A missed goal is reported (goals.*_met) but does
// not change the exit status; a failed run (no event within 15 s, a process that would not
// start) is counted (failed_runs) and makes the exit status 1.
//
// Runs inside the lab: tests/lab/run-in-lab build/bin/lanyard-bench discovery [--json]
// (run-in-lab executes it with LAB_ID and LAB_DIR in the environment; spawn_on() runs each
// process in a host's network namespace with that host's system bus, hence its avahi-daemon).
#include "avahi_c_baseline.hpp"
#include "bench.hpp"
#include "lab_process.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <functional>
#include <optional>
#include <spawn.h>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace lanyard::bench {
namespace {

constexpr auto event_timeout = std::chrono::seconds(15);
// After (a): let every instance of the service (each interface and protocol) be reported
// before the TXT changes.
constexpr auto settle = std::chrono::milliseconds(300);
constexpr double goal_ratio_max = 1.05;
constexpr double goal_slack_ms = 20;
constexpr int max_failures = 10;

// One figure of one contender: its sample in each run (nullopt where the run failed first).
struct series {
  std::vector<std::optional<double>> by_run;
  void set(int run, double ms) {
    const auto i = static_cast<std::size_t>(run);
    if (by_run.size() <= i) by_run.resize(i + 1);
    by_run[i] = ms;
  }
  std::vector<double> values() const {
    std::vector<double> v;
    for (const auto& x : by_run)
      if (x) v.push_back(*x);
    return v;
  }
};

struct samples {
  series advertise, update;
  series update_resolver; // C API only: the continuous resolver's report
  int failed = 0;
};

// Lanyard − baseline in each run that has both. Both contenders of a run share most of the
// daemons' random delays: avahi_elapse_time() draws its jitter (probes, announcements) from a
// random number it keeps for 10 s, and a run takes about 3 s.
std::vector<double> paired_differences(const series& lanyard, const series& baseline) {
  std::vector<double> d;
  for (std::size_t i = 0; i < lanyard.by_run.size() && i < baseline.by_run.size(); ++i)
    if (lanyard.by_run[i] && baseline.by_run[i])
      d.push_back(*lanyard.by_run[i] - *baseline.by_run[i]);
  return d;
}

void run_failed(const char* contender, int i, const std::string& why) {
  std::fprintf(stderr, "lanyard-bench discovery: %s run %d failed: %s\n", contender, i,
               why.c_str());
}

// A FIFO for a publisher's standard input, opened O_RDWR before the spawn: the child's
// O_RDONLY open of a FIFO waits for a writer, and posix_spawn returns only once the child has
// exec'd. O_RDWR itself never blocks.
struct input_fifo {
  std::string path;
  int fd = -1;
  explicit input_fifo(std::string p) : path(std::move(p)) {
    ::mkfifo(path.c_str(), 0600);
    fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  }
  ~input_fifo() {
    if (fd >= 0) ::close(fd);
    ::unlink(path.c_str());
  }
  bool write_line(const std::string& line) const {
    return fd >= 0 && ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  }
};

// One Lanyard run: advertise "L<i>", then update its TXT in place.
bool run_lanyard(const lab_env& lab, int i, follower& browser, samples& s) {
  const std::string name = "L" + std::to_string(i);
  input_fifo in(lab.dir + "/bench-" + name + ".fifo");
  auto t0 = clock_type::now();
  pid_t pid = spawn_on(lab, "accessory",
                       {lab.lanyard, "advertise", name, "_lnybench._tcp", "4433",
                        "id=run-" + std::to_string(i), "c#=1", "--txt-from-stdin"},
                       lab.dir + "/bench-" + name + ".log", in.path);
  std::string why;
  auto seen = browser.wait(
      [&](const std::string& l) {
        return has(l, "\"event\":\"added\"") && has(l, "\"name\":\"" + name + "\"") &&
               has(l, "\"c#\":\"1\"");
      },
      event_timeout);
  if (!seen) why = "no added event with the first TXT";
  if (seen) {
    s.advertise.set(i, ms_between(t0, *seen));
    std::this_thread::sleep_for(settle);
    auto t1 = clock_type::now();
    if (!in.write_line("id=run-" + std::to_string(i) + " c#=2\n")) {
      why = "cannot write the new TXT to the advertiser";
    } else if (auto upd = browser.wait(
                   [&](const std::string& l) {
                     return has(l, "\"event\":\"updated\"") &&
                            has(l, "\"name\":\"" + name + "\"") && has(l, "\"c#\":\"2\"");
                   },
                   event_timeout)) {
      s.update.set(i, ms_between(t1, *upd));
    } else {
      why = "no updated event with the new TXT";
    }
  }
  stop(pid, SIGINT);
  if (!why.empty()) run_failed("lanyard", i, why + " (see " + lab.dir + ")");
  return why.empty();
}

bool has_field(const std::vector<std::string>& f, std::size_t from, const std::string& what) {
  return f.size() > from &&
         std::find(f.begin() + static_cast<std::ptrdiff_t>(from), f.end(), what) != f.end();
}

// One C API run: publish "C<i>" with the C API publisher, then update its TXT in place.
bool run_avahi_c(const lab_env& lab, const std::string& self, int i, follower& browser,
                 bool with_resolver, samples& s) {
  const std::string name = "C" + std::to_string(i);
  input_fifo in(lab.dir + "/bench-" + name + ".fifo");
  const std::string id = "id=run-" + std::to_string(i);
  auto t0 = clock_type::now();
  pid_t pid = spawn_on(lab, "accessory",
                       {self, "discovery", "--peer", "avahi-publish", "--name", name, "--type",
                        "_acbench._tcp", "--port", "4433", "--txt", id, "--txt", "c#=1"},
                       lab.dir + "/bench-" + name + ".log", in.path);
  // "resolved NAME IF PROTO HOST ADDRESS PORT TXT..." / "txt NAME IF PROTO TXT..."
  auto resolved = [&](const std::string& l, const char* c) {
    auto f = split_fields(l);
    return f.size() > 1 && f[0] == "resolved" && f[1] == name && has_field(f, 7, c);
  };
  auto txt = [&](const std::string& l, const char* c) {
    auto f = split_fields(l);
    return f.size() > 1 && f[0] == "txt" && f[1] == name && has_field(f, 4, c);
  };
  std::string why;
  auto seen =
      browser.wait([&](const std::string& l) { return resolved(l, "c#=1"); }, event_timeout);
  if (!seen) why = "no resolver report with the first TXT";
  if (seen) {
    s.advertise.set(i, ms_between(t0, *seen));
    std::this_thread::sleep_for(settle);
    auto t1 = clock_type::now();
    // The record browser's report of the new TXT (the baseline) and, with --resolver, the
    // continuous resolver's, in whatever order they come.
    std::optional<clock_type::time_point> by_txt, by_resolver;
    if (!in.write_line(id + " c#=2\n")) {
      why = "cannot write the new TXT to the publisher";
    } else {
      browser.wait(
          [&](const std::string& l) {
            if (!by_txt && txt(l, "c#=2")) by_txt = clock_type::now();
            if (!by_resolver && resolved(l, "c#=2")) by_resolver = clock_type::now();
            return by_txt && (by_resolver || !with_resolver);
          },
          event_timeout);
      if (by_txt) s.update.set(i, ms_between(t1, *by_txt));
      if (by_resolver) s.update_resolver.set(i, ms_between(t1, *by_resolver));
      if (!by_txt) why = "the TXT record browser did not report the new TXT";
      if (with_resolver && !by_resolver)
        why += std::string(why.empty() ? "" : "; ") + "the resolver did not report the new TXT";
    }
  }
  stop(pid, SIGINT);
  if (!why.empty()) run_failed("avahi C API", i, why + " (see " + lab.dir + ")");
  return why.empty();
}

// One run of Avahi's tools: avahi-publish "A<i>", then publish it again with the new TXT.
bool run_avahi_tools(const lab_env& lab, int i, follower& browser, samples& s) {
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
  std::string why;
  auto seen = browser.wait(resolved("1"), event_timeout);
  if (!seen) why = "avahi-browse did not resolve the service";
  if (seen) {
    s.advertise.set(i, ms_between(t0, *seen));
    std::this_thread::sleep_for(settle);
    auto t1 = clock_type::now();
    stop(pid, SIGTERM);
    pid = spawn_on(lab, "accessory",
                   {"avahi-publish", "-s", name, "_avbench._tcp", "4433", id, "c#=2"}, log);
    // A running avahi-browse never notices: the new announcement refreshes its cache entry
    // before the goodbye's one-second grace ends, so there is no remove/new to re-resolve on.
    // What an Avahi-tools user can do is browse again until the new record shows up.
    // Bounded in time, not in attempts: an attempt takes from milliseconds (the daemon answers
    // from its cache) to over a second (it queries the network first).
    bool ok = false;
    const auto give_up = t1 + event_timeout;
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
    if (ok)
      s.update.set(i, ms_between(t1, clock_type::now()));
    else
      why = "avahi-browse -rpt never showed the new TXT";
  }
  stop(pid, SIGTERM);
  if (!why.empty()) run_failed("avahi tools", i, why + " (see " + lab.dir + ")");
  return why.empty();
}

// The goal of one figure: the median of the paired differences (Lanyard − baseline, run by
// run) at most 5% of the baseline's median or 20 ms, whichever allows more.
struct goal {
  summary difference;
  double allowed_ms = 0;
  bool met = false;
};

goal judge(const series& lanyard, const series& baseline) {
  goal g;
  g.difference = summarize(paired_differences(lanyard, baseline));
  const summary b = summarize(baseline.values());
  g.allowed_ms = std::max(b.median * (goal_ratio_max - 1), goal_slack_ms);
  g.met = g.difference.runs > 0 && g.difference.median <= g.allowed_ms;
  return g;
}

double ratio(const summary& a, const summary& b) {
  return b.median > 0 ? a.median / b.median : 0;
}

std::string self_path() {
  char self[4096] = {};
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  return n > 0 ? std::string(self, static_cast<std::size_t>(n)) : std::string();
}

int run(const cli::parsed_args& args, cli::json_writer& out, std::vector<std::string>& lines) {
  if (auto peer = args.value("peer")) return run_avahi_c_peer(*peer, args);
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
  const bool with_tools = args.has("avahi-tools");
  const bool with_resolver = args.has("resolver");
  // Signals blocked by whoever started us would also be blocked in the processes we spawn.
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  lab_env lab{id, dir, {}};
  // The CLI sits next to lanyard-bench in the build tree (bin/).
  const std::string self = self_path();
  lab.lanyard = args.value("lanyard").value_or(self.substr(0, self.rfind('/') + 1) + "lanyard");
  if (::access(lab.lanyard.c_str(), X_OK) != 0) {
    std::fprintf(stderr,
                 "lanyard-bench discovery: %s not found (build lanyard_cli, or give --lanyard)\n",
                 lab.lanyard.c_str());
    return 2;
  }

  const std::string lb_out = lab.dir + "/bench-lanyard-browse.json";
  const std::string cb_out = lab.dir + "/bench-avahi-c-browse.txt";
  const std::string ab_out = lab.dir + "/bench-avahi-browse.txt";
  pid_t lb = spawn_on(lab, "phone", {lab.lanyard, "browse", "_lnybench._tcp", "--json"}, lb_out);
  pid_t cb =
      spawn_on(lab, "phone",
               {self, "discovery", "--peer", "avahi-browse", "--type", "_acbench._tcp"}, cb_out);
  pid_t ab =
      with_tools ? spawn_on(lab, "phone", {"avahi-browse", "-rp", "_avbench._tcp"}, ab_out) : -1;
  follower lf(lb_out), cf(cb_out), af(ab_out);
  std::this_thread::sleep_for(std::chrono::milliseconds(500)); // the browsers up

  samples ls, cs, as;
  std::vector<std::function<bool(int)>> contenders = {
      [&](int i) { return run_lanyard(lab, i, lf, ls); },
      [&](int i) { return run_avahi_c(lab, self, i, cf, with_resolver, cs); },
  };
  if (with_tools) contenders.push_back([&](int i) { return run_avahi_tools(lab, i, af, as); });
  samples* by_contender[] = {&ls, &cs, &as};
  int failures = 0;
  int completed = 0;
  for (int i = 0; i < runs && failures < max_failures; ++i, ++completed) {
    // Rotate who goes first, so that no contender always runs on a quieter network.
    for (std::size_t k = 0; k < contenders.size(); ++k) {
      const std::size_t c = (static_cast<std::size_t>(i) + k) % contenders.size();
      if (!contenders[c](i)) {
        ++failures;
        ++by_contender[c]->failed;
      }
    }
  }
  if (failures >= max_failures)
    std::fprintf(stderr, "lanyard-bench discovery: stopped after %d failed runs\n", failures);
  stop(lb, SIGINT);
  stop(cb, SIGINT);
  stop(ab, SIGTERM);
  for (samples* s : by_contender) // every series as long as the runs, for the JSON
    for (series* x : {&s->advertise, &s->update, &s->update_resolver})
      x->by_run.resize(static_cast<std::size_t>(completed));
  if (ls.advertise.values().empty() || cs.advertise.values().empty() ||
      (with_tools && as.advertise.values().empty())) {
    std::fprintf(stderr, "lanyard-bench discovery: a contender had no successful run (see %s)\n",
                 lab.dir.c_str());
    return 1;
  }
  const summary la = summarize(ls.advertise.values()), ca = summarize(cs.advertise.values()),
                aa = summarize(as.advertise.values());
  const summary lu = summarize(ls.update.values()), cu = summarize(cs.update.values()),
                cr = summarize(cs.update_resolver.values()), au = summarize(as.update.values());
  const goal adv = judge(ls.advertise, cs.advertise), upd = judge(ls.update, cs.update);
  out.begin_object();
  out.key("runs").value(static_cast<std::int64_t>(completed));
  out.key("baseline")
      .value("avahi: Avahi's C API (libavahi-client), publisher "
             "avahi_entry_group_add_service_strlst + "
             "avahi_entry_group_update_service_txt_strlst; browser avahi_service_browser + a "
             "continuous "
             "avahi_service_resolver (advertise) + avahi_record_browser on TXT (txt update)");
  out.key("advertise_to_resolved_ms").begin_object();
  out.key("lanyard");
  write_summary(out, la);
  out.key("avahi");
  write_summary(out, ca);
  if (with_tools) {
    out.key("avahi_tools");
    write_summary(out, aa);
  }
  out.end_object();
  out.key("txt_update_ms").begin_object();
  out.key("lanyard");
  write_summary(out, lu);
  out.key("avahi");
  write_summary(out, cu);
  if (with_resolver) {
    out.key("avahi_resolver");
    write_summary(out, cr);
  }
  if (with_tools) {
    out.key("avahi_tools");
    write_summary(out, au);
  }
  out.end_object();
  out.key("ratio_vs_avahi").value(ratio(la, ca));
  out.key("txt_update_ratio_vs_avahi").value(ratio(lu, cu));
  // Lanyard − C API within each run (the goals' figure).
  out.key("paired_difference_ms").begin_object();
  out.key("advertise_to_resolved");
  write_summary(out, adv.difference);
  out.key("txt_update");
  write_summary(out, upd.difference);
  out.end_object();
  if (with_tools) {
    out.key("ratio_vs_avahi_tools").value(ratio(la, aa));
    out.key("txt_update_ratio_vs_avahi_tools").value(ratio(lu, au));
  }
  // Every sample, in run order: the figures are mDNS's random delays as much as anyone's work.
  auto write_samples = [&](const char* key, const series& v) {
    out.key(key).begin_array();
    for (const auto& x : v.by_run)
      x ? out.value(*x) : out.null();
    out.end_array();
  };
  out.key("samples_ms").begin_object();
  out.key("advertise_to_resolved").begin_object();
  write_samples("lanyard", ls.advertise);
  write_samples("avahi", cs.advertise);
  if (with_tools) write_samples("avahi_tools", as.advertise);
  out.end_object();
  out.key("txt_update").begin_object();
  write_samples("lanyard", ls.update);
  write_samples("avahi", cs.update);
  if (with_resolver) write_samples("avahi_resolver", cs.update_resolver);
  if (with_tools) write_samples("avahi_tools", as.update);
  out.end_object();
  out.end_object();
  out.key("failed_runs").value(failures);
  out.key("failed_runs_by_contender").begin_object();
  out.key("lanyard").value(ls.failed);
  out.key("avahi").value(cs.failed);
  if (with_tools) out.key("avahi_tools").value(as.failed);
  out.end_object();
  out.key("goals")
      .begin_object()
      .key("ratio_max")
      .value(goal_ratio_max)
      .key("slack_ms")
      .value(goal_slack_ms)
      .key("rule")
      .value("median of (lanyard - avahi) over the runs <= max((ratio_max - 1) x avahi "
             "median, slack_ms)")
      .key("advertise_to_resolved_allowed_ms")
      .value(adv.allowed_ms)
      .key("advertise_to_resolved_met")
      .value(adv.met)
      .key("txt_update_allowed_ms")
      .value(upd.allowed_ms)
      .key("txt_update_met")
      .value(upd.met)
      .end_object();
  out.end_object();

  char buf[320];
  auto met = [](bool m) { return m ? "met" : "NOT met"; };
  std::snprintf(buf, sizeof buf,
                "advertise -> resolved: lanyard median %.1f ms p95 %.1f ms | avahi C API median "
                "%.1f ms p95 %.1f ms | ratio %.3f; lanyard - avahi per run: median %+.1f ms (goal "
                "<= %.0f ms: 5%% or 20 ms) %s",
                la.median, la.p95, ca.median, ca.p95, ratio(la, ca), adv.difference.median,
                adv.allowed_ms, met(adv.met));
  lines.emplace_back(buf);
  std::snprintf(buf, sizeof buf,
                "txt update -> event:   lanyard median %.1f ms p95 %.1f ms | avahi C API (TXT "
                "record browser) median %.1f ms p95 %.1f ms | ratio %.3f; lanyard - avahi per "
                "run: median %+.1f ms (goal <= %.0f ms: 5%% or 20 ms) %s",
                lu.median, lu.p95, cu.median, cu.p95, ratio(lu, cu), upd.difference.median,
                upd.allowed_ms, met(upd.met));
  lines.emplace_back(buf);
  if (with_resolver) {
    std::snprintf(buf, sizeof buf,
                  "txt update -> event:   avahi C API, continuous service resolver: median %.1f "
                  "ms p95 %.1f ms (reports the change once the old record leaves the cache)",
                  cr.median, cr.p95);
    lines.emplace_back(buf);
  }
  if (with_tools) {
    std::snprintf(buf, sizeof buf,
                  "avahi tools (avahi-publish / avahi-browse -rp): advertise -> resolved median "
                  "%.1f ms p95 %.1f ms; txt update (re-publish + avahi-browse -rpt) median %.1f "
                  "ms p95 %.1f ms",
                  aa.median, aa.p95, au.median, au.p95);
    lines.emplace_back(buf);
  }
  std::snprintf(buf, sizeof buf, "runs: %d, failed: %d (lanyard %d, avahi C API %d%s)", completed,
                failures, ls.failed, cs.failed,
                with_tools ? (", avahi tools " + std::to_string(as.failed)).c_str() : "");
  lines.emplace_back(buf);
  return failures > 0 ? 1 : 0;
}

const benchmark bench_discovery{
    "discovery",
    "advertise->resolved and TXT update->event latency vs Avahi's C API (lab)",
    "usage: tests/lab/run-in-lab build/bin/lanyard-bench discovery [--runs N] [--json]\n"
    "  In the lab: the accessory advertises, the phone browses; Lanyard's CLI and the same\n"
    "  done with Avahi's C API (this binary with --peer), interleaved run by run.\n"
    "  (a) spawn of the advertiser -> resolved with TXT at the browser;\n"
    "  (b) TXT updated in place -> the browser reports the new TXT.\n"
    "  Goals: Lanyard within 5% or 20 ms of the C API, for (a) and (b). Exit status 1 if a\n"
    "  run failed.\n"
    "  --runs N         runs per contender (default 20; about 3 s per run)\n"
    "  --resolver       also time the C API's continuous service resolver reporting the new\n"
    "                   TXT (about 2.5 s more per run)\n"
    "  --avahi-tools    also avahi-publish / avahi-browse -rp (re-publish to change TXT),\n"
    "                   about 2.5 s more per run\n"
    "  With either, raise run-in-lab's LANYARD_LAB_TIMEOUT (default 100 s) for 20 runs.\n"
    "  --lanyard PATH   the lanyard CLI (default: next to lanyard-bench)\n"
    "  --peer ROLE      internal: a process of the C API baseline (avahi-publish,\n"
    "                   avahi-browse) with --type, --name, --port, --txt\n",
    cli::arg_spec{{{"runs", true},
                   {"lanyard", true},
                   {"avahi-tools"},
                   {"resolver"},
                   {"peer", true},
                   {"type", true},
                   {"name", true},
                   {"port", true},
                   {"txt", true, true}},
                  0,
                  0},
    &run,
};
benchmark_registrar reg{bench_discovery};

} // namespace
} // namespace lanyard::bench
