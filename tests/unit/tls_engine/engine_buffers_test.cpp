// tls::engine over ciphertext buffers the caller gives (engine_buffers), as firmware runs it:
// the buffers' minimum is enforced, a full output buffer is a want::output_and_retry (never an
// error), and after the handshake reading and writing make no C++ allocation at all. The
// global operator new/delete of this executable are replaced to count, while a flag is on.
//
// mbedTLS's own allocations are not counted: it calls the C library's calloc, and Debian's
// mbedTLS 2.28 is built without MBEDTLS_PLATFORM_MEMORY, so mbedtls_platform_set_calloc_free()
// does not exist to redirect it. (mbedTLS 2.28 allocates its record buffers in
// mbedtls_ssl_setup(), at the first handshake() call, and the handshake's state on the way;
// reading and writing records reuse them.)
#include <lanyard/core/error_detail.hpp>
#include <lanyard/core/fingerprint.hpp>
#include <lanyard/tls_engine/context.hpp>
#include <lanyard/tls_engine/engine.hpp>
#include <lanyard/tls_engine/error.hpp>
#include <lanyard/tls_engine/identity.hpp>
#include <lanyard/tls_engine/role.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <optional>
#include <span>
#include <system_error>
#include <vector>

#if defined(ASIO_STANDALONE)
#error "a module that uses asio is linked into the tls_engine test: link lanyard::tls_engine only"
#endif

// Under AddressSanitizer the allocator is the sanitizer's: replacing operator new here mixes its
// bookkeeping with ours (it reports alloc-dealloc mismatches). There the buffers' behaviour is
// still tested and the counts are not; the default and core-freestanding builds count.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool counts_allocations = false;
#else
constexpr bool counts_allocations = true;
#endif

namespace {
std::atomic<bool> counting{false};
std::atomic<std::size_t> allocations{0};

[[maybe_unused]] void* counted_alloc(std::size_t size, std::size_t align) {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1);
  if (size == 0) size = 1;
  void* p = align <= alignof(std::max_align_t)
                ? std::malloc(size)
                : std::aligned_alloc(align, (size + align - 1) / align * align);
  if (p == nullptr) std::abort(); // no exceptions in the freestanding build; a test may abort
  return p;
}
} // namespace

