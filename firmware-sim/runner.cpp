#include "runner.hpp"

#include "control.hpp"
#include "device.hpp"
#include "events.hpp"
#include "state_dir.hpp"
#include "status.hpp"

#include <lanyard/core/device_id.hpp>

#include <asio/io_context.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/post.hpp>
#include <asio/read_until.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <asio/streambuf.hpp>
#include <asio/write.hpp>

#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <future>
#include <istream>
#include <mutex>
#include <pthread.h>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace lanyard::sim {
namespace {

using steady = std::chrono::steady_clock;

// What the control thread and the boot loop share. Guarded by `m` unless atomic.
struct process_state {
  std::mutex m;
  std::condition_variable cv;
  asio::io_context* io = nullptr; // the current boot's loop (null between boots)
  device* dev = nullptr;
  bool terminate = false;
  bool reboot = false;
  bool rotate_key = false;
  std::chrono::milliseconds boot_delay{0};
  bool drop = false;
  steady::time_point sleep_until{};
  fault_settings faults;

  bool paused_locked(steady::time_point now) const { return drop || now < sleep_until; }
};

// Runs `f` on the device's thread and waits for its reply (bounded: the loop may be busy).
std::string on_device(process_state& ps, std::function<std::string(device&)> f) {
  std::unique_lock<std::mutex> lock(ps.m);
  if (ps.io == nullptr || ps.dev == nullptr)
    return error_reply("the accessory is between boots; try again in a moment", "booting");
  auto promise = std::make_shared<std::promise<std::string>>();
  auto future = promise->get_future();
  device* dev = ps.dev;
  asio::post(*ps.io, [promise, f, dev] { promise->set_value(f(*dev)); });
  lock.unlock();
  if (future.wait_for(std::chrono::seconds(5)) != std::future_status::ready)
    return error_reply("the accessory did not answer within 5 s", "no_answer");
  return future.get();
}

// Blocks the device's loop until the pause ends: the process then neither reads nor writes
// (the kernel still completes TCP handshakes and buffers data, as a sleeping radio's peer
// would see nothing come back).
void pause_loop(process_state& ps) {
  std::unique_lock<std::mutex> lock(ps.m);
  while (!ps.terminate && !ps.reboot) {
    const auto now = steady::now();
    if (!ps.paused_locked(now)) break;
    if (ps.drop)
      ps.cv.wait(lock);
    else
      ps.cv.wait_until(lock, ps.sleep_until);
  }
}

void request_stop_locked(process_state& ps) {
  if (ps.io != nullptr && ps.dev != nullptr) {
    device* dev = ps.dev;
    asio::io_context* io = ps.io;
    asio::post(*io, [dev, io] {
      dev->stop();
      io->stop();
    });
  }
  ps.cv.notify_all();
}

bool parse_number(const std::string& s, unsigned long max, unsigned long& out) {
  if (s.empty() || s.size() > 9) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  out = std::stoul(s);
  return out <= max;
}

std::string handle_command(process_state& ps, const std::vector<std::string>& w) {
  const std::string& cmd = w[0];
  const auto args = w.size() - 1;
  unsigned long n = 0;
  {
    std::lock_guard<std::mutex> lock(ps.m);
    const auto now = steady::now();
    if (ps.paused_locked(now) && cmd != "status" && cmd != "undrop" && cmd != "crash") {
      return error_reply(std::string("the accessory is not answering (") +
                             (ps.drop ? "drop" : "radio-sleep") +
                             "): run `ctl undrop` first (crash still works)",
                         "paused");
    }
    if (cmd == "status" && ps.paused_locked(now)) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(ps.sleep_until - now);
      return std::string("{\"ok\":true,\"paused\":true,\"fault\":") +
             (ps.drop ? "\"drop\""
                      : "\"radio-sleep\",\"remaining_ms\":" + std::to_string(left.count())) +
             "}";
    }
  }
  if (cmd == "status" && args == 0) {
    return on_device(ps, [](device& d) {
      std::string s = to_json(d.status());
      return "{\"ok\":true,\"paused\":false," + s.substr(1);
    });
  }
  if (cmd == "reboot" && args <= 1) {
    if (args == 1 && !parse_number(w[1], 60000, n))
      return error_reply("reboot [MS]: MS is the boot delay, 0..60000 ms");
    std::lock_guard<std::mutex> lock(ps.m);
    ps.reboot = true;
    ps.boot_delay = std::chrono::milliseconds(args == 1 ? n : 500);
    request_stop_locked(ps);
    return ok_reply("rebooting: sessions are lost; identity, controllers and Wi-Fi are kept");
  }
  if (cmd == "rotate-key" && args == 0) {
    std::lock_guard<std::mutex> lock(ps.m);
    ps.reboot = true;
    ps.rotate_key = true;
    ps.boot_delay = std::chrono::milliseconds(500);
    request_stop_locked(ps);
    return ok_reply("rebooting with a new identity: apps that pinned the old key must refuse it");
  }
  if (cmd == "radio-sleep" && args == 1) {
    if (!parse_number(w[1], 3600, n) || n == 0) return error_reply("radio-sleep SECONDS: 1..3600");
    std::lock_guard<std::mutex> lock(ps.m);
    ps.sleep_until = steady::now() + std::chrono::seconds(n);
    if (ps.io) asio::post(*ps.io, [&ps] { pause_loop(ps); });
    emit("fault", {{"fault", "radio-sleep"}, {"seconds", std::uint64_t{n}}});
    return ok_reply("radio asleep for " + std::to_string(n) + " s");
  }
  if (cmd == "drop" && args == 0) {
    std::lock_guard<std::mutex> lock(ps.m);
    ps.drop = true;
    if (ps.io) asio::post(*ps.io, [&ps] { pause_loop(ps); });
    emit("fault", {{"fault", "drop"}});
    return ok_reply("dropping all traffic until `ctl undrop`");
  }
  if (cmd == "undrop" && args == 0) {
    std::lock_guard<std::mutex> lock(ps.m);
    ps.drop = false;
    ps.sleep_until = {};
    ps.cv.notify_all();
    emit("fault", {{"fault", "none"}});
    return ok_reply("answering again");
  }
  if (cmd == "slow" && args == 1) {
    if (!parse_number(w[1], 60000, n)) return error_reply("slow MS: 0..60000 (0 turns it off)");
    ps.faults.slow_ms = static_cast<unsigned>(n);
    emit("fault", {{"fault", "slow"}, {"ms", std::uint64_t{n}}});
    return ok_reply("application replies and pushes now wait " + std::to_string(n) + " ms");
  }
  if (cmd == "pairing-window" && args == 1 && (w[1] == "open" || w[1] == "close")) {
    const bool open = w[1] == "open";
    return on_device(ps, [open](device& d) {
      std::string err = d.set_pairing_window(open);
      return err.empty() ? ok_reply(std::string("pairing window ") + (open ? "open" : "closed"))
                         : error_reply(err);
    });
  }
  return error_reply("unknown command or wrong arguments: '" + cmd +
                     "'; commands: status, reboot [MS], crash, radio-sleep SECONDS, drop, undrop, "
                     "rotate-key, slow MS, pairing-window open|close");
}

