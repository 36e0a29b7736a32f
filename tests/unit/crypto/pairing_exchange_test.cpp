// Both pairing state machines (core::pairing_initiator, core::pairing_responder) against each
// other with the real crypto (lanyard::crypto over mbedTLS) and literal timestamps: no sockets,
// no clock. The host is the accessory's pairing window in memory.
#include <lanyard/core/pairing_responder.hpp>

#include <lanyard/core/channel_error.hpp>
#include <lanyard/core/frame.hpp>
#include <lanyard/core/pairing_initiator.hpp>
#include <lanyard/core/pairing_throttle.hpp>
#include <lanyard/core/pairing_window.hpp>
#include <lanyard/crypto/pairing_crypto.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <vector>

using namespace std::chrono_literals;
using lanyard::core::pairing_errc;
using lanyard::core::pairing_method;
namespace core = lanyard::core;
namespace crypto = lanyard::crypto;

namespace {

using steady = std::chrono::steady_clock;
const steady::time_point t0 = steady::time_point{} + 1000h;

constexpr std::string_view code = "12345670";

core::pairing_binding binding(std::uint8_t seed) {
  core::pairing_binding b;
  for (std::size_t i = 0; i < 32; ++i) {
    b.exporter[i] = static_cast<std::uint8_t>(seed + i);
    b.controller.bytes[i] = static_cast<std::uint8_t>(0x40 + i);
    b.accessory.bytes[i] = static_cast<std::uint8_t>(0x80 + i);
  }
  return b;
}

std::array<std::uint8_t, 16> secret_bytes(std::uint8_t v) {
  std::array<std::uint8_t, 16> s{};
  s.fill(v);
  return s;
}

// The accessory: a pairing window in memory (wall-clock time derived from the steady one).
struct test_host final : core::pairing_responder_host {
  test_host() {
    REQUIRE_FALSE(window.open(sys(t0), 15min));
    REQUIRE_FALSE(crypto::make_setup_code_verifier(code, crypto::system_random(), 1000, verifier));
  }
  static std::chrono::system_clock::time_point sys(time_point t) {
    return std::chrono::system_clock::time_point{} +
           std::chrono::duration_cast<std::chrono::system_clock::duration>(t.time_since_epoch());
  }
  std::error_code admit(time_point now) override { return window.admit(sys(now)); }
  std::uint32_t attempts_left() override { return window.attempts_left(); }
  time_point evaluate_not_before() override { return throttle.not_before(); }
  std::error_code record_failure(time_point now) override {
    if (fail_storage) return pairing_errc::accessory_failure;
    window.record_failure();
    throttle_before = throttle.not_before();
    throttle.record_failure(now, window.state().failed_attempts);
    return {};
  }
  std::error_code refund_failure(time_point now) override {
    window.refund_failure(sys(now));
    throttle.restore(throttle_before);
    return {};
  }
  std::error_code add_controller(const core::fingerprint& fp, std::string_view name,
                                 core::paired_role& role) override {
    if (std::error_code ec = window.admit(sys(now_hint))) return ec;
    paired.push_back(fp);
    names.emplace_back(name);
    role = paired.size() == 1 ? core::paired_role::admin : core::paired_role::user;
    return {};
  }
  std::optional<std::span<const std::uint8_t>> setup_secret() override {
    if (!has_secret) return std::nullopt;
    return std::span<const std::uint8_t>(secret);
  }
  const core::setup_code_verifier* code_verifier() override {
    return has_code ? &verifier : nullptr;
  }
  bool allows_confirmation() override { return confirmation; }
  void show_verification_code(std::uint32_t c) override { shown = c; }

  core::pairing_window window;
  core::pairing_throttle throttle;
  time_point throttle_before{};
  std::array<std::uint8_t, 16> secret = secret_bytes(7);
  core::setup_code_verifier verifier;
  bool has_secret = true, has_code = true, confirmation = false, fail_storage = false;
  time_point now_hint = t0;
  std::vector<core::fingerprint> paired;
  std::vector<std::string> names;
  std::optional<std::uint32_t> shown;
};

// One exchange over a perfect link; every step at `now`, both sides' timers fired as due.
struct exchange {
  exchange(test_host& h, core::pairing_credentials creds, core::pairing_binding app_side,
           core::pairing_binding accessory_side, steady::time_point start = t0)
      : initiator(app_crypto, app_side, std::move(creds), "Anna's phone"),
        responder(acc_crypto, h, accessory_side, start), host(h), now(start) {}

