// lanyard-bench channel: the persistent channel's data path and footprint.
//  - bulk throughput (MB/s, 10^6 bytes) app → accessory, and the rate of 64-byte messages,
//    Lanyard (client::client_channel → accessory::server over pinned mutual TLS) side by side
//    with one plain mbedTLS TLS connection using the same cipher suite (bench_channel_plain).
//    Small messages have two plain rows: buffered — length-prefixed messages written in
//    batches of Lanyard's size (core::session_settings::output_batch_bytes, 64 KiB), the
//    receiver splitting them out again: the baseline of the ratio — and unbuffered, one
//    mbedtls_ssl_write (one TLS record, one send) per message;
//  - request/response round-trip time (the app sends, the accessory echoes with a push);
//  - the same three through the product API (app::device -> node::node, pull receive on both
//    ends: bench_channel_product.cpp) next to the lower-level path, and the receive side under
//    flow control: bulk accessory -> app taken with device::async_receive(). The lower-level
//    path also runs a twin of itself (an A/A control): the product API's goal (at most 5%
//    slower) is judged per round, and the twin shows whether the run can resolve 5% at all;
//  - heap per idle established channel on either side, and how many idle channels one
//    accessory-server process holds, with its memory and CPU (bench_channel_scale.cpp).
// Throughput and RTT run both ends of each contender in this one thread over loopback TCP, so
// each figure costs both ends' work; the contenders alternate round by round so that drift
// (frequency scaling, other load) hits both alike.
#include "bench_channel.hpp"
#include "bench.hpp"
#include "bench_channel_plain.hpp"
#include "bench_channel_product.hpp"

#include "support/scratch_dir.hpp"

#include <lanyard/accessory/server.hpp>
#include <lanyard/app/controller_options.hpp>
#include <lanyard/client/client_channel.hpp>
#include <lanyard/node/node_options.hpp>
#include <lanyard/tls_engine/context.hpp>
#include <lanyard/tls_engine/identity.hpp>
#include <lanyard/tls_engine/identity_files.hpp>
#include <lanyard/trust/controller_store.hpp>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace lanyard::bench {
namespace {

namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;
using asio::ip::tcp;

struct temp_dir : lanyard::test::scratch_dir {
  temp_dir() : scratch_dir("lanyard-bench-ch") {}
};

// One established Lanyard channel: app and accessory on one io_context.
struct lanyard_link {
  asio::io_context io;
  std::shared_ptr<trust::controller_store> store;
  std::unique_ptr<accessory::server> srv;
  std::unique_ptr<client::client_channel> ch;
  std::size_t server_bytes = 0;
  std::size_t server_messages = 0;
  std::size_t client_messages = 0;
  std::size_t client_bytes = 0;
  accessory::server::controller_id phone; // the app, as the accessory knows it
  bool echo = false;
  std::error_code send_error;
  std::vector<std::string> log;

  bool open(const fs::path& dir, const tls::identity& accessory_id, const tls::identity& phone_id,
            std::string& error) {
    phone = phone_id.fingerprint();
    store = std::make_shared<trust::controller_store>(dir / "controllers");
    auto now = std::chrono::system_clock::now();
    trust::store_status s = store->load();
    if (s.ok()) s = store->open_window(now);
    if (s.ok()) s = store->pair(phone_id.fingerprint(), "phone", trust::controller_role::user, now);
    if (s.ok()) s = store->close_window();
    if (s.failed()) {
      error = "controller store: " + s.message();
      return false;
    }
    accessory::server_options sopt;
    sopt.log = [this](std::string_view l) { log.emplace_back(l); };
    srv = std::make_unique<accessory::server>(io.get_executor(), tls::context(accessory_id), store,
                                              sopt);
    srv->set_message_handler([this](const accessory::server::controller_id& c, std::uint64_t,
                                    std::span<const std::byte> p) {
      server_bytes += p.size();
      ++server_messages;
      if (echo)
        srv->async_send(c, p, {channel::send_mode::wait, channel::send_completion_mode::queued},
                        [this](std::error_code ec, std::uint64_t) {
                          if (ec) send_error = ec;
                        });
    });
    if (std::error_code ec = srv->listen(tcp::endpoint(asio::ip::address_v4::loopback(), 0))) {
      error = "listen: " + ec.message();
      return false;
    }
    client::client_options copt;
    copt.trust.device_id = accessory_id.device_id();
    copt.trust.expected_fingerprint = accessory_id.fingerprint();
    copt.log = [this](std::string_view l) { log.emplace_back(l); };
    ch = std::make_unique<client::client_channel>(io.get_executor(), tls::context(phone_id), copt);
    ch->set_message_handler([this](std::uint64_t, std::span<const std::byte> p) {
      ++client_messages;
      client_bytes += p.size();
    });
    ch->start({"127.0.0.1", srv->local_endpoint().port()});
    if (!run_until([&] { return ch->state() == client::channel_state::ready; })) {
      error = "the channel did not become ready (state " + std::string(to_string(ch->state())) +
              ", " + ch->last_error().message() + ")" + (log.empty() ? "" : ": " + log.front());
      return false;
    }
    return true;
  }

  // Runs the loop until `done` (true) or 30 s without it (false).
  template <class Pred>
  bool run_until(Pred done) {
    auto deadline = clock_type::now() + std::chrono::seconds(30);
    while (!done()) {
      if (clock_type::now() > deadline) return false;
      io.run_one_for(std::chrono::milliseconds(100));
    }
    return true;
  }

