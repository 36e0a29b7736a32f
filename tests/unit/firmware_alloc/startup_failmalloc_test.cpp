// Start-up of lanyard::firmware::accessory under a counting and failing allocator (nghttp2's
// failmalloc style): docs/design/firmware-target.md, step 4.
//
// This translation unit replaces operator new/delete (the throwing and the nothrow forms) and
// interposes malloc/calloc/realloc/free for the whole executable. Counting is on only around
// the code under test (the platform's callbacks run with it off: the test's storage map is the
// firmware's driver, not Lanyard).
//
// What is walked, one failure per run:
//   - the C++ allocation of tls::context::create (one block: its impl and its shared_ptr's
//     control block, through the non-throwing operator new): std::errc::not_enough_memory,
//     then start() refuses the empty context (bad_settings), leaking nothing;
//   - every C++ allocation of the accessory's construction and start(): each goes through the
//     non-throwing operator new and must come back as firmware_errc::not_enough_memory (an
//     empty accessory), leaking nothing. A *throwing* operator new asked to fail aborts the
//     program with a message (under -fno-exceptions it could not be reported): so a throwing
//     allocation added to start-up makes this test fail (CTest counts the abort as a failure);
//   - every C allocation (mbedTLS's, for the accessory's tls::context): reported as the TLS
//     error, then start() refuses the empty context (bad_settings), leaking nothing.
// The context is made as firmware makes it, with describe_failures off: a failure's sentence
// would be composed on the heap that just ran out.
#include "unit/firmware/firmware_harness.hpp"

#include <lanyard/firmware/controller_table.hpp>
#include <lanyard/firmware/error.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <vector>

#if defined(ASIO_STANDALONE)
#error "a module that uses asio is linked into the firmware test: link lanyard::firmware only"
#endif

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void __libc_free(void*);
}

namespace failmalloc {

bool active = false;
// C allocations: the `fail_at`-th counted one (1-based) returns null; 0 fails none.
std::size_t fail_at = 0;
std::size_t c_count = 0;
std::size_t c_live_blocks = 0;
// C++ allocations: counted and logged; while `cxx_failable` the `cxx_fail_at`-th one fails (the
// nothrow forms return null, the throwing forms abort: see the top of the file).
bool cxx_failable = false;
std::size_t cxx_fail_at = 0;
std::size_t cxx_count = 0;
std::size_t cxx_failable_count = 0;
std::size_t cxx_live_blocks = 0;
std::size_t cxx_sizes[256];
// Bytes of the blocks allocated while counting and not freed yet (C and C++).
std::size_t live_bytes = 0;

// The blocks allocated while counting, so that their frees are counted whenever they happen:
// open addressing, linear probing, backward-shift deletion (no allocation of its own).
constexpr std::size_t table_size = std::size_t{1} << 16;
constexpr std::size_t mask = table_size - 1;
struct entry {
  void* p;
  std::size_t size;
  bool cxx;
};
entry table[table_size];

std::size_t slot_of(const void* p) {
  auto v = reinterpret_cast<std::uintptr_t>(p);
  v ^= v >> 17;
  v *= 0x9e3779b97f4a7c15ull;
  return static_cast<std::size_t>(v >> 40) & mask;
}

void remember(void* p, std::size_t size, bool cxx) {
  if (c_live_blocks + cxx_live_blocks + 1 >= table_size / 2) std::abort();
  std::size_t i = slot_of(p);
  while (table[i].p != nullptr)
    i = (i + 1) & mask;
  table[i] = {p, size, cxx};
  (cxx ? cxx_live_blocks : c_live_blocks)++;
  live_bytes += size;
}
void forget(void* p) {
  if (p == nullptr || c_live_blocks + cxx_live_blocks == 0) return;
  std::size_t i = slot_of(p);
  while (table[i].p != p) {
    if (table[i].p == nullptr) return;
    i = (i + 1) & mask;
  }
  (table[i].cxx ? cxx_live_blocks : c_live_blocks)--;
  live_bytes -= table[i].size;
  std::size_t hole = i;
  for (std::size_t j = (i + 1) & mask; table[j].p != nullptr; j = (j + 1) & mask) {
    const std::size_t home = slot_of(table[j].p);
    const bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
    if (movable) {
      table[hole] = table[j];
      hole = j;
    }
  }
  table[hole].p = nullptr;
}

void* c_alloc(void* p, std::size_t size) {
  if (p != nullptr && active) remember(p, size, false);
  return p;
}
bool c_fails() {
  if (!active) return false;
  ++c_count;
  return c_count == fail_at;
}

void* cxx_new(std::size_t n, bool nothrow) {
  if (active) {
    if (cxx_count < std::size(cxx_sizes)) cxx_sizes[cxx_count] = n;
    ++cxx_count;
    if (cxx_failable && ++cxx_failable_count == cxx_fail_at) {
      if (nothrow) return nullptr;
      std::fprintf(stderr,
                   "failmalloc: allocation %zu of start-up (%zu bytes) went through the "
                   "throwing operator new, which cannot report a failure without exceptions: "
                   "use the nothrow form and report firmware_errc::not_enough_memory\n",
                   cxx_failable_count, n);
      std::abort();
    }
  }
  void* p = __libc_malloc(n == 0 ? 1 : n);
  if (p == nullptr) {
    if (nothrow) return nullptr;
    std::abort();
  }
  if (active) remember(p, n, true);
  return p;
}

void reset(std::size_t fail = 0, std::size_t cxx_fail = 0) {
  fail_at = fail;
  cxx_fail_at = cxx_fail;
  c_count = cxx_count = cxx_failable_count = 0;
}

struct on {
  bool before = active;
  on() { active = true; }
  ~on() { active = before; }
  on(const on&) = delete;
  on& operator=(const on&) = delete;
};
struct off {
  bool before = active;
  off() { active = false; }
  ~off() { active = before; }
  off(const off&) = delete;
  off& operator=(const off&) = delete;
};
// The code whose C++ allocations the walk fails (the TLS context's and the accessory's).
struct failable {
  failable() { cxx_failable = true; }
  ~failable() { cxx_failable = false; }
  failable(const failable&) = delete;
  failable& operator=(const failable&) = delete;
};

} // namespace failmalloc

