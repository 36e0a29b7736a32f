// lanyard-bench pairing: what pairing that proves possession adds to the TLS handshake an app
// pays anyway. Three contenders, alternating run by run, against one real accessory::server
// (its own thread and io_context, controller store on disk) over loopback TCP:
//   handshake  a paired controller's full mutual TLS handshake (tickets off): the baseline;
//   payload    an unknown controller's full handshake + the setup-secret proof (QR payload),
//              until client::async_pair completes;
//   code       the same with the 8-digit setup code: SPAKE2+ with PBKDF2 on the app side.
// Timed from TCP connected to the end of the exchange. The accessory's CPU per run is its
// thread's getrusage(RUSAGE_THREAD), read on that thread before the connect and after the app's
// completion. After every pairing the controller is removed from the store again, so that each
// pairing is a first one. The accessory's delay after a failed proof is shortened to 1 ms
// (why: see run()); --product-delays keeps its default.
#include "bench.hpp"

#include "support/scratch_dir.hpp"

#include <lanyard/accessory/server.hpp>
#include <lanyard/client/pair.hpp>
#include <lanyard/core/pairing_crypto.hpp>
#include <lanyard/core/setup_code.hpp>
#include <lanyard/crypto/pairing_crypto.hpp>
#include <lanyard/crypto/primitives.hpp>
#include <lanyard/tls/stream.hpp>
#include <lanyard/tls_engine/context.hpp>
#include <lanyard/tls_engine/identity.hpp>
#include <lanyard/trust/controller_store.hpp>
#include <lanyard/trust/setup_credentials.hpp>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace lanyard::bench {
namespace {

namespace fs = std::filesystem;
using asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

constexpr double payload_goal = 1.2; // payload pairing median / full handshake median
constexpr double code_goal = 2.0;    // code pairing median / full handshake median
constexpr int max_failures = 10;     // then the run stops: something is broken, not slow

double ms_since(clock_type::time_point t0) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
}

// CPU time (user + system) of the calling thread, in milliseconds.
double thread_cpu_ms() {
  rusage ru{};
  ::getrusage(RUSAGE_THREAD, &ru);
  const auto us = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) * 1e6 + static_cast<double>(tv.tv_usec);
  };
  return (us(ru.ru_utime) + us(ru.ru_stime)) / 1e3;
}

struct temp_dir : lanyard::test::scratch_dir {
  explicit temp_dir(const fs::path& base) : scratch_dir("lanyard-bench-pair", base) {}
};

// The accessory: accessory::server on its own io_context, run by its own thread.
class accessory_thread {
public:
  std::error_code start(tls::identity id, std::shared_ptr<trust::controller_store> store,
                        accessory::server_options opts) {
    store_ = std::move(store);
    opts.log = [this](std::string_view line) {
      std::lock_guard lock(log_mutex_);
      last_log_ = line;
    };
    server_ = std::make_unique<accessory::server>(io_.get_executor(), tls::context(std::move(id)),
                                                  store_, std::move(opts));
    server_->set_pairing_handler([this](const accessory::server::pairing_report& r) {
      (r.error ? pairing_failed_ : paired_).fetch_add(1);
    });
    if (std::error_code ec = server_->listen(tcp::endpoint(asio::ip::address_v4::loopback(), 0)))
      return ec;
    endpoint_ = server_->local_endpoint();
    thread_ = std::thread([this] { io_.run(); });
    return {};
  }

  ~accessory_thread() { stop(); }
  accessory_thread() = default;
  accessory_thread(const accessory_thread&) = delete;
  accessory_thread& operator=(const accessory_thread&) = delete;

  void stop() {
    if (!thread_.joinable()) return;
    asio::post(io_, [this] {
      server_->close();
      server_.reset();
    });
    work_.reset();
    thread_.join();
  }

  // The accessory thread's CPU time, read on that thread by a handler posted behind whatever
  // it has queued (so it also waits for the accessory to have handled what came before).
  // Negative if the thread does not answer within 10 s.
  double cpu_ms() {
    auto p = std::make_shared<std::promise<double>>();
    auto f = p->get_future();
    asio::post(io_, [p] { p->set_value(thread_cpu_ms()); });
    if (f.wait_for(std::chrono::seconds(10)) != std::future_status::ready) return -1;
    return f.get();
  }