  void run(steady::duration step = 1ms) {
    initiator.start(now);
    for (int i = 0; i < 200 && !(initiator.done() && responder.done()); ++i) {
      host.now_hint = now;
      auto to_acc = initiator.poll_output();
      std::vector<std::byte> a(to_acc.begin(), to_acc.end());
      if (!a.empty() && !responder.done()) responder.receive(a, now);
      auto to_app = responder.poll_output();
      std::vector<std::byte> b(to_app.begin(), to_app.end());
      if (!b.empty() && !initiator.done()) initiator.receive(b, now);
      if (initiator.done() && !responder.done() && initiator.outcome().error) break;
      now += step;
      if (now >= responder.next_deadline()) responder.handle_deadline(now);
      if (now >= initiator.next_deadline()) initiator.handle_deadline(now);
    }
  }

  crypto::mbedtls_pairing_crypto app_crypto, acc_crypto;
  core::pairing_initiator initiator;
  core::pairing_responder responder;
  test_host& host;
  steady::time_point now;
};

core::pairing_credentials by_secret(std::uint8_t v) {
  core::pairing_credentials c;
  c.method = pairing_method::setup_secret;
  c.secret = secret_bytes(v);
  return c;
}

core::pairing_credentials by_code(std::string_view digits) {
  core::pairing_credentials c;
  c.method = pairing_method::setup_code;
  c.code = std::string(digits);
  return c;
}

} // namespace

TEST_CASE("the payload's secret pairs, both ways proven, bound to the connection") {
  test_host host;
  exchange x(host, by_secret(7), binding(1), binding(1));
  x.run();
  REQUIRE(x.initiator.done());
  REQUIRE(x.responder.done());
  CHECK_FALSE(x.initiator.outcome().error);
  CHECK_FALSE(x.responder.outcome().error);
  CHECK(x.initiator.outcome().role == core::paired_role::admin);
  CHECK(x.responder.outcome().name() == "Anna's phone");
  REQUIRE(host.paired.size() == 1);
  CHECK(host.paired[0] == binding(1).controller);
  CHECK(host.window.state().failed_attempts == 0);
}

TEST_CASE("what follows the last pairing frame stays the caller's: unread() is a view of it") {
  // A controller may send its HELLO with (or right behind) its last pairing frame: the
  // responder takes no byte past that frame and shows the rest where it lies.
  crypto::mbedtls_pairing_crypto app;
  core::pairing_initiator i(app, binding(1), by_secret(7), "p");
  i.start(t0);
  const auto start = i.poll_output();
  std::vector<std::byte> hello;
  core::encode_frame(core::hello_frame{}, hello);
  std::vector<std::byte> stream(start.begin(), start.end());
  stream.insert(stream.end(), hello.begin(), hello.end());
  for (std::size_t split : {std::size_t{0}, std::size_t{5}, start.size() - 1, start.size()}) {
    CAPTURE(split);
    test_host host;
    crypto::mbedtls_pairing_crypto acc;
    core::pairing_responder r(acc, host, binding(1), t0);
    const std::span<const std::byte> all(stream);
    if (split > 0) REQUIRE_FALSE(r.receive(all.first(split), t0));
    if (split < start.size()) {
      REQUIRE_FALSE(r.receive(all.subspan(split), t0));
      REQUIRE(r.done());
      REQUIRE_FALSE(r.outcome().error);
      // The HELLO, in place: the very bytes given, not a copy.
      CHECK(r.unread().size() == hello.size());
      CHECK(r.unread().data() == stream.data() + start.size());
    } else {
      // START ended exactly with the first call: nothing unread, the HELLO comes later.
      REQUIRE(r.done());
      CHECK(r.unread().empty());
    }
  }
}

