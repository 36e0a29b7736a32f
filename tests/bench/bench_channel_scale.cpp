// `lanyard-bench channel`, the scale part: how many idle channels one accessory-server process
// holds, with its memory and CPU, and the heap each idle channel costs on either side.
//
// The accessory runs in a forked child process (forked before this process creates any
// thread or io_context), so its RSS, heap and CPU are its own; the app side (one
// client_channel per controller) runs in this process. They talk over a socketpair with
// one-line commands ("stats", "quit").
//
// Heap is measured with mallinfo2() (uordblks + hblkhd: bytes malloc'd and not freed, summed
// over all arenas), not with a counting global operator new: mbedTLS allocates its record
// buffers and handshake state with calloc(), which operator new never sees, and those are the
// largest part of a connection.
#include "bench_channel.hpp"

#include "support/scratch_dir.hpp"

#include <lanyard/accessory/server.hpp>
#include <lanyard/client/client_channel.hpp>
#include <lanyard/tls_engine/context.hpp>
#include <lanyard/tls_engine/identity.hpp>
#include <lanyard/trust/controller_store.hpp>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/read_until.hpp>
#include <asio/streambuf.hpp>
#include <asio/write.hpp>

#include <csignal>
#include <fcntl.h>
#include <malloc.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

namespace lanyard::bench {
namespace {

namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

// Each channel is a socket on both sides: lift the soft limit to the hard one.
void raise_nofile() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
}

std::uint64_t nofile_limit() {
  rlimit rl{};
  return ::getrlimit(RLIMIT_NOFILE, &rl) == 0 ? rl.rlim_cur : 0;
}

bool write_line(int fd, std::string line) {
  line += '\n';
  std::size_t off = 0;
  while (off < line.size()) {
    // send(MSG_NOSIGNAL): a peer process that died must not kill this one with SIGPIPE.
    ssize_t n = ::send(fd, line.data() + off, line.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

// Blocking, one byte at a time: a handful of short lines per run.
bool read_line(int fd, std::string& line) {
  line.clear();
  char c;
  for (;;) {
    ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    if (c == '\n') return true;
    line += c;
  }
}

std::string hex(const core::fingerprint& fp) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (std::uint8_t b : fp.bytes) {
    s += digits[b >> 4];
    s += digits[b & 15];
  }
  return s;
}

bool unhex(std::string_view s, core::fingerprint& fp) {
  if (s.size() != fp.bytes.size() * 2) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < fp.bytes.size(); ++i) {
    int hi = nibble(s[2 * i]), lo = nibble(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    fp.bytes[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  return true;
}

std::string encode_sample(const process_sample& s) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "%llu %llu %.6f", static_cast<unsigned long long>(s.heap_bytes),
                static_cast<unsigned long long>(s.rss_bytes), s.cpu_seconds);
  return buf;
}

// The accessory process: its own identity, the store the parent wrote, one accessory::server.
int accessory_process(int fd) {
  ::signal(SIGPIPE, SIG_IGN); // asio::write to a parent that died: an error, not a signal
  raise_nofile();
  std::error_code ec;
  tls::identity id = tls::identity::generate("bench-accessory", ec);
  if (ec) {
    write_line(fd, "error generating the accessory identity: " + ec.message());
    return 1;
  }
  write_line(fd, "fp " + hex(id.fingerprint()));
  std::string line;
  if (!read_line(fd, line) || line.rfind("store ", 0) != 0) return 1;
  auto store = std::make_shared<trust::controller_store>(line.substr(6));
  if (trust::store_status s = store->load(); s.failed()) {
    write_line(fd, "error loading the controller store: " + s.message());
    return 1;
  }
  std::vector<core::fingerprint> controllers;
  for (const auto& c : store->list())
    controllers.push_back(c.fingerprint);

  asio::io_context io;
  std::size_t log_lines = 0;
  std::vector<std::string> log_sample;
  accessory::server_options opts;
  // One session per controller: the default cap (16, the store's default size) would turn
  // every channel beyond it away with too_many_sessions.
  opts.max_sessions = controllers.size();
  opts.log = [&](std::string_view l) {
    ++log_lines;
    if (log_sample.size() < 5) log_sample.emplace_back(l);
  };
  accessory::server srv(io.get_executor(), tls::context(id), store, opts);
  if (std::error_code lec =
          srv.listen(asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0))) {
    write_line(fd, "error listening: " + lec.message());
    return 1;
  }
  write_line(fd, "port " + std::to_string(srv.local_endpoint().port()));

  asio::posix::stream_descriptor cmd(io, fd);
  asio::streambuf buf;
  std::function<void()> next;
  next = [&] {
    asio::async_read_until(cmd, buf, '\n', [&](std::error_code rec, std::size_t n) {
      std::string c;
      if (!rec) {
        c.assign(asio::buffers_begin(buf.data()), asio::buffers_begin(buf.data()) + n - 1);
        buf.consume(n);
      }
      if (rec || c == "quit") {
        srv.close();
        io.stop();
        return;
      }
      std::size_t connected = 0;
      for (const auto& fp : controllers)
        connected += srv.connected(fp) ? 1 : 0;
      std::string reply = "stats " + std::to_string(srv.session_count()) + " " +
                          std::to_string(connected) + " " + encode_sample(sample_self()) + " " +
                          std::to_string(log_lines);
      for (const auto& l : log_sample) {
        std::string clean(l);
        std::replace(clean.begin(), clean.end(), '\n', ' ');
        std::replace(clean.begin(), clean.end(), '\t', ' ');
        reply += "\t" + clean;
      }
      reply += "\n";
      std::error_code wec;
      asio::write(cmd, asio::buffer(reply), wec);
      if (wec) {
        io.stop();
        return;
      }
      next();
    });
  };
  next();
  io.run();
  return 0;
}

struct accessory_stats {
  std::size_t sessions = 0;
  std::size_t connected = 0;
  process_sample sample;
  std::size_t log_lines = 0;
  std::vector<std::string> log_sample;
};

bool query(int fd, accessory_stats& s, std::string& error) {
  std::string line;
  if (!write_line(fd, "stats") || !read_line(fd, line) || line.rfind("stats ", 0) != 0) {
    error = "the accessory process stopped answering (" + line + ")";
    return false;
  }
  std::istringstream in(line.substr(6, line.find('\t') == std::string::npos ? std::string::npos
                                                                            : line.find('\t') - 6));
  in >> s.sessions >> s.connected >> s.sample.heap_bytes >> s.sample.rss_bytes >>
      s.sample.cpu_seconds >> s.log_lines;
  s.log_sample.clear();
  for (std::size_t pos = line.find('\t'); pos != std::string::npos;) {
    std::size_t end = line.find('\t', pos + 1);
    s.log_sample.push_back(line.substr(pos + 1, end == std::string::npos ? end : end - pos - 1));
    pos = end;
  }
  return true;
}

struct temp_dir : lanyard::test::scratch_dir {
  temp_dir() : scratch_dir("lanyard-bench-scale") {}
};

// The controller store, written once: 10,000 pair() calls would each re-read, re-parse and
// atomically rewrite (fsync) the whole file — quadratic in the number of controllers.
bool write_store(const fs::path& file, const std::vector<tls::identity>& ids, std::string& error) {
  std::vector<trust::controller_record> records;
  records.reserve(ids.size());
  auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  for (std::size_t i = 0; i < ids.size(); ++i)
    records.push_back({ids[i].fingerprint(), ids[i].device_id(),
                       i == 0 ? trust::controller_role::admin : trust::controller_role::user, now});
  core::pairing_window_state window;
  window.close_reason = core::window_close_reason::closed;
  std::string text = trust::controller_store::serialize(window, records);
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = file.string() + ": " + std::strerror(errno);
    return false;
  }
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  if (!ok) error = file.string() + ": short write";
  return ok;
}

} // namespace