void* operator new(std::size_t n) {
  return failmalloc::cxx_new(n, false);
}
void* operator new[](std::size_t n) {
  return failmalloc::cxx_new(n, false);
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  return failmalloc::cxx_new(n, true);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  return failmalloc::cxx_new(n, true);
}
void operator delete(void* p) noexcept {
  failmalloc::forget(p);
  __libc_free(p);
}
void operator delete[](void* p) noexcept {
  failmalloc::forget(p);
  __libc_free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  failmalloc::forget(p);
  __libc_free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  failmalloc::forget(p);
  __libc_free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  failmalloc::forget(p);
  __libc_free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  failmalloc::forget(p);
  __libc_free(p);
}

extern "C" {
void* malloc(std::size_t n) noexcept {
  if (failmalloc::c_fails()) return nullptr;
  return failmalloc::c_alloc(__libc_malloc(n), n);
}
void* calloc(std::size_t count, std::size_t n) noexcept {
  if (failmalloc::c_fails()) return nullptr;
  return failmalloc::c_alloc(__libc_calloc(count, n), count * n);
}
void* realloc(void* old, std::size_t n) noexcept {
  if (failmalloc::c_fails()) return nullptr;
  failmalloc::forget(old);
  return failmalloc::c_alloc(__libc_realloc(old, n), n);
}
void free(void* p) noexcept {
  failmalloc::forget(p);
  __libc_free(p);
}
}

using namespace fw_test;

namespace {

// The harness's platform with every callback run with counting off.
fw::platform original_seam;
fw::platform quiet_seam(test_platform& tp) {
  original_seam = tp.seam();
  fw::platform p = original_seam;
  p.random.fill = [](void* ctx, unsigned char* out, std::size_t n) {
    failmalloc::off g;
    return original_seam.random.fill(ctx, out, n);
  };
  p.load = [](void* u, const char* key, std::byte* out, std::size_t cap, std::size_t* size) {
    failmalloc::off g;
    return original_seam.load(u, key, out, cap, size);
  };
  p.save = [](void* u, const char* key, const std::byte* data, std::size_t size) {
    failmalloc::off g;
    return original_seam.save(u, key, data, size);
  };
  p.wall_clock = [](void* u) {
    failmalloc::off g;
    return original_seam.wall_clock(u);
  };
  return p;
}

struct outcome {
  core::error_detail context_error;
  std::error_code start_error;
};

// Start-up as firmware does it: the TLS context from the identity, the accessory, start().
outcome start_up(bench& b) {
  outcome o;
  fw::pairing_secrets secrets;
  secrets.setup_secret = b.secret;
  const fw::platform seam = quiet_seam(b.plat);
  failmalloc::on g;
  failmalloc::failable f;
  tls::context_options options;
  options.describe_failures = false;
  tls::context ctx = tls::context::create(b.id, std::move(options), o.context_error);
  b.acc.emplace(std::move(ctx), seam, secrets, b.settings);
  o.start_error = b.acc->start(t0);
  return o;
}

std::vector<std::size_t> logged_sizes() {
  const std::size_t n = std::min(failmalloc::cxx_count, std::size(failmalloc::cxx_sizes));
  return {failmalloc::cxx_sizes, failmalloc::cxx_sizes + n};
}

} // namespace