// One control connection: read a line (2 s limit), answer, close.
void serve_connection(process_state& ps, asio::local::stream_protocol::socket sock) {
  auto s = std::make_shared<asio::local::stream_protocol::socket>(std::move(sock));
  auto buf = std::make_shared<asio::streambuf>(4096);
  auto timer = std::make_shared<asio::steady_timer>(s->get_executor(), std::chrono::seconds(2));
  timer->async_wait([s](std::error_code ec) {
    if (!ec) s->close(ec);
  });
  asio::async_read_until(*s, *buf, '\n', [&ps, s, buf, timer](std::error_code ec, std::size_t) {
    timer->cancel();
    if (ec) return;
    std::istream in(buf.get());
    std::string line;
    std::getline(in, line);
    std::istringstream words_in(line);
    std::vector<std::string> words;
    for (std::string word; words_in >> word;)
      words.push_back(word);
    if (words.empty()) words.push_back("");
    if (words[0] == "crash" && words.size() == 1) {
      // Like pulling the power: no goodbye, no flush; only what is on disk survives.
      emit("fault", {{"fault", "crash"}});
      const std::string reply = ok_reply("crashing (SIGKILL)") + "\n";
      asio::write(*s, asio::buffer(reply), ec);
      s->close(ec);
      ::kill(::getpid(), SIGKILL);
    }
    auto reply = std::make_shared<std::string>(handle_command(ps, words) + "\n");
    asio::async_write(*s, asio::buffer(*reply), [s, reply](std::error_code, std::size_t) {
      std::error_code ignored;
      s->close(ignored);
    });
  });
}

} // namespace