  const tcp::endpoint& endpoint() const { return endpoint_; }
  unsigned paired() const { return paired_.load(); }
  unsigned pairing_failed() const { return pairing_failed_.load(); }
  std::string last_log() {
    std::lock_guard lock(log_mutex_);
    return last_log_;
  }

private:
  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{
      io_.get_executor()};
  std::shared_ptr<trust::controller_store> store_;
  std::unique_ptr<accessory::server> server_;
  tcp::endpoint endpoint_;
  std::thread thread_;
  std::atomic<unsigned> paired_{0};
  std::atomic<unsigned> pairing_failed_{0};
  std::mutex log_mutex_;
  std::string last_log_;
};

enum contender : int { handshake = 0, payload = 1, code = 2 };
constexpr std::array<const char*, 3> contender_key = {"full_handshake", "payload_pairing",
                                                      "code_pairing"};

// One controller of the app: its identity, in a client TLS context without session tickets.
struct controller {
  core::fingerprint fingerprint;
  std::unique_ptr<tls::context> ctx;
};

struct samples {
  std::vector<double> wall_ms, handshake_ms, exchange_ms, app_cpu_ms, accessory_cpu_ms;
};

struct setup {
  asio::io_context io; // the app's; run by this (the main) thread
  accessory_thread accessory;
  std::shared_ptr<trust::controller_store> store;
  std::array<controller, 3> controllers;
  std::array<std::uint8_t, 16> secret{};
  std::string code;
};

// Reads from `sock` until the peer closes it (or 5 s pass): the accessory has then handled the
// end of the connection, so its teardown does not fall into the next run.
void wait_for_close(asio::io_context& io, tcp::socket& sock) {
  std::array<char, 256> buf{};
  asio::steady_timer timer(io, std::chrono::seconds(5));
  bool closed = false;
  std::function<void()> read = [&] {
    sock.async_read_some(asio::buffer(buf), [&](std::error_code ec, std::size_t) {
      if (ec) {
        closed = true;
        timer.cancel();
        return;
      }
      read();
    });
  };
  read();
  timer.async_wait([&](std::error_code ec) {
    if (!ec && !closed) {
      std::error_code ignored;
      sock.cancel(ignored);
    }
  });
  io.run();
  io.restart();
}

// One run of contender `c`; false (and `error`) on any failure.
bool run_once(setup& s, contender c, samples& out, std::string& error) {
  const controller& who = s.controllers[c];
  if (c != handshake && s.store->find(who.fingerprint)) {
    error = "the controller is still paired before its run";
    return false;
  }
  const double acc0 = s.accessory.cpu_ms();
  tcp::socket sock(s.io);
  std::error_code ec;
  sock.connect(s.accessory.endpoint(), ec);
  if (!ec) sock.set_option(tcp::no_delay(true), ec); // as client_channel does
  if (ec) {
    error = "connect: " + ec.message();
    return false;
  }
  client::pairing_stream stream(std::move(sock), *who.ctx);
  std::optional<std::error_code> hs, pr;
  core::pairing_outcome outcome;
  double hs_ms = 0;

  const double app0 = thread_cpu_ms();
  const auto t0 = clock_type::now();
  stream.async_handshake(tls::role::client, [&](std::error_code hec) {
    hs = hec;
    hs_ms = ms_since(t0);
    if (hec || c == handshake) return;
    client::pairing_request req;
    req.name = "bench phone";
    if (c == payload) {
      req.credentials.method = core::pairing_method::setup_secret;
      req.credentials.secret = s.secret;
    } else {
      req.credentials.method = core::pairing_method::setup_code;
      req.credentials.code = s.code;
    }
    client::async_pair(stream, std::move(req), [&](std::error_code pec, core::pairing_outcome o) {
      pr = pec;
      outcome = o;
    });
  });
  s.io.run();
  const double wall = ms_since(t0);
  const double app1 = thread_cpu_ms();
  s.io.restart();
  const double acc1 = s.accessory.cpu_ms();

  if (!hs || *hs) {
    error = "handshake: " + (hs ? hs->message() : std::string("did not complete")) + " (" +
            stream.last_error_detail() + "; accessory: " + s.accessory.last_log() + ")";
  } else if (stream.resumed()) {
    error = "the handshake was resumed, not a full one";
  } else if (c != handshake && (!pr || *pr)) {
    error = "pairing: " + (pr ? pr->message() : std::string("did not complete")) +
            " (accessory: " + s.accessory.last_log() + ")";
  } else if (c != handshake && outcome.role != core::paired_role::user) {
    error = "pairing: paired as admin, expected user (the bench's owner is the admin)";
  } else if (acc0 < 0 || acc1 < 0) {
    error = "the accessory thread did not answer";
  }

  // End the connection and wait until the accessory closed its side.
  stream.next_layer().shutdown(tcp::socket::shutdown_send, ec);
  wait_for_close(s.io, *stream.next_layer().socket());
  stream.next_layer().close(ec);

  if (c != handshake) {
    // Unpair, so that the next run of this controller is a first pairing again.
    if (s.store->find(who.fingerprint)) {
      if (auto st = s.store->remove(who.fingerprint); st.failed() && error.empty())
        error = "removing the controller: " + st.message();
    } else if (error.empty()) {
      error = "pairing completed but the controller is not in the store";
    }
  }
  if (!error.empty()) return false;
  out.wall_ms.push_back(wall);
  out.handshake_ms.push_back(hs_ms);
  if (c != handshake) out.exchange_ms.push_back(wall - hs_ms);
  out.app_cpu_ms.push_back(app1 - app0);
  out.accessory_cpu_ms.push_back(acc1 - acc0);
  return true;
}

