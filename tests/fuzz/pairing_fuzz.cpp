// libFuzzer target for pairing: the frame codec and both sans-IO state machines, with the real
// crypto (lanyard::crypto over mbedTLS, its randomness a fixed splitmix64 stream so that a crash
// reproduces from its input alone) and literal timestamps.
//
// Input layout: byte 0 configures the run, byte 1 the clock, the rest is the stream.
//   byte 0: bits 0-2  chunking: 0 = the whole stream at once, n = pieces of 2^(n-1) bytes
//           bit 3     the accessory has a setup secret
//           bit 4     the accessory has a setup code
//           bit 5     the accessory allows confirmation pairing (no secret proven)
//           bit 6     the accessory's storage fails (record_failure, refund_failure)
//           bit 7     one proof already failed (so the next is held for 250 ms)
//   byte 1: bits 0-6  time between two pieces, in 16 ms steps (0..2032 ms)
//           bit 7     the connection then ends (abandon()) instead of timing out
//
// Properties (a violation aborts, which libFuzzer reports as a crash):
//   (a) decode_pairing_frame on the whole input and on the stream, frame after frame: reads
//       nothing out of bounds (ASan); a value or an error, never both; a frame consumes its
//       header and the announced body, re-encodes to exactly those bytes (every well-formed
//       encoding is canonical) and is not decoded from any shorter prefix.
//   (b) the stream, as a controller's bytes, to an accessory's pairing_responder with a host in
//       memory: it pairs nobody unless the host allows confirmation pairing and the stream asked
//       for it; what it writes decodes as accessory frames (PAIR_PARAMS, PAIR_CHALLENGE,
//       PAIR_RESULT), possibly ended by a CLOSE(not_paired); failed attempts grow by at most one
//       per PAIR_START / PAIR_SHARE received (and at most one per exchange); it is done after
//       handle_deadline(now + 31 s), with an error unless paired.
//   (c) the stream, as an accessory's answers, to a controller's pairing_initiator after
//       start(), for each method: what it writes decodes as controller frames (one PAIR_START,
//       then PAIR_SHARE, PAIR_CONFIRM); it never reports success by setup secret or setup code
//       (random bytes cannot forge the accessory's proof or SPAKE2+ confirmation); it is done
//       after handle_deadline(now + 31 s).
#include <lanyard/core/pairing_responder.hpp>

#include <lanyard/core/channel_error.hpp>
#include <lanyard/core/frame.hpp>
#include <lanyard/core/frame_decoder.hpp>
#include <lanyard/core/pairing_error.hpp>
#include <lanyard/core/pairing_frame.hpp>
#include <lanyard/core/pairing_initiator.hpp>
#include <lanyard/core/pairing_throttle.hpp>
#include <lanyard/core/pairing_window.hpp>
#include <lanyard/crypto/pairing_crypto.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

using namespace std::chrono_literals;
namespace core = lanyard::core;
namespace crypto = lanyard::crypto;

#define PAIRING_FUZZ_CHECK(cond)                                                                   \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      std::fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond);             \
      std::abort();                                                                                \
    }                                                                                              \
  } while (false)