process_sample sample_self() {
  process_sample s;
  struct mallinfo2 mi = ::mallinfo2();
  s.heap_bytes = mi.uordblks + mi.hblkhd;
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) {
      s.rss_bytes = std::strtoull(line.c_str() + 6, nullptr, 10) * 1024;
      break;
    }
  }
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto secs = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  s.cpu_seconds = secs(ru.ru_utime) + secs(ru.ru_stime);
  return s;
}

namespace {
double per(std::uint64_t after, std::uint64_t before, std::size_t n) {
  return n == 0 ? 0.0 : (static_cast<double>(after) - static_cast<double>(before)) / n;
}
} // namespace

double scale_result::app_heap_per_channel() const {
  return per(app_after.heap_bytes, app_before.heap_bytes, established);
}
double scale_result::accessory_heap_per_channel() const {
  return per(accessory_after.heap_bytes, accessory_before.heap_bytes, accessory_sessions);
}
double scale_result::accessory_rss_per_channel() const {
  return per(accessory_after.rss_bytes, accessory_before.rss_bytes, accessory_sessions);
}
double scale_result::accessory_idle_cpu_percent() const {
  return idle_seconds > 0
             ? 100.0 * (accessory_idle_end.cpu_seconds - accessory_after.cpu_seconds) / idle_seconds
             : 0.0;
}
double scale_result::app_idle_cpu_percent() const {
  return idle_seconds > 0
             ? 100.0 * (app_idle_end.cpu_seconds - app_after.cpu_seconds) / idle_seconds
             : 0.0;
}

