// Processes on the lab's hosts for benchmarks that run in the network lab (tests/lab): spawn a
// command on a host, stop it, follow its output, time the gaps. Shared by lanyard-bench
// discovery and failover.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace lanyard::bench {

using clock_type = std::chrono::steady_clock;

/// The lab a benchmark runs in (run-in-lab's LAB_ID and LAB_DIR).
struct lab_env {
  std::string id;
  std::string dir;
  std::string lanyard; // path of the lanyard CLI, where a benchmark needs it
};

/// The lab from the environment, or nullopt outside one.
std::optional<lab_env> lab_from_environment();

double ms_between(clock_type::time_point a, clock_type::time_point b);

/// Spawns CMD on HOST of the lab (its netns, its system bus): `ip netns exec` and `env` both
/// exec, so the pid returned is CMD's. stdout and stderr go to `out` (appended); stdin from
/// `in` (a FIFO, opened by the child) or /dev/null. -1 if the spawn failed.
pid_t spawn_on(const lab_env& lab, const std::string& host, std::vector<std::string> cmd,
               const std::string& out, const std::string& in = "/dev/null");

/// Sends `sig` to `pid` and reaps it; SIGKILL after 5 s.
void stop(pid_t pid, int sig);

/// Runs CMD on the machine (not in the lab) and waits; true if it exited 0.
bool run_command(std::vector<std::string> cmd);

/// Runs CMD on the machine (not in the lab) and waits; its standard output if it exited 0.
std::optional<std::string> command_output(std::vector<std::string> cmd);

/// Follows a growing output file line by line.
class follower {
public:
  explicit follower(std::string path) : path_(std::move(path)) {}
  /// Polls (every 1 ms) until a new line satisfies `match`; the time it was seen, or nullopt
  /// after `timeout`. The matching line is kept in last_line().
  std::optional<clock_type::time_point> wait(const std::function<bool(const std::string&)>& match,
                                             std::chrono::milliseconds timeout);
  const std::string& last_line() const { return last_; }

private:
  std::string path_;
  std::size_t offset_ = 0;
  std::string last_;
};

/// True if `line` contains `what`.
bool has(const std::string& line, const std::string& what);

} // namespace lanyard::bench
