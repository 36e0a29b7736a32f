// What the relay lab tools (relay_mqtt_probe, relay_tunnel_peer) share: timestamped event
// lines on stdout, and the usage error.
#pragma once

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace relay_tool {

inline const auto t0 = std::chrono::steady_clock::now();

/// "<seconds since start> <line>", flushed (the lab scripts wait for lines).
inline void say(const std::string& line) {
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%.3f %s\n", s, line.c_str());
  std::fflush(stdout);
}

[[noreturn]] inline void usage(const char* tool, const std::string& why) {
  std::fprintf(stderr, "%s: %s\n", tool, why.c_str());
  std::exit(2);
}

} // namespace relay_tool