TEST_CASE("a wrong secret is one failed attempt, with attempts left and the delay") {
  test_host host;
  exchange x(host, by_secret(8), binding(1), binding(1));
  x.run();
  CHECK(x.initiator.outcome().error == pairing_errc::wrong_proof);
  CHECK(x.responder.outcome().error == pairing_errc::wrong_proof);
  CHECK(x.initiator.outcome().attempts_left == 19);
  CHECK(x.initiator.outcome().retry_after == 250ms);
  CHECK(host.window.state().failed_attempts == 1);
  CHECK(host.paired.empty());
}

TEST_CASE("a proof replayed on another connection, or relayed for another key, fails") {
  test_host host;
  SECTION("replayed: the exporter differs") {
    exchange x(host, by_secret(7), binding(1), binding(2));
    x.run();
    CHECK(x.responder.outcome().error == pairing_errc::wrong_proof);
  }
  SECTION("relayed: the accessory sees another controller key than the prover bound") {
    core::pairing_binding other = binding(1);
    other.controller.bytes[0] ^= 1;
    exchange x(host, by_secret(7), binding(1), other);
    x.run();
    CHECK(x.responder.outcome().error == pairing_errc::wrong_proof);
  }
  SECTION("impostor accessory: another accessory key; the app refuses its answer") {
    core::pairing_binding other = binding(1);
    other.accessory.bytes[0] ^= 1;
    exchange x(host, by_secret(7), binding(1), other);
    x.run();
    CHECK(x.responder.outcome().error == pairing_errc::wrong_proof);
    CHECK(x.initiator.outcome().error);
  }
  CHECK(host.paired.empty());
  CHECK(host.window.state().failed_attempts == 1);
}

TEST_CASE("the setup code pairs through SPAKE2+; its pre-counted attempt is refunded") {
  test_host host;
  exchange x(host, by_code(code), binding(3), binding(3));
  x.run();
  CHECK_FALSE(x.initiator.outcome().error);
  CHECK_FALSE(x.responder.outcome().error);
  CHECK(x.responder.outcome().method == pairing_method::setup_code);
  CHECK(host.paired.size() == 1);
  CHECK(host.window.state().failed_attempts == 0);
  // ... and delays nobody: the next proof is evaluated at once.
  CHECK(host.evaluate_not_before() <= x.now);
}

TEST_CASE("the accessory prepares its SPAKE2+ answer after PARAMS is out, or not at all") {
  test_host host;
  crypto::mbedtls_pairing_crypto app_crypto, acc_crypto;
  core::pairing_initiator initiator(app_crypto, binding(4), by_code(code), "Anna's phone");
  core::pairing_responder responder(acc_crypto, host, binding(4), t0);
  auto deliver = [](auto& from, auto& to, steady::time_point at) {
    auto out = from.poll_output();
    std::vector<std::byte> bytes(out.begin(), out.end());
    REQUIRE_FALSE(bytes.empty());
    to.receive(bytes, at);
  };
  initiator.start(t0);
  CHECK_FALSE(responder.in_progress()); // nothing read yet
  deliver(initiator, responder, t0);
  CHECK(responder.in_progress()); // waits for the share: the accessory's TXT says sf=0
  // PARAMS is queued, and the responder asks to be called back at once, for the part of its
  // answer that needs no share (while the app runs PBKDF2), not before PARAMS leaves.
  CHECK(responder.next_deadline() == t0);
  const bool prepare_first = GENERATE(true, false);
  deliver(responder, initiator, t0 + 1ms);
  if (prepare_first) {
    responder.handle_deadline(t0 + 1ms);
    CHECK(responder.next_deadline() == t0 + 30s);
  }
  // Without the callback (the share came first), respond() does the whole computation.
  deliver(initiator, responder, t0 + 2ms);
  deliver(responder, initiator, t0 + 3ms);
  deliver(initiator, responder, t0 + 4ms);
  deliver(responder, initiator, t0 + 5ms);
  REQUIRE(initiator.done());
  REQUIRE(responder.done());
  CHECK_FALSE(responder.in_progress());
  CHECK_FALSE(initiator.outcome().error);
  CHECK_FALSE(responder.outcome().error);
  CHECK(host.paired.size() == 1);
}

TEST_CASE("a wrong code: the app learns it from the accessory's confirmation, the attempt counts") {
  test_host host;
  exchange x(host, by_code("12345689"), binding(3), binding(3));
  x.run();
  CHECK(x.initiator.outcome().error == pairing_errc::accessory_unverified);
  CHECK(x.initiator.outcome().attempts_left == 19);
  // The app closes without confirming: the attempt stays counted.
  CHECK_FALSE(x.responder.done());
  CHECK(host.window.state().failed_attempts == 1);
  CHECK(host.paired.empty());
}

