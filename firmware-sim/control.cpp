#include "control.hpp"

#include "events.hpp"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace lanyard::sim {
namespace {

int connect_unix(const std::filesystem::path& socket, int& err) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string p = socket.string();
  if (p.size() >= sizeof addr.sun_path) {
    err = ENAMETOOLONG;
    return -1;
  }
  std::memcpy(addr.sun_path, p.c_str(), p.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    err = errno;
    return -1;
  }
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    err = errno;
    ::close(fd);
    return -1;
  }
  return fd;
}

} // namespace

std::string ok_reply(const std::string& message) {
  return "{\"ok\":true,\"message\":" + json_quote(message) + "}";
}

std::string error_reply(const std::string& error, const std::string& reason) {
  return "{\"ok\":false,\"error\":" + json_quote(error) +
         (reason.empty() ? "" : ",\"reason\":" + json_quote(reason)) + "}";
}

bool control_socket_alive(const std::filesystem::path& socket) {
  int err = 0;
  const int fd = connect_unix(socket, err);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

int run_ctl_client(const std::filesystem::path& socket, const std::vector<std::string>& words) {
  int err = 0;
  const int fd = connect_unix(socket, err);
  if (fd < 0) {
    std::fprintf(stderr,
                 "lanyard-accessory-sim ctl: cannot reach the control socket %s: %s; is "
                 "lanyard-accessory-sim running with this --state-dir?\n",
                 socket.c_str(), std::strerror(err));
    return 2;
  }
  std::string line;
  for (const auto& w : words)
    line += (line.empty() ? "" : " ") + w;
  line += "\n";
  for (std::size_t off = 0; off < line.size();) {
    const ssize_t n = ::write(fd, line.data() + off, line.size() - off);
    if (n <= 0) {
      std::fprintf(stderr, "lanyard-accessory-sim ctl: writing to %s failed: %s\n", socket.c_str(),
                   std::strerror(errno));
      ::close(fd);
      return 2;
    }
    off += static_cast<std::size_t>(n);
  }
  std::string reply;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;)
    reply.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  if (reply.empty()) {
    // `crash` kills the process before it can answer.
    if (!words.empty() && words[0] == "crash") {
      std::printf("{\"ok\":true,\"message\":\"crashed\"}\n");
      return 0;
    }
    std::fprintf(stderr, "lanyard-accessory-sim ctl: no reply from %s\n", socket.c_str());
    return 2;
  }
  std::fputs(reply.c_str(), stdout);
  if (reply.back() != '\n') std::fputc('\n', stdout);
  // The exit status says whether the simulator answered {"ok":true,...}; a reply that is not
  // such an object (a simulator of another version, a truncated line) is a failure.
  const auto answer = nlohmann::json::parse(reply, nullptr, /*allow_exceptions=*/false);
  const bool ok = answer.is_object() && answer.contains("ok") && answer["ok"].is_boolean() &&
                  answer["ok"].get<bool>();
  return ok ? 0 : 1;
}

} // namespace lanyard::sim