// The pieces of the proofs alone, in this thread (medians over `n` samples): where the time of
// a pairing goes besides the handshake and the round trips.
struct crypto_figures {
  summary pbkdf2, secret_proof, prover_start, verifier_respond, prover_finish, verifier_finish;
  summary store_pair, store_remove;
};

bool measure_pieces(setup& s, const trust::setup_credentials& creds, const fs::path& dir, int n,
                    crypto_figures& f, std::string& error) {
  std::vector<double> pbkdf2, secret, pstart, vrespond, pfinish, vfinish, spair, sremove;
  core::pairing_binding b;
  b.exporter.fill(0x11);
  b.controller = s.controllers[code].fingerprint;
  b.accessory = s.controllers[handshake].fingerprint;
  const auto code_bytes =
      crypto::bytes_view(reinterpret_cast<const std::uint8_t*>(s.code.data()), s.code.size());
  // A scratch store in the same directory: one controller_store write as the accessory does it.
  trust::controller_store scratch(dir / "scratch-controllers", 1024);
  if (auto st = scratch.open_window(std::chrono::system_clock::now()); st.failed()) {
    error = "scratch store: " + st.message();
    return false;
  }
  for (int i = 0; i < n; ++i) {
    std::array<std::uint8_t, 80> ws{};
    auto t = clock_type::now();
    std::error_code ec =
        crypto::pbkdf2_hmac_sha256(code_bytes, creds.verifier.salt, creds.verifier.iterations, ws);
    pbkdf2.push_back(ms_since(t));

    crypto::mbedtls_pairing_crypto app, acc;
    core::pairing_mac mac{}, confirm_v{}, confirm_p{};
    core::pairing_point share_p{}, share_v{};
    t = clock_type::now();
    if (!ec) ec = app.secret_proof(s.secret, b, core::pairing_party::controller, mac);
    secret.push_back(ms_since(t));
    t = clock_type::now();
    if (!ec)
      ec =
          app.code_prover_start(s.code, creds.verifier.salt, creds.verifier.iterations, b, share_p);
    pstart.push_back(ms_since(t));
    t = clock_type::now();
    if (!ec) ec = acc.code_verifier_respond(creds.verifier, b, share_p, share_v, confirm_v);
    vrespond.push_back(ms_since(t));
    t = clock_type::now();
    if (!ec) ec = app.code_prover_finish(share_v, confirm_v, confirm_p);
    pfinish.push_back(ms_since(t));
    t = clock_type::now();
    if (!ec) ec = acc.code_verifier_finish(confirm_p);
    vfinish.push_back(ms_since(t));
    if (ec) {
      error = "crypto: " + ec.message();
      return false;
    }

    // Any fingerprint not in the scratch store will do.
    core::fingerprint fp = s.controllers[(i % 2) ? payload : code].fingerprint;
    t = clock_type::now();
    auto st = scratch.pair(fp, "bench phone", trust::controller_role::user,
                           std::chrono::system_clock::now());
    spair.push_back(ms_since(t));
    t = clock_type::now();
    if (!st.failed()) st = scratch.remove(fp);
    sremove.push_back(ms_since(t));
    if (st.failed()) {
      error = "scratch store: " + st.message();
      return false;
    }
  }
  f.pbkdf2 = summarize(pbkdf2);
  f.secret_proof = summarize(secret);
  f.prover_start = summarize(pstart);
  f.verifier_respond = summarize(vrespond);
  f.prover_finish = summarize(pfinish);
  f.verifier_finish = summarize(vfinish);
  f.store_pair = summarize(spair);
  f.store_remove = summarize(sremove);
  return true;
}