TEST_CASE("a forged SPAKE2+ confirmation is a failed proof") {
  test_host host;
  crypto::mbedtls_pairing_crypto c;
  core::pairing_responder r(c, host, binding(3), t0);
  std::vector<std::byte> out;
  core::encode_pairing_frame(core::pair_start_frame{pairing_method::setup_code, "x", {}}, out);
  crypto::mbedtls_pairing_crypto prover;
  core::pairing_point share{};
  core::pair_params_frame params;
  REQUIRE_FALSE(r.receive(out, t0));
  REQUIRE_FALSE(prover.code_prover_start(code, host.verifier.salt, host.verifier.iterations,
                                         binding(3), share));
  out.clear();
  core::encode_pairing_frame(core::pair_share_frame{share}, out);
  REQUIRE_FALSE(r.receive(out, t0));
  CHECK(host.window.state().failed_attempts == 1); // counted before the confirmation went out
  out.clear();
  core::encode_pairing_frame(core::pair_confirm_frame{core::pairing_mac{}}, out);
  CHECK(r.receive(out, t0) == pairing_errc::wrong_proof);
  CHECK(host.window.state().failed_attempts == 1);
  CHECK(host.paired.empty());
}

TEST_CASE("20 failed proofs close the window; the 21st is refused without evaluation") {
  test_host host;
  steady::time_point now = t0;
  for (int i = 0; i < 20; ++i) {
    exchange x(host, by_secret(9), binding(static_cast<std::uint8_t>(i)),
               binding(static_cast<std::uint8_t>(i)), now);
    x.run(100ms);
    REQUIRE(x.responder.outcome().error == pairing_errc::wrong_proof);
    now = x.now + 10s;
  }
  CHECK(host.window.state().failed_attempts == 20);
  CHECK_FALSE(host.window.state().open);
  exchange x(host, by_secret(7), binding(50), binding(50), now);
  x.run();
  CHECK(x.initiator.outcome().error == pairing_errc::too_many_attempts);
  CHECK(host.paired.empty());
  // The physical button reopens it and forgives the count.
  REQUIRE_FALSE(host.window.open(test_host::sys(now), 15min, core::window_opener::local));
  exchange y(host, by_secret(7), binding(51), binding(51), now);
  y.run();
  CHECK_FALSE(y.initiator.outcome().error);
}

TEST_CASE("the 20th attempt's pre-count closes the window, and its success reopens it") {
  test_host host;
  for (int i = 0; i < 19; ++i)
    host.window.record_failure();
  exchange x(host, by_code(code), binding(4), binding(4));
  x.run();
  CHECK_FALSE(x.responder.outcome().error);
  CHECK(host.paired.size() == 1);
  CHECK(host.window.state().failed_attempts == 19);
}

TEST_CASE("each failure delays the next evaluation") {
  test_host host;
  exchange first(host, by_secret(1), binding(5), binding(5));
  first.run();
  REQUIRE(host.window.state().failed_attempts == 1);
  const steady::time_point failed_at = first.now;

  crypto::mbedtls_pairing_crypto c;
  core::pairing_responder r(c, host, binding(6), failed_at);
  crypto::mbedtls_pairing_crypto app;
  core::pairing_initiator i(app, binding(6), by_secret(7), "p");
  i.start(failed_at);
  auto o = i.poll_output();
  std::vector<std::byte> start(o.begin(), o.end());
  REQUIRE_FALSE(r.receive(start, failed_at + 10ms));
  CHECK(r.poll_output().empty()); // held
  CHECK(r.in_progress());
  CHECK(r.next_deadline() <= failed_at + 250ms);
  r.handle_deadline(failed_at + 100ms);
  CHECK(r.poll_output().empty());
  r.handle_deadline(r.next_deadline());
  CHECK(r.done());
  CHECK_FALSE(r.in_progress());
  CHECK_FALSE(r.outcome().error);
  const core::pairing_throttle defaults;
  CHECK(defaults.delay_after(0) == 0ms);
  CHECK(defaults.delay_after(2) == 500ms);
  CHECK(defaults.delay_after(6) == 8s);
  CHECK(defaults.delay_after(19) == 8s);
  const core::pairing_throttle lab(10ms, 40ms);
  CHECK(lab.delay_after(1) == 10ms);
  CHECK(lab.delay_after(5) == 40ms);
}