namespace {

using steady = std::chrono::steady_clock;
const steady::time_point t0 = steady::time_point{} + 1000h;

constexpr std::string_view setup_code = "12345670";

// Deterministic randomness (splitmix64), so that a crash reproduces from its input alone.
struct fuzz_rng {
  std::uint64_t state = 0x5eed5eed5eed5eedULL;
  static int fill(void* ctx, unsigned char* out, std::size_t len) {
    auto* self = static_cast<fuzz_rng*>(ctx);
    for (std::size_t i = 0; i < len; ++i) {
      std::uint64_t z = (self->state += 0x9e3779b97f4a7c15ULL);
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      out[i] = static_cast<unsigned char>(z ^ (z >> 31));
    }
    return 0;
  }
  crypto::random_source source() { return {&fill, this}; }
};

core::pairing_binding fuzz_binding() {
  core::pairing_binding b;
  for (std::size_t i = 0; i < 32; ++i) {
    b.exporter[i] = static_cast<std::uint8_t>(1 + i);
    b.controller.bytes[i] = static_cast<std::uint8_t>(0x40 + i);
    b.accessory.bytes[i] = static_cast<std::uint8_t>(0x80 + i);
  }
  return b;
}

std::array<std::uint8_t, 16> secret_bytes() {
  std::array<std::uint8_t, 16> s{};
  s.fill(7);
  return s;
}

// The setup code's verifier: derived once (PBKDF2 per input would only slow the fuzzer down).
const core::setup_code_verifier& fuzz_verifier() {
  static const core::setup_code_verifier v = [] {
    fuzz_rng rng;
    core::setup_code_verifier out;
    PAIRING_FUZZ_CHECK(!crypto::make_setup_code_verifier(setup_code, rng.source(), 1000, out));
    return out;
  }();
  return v;
}

// The real crypto, except that the controller's PBKDF2 runs at most 16 iterations: an input's
// PAIR_PARAMS may ask for 1,000,000 (the protocol's limit), which would spend seconds per input
// without reaching any other code. The derived w0, w1 differ; nothing checks them against an
// accessory here.
class fuzz_crypto final : public core::pairing_crypto {
public:
  fuzz_crypto() : real_(rng_.source()) {}
  std::error_code secret_proof(std::span<const std::uint8_t> secret, const core::pairing_binding& b,
                               core::pairing_party who, core::pairing_mac& out) override {
    return real_.secret_proof(secret, b, who, out);
  }
  bool equal(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) override {
    return real_.equal(a, b);
  }
  std::error_code verification_code(const core::pairing_binding& b, std::uint32_t& out) override {
    return real_.verification_code(b, out);
  }
  std::error_code code_prover_start(std::string_view code, std::span<const std::uint8_t> salt,
                                    std::uint32_t iterations, const core::pairing_binding& b,
                                    core::pairing_point& share_p) override {
    return real_.code_prover_start(code, salt, std::min<std::uint32_t>(iterations, 16), b, share_p);
  }
  std::error_code code_prover_finish(const core::pairing_point& share_v,
                                     const core::pairing_mac& confirm_v,
                                     core::pairing_mac& confirm_p) override {
    return real_.code_prover_finish(share_v, confirm_v, confirm_p);
  }
  std::error_code code_verifier_prepare(const core::setup_code_verifier& v) override {
    return real_.code_verifier_prepare(v);
  }
  std::error_code code_verifier_respond(const core::setup_code_verifier& v,
                                        const core::pairing_binding& b,
                                        const core::pairing_point& share_p,
                                        core::pairing_point& share_v,
                                        core::pairing_mac& confirm_v) override {
    return real_.code_verifier_respond(v, b, share_p, share_v, confirm_v);
  }
  std::error_code code_verifier_finish(const core::pairing_mac& confirm_p) override {
    return real_.code_verifier_finish(confirm_p);
  }

private:
  fuzz_rng rng_;
  crypto::mbedtls_pairing_crypto real_;
};

// The accessory: a pairing window and throttle in memory (as in pairing_exchange_test.cpp).
struct fuzz_host final : core::pairing_responder_host {
  static std::chrono::system_clock::time_point sys(time_point t) {
    return std::chrono::system_clock::time_point{} +
           std::chrono::duration_cast<std::chrono::system_clock::duration>(t.time_since_epoch());
  }
  explicit fuzz_host(std::uint8_t config) {
    PAIRING_FUZZ_CHECK(!window.open(sys(t0), 15min));
    has_secret = (config & 0x08) != 0;
    has_code = (config & 0x10) != 0;
    confirmation = (config & 0x20) != 0;
    fail_storage = (config & 0x40) != 0;
    if (config & 0x80) {
      window.record_failure();
      throttle.record_failure(t0, window.state().failed_attempts);
    }
  }
  std::error_code admit(time_point now) override { return window.admit(sys(now)); }
  std::uint32_t attempts_left() override { return window.attempts_left(); }
  time_point evaluate_not_before() override { return throttle.not_before(); }
  std::error_code record_failure(time_point now) override {
    if (fail_storage) return core::pairing_errc::accessory_failure;
    window.record_failure();
    throttle.record_failure(now, window.state().failed_attempts);
    return {};
  }
  std::error_code refund_failure(time_point now) override {
    if (fail_storage) return core::pairing_errc::accessory_failure;
    window.refund_failure(sys(now));
    return {};
  }
  std::error_code add_controller(const core::fingerprint& fp, std::string_view name,
                                 core::paired_role& role) override {
    if (std::error_code ec = window.admit(sys(now_hint))) return ec;
    PAIRING_FUZZ_CHECK(name.size() <= core::max_pairing_name);
    paired.push_back(fp);
    role = paired.size() == 1 ? core::paired_role::admin : core::paired_role::user;
    return {};
  }
  std::optional<std::span<const std::uint8_t>> setup_secret() override {
    if (!has_secret) return std::nullopt;
    return std::span<const std::uint8_t>(secret);
  }
  const core::setup_code_verifier* code_verifier() override {
    return has_code ? &fuzz_verifier() : nullptr;
  }
  bool allows_confirmation() override { return confirmation; }
  void show_verification_code(std::uint32_t c) override {
    PAIRING_FUZZ_CHECK(c < 1'000'000);
    shown = c;
  }