int fail(const std::string& what) {
  std::fprintf(stderr, "lanyard-bench pairing: %s\n", what.c_str());
  return 1;
}

int run(const cli::parsed_args& args, cli::json_writer& out, std::vector<std::string>& lines) {
  std::string error;
  long long runs = 200;
  if (auto v = args.value("runs")) {
    auto n = cli::parse_integer(*v, 1, 100000, "--runs", error);
    if (!n) {
      std::fprintf(stderr, "lanyard-bench pairing: %s\n", error.c_str());
      return 2;
    }
    runs = *n;
  }
  const fs::path base = args.value("store-dir").value_or(fs::temp_directory_path().string());
  temp_dir dir(base);
  if (dir.path.empty()) return fail("cannot create a directory in " + base.string());

  // Everything slow happens here, before the first timed run: identities, the code's verifier.
  setup s;
  std::error_code ec;
  tls::identity accessory_id = tls::identity::generate("bench-accessory", ec);
  if (ec) return fail("accessory identity: " + ec.message());
  const core::fingerprint accessory_fp = accessory_id.fingerprint();
  const char* names[] = {"bench-owner", "bench-payload-phone", "bench-code-phone"};
  for (int c = 0; c < 3; ++c) {
    tls::identity id = tls::identity::generate(names[c], ec);
    if (ec) return fail(std::string(names[c]) + " identity: " + ec.message());
    tls::context_options o;
    o.session_tickets = false; // what client::async_pair requires
    o.verifier = [accessory_fp](const core::fingerprint& fp, const tls::peer_cert_info&) {
      return fp == accessory_fp ? std::error_code{}
                                : std::make_error_code(std::errc::permission_denied);
    };
    s.controllers[c].fingerprint = id.fingerprint();
    s.controllers[c].ctx = std::make_unique<tls::context>(std::move(id), o);
  }
  std::string code7 = "2718281";
  s.code = code7 + core::verhoeff_check_digit(code7);
  if (!core::parse_setup_code(s.code)) return fail("bench setup code " + s.code + " is invalid");
  trust::setup_credentials creds;
  for (std::size_t i = 0; i < creds.secret.size(); ++i)
    creds.secret[i] = static_cast<std::uint8_t>(0xa5 ^ i);
  s.secret = creds.secret;
  if (auto cec = crypto::make_setup_code_verifier(
          s.code, crypto::system_random(), crypto::default_setup_code_iterations, creds.verifier))
    return fail("setup code verifier: " + cec.message());

  // The store: a cap far above what the bench pairs at once (two controllers besides the
  // owner), the window open (setup mode), the owner paired first (admin), so that the pairing
  // controllers come in as users and can be removed again.
  s.store = std::make_shared<trust::controller_store>(dir.path / "controllers", 1024);
  const auto now = std::chrono::system_clock::now();
  if (auto st = s.store->load(); st.failed()) return fail("store: " + st.message());
  if (auto st = s.store->open_window(now); st.failed()) return fail("store: " + st.message());
  if (auto st = s.store->pair(s.controllers[handshake].fingerprint, "bench owner",
                              trust::controller_role::admin, now);
      st.failed())
    return fail("store: " + st.message());

  accessory::server_options opts;
  opts.pairing.credentials = creds;
  // The delay after a failed proof (250 ms, doubling) should not touch a successful pairing,
  // but a code pairing arms it: the accessory counts the attempt before its challenge goes out,
  // which sets the delay, and refunds the count after the confirmation, which does not clear
  // the delay. So a pairing that follows a code pairing within 250 ms waits for the rest — a
  // benchmark artefact (a real first pairing does not follow another one that closely), so the
  // delays are shortened to 1 ms as test labs do; --product-delays keeps the defaults and shows
  // what the artefact costs back to back.
  const bool product_delays = args.has("product-delays");
  if (!product_delays) opts.pairing.failure_delay_first = std::chrono::milliseconds(1);
  if (auto lec = s.accessory.start(std::move(accessory_id), s.store, opts))
    return fail("accessory listen: " + lec.message());

  crypto_figures pieces;
  const int piece_runs = static_cast<int>(std::clamp<long long>(runs, 3, 30));
  if (!measure_pieces(s, creds, dir.path, piece_runs, pieces, error)) return fail(error);

  // Warm-up (not counted), then the contenders in rotating order, so that each goes first,
  // second and third equally often and drift hits all alike.
  std::array<samples, 3> res;
  for (int i = 0; i < 2; ++i) {
    for (int c = 0; c < 3; ++c) {
      samples ignored;
      if (!run_once(s, static_cast<contender>(c), ignored, error))
        return fail(std::string("warm-up ") + contender_key[c] + ": " + error);
    }
  }
  const unsigned paired_before = s.accessory.paired();
  const auto started = clock_type::now();
  int failures = 0;
  bool gave_up = false;
  for (long long i = 0; i < runs && !gave_up; ++i) {
    for (int k = 0; k < 3; ++k) {
      const auto c = static_cast<contender>((i + k) % 3);
      error.clear();
      if (!run_once(s, c, res[c], error)) {
        ++failures;
        std::fprintf(stderr, "lanyard-bench pairing: %s run %lld: %s\n", contender_key[c], i,
                     error.c_str());
        if (failures >= max_failures) {
          std::fprintf(stderr, "lanyard-bench pairing: %d failed runs; stopping\n", failures);
          gave_up = true;
          break;
        }
      }
    }
  }
  const double total_s = ms_since(started) / 1e3;
  const unsigned accessory_paired = s.accessory.paired() - paired_before;
  const unsigned accessory_failed = s.accessory.pairing_failed();
  s.accessory.stop();

  std::array<summary, 3> wall, hs, app_cpu, acc_cpu;
  for (int c = 0; c < 3; ++c) {
    wall[c] = summarize(res[c].wall_ms);
    hs[c] = summarize(res[c].handshake_ms);
    app_cpu[c] = summarize(res[c].app_cpu_ms);
    acc_cpu[c] = summarize(res[c].accessory_cpu_ms);
  }
  const summary payload_x = summarize(res[payload].exchange_ms);
  const summary code_x = summarize(res[code].exchange_ms);
  const double base_median = wall[handshake].median;
  const double payload_ratio = base_median > 0 ? wall[payload].median / base_median : 0;
  const double code_ratio = base_median > 0 ? wall[code].median / base_median : 0;
  const bool payload_met =
      wall[payload].runs > 0 && payload_ratio > 0 && payload_ratio <= payload_goal;
  const bool code_met = wall[code].runs > 0 && code_ratio > 0 && code_ratio <= code_goal;

  auto per_contender = [&](const char* key, const std::array<summary, 3>& v) {
    out.key(key).begin_object();
    for (int c = 0; c < 3; ++c) {
      out.key(contender_key[c]);
      write_summary(out, v[c]);
    }
    out.end_object();
  };
  out.begin_object();
  per_contender("wall_ms", wall);
  per_contender("handshake_ms", hs);
  out.key("exchange_ms").begin_object().key("payload_pairing");
  write_summary(out, payload_x);
  out.key("code_pairing");
  write_summary(out, code_x);
  out.end_object();
  per_contender("accessory_cpu_ms", acc_cpu);
  per_contender("app_cpu_ms", app_cpu);
  out.key("pieces_ms").begin_object();
  const std::pair<const char*, const summary*> piece_list[] = {
      {"pbkdf2", &pieces.pbkdf2},
      {"secret_proof", &pieces.secret_proof},
      {"spake2_prover_start", &pieces.prover_start},
      {"spake2_verifier_respond", &pieces.verifier_respond},
      {"spake2_prover_finish", &pieces.prover_finish},
      {"spake2_verifier_finish", &pieces.verifier_finish},
      {"store_pair", &pieces.store_pair},
      {"store_remove", &pieces.store_remove},
  };
  for (const auto& [k, v] : piece_list) {
    out.key(k);
    write_summary(out, *v);
  }
  out.end_object();
  out.key("pbkdf2_iterations").value(static_cast<std::uint64_t>(creds.verifier.iterations));
  out.key("payload_over_handshake").value(payload_ratio);
  out.key("code_over_handshake").value(code_ratio);
  out.key("goals")
      .begin_object()
      .key("payload_over_handshake_max")
      .value(payload_goal)
      .key("payload_over_handshake_met")
      .value(payload_met)
      .key("code_over_handshake_max")
      .value(code_goal)
      .key("code_over_handshake_met")
      .value(code_met)
      .end_object();
  out.key("product_delays").value(product_delays);
  out.key("failure_delay_first_ms")
      .value(static_cast<std::int64_t>(opts.pairing.failure_delay_first.count()));
  out.key("store_dir").value(dir.path.parent_path().string());
  out.key("runs").value(static_cast<std::int64_t>(runs));
  out.key("failed_runs").value(failures);
  out.key("accessory_pairings").value(accessory_paired);
  out.key("accessory_failed_pairings").value(accessory_failed);
  out.key("seconds").value(total_s);
  out.end_object();

  char line[320];
  for (int c = 0; c < 3; ++c) {
    std::snprintf(line, sizeof line,
                  "%-16s median %.2f ms p95 %.2f ms | handshake part %.2f ms | accessory CPU "
                  "%.2f ms, app CPU %.2f ms (medians, %zu runs)",
                  contender_key[c], wall[c].median, wall[c].p95, hs[c].median, acc_cpu[c].median,
                  app_cpu[c].median, wall[c].runs);
    lines.emplace_back(line);
  }
  std::snprintf(line, sizeof line,
                "exchange after the handshake: payload median %.2f ms p95 %.2f ms | code median "
                "%.2f ms p95 %.2f ms",
                payload_x.median, payload_x.p95, code_x.median, code_x.p95);
  lines.emplace_back(line);
  std::snprintf(line, sizeof line,
                "pieces (medians): PBKDF2 x%u %.2f ms, SPAKE2+ prover start %.2f ms (with "
                "PBKDF2), verifier respond %.2f ms, prover finish %.2f ms, verifier finish %.3f "
                "ms, secret proof %.3f ms",
                creds.verifier.iterations, pieces.pbkdf2.median, pieces.prover_start.median,
                pieces.verifier_respond.median, pieces.prover_finish.median,
                pieces.verifier_finish.median, pieces.secret_proof.median);
  lines.emplace_back(line);
  std::snprintf(line, sizeof line,
                "controller store write (pair / remove, durable: one fdatasync, in %s): median "
                "%.2f / %.2f ms",
                dir.path.parent_path().c_str(), pieces.store_pair.median,
                pieces.store_remove.median);
  lines.emplace_back(line);
  std::snprintf(line, sizeof line, "payload_over_handshake %.3f (goal <= %.1f) %s", payload_ratio,
                payload_goal, payload_met ? "met" : "NOT met");
  lines.emplace_back(line);
  std::snprintf(line, sizeof line, "code_over_handshake %.3f (goal <= %.1f) %s", code_ratio,
                code_goal, code_met ? "met" : "NOT met");
  lines.emplace_back(line);
  std::snprintf(line, sizeof line, "runs: %lld per contender, failed: %d (%.1f s)", runs, failures,
                total_s);
  lines.emplace_back(line);

  if (failures > 0) {
    std::fprintf(stderr, "lanyard-bench pairing: %d run(s) failed (see above)\n", failures);
    return 1;
  }
  return 0;
}

