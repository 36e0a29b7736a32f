#include "lanyard/link/link_joiner.hpp"

#include <spawn.h>
#include <sys/wait.h>

#include <cstdlib>
#include <string>
#include <vector>

extern char** environ;

namespace lanyard::link {

link_error command_link_joiner::join(std::string_view ssid) {
  // The SSID goes through the environment, never into the command line: it is arbitrary bytes
  // from a QR code and must not be interpreted by the shell.
  std::vector<std::string> env_storage;
  for (char** e = environ; *e != nullptr; ++e)
    if (std::string_view(*e).rfind("LANYARD_SSID=", 0) != 0) env_storage.emplace_back(*e);
  env_storage.push_back("LANYARD_SSID=" + std::string(ssid));
  std::vector<char*> envp;
  for (auto& e : env_storage)
    envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string sh = "/bin/sh", dash_c = "-c", cmd = command_;
  char* argv[] = {sh.data(), dash_c.data(), cmd.data(), nullptr};
  pid_t pid = -1;
  if (int err = ::posix_spawn(&pid, "/bin/sh", nullptr, nullptr, argv, envp.data()); err != 0)
    return {make_error_code(link_errc::join_failed),
            "cannot run the join command '" + command_ +
                "': " + std::error_code(err, std::system_category()).message()};
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid)
    return {make_error_code(link_errc::join_failed),
            "lost track of the join command '" + command_ + "'"};
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  const std::string how = WIFEXITED(status)
                              ? "exited with status " + std::to_string(WEXITSTATUS(status))
                              : "was killed by signal " + std::to_string(WTERMSIG(status));
  return {make_error_code(link_errc::join_failed),
          "joining '" + std::string(ssid) + "' failed: the join command '" + command_ + "' " + how};
}

} // namespace lanyard::link