  // Issues `count` sends through `send(handler)`, keeping `window` outstanding: each
  // completion records an error in send_error and issues the next. `issued` and `completed`
  // must outlive the sends (the caller runs the loop until they are equal).
  template <class Send>
  void keep_sending(std::size_t count, std::size_t window, std::size_t& issued,
                    std::size_t& completed, Send send) {
    auto issue = std::make_shared<std::function<void()>>();
    *issue = [this, count, window, &issued, &completed, send, issue_w = std::weak_ptr(issue)] {
      while (issued < count && issued - completed < window) {
        ++issued;
        send([this, &completed, issue_w](std::error_code ec, std::uint64_t) {
          ++completed;
          if (ec) send_error = ec;
          if (auto next = issue_w.lock()) (*next)();
        });
      }
    };
    issue_keeper = issue;
    (*issue)();
  }
  std::shared_ptr<std::function<void()>> issue_keeper; // the current keep_sending() loop

  // Until every message the app sent is acknowledged (the next phase starts clean).
  bool settle() {
    return run_until([&] { return ch->unacked_count() == 0; });
  }

  // `count` messages of `size` bytes app → accessory, keeping `window` sends outstanding
  // (queued completion: the app refills as soon as the replay buffer takes a message).
  // Returns seconds until the accessory received the last byte, or < 0.
  double transfer(std::size_t count, std::size_t size, std::size_t window, std::string& error) {
    std::vector<std::byte> payload(size, std::byte{0x5a});
    const std::size_t target = server_bytes + count * size;
    std::size_t issued = 0, completed = 0;
    auto t0 = clock_type::now();
    keep_sending(count, window, issued, completed, [&](auto done) {
      ch->async_send(payload, {channel::send_mode::wait, channel::send_completion_mode::queued},
                     std::move(done));
    });
    bool ok = run_until([&] { return server_bytes >= target || send_error; });
    double s = std::chrono::duration<double>(clock_type::now() - t0).count();
    if (!ok || send_error) {
      error = "lanyard transfer: " + (send_error ? send_error.message() : "timed out");
      return -1;
    }
    if (!run_until([&] { return completed == issued; }) || !settle()) {
      error = "lanyard transfer: sends did not complete";
      return -1;
    }
    return s;
  }

  // The same accessory -> app (srv->async_send, the app's message handler counts), then
  // untimed until the accessory's last message was acknowledged.
  double transfer_to_app(std::size_t count, std::size_t size, std::size_t window,
                         std::string& error) {
    std::vector<std::byte> payload(size, std::byte{0x5a});
    const std::size_t target = client_bytes + count * size;
    std::size_t issued = 0, completed = 0;
    auto t0 = clock_type::now();
    keep_sending(count, window, issued, completed, [&](auto done) {
      srv->async_send(phone, payload,
                      {channel::send_mode::wait, channel::send_completion_mode::queued},
                      std::move(done));
    });
    bool ok = run_until([&] { return client_bytes >= target || send_error; });
    double s = std::chrono::duration<double>(clock_type::now() - t0).count();
    if (!ok || send_error) {
      error = "lanyard transfer to the app: " +
              (send_error ? send_error.message() : std::string("timed out"));
      return -1;
    }
    // Acknowledgements are cumulative: once one more message is acknowledged, all were.
    const std::byte one{0x01};
    std::optional<std::error_code> acked;
    srv->async_send(phone, std::span(&one, 1),
                    [&](std::error_code ec, std::uint64_t) { acked = ec; });
    if (!run_until([&] { return completed == issued && acked.has_value(); }) || *acked) {
      error = "lanyard transfer to the app: sends did not complete";
      return -1;
    }
    return s;
  }

