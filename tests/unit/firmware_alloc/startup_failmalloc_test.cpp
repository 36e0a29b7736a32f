// Start-up of lanyard::firmware::accessory under a counting and failing allocator (nghttp2's
// failmalloc style): docs/design/firmware-target.md, step 4.
//
// This translation unit replaces operator new/delete and interposes malloc/calloc/realloc/free
// for the whole executable. Counting is on only around the code under test (the platform's
// callbacks run with it off: the test's storage map is the firmware's driver, not Lanyard).
//
// What can be walked. mbedTLS allocates with calloc and reports a failed one as an error code,
// so every C allocation of start-up (the accessory's tls::context: its DRBG, key and
// certificate) is made to fail once, in turn: start-up must report an error, not crash, and
// leak nothing. Lanyard's own allocations go through the throwing operator new (std::make_unique,
// std::vector::reserve/resize, std::deque, std::make_shared); the library is built with
// -fno-exceptions, where a failing operator new cannot be reported (libstdc++ aborts, and a
// replacement returning null would be dereferenced), so those are counted and listed but not
// failed: making them fail cleanly needs start-up to allocate through a path that reports
// firmware_errc::not_enough_memory (docs/design/firmware-target.md, step 4). The tests below
// pin what that change starts from: how many they are, that they are the same on every boot,
// and that none happens once start() returned while nothing is connected.
#include "unit/firmware/firmware_harness.hpp"

#include <lanyard/firmware/controller_table.hpp>
#include <lanyard/firmware/error.hpp>

#include <cstdint>
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
// C++ allocations: counted and logged, never failed.
std::size_t cxx_count = 0;
std::size_t cxx_live_blocks = 0;
std::size_t cxx_sizes[256];

// The blocks allocated while counting, so that their frees are counted whenever they happen:
// open addressing, linear probing, backward-shift deletion (no allocation of its own).
constexpr std::size_t table_size = std::size_t{1} << 16;
constexpr std::size_t mask = table_size - 1;
struct entry {
  void* p;
  bool cxx;
};
entry table[table_size];

std::size_t slot_of(const void* p) {
  auto v = reinterpret_cast<std::uintptr_t>(p);
  v ^= v >> 17;
  v *= 0x9e3779b97f4a7c15ull;
  return static_cast<std::size_t>(v >> 40) & mask;
}

void remember(void* p, bool cxx) {
  if (c_live_blocks + cxx_live_blocks + 1 >= table_size / 2) std::abort();
  std::size_t i = slot_of(p);
  while (table[i].p != nullptr)
    i = (i + 1) & mask;
  table[i] = {p, cxx};
  (cxx ? cxx_live_blocks : c_live_blocks)++;
}
void forget(void* p) {
  if (p == nullptr || c_live_blocks + cxx_live_blocks == 0) return;
  std::size_t i = slot_of(p);
  while (table[i].p != p) {
    if (table[i].p == nullptr) return;
    i = (i + 1) & mask;
  }
  (table[i].cxx ? cxx_live_blocks : c_live_blocks)--;
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

void* c_alloc(void* p) {
  if (p != nullptr && active) remember(p, false);
  return p;
}
bool c_fails() {
  if (!active) return false;
  ++c_count;
  return c_count == fail_at;
}

void* cxx_new(std::size_t n) {
  void* p = __libc_malloc(n == 0 ? 1 : n);
  if (p == nullptr) std::abort();
  if (active) {
    if (cxx_count < std::size(cxx_sizes)) cxx_sizes[cxx_count] = n;
    ++cxx_count;
    remember(p, true);
  }
  return p;
}

void reset(std::size_t fail = 0) {
  fail_at = fail;
  c_count = cxx_count = 0;
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

} // namespace failmalloc

void* operator new(std::size_t n) {
  return failmalloc::cxx_new(n);
}
void* operator new[](std::size_t n) {
  return failmalloc::cxx_new(n);
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

extern "C" {
void* malloc(std::size_t n) noexcept {
  if (failmalloc::c_fails()) return nullptr;
  return failmalloc::c_alloc(__libc_malloc(n));
}
void* calloc(std::size_t count, std::size_t n) noexcept {
  if (failmalloc::c_fails()) return nullptr;
  return failmalloc::c_alloc(__libc_calloc(count, n));
}
void* realloc(void* old, std::size_t n) noexcept {
  if (failmalloc::c_fails()) return nullptr;
  failmalloc::forget(old);
  return failmalloc::c_alloc(__libc_realloc(old, n));
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
  tls::context ctx = tls::context::create(b.id, {}, o.context_error);
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