TEST_CASE("an exchange that does not finish times out on both sides") {
  test_host host;
  crypto::mbedtls_pairing_crypto c;
  core::pairing_responder r(c, host, binding(1), t0);
  CHECK(r.next_deadline() == t0 + 30s);
  r.handle_deadline(t0 + 29s);
  CHECK_FALSE(r.done());
  r.handle_deadline(t0 + 30s);
  CHECK(r.outcome().error == pairing_errc::timeout);
  CHECK(host.window.state().failed_attempts == 0); // a timeout is no failed proof

  crypto::mbedtls_pairing_crypto app;
  core::pairing_initiator i(app, binding(1), by_secret(7), "p");
  i.start(t0);
  i.handle_deadline(t0 + 30s);
  CHECK(i.outcome().error == pairing_errc::timeout);
}

TEST_CASE("channel traffic before pairing gets CLOSE(not_paired); garbage a protocol error") {
  test_host host;
  crypto::mbedtls_pairing_crypto c;
  SECTION("HELLO") {
    core::pairing_responder r(c, host, binding(1), t0);
    std::vector<std::byte> hello;
    core::encode_frame(core::hello_frame{}, hello);
    CHECK(r.receive(hello, t0) == core::channel_errc::not_paired);
    auto out = r.poll_output();
    REQUIRE(out.size() >= 8);
    CHECK(std::to_integer<int>(out[1]) == static_cast<int>(core::frame_type::close));
    CHECK(std::to_integer<int>(out[7]) == static_cast<int>(core::channel_errc::not_paired));
  }
  SECTION("a frame announcing a huge body") {
    core::pairing_responder r(c, host, binding(1), t0);
    std::vector<std::byte> junk{std::byte{1}, std::byte{0x10}, std::byte{0xff},
                                std::byte{0}, std::byte{0},    std::byte{0}};
    CHECK(r.receive(junk, t0) == core::channel_errc::frame_too_large);
  }
  SECTION("a confirmation before anything else") {
    core::pairing_responder r(c, host, binding(1), t0);
    std::vector<std::byte> out;
    core::encode_pairing_frame(core::pair_confirm_frame{}, out);
    CHECK(r.receive(out, t0) == pairing_errc::protocol_violation);
  }
  CHECK(host.window.state().failed_attempts == 0);
}

TEST_CASE("methods the accessory does not offer are refused with a reason") {
  test_host host;
  SECTION("no setup code") {
    host.has_code = false;
    exchange x(host, by_code(code), binding(1), binding(1));
    x.run();
    CHECK(x.initiator.outcome().error == pairing_errc::method_not_supported);
  }
  SECTION("confirmation pairing from an accessory that has a secret") {
    core::pairing_credentials c;
    c.method = pairing_method::confirmation;
    exchange x(host, c, binding(1), binding(1));
    x.run();
    CHECK(x.initiator.outcome().error == pairing_errc::method_not_supported);
    CHECK_FALSE(host.shown);
  }
  SECTION("confirmation pairing where allowed: both sides show the same code") {
    host.confirmation = true;
    core::pairing_credentials c;
    c.method = pairing_method::confirmation;
    exchange x(host, c, binding(1), binding(1));
    std::uint32_t app_code = 0;
    REQUIRE_FALSE(x.initiator.verification_code(app_code));
    x.run();
    CHECK_FALSE(x.initiator.outcome().error);
    REQUIRE(host.shown);
    CHECK(*host.shown == app_code);
    CHECK(app_code < 1'000'000);
  }
  CHECK(host.window.state().failed_attempts == 0);
}

TEST_CASE("storage that cannot record a failure reveals nothing") {
  test_host host;
  host.fail_storage = true;
  exchange x(host, by_code(code), binding(1), binding(1));
  x.run();
  CHECK(x.initiator.outcome().error == pairing_errc::accessory_failure);
  CHECK(host.paired.empty());
}
