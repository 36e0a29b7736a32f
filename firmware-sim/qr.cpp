#include "qr.hpp"

#include "events.hpp"

#include <cstdio>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace lanyard::sim {

bool show_qr(const std::string& text) {
  // posix_spawnp with an argument vector: the payload never passes through a shell.
  int pipefd[2];
  if (::pipe(pipefd) != 0) return false;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&fa, pipefd[0]);
  posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", 0, 0);
  std::string prog = "qrencode", type = "-t", ansi = "ANSIUTF8", margin = "-m", two = "2";
  std::string arg = text;
  char* argv[] = {prog.data(), type.data(), ansi.data(), margin.data(),
                  two.data(),  arg.data(),  nullptr};
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, "qrencode", &fa, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(pipefd[1]);
  std::string out;
  if (rc == 0) {
    char buf[4096];
    for (ssize_t n; (n = ::read(pipefd[0], buf, sizeof buf)) > 0;)
      out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(pipefd[0]);
  int status = 0;
  if (rc == 0) ::waitpid(pid, &status, 0);
  if (rc != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || out.empty()) {
    emit("note", {{"value", "qrencode is not installed (apt-get install qrencode): no QR code "
                            "shown; the payload line above is what the QR code would hold"}});
    return false;
  }
  print_block(out);
  return true;
}

} // namespace lanyard::sim
