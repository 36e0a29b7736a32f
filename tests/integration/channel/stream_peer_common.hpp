// Helpers the channel lab's stream peers share (channel_stream_peer on the lower layer,
// channel_product_peer on app::device and node::node): output lines with a timestamp, the
// diagnostics as lines the scripts match, "m<i>" numbering and the command line.
#pragma once

#include <lanyard/core/diagnostic.hpp>
#include <lanyard/core/display_text.hpp>
#include <lanyard/core/error_condition.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

namespace stream_peer {

namespace core = lanyard::core;

inline std::span<const std::byte> as_bytes(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}
inline std::string text(std::span<const std::byte> b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}
inline double now_s() {
  static const auto t0 = std::chrono::steady_clock::now();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
inline void say(const std::string& line) {
  std::printf("%.3f %s\n", now_s(), line.c_str());
  std::fflush(stdout);
}
// A diagnostic as two lines: "log TEXT" for a person reading the output, and
// "diag ID code=CODE conditions=C,... KEY=VALUE ..." (values escaped, no spaces) that the lab
// scripts match on, instead of the text.
inline void say_diagnostic(const core::diagnostic& d) {
  say("log " + std::string(d.text));
  std::string line = "diag " + std::string(d.id);
  if (d.code) {
    line += " code=" + core::code_string(d.code) + " conditions=";
    bool first = true;
    for (std::string_view name : core::condition_names(d.code)) {
      line += (first ? "" : ",") + std::string(name);
      first = false;
    }
  }
  for (const core::field& f : d.fields) {
    std::string v;
    if (const auto* s = std::get_if<std::string>(&f.value))
      v = core::display_text(*s);
    else if (const auto* u = std::get_if<std::uint64_t>(&f.value))
      v = std::to_string(*u);
    else if (const auto* i = std::get_if<std::int64_t>(&f.value))
      v = std::to_string(*i);
    else if (const auto* b = std::get_if<bool>(&f.value))
      v = *b ? "true" : "false";
    for (char& c : v)
      if (c == ' ') c = '_';
    line += " " + std::string(f.key) + "=" + v;
  }
  say(line);
}

// "<prefix><number>" → number, or -1.
inline long long index_of(std::string_view s, std::string_view prefix) {
  if (s.substr(0, prefix.size()) != prefix || s.size() == prefix.size()) return -1;
  long long v = 0;
  for (char c : s.substr(prefix.size())) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

struct args {
  std::map<std::string, std::string> values;
  std::string get(const std::string& k, const std::string& def = {}) const {
    auto it = values.find(k);
    return it == values.end() ? def : it->second;
  }
  long long num(const std::string& k, long long def) const {
    auto it = values.find(k);
    return it == values.end() ? def : std::atoll(it->second.c_str());
  }
  bool has(const std::string& k) const { return values.count(k) != 0; }
};

inline std::optional<args> parse(int argc, char** argv, int from) {
  args a;
  for (int i = from; i < argc; ++i) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0) return std::nullopt;
    k = k.substr(2);
    if (k == "log-recv" || k == "log-acks" || k == "no-echo" || k == "log-echo-acks" ||
        k == "graceful-term" || k == "log-echoes") {
      a.values[k] = "1";
    } else if (i + 1 < argc) {
      a.values[k] = argv[++i];
    } else {
      return std::nullopt;
    }
  }
  return a;
}

// main() of both peers: "accessory --dir DIR --port PORT [options]" runs `accessory`, "app --dir
// DIR (--host HOST --port PORT | --device-id ID) --count N [options]" runs `app`; anything else
// prints the usage (exit status 2).
inline int run_role(int argc, char** argv, int (*accessory)(const args&), int (*app)(const args&)) {
  std::optional<args> a;
  if (argc >= 2) a = parse(argc, argv, 2);
  if (a && std::string_view(argv[1]) == "accessory" && a->has("dir") && a->has("port"))
    return accessory(*a);
  if (a && std::string_view(argv[1]) == "app" && a->has("dir") &&
      ((a->has("host") && a->has("port")) || a->has("device-id")) && a->num("count", 0) > 0)
    return app(*a);
  std::fprintf(stderr,
               "usage: %s accessory --dir DIR --port PORT [options]\n"
               "       %s app --dir DIR (--host HOST --port PORT | --device-id ID) --count N "
               "[options] (see channel_stream_peer.cpp)\n",
               argv[0], argv[0]);
  return 2;
}

} // namespace stream_peer