TEST_CASE("firmware start-up: its allocations are counted, the same on every boot") {
  bench b;
  failmalloc::reset();
  const outcome first = start_up(b);
  REQUIRE(!first.context_error);
  REQUIRE(!first.start_error);
  const std::size_t cxx_first = failmalloc::cxx_count;
  const std::size_t c_first = failmalloc::c_count;
  const std::vector<std::size_t> sizes_first = logged_sizes();
  CAPTURE(cxx_first, c_first, sizes_first);
  CHECK(cxx_first > 0);
  CHECK(c_first > 0);

  // A second boot (controllers stored now: the table is parsed) allocates the same.
  b.acc.reset();
  failmalloc::reset();
  const outcome second = start_up(b);
  REQUIRE(!second.start_error);
  CHECK(failmalloc::cxx_count == cxx_first);
  CHECK(logged_sizes() == sizes_first);
  CHECK(failmalloc::c_count == c_first);

  // Started and idle: the loop's calls allocate nothing.
  failmalloc::reset();
  {
    failmalloc::on g;
    for (int i = 0; i < 3; ++i) {
      const auto now = t0 + std::chrono::seconds(i);
      (void)b.acc->next_deadline();
      b.acc->handle_deadline(now);
      (void)b.acc->poll_event();
      (void)b.acc->pairing_window_open();
      (void)b.acc->session_count();
      (void)b.acc->connection_count();
    }
  }
  CHECK(failmalloc::cxx_count == 0);
  CHECK(failmalloc::c_count == 0);

  // Everything start-up allocated goes with the accessory.
  b.acc.reset();
  CHECK(failmalloc::cxx_live_blocks == 0);
  CHECK(failmalloc::c_live_blocks == 0);
  CHECK(failmalloc::live_bytes == 0);
}

TEST_CASE("firmware start-up: every C++ allocation of the TLS context and the accessory fails "
          "once; start-up reports not_enough_memory and leaks nothing") {
  bench b;
  failmalloc::reset();
  REQUIRE(!start_up(b).start_error);
  const std::size_t count = failmalloc::cxx_failable_count;
  b.acc.reset();
  REQUIRE(failmalloc::live_bytes == 0);
  // The TLS context's block; the accessory's impl, the controller table's room and the session
  // table's drop ring, the event ring, the connection slots, their TLS buffers, each slot's TLS
  // engine, the pairing states, the session slots, each slot's session (its replay ring,
  // frame, output and events), the controllers' blob.
  const std::size_t slots = b.settings.max_sessions + b.settings.max_pending;
  CHECK(count == 1 + 9 + slots + 4 * b.settings.max_sessions);
  for (std::size_t k = 1; k <= count; ++k) {
    CAPTURE(k, count);
    b.plat.storage.clear();
    failmalloc::reset(0, k);
    {
      const outcome o = start_up(b);
      failmalloc::cxx_fail_at = 0;
      if (k == 1) {
        // The context's block: its code, no sentence, and an accessory that does not start
        // (made without a context, it reserves its tables and refuses to start).
        CHECK(o.context_error.code == std::errc::not_enough_memory);
        CHECK(o.context_error.detail.empty());
        CHECK(o.start_error == fw::firmware_errc::bad_settings);
      } else {
        CHECK(!o.context_error);
        CHECK(o.start_error == fw::firmware_errc::not_enough_memory);
        CHECK(!*b.acc);
        // Nothing after the failed one (but the session table's ring: the two tables are
        // members, both constructed before reserve() checks them).
        CHECK(failmalloc::cxx_failable_count <= k + 1);
      }
      // An accessory that did not start does nothing, and says so.
      fw::connection_id id;
      CHECK(b.acc->accept(id, t0) == fw::firmware_errc::not_started);
      CHECK(!b.acc->poll_event());
      CHECK(b.acc->next_deadline() == fw::accessory::time_point::max());
      b.acc->handle_deadline(t0);
    }
    b.acc.reset();
    CHECK(failmalloc::cxx_live_blocks == 0);
    CHECK(failmalloc::c_live_blocks == 0);
    CHECK(failmalloc::live_bytes == 0);
  }
  failmalloc::reset();

  // And after the walk an unfailed start-up still works.
  b.plat.storage.clear();
  REQUIRE(!start_up(b).start_error);
  CHECK(*b.acc);
  b.acc.reset();
  CHECK(failmalloc::live_bytes == 0);
}