bool run_scale(const scale_params& p, scale_result& r, std::string& error) {
  r = scale_result{};
  r.requested = p.channels;
  temp_dir dir;
  if (dir.path.empty()) {
    error = "cannot create a temporary directory";
    return false;
  }
  int sp[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0) {
    error = std::string("socketpair: ") + std::strerror(errno);
    return false;
  }
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) {
    error = std::string("fork: ") + std::strerror(errno);
    return false;
  }
  if (pid == 0) {
    ::close(sp[0]);
    ::_exit(accessory_process(sp[1]));
  }
  ::close(sp[1]);
  const int fd = sp[0];
  struct reaper {
    pid_t pid;
    int fd;
    ~reaper() {
      write_line(fd, "quit");
      ::close(fd);
      int status = 0;
      ::waitpid(pid, &status, 0);
    }
  } reap{pid, fd};

  std::string line;
  core::fingerprint accessory_fp;
  if (!read_line(fd, line) || line.rfind("fp ", 0) != 0 || !unhex(line.substr(3), accessory_fp)) {
    error = "accessory process: " + (line.empty() ? std::string("no answer") : line);
    return false;
  }

  // The controllers' identities (P-256 key generation + self-signed certificate), on every
  // core: the accessory process is idle meanwhile.
  auto t0 = clock_type::now();
  std::vector<tls::identity> ids(p.channels);
  std::vector<std::error_code> errors(p.channels);
  {
    unsigned threads = std::max(1u, std::thread::hardware_concurrency());
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        for (std::size_t i = t; i < p.channels; i += threads)
          ids[i] = tls::identity::generate("bench-controller-" + std::to_string(i), errors[i]);
      });
    for (auto& th : pool)
      th.join();
  }
  for (const auto& e : errors)
    if (e) {
      error = "generating a controller identity: " + e.message();
      return false;
    }
  r.identity_seconds = seconds_since(t0);

  t0 = clock_type::now();
  fs::path store_file = dir.path / "controllers";
  if (!write_store(store_file, ids, error)) return false;
  write_line(fd, "store " + store_file.string());
  if (!read_line(fd, line) || line.rfind("port ", 0) != 0) {
    error = "accessory process: " + (line.empty() ? std::string("no answer") : line);
    return false;
  }
  r.store_seconds = seconds_since(t0);
  const auto port = static_cast<std::uint16_t>(std::stoul(line.substr(5)));

  raise_nofile();
  if (nofile_limit() < p.channels + 64) {
    error = "RLIMIT_NOFILE is " + std::to_string(nofile_limit()) + ", too low for " +
            std::to_string(p.channels) + " channels; raise the hard limit (ulimit -Hn)";
    return false;
  }

  // One TLS context per controller identity (created before the baseline: an app has one).
  std::vector<tls::context> contexts;
  contexts.reserve(p.channels);
  for (const auto& id : ids)
    contexts.emplace_back(id);

  asio::io_context io;
  client::client_options copt;
  copt.trust.device_id = "bench-accessory";
  copt.trust.expected_fingerprint = accessory_fp;
  copt.log = [&r](std::string_view l) {
    if (r.app_log_sample.size() < 5) r.app_log_sample.emplace_back(l);
  };
  accessory_stats before;
  if (!query(fd, before, error)) return false;
  r.accessory_before = before.sample;
  r.app_before = sample_self();

  std::vector<std::unique_ptr<client::client_channel>> channels;
  channels.reserve(p.channels);
  std::vector<char> was_ready(p.channels, 0), went_waiting(p.channels, 0);
  std::size_t started = 0, in_flight = 0;
  auto last_progress = clock_type::now();
  std::function<void()> start_more = [&] {
    while (started < p.channels && in_flight < p.concurrency) {
      std::size_t i = started++;
      ++in_flight;
      auto ch = std::make_unique<client::client_channel>(io.get_executor(), contexts[i], copt);
      ch->set_state_handler([&, i](client::channel_state s, std::error_code) {
        if (s == client::channel_state::ready && !was_ready[i]) {
          was_ready[i] = 1;
          ++r.established;
          --in_flight;
          last_progress = clock_type::now();
          start_more();
        } else if (s == client::channel_state::failed && !was_ready[i]) {
          ++r.failed;
          --in_flight;
          start_more();
        } else if (s == client::channel_state::waiting && !went_waiting[i]) {
          went_waiting[i] = 1;
          ++r.waiting_events;
        }
      });
      ch->start({"127.0.0.1", port});
      channels.push_back(std::move(ch));
    }
  };
  t0 = clock_type::now();
  start_more();
  while (r.established + r.failed < p.channels) {
    io.run_for(std::chrono::milliseconds(200));
    if (clock_type::now() - last_progress > std::chrono::seconds(60)) break; // stalled
  }
  r.setup_seconds = seconds_since(t0);
  // Let the last handshakes' acknowledgements and buffers settle, then sample both sides.
  io.run_for(std::chrono::seconds(1));
  r.app_after = sample_self();
  accessory_stats after;
  if (!query(fd, after, error)) return false;
  r.accessory_after = after.sample;
  r.accessory_sessions = after.sessions;
  r.accessory_setup_cpu_seconds = after.sample.cpu_seconds - before.sample.cpu_seconds;

  // Idle: only keep-alives (PING every 5 s by default) flow.
  t0 = clock_type::now();
  io.run_for(std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double>(p.idle_seconds)));
  r.idle_seconds = seconds_since(t0);
  r.app_idle_end = sample_self();
  accessory_stats end;
  if (!query(fd, end, error)) return false;
  r.accessory_idle_end = end.sample;
  r.accessory_connected = end.connected;
  r.accessory_log_lines = end.log_lines;
  r.accessory_log_sample = end.log_sample;
  for (const auto& ch : channels)
    r.app_ready_after_idle += ch->state() == client::channel_state::ready ? 1 : 0;
  channels.clear();
  return true;
}

} // namespace lanyard::bench