  core::pairing_window window;
  core::pairing_throttle throttle;
  std::array<std::uint8_t, 16> secret = secret_bytes();
  bool has_secret = false, has_code = false, confirmation = false, fail_storage = false;
  time_point now_hint = t0;
  std::vector<core::fingerprint> paired;
  std::optional<std::uint32_t> shown;
};

std::uint32_t announced_body(std::span<const std::byte> in) {
  std::uint32_t n = 0;
  for (std::size_t i = 2; i < core::frame_header_size; ++i)
    n = (n << 8) | std::to_integer<std::uint8_t>(in[i]);
  return n;
}

// (a) for the first frame of `in`; returns its size (0 if none decodes).
std::size_t check_decode(std::span<const std::byte> in) {
  const core::pairing_decode_result r = core::decode_pairing_frame(in);
  PAIRING_FUZZ_CHECK(r.consumed <= in.size());
  if (r.error) {
    PAIRING_FUZZ_CHECK(!r.value && r.consumed == 0);
    return 0;
  }
  if (!r.value) {
    PAIRING_FUZZ_CHECK(r.consumed == 0);
    return 0;
  }
  PAIRING_FUZZ_CHECK(in.size() >= core::frame_header_size);
  PAIRING_FUZZ_CHECK(r.consumed == core::frame_header_size + announced_body(in));
  PAIRING_FUZZ_CHECK(announced_body(in) <= core::max_pairing_body);
  PAIRING_FUZZ_CHECK(core::is_pairing_frame_type(std::to_integer<std::uint8_t>(in[1])));
  PAIRING_FUZZ_CHECK(core::type_of(*r.value) ==
                     static_cast<core::pairing_frame_type>(std::to_integer<std::uint8_t>(in[1])));
  std::vector<std::byte> again;
  core::encode_pairing_frame(*r.value, again);
  PAIRING_FUZZ_CHECK(again.size() == r.consumed);
  PAIRING_FUZZ_CHECK(std::equal(again.begin(), again.end(), in.begin()));
  const core::pairing_decode_result shorter = core::decode_pairing_frame(in.first(r.consumed - 1));
  PAIRING_FUZZ_CHECK(!shorter.value && !shorter.error && shorter.consumed == 0);
  return r.consumed;
}

// Decodes everything a state machine wrote: pairing frames of the types `allowed` accepts,
// then (if `close_allowed`) one channel CLOSE(not_paired), and nothing after it. Returns the
// frame types.
template <class Allowed>
std::vector<core::pairing_frame_type> check_output(std::span<const std::byte> out, Allowed allowed,
                                                   bool close_allowed) {
  std::vector<core::pairing_frame_type> types;
  while (!out.empty()) {
    const core::pairing_decode_result r = core::decode_pairing_frame(out);
    if (r.error == core::channel_errc::not_paired) {
      PAIRING_FUZZ_CHECK(close_allowed);
      core::frame_decoder dec;
      const core::decode_result c = dec.decode(out);
      PAIRING_FUZZ_CHECK(!c.error && c.value && c.consumed == out.size());
      const auto* close = std::get_if<core::close_frame>(&*c.value);
      PAIRING_FUZZ_CHECK(close != nullptr);
      PAIRING_FUZZ_CHECK(close->code == static_cast<std::uint16_t>(core::channel_errc::not_paired));
      return types;
    }
    PAIRING_FUZZ_CHECK(!r.error && r.value && r.consumed > 0); // whole frames, well-formed
    PAIRING_FUZZ_CHECK(allowed(*r.value));
    types.push_back(core::type_of(*r.value));
    out = out.subspan(r.consumed);
  }
  return types;
}

bool from_accessory(const core::pairing_frame& f) {
  return std::holds_alternative<core::pair_params_frame>(f) ||
         std::holds_alternative<core::pair_challenge_frame>(f) ||
         std::holds_alternative<core::pair_result_frame>(f);
}

bool from_controller(const core::pairing_frame& f) {
  return std::holds_alternative<core::pair_start_frame>(f) ||
         std::holds_alternative<core::pair_share_frame>(f) ||
         std::holds_alternative<core::pair_confirm_frame>(f);
}

// How the stream is cut and timed.
struct schedule {
  std::size_t chunk;
  steady::duration step;
  bool abandon;
};

void run_responder(std::uint8_t config, const schedule& s, std::span<const std::byte> stream) {
  fuzz_host host(config);
  fuzz_crypto c;
  const core::pairing_binding binding = fuzz_binding();
  core::pairing_responder responder(c, host, binding, t0);
  const std::uint32_t failed_before = host.window.state().failed_attempts;

  // Every PAIR_START and PAIR_SHARE the responder can have read before the first bad frame.
  std::size_t proofs = 0;
  for (std::span<const std::byte> rest = stream;;) {
    const core::pairing_decode_result r = core::decode_pairing_frame(rest);
    if (!r.value) break;
    if (std::holds_alternative<core::pair_start_frame>(*r.value) ||
        std::holds_alternative<core::pair_share_frame>(*r.value))
      ++proofs;
    rest = rest.subspan(r.consumed);
  }

  std::vector<std::byte> written;
  auto collect = [&] {
    const auto out = responder.poll_output();
    written.insert(written.end(), out.begin(), out.end());
  };
  steady::time_point now = t0;
  for (std::size_t pos = 0; pos < stream.size() && !responder.done(); pos += s.chunk) {
    host.now_hint = now;
    const std::error_code ec =
        responder.receive(stream.subspan(pos, std::min(s.chunk, stream.size() - pos)), now);
    PAIRING_FUZZ_CHECK(responder.done() ? ec == responder.outcome().error : !ec);
    collect();
    now += s.step;
    host.now_hint = now;
    if (now >= responder.next_deadline()) responder.handle_deadline(now);
    collect();
  }
  if (s.abandon) {
    responder.abandon();
    PAIRING_FUZZ_CHECK(responder.done());
  }
  host.now_hint = now + 31s;
  responder.handle_deadline(now + 31s);
  collect();
  PAIRING_FUZZ_CHECK(responder.done());
  PAIRING_FUZZ_CHECK(responder.next_deadline() == steady::time_point::max());

  const auto& o = responder.outcome();
  const auto types = check_output(written, from_accessory, /*close_allowed=*/true);
  if (!o.error) {
    // Paired: only by confirmation (nothing else can be proven by random bytes), if allowed.
    PAIRING_FUZZ_CHECK(host.confirmation && o.method == core::pairing_method::confirmation);
    PAIRING_FUZZ_CHECK(host.paired.size() == 1 && host.paired[0] == binding.controller);
    PAIRING_FUZZ_CHECK(host.shown.has_value());
    PAIRING_FUZZ_CHECK(!types.empty() && types.back() == core::pairing_frame_type::result);
  } else {
    PAIRING_FUZZ_CHECK(host.paired.empty());
  }
  PAIRING_FUZZ_CHECK(o.name().size() <= core::max_pairing_name);
  const std::uint32_t failed_after = host.window.state().failed_attempts;
  PAIRING_FUZZ_CHECK(failed_after >= failed_before);
  PAIRING_FUZZ_CHECK(failed_after - failed_before <= std::min<std::size_t>(1, proofs));
  if (host.fail_storage) PAIRING_FUZZ_CHECK(failed_after == failed_before);
}

void run_initiator(core::pairing_method method, const schedule& s,
                   std::span<const std::byte> stream) {
  fuzz_crypto c;
  core::pairing_credentials creds;
  creds.method = method;
  creds.secret = secret_bytes();
  creds.code = std::string(setup_code);
  core::pairing_initiator initiator(c, fuzz_binding(), creds, "fuzz phone");

  std::vector<std::byte> written;
  auto collect = [&] {
    const auto out = initiator.poll_output();
    written.insert(written.end(), out.begin(), out.end());
  };
  steady::time_point now = t0;
  initiator.start(now);
  collect();
  PAIRING_FUZZ_CHECK(!initiator.done());
  for (std::size_t pos = 0; pos < stream.size() && !initiator.done(); pos += s.chunk) {
    const std::error_code ec =
        initiator.receive(stream.subspan(pos, std::min(s.chunk, stream.size() - pos)), now);
    PAIRING_FUZZ_CHECK(initiator.done() ? ec == initiator.outcome().error : !ec);
    collect();
    now += s.step;
    if (now >= initiator.next_deadline()) initiator.handle_deadline(now);
    collect();
  }
  initiator.handle_deadline(now + 31s);
  collect();
  PAIRING_FUZZ_CHECK(initiator.done());
  PAIRING_FUZZ_CHECK(initiator.next_deadline() == steady::time_point::max());

  const auto types = check_output(written, from_controller, /*close_allowed=*/false);
  PAIRING_FUZZ_CHECK(!types.empty() && types.front() == core::pairing_frame_type::start);
  PAIRING_FUZZ_CHECK(std::count(types.begin(), types.end(), core::pairing_frame_type::start) == 1);
  if (method != core::pairing_method::confirmation) PAIRING_FUZZ_CHECK(initiator.outcome().error);
  if (method != core::pairing_method::setup_code)
    PAIRING_FUZZ_CHECK(types.size() == 1); // nothing but PAIR_START to send
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> input(reinterpret_cast<const std::byte*>(data), size);

  // (a) The codec, on the whole input and on the stream frame after frame.
  check_decode(input);
  if (size < 2) return 0;
  const std::span<const std::byte> stream = input.subspan(2);
  for (std::span<const std::byte> rest = stream;;) {
    const std::size_t n = check_decode(rest);
    if (n == 0) break;
    rest = rest.subspan(n);
  }

  const std::uint8_t config = data[0];
  const unsigned chunking = config & 0x07;
  const schedule s{chunking == 0 ? std::max<std::size_t>(stream.size(), 1)
                                 : std::size_t{1} << (chunking - 1),
                   (data[1] & 0x7f) * 16ms, (data[1] & 0x80) != 0};

  // (b) The accessory.
  run_responder(config, s, stream);

  // (c) The app, with each method.
  for (auto m : {core::pairing_method::setup_secret, core::pairing_method::setup_code,
                 core::pairing_method::confirmation})
    run_initiator(m, s, stream);
  return 0;
}