  bool round_trips(std::size_t iterations, std::size_t size, std::vector<double>& samples_us,
                   std::string& error) {
    std::vector<std::byte> payload(size, std::byte{0x33});
    echo = true;
    for (std::size_t i = 0; i < iterations; ++i) {
      const std::size_t want = client_messages + 1;
      auto t0 = clock_type::now();
      ch->async_send(payload, {channel::send_mode::wait, channel::send_completion_mode::queued},
                     [this](std::error_code ec, std::uint64_t) {
                       if (ec) send_error = ec;
                     });
      if (!run_until([&] { return client_messages >= want || send_error; }) || send_error) {
        error = "lanyard round trip: " + (send_error ? send_error.message() : "timed out");
        echo = false;
        return false;
      }
      samples_us.push_back(
          std::chrono::duration<double, std::micro>(clock_type::now() - t0).count());
    }
    echo = false;
    return settle();
  }
};

struct params {
  std::size_t rounds = 6; // a multiple of 3: the lower-level path, its twin and the product API
                          // each go first equally often
  std::size_t bulk_bytes = 64u << 20;
  std::size_t bulk_message = 16 * 1024;
  std::size_t small_messages = 100000;
  std::size_t small_size = 64;
  std::size_t rtt_iterations = 2000;
  // The buffered plain contender's batch; 0: Lanyard's (the app session's output_batch_bytes).
  std::size_t plain_batch = 0;
  scale_params scale;
};

bool parse_params(const cli::parsed_args& args, params& p, std::string& error) {
  struct opt {
    const char* name;
    long long min, max;
    std::size_t* out;
  };
  const opt opts[] = {
      {"rounds", 1, 1000, &p.rounds},
      {"bulk-bytes", 1 << 16, 1ll << 36, &p.bulk_bytes},
      {"bulk-message-size", 1, 64 * 1024, &p.bulk_message},
      {"small-messages", 1, 100000000, &p.small_messages},
      {"rtt-iterations", 1, 10000000, &p.rtt_iterations},
      {"plain-batch-bytes", 1, 1 << 20, &p.plain_batch},
      {"channels", 1, 1000000, &p.scale.channels},
      {"concurrency", 1, 10000, &p.scale.concurrency},
  };
  for (const opt& o : opts) {
    if (auto v = args.value(o.name)) {
      auto n = cli::parse_integer(*v, o.min, o.max, std::string("--") + o.name, error);
      if (!n) return false;
      *o.out = static_cast<std::size_t>(*n);
    }
  }
  if (auto v = args.value("idle-seconds")) {
    auto n = cli::parse_integer(*v, 0, 3600, "--idle-seconds", error);
    if (!n) return false;
    p.scale.idle_seconds = static_cast<double>(*n);
  }
  return true;
}

// {"lanyard": …, "mbedtls": …, "device_node": …, "mbedtls_unbuffered": …, "lanyard_twin": …}:
// the last three when given.
void write_pair(cli::json_writer& out, const char* key, const summary& l, const summary& m,
                const summary* device_node = nullptr, const summary* unbuffered = nullptr,
                const summary* twin = nullptr) {
  out.key(key).begin_object().key("lanyard");
  write_summary(out, l);
  out.key("mbedtls");
  write_summary(out, m);
  if (device_node) {
    out.key("device_node");
    write_summary(out, *device_node);
  }
  if (unbuffered) {
    out.key("mbedtls_unbuffered");
    write_summary(out, *unbuffered);
  }
  if (twin) {
    out.key("lanyard_twin");
    write_summary(out, *twin);
  }
  out.end_object();
}

// a / b, or 0 without b.
double ratio(double a, double b) {
  return b > 0 ? a / b : 0;
}

void write_sample(cli::json_writer& out, const char* key, const process_sample& s) {
  out.key(key)
      .begin_object()
      .key("heap_bytes")
      .value(s.heap_bytes)
      .key("rss_bytes")
      .value(s.rss_bytes)
      .key("cpu_seconds")
      .value(s.cpu_seconds)
      .end_object();
}

double process_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

int fail(const std::string& what) {
  std::fprintf(stderr, "lanyard-bench channel: %s\n", what.c_str());
  return 1;
}

int run(const cli::parsed_args& args, cli::json_writer& out, std::vector<std::string>& lines) {
  std::string error;
  params p;
  if (!parse_params(args, p, error)) {
    std::fprintf(stderr, "lanyard-bench channel: %s\n", error.c_str());
    return 2;
  }
  const std::size_t bulk_count = std::max<std::size_t>(1, p.bulk_bytes / p.bulk_message);
  const std::size_t bulk_total = bulk_count * p.bulk_message;
  // Sends outstanding at once, every Lanyard contender alike (send_mode::wait,
  // send_completion_mode::queued: the sender refills as soon as the replay buffer took one).
  constexpr std::size_t bulk_window = 64, small_window = 1024;

  // Small messages: m_small is the plain stream writing in batches as Lanyard does (the
  // baseline), u_small the same stream with one mbedtls_ssl_write per message. d_*: the
  // product API (app::device -> node::node); *_recv: bulk accessory -> app.
  // t_*: the lower-level channel's twin (a second client_channel -> accessory::server, set up
  // the same way), the A/A control: how far apart two identical contenders come out here.
  std::vector<double> l_bulk, m_bulk, d_bulk, t_bulk, l_small, m_small, u_small, d_small, t_small,
      l_rtt, m_rtt, d_rtt, t_rtt, l_recv, d_recv;
  // Per round, the product API's and the twin's figure / the lower-level channel's (rtt: the
  // round's median round trip): the goal is judged on these, each run against its neighbour.
  struct per_round_ratios {
    std::vector<double> bulk, small, rtt;
  } d_paired, t_paired;
  // Lanyard's batch: the app's session adds frames to one write until it holds this many
  // bytes (lanyard_link opens the channel with the default client_options).
  const std::size_t batch_bytes =
      p.plain_batch ? p.plain_batch : client::client_options{}.session.output_batch_bytes;
  // CPU time / wall time during each bulk round (%): below 100 the contender waited (timers,
  // the scheduler on a busy machine) rather than computed.
  std::vector<double> l_bulk_cpu, m_bulk_cpu, d_bulk_cpu, t_bulk_cpu, l_small_cpu, m_small_cpu,
      u_small_cpu, d_small_cpu, t_small_cpu, l_recv_cpu, d_recv_cpu;
  std::string suite;
  {
    temp_dir dir;
    if (dir.path.empty()) return fail("cannot create a temporary directory");
    core::error_detail id_error;
    tls::identity accessory_id =
        tls::identity_files::load_or_create(dir.path / "accessory", "bench-accessory", id_error);
    tls::identity phone_id;
    if (!id_error)
      phone_id = tls::identity_files::load_or_create(dir.path / "phone", "bench-phone", id_error);
    if (id_error) return fail(id_error.message());
    lanyard_link lanyard;
    if (!lanyard.open(dir.path, accessory_id, phone_id, error)) return fail(error);
    lanyard_link twin;
    std::error_code mkdir_error;
    fs::create_directories(dir.path / "twin", mkdir_error);
    if (mkdir_error) return fail("cannot create the twin's directory: " + mkdir_error.message());
    if (!twin.open(dir.path / "twin", accessory_id, phone_id, error)) return fail("twin: " + error);
    auto plain = plain_tls_stream::open(dir.path / "accessory", dir.path / "phone", error);
    if (!plain) return fail(error);
    suite = plain->ciphersuite();
    // Paired here, before anything is measured.
    auto product = product_link::open(dir.path / "product", error);
    if (!product) return fail(error);

    // Warm-up (caches, page faults, the loopback socket buffers' autotuning).
    const std::size_t warm = std::min<std::size_t>(bulk_count, 64);
    if (lanyard.transfer(warm, p.bulk_message, bulk_window, error) < 0 ||
        twin.transfer(warm, p.bulk_message, bulk_window, error) < 0 ||
        plain->transfer(std::min<std::size_t>(bulk_total, 64 * p.bulk_message), p.bulk_message,
                        error) < 0 ||
        product->transfer(warm, p.bulk_message, bulk_window, error) < 0 ||
        lanyard.transfer_to_app(warm, p.bulk_message, bulk_window, error) < 0 ||
        product->transfer_to_app(warm, p.bulk_message, bulk_window, error) < 0)
      return fail(error);

    // One timed run: `per_s` gets amount / seconds, `cpu` the CPU use in %.
    auto timed = [&](auto&& run_once, double amount, std::vector<double>& per_s,
                     std::vector<double>& cpu) {
      const double c0 = process_cpu_seconds();
      const double s = run_once();
      if (s <= 0) return false;
      per_s.push_back(amount / s);
      cpu.push_back(100.0 * (process_cpu_seconds() - c0) / s);
      return true;
    };
    const double bulk_mb = static_cast<double>(bulk_total) / 1e6;
    const double small_n = static_cast<double>(p.small_messages);
    const std::size_t rtt_per_round = std::max<std::size_t>(1, p.rtt_iterations / p.rounds);
    // The median of the samples a contender added to `v` since it held `from` (one round's
    // round trips).
    auto round_median = [](const std::vector<double>& v, std::size_t from) {
      return summarize(std::vector<double>(v.begin() + static_cast<std::ptrdiff_t>(from), v.end()))
          .median;
    };
    for (std::size_t round = 0; round < p.rounds; ++round) {
      // The lower-level channel (with the plain connection right after it, as always), its
      // twin and the product API take turns: each is first, second and third once in every
      // three rounds, so that drift (frequency scaling, other load) hits them alike.
      auto in_turn = [&](auto&& lower, auto&& twin_run, auto&& product_run) {
        switch (round % 3) {
        case 0:
          return lower() && twin_run() && product_run();
        case 1:
          return product_run() && lower() && twin_run();
        default:
          return twin_run() && product_run() && lower();
        }
      };
      auto bulk_of = [&](lanyard_link& link, std::vector<double>& rate, std::vector<double>& cpu) {
        return timed([&] { return link.transfer(bulk_count, p.bulk_message, bulk_window, error); },
                     bulk_mb, rate, cpu);
      };
      if (!in_turn(
              [&] {
                return bulk_of(lanyard, l_bulk, l_bulk_cpu) &&
                       timed([&] { return plain->transfer(bulk_total, p.bulk_message, error); },
                             bulk_mb, m_bulk, m_bulk_cpu);
              },
              [&] { return bulk_of(twin, t_bulk, t_bulk_cpu); },
              [&] {
                return timed(
                    [&] {
                      return product->transfer(bulk_count, p.bulk_message, bulk_window, error);
                    },
                    bulk_mb, d_bulk, d_bulk_cpu);
              }))
        return fail(error);

      // The receive side: accessory -> app, the product API's app pulling under flow control
      // (the goal's figure, against the plain bulk) and the lower-level app's push handler
      // (for comparison; no twin: nothing is judged against it).
      auto product_recv = [&] {
        return timed(
            [&] {
              return product->transfer_to_app(bulk_count, p.bulk_message, bulk_window, error);
            },
            bulk_mb, d_recv, d_recv_cpu);
      };
      auto lanyard_recv = [&] {
        return timed(
            [&] { return lanyard.transfer_to_app(bulk_count, p.bulk_message, bulk_window, error); },
            bulk_mb, l_recv, l_recv_cpu);
      };
      if (!(round % 2 ? product_recv() && lanyard_recv() : lanyard_recv() && product_recv()))
        return fail(error);

      auto small_of = [&](lanyard_link& link, std::vector<double>& rate, std::vector<double>& cpu) {
        return timed(
            [&] { return link.transfer(p.small_messages, p.small_size, small_window, error); },
            small_n, rate, cpu);
      };
      if (!in_turn(
              [&] {
                return small_of(lanyard, l_small, l_small_cpu) &&
                       timed(
                           [&] {
                             return plain->transfer_buffered(p.small_messages, p.small_size,
                                                             batch_bytes, error);
                           },
                           small_n, m_small, m_small_cpu) &&
                       timed(
                           [&] {
                             return plain->transfer(p.small_messages * p.small_size, p.small_size,
                                                    error);
                           },
                           small_n, u_small, u_small_cpu);
              },
              [&] { return small_of(twin, t_small, t_small_cpu); },
              [&] {
                return timed(
                    [&] {
                      return product->transfer(p.small_messages, p.small_size, small_window, error);
                    },
                    small_n, d_small, d_small_cpu);
              }))
        return fail(error);

      const std::size_t l_from = l_rtt.size(), t_from = t_rtt.size(), d_from = d_rtt.size();
      if (!in_turn(
              [&] {
                return lanyard.round_trips(rtt_per_round, p.small_size, l_rtt, error) &&
                       plain->round_trips(rtt_per_round, p.small_size, m_rtt, error);
              },
              [&] { return twin.round_trips(rtt_per_round, p.small_size, t_rtt, error); },
              [&] { return product->round_trips(rtt_per_round, p.small_size, d_rtt, error); }))
        return fail(error);

      // This round's ratios to the lower-level channel, each against the run next to it.
      const double l_rtt_round = round_median(l_rtt, l_from);
      d_paired.bulk.push_back(ratio(d_bulk.back(), l_bulk.back()));
      d_paired.small.push_back(ratio(d_small.back(), l_small.back()));
      d_paired.rtt.push_back(ratio(round_median(d_rtt, d_from), l_rtt_round));
      t_paired.bulk.push_back(ratio(t_bulk.back(), l_bulk.back()));
      t_paired.small.push_back(ratio(t_small.back(), l_small.back()));
      t_paired.rtt.push_back(ratio(round_median(t_rtt, t_from), l_rtt_round));
    }
  } // the throughput io_context (and asio's resolver thread) is gone before the fork

  scale_result sr;
  if (!run_scale(p.scale, sr, error)) return fail("scale: " + error);

  summary lb = summarize(l_bulk), mb = summarize(m_bulk), ls = summarize(l_small),
          ms = summarize(m_small), us = summarize(u_small), lr = summarize(l_rtt),
          mr = summarize(m_rtt), db = summarize(d_bulk), ds = summarize(d_small),
          dr = summarize(d_rtt), lv = summarize(l_recv), dv = summarize(d_recv),
          tb = summarize(t_bulk), ts = summarize(t_small), tr = summarize(t_rtt);
  const double bulk_ratio = mb.median > 0 ? lb.median / mb.median : 0;
  // The goals: bulk >= 0.9x plain mbedTLS with messages up to 16 KiB (one TLS record each),
  // >= 0.85x with larger ones (up to 64 KiB, several records per message); heap per idle
  // channel on the accessory <= 48 KiB.
  const double bulk_goal = p.bulk_message <= 16 * 1024 ? 0.9 : 0.85;
  const bool bulk_met = bulk_ratio >= bulk_goal;
  constexpr double heap_goal = 48 * 1024;
  const bool heap_met = sr.accessory_heap_per_channel() <= heap_goal;
  // A channel that did not come up, or did not stay up while idle, is a failed run: the
  // figures are still printed, the exit status says so.
  const std::size_t failed_runs = (sr.requested - std::min(sr.established, sr.requested)) +
                                  (sr.requested - std::min(sr.accessory_connected, sr.requested));
  const double small_ratio = ms.median > 0 ? ls.median / ms.median : 0;
  const double small_ratio_unbuffered = us.median > 0 ? ls.median / us.median : 0;
  const double rtt_ratio = mr.median > 0 ? lr.median / mr.median : 0;
  // The product API against the lower-level path: not more than 5% slower (rates at least
  // 0.95x, the round trip at most 1.05x), judged on the median of the per-round ratios (each
  // product run against the lower-level run beside it). The twin is judged the same way: an
  // A/A control that shows whether this run can tell 5% apart at all.
  constexpr double drop_goal = 0.05;
  const summary d_bulk_paired = summarize(d_paired.bulk),
                d_small_paired = summarize(d_paired.small), d_rtt_paired = summarize(d_paired.rtt),
                t_bulk_paired = summarize(t_paired.bulk),
                t_small_paired = summarize(t_paired.small), t_rtt_paired = summarize(t_paired.rtt);
  auto rate_kept = [&](const summary& r) { return r.median >= 1 - drop_goal - 1e-12; };
  auto time_kept = [&](const summary& r) {
    return r.median > 0 && r.median <= 1 + drop_goal + 1e-12;
  };
  const bool d_bulk_met = rate_kept(d_bulk_paired), d_small_met = rate_kept(d_small_paired),
             d_rtt_met = time_kept(d_rtt_paired), t_bulk_met = rate_kept(t_bulk_paired),
             t_small_met = rate_kept(t_small_paired), t_rtt_met = time_kept(t_rtt_paired);
  // A run whose A/A control misses a goal cannot tell 5% apart: its product-API verdicts are
  // printed, and flagged as not conclusive (re-run on a quieter machine).
  const bool resolvable = t_bulk_met && t_small_met && t_rtt_met;
  // Ratios of the medians over all rounds, as before the per-round ratios: for comparison.
  const double d_bulk_ratio = ratio(db.median, lb.median);
  const double d_small_ratio = ratio(ds.median, ls.median);
  const double d_rtt_ratio = ratio(dr.median, lr.median);
  // The receive side under flow control (accessory -> app, the app pulling with
  // device::async_receive) against the plain connection's bulk.
  constexpr double receive_goal = 0.85;
  const double receive_ratio = ratio(dv.median, mb.median);
  const bool receive_met = receive_ratio >= receive_goal;

  out.begin_object();
  out.key("cipher_suite").value(suite);
  out.key("params")
      .begin_object()
      .key("rounds")
      .value(static_cast<std::uint64_t>(p.rounds))
      .key("bulk_bytes")
      .value(static_cast<std::uint64_t>(bulk_total))
      .key("bulk_message_size")
      .value(static_cast<std::uint64_t>(p.bulk_message))
      .key("small_messages")
      .value(static_cast<std::uint64_t>(p.small_messages))
      .key("small_message_size")
      .value(static_cast<std::uint64_t>(p.small_size))
      .key("small_batch_bytes")
      .value(static_cast<std::uint64_t>(batch_bytes))
      .key("rtt_iterations")
      .value(static_cast<std::uint64_t>(l_rtt.size()))
      .key("bulk_send_window")
      .value(static_cast<std::uint64_t>(bulk_window))
      .key("small_send_window")
      .value(static_cast<std::uint64_t>(small_window))
      .key("send_options")
      .value("send_mode::wait, send_completion_mode::queued (lanyard and device_node)")
      .key("max_replay_bytes")
      .begin_object()
      .key("lanyard_app")
      .value(static_cast<std::uint64_t>(client::client_options{}.session.max_replay_bytes))
      .key("lanyard_accessory")
      .value(static_cast<std::uint64_t>(accessory::server_options{}.session.max_replay_bytes))
      .key("device")
      .value(static_cast<std::uint64_t>(app::controller_options{}.session.max_replay_bytes))
      .key("node")
      .value(static_cast<std::uint64_t>(node::node_options{}.server.session.max_replay_bytes))
      .end_object()
      .key("receive")
      .begin_object()
      .key("lanyard")
      .value("push: message handlers, acknowledged on receipt")
      .key("device_node")
      .value("pull: device::async_receive / node::async_receive loops, acknowledged once taken")
      .end_object()
      .end_object();
  const summary d_bulk_cpu_s = summarize(d_bulk_cpu), d_small_cpu_s = summarize(d_small_cpu);
  const summary t_bulk_cpu_s = summarize(t_bulk_cpu), t_small_cpu_s = summarize(t_small_cpu);
  write_pair(out, "bulk_mb_per_s", lb, mb, &db, nullptr, &tb);
  write_pair(out, "bulk_cpu_percent", summarize(l_bulk_cpu), summarize(m_bulk_cpu), &d_bulk_cpu_s,
             nullptr, &t_bulk_cpu_s);
  write_pair(out, "small_messages_per_s", ls, ms, &ds, &us, &ts);
  const summary u_cpu = summarize(u_small_cpu);
  write_pair(out, "small_cpu_percent", summarize(l_small_cpu), summarize(m_small_cpu),
             &d_small_cpu_s, &u_cpu, &t_small_cpu_s);
  write_pair(out, "rtt_us", lr, mr, &dr, nullptr, &tr);
  out.key("bulk_ratio_vs_mbedtls").value(bulk_ratio);
  out.key("small_ratio_vs_mbedtls").value(small_ratio);
  out.key("small_ratio_vs_mbedtls_unbuffered").value(small_ratio_unbuffered);
  out.key("rtt_median_ratio_vs_mbedtls").value(rtt_ratio);
  // The product API: device_node / lanyard per figure (rtt: time, the others: rate).
  out.key("device_node_bulk_ratio_vs_lanyard").value(d_bulk_ratio);
  out.key("device_node_small_ratio_vs_lanyard").value(d_small_ratio);
  out.key("device_node_rtt_median_ratio_vs_lanyard").value(d_rtt_ratio);
  out.key("device_node_bulk_ratio_vs_mbedtls").value(ratio(db.median, mb.median));
  // Per round, each against the lower-level run beside it: what the goal is judged on.
  out.key("per_round_ratios_vs_lanyard").begin_object();
  for (const auto& [name, bulk, small, rtt] :
       {std::tuple{"device_node", &d_bulk_paired, &d_small_paired, &d_rtt_paired},
        std::tuple{"lanyard_twin", &t_bulk_paired, &t_small_paired, &t_rtt_paired}}) {
    out.key(name).begin_object().key("bulk");
    write_summary(out, *bulk);
    out.key("small_messages");
    write_summary(out, *small);
    out.key("rtt_median");
    write_summary(out, *rtt);
    out.end_object();
  }
  out.end_object();
  // Accessory -> app; the baseline is the plain connection's bulk above (client -> server:
  // both of its ends run in this thread, so its direction costs the same work).
  out.key("receive_bulk_mb_per_s").begin_object().key("device_node");
  write_summary(out, dv);
  out.key("lanyard");
  write_summary(out, lv);
  out.end_object();
  out.key("receive_bulk_cpu_percent").begin_object().key("device_node");
  write_summary(out, summarize(d_recv_cpu));
  out.key("lanyard");
  write_summary(out, summarize(l_recv_cpu));
  out.end_object();
  out.key("receive_bulk_ratio_vs_mbedtls").value(receive_ratio);
  out.key("receive_bulk_lanyard_ratio_vs_mbedtls").value(ratio(lv.median, mb.median));
  out.key("heap_bytes_per_idle_channel")
      .begin_object()
      .key("app")
      .value(sr.app_heap_per_channel())
      .key("accessory")
      .value(sr.accessory_heap_per_channel())
      .key("method")
      .value("mallinfo2 (uordblks + hblkhd) delta over all channels / channels")
      .end_object();
  out.key("concurrent_channels").begin_object();
  out.key("requested").value(static_cast<std::uint64_t>(sr.requested));
  out.key("established").value(static_cast<std::uint64_t>(sr.established));
  out.key("failed").value(static_cast<std::uint64_t>(sr.failed));
  out.key("retried").value(static_cast<std::uint64_t>(sr.waiting_events));
  out.key("accessory_sessions").value(static_cast<std::uint64_t>(sr.accessory_sessions));
  out.key("accessory_connected_after_idle")
      .value(static_cast<std::uint64_t>(sr.accessory_connected));
  out.key("app_ready_after_idle").value(static_cast<std::uint64_t>(sr.app_ready_after_idle));
  out.key("identity_seconds").value(sr.identity_seconds);
  out.key("store_seconds").value(sr.store_seconds);
  out.key("setup_seconds").value(sr.setup_seconds);
  out.key("accessory_setup_cpu_seconds").value(sr.accessory_setup_cpu_seconds);
  out.key("idle_seconds").value(sr.idle_seconds);
  out.key("accessory_idle_cpu_percent").value(sr.accessory_idle_cpu_percent());
  out.key("app_idle_cpu_percent").value(sr.app_idle_cpu_percent());
  out.key("accessory_rss_per_channel_bytes").value(sr.accessory_rss_per_channel());
  write_sample(out, "accessory_before", sr.accessory_before);
  write_sample(out, "accessory_after", sr.accessory_after);
  write_sample(out, "accessory_idle_end", sr.accessory_idle_end);
  write_sample(out, "app_before", sr.app_before);
  write_sample(out, "app_after", sr.app_after);
  out.key("accessory_log_lines").value(static_cast<std::uint64_t>(sr.accessory_log_lines));
  out.end_object();
  out.key("goals")
      .begin_object()
      .key("bulk_ratio_vs_mbedtls_min")
      .value(bulk_goal)
      .key("bulk_ratio_vs_mbedtls_met")
      .value(bulk_met)
      .key("accessory_heap_bytes_per_idle_channel_max")
      .value(heap_goal)
      .key("accessory_heap_bytes_per_idle_channel_met")
      .value(heap_met)
      .key("concurrent_channels_min")
      .value(10000)
      .key("device_node_vs_lanyard_drop_max")
      .value(drop_goal)
      .key("device_node_bulk_vs_lanyard_met")
      .value(d_bulk_met)
      .key("device_node_small_vs_lanyard_met")
      .value(d_small_met)
      .key("device_node_rtt_vs_lanyard_met")
      .value(d_rtt_met)
      .key("lanyard_twin_bulk_vs_lanyard_met")
      .value(t_bulk_met)
      .key("lanyard_twin_small_vs_lanyard_met")
      .value(t_small_met)
      .key("lanyard_twin_rtt_vs_lanyard_met")
      .value(t_rtt_met)
      .key("device_node_verdicts_resolvable")
      .value(resolvable)
      .key("receive_bulk_ratio_vs_mbedtls_min")
      .value(receive_goal)
      .key("receive_bulk_ratio_vs_mbedtls_met")
      .value(receive_met)
      .end_object();
  out.key("failed_runs").value(static_cast<std::uint64_t>(failed_runs));
  out.end_object();

  char line[320];
  std::snprintf(line, sizeof line, "cipher suite: %s (both contenders)", suite.c_str());
  lines.emplace_back(line);
  std::snprintf(line, sizeof line,
                "bulk (%zu x %zu B, %zu rounds): lanyard median %.1f MB/s | mbedtls median %.1f "
                "MB/s",
                bulk_count, p.bulk_message, p.rounds, lb.median, mb.median);
  lines.emplace_back(line);
  std::snprintf(line, sizeof line,
                "bulk CPU use (CPU time / wall time): lanyard median %.0f%% | mbedtls median "
                "%.0f%%",
                summarize(l_bulk_cpu).median, summarize(m_bulk_cpu).median);
  lines.emplace_back(line);
  std::snprintf(line, sizeof line,
                "bulk_ratio_vs_mbedtls %.3f (goal >= %.2f with %zu B messages) %s", bulk_ratio,
                bulk_goal, p.bulk_message, bulk_met ? "met" : "NOT met");
  lines.emplace_back(line);
  std::snprintf(line, sizeof line,
                "%zu-byte messages: lanyard median %.0f msg/s | mbedtls buffered (%zu B batches) "
                "median %.0f msg/s: ratio %.3f",
                p.small_size, ls.median, batch_bytes, ms.median, small_ratio);
  lines.emplace_back(line);
  std::snprintf(line, sizeof line,
                "%zu-byte messages: mbedtls unbuffered (a record and a send per message) median "
                "%.0f msg/s: lanyard / unbuffered %.3f",
                p.small_size, us.median, small_ratio_unbuffered);
  lines.emplace_back(line);
  std::snprintf(line, sizeof line,
                "%zu-byte messages, CPU use: lanyard median %.0f%% | mbedtls buffered %.0f%% | "
                "unbuffered %.0f%%",
                p.small_size, summarize(l_small_cpu).median, summarize(m_small_cpu).median,
                u_cpu.median);
  lines.emplace_back(line);
  std::snprintf(line, sizeof line,
                "round trip (%zu B echo): lanyard p50 %.1f us p99 %.1f us | mbedtls p50 %.1f us "
                "p99 %.1f us",
                p.small_size, lr.median, lr.p99, mr.median, mr.p99);
  lines.emplace_back(line);
  auto apart = [](bool met) { return met ? "met" : "NOT met"; };
  std::snprintf(line, sizeof line,
                "device/node (app::device -> node::node, pull receive) bulk median %.1f MB/s, "
                "%.0f-byte messages median %.0f msg/s, round trip p50 %.1f us p99 %.1f us",
                db.median, static_cast<double>(p.small_size), ds.median, dr.median, dr.p99);
  lines.emplace_back(line);
  // "0.981 (0.950-1.010) met": the median of the per-round ratios (their range) and the goal.
  auto judged = [&](const summary& r, bool met) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3f (%.3f-%.3f) %s", r.median, r.min, r.max, apart(met));
    return std::string(buf);
  };
  std::snprintf(line, sizeof line,
                "device/node / lanyard per round (goal: at most %.0f%% slower): bulk %s, "
                "messages %s, round trip %s",
                drop_goal * 100, judged(d_bulk_paired, d_bulk_met).c_str(),
                judged(d_small_paired, d_small_met).c_str(),
                judged(d_rtt_paired, d_rtt_met).c_str());
  lines.emplace_back(line);
  std::snprintf(line, sizeof line,
                "A/A control, lanyard twin / lanyard per round (same goal): bulk %s, messages %s, "
                "round trip %s",
                judged(t_bulk_paired, t_bulk_met).c_str(),
                judged(t_small_paired, t_small_met).c_str(),
                judged(t_rtt_paired, t_rtt_met).c_str());
  lines.emplace_back(line);
  lines.emplace_back(resolvable ? "A/A control met every goal: this run resolves 5%"
                                : "A/A control missed a goal: this run cannot tell 5% apart, "
                                  "its device/node verdicts are not conclusive (re-run)");
  std::snprintf(line, sizeof line,
                "device/node / lanyard, medians of all rounds: bulk %.3f, messages %.3f, round "
                "trip %.3f",
                d_bulk_ratio, d_small_ratio, d_rtt_ratio);
  lines.emplace_back(line);
  std::snprintf(line, sizeof line,
                "receive side (accessory -> app, %zu B messages): device/node (app pulls, "
                "acknowledged once taken) median %.1f MB/s | lanyard (push) median %.1f MB/s",
                p.bulk_message, dv.median, lv.median);
  lines.emplace_back(line);
  std::snprintf(line, sizeof line,
                "receive_bulk_ratio_vs_mbedtls %.3f (device/node / plain bulk, goal >= %.2f) %s",
                receive_ratio, receive_goal, receive_met ? "met" : "NOT met");
  lines.emplace_back(line);
  std::snprintf(
      line, sizeof line,
      "heap per idle channel (mallinfo2): app %.0f B, accessory %.0f B (goal <= %.0f B) %s",
      sr.app_heap_per_channel(), sr.accessory_heap_per_channel(), heap_goal,
      heap_met ? "met" : "NOT met");
  lines.emplace_back(line);
  std::snprintf(line, sizeof line,
                "concurrent idle channels: %zu of %zu established in %.1f s (accessory CPU %.1f "
                "s), %zu still connected after %.0f s idle (goal 10000) %s",
                sr.established, sr.requested, sr.setup_seconds, sr.accessory_setup_cpu_seconds,
                sr.accessory_connected, sr.idle_seconds,
                sr.accessory_connected >= 10000 ? "met" : "not measured at 10000 in this run");
  lines.emplace_back(line);
  std::snprintf(line, sizeof line,
                "accessory process: RSS %.1f MiB -> %.1f MiB (%.0f B per channel), idle CPU "
                "%.2f%% of a core; app idle CPU %.2f%%",
                sr.accessory_before.rss_bytes / 1048576.0, sr.accessory_after.rss_bytes / 1048576.0,
                sr.accessory_rss_per_channel(), sr.accessory_idle_cpu_percent(),
                sr.app_idle_cpu_percent());
  lines.emplace_back(line);
  for (const auto& l : sr.accessory_log_sample)
    lines.push_back("accessory log: " + l);
  for (const auto& l : sr.app_log_sample)
    lines.push_back("app log: " + l);
  if (failed_runs > 0) {
    std::fprintf(stderr,
                 "lanyard-bench channel: %zu failed runs (channels not established or not "
                 "connected after the idle window)\n",
                 failed_runs);
    return 1;
  }
  return 0;
}