#if !defined(__SANITIZE_ADDRESS__)
// The replaceable forms; the nothrow ones of libstdc++ call these.
void* operator new(std::size_t size) {
  return counted_alloc(size, 0);
}
void* operator new[](std::size_t size) {
  return counted_alloc(size, 0);
}
void* operator new(std::size_t size, std::align_val_t a) {
  return counted_alloc(size, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t size, std::align_val_t a) {
  return counted_alloc(size, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}
#endif

using lanyard::core::error_detail;
using lanyard::core::fingerprint;
using lanyard::tls::context;
using lanyard::tls::context_options;
using lanyard::tls::engine;
using lanyard::tls::engine_buffers;
using lanyard::tls::identity;
using lanyard::tls::peer_cert_info;
using lanyard::tls::role;
using want = engine::want;

namespace {

identity make_identity(const char* device_id) {
  std::error_code ec;
  identity id = identity::generate(device_id, ec);
  REQUIRE(!ec);
  return id;
}

context pinned_context(const identity& self, const fingerprint& pinned) {
  context_options o;
  o.verifier = [pinned](const fingerprint& presented, const peer_cert_info&) -> std::error_code {
    if (presented == pinned) return {};
    return std::make_error_code(std::errc::permission_denied);
  };
  error_detail error;
  context ctx = context::create(self, std::move(o), error);
  REQUIRE(!error);
  return ctx;
}

// One end's memory, as firmware would reserve it: nothing grows.
struct buffers {
  std::vector<std::uint8_t> in = std::vector<std::uint8_t>(engine_buffers::min_input_bytes);
  std::vector<std::uint8_t> out = std::vector<std::uint8_t>(engine_buffers::min_output_bytes);
  engine_buffers spans() { return {in, out}; }
};

engine make_engine(context ctx, buffers& b) {
  error_detail error;
  std::optional<engine> e = engine::create(std::move(ctx), b.spans(), error);
  REQUIRE(!error);
  REQUIRE(e.has_value());
  return std::move(*e);
}

// The network: up to `limit` bytes of `from`'s ciphertext into `to`'s free input room.
std::size_t deliver(engine& from, engine& to, std::size_t limit) {
  std::span<const std::uint8_t> out = from.output();
  std::span<std::uint8_t> in = to.prepare_input(std::min(out.size(), limit));
  const std::size_t n = std::min(out.size(), in.size());
  if (n == 0) return 0;
  std::memcpy(in.data(), out.data(), n);
  to.commit_input(n);
  from.consume_output(n);
  return n;
}

void handshake(engine& client, engine& server) {
  bool c_done = false, s_done = false;
  std::error_code cec, sec;
  for (int round = 0; round < 10000 && !(c_done && s_done); ++round) {
    if (!c_done) {
      const want w = client.handshake(role::client, cec);
      c_done = cec || w == want::output || w == want::nothing;
    }
    deliver(client, server, 997);
    if (!s_done) {
      const want w = server.handshake(role::server, sec);
      s_done = sec || w == want::output || w == want::nothing;
    }
    deliver(server, client, 997);
  }
  REQUIRE(!cec);
  REQUIRE(!sec);
  REQUIRE(client.handshake_done());
  REQUIRE(server.handshake_done());
  while (deliver(client, server, 997) + deliver(server, client, 997) != 0) {
  }
}

// What one transfer saw; checked with Catch2 after counting stops (its macros may allocate).
struct transfer {
  std::size_t received = 0;
  bool error = false;
  bool output_full_seen = false; // write() returned output_and_retry with room exhausted
};

// Writes `data` from `from` in `piece`-byte calls and reads it on `to` into `got` (sized by the
// caller), moving at most `wire` bytes per round. Allocates nothing itself.
transfer send(engine& from, engine& to, std::span<const std::uint8_t> data, std::size_t piece,
              std::size_t wire, std::span<std::uint8_t> got) {
  transfer t;
  std::size_t sent = 0;
  for (int round = 0; round < 1000000 && t.received < data.size(); ++round) {
    std::error_code ec;
    std::size_t n = 0;
    if (sent < data.size()) {
      const want w = from.write(data.subspan(sent, std::min(piece, data.size() - sent)), n, ec);
      if (ec) {
        t.error = true;
        break;
      }
      if (w == want::output_and_retry) t.output_full_seen = true;
      sent += n;
    }
    deliver(from, to, wire);
    for (;;) {
      n = 0;
      const std::size_t room = got.size() - t.received;
      to.read(got.subspan(t.received, std::min<std::size_t>(room, 1000)), n, ec);
      if (ec) {
        t.error = true;
        return t;
      }
      if (n == 0) break;
      t.received += n;
    }
  }
  return t;
}

struct pair_fixture {
  identity accessory = make_identity("lamp-1");
  identity controller = make_identity("phone-a");
  buffers client_mem, server_mem;
  engine client = make_engine(pinned_context(controller, accessory.fingerprint()), client_mem);
  engine server = make_engine(pinned_context(accessory, controller.fingerprint()), server_mem);
};

} // namespace

TEST_CASE("engine_buffers: buffers below one record are refused with a sentence", "[tls_engine]") {
  const identity id = make_identity("lamp-1");
  const context ctx = pinned_context(id, id.fingerprint());
  std::vector<std::uint8_t> small(engine_buffers::min_input_bytes - 1);
  std::vector<std::uint8_t> big(engine_buffers::min_output_bytes);
  error_detail error;
  CHECK_FALSE(engine::create(ctx, {small, big}, error).has_value());
  CHECK(error.code == std::errc::invalid_argument);
  CHECK(error.detail.find("minimum") != std::string::npos);
  CHECK_FALSE(engine::create(ctx, {big, std::span<std::uint8_t>(big).first(100)}, error));
  CHECK(error.code == std::errc::invalid_argument);
  CHECK_FALSE(engine::create(context{}, {big, big}, error));
  CHECK(error.code == std::errc::invalid_argument);
  std::vector<std::uint8_t> in(engine_buffers::min_input_bytes);
  CHECK(engine::create(ctx, {in, big}, error).has_value());
  CHECK(!error);
}

TEST_CASE_METHOD(pair_fixture,
                 "engine_buffers: after the handshake, reads and writes allocate nothing",
                 "[tls_engine]") {
  handshake(client, server);
  CHECK(client.buffer_bytes() == 0);
  CHECK(server.buffer_bytes() == 0);
  // Pending ciphertext lives in the caller's memory.
  CHECK(server.prepare_input(1).data() >= server_mem.in.data());

  const std::array<std::uint8_t, 7> on{'l', 'i', 'g', 'h', 't', '=', '1'};
  std::vector<std::uint8_t> big(40000);
  for (std::size_t i = 0; i < big.size(); ++i)
    big[i] = static_cast<std::uint8_t>(i * 7 + 3);
  std::vector<std::uint8_t> got_small(on.size()), got_reply(on.size()), got_big(big.size());
  std::vector<std::uint8_t> got_big2(big.size());

  allocations = 0;
  counting = true;
  // Small messages both ways, then 40,000 bytes in 3,000-byte writes over a 61-byte network,
  // then 40,000 bytes in one write() call whose output does not fit at once.
  const transfer t1 = send(client, server, on, on.size(), 61, got_small);
  const transfer t2 = send(server, client, on, on.size(), 61, got_reply);
  const transfer t3 = send(server, client, big, 3000, 61, got_big);
  const transfer t4 = send(client, server, big, big.size(), 4096, got_big2);
  counting = false;
  const std::size_t counted = allocations.load();

  CHECK(counted == 0); // 0 under ASan too, where nothing counts (see counts_allocations)
  CHECK_FALSE(t1.error);
  CHECK_FALSE(t2.error);
  CHECK_FALSE(t3.error);
  CHECK_FALSE(t4.error);
  CHECK(got_small == std::vector<std::uint8_t>(on.begin(), on.end()));
  CHECK(got_reply == std::vector<std::uint8_t>(on.begin(), on.end()));
  CHECK(got_big == big);
  CHECK(got_big2 == big);
  // The one big write could not encrypt 40,000 bytes into 16.5 KiB: it said so, without error.
  CHECK(t4.output_full_seen);
  CHECK(client.buffer_bytes() == 0);
}

TEST_CASE("the counter sees the engine's own buffers (the contrast)", "[tls_engine]") {
  const identity accessory = make_identity("lamp-1");
  const identity controller = make_identity("phone-a");
  engine client(pinned_context(controller, accessory.fingerprint()));
  engine server(pinned_context(accessory, controller.fingerprint()));
  handshake(client, server);
  client.release_output();
  server.release_input();
  std::vector<std::uint8_t> data(5000, 1), got(5000);
  allocations = 0;
  counting = true;
  const transfer t = send(client, server, data, data.size(), 4096, got);
  counting = false;
  CHECK_FALSE(t.error);
  CHECK(got == data);
  // engine(context) grows a std::vector for output and a heap array for input.
  if (counts_allocations) CHECK(allocations.load() >= 2);
}

TEST_CASE_METHOD(pair_fixture,
                 "engine_buffers: a full output buffer is want::output_and_retry, not an error",
                 "[tls_engine]") {
  handshake(client, server);
  std::vector<std::uint8_t> data(3 * engine_buffers::min_output_bytes, 0x5a);
  std::error_code ec;
  std::size_t n = 0;
  // The output fills up: some bytes consumed, the rest refused for now.
  CHECK(client.write(data, n, ec) == want::output_and_retry);
  CHECK(!ec);
  CHECK(n > 0);
  CHECK(n < data.size());
  CHECK(client.output().size() <= engine_buffers::min_output_bytes);
  // Nothing sent meanwhile: nothing more fits, still no error.
  std::size_t more = 0;
  const want again = client.write(std::span<const std::uint8_t>(data).subspan(n), more, ec);
  CHECK(again == want::output_and_retry);
  CHECK(!ec);
  CHECK(more < 1024);

  // A close_notify behind a full buffer waits for room too, and then goes out.
  std::vector<std::uint8_t> received;
  std::array<std::uint8_t, 4096> buf{};
  auto drain = [&] {
    while (deliver(client, server, 4096) != 0) {
      for (;;) {
        std::size_t r = 0;
        std::error_code rec;
        server.read(buf, r, rec);
        if (rec || r == 0) break;
        received.insert(received.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(r));
      }
    }
  };
  n += more;
  while (n < data.size()) {
    drain();
    std::size_t k = 0;
    client.write(std::span<const std::uint8_t>(data).subspan(n), k, ec);
    REQUIRE(!ec);
    n += k;
  }
  drain();
  CHECK(received == data);
  // Fill the output again (nothing sent): the room left is below one record's expansion, so
  // the close_notify record cannot go in whole; mbedTLS holds (part of) it back.
  std::size_t refill = 0;
  CHECK(client.write(data, refill, ec) == want::output_and_retry);
  CHECK(!ec);
  want w = client.shutdown(ec);
  CHECK(!ec);
  CHECK(w == want::output_and_retry);
  for (int i = 0; i < 10 && w == want::output_and_retry; ++i) {
    drain();
    w = client.shutdown(ec);
    CHECK(!ec);
  }
  CHECK(w == want::output);
  drain();
  CHECK(received.size() == data.size() + refill);
  std::size_t r = 0;
  server.read(buf, r, ec);
  CHECK(ec == lanyard::tls::tls_errc::closed_by_peer);
}

TEST_CASE_METHOD(pair_fixture,
                 "engine_buffers: reset() makes the engine a new one for the next connection, "
                 "without allocating",
                 "[tls_engine]") {
  handshake(client, server);
  const std::array<std::uint8_t, 5> hello{'h', 'e', 'l', 'l', 'o'};
  std::vector<std::uint8_t> got(hello.size());
  REQUIRE_FALSE(send(client, server, hello, hello.size(), 61, got).error);
  REQUIRE(server.peer_fingerprint() == controller.fingerprint());
  REQUIRE(!server.alpn_protocol().empty());

  // The connection ends; the slot's engine is reset for the next one.
  allocations = 0;
  counting = true;
  server.reset();
  counting = false;
  CHECK(allocations.load() == 0);
  CHECK_FALSE(server.handshake_done());
  CHECK_FALSE(server.resumed());
  CHECK(server.peer_fingerprint() == fingerprint{});
  CHECK(server.peer_subject().empty());
  CHECK(server.alpn_protocol().empty());
  CHECK(server.output().empty());
  CHECK_FALSE(server.has_pending_input());
  CHECK_FALSE(server.last_error());
  // The same caller memory, still its own.
  CHECK(server.prepare_input(1).data() >= server_mem.in.data());

  // A garbage connection: refused, noted; reset forgets that too.
  std::span<std::uint8_t> in = server.prepare_input(64);
  std::memset(in.data(), 0xff, in.size()); // no TLS record type
  server.commit_input(in.size());
  std::error_code ec;
  server.handshake(role::server, ec);
  CHECK(ec);
  CHECK(server.last_error());
  server.reset();
  CHECK_FALSE(server.last_error());

  // A new client connects to the reset engine: a working connection, messages both ways.
  buffers other_mem;
  engine other = make_engine(pinned_context(controller, accessory.fingerprint()), other_mem);
  handshake(other, server);
  CHECK(server.peer_fingerprint() == controller.fingerprint());
  std::vector<std::uint8_t> got2(hello.size()), back(hello.size());
  CHECK_FALSE(send(other, server, hello, hello.size(), 61, got2).error);
  CHECK_FALSE(send(server, other, hello, hello.size(), 61, back).error);
  CHECK(got2 == std::vector<std::uint8_t>(hello.begin(), hello.end()));
  CHECK(back == got2);
}
