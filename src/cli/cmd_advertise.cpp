// lanyard advertise NAME TYPE PORT [key=value|key ...] [--interface IF]: publishes a DNS-SD
// service until SIGINT/SIGTERM, then withdraws it (goodbye packets).
#include "command.hpp"
#include "lanyard/discovery/advertiser.hpp"
#include "lanyard/discovery/client.hpp"
#include "lanyard/link/interface_kind.hpp"

#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/read_until.hpp>
#include <asio/signal_set.hpp>
#include <asio/streambuf.hpp>

#include <csignal>
#include <cstdio>
#include <istream>
#include <pthread.h>
#include <sstream>
#include <unistd.h>

namespace lanyard::cli {
namespace {

using namespace lanyard::discovery;

void fail_line(const std::string& reason) {
  std::fprintf(stderr, "lanyard advertise: %s\n", reason.c_str());
}

// "key=value" sets a value (possibly empty), "key" a boolean attribute.
bool parse_txt_args(const std::vector<std::string>& args, std::size_t first, core::txt_record& txt,
                    std::string& error) {
  txt.clear();
  for (std::size_t i = first; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto eq = a.find('=');
    std::error_code ec =
        eq == std::string::npos ? txt.set_flag(a) : txt.set(a.substr(0, eq), a.substr(eq + 1));
    if (ec) {
      error = "TXT entry '" + a + "': " + ec.message();
      return false;
    }
  }
  return true;
}

std::vector<std::string> split_words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> words;
  for (std::string w; in >> w;)
    words.push_back(w);
  return words;
}

int run(const parsed_args& args) {
  if (auto bad = link::check_interface_kind_overrides(); !bad.empty()) {
    fail_line(bad);
    return 2;
  }
  service_description d;
  d.name = args.positional[0];
  d.type = args.positional[1];
  std::string error;
  auto port = parse_integer(args.positional[2], 0, 65535, "PORT", error);
  if (!port) {
    fail_line(error);
    return 2;
  }
  d.port = static_cast<std::uint16_t>(*port);
  if (!parse_txt_args(args.positional, 3, d.txt, error)) {
    fail_line(error);
    return 2;
  }
  d.subtypes = args.values("subtype");
  d.interface = args.value("interface").value_or("");
  if (auto ec = validate(d)) {
    fail_line(ec.message());
    return 2;
  }

  // SIGINT/SIGTERM must reach asio::signal_set even if our parent left them blocked.
  sigset_t stops;
  sigemptyset(&stops);
  sigaddset(&stops, SIGINT);
  sigaddset(&stops, SIGTERM);
  ::pthread_sigmask(SIG_UNBLOCK, &stops, nullptr);

  asio::io_context io;
  client avahi(io.get_executor());
  if (avahi.status() && !args.has("wait")) {
    fail_line(avahi.status().message());
    return 1;
  }
  advertiser adv(avahi);
  int status = 0;
  asio::signal_set signals(io, SIGINT, SIGTERM);
  asio::posix::stream_descriptor input(io);
  asio::streambuf input_buf;

  auto shutdown = [&](int code) {
    status = code;
    signals.cancel();
    std::error_code ignored;
    input.cancel(ignored);
    input.release();
    io.stop();
  };

  adv.on_event([&](const advertiser_event& e) {
    switch (e.kind) {
    case advertiser_event_kind::registered:
      std::printf("registered %s\n", e.name.c_str());
      break;
    case advertiser_event_kind::renamed:
      std::printf("renamed %s (name conflict)\n", e.name.c_str());
      break;
    case advertiser_event_kind::unavailable:
      std::fprintf(stderr, "lanyard advertise: %s; will publish again when it is back\n",
                   e.error.message().c_str());
      break;
    case advertiser_event_kind::failed:
      fail_line(e.error.message());
      shutdown(1);
      return;
    }
    std::fflush(stdout);
  });

  signals.async_wait([&](const std::error_code& ec, int) {
    if (ec) return;
    std::string name = adv.name();
    bool was_registered = adv.registered();
    adv.withdraw();
    if (was_registered) std::printf("withdrawn %s\n", name.c_str());
    std::fflush(stdout);
    shutdown(0);
  });

  if (auto ec = adv.publish(d)) {
    fail_line(ec.message());
    return 2;
  }

  // --txt-from-stdin: every line read replaces the TXT record (same syntax as the arguments),
  // so a test or a script can change TXT in place while the service stays registered.
  std::function<void()> read_line; // outlives io.run(): the reads refer to it
  if (args.has("txt-from-stdin")) {
    input.assign(::dup(STDIN_FILENO));
    read_line = [&] {
      asio::async_read_until(input, input_buf, '\n', [&](const std::error_code& ec, std::size_t) {
        if (ec) return; // EOF: keep running until a signal
        std::istream is(&input_buf);
        std::string line;
        std::getline(is, line);
        core::txt_record txt;
        std::string err;
        auto words = split_words(line);
        if (!parse_txt_args(words, 0, txt, err)) {
          fail_line(err);
        } else if (auto uec = adv.update_txt(std::move(txt))) {
          fail_line("updating TXT: " + uec.message());
        } else {
          std::printf("txt-updated %s\n", adv.name().c_str());
          std::fflush(stdout);
        }
        read_line();
      });
    };
    read_line();
  }

  avahi.on_status([&](std::error_code ec) {
    if (!ec) std::fprintf(stderr, "lanyard advertise: avahi-daemon is back\n");
  });
  io.run();
  return status;
}

const command cmd{
    "advertise",
    "publish a DNS-SD service until interrupted",
    "usage: lanyard advertise NAME TYPE PORT [key=value|key ...] [options]\n"
    "\n"
    "Publishes service instance NAME of TYPE (e.g. _lanyard._tcp) on PORT through avahi-daemon,\n"
    "with the TXT entries given (key=value sets a value, a bare key a boolean attribute), until\n"
    "SIGINT or SIGTERM; then withdraws it (goodbye packets). Prints one line per event:\n"
    "  registered NAME     the service is on the network (probing done)\n"
    "  renamed NAME        a name conflict: now registering as NAME (\"Lamp (2)\")\n"
    "  txt-updated NAME    a new TXT record from standard input is published\n"
    "  withdrawn NAME      removed on exit\n"
    "If avahi-daemon restarts meanwhile, the service is published again by itself.\n"
    "\n"
    "options:\n"
    "  --interface IF      publish on interface IF only (name or index; default: all)\n"
    "  --subtype LABEL     also publish subtype LABEL (e.g. _setup); repeatable\n"
    "  --txt-from-stdin    each line on standard input replaces the TXT record\n"
    "  --wait              wait for avahi-daemon instead of failing when it is not running\n",
    arg_spec{{{"interface", true, false},
              {"subtype", true, true},
              {"txt-from-stdin", false, false},
              {"wait", false, false}},
             3,
             SIZE_MAX},
    run,
};
const command_registrar reg{cmd};

} // namespace
} // namespace lanyard::cli