const benchmark bench_channel{
    "channel",
    "channel throughput, 64-byte message rate, RTT vs plain mbedTLS, also through "
    "device/node; idle channels at scale",
    "usage: lanyard-bench channel [options] [--json]\n"
    "  Lanyard's channel (client_channel -> accessory::server, pinned mutual TLS), the same\n"
    "  through the product API (app::device -> node::node, paired once before measuring,\n"
    "  pull receive on both ends) and one plain mbedTLS TLS connection with the same cipher\n"
    "  suite, both ends in one thread over loopback, alternating round by round; a twin of\n"
    "  the lower-level channel as an A/A control for the product API's goal; bulk also\n"
    "  accessory -> app (the receive side under flow control); then N idle channels held by\n"
    "  one accessory-server process (forked), with heap per channel on both sides, RSS, CPU.\n"
    "  --rounds N             rounds of bulk / small / RTT per contender (default 6)\n"
    "  --bulk-bytes N         bytes per bulk round (default 67108864)\n"
    "  --bulk-message-size N  bytes per bulk message / write (default 16384, max 65536)\n"
    "  --small-messages N     64-byte messages per round (default 100000); plain mbedTLS\n"
    "                         twice: buffered in Lanyard's 64 KiB batches (the baseline)\n"
    "                         and unbuffered (one record per message)\n"
    "  --plain-batch-bytes N  the buffered plain contender's batch (default: Lanyard's\n"
    "                         output_batch_bytes, 65536)\n"
    "  --rtt-iterations N     round trips per contender in total (default 2000)\n"
    "  --channels N           concurrent idle channels (default 200; the goal's figure:\n"
    "                         --channels 10000, several minutes: one full P-256 handshake\n"
    "                         per controller)\n"
    "  --concurrency N        handshakes in progress at once while connecting (default 16)\n"
    "  --idle-seconds N       idle window for the CPU figure (default 10; keep-alive 5 s)\n",
    cli::arg_spec{{{"rounds", true},
                   {"bulk-bytes", true},
                   {"bulk-message-size", true},
                   {"small-messages", true},
                   {"rtt-iterations", true},
                   {"plain-batch-bytes", true},
                   {"channels", true},
                   {"concurrency", true},
                   {"idle-seconds", true}},
                  0,
                  0},
    &run,
};
benchmark_registrar reg{bench_channel};

} // namespace
} // namespace lanyard::bench