int run_accessory(const run_options& opts) {
  set_json_events(opts.json_events);
  state_paths paths{opts.state_dir};
  std::string error;
  auto fatal = [](const std::string& e, int code) {
    std::fprintf(stderr, "lanyard-accessory-sim: %s\n", e.c_str());
    return code;
  };
  if (!ensure_state_dir(paths, error)) return fatal(error, 1);

  // An accessory without a setup secret must not find one: pairing by confirmation next to a
  // setup code would let anyone pair without the code (device.conf was removed, or the files
  // were copied in). Empty if none is there.
  auto secret_file_present = [&paths]() -> std::string {
    for (const auto& f : {paths.setup_credentials(), paths.setup_label()}) {
      std::error_code fec;
      if (std::filesystem::exists(f, fec) || fec) return f.string();
    }
    return {};
  };
  auto secret_contradiction = [](const std::string& what, const std::string& file) {
    return what + ": " + file +
           " holds a setup secret, so this accessory pairs by its payload or code only (use "
           "another --state-dir, or remove setup-credentials and setup-label to make it an "
           "accessory without a setup secret)";
  };

  // device.conf: chosen on first start, then fixed (an accessory does not change its id).
  std::optional<device_config> config = read_device_config(paths, error);
  if (!error.empty()) return fatal(error, 1);
  if (!config) {
    if (!opts.kind)
      return fatal("--kind lamp|sensor is required on first start (" + paths.dir.string() +
                       " holds no accessory yet)",
                   2);
    device_config c;
    c.kind = *opts.kind;
    c.id = opts.id.value_or(random_device_id());
    c.name = opts.name.value_or(c.kind == device_kind::lamp ? "Lamp" : "Sensor");
    c.pairing = opts.pairing.value_or(pairing_mode::secret);
    if (!core::is_valid_device_id(c.id))
      return fatal("--id '" + c.id + "' is not a valid device id (1 to 64 of A-Z a-z 0-9 . _ : -)",
                   2);
    // Checked before device.conf is written, so a refused start leaves nothing behind.
    if (const std::string f = secret_file_present();
        c.pairing == pairing_mode::confirm && !f.empty())
      return fatal(secret_contradiction("--pairing-method confirm", f), 2);
    if (!write_device_config(paths, c, error)) return fatal(error, 1);
    config = c;
  } else {
    if (opts.kind && *opts.kind != config->kind)
      return fatal(paths.device_conf().string() + " says this accessory is a " +
                       to_string(config->kind) + "; --kind " + to_string(*opts.kind) +
                       " contradicts it (use another --state-dir, or remove this one to start "
                       "over)",
                   2);
    if (opts.id && *opts.id != config->id)
      return fatal(paths.device_conf().string() + " says this accessory's id is " + config->id +
                       "; --id " + *opts.id + " contradicts it (an accessory keeps its id; use " +
                       "another --state-dir)",
                   2);
    // Whether an accessory has a setup code is decided when it is made: a secret one that
    // started pairing by confirmation would pair without its proof, and a confirm one that
    // grew a code would have a label nobody ever saw.
    if (opts.pairing && *opts.pairing != config->pairing)
      return fatal(paths.device_conf().string() +
                       (config->pairing == pairing_mode::secret
                            ? " says this accessory pairs by its setup secret (payload or "
                              "code); --pairing-method confirm contradicts it: an accessory with "
                              "a setup code never pairs without its proof"
                            : " says this accessory has no setup secret (it pairs by "
                              "confirmation); --pairing-method secret contradicts it") +
                       " (use another --state-dir, or remove this one to start over)",
                   2);
    if (const std::string f = secret_file_present();
        config->pairing == pairing_mode::confirm && !f.empty())
      return fatal(secret_contradiction(paths.device_conf().string() +
                                            " says pairing confirm (--pairing-method confirm)",
                                        f),
                   2);
    if (opts.name && *opts.name != config->name) {
      config->name = *opts.name;
      if (!write_device_config(paths, *config, error)) return fatal(error, 1);
    }
  }

  // One simulator per state directory; a socket left by a crash is removed.
  const auto sock_path = paths.control_socket();
  if (sock_path.string().size() >= 100)
    return fatal("the control socket path " + sock_path.string() +
                     " is too long for a unix socket; use a shorter --state-dir",
                 2);
  if (control_socket_alive(sock_path))
    return fatal("another lanyard-accessory-sim is running with --state-dir " + paths.dir.string() +
                     " (its control socket answers); stop it first",
                 1);
  ::unlink(sock_path.c_str());

  // SIGINT/SIGTERM must reach the control thread's signal_set even if our parent blocked them.
  sigset_t stops;
  sigemptyset(&stops);
  sigaddset(&stops, SIGINT);
  sigaddset(&stops, SIGTERM);
  ::pthread_sigmask(SIG_UNBLOCK, &stops, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  process_state ps;
  asio::io_context ctl_io;
  asio::local::stream_protocol::acceptor acceptor(ctl_io);
  std::error_code ec;
  acceptor.open(asio::local::stream_protocol(), ec);
  if (!ec) acceptor.bind(asio::local::stream_protocol::endpoint(sock_path.string()), ec);
  if (!ec) acceptor.listen(8, ec);
  if (ec)
    return fatal("cannot create the control socket " + sock_path.string() + ": " + ec.message(), 1);
  std::function<void()> accept_next = [&] {
    acceptor.async_accept([&](std::error_code aec, asio::local::stream_protocol::socket s) {
      if (aec) return;
      serve_connection(ps, std::move(s));
      accept_next();
    });
  };
  accept_next();
  asio::signal_set signals(ctl_io, SIGINT, SIGTERM);
  signals.async_wait([&](std::error_code sec, int sig) {
    if (sec) return;
    emit("signal", {{"value", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    std::lock_guard<std::mutex> lock(ps.m);
    ps.terminate = true;
    request_stop_locked(ps);
  });
  auto ctl_work = asio::make_work_guard(ctl_io);
  std::thread ctl_thread([&] { ctl_io.run(); });

  int status = 0;
  while (true) {
    asio::io_context io;
    {
      // The device could not serve the home network after provisioning: reboot at once.
      auto restart = [&ps] {
        std::lock_guard<std::mutex> lock(ps.m);
        ps.reboot = true;
        ps.boot_delay = std::chrono::milliseconds(0);
        request_stop_locked(ps);
      };
      device dev(io, opts, paths, *config, ps.faults, restart);
      if (!dev.start(error)) {
        std::fprintf(stderr, "lanyard-accessory-sim: %s\n", error.c_str());
        status = 1;
        break;
      }
      {
        std::lock_guard<std::mutex> lock(ps.m);
        ps.io = &io;
        ps.dev = &dev;
        if (ps.terminate) request_stop_locked(ps);
      }
      io.run();
      std::lock_guard<std::mutex> lock(ps.m);
      ps.io = nullptr;
      ps.dev = nullptr;
    }
    std::unique_lock<std::mutex> lock(ps.m);
    if (ps.terminate || !ps.reboot) break;
    ps.reboot = false;
    const bool rotate = ps.rotate_key;
    ps.rotate_key = false;
    const auto delay = ps.boot_delay;
    lock.unlock();
    if (rotate) {
      if (!retire_identity(paths, error)) {
        std::fprintf(stderr, "lanyard-accessory-sim: rotate-key: %s\n", error.c_str());
        status = 1;
        break;
      }
      emit("key-rotated", {{"old_identity_in", paths.old_identities().string()}});
    }
    emit("rebooting", {{"delay_ms", static_cast<std::uint64_t>(delay.count())}});
    std::this_thread::sleep_for(delay);
  }

  ctl_work.reset();
  asio::post(ctl_io, [&] {
    std::error_code ignored;
    acceptor.close(ignored);
    signals.cancel(ignored);
  });
  ctl_thread.join();
  ::unlink(sock_path.c_str());
  emit("stopped", {{"status", status}});
  return status;
}

} // namespace lanyard::sim
