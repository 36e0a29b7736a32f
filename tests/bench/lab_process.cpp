#include "lab_process.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace lanyard::bench {

std::optional<lab_env> lab_from_environment() {
  const char* id = std::getenv("LAB_ID");
  const char* dir = std::getenv("LAB_DIR");
  if (!id || !dir) return std::nullopt;
  return lab_env{id, dir, {}};
}

double ms_between(clock_type::time_point a, clock_type::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

namespace {

// Where a child's stdout goes: appended to `file` with stderr, or into `fd` (a pipe; stderr
// then stays this process's).
struct child_output {
  std::string file;
  int fd = -1;
};

pid_t spawn(std::vector<std::string> argv, const child_output& out, const std::string& in) {
  std::vector<char*> raw;
  for (auto& a : argv)
    raw.push_back(a.data());
  raw.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, in.c_str(), O_RDONLY, 0);
  if (out.fd >= 0) {
    posix_spawn_file_actions_adddup2(&fa, out.fd, 1);
  } else {
    posix_spawn_file_actions_addopen(&fa, 1, out.file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
  }
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Own process group (^C on the bench is ours to handle), no blocked signals and default
  // dispositions for the ones we stop children with, whatever this process inherited.
  sigset_t none, stops;
  sigemptyset(&none);
  sigemptyset(&stops);
  sigaddset(&stops, SIGINT);
  sigaddset(&stops, SIGTERM);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &stops);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  if (posix_spawnp(&pid, raw[0], &fa, &attr, raw.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  return pid;
}

} // namespace

pid_t spawn_on(const lab_env& lab, const std::string& host, std::vector<std::string> cmd,
               const std::string& out, const std::string& in) {
  std::vector<std::string> argv = {"ip",
                                   "netns",
                                   "exec",
                                   lab.id + "-" + host,
                                   "env",
                                   "DBUS_SYSTEM_BUS_ADDRESS=unix:path=" + lab.dir + "/" + host +
                                       "/system_bus_socket",
                                   "LANYARD_INTERFACE_KINDS=wlan0=wifi,p2p0=p2p,ap0=softap"};
  argv.insert(argv.end(), cmd.begin(), cmd.end());
  return spawn(std::move(argv), {out, -1}, in);
}

bool run_command(std::vector<std::string> cmd) {
  pid_t pid = spawn(std::move(cmd), {"/dev/null", -1}, "/dev/null");
  if (pid <= 0) return false;
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return false;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::optional<std::string> command_output(std::vector<std::string> cmd) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return std::nullopt;
  const pid_t pid = spawn(std::move(cmd), {{}, fds[1]}, "/dev/null");
  ::close(fds[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; pid > 0 && (n = ::read(fds[0], buf, sizeof buf)) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  if (pid <= 0) return std::nullopt;
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return std::nullopt;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
  return out;
}

void stop(pid_t pid, int sig) {
  if (pid <= 0) return;
  ::kill(pid, sig);
  for (int i = 0; i < 500; ++i) {
    if (::waitpid(pid, nullptr, WNOHANG) == pid) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

std::optional<clock_type::time_point>
follower::wait(const std::function<bool(const std::string&)>& match,
               std::chrono::milliseconds timeout) {
  auto end = clock_type::now() + timeout;
  while (clock_type::now() < end) {
    std::ifstream in(path_);
    in.seekg(static_cast<std::streamoff>(offset_));
    std::string line;
    while (std::getline(in, line)) {
      if (in.eof()) break; // a partial line: read it again when complete
      offset_ += line.size() + 1;
      if (match(line)) {
        last_ = line;
        return clock_type::now();
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return std::nullopt;
}

bool has(const std::string& line, const std::string& what) {
  return line.find(what) != std::string::npos;
}

} // namespace lanyard::bench
