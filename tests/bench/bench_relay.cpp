// lanyard-bench relay: the relay through an MQTT broker against the direct path, in the same
// run, lab, accessory and app (docs/design/relay.md): round trip, bulk, the gap when the last
// local path goes (delivery resumes through the relay), and idle accessories held by one
// Mosquitto process (goal: 1,000; memory per accessory). The lab part is
// tests/bench/relay_bench.sh, run in a fresh lab (tests/lab/run-in-lab) with the node example
// and `lanyard connect`; what each figure is and how it is taken is written there. This file
// starts it and hands its JSON on.
#include "bench.hpp"
#include "lab_process.hpp"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace lanyard::bench {
namespace {

std::string build_dir() {
  char buf[4096] = {};
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  std::string exe = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  // BUILD/bin/lanyard-bench
  for (int up = 0; up < 2; ++up) {
    const auto slash = exe.rfind('/');
    if (slash == std::string::npos) return ".";
    exe.resize(slash);
  }
  return exe;
}

bool positive(const std::string& text) {
  if (text.empty() || text.size() > 6) return false;
  for (char c : text)
    if (c < '0' || c > '9') return false;
  return std::stol(text) > 0;
}

int run(const cli::parsed_args& args, cli::json_writer& out, std::vector<std::string>& lines) {
  const std::string rounds = args.value("rounds").value_or("200");
  const std::string bulk = args.value("bulk-kib").value_or("2048");
  const std::string runs = args.value("runs").value_or("3");
  const std::string idle = args.value("idle").value_or("1000");
  for (const auto& [name, v] : {std::pair{"--rounds", rounds}, std::pair{"--bulk-kib", bulk},
                                std::pair{"--runs", runs}, std::pair{"--idle", idle}})
    if (!positive(v)) {
      std::fprintf(stderr, "lanyard-bench relay: %s: a positive number, not '%s'\n", name,
                   v.c_str());
      return 2;
    }
  const std::string build = build_dir();
  char tmpl[] = "/tmp/lanyard-bench-relay-XXXXXX";
  const int fd = ::mkstemp(tmpl);
  if (fd < 0) {
    std::perror("lanyard-bench relay: a result file");
    return 1;
  }
  ::close(fd);
  const std::string result = tmpl;
  const bool ok =
      run_command({"env", "LANYARD_LAB_TIMEOUT=1500", "SRC=" LANYARD_SOURCE_DIR, "BUILD=" + build,
                   "ACCESSORY=" + build + "/examples/example_minimal_accessory", "RESULT=" + result,
                   "ROUNDS=" + rounds, "BULK_KB=" + bulk, "RUNS=" + runs, "IDLE=" + idle,
                   LANYARD_SOURCE_DIR "/tests/lab/run-in-lab",
                   LANYARD_SOURCE_DIR "/tests/bench/relay_bench.sh"});
  std::ifstream in(result);
  std::stringstream text;
  text << in.rdbuf();
  ::unlink(result.c_str());
  const std::string json = text.str();
  if (!ok || json.find("\"benchmark\"") == std::string::npos) {
    std::fprintf(stderr, "lanyard-bench relay: the lab run failed (its output is above)\n");
    return 1;
  }
  std::string trimmed = json;
  while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == ' '))
    trimmed.pop_back();
  out.raw(trimmed);
  lines.push_back("relay: " + trimmed);
  if (json.find("\"failed_runs\": 0") == std::string::npos &&
      json.find("\"failed_runs\":0") == std::string::npos) {
    std::fprintf(stderr, "lanyard-bench relay: some runs failed (see above)\n");
    return 1;
  }
  return 0;
}

const benchmark bench_relay{
    "relay",
    "the relay through an MQTT broker against the direct path: round trip, bulk, the gap when "
    "the last local path goes, idle accessories on one Mosquitto (own lab)",
    "usage: lanyard-bench relay [--rounds N] [--bulk-kib N] [--runs N] [--idle N] [--json]\n"
    "  Builds its own lab (tests/lab/run-in-lab): Mosquitto in the cloud host, the node example\n"
    "  as the accessory, `lanyard connect` as the app, the relay set up with lanyard relay set.\n"
    "  Direct (Wi-Fi) and relay contenders run the same channel settings. Failed runs are\n"
    "  counted and make the exit status 1; the idle goal is a verdict in the JSON. ~3 min.\n"
    "  --rounds N     echoed round trips per contender (default 200)\n"
    "  --bulk-kib N   KiB echoed in bulk per contender (default 2048)\n"
    "  --runs N       runs of the leave-home gap (default 3)\n"
    "  --idle N       idle accessories on the broker (default 1000)\n",
    cli::arg_spec{{{"rounds", true}, {"bulk-kib", true}, {"runs", true}, {"idle", true}}, 0, 0},
    &run,
};
benchmark_registrar reg{bench_relay};

} // namespace
} // namespace lanyard::bench