const benchmark bench_pairing{
    "pairing",
    "first pairing (setup payload / setup code) vs the full TLS handshake it adds to",
    "usage: lanyard-bench pairing [--runs N] [--store-dir DIR] [--json]\n"
    "  An accessory::server in its own thread, the app in this one, loopback TCP. Per run,\n"
    "  rotating: a paired controller's full handshake (the baseline), a new controller's\n"
    "  handshake + setup-secret proof, and + SPAKE2+ with the setup code (PBKDF2 x1000), each\n"
    "  timed from TCP connected to async_pair's completion; the controller is unpaired after\n"
    "  each run. Also the accessory's and the app's CPU per run (RUSAGE_THREAD).\n"
    "  Exit status 1 if any run failed; a missed goal is reported, not an error.\n"
    "  --runs N          runs per contender (default 200, ~30 s)\n"
    "  --product-delays  keep the accessory's default delay after a failed proof (250 ms);\n"
    "                    a code pairing arms it, so the runs after one wait (see docs)\n"
    "  --store-dir DIR   where the accessory's controller store lives (default: $TMPDIR or\n"
    "                    /tmp; its durable writes are part of every pairing)\n",
    cli::arg_spec{{{"runs", true}, {"store-dir", true}, {"product-delays"}}, 0, 0},
    &run,
};
benchmark_registrar reg{bench_pairing};

} // namespace
} // namespace lanyard::bench