TEST_CASE("firmware start-up: create() reports not_enough_memory in its error code") {
  bench b;
  fw::pairing_secrets secrets;
  secrets.setup_secret = b.secret;
  tls::context ctx = b.context();
  std::error_code ec;
  failmalloc::reset(0, 1);
  std::optional<fw::accessory> acc;
  {
    failmalloc::on g;
    failmalloc::failable f;
    acc.emplace(fw::accessory::create(std::move(ctx), b.plat.seam(), secrets, b.settings, ec));
  }
  failmalloc::reset();
  CHECK(ec == fw::firmware_errc::not_enough_memory);
  CHECK(!*acc);
  CHECK(ec.message().find("not enough memory") != std::string::npos);
  acc.reset();
  CHECK(failmalloc::live_bytes == 0);
}

TEST_CASE("firmware start-up: every mbedTLS allocation fails once; start-up reports it and "
          "leaks nothing") {
  bench b;
  failmalloc::reset();
  REQUIRE(!start_up(b).start_error);
  const std::size_t count = failmalloc::c_count;
  b.acc.reset();
  REQUIRE(count > 0);
  std::size_t reported = 0;
  for (std::size_t k = 1; k <= count; ++k) {
    CAPTURE(k, count);
    b.plat.storage.clear();
    failmalloc::reset(k);
    {
      const outcome o = start_up(b);
      failmalloc::fail_at = 0;
      // The failed allocation is reported (the context's error, then bad_settings from
      // start(): an accessory without a context does not start), or did not matter (mbedTLS
      // can do without a few of its allocations: then start-up succeeds).
      if (o.context_error) {
        CHECK(o.context_error.code == tls::tls_errc::crypto_failure);
        CHECK(o.start_error == fw::firmware_errc::bad_settings);
        ++reported;
      } else {
        CHECK(!o.start_error);
      }
    }
    b.acc.reset();
    CHECK(failmalloc::cxx_live_blocks == 0);
    CHECK(failmalloc::c_live_blocks == 0);
    CHECK(failmalloc::live_bytes == 0);
  }
  failmalloc::reset();
  CHECK(reported > 0);
}

TEST_CASE("firmware controller table: one allocation, at construction; parse and serialize "
          "allocate nothing") {
  failmalloc::reset();
  std::optional<fw::controller_table> table;
  {
    failmalloc::on g;
    table.emplace(8);
  }
  CHECK(failmalloc::cxx_count == 1);
  CHECK(failmalloc::cxx_sizes[0] == 8 * sizeof(fw::controller_entry));

  std::vector<std::byte> blob(fw::controller_table::blob_size(8));
  core::fingerprint key;
  key.bytes[0] = 7;
  failmalloc::reset();
  std::error_code added, parsed;
  std::size_t n = 0;
  bool removed = false;
  {
    failmalloc::on g;
    core::paired_role role = core::paired_role::admin;
    added = table->add(key, "phone", role);
    n = table->serialize(blob);
    parsed = table->parse(std::span(blob.data(), n));
    removed = table->remove(key);
  }
  CHECK(!added);
  CHECK(n > 0);
  CHECK(!parsed);
  CHECK(removed);
  CHECK(failmalloc::cxx_count == 0);
  CHECK(failmalloc::c_count == 0);
  table.reset();
  CHECK(failmalloc::cxx_live_blocks == 0);
}
